"""Delivery tracking and message history across restarts; bounded, grouped commits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_capture_events,
    async_test_home_assistant,
)

from custom_components.actio_sms.actio import InboundMessage, utc_now_iso as now_iso
from custom_components.actio_sms.const import (
    CONF_HISTORY_DAYS,
    CONF_HISTORY_SIZE,
    CONF_PANEL_EVERYONE,
    DOMAIN,
    EVENT_DELIVERY_STATUS,
)
from custom_components.actio_sms.inbox import async_received
from custom_components.actio_sms.store import Database, MessageStore
from homeassistant import loader
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import Unauthorized
from homeassistant.setup import async_setup_component

from .conftest import (
    SENDER,
    WEBHOOK_ID,
    Setup,
    Sim,
    entry_data,
    entry_device_id,
    get_messages,
    send,
    sms,
)

URL = f"/api/webhook/{WEBHOOK_ID}"
LAST_STATUS = "sensor.actio_sms_48732129000_last_delivery_status"
RECEIVED_COUNT = "sensor.actio_sms_48732129000_messages_received"
SENT_COUNT = "sensor.actio_sms_48732129000_messages_sent"
DELIVERED_COUNT = "sensor.actio_sms_48732129000_messages_delivered"
FAILED_COUNT = "sensor.actio_sms_48732129000_messages_failed"

# The delivered/failed counters are disabled by default; these tests read them.
pytestmark = pytest.mark.usefixtures("entity_registry_enabled_by_default")


def inbound(body: str) -> InboundMessage:
    return InboundMessage("48600100200", SENDER, body, now_iso())


@asynccontextmanager
async def restarted(
    hass: HomeAssistant, entry: MockConfigEntry
) -> AsyncIterator[HomeAssistant]:
    """A second Home Assistant on the same config dir, with the entry set up."""
    async with async_test_home_assistant(config_dir=hass.config.config_dir) as new:
        new.data.pop(loader.DATA_CUSTOM_COMPONENTS)
        MockConfigEntry(
            domain=DOMAIN,
            entry_id=entry.entry_id,
            unique_id=SENDER,
            title=SENDER,
            data=dict(entry.data),
        ).add_to_hass(new)
        assert await async_setup_component(new, DOMAIN, {})
        await new.async_block_till_done()
        yield new


# The first hass stops without unloading: its midnight timer is still set.
@pytest.mark.parametrize("expected_lingering_timers", [True])
@pytest.mark.parametrize("dialect", ["v1", "live"])
async def test_delivery_after_restart(
    hass: HomeAssistant,
    simulator: Sim,
    hass_storage: dict[str, Any],
    aiohttp_client,
    dialect: str,
) -> None:
    """v1.0's 16-hex ids and the live API's msg_ ids alike: kept, and matched
    by the next start to the report that names them."""
    simulator.state.dialect = dialect
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=SENDER, title=SENDER, data=entry_data(simulator.url)
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    response = await hass.services.async_call(
        DOMAIN,
        "send_message",
        {"message": "Brama otwarta", "recipients": "600100200"},
        blocking=True,
        return_response=True,
    )
    [sent] = response["messages"]
    message_id = str(sent["message_id"])
    assert message_id.startswith("msg_") == (dialect == "live")
    client = await aiohttp_client(hass.http.app)
    await client.post(URL, json=sms("ok", "48600100201"))
    await hass.async_block_till_done()
    await hass.async_stop(force=True)  # the final write flushes the delayed save

    async with restarted(hass, entry) as hass2:
        # Counters and sensors came back.
        assert hass2.states.get(SENT_COUNT).state == "1"
        assert hass2.states.get(RECEIVED_COUNT).state == "1"
        assert (
            hass2.states.get("sensor.actio_sms_48732129000_last_received_message").state
            == "ok"
        )
        last_sent = hass2.states.get("sensor.actio_sms_48732129000_last_sent_message")
        assert last_sent.state == "Brama otwarta"
        assert last_sent.attributes["recipients"] == ["48600100200"]

        events = async_capture_events(hass2, EVENT_DELIVERY_STATUS)
        client2 = await aiohttp_client(hass2.http.app)
        reports: dict[str, dict[str, Any]] = {
            "v1": {"type": "NOTIFICATION", "status": "DELIVERED"},
            "live": {"event": "sms.delivered", "to": "48600100200", "segments": 1},
        }
        report = reports[dialect]
        resp = await client2.post(URL, json=report | {"message_id": message_id})
        assert resp.status == 200
        await hass2.async_block_till_done()
        [event] = events
        assert event.data["recipient"] == "48600100200"
        assert event.data["body"] == "Brama otwarta"
        assert event.data["status"] == "delivered"
        assert event.data["sent_at"]
        state = hass2.states.get(LAST_STATUS)
        assert state.state == "delivered"
        assert state.attributes["recipient"] == "48600100200"
        assert state.attributes["body"] == "Brama otwarta"
        [record] = await get_messages(hass2, direction="sent")
        assert record["status"] == "delivered"
        assert record["message_id"] == sent["message_id"]
        assert record["status_at"]
        await hass2.async_stop(force=True)

    # And the last delivery comes back after a second restart.
    async with restarted(hass, entry) as hass3:
        state = hass3.states.get(LAST_STATUS)
        assert state.state == "delivered"
        assert state.attributes["recipient"] == "48600100200"
        await hass3.async_stop(force=True)


async def send_two(hass: HomeAssistant) -> tuple[str, str]:
    """Send one SMS to two numbers; their message ids."""
    response = await send(hass, ["600100200", "600100201"], "x")
    first, second = (m["message_id"] for m in response["messages"])
    return first, second


async def test_duplicate_reports_do_not_double_count(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_client_no_auth
) -> None:
    first, second = await send_two(hass)
    client = await hass_client_no_auth()
    events = async_capture_events(hass, EVENT_DELIVERY_STATUS)
    for message_id, status in [
        (first, "DELIVERED"),
        (first, "DELIVERED"),  # ACTIO resent it
        (second, "ERROR"),
        (second, "DELIVERED"),  # a later report corrects it
        ("unknownid", "ERROR"),
        ("unknownid", "ERROR"),
    ]:
        await client.post(
            URL,
            json={"type": "NOTIFICATION", "message_id": message_id, "status": status},
        )
    await hass.async_block_till_done()
    # Only reports that say something new are events (the resent ones are not).
    assert [(e.data["message_id"], e.data["status"]) for e in events] == [
        (first, "delivered"),
        (second, "failed"),
        (second, "delivered"),
        ("unknownid", "failed"),
    ]
    assert "recipient" not in events[-1].data
    assert hass.states.get(DELIVERED_COUNT).state == "2"
    # Counters never go down: the corrected failure still counted once.
    assert hass.states.get(FAILED_COUNT).state == "2"


async def test_delivered_is_final_and_counters_never_go_down(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_client_no_auth
) -> None:
    """An error report after delivery is ignored: no event, no counter change."""
    first, second = await send_two(hass)
    client = await hass_client_no_auth()
    for message_id in (first, second):
        await client.post(
            URL,
            json={
                "type": "NOTIFICATION",
                "message_id": message_id,
                "status": "DELIVERED",
            },
        )
    await hass.async_block_till_done()
    assert hass.states.get(DELIVERED_COUNT).state == "2"
    events = async_capture_events(hass, EVENT_DELIVERY_STATUS)
    resp = await client.post(
        URL, json={"type": "NOTIFICATION", "message_id": first, "status": "ERROR"}
    )
    assert resp.status == 200
    await hass.async_block_till_done()
    assert events == []
    assert hass.states.get(DELIVERED_COUNT).state == "2"
    assert hass.states.get(FAILED_COUNT).state == "0"
    [record] = await get_messages(hass, number="48600100200")
    assert record["status"] == "delivered"


async def test_get_messages_filters(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_client_no_auth
) -> None:
    client = await hass_client_no_auth()
    await hass.services.async_call(
        DOMAIN,
        "send_message",
        {"message": "out", "recipients": "600100200"},
        blocking=True,
    )
    for body in ("in-1", "in-2"):
        await client.post(
            URL,
            json=sms(body, "48600100201"),
        )
    await client.post(URL, json=sms("promo", "ACTIO"))
    await hass.async_block_till_done()

    everything = await get_messages(hass)
    assert [m.get("body") for m in everything] == ["promo", "in-2", "in-1", "out"]
    assert [
        m["body"] for m in await get_messages(hass, direction="received", limit=2)
    ] == ["promo", "in-2"]
    assert [m["body"] for m in await get_messages(hass, direction="sent")] == ["out"]
    assert [m["body"] for m in await get_messages(hass, number="+48 600 100 201")] == [
        "in-2",
        "in-1",
    ]
    assert [m["body"] for m in await get_messages(hass, number="ACTIO")] == ["promo"]
    assert [
        m["body"]
        for m in await get_messages(
            hass, number="600100200", config_entry_id=init_integration.entry_id
        )
    ] == ["out"]
    received = everything[0]
    assert set(received) == {"direction", "from", "to", "body", "received_at"}
    sent = everything[-1]
    assert set(sent) == {
        "direction",
        "message_id",
        "recipient",
        "body",
        "parts",
        "sent_at",
        "status",
        "status_at",
        "idempotency_key",
    }
    assert sent["status"] == "pending"


@pytest.mark.parametrize("entry_options", [{CONF_HISTORY_SIZE: 1000}])
async def test_history_bounded_and_batched(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """1,500 messages keep 1,000; a burst is one transaction, not 1,500."""
    runtime = init_integration.runtime_data
    store = runtime.store
    await store.async_flush()
    with patch.object(Database, "run", autospec=True, side_effect=Database.run) as run:
        for i in range(1500):
            async_received(runtime, inbound(f"m{i}"))
        await store.async_flush()
        assert run.call_count == 1  # the whole burst in one commit
        assert len(store) == 1000
        # Steady traffic: each message on disk before the next one comes.
        for i in range(10):
            async_received(runtime, inbound(f"n{i}"))
            await store.written
        assert run.call_count == 11
    await hass.async_block_till_done()
    reloaded = MessageStore(hass, init_integration.entry_id, 1000, 30)
    await reloaded.async_load()
    saved = await reloaded.query(None, None, 2000)
    assert len(saved) == len(reloaded) == 1000
    assert saved[-1]["body"] == "m510"
    assert saved[0]["body"] == "n9"
    assert reloaded.counters["received"] == 1510
    assert hass.states.get(RECEIVED_COUNT).state == "1510"


@pytest.mark.parametrize(
    "entry_options", [{CONF_HISTORY_SIZE: 10, CONF_HISTORY_DAYS: 1}]
)
async def test_history_options_and_age(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
) -> None:
    freezer.move_to("2026-11-20T12:00:00+00:00")
    hass_storage[f"{DOMAIN}.{mock_config_entry.entry_id}"] = {
        "version": 1,
        "key": f"{DOMAIN}.{mock_config_entry.entry_id}",
        "data": {
            "counters": {"received": 3, "sent": 1, "delivered": 0, "failed": 0},
            "records": [
                {
                    "direction": "received",
                    "from": "48600100200",
                    "to": SENDER,
                    "body": "old",
                    "received_at": "2026-11-18T12:00:00.000+00:00",
                },
                {
                    "direction": "sent",
                    "message_id": "aaaa",
                    "recipient": "48600100200",
                    "body": "old sent",
                    "parts": 1,
                    "sent_at": "2026-11-18T13:00:00.000+00:00",
                    "status": "pending",
                    "status_at": None,
                },
                {
                    "direction": "received",
                    "from": "48600100200",
                    "to": SENDER,
                    "body": "new",
                    "received_at": "2026-11-20T11:00:00.000+00:00",
                },
            ],
        },
    }
    await setup_entry(mock_config_entry)
    messages = await get_messages(hass)
    assert [m["body"] for m in messages] == ["new"]  # older than a day: dropped
    assert hass.states.get(RECEIVED_COUNT).state == "3"
    runtime = mock_config_entry.runtime_data
    assert runtime.store.max_size == 10
    for i in range(25):
        async_received(runtime, inbound(f"m{i}"))
    assert len(await get_messages(hass, limit=100)) == 10


@pytest.mark.parametrize("entry_options", [{CONF_HISTORY_SIZE: 10}])
async def test_report_for_a_message_dropped_from_history(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Sim,
    hass_client_no_auth,
) -> None:
    """Once an SMS left the bounded history, a report for it names nobody."""
    await send(hass, "600100200", "old")
    message_id = simulator.outbox[0].message_id
    runtime = init_integration.runtime_data
    for i in range(10):  # push it out of the 10-message history
        async_received(runtime, inbound(f"m{i}"), announce=False)
    events = async_capture_events(hass, EVENT_DELIVERY_STATUS)
    client = await hass_client_no_auth()
    resp = await client.post(
        URL, json={"type": "NOTIFICATION", "message_id": message_id, "status": "ERROR"}
    )
    assert resp.status == 200
    await hass.async_block_till_done()
    assert [e.data for e in events] == [
        {
            "config_entry_id": init_integration.entry_id,
            "device_id": entry_device_id(hass, init_integration),
            "message_id": message_id,
            "status": "failed",
        }
    ]
    assert all(
        m.get("message_id") != message_id
        for m in await get_messages(hass, direction="sent")
    )


def test_now_iso_is_utc_milliseconds(freezer: FrozenDateTimeFactory) -> None:
    freezer.move_to("2026-11-28 10:00:00.999999+00:00")
    assert now_iso() == "2026-11-28T10:00:00.999+00:00"
    freezer.move_to("2026-11-28 10:00:01.000500+00:00")
    assert now_iso() == "2026-11-28T10:00:01.000+00:00"


async def test_the_history_is_for_admins_unless_the_inbox_is_for_everyone(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    """As the inbox: the panel's option opens it; automations (no user) always."""

    async def read(user: MockUser | None) -> Any:
        return await hass.services.async_call(
            DOMAIN,
            "get_messages",
            {},
            blocking=True,
            return_response=True,
            context=Context(user_id=user.id if user else None),
        )

    assert await read(None) == {"messages": []}
    assert await read(hass_admin_user) == {"messages": []}
    with pytest.raises(Unauthorized):
        await read(hass_read_only_user)
    hass.config_entries.async_update_entry(
        init_integration,
        options={**init_integration.options, CONF_PANEL_EVERYONE: True},
    )
    await hass.async_block_till_done()
    assert await read(hass_read_only_user) == {"messages": []}
