"""Control by SMS, with Home Assistant's real default agent and a real switch."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.actio_sms.commands import COMMAND_USER_NAME
from custom_components.actio_sms.const import (
    CONF_COMMAND_PIN,
    CONF_COMMAND_REPLY,
    CONF_COMMAND_SENDERS,
    DOMAIN,
    EVENT_COMMAND,
    EVENT_MESSAGE_RECEIVED,
)
from custom_components.actio_sms.data import DATA_ACTIO
from custom_components.actio_sms.diagnostics import async_get_config_entry_diagnostics
from custom_components.actio_sms.inbox import RATE_LIMIT
from custom_components.actio_sms.logbook import async_describe_events
from custom_components.actio_sms.store import db_path
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .conftest import (
    SWITCH,
    WEBHOOK_ID,
    Setup,
    Sim,
    actio_entry,
    entry_device_id,
    get_messages,
    second_entry,
    sms,
)

URL = f"/api/webhook/{WEBHOOK_ID}"
PIN = "k7#Qz9"  # found in no log line, id or timestamp by chance
OWNER = "48600100200"
STRANGER = "48600100299"
OPTIONS = {CONF_COMMAND_SENDERS: [OWNER], CONF_COMMAND_PIN: PIN}


@pytest.fixture(autouse=True)
async def _assist(assist_and_a_switch: None) -> None:
    """Every test here has Assist and a switch to turn on."""


async def post_sms(client: Any, body: str, sender: str = OWNER) -> None:
    resp = await client.post(URL, json=sms(body, sender))
    assert resp.status == 200


async def setup_commands(
    setup_entry: Setup, simulator: Sim, **options: Any
) -> MockConfigEntry:
    return await setup_entry(actio_entry(simulator.url, options=OPTIONS | options))


async def test_listed_sender_with_pin_controls_and_gets_the_answer(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    hass_client_no_auth,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    entry = await setup_commands(setup_entry, simulator)
    commands = async_capture_events(hass, EVENT_COMMAND)
    received = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    client = await hass_client_no_auth()
    await post_sms(client, f"{PIN} turn on the kitchen light")
    await hass.async_block_till_done(wait_background_tasks=True)

    assert hass.states.get(SWITCH).state == "on"
    [reply] = simulator.outbox
    assert reply.recipient == OWNER
    [event] = commands
    assert event.data == {
        "config_entry_id": entry.entry_id,
        "device_id": entry_device_id(hass, entry),
        "from": OWNER,
        "command": "turn on the kitchen light",
        "response": reply.body,
        "replied": True,
    }
    assert reply.body  # the default agent's own answer, in English here
    # The switch was turned on as the non-admin commands user.
    user = await hass.auth.async_get_user(event.context.user_id)
    assert user is not None
    assert (user.name, user.is_admin, user.system_generated) == (
        COMMAND_USER_NAME,
        False,
        True,
    )
    assert hass.states.get(SWITCH).context.user_id == user.id

    # The PIN is nowhere: not in the event, the history, diagnostics, the logs.
    assert [(e.data["body"], e.data["command"]) for e in received] == [
        ("turn on the kitchen light", True)
    ]
    history = await get_messages(hass, direction="received")
    assert [m["body"] for m in history] == ["turn on the kitchen light"]
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert PIN not in str(diagnostics)
    logbook_lines = []

    def describe(_domain: str, event_type: str, describer: Any) -> None:
        logbook_lines.extend(
            describer(fired)["message"]
            for fired in (*received, *commands)
            if fired.event_type == event_type
        )

    async_describe_events(hass, describe)
    # One line for the SMS, saying it was a command (the command event has none).
    assert logbook_lines == [
        "SMS command from +48 600 100 200: turn on the kitchen light"
    ]
    assert PIN not in caplog.text
    path = db_path(hass, entry.entry_id)

    def stored_bytes() -> bytes:
        # The database and its write-ahead log: what a 200 left on disk.
        return b"".join(p.read_bytes() for p in path.parent.glob(f"{path.name}*"))

    on_disk = await hass.async_add_executor_job(stored_bytes)
    assert b"turn on the kitchen light" in on_disk
    assert PIN.encode() not in on_disk


@pytest.mark.parametrize(
    ("sender", "body"),
    [
        (OWNER, "1234 turn on the kitchen light"),  # wrong PIN
        (OWNER, "turn on the kitchen light"),  # no PIN
        (STRANGER, f"{PIN} turn on the kitchen light"),  # not listed
    ],
    ids=["wrong-pin", "no-pin", "unlisted"],
)
async def test_anything_else_is_an_ordinary_sms(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    hass_client_no_auth,
    sender: str,
    body: str,
) -> None:
    await setup_commands(setup_entry, simulator)
    commands = async_capture_events(hass, EVENT_COMMAND)
    received = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    client = await hass_client_no_auth()
    await post_sms(client, body, sender)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(SWITCH).state == "off"
    assert simulator.outbox == []
    assert commands == []
    assert [(e.data["body"], e.data["command"]) for e in received] == [(body, False)]


async def test_wrong_pins_lock_the_number_out(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    entry = await setup_commands(setup_entry, simulator)
    client = await hass_client_no_auth()
    for guess in ("k7#Qz0", "k7#Qz1", "k7#Qz2", "k7#Qz3"):
        await post_sms(client, f"{guess} turn on the kitchen light")
    issue_id = f"command_lockout_{entry.entry_id}_{OWNER}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    # An ordinary message from the same number is no guess.
    await post_sms(client, "I will be late")
    await post_sms(client, "k7#Qz4 turn on the kitchen light")
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders["number"] == "+48 600 100 200"
    # Locked: even the right PIN does nothing now (and is still not kept).
    received = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    await post_sms(client, f"{PIN} turn on the kitchen light")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(SWITCH).state == "off"
    assert simulator.outbox == []
    assert [e.data["body"] for e in received] == ["turn on the kitchen light"]


async def test_flooding_is_ignored_with_one_warning(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    hass_client_no_auth,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await setup_commands(setup_entry, simulator, **{CONF_COMMAND_REPLY: False})
    commands = async_capture_events(hass, EVENT_COMMAND)
    client = await hass_client_no_auth()
    for _ in range(RATE_LIMIT + 3):
        await post_sms(client, f"{PIN} turn on the kitchen light")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(commands) == RATE_LIMIT
    assert all(e.data["replied"] is False for e in commands)
    assert simulator.outbox == []
    assert caplog.text.count("Ignoring commands from +48 600 *** *00") == 1


async def test_no_command_runs_again_after_a_restart(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    entry = await setup_commands(setup_entry, simulator)
    client = await hass_client_no_auth()
    await post_sms(client, f"{PIN} turn on the kitchen light")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(SWITCH).state == "on"
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": SWITCH}, blocking=True
    )
    # A restart: nothing in memory; the log comes back from snapshot + journal.
    await hass.config_entries.async_unload(entry.entry_id)
    hass.data[DATA_ACTIO].runtimes.pop(entry.entry_id)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    received = await get_messages(hass, direction="received")
    assert [m["body"] for m in received] == ["turn on the kitchen light"]
    assert hass.states.get(SWITCH).state == "off"
    assert len(simulator.outbox) == 1  # the one answer, not a second


async def test_commands_off_without_senders(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    await setup_entry(actio_entry(simulator.url, options={CONF_COMMAND_PIN: PIN}))
    client = await hass_client_no_auth()
    await post_sms(client, f"{PIN} turn on the kitchen light")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(SWITCH).state == "off"


async def commands_users(hass: HomeAssistant) -> list[str]:
    return [
        user.id
        for user in await hass.auth.async_get_users()
        if user.system_generated and user.name == COMMAND_USER_NAME
    ]


async def test_the_commands_user_goes_with_the_last_entry(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    first = await setup_commands(setup_entry, simulator)
    second = second_entry(simulator.url)
    second.add_to_hass(hass)  # not loaded: removing it still counts
    client = await hass_client_no_auth()
    await post_sms(client, f"{PIN} turn on the kitchen light")
    await hass.async_block_till_done(wait_background_tasks=True)
    [user_id] = await commands_users(hass)

    # Another entry is left: the user stays.
    assert await hass.config_entries.async_remove(second.entry_id)
    assert await commands_users(hass) == [user_id]
    # The last entry is removed: so is the user, and only it.
    other = await hass.auth.async_create_system_user("Another integration")
    assert await hass.config_entries.async_remove(first.entry_id)
    assert await commands_users(hass) == []
    assert await hass.auth.async_get_user(other.id) is not None

    # Set up again, a command runs as a new user, not as the removed one.
    again = await setup_commands(setup_entry, simulator)
    commands = async_capture_events(hass, EVENT_COMMAND)
    client = await hass_client_no_auth()
    await hass.services.async_call(
        "homeassistant", "turn_off", {"entity_id": SWITCH}, blocking=True
    )
    await post_sms(client, f"{PIN} turn on the kitchen light")
    await hass.async_block_till_done(wait_background_tasks=True)
    [new_id] = await commands_users(hass)
    assert new_id != user_id
    [event] = commands
    assert event.data["config_entry_id"] == again.entry_id
    assert hass.states.get(SWITCH).context.user_id == new_id
