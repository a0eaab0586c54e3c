"""Spend guard: the daily cap, duplicate suppression and the size limit."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.actio_sms.const import (
    CONF_BULK,
    CONF_DAILY_LIMIT,
    CONF_DUPLICATE_WINDOW,
    CONF_MAX_PARTS,
    CONF_PRICE_PER_PART,
    DOMAIN,
    EVENT_LIMIT_REACHED,
)
from custom_components.actio_sms.data import DATA_ACTIO
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .conftest import FAMILY, WEBHOOK_ID, Setup, Sim, actio_entry, numbers, send

PARTS_TODAY = "sensor.actio_sms_48732129000_sms_parts_sent_today"
REMAINING = "sensor.actio_sms_48732129000_sms_parts_remaining_today"
COST = "sensor.actio_sms_48732129000_sms_cost_this_month"
NO_DUPLICATE_CHECK = {CONF_DUPLICATE_WINDOW: 0}


def text_of_parts(parts: int) -> str:
    """A UCS-2 text of exactly ``parts`` parts (ACTIO splits every 60)."""
    return "x" * (60 * (parts - 1) + 1)


def issue_id(entry: MockConfigEntry) -> str:
    return f"daily_limit_reached_{entry.entry_id}"


async def test_cap_refuses_before_any_request_on_every_surface(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    entry = await setup_entry(
        actio_entry(
            simulator.url,
            recipients=FAMILY,
            options={CONF_DAILY_LIMIT: 3, **NO_DUPLICATE_CHECK},
        )
    )
    limit_events = async_capture_events(hass, EVENT_LIMIT_REACHED)
    await send(hass, ["600100200", "600100201", "600100202"], "one part each")
    assert hass.states.get(PARTS_TODAY).state == "3"
    assert hass.states.get(REMAINING).state == "0"
    simulator.clear_log()

    surfaces = {
        "send_message": send(hass, "600100203", "over"),
        "legacy notify": hass.services.async_call(
            "notify", DOMAIN, {"message": "over", "target": "600100203"}, blocking=True
        ),
        "notify entity": hass.services.async_call(
            "notify",
            "send_message",
            {"entity_id": "notify.actio_sms_48732129000_mom", "message": "over"},
            blocking=True,
        ),
    }
    for surface, call in surfaces.items():
        with pytest.raises(HomeAssistantError) as err:
            await call
        assert err.value.translation_key == "daily_limit_reached", surface
        assert err.value.translation_placeholders == {
            "used": "3",
            "limit": "3",
            "requested": "1",
        }
        # As a person says it, with where to raise the limit.
        assert str(err.value) == (
            "Not sent: the daily limit is 3 SMS parts, today's count is 3, and "
            "this message needs 1 more. Raise the limit in the entry's options "
            "(Configure, Spend guard) or wait until midnight"
        )
    assert simulator.requests == []
    await hass.async_block_till_done()
    assert [e.data for e in limit_events] == [
        {"config_entry_id": entry.entry_id, "limit": 3, "used": 3, "requested": 1}
    ] * 3
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry))
    assert issue is not None
    assert issue.translation_placeholders == {
        "title": entry.title,
        "limit": "3",
        "used": "3",
    }


async def test_concurrent_sends_cannot_race_past_the_cap(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    await setup_entry(
        actio_entry(simulator.url, options={CONF_DAILY_LIMIT: 5, **NO_DUPLICATE_CHECK})
    )
    simulator.state.latency = 0.05
    results = await asyncio.gather(
        send(hass, numbers(3), "first"),
        send(hass, numbers(3, start=10), "second"),
        return_exceptions=True,
    )
    sent = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, HomeAssistantError)]
    assert len(sent) == 1
    assert len(refused) == 1
    assert refused[0].translation_placeholders == {
        "used": "3",
        "limit": "5",
        "requested": "3",
    }
    assert len(simulator.outbox) == 3


async def test_bulk_chunks_count_their_parts(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    await setup_entry(
        actio_entry(
            simulator.url,
            options={CONF_BULK: True, CONF_DAILY_LIMIT: 250, **NO_DUPLICATE_CHECK},
        )
    )
    two_parts = text_of_parts(2)
    with pytest.raises(HomeAssistantError) as err:
        await send(hass, numbers(150), two_parts)  # 300 parts
    assert err.value.translation_placeholders == {
        "used": "0",
        "limit": "250",
        "requested": "300",
    }
    assert simulator.requests == []
    response = await send(hass, numbers(120), two_parts)  # 240 parts, 2 chunks
    assert len(response["messages"]) == 120
    assert len(simulator.requests) == 2
    assert hass.states.get(PARTS_TODAY).state == "240"
    assert hass.states.get(REMAINING).state == "10"
    with pytest.raises(HomeAssistantError):
        await send(hass, numbers(6, start=500), two_parts)  # 12 more


async def test_refused_multi_gives_its_reservation_back(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    entry = await setup_entry(
        actio_entry(
            simulator.url,
            options={CONF_BULK: True, CONF_DAILY_LIMIT: 100, **NO_DUPLICATE_CHECK},
        )
    )
    simulator.fault("422", 1)
    with pytest.raises(ServiceValidationError):
        await send(hass, numbers(100), "all or nothing")
    assert entry.runtime_data.spend.reserved == 0
    assert hass.states.get(PARTS_TODAY).state == "0"
    # The whole cap is still there.
    response = await send(hass, numbers(100), "all or nothing")
    assert len(response["messages"]) == 100


async def test_usage_survives_a_restart_and_resets_at_local_midnight(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    freezer: FrozenDateTimeFactory,
) -> None:
    await hass.config.async_set_time_zone("Europe/Warsaw")
    freezer.move_to(
        datetime(2026, 11, 28, 23, 58, tzinfo=dt_util.get_default_time_zone())
    )
    entry = await setup_entry(
        actio_entry(simulator.url, options={CONF_DAILY_LIMIT: 10, **NO_DUPLICATE_CHECK})
    )
    await send(hass, numbers(2), text_of_parts(2))
    assert hass.states.get(PARTS_TODAY).state == "4"

    # A restart: the entry unloads, and a new process has no hub in memory.
    await hass.config_entries.async_unload(entry.entry_id)
    hass.data[DATA_ACTIO].runtimes.pop(entry.entry_id)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(PARTS_TODAY).state == "4"
    assert hass.states.get(REMAINING).state == "6"
    with pytest.raises(HomeAssistantError):
        await send(hass, numbers(4, start=10), text_of_parts(2))  # 8 > 6
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry))

    # 00:00:01 in Warsaw (23:00 UTC): a new day, the whole cap again.
    freezer.move_to(
        datetime(2026, 11, 29, 0, 0, 1, tzinfo=dt_util.get_default_time_zone())
    )
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(PARTS_TODAY).state == "0"
    assert hass.states.get(REMAINING).state == "10"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry)) is None
    await send(hass, numbers(4, start=10), text_of_parts(2))
    async_fire_time_changed(hass)  # the sensors' debouncer, with time frozen
    await hass.async_block_till_done()
    assert hass.states.get(PARTS_TODAY).state == "8"


async def test_raising_the_limit_clears_the_issue(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    entry = await setup_entry(
        actio_entry(simulator.url, options={CONF_DAILY_LIMIT: 1, **NO_DUPLICATE_CHECK})
    )
    await send(hass, "600100200", "one")
    with pytest.raises(HomeAssistantError):
        await send(hass, "600100200", "two")
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry))
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_DAILY_LIMIT: 5}
    )
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry)) is None
    await send(hass, "600100200", "two")


async def test_the_repair_raises_the_limit(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client: Any
) -> None:
    """The issue is a form: a new limit, checked against today's use."""
    assert await async_setup_component(hass, "repairs", {})
    entry = await setup_entry(
        actio_entry(simulator.url, options={CONF_DAILY_LIMIT: 2, **NO_DUPLICATE_CHECK})
    )
    await send(hass, ["600100200", "600100201"], "one each")
    with pytest.raises(HomeAssistantError):
        await send(hass, "600100202", "over")
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry))
    assert issue is not None
    assert issue.is_fixable
    client = await hass_client()
    resp = await client.post(
        "/api/repairs/issues/fix",
        json={"handler": DOMAIN, "issue_id": issue_id(entry)},
    )
    flow = await resp.json()
    assert flow["step_id"] == "limit"
    assert flow["description_placeholders"] == {
        "title": entry.title,
        "used": "2",
        "limit": "2",
    }
    [field] = flow["data_schema"]
    assert field["name"] == CONF_DAILY_LIMIT
    assert field["description"] == {"suggested_value": 4}
    # A limit today's use already reaches would refuse the next send too.
    resp = await client.post(
        f"/api/repairs/issues/fix/{flow['flow_id']}", json={CONF_DAILY_LIMIT: 2}
    )
    flow = await resp.json()
    assert flow["errors"] == {CONF_DAILY_LIMIT: "limit_too_low"}
    resp = await client.post(
        f"/api/repairs/issues/fix/{flow['flow_id']}", json={CONF_DAILY_LIMIT: 10}
    )
    assert (await resp.json())["type"] == "create_entry"
    await hass.async_block_till_done()
    assert entry.options[CONF_DAILY_LIMIT] == 10
    assert entry.options[CONF_DUPLICATE_WINDOW] == 0  # the rest as it was
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry)) is None
    await send(hass, "600100202", "over no more")


async def test_duplicates_skipped_across_surfaces_and_reported(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(
        actio_entry(
            simulator.url, recipients=FAMILY, options={CONF_DUPLICATE_WINDOW: 60}
        )
    )
    await send(hass, ["600100200", "600100205"], "Alarm")
    response = await send(hass, ["600100200", "600100206"], "Alarm")
    assert [m["recipient"] for m in response["messages"]] == ["48600100206"]
    assert response["skipped"] == [{"recipient": "48600100200", "reason": "duplicate"}]

    simulator.clear_log()
    # Mom is 48600100200: the notify entity and legacy notify skip her too.
    await hass.services.async_call(
        "notify",
        "send_message",
        {"entity_id": "notify.actio_sms_48732129000_mom", "message": "Alarm"},
        blocking=True,
    )
    await hass.services.async_call(
        "notify", DOMAIN, {"message": "Alarm", "target": "600100205"}, blocking=True
    )
    assert simulator.requests == []
    # Every recipient skipped: success, nothing sent, all listed.
    response = await send(hass, ["600100200", "600100205"], "Alarm")
    assert response == {
        "messages": [],
        "skipped": [
            {"recipient": "48600100200", "reason": "duplicate"},
            {"recipient": "48600100205", "reason": "duplicate"},
        ],
    }
    # Another text is no duplicate; the same one is, until the window ends.
    await send(hass, "600100200", "Alarm off")
    assert len(simulator.requests) == 1
    freezer.tick(timedelta(seconds=61))
    response = await send(hass, "600100200", "Alarm")
    assert response["skipped"] == []
    assert len(simulator.requests) == 2


async def test_refused_send_is_no_duplicate(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    """What ACTIO did not accept can be sent again at once."""
    await setup_entry(actio_entry(simulator.url))
    simulator.fault("422", 1)
    with pytest.raises(HomeAssistantError):
        await send(hass, "600100200", "retry me")
    response = await send(hass, "600100200", "retry me")
    assert len(response["messages"]) == 1


async def test_max_parts_refused_with_the_count(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    await setup_entry(actio_entry(simulator.url, options={CONF_MAX_PARTS: 2}))
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, "600100200", text_of_parts(3))
    assert err.value.translation_key == "too_many_parts"
    assert err.value.translation_placeholders == {"parts": "3", "max_parts": "2"}
    assert "the message is 3 SMS parts long and the limit is 2" in str(err.value)
    assert simulator.requests == []
    await send(hass, "600100200", text_of_parts(2))


@pytest.mark.parametrize(
    ("options", "remaining", "cost"),
    [
        ({}, "200", None),
        ({CONF_DAILY_LIMIT: 0}, None, None),
        ({CONF_PRICE_PER_PART: 0.085}, "200", "0.51"),
    ],
)
async def test_usage_sensors_follow_the_options(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    options: dict[str, Any],
    remaining: str | None,
    cost: str | None,
) -> None:
    await setup_entry(actio_entry(simulator.url, options=options))
    await send(hass, numbers(2), text_of_parts(3))  # 6 parts
    assert hass.states.get(PARTS_TODAY).state == "6"
    remaining_state = hass.states.get(REMAINING)
    cost_state = hass.states.get(COST)
    if remaining is None:
        assert remaining_state is None
    else:
        assert remaining_state.state == str(int(remaining) - 6)
    if cost is None:
        assert cost_state is None
    else:
        assert cost_state.state == cost
        assert cost_state.attributes["unit_of_measurement"] == "PLN"
        assert cost_state.attributes["last_reset"].startswith(
            dt_util.now().strftime("%Y-%m-01T00:00:00")
        )


async def test_an_undelivered_sms_is_no_repeat(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    """After ACTIO reports it undelivered, the same text may go again at once."""
    await setup_entry(actio_entry(simulator.url))
    response = await send(hass, "600100200", "Alarm")
    [sent] = response["messages"]
    assert (await send(hass, "600100200", "Alarm"))["skipped"]
    client = await hass_client_no_auth()
    resp = await client.post(
        f"/api/webhook/{WEBHOOK_ID}",
        json={
            "type": "NOTIFICATION",
            "message_id": sent["message_id"],
            "status": "ERROR",
        },
    )
    assert resp.status == 200
    response = await send(hass, "600100200", "Alarm")
    assert response["skipped"] == []
    assert len(response["messages"]) == 1
