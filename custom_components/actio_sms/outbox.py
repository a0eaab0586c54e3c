"""Every SMS that goes out: validation, the spend guard, then bulk or single sends.

ACTIO bills every part. A looping automation must not be able to send
thousands of them: every send surface comes here, reserves its parts before
any request goes out, and gives back what ACTIO did not accept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import re
import time
from typing import Any, Final
import uuid

from homeassistant.core import CALLBACK_TYPE, Event, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_time_change
from homeassistant.util import dt as dt_util

from .actio import (
    MAX_MULTI_RECIPIENTS,
    REPORTED_STATUSES,
    ActioAnswerLostError,
    ActioAuthError,
    ActioConnectionError,
    ActioError,
    ActioNoFundsError,
    ActioRateLimitError,
    ActioResponseError,
    ActioServerError,
    ActioValidationError,
    ApiMode,
    DeliveryStatus,
    SentMessage,
    format_field_errors,
    new_idempotency_key,
    storable,
    utc_now_iso,
)
from .const import (
    DOMAIN,
    EVENT_DELIVERY_STATUS,
    EVENT_LIMIT_REACHED,
    EVENT_MESSAGE_SENT,
    ISSUE_DAILY_LIMIT,
    ISSUE_NO_FUNDS,
    LOGGER,
)
from .data import ActioRuntime, Change, signal_delivery
from .issues import async_delete, async_raise_daily_limit, async_raise_no_funds
from .phone import (
    InvalidNumberError,
    MessageTooLongError,
    UnsupportedCharactersError,
    count_parts,
    is_polish_mobile,
    mask_number,
    normalize_number,
    normalize_numbers,
)
from .store import LoggedReport, SendOutcome

# After one of these, the remaining requests of a send would fail alike.
STOPPING_ERRORS: Final = (ActioAuthError, ActioRateLimitError, ActioNoFundsError)
SENDER_NAME: Final = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 .\-]{1,11}")
"""A sender name ACTIO registers: 1-11 letters, digits, spaces, dots, hyphens."""
NOT_DELIVERED: Final = REPORTED_STATUSES - {DeliveryStatus.DELIVERED}
"""Reports after which the same text may go to the number again at once."""
SEND_AT_SLACK: Final = timedelta(seconds=5)
"""A send_at this close to now still counts as the future (clocks, typing)."""

# Client error → translation key; the first matching class wins.
ERROR_TRANSLATION_KEYS: Final[tuple[tuple[type[ActioError], str], ...]] = (
    (ActioAuthError, "auth_failed"),
    (ActioNoFundsError, "no_funds"),
    (ActioValidationError, "rejected"),
    (ActioRateLimitError, "rate_limited"),
    (ActioServerError, "server_error"),
    (ActioConnectionError, "cannot_connect"),
    (ActioError, "unexpected_response"),
)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A recipient left out of a send, and why."""

    recipient: str
    reason: str


@dataclass(frozen=True, slots=True)
class SendResult:
    """What ACTIO accepted (or perhaps did), and who was left out before sending."""

    sent: list[SendOutcome]
    skipped: list[Skipped]


@dataclass(frozen=True, slots=True)
class SendOptions:
    """How a message goes: from whom, and when."""

    sender: str | None = None
    """A registered sender name or a number; None: the entry's number."""
    scheduled_at: str | None = None
    """ISO 8601 with its UTC offset; None: now."""


def send_options(
    runtime: ActioRuntime, sender: str | None = None, send_at: Any = None
) -> SendOptions:
    """Check a send's sender and time; raise a translated validation error."""
    tcx = runtime.settings.mode is ApiMode.TCX
    if sender is not None and (sender := str(sender).strip()):
        if tcx:
            raise _not_in_3cx("sender")
        if not SENDER_NAME.fullmatch(sender):
            try:
                sender = normalize_number(sender)
            except InvalidNumberError as err:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="invalid_sender_name",
                    translation_placeholders={"sender": sender},
                ) from err
    scheduled_at = None
    if send_at not in (None, ""):
        if tcx:
            raise _not_in_3cx("send_at")
        when = (
            send_at
            if isinstance(send_at, datetime)
            else dt_util.parse_datetime(str(send_at))
        )
        if when is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="send_at_invalid",
                translation_placeholders={"send_at": str(send_at)},
            )
        if when.tzinfo is None:  # as people mean it: Home Assistant's time zone
            when = when.replace(tzinfo=dt_util.get_default_time_zone())
        if when < dt_util.utcnow() - SEND_AT_SLACK:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="send_at_past",
                translation_placeholders={
                    "send_at": dt_util.as_local(when).strftime("%Y-%m-%d %H:%M")
                },
            )
        scheduled_at = when.isoformat(timespec="seconds")
    return SendOptions(sender or None, scheduled_at)


def _not_in_3cx(feature: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="not_in_3cx_mode",
        translation_placeholders={"feature": feature},
    )


def validate_recipients(recipients: Iterable[str]) -> list[str]:
    """Normalise and deduplicate, or raise naming every bad number."""
    result = normalize_numbers([str(r) for r in recipients])
    if result.invalid:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_numbers",
            # The message says what a valid number is, in the user's language.
            translation_placeholders={
                "numbers": ", ".join(e.number for e in result.invalid)
            },
        )
    if not result.numbers:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="no_recipients"
        )
    return result.numbers


def message_parts(runtime: ActioRuntime, message: str) -> int:
    """Parts of ``message`` in the entry's encoding, or raise why it cannot go."""
    if not message:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="empty_message"
        )
    try:
        return count_parts(message, runtime.settings.encoding)
    except MessageTooLongError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="gsm7_too_long",
            translation_placeholders={"length": str(err.length)},
        ) from err
    except UnsupportedCharactersError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="gsm7_unsupported",
            translation_placeholders={"characters": err.characters},
        ) from err


def map_error(err: ActioError) -> HomeAssistantError:
    """Translate a client error for a user."""
    key = next(key for cls, key in ERROR_TRANSLATION_KEYS if isinstance(err, cls))
    placeholders: dict[str, str] = {}
    match err:
        case ActioValidationError():
            placeholders["errors"] = format_field_errors(err.errors)
        case ActioRateLimitError():
            placeholders["retry_after"] = (
                "?" if err.retry_after is None else str(round(err.retry_after))
            )
        case ActioServerError():
            placeholders["status"] = str(err.status)
        case ActioConnectionError() | ActioAuthError() | ActioNoFundsError():
            pass
        case _:
            placeholders["error"] = str(err)
    cls = ServiceValidationError if key == "rejected" else HomeAssistantError
    return cls(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


@dataclass(slots=True)
class Reservation:
    """Parts held for a send in flight, and the repeats it marked."""

    parts: int
    message: str
    numbers: list[str]


class SpendGuard:
    """An entry's daily cap, repeat window and size limit, on its ``SpendState``."""

    def __init__(self, runtime: ActioRuntime) -> None:
        """Act on the entry's spend state."""
        self.runtime = runtime
        self.state = runtime.spend
        self.settings = runtime.settings

    def used_today(self) -> int:
        """Parts ACTIO accepted today (local time)."""
        return self.runtime.store.parts_today()

    def check_size(self, parts: int) -> None:
        """Refuse a message longer than the entry allows."""
        if parts > self.settings.max_parts:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="too_many_parts",
                translation_placeholders={
                    "parts": str(parts),
                    "max_parts": str(self.settings.max_parts),
                },
            )

    @callback
    def split_duplicates(
        self, numbers: list[str], message: str
    ) -> tuple[list[str], list[Skipped]]:
        """Leave out numbers that got this same text within the window."""
        if not (window := self.settings.duplicate_window):
            return numbers, []
        now = time.monotonic()
        recent = self.state.recent = {
            k: t for k, t in self.state.recent.items() if now - t < window
        }
        send = [n for n in numbers if (n, message) not in recent]
        skipped = [Skipped(n, "duplicate") for n in numbers if (n, message) in recent]
        for item in skipped:
            LOGGER.debug(
                "Skipped %s: the same text went to it less than %s s ago",
                mask_number(item.recipient),
                window,
            )
        return send, skipped

    @callback
    def reserve(self, numbers: list[str], message: str, parts: int) -> Reservation:
        """Hold the parts of a send, or refuse it whole."""
        requested = parts * len(numbers)
        if limit := self.settings.daily_limit:
            used = self.used_today() + self.state.reserved
            if used + requested > limit:
                self._async_limit_reached(limit, used, requested)
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="daily_limit_reached",
                    translation_placeholders={
                        "used": str(used),
                        "limit": str(limit),
                        "requested": str(requested),
                    },
                )
        self.state.reserved += requested
        if self.settings.duplicate_window:
            now = time.monotonic()
            for number in numbers:
                self.state.recent[number, message] = now
        return Reservation(requested, message, numbers)

    @callback
    def release(self, reservation: Reservation, sent: list[SendOutcome]) -> None:
        """The send is over: what ACTIO accepted is in the store; free the rest."""
        self.state.reserved -= reservation.parts
        accepted = {outcome.recipient for outcome in sent}
        for number in reservation.numbers:
            if number not in accepted:
                # Refused, so a retry is not a repeat.
                self.state.recent.pop((number, reservation.message), None)

    @callback
    def _async_limit_reached(self, limit: int, used: int, requested: int) -> None:
        runtime = self.runtime
        LOGGER.warning(
            "Refused to send %s SMS part(s) for %s: %s of the daily limit of %s used",
            requested,
            runtime.entry.title,
            used,
            limit,
        )
        runtime.hass.bus.async_fire(
            EVENT_LIMIT_REACHED,
            {
                "config_entry_id": runtime.entry_id,
                "limit": limit,
                "used": used,
                "requested": requested,
            },
        )
        async_raise_daily_limit(runtime.hass, runtime.entry, limit, used)


@callback
def async_refresh_limit_issue(runtime: ActioRuntime) -> None:
    """Clear the cap's issue once it no longer bites (a new day, a higher cap)."""
    limit = runtime.settings.daily_limit
    if not limit or runtime.store.parts_today() < limit:
        async_delete(runtime.hass, ISSUE_DAILY_LIMIT, runtime.entry_id)


@callback
def async_track_new_day(runtime: ActioRuntime) -> CALLBACK_TYPE:
    """At local midnight the cap starts again: clear the issue, tell sensors."""

    @callback
    def _new_day(_now: datetime) -> None:
        async_refresh_limit_issue(runtime)
        runtime.async_changed(Change.USAGE)

    return async_track_time_change(runtime.hass, _new_day, hour=0, minute=0, second=0)


@callback
def async_forget_failed_deliveries(runtime: ActioRuntime) -> CALLBACK_TYPE:
    """An SMS that was not delivered may go to its number again at once."""

    @callback
    def _failed(event: Event) -> None:
        data = event.data
        if (
            data.get("config_entry_id") == runtime.entry_id
            and data.get("status") in NOT_DELIVERED
            and "recipient" in data
        ):
            runtime.spend.recent.pop((data["recipient"], data["body"]), None)

    return runtime.hass.bus.async_listen(EVENT_DELIVERY_STATUS, _failed)


@dataclass
class SendBatch:
    """One message to a list of normalised numbers, and how each fared.

    Every request's ``idempotency_key`` is made, and the whole send noted in
    the store, before the first request goes out.
    """

    runtime: ActioRuntime
    message: str
    numbers: list[str]
    parts: int
    options: SendOptions = field(default_factory=SendOptions)
    batch_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    outcomes: dict[str, SendOutcome] = field(default_factory=dict)
    errors: dict[str, ActioError] = field(default_factory=dict)
    stopped_by: ActioError | None = None
    """An auth, funds or rate-limit error: what is not sent yet is not tried."""
    chunks: list[list[str]] = field(default_factory=list)
    """Bulk requests (sms-multi), up to 100 numbers each."""
    singles: list[str] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    """Each number's request's idempotency key (a chunk shares one)."""

    def __post_init__(self) -> None:
        """Split into requests (bulk where allowed), each with its key."""
        self.singles = self.numbers
        if self.runtime.settings.bulk and len(self.numbers) > 1:
            # The bulk endpoint takes Polish mobiles only; others go one by one.
            bulk = [n for n in self.numbers if is_polish_mobile(n)]
            mobile = set(bulk)
            self.singles = [n for n in self.numbers if n not in mobile]
            self.chunks = [
                bulk[start : start + MAX_MULTI_RECIPIENTS]
                for start in range(0, len(bulk), MAX_MULTI_RECIPIENTS)
            ]
        for numbers in [*self.chunks, *([n] for n in self.singles)]:
            self.keys.update(dict.fromkeys(numbers, new_idempotency_key()))

    def planned(self) -> list[SendOutcome]:
        """Every recipient as it would be kept if its answer never came."""
        return [
            SendOutcome(
                number,
                None,
                self.parts,
                DeliveryStatus.UNCONFIRMED,
                self.keys[number],
                self.options.scheduled_at,
                self.options.sender,
            )
            for number in self.numbers
        ]

    async def async_run(self) -> None:
        """Bulk requests one after another, singles in parallel, within the bound."""
        for chunk in self.chunks:
            await self._async_send_chunk(chunk)
        await asyncio.gather(*(self._async_send_one(n) for n in self.singles))

    async def _async_send_chunk(self, chunk: list[str]) -> None:
        async with self.runtime.send_gate:
            if self.stopped_by is not None:
                self._fail(chunk, self.stopped_by)
                return
            try:
                sent = await self.runtime.client.send_sms_multi(
                    self._from,
                    chunk,
                    self.message,
                    idempotency_key=self.keys[chunk[0]],
                    scheduled_at=self.options.scheduled_at,
                )
            except ActioError as err:
                self._fail(chunk, err)
                return
        self._accept(sent)
        # ACTIO accepted the request: a number its answer leaves out may
        # still get the SMS.
        self._unconfirmed([n for n in chunk if n not in self.outcomes])

    async def _async_send_one(self, number: str) -> None:
        client = self.runtime.client
        async with self.runtime.send_gate:
            if self.stopped_by is not None:
                self._fail([number], self.stopped_by)
                return
            try:
                if self.runtime.settings.mode is ApiMode.TCX:
                    sent = await client.send_3cx(self._from, number, self.message)
                else:
                    sent = await client.send_sms(
                        self._from,
                        number,
                        self.message,
                        idempotency_key=self.keys[number],
                        scheduled_at=self.options.scheduled_at,
                    )
            except ActioError as err:
                self._fail([number], err)
                return
        self._accept([sent])

    @property
    def _from(self) -> str:
        return self.options.sender or self.runtime.settings.sender

    def _outcome(
        self, number: str, message_id: str | None, status: DeliveryStatus
    ) -> SendOutcome:
        return SendOutcome(
            number,
            message_id,
            self.parts,
            status,
            self.keys[number],
            self.options.scheduled_at,
            self.options.sender,
        )

    def _accept(self, sent: list[SentMessage]) -> None:
        for item in sent:
            self.outcomes[item.recipient] = self._outcome(
                item.recipient, item.message_id, DeliveryStatus.PENDING
            )

    def _unconfirmed(self, numbers: list[str]) -> None:
        for number in numbers:
            self.outcomes[number] = self._outcome(
                number, None, DeliveryStatus.UNCONFIRMED
            )

    def _fail(self, numbers: list[str], err: ActioError) -> None:
        if isinstance(err, ActioAnswerLostError) or (
            isinstance(err, ActioResponseError)
            and err.status is not None
            and 200 <= err.status < 300
        ):
            # No answer, or a 2xx we cannot read: it may have gone out.
            LOGGER.warning(
                "ACTIO's answer was lost (%s): %s SMS unconfirmed", err, len(numbers)
            )
            self._unconfirmed(numbers)
            return
        self.errors.update(dict.fromkeys(numbers, err))
        if isinstance(err, STOPPING_ERRORS) and self.stopped_by is None:
            self.stopped_by = err

    @property
    def sent(self) -> list[SendOutcome]:
        """Accepted or unconfirmed, in the order the numbers were given."""
        return [self.outcomes[n] for n in self.numbers if n in self.outcomes]

    def error(self) -> HomeAssistantError:
        """The exception for a batch in which some or all numbers failed."""
        first = next(iter(self.errors.values()))
        if not (sent := self.sent):
            return map_error(first)
        by_reason: dict[str, list[str]] = {}
        for number, err in self.errors.items():
            by_reason.setdefault(str(map_error(err)), []).append(number)
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="partial_failure",
            translation_placeholders={
                "sent": ", ".join(f"{o.recipient} ({o.message_id})" for o in sent),
                "failed": "; ".join(
                    f"{', '.join(numbers)}: {reason}"
                    for reason, numbers in by_reason.items()
                ),
            },
        )


@callback
def async_record_sent(runtime: ActioRuntime, batch: SendBatch, sent_at: str) -> None:
    """Keep what ACTIO accepted or may have; say so on the bus (one event per send).

    An unconfirmed SMS also gets its own ``actio_sms_delivery_status``: it may
    have gone out, and costs as if it had.
    """
    outcomes = batch.sent
    runtime.store.resolve_intent(batch.batch_id, outcomes)
    if not outcomes:
        return
    hass = runtime.hass
    hass.bus.async_fire(
        EVENT_MESSAGE_SENT,
        runtime.event_data(
            messages=[message_of(o) for o in outcomes],
            body=batch.message,
            sent_at=sent_at,
        ),
    )
    for outcome in outcomes:
        if outcome.status is DeliveryStatus.UNCONFIRMED:
            report: LoggedReport = {
                "message_id": None,
                "status": DeliveryStatus.UNCONFIRMED,
                "status_at": sent_at,
                "recipient": outcome.recipient,
                "body": batch.message,
                "sent_at": sent_at,
            }
            hass.bus.async_fire(
                EVENT_DELIVERY_STATUS,
                runtime.event_data(
                    **{k: v for k, v in report.items() if k != "status_at"}
                ),
            )
            async_dispatcher_send(hass, signal_delivery(runtime.entry_id), report)
    runtime.async_changed(Change.SENT, Change.USAGE)


def message_of(outcome: SendOutcome) -> dict[str, Any]:
    """One SMS as the action's response and the sent event give it."""
    message: dict[str, Any] = {
        "recipient": outcome.recipient,
        "message_id": outcome.message_id,
        "parts": outcome.parts,
        "status": str(outcome.status),
    }
    if outcome.scheduled_at is not None:
        message["scheduled_at"] = outcome.scheduled_at
    return message


async def async_send(
    runtime: ActioRuntime,
    recipients: Iterable[str],
    message: str,
    *,
    skip_repeats: bool = True,
    options: SendOptions | None = None,
) -> SendResult:
    """Send ``message`` to every recipient the spend guard lets through.

    Raises when any recipient was refused, after keeping those that were
    sent. An unconfirmed SMS (its answer lost) is no failure: it is in the
    result with that status, and counts against the daily cap.
    ``skip_repeats`` off: an answer may repeat the last one (the cap holds).
    """
    numbers = validate_recipients(recipients)
    message = storable(message)
    parts = message_parts(runtime, message)
    guard = SpendGuard(runtime)
    guard.check_size(parts)
    skipped: list[Skipped] = []
    if skip_repeats:
        numbers, skipped = guard.split_duplicates(numbers, message)
    if not numbers:
        return SendResult([], skipped)
    # Refused whole here, before any request, if the parts would cross the cap.
    reservation = guard.reserve(numbers, message, parts)
    batch = SendBatch(runtime, message, numbers, parts, options or SendOptions())
    sent_at = utc_now_iso()
    LOGGER.debug(
        "Sending %s part(s) to %s: %s",
        parts,
        ", ".join(mask_number(n) for n in numbers),
        message,
    )
    try:
        try:
            # Kept before any request goes out: a stop mid-send reads back
            # as unconfirmed, never as nothing.
            await asyncio.shield(
                runtime.store.add_intent(
                    batch.batch_id, batch.planned(), message, sent_at
                )
            )
        except OSError as err:
            LOGGER.warning(
                "Sending although the store could not note it first: %s", err
            )
        await batch.async_run()
    finally:
        async_record_sent(runtime, batch, sent_at)
        guard.release(reservation, batch.sent)
    LOGGER.debug(
        "ACTIO accepted: %s",
        ", ".join(
            f"{mask_number(o.recipient)} ({o.message_id}, {o.status})"
            for o in batch.sent
        )
        or "none",
    )
    if any(o.status is DeliveryStatus.PENDING for o in batch.sent):
        async_delete(runtime.hass, ISSUE_NO_FUNDS, runtime.entry_id)
    if not batch.errors:
        return SendResult(batch.sent, skipped)
    first = next(iter(batch.errors.values()))
    runtime.last_error = str(first)
    if isinstance(batch.stopped_by, ActioAuthError):
        runtime.entry.async_start_reauth(runtime.hass)
    if isinstance(batch.stopped_by, ActioNoFundsError):
        async_raise_no_funds(runtime.hass, runtime.entry)
    raise batch.error()
