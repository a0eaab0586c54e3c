"""Everything ACTIO posts, once read: the PIN taken off, kept, announced.

An inbound SMS from a command sender loses its PIN here, before anything
keeps or shows the text. Then the store keeps the record, the bus event
fires (not for a disabled entry), entities and sensors are told, and a
command runs once the record is on disk, never for a record read back.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
import hmac
import logging
import time
from typing import Any, Final
import unicodedata

from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .actio import REPORT_DETAILS, DeliveryReport, InboundMessage, InboundRecord
from .commands import async_run_command
from .const import (
    DOMAIN,
    EVENT_DELIVERY_STATUS,
    EVENT_MESSAGE_RECEIVED,
    ISSUE_COMMAND_LOCKOUT,
    LOGGER,
)
from .data import (
    ActioRuntime,
    Change,
    async_get_runtime,
    signal_delivery,
    signal_received,
)
from .issues import (
    async_delete,
    async_raise_command_lockout,
    async_raise_unrecognised_posts,
)
from .phone import mask_number

RATE_LIMIT: Final = 5
"""Commands per sender per RATE_WINDOW seconds."""
RATE_WINDOW: Final = 60.0
LOCKOUT_FAILURES: Final = 5
"""Wrong PINs within FAILURE_WINDOW seconds that lock a number out."""
FAILURE_WINDOW: Final = 86400.0
LOCKOUT: Final = 900.0
"""The first lockout; each next one lasts twice as long, up to MAX_LOCKOUT."""
MAX_LOCKOUT: Final = 86400.0
FORGIVE_AFTER: Final = 7 * 86400.0
"""A week without a wrong PIN and the next lockout is the first again."""

# What a delivery event carries beyond the id and status, when known: the
# SMS it refers to, and what ACTIO said of it.
_REPORT_CONTEXT: Final = frozenset({"recipient", "body", "sent_at", *REPORT_DETAILS})


async def async_accept(runtime: ActioRuntime, record: InboundRecord) -> None:
    """Keep and announce one post; return once it is on disk.

    Raises ``StoreWriteError`` when the store could not commit it: the
    webhook must then not answer 200.
    """
    runtime, ours = await _async_route(runtime, record)
    # A disabled entry keeps what arrives, but triggers no automation.
    announce = runtime.entry.disabled_by is None
    command: str | None = None
    sender = ""
    if isinstance(record, InboundMessage):
        # Before anything keeps the text: it may begin with the PIN.
        record, command = _async_inspect(runtime, record)
        sender = record.sender
        if LOGGER.isEnabledFor(logging.DEBUG):
            LOGGER.debug(
                "Received an SMS from %s to %s: %s",
                mask_number(record.sender),
                mask_number(record.recipient),
                record.body,
            )
        async_received(
            runtime,
            record,
            announce=announce,
            command=command is not None,
            unknown_number=not ours,
        )
    else:
        LOGGER.debug("Delivery report: %s is %s", record.message_id, record.status)
        async_delivery(runtime, record, announce=announce)
    if (written := runtime.store.written) is not None:
        await asyncio.shield(written)
    if command is not None and runtime.loaded:
        # Only here, for a live post: a record read back never runs commands.
        runtime.hass.async_create_background_task(
            async_run_command(runtime, sender, command),
            f"{DOMAIN} SMS command",
        )


async def async_keep_aside(runtime: ActioRuntime, raw: bytes, data: object) -> None:
    """A post no dialect knows: keep it aside, and tell the person once more."""
    LOGGER.warning(
        "Refused a webhook post in a shape no ACTIO format has; kept aside for "
        "a report (see the repair issue)"
    )
    quarantine = runtime.quarantine
    await quarantine.async_keep(raw, data)
    async_raise_unrecognised_posts(
        runtime.hass, runtime.entry, quarantine.count, quarantine.last or ""
    )


async def _async_route(
    runtime: ActioRuntime, record: InboundRecord
) -> tuple[ActioRuntime, bool]:
    """The entry a post is for, whichever entry's webhook ACTIO posted it to.

    Two entries on one ACTIO account may share one webhook URL: an SMS goes
    to the entry whose virtual number it names, a report to the entry that
    sent the SMS. Returns the runtime (its store loaded) and whether the post
    is for one of our numbers (False: kept on the receiving entry, flagged).
    """
    await runtime.async_load_store()
    # The common case first: the post names the entry that received it.
    if isinstance(record, InboundMessage):
        if runtime.settings.sender == record.recipient:
            return runtime, True
    elif runtime.store.knows(record.message_id):
        return runtime, True
    hass = runtime.hass
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.entry_id == runtime.entry_id:
            continue
        candidate = async_get_runtime(hass, entry)
        if isinstance(record, InboundMessage):
            if candidate.settings.sender == record.recipient:
                await candidate.async_load_store()
                return candidate, True
            continue
        await candidate.async_load_store()
        if candidate.store.knows(record.message_id):
            return candidate, True
    return runtime, not isinstance(record, InboundMessage)


@callback
def async_received(
    runtime: ActioRuntime,
    message: InboundMessage,
    *,
    announce: bool = True,
    command: bool = False,
    unknown_number: bool = False,
) -> None:
    """Keep an inbound SMS, fire its event, tell the entities.

    ``unknown_number``: the SMS names a number no entry has (kept here, and
    said so in its event and history as ``unknown_number``).
    """
    record = runtime.store.add_received(message, unknown_number=unknown_number)
    if announce:
        data: dict[str, Any] = {
            "from": message.sender,
            "to": message.recipient,
            "body": message.body,
            "received_at": message.received_at,
            "command": command,
        }
        if unknown_number:
            data["unknown_number"] = True
        runtime.hass.bus.async_fire(EVENT_MESSAGE_RECEIVED, runtime.event_data(**data))
    async_dispatcher_send(runtime.hass, signal_received(runtime.entry_id), record)
    runtime.async_changed(Change.RECEIVED)


@callback
def async_delivery(
    runtime: ActioRuntime, report: DeliveryReport, *, announce: bool = True
) -> None:
    """Apply a delivery report, fire its event, tell the entities."""
    if (logged := runtime.store.apply_delivery(report)) is None:
        LOGGER.debug(
            "Ignored a %s report for %s: a repeat, or delivered already",
            report.status,
            report.message_id,
        )
        return
    if announce:
        runtime.hass.bus.async_fire(
            EVENT_DELIVERY_STATUS,
            runtime.event_data(
                message_id=report.message_id,
                status=str(report.status),
                **{k: v for k, v in logged.items() if k in _REPORT_CONTEXT},
            ),
        )
    async_dispatcher_send(runtime.hass, signal_delivery(runtime.entry_id), logged)
    runtime.async_changed(Change.DELIVERY)


def _is_invisible(char: str) -> bool:
    """Whitespace, or a character that shows as nothing (zero-width, BOM, control)."""
    return char.isspace() or unicodedata.category(char) in ("Cf", "Cc")


def _is_separator(char: str) -> bool:
    """Whitespace of any kind, punctuation, or an invisible character."""
    return _is_invisible(char) or unicodedata.category(char)[0] in "PZ"


def split_pin(text: str, pin: str) -> tuple[bool | None, str]:
    """Whether ``text`` begins with ``pin``, and the text after it.

    The PIN counts only as a whole first token: followed by the end or by
    any whitespace or punctuation (a newline, a tab, a no-break or an
    ideographic space, a comma) or an invisible character (a zero-width
    space), never as the start of a longer word, and a prefix of it is no
    PIN. Invisible characters before it (a byte order mark) are skipped.
    Compared in constant time. Returns (True, the rest) for the PIN, (False,
    text) for a wrong guess shaped like it (as long, digits where it has
    digits), and (None, text) for an ordinary message.
    """
    start = 0
    while start < len(text) and _is_invisible(text[start]):
        start += 1
    end = start + len(pin)
    head, follows = text[start:end], text[end : end + 1]
    whole = not follows or _is_separator(follows)
    if hmac.compare_digest(head.encode(), pin.encode()) and whole:
        rest = text[end:]
        while rest and _is_separator(rest[0]):
            rest = rest[1:]
        return True, rest.strip()
    if whole and len(head) == len(pin) and head.isdigit() == pin.isdigit():
        return False, text
    return None, text


def _within(
    times: dict[str, list[float]], sender: str, now: float, window: float
) -> list[float]:
    """The sender's times inside the window (kept in ``times``, to append to)."""
    kept = times[sender] = [t for t in times.get(sender, []) if now - t < window]
    return kept


@callback
def _async_inspect(
    runtime: ActioRuntime, message: InboundMessage
) -> tuple[InboundMessage, str | None]:
    """The message as it may be kept, and the command in it, if any.

    Depends only on the entry's options, so the PIN is taken off whether or
    not the entry is loaded.
    """
    settings = runtime.settings
    sender = message.sender
    if sender not in settings.command_senders:
        return message, None
    command = message.body.strip()
    if pin := settings.command_pin:
        match, command = split_pin(command, pin)
        if not match:
            if match is False:
                _async_wrong_pin(runtime, sender)
            return message, None
        # From here on nothing keeps or shows the PIN.
        message = replace(message, body=command)
    state = runtime.commands
    if (locked_until := state.locked_until.get(sender)) is not None:
        if locked_until > time.time():
            LOGGER.warning("Ignored a command from %s: locked out", mask_number(sender))
            return message, None
        del state.locked_until[sender]
        state.async_save()
        async_delete(runtime.hass, ISSUE_COMMAND_LOCKOUT, runtime.entry_id, sender)
    if not command or not _async_within_rate(runtime, sender, time.monotonic()):
        return message, None
    return message, command


@callback
def _async_wrong_pin(runtime: ActioRuntime, sender: str) -> None:
    state = runtime.commands
    now = time.time()
    earlier = state.failures.get(sender, [])
    if earlier and now - max(earlier) > FORGIVE_AFTER:
        state.lockouts.pop(sender, None)
    failures = _within(state.failures, sender, now, FAILURE_WINDOW)
    failures.append(now)
    state.async_save()
    LOGGER.warning("Wrong command PIN from %s", mask_number(sender))
    if len(failures) < LOCKOUT_FAILURES:
        return
    # Kept, not cleared: a week without wrong PINs forgives the lockouts.
    state.failures[sender] = [now]
    lockouts = state.lockouts[sender] = state.lockouts.get(sender, 0) + 1
    duration = min(LOCKOUT * 2 ** min(lockouts - 1, 20), MAX_LOCKOUT)
    state.locked_until[sender] = now + duration
    minutes = int(duration // 60)
    LOGGER.warning(
        "Locked %s out of SMS commands for %s minutes after %s wrong PINs",
        mask_number(sender),
        minutes,
        LOCKOUT_FAILURES,
    )
    async_raise_command_lockout(
        runtime.hass, runtime.entry, sender, LOCKOUT_FAILURES, minutes
    )


@callback
def _async_within_rate(runtime: ActioRuntime, sender: str, now: float) -> bool:
    state = runtime.commands
    recent = _within(state.recent, sender, now, RATE_WINDOW)
    if len(recent) >= RATE_LIMIT:
        if state.warned_until.get(sender, 0) <= now:
            state.warned_until[sender] = now + RATE_WINDOW
            LOGGER.warning(
                "Ignoring commands from %s: more than %s a minute",
                mask_number(sender),
                RATE_LIMIT,
            )
        return False
    recent.append(now)
    return True
