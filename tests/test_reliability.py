"""Fault injection on every send surface, and concurrency."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest.mock import patch

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.actio_sms.const import (
    CONF_DEFAULT_RECIPIENTS,
    DOMAIN,
    EVENT_MESSAGE_RECEIVED,
)
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .conftest import FAMILY, SENDER, WEBHOOK_ID, Setup, Sim, actio_entry

SURFACES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "action": (DOMAIN, "send_message", {"message": "x", "recipients": "600100200"}),
    "legacy_notify": ("notify", DOMAIN, {"message": "x", "target": "600100200"}),
    "notify_entity": (
        "notify",
        "send_message",
        {"entity_id": "notify.actio_sms_48732129000_mom", "message": "x"},
    ),
    "default_entity": (
        "notify",
        "send_message",
        {
            "entity_id": "notify.actio_sms_48732129000_default_recipients",
            "message": "x",
        },
    ),
}
FAULTS = {
    "401": (HomeAssistantError, "auth_failed"),
    "402": (HomeAssistantError, "no_funds"),
    "403": (HomeAssistantError, "auth_failed"),
    "422": (ServiceValidationError, "rejected"),
    "429": (HomeAssistantError, "rate_limited"),
}
# No answer: retried with the same idempotency key (ACTIO sends it once).
LOST = ("500", "timeout", "reset", "lost_answer")


@pytest.fixture
async def entry(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> MockConfigEntry:
    config_entry = actio_entry(
        simulator.url,
        recipients={"Mom": FAMILY["Mom"]},
        options={CONF_DEFAULT_RECIPIENTS: [FAMILY["Mom"]]},
    )
    # Short enough for the timeout fault, long enough for a loaded machine's
    # setup probe (a probe that times out would leave the entry not loaded).
    with patch("custom_components.actio_sms.data.API_TIMEOUT", 1.0):
        entry = await setup_entry(config_entry)
    assert entry.state is ConfigEntryState.LOADED
    return entry


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("fault", FAULTS)
async def test_fault_on_every_surface(
    hass: HomeAssistant,
    simulator: Sim,
    entry: MockConfigEntry,
    surface: str,
    fault: str,
) -> None:
    domain, service, data = SURFACES[surface]
    exc, key = FAULTS[fault]
    simulator.fault(fault, count=1)
    with pytest.raises(exc) as err:
        await hass.services.async_call(domain, service, data, blocking=True)
    assert err.value.translation_key == key
    assert simulator.outbox == []
    assert len(simulator.requests) == 1  # a refusal is never retried
    reauth = [
        f
        for f in hass.config_entries.flow.async_progress()
        if f["context"]["source"] == SOURCE_REAUTH
    ]
    assert len(reauth) == (1 if fault in ("401", "403") else 0)
    assert entry.state is ConfigEntryState.LOADED
    # The user retries once the fault is gone: exactly one SMS, not two.
    await hass.services.async_call(domain, service, data, blocking=True)
    assert [(item.recipient, item.body) for item in simulator.outbox] == [
        ("48600100200", "x")
    ]


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("fault", LOST)
async def test_lost_answer_on_every_surface_sends_one_sms(
    hass: HomeAssistant,
    simulator: Sim,
    entry: MockConfigEntry,
    surface: str,
    fault: str,
) -> None:
    """The answer is lost once: the retry carries the same key, one SMS arrives."""
    domain, service, data = SURFACES[surface]
    simulator.fault(fault, count=1)
    with (
        # Room for a retry after the 1 s timeout of the first attempt.
        patch("custom_components.actio_sms.actio.client.RETRY_BUDGET", 5.0),
        patch.object(
            async_get_clientsession(hass),
            "post",
            wraps=async_get_clientsession(hass).post,
        ) as post,
    ):
        await hass.services.async_call(domain, service, data, blocking=True)
    assert [(item.recipient, item.body) for item in simulator.outbox] == [
        ("48600100200", "x")
    ]
    keys = [call.kwargs["json"]["idempotency_key"] for call in post.call_args_list]
    assert len(keys) == 2
    assert len(set(keys)) == 1
    assert entry.state is ConfigEntryState.LOADED


async def test_500_concurrent_inbound(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_client_no_auth
) -> None:
    client = await hass_client_no_auth()
    events = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/webhook/{WEBHOOK_ID}",
                json={
                    "type": "MESSAGE",
                    "from": "48600100200",
                    "to": SENDER,
                    "body": f"m{i}",
                },
            )
            for i in range(500)
        )
    )
    assert [r.status for r in responses] == [200] * 500
    await hass.async_block_till_done()
    assert len(events) == 500
    assert sorted(e.data["body"] for e in events) == sorted(f"m{i}" for i in range(500))
    assert (
        hass.states.get("sensor.actio_sms_48732129000_messages_received").state == "500"
    )
    assert (
        len(await init_integration.runtime_data.store.query("received", None, 1000))
        == 500
    )


async def test_200_concurrent_sends(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    simulator.state.latency = 0.005
    responses = await asyncio.gather(
        *(
            hass.services.async_call(
                DOMAIN,
                "send_message",
                {"message": f"m{i}", "recipients": f"600{i:06d}"},
                blocking=True,
                return_response=True,
            )
            for i in range(200)
        )
    )
    ids = [r["messages"][0]["message_id"] for r in responses]
    assert len(set(ids)) == 200
    assert len(simulator.outbox) == 200
    sent = await init_integration.runtime_data.store.query("sent", None, 1000)
    assert {r["message_id"] for r in sent} == set(ids)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.actio_sms_48732129000_messages_sent").state == "200"
