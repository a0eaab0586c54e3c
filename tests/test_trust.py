"""Issue 23: what a security review found, each a failure first, then fixed."""

from __future__ import annotations

from datetime import timedelta
import time
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.actio_sms.const import (
    CONF_COMMAND_PIN,
    CONF_COMMAND_SENDERS,
    CONF_DAILY_LIMIT,
    DOMAIN,
    EVENT_COMMAND,
    EVENT_MESSAGE_RECEIVED,
)
from custom_components.actio_sms.store import db_path
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .conftest import (
    SWITCH,
    UNMASKED_NUMBER,
    WEBHOOK_ID,
    Setup,
    Sim,
    actio_entry,
    end_process,
    get_messages,
    send,
    sms,
)
from .test_commands import OWNER, PIN, post_sms

URL = f"/api/webhook/{WEBHOOK_ID}"
OPTIONS = {CONF_COMMAND_SENDERS: [OWNER], CONF_COMMAND_PIN: PIN}


@pytest.fixture(autouse=True)
async def _assist(assist_and_a_switch: None) -> None:
    """Assist and a switch to turn on."""


async def stored_bytes(hass: HomeAssistant, entry_id: str) -> bytes:
    """The message database and its write-ahead log: what a 200 left on disk."""
    path = db_path(hass, entry_id)
    return await hass.async_add_executor_job(
        lambda: b"".join(p.read_bytes() for p in path.parent.glob(f"{path.name}*"))
    )


async def restart(hass: HomeAssistant, entry: Any) -> None:
    """Unload, forget everything in memory, set up again from the files."""
    await hass.config_entries.async_unload(entry.entry_id)
    end_process(hass, entry.entry_id)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


# 1. A 200 that is not on disk ------------------------------------------------


async def test_a_lone_surrogate_is_stored_and_blocks_nothing(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    """Half a surrogate pair is made storable (U+FFFD) before the answer."""
    entry = await setup_entry(actio_entry(simulator.url))
    client = await hass_client_no_auth()
    raw = b'{"type": "MESSAGE", "from": "48600100200", "to": "48732129000", "body": "bad \\ud800 text"}'
    resp = await client.post(
        URL, data=raw, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 200
    assert (await client.post(URL, json=sms("after it"))).status == 200
    await restart(hass, entry)
    bodies = [m["body"] for m in await get_messages(hass, direction="received")]
    assert bodies == ["after it", "bad \ufffd text"]


# 2. The PIN kept in plain text ------------------------------------------------


async def test_pin_is_taken_off_while_the_entry_is_not_loaded(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    """Setup retry (ACTIO's API down): the PIN still never reaches the store."""
    entry = await setup_entry(actio_entry(simulator.url, options=OPTIONS))
    await hass.config_entries.async_unload(entry.entry_id)
    simulator.fault("500")
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    received = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    client = await hass_client_no_auth()
    await post_sms(client, f"{PIN} turn on the kitchen light")
    await hass.async_block_till_done()
    assert [e.data["body"] for e in received] == ["turn on the kitchen light"]
    on_disk = await stored_bytes(hass, entry.entry_id)
    assert b"turn on the kitchen light" in on_disk
    assert PIN.encode() not in on_disk
    # Not loaded: nothing runs (a command needs the entry to answer it).
    assert hass.states.get(SWITCH).state == "off"


@pytest.mark.parametrize(
    ("before", "separator"),
    [
        *(
            ("", separator)
            for separator in ["\n", "\t", "\u00a0", ",", "\u3000", ", ", ":\n"]
        ),
        # Invisible: a zero-width space or joiner after it, a byte order mark
        # or a direction mark before it.
        ("", "\u200b"),
        ("", "\u2060 "),
        ("\ufeff", " "),
        (" \u200e", "\n"),
    ],
    ids=repr,
)
async def test_pin_followed_by_any_separator_is_recognised_and_never_kept(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    hass_client_no_auth,
    before: str,
    separator: str,
) -> None:
    entry = await setup_entry(actio_entry(simulator.url, options=OPTIONS))
    commands = async_capture_events(hass, EVENT_COMMAND)
    client = await hass_client_no_auth()
    await post_sms(client, f"{before}{PIN}{separator}turn on the kitchen light")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(SWITCH).state == "on"
    assert [e.data["command"] for e in commands] == ["turn on the kitchen light"]
    [kept] = await get_messages(hass, direction="received")
    assert kept["body"] == "turn on the kitchen light"
    assert PIN.encode() not in await stored_bytes(hass, entry.entry_id)


# 3. The daily cap exceeded without bound ---------------------------------------


async def test_a_lost_answer_keeps_counting_against_the_cap(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    """ACTIO may have sent it: its parts stay counted, so the cap still holds."""
    await setup_entry(actio_entry(simulator.url, options={CONF_DAILY_LIMIT: 1}))
    simulator.fault("500")
    response = await send(hass, "600100200", "first")
    assert [m["status"] for m in response["messages"]] == ["unconfirmed"]
    simulator.fault(None)
    with pytest.raises(HomeAssistantError) as err:
        await send(hass, "600100201", "second")
    assert err.value.translation_key == "daily_limit_reached"
    assert [i.body for i in simulator.outbox] == []


# 5. Phone numbers in logs ------------------------------------------------------


def test_the_log_check_sees_unmasked_numbers() -> None:
    """conftest's autouse check (every test's log) would catch a leak."""
    for leak in ("from 48600100200", "to +48 600 100 200:", "(48600100299)"):
        assert UNMASKED_NUMBER.search(leak), leak
    for fine in ("+48 600 *** *00", "id a4860010020012bc", "msg_01JD3Q5Z8K48600100200"):
        assert not UNMASKED_NUMBER.search(fine), fine


# 6. Forged timestamps ----------------------------------------------------------


async def test_a_sender_time_in_the_future_is_clamped(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    await setup_entry(actio_entry(simulator.url))
    client = await hass_client_no_auth()
    payload = {
        "data": {
            "event_type": "message.received",
            "payload": {
                "text": "from the future",
                "from": {"phone_number": "+48600100200"},
                "to": [{"phone_number": "+48732129000"}],
                "received_at": "2099-01-01T00:00:00+00:00",
            },
        }
    }
    assert (await client.post(URL, json=payload)).status == 200
    [kept] = await get_messages(hass, direction="received")
    received_at = dt_util.parse_datetime(kept["received_at"])
    assert received_at is not None
    assert received_at <= dt_util.utcnow() + timedelta(minutes=5, seconds=1)


# 7. Lockout forgets on restart and is cheap to wait out -----------------------


async def test_lockout_survives_a_restart_and_doubles(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    hass_client_no_auth,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = await setup_entry(actio_entry(simulator.url, options=OPTIONS))
    client = await hass_client_no_auth()
    wrong = "k7#Qz8"  # as long as the PIN, one character off
    for _ in range(5):
        await post_sms(client, f"{wrong} turn on the kitchen light")
    issue_id = f"command_lockout_{entry.entry_id}_{OWNER}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders["minutes"] == "15"
    freezer.tick(5)  # the lockouts' file is written within a second
    await hass.async_block_till_done()

    await restart(hass, entry)
    client = await hass_client_no_auth()
    await post_sms(client, f"{PIN} turn on the kitchen light")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(SWITCH).state == "off"  # still locked out

    freezer.tick(timedelta(minutes=16))
    # One more wrong PIN counts with the ones before: the next lockout is longer.
    for _ in range(4):
        await post_sms(client, f"{wrong} turn on the kitchen light")
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders["minutes"] == "30"


def test_a_six_digit_pin_takes_centuries_to_guess() -> None:
    """The README's arithmetic: with lockouts doubling to a day, about 5 guesses
    a day get through; half of a million PINs takes longer than a lifetime."""
    from custom_components.actio_sms.inbox import LOCKOUT, LOCKOUT_FAILURES, MAX_LOCKOUT  # noqa: PLC0415

    guesses, seconds, lockouts = 0, 0.0, 0
    while guesses < 500_000:
        guesses += LOCKOUT_FAILURES
        lockouts += 1
        seconds += min(LOCKOUT * 2 ** min(lockouts - 1, 20), MAX_LOCKOUT)
    years = seconds / 86400 / 365
    assert years > 250


# 4. Delivery reports that arrive during a send -------------------------------


async def test_a_report_before_the_answer_is_applied_when_the_id_appears(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    """ACTIO's report can overtake its own answer: it waits for the id."""
    entry = await setup_entry(actio_entry(simulator.url))
    client = await hass_client_no_auth()
    real_send = entry.runtime_data.client.send_sms

    async def report_first(*args: Any, **kwargs: Any) -> Any:
        sent = await real_send(*args, **kwargs)
        report = {
            "type": "NOTIFICATION",
            "message_id": sent.message_id,
            "status": "DELIVERED",
        }
        assert (await client.post(URL, json=report)).status == 200
        return sent

    entry.runtime_data.client.send_sms = report_first  # type: ignore[method-assign]
    await send(hass, "600100200", "wyścig")
    [kept] = await get_messages(hass, direction="sent")
    assert kept["status"] == "delivered"


async def test_parked_reports_are_bounded_and_expire(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    entry = await setup_entry(actio_entry(simulator.url))
    store = entry.runtime_data.store
    client = await hass_client_no_auth()
    for i in range(1200):
        report = {"type": "NOTIFICATION", "message_id": f"x{i:015d}", "status": "ERROR"}
        assert (await client.post(URL, json=report)).status == 200
    assert len(store._parked) == 1000  # the newest
    assert "x000000000001199" in store._parked
    later = time.monotonic() + 7 * 3600
    with patch("custom_components.actio_sms.store.time.monotonic", return_value=later):
        report = {
            "type": "NOTIFICATION",
            "message_id": "y000000000000001",
            "status": "ERROR",
        }
        assert (await client.post(URL, json=report)).status == 200
    assert list(store._parked) == ["y000000000000001"]
