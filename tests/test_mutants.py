"""Behaviour that hand-made mutants of v0.2.0 got past (issue 28, item 1).

Every test reaches the integration the way Home Assistant does: webhook
posts, actions, entities, diagnostics, unload and setup. Only one helper
below touches an internal.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any
from unittest.mock import patch

import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.actio_sms.const import (
    CONF_ALLOWED_SOURCES,
    CONF_COMMAND_PIN,
    CONF_COMMAND_SENDERS,
    CONF_PRICE_PER_PART,
    EVENT_COMMAND,
    EVENT_MESSAGE_RECEIVED,
)
from custom_components.actio_sms.store import Database
from homeassistant.components.webhook import async_handle_webhook
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
from homeassistant.util.aiohttp import MockRequest

from .conftest import (
    SWITCH,
    WEBHOOK_ID,
    Setup,
    Sim,
    actio_entry,
    end_process,
    get_messages,
    send,
    sms,
)

URL = f"/api/webhook/{WEBHOOK_ID}"
PIN = "908172"
OWNER = "48600100200"
COMMANDS = {CONF_COMMAND_SENDERS: [OWNER], CONF_COMMAND_PIN: PIN}
COMMAND = "turn on the kitchen light"
RECEIVED_COUNT = "sensor.actio_sms_48732129000_messages_received"
PARTS_TODAY = "sensor.actio_sms_48732129000_sms_parts_sent_today"
COST = "sensor.actio_sms_48732129000_sms_cost_this_month"


# --- Control by SMS: only the PIN itself, as a word of its own, opens it ------

# The PIN is the first word; how it is set off from the command may be any
# whitespace or punctuation. None of these bodies begins with the PIN word.
NOT_THE_PIN = {
    "pin-then-letter": f"{PIN}x {COMMAND}",
    "pin-then-digit": f"{PIN}0 {COMMAND}",
    "pin-then-letter-newline": f"{PIN}x\n{COMMAND}",
    "pin-then-letter-comma": f"{PIN}x,{COMMAND}",
    "pin-then-letter-nbsp": f"{PIN}x\u00a0{COMMAND}",
    "first-two-digits": f"{PIN[:2]} {COMMAND}",
    "all-but-last-digit": f"{PIN[:-1]} {COMMAND}",
    "first-digit": f"{PIN[:1]} {COMMAND}",
    "first-two-digits-newline": f"{PIN[:2]}\n{COMMAND}",
    "first-two-digits-comma": f"{PIN[:2]},{COMMAND}",
    "first-two-digits-ideographic-space": f"{PIN[:2]}\u3000{COMMAND}",
}


@pytest.mark.usefixtures("assist_and_a_switch")
@pytest.mark.parametrize("body", NOT_THE_PIN.values(), ids=NOT_THE_PIN.keys())
async def test_only_the_whole_pin_opens_sms_control(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    hass_client_no_auth,
    body: str,
) -> None:
    """A word that starts with the PIN, or a part of it, is an ordinary SMS."""
    await setup_entry(actio_entry(simulator.url, options=COMMANDS))
    commands = async_capture_events(hass, EVENT_COMMAND)
    received = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    client = await hass_client_no_auth()
    assert (await client.post(URL, json=sms(body, OWNER))).status == 200
    await hass.async_block_till_done(wait_background_tasks=True)

    assert hass.states.get(SWITCH).state == "off"
    assert commands == []
    assert simulator.outbox == []  # no answer
    assert [(e.data["body"], e.data["command"]) for e in received] == [(body, False)]


@pytest.mark.usefixtures("assist_and_a_switch")
async def test_the_whole_pin_opens_sms_control(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    """The counterpart of the test above: the same setup does obey the PIN."""
    await setup_entry(actio_entry(simulator.url, options=COMMANDS))
    commands = async_capture_events(hass, EVENT_COMMAND)
    client = await hass_client_no_auth()
    assert (await client.post(URL, json=sms(f"{PIN} {COMMAND}", OWNER))).status == 200
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(SWITCH).state == "on"
    assert [e.data["command"] for e in commands] == [COMMAND]
    assert [m.recipient for m in simulator.outbox] == [OWNER]


# --- A command runs only for an SMS answered 200 --------------------------------


@pytest.mark.usefixtures("assist_and_a_switch")
async def test_no_command_runs_for_an_sms_answered_503(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    """ACTIO counts a 503 as not delivered: nothing may act on that SMS."""
    await setup_entry(actio_entry(simulator.url, options=COMMANDS))
    commands = async_capture_events(hass, EVENT_COMMAND)
    client = await hass_client_no_auth()
    # A full disk: the commit fails (internal: the store's transaction).
    full = sqlite3.OperationalError("database or disk is full")
    with patch.object(Database, "_transaction", side_effect=full):
        resp = await client.post(URL, json=sms(f"{PIN} {COMMAND}", OWNER))
    assert resp.status == 503
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(SWITCH).state == "off"
    assert commands == []
    assert simulator.outbox == []

    # The disk is writable again: the same SMS, posted again, is obeyed.
    resp = await client.post(URL, json=sms(f"{PIN} {COMMAND}", OWNER))
    assert resp.status == 200
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(SWITCH).state == "on"
    assert len(commands) == 1


# --- What a 200 promised survives a restart followed by a kill -------------------


async def test_sms_received_after_a_restart_survives_a_kill(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    """Receive, restart, receive, kill, start: both SMS are there."""
    entry = await setup_entry(actio_entry(simulator.url))
    client = await hass_client_no_auth()
    assert (await client.post(URL, json=sms("before the restart"))).status == 200

    # A clean restart; the next SMS comes in before the entry is set up again.
    assert await hass.config_entries.async_unload(entry.entry_id)
    end_process(hass, entry.entry_id)
    assert (await client.post(URL, json=sms("after the restart"))).status == 200

    # Killed right after that 200; then Home Assistant starts again.
    end_process(hass, entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    received = await get_messages(hass, direction="received")
    assert [m["body"] for m in received] == ["after the restart", "before the restart"]
    assert hass.states.get(RECEIVED_COUNT).state == "2"


# --- Diagnostics ---------------------------------------------------------------


async def test_diagnostics_hide_numbers_written_in_groups(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client
) -> None:
    """The default title, "+48 732 129 000", and an error naming a landline."""
    # Before any test client: a client freezes HA's router.
    assert await async_setup_component(hass, "diagnostics", {})
    entry = await setup_entry(actio_entry(simulator.url, title="+48 732 129 000"))
    simulator.state.fault = "422"
    simulator.state.fault_errors = {"to": ["Number +48 22 123 45 67 is not mobile"]}
    with pytest.raises(HomeAssistantError):
        await send(hass, "221234567", "x")

    result = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    dumped = json.dumps(result, ensure_ascii=False)
    for written in ("732 129 000", "732129000", "22 123 45 67", "221234567"):
        assert written not in dumped
    # No run of 7 digits, however grouped by single spaces or dashes.
    assert re.findall(r"\d(?:[ \-]?\d){6,}", dumped) == []
    assert result["last_error"]  # the error is there, without the number


# --- Spend guard: a delivered SMS is still a repeat ------------------------------


async def test_a_delivered_sms_is_still_a_repeat(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    """Only an undelivered SMS lifts the duplicate window (default 60 s)."""
    await setup_entry(actio_entry(simulator.url))
    [sent] = (await send(hass, "600100200", "Alarm"))["messages"]
    client = await hass_client_no_auth()
    report = {
        "type": "NOTIFICATION",
        "message_id": sent["message_id"],
        "status": "DELIVERED",
    }
    assert (await client.post(URL, json=report)).status == 200
    await hass.async_block_till_done()

    response = await send(hass, "600100200", "Alarm")
    assert response == {
        "messages": [],
        "skipped": [{"recipient": "48600100200", "reason": "duplicate"}],
    }
    assert len(simulator.outbox) == 1


# --- Webhook allowlist -------------------------------------------------------


def resolves_to(address: str):
    """getaddrinfo for ACTIO's host, answering ``address``."""

    async def resolve(host: str, port: int, **_kwargs: Any):
        assert host == "msg-api.actio.pl"
        return [(2, 1, 6, "", (address, port))]

    return resolve


async def test_allowlist_refuses_a_call_without_a_peer_address(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    """A cloudhook call has no peer address: it cannot be shown to be ACTIO's."""
    await setup_entry(actio_entry(simulator.url, options={CONF_ALLOWED_SOURCES: True}))
    received = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    client = await hass_client_no_auth()
    body = json.dumps(sms("hi")).encode()
    # The test client connects from 127.0.0.1; here that is ACTIO's address.
    with patch.object(hass.loop, "getaddrinfo", side_effect=resolves_to("127.0.0.1")):
        assert (await client.post(URL, data=body)).status == 200
        # As Home Assistant Cloud hands a cloudhook call to the webhook component.
        request = MockRequest(content=body, mock_source="cloud", method="POST")
        assert request.remote is None
        resp = await async_handle_webhook(hass, WEBHOOK_ID, request)  # type: ignore[arg-type]
    assert resp.status == 403
    await hass.async_block_till_done()
    assert len(received) == 1  # the first call only


# --- Usage: the month adds up ----------------------------------------------------


async def test_monthly_cost_adds_up_every_send(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    """Cost this month = every part sent this month x the price per part."""
    await setup_entry(actio_entry(simulator.url, options={CONF_PRICE_PER_PART: 0.25}))
    await send(hass, "600100200", "x" * 61)  # 2 parts (UCS-2: 60 a part)
    await send(hass, "600100201", "y" * 121)  # 3 parts
    async_fire_time_changed(hass)  # the sensors' debouncer
    await hass.async_block_till_done()
    assert hass.states.get(PARTS_TODAY).state == "5"
    assert float(hass.states.get(COST).state) == pytest.approx(5 * 0.25)
