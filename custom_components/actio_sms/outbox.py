"""Every SMS that goes out: validation, the spend guard, then bulk or single sends.

ACTIO bills every part. A looping automation must not be able to send
thousands of them: every send surface comes here, reserves its parts before
any request goes out, and gives back what ACTIO did not accept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
import time
from typing import Final

from homeassistant.core import CALLBACK_TYPE, Event, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.event import async_track_time_change

from .actio import (
    MAX_MULTI_RECIPIENTS,
    ActioAuthError,
    ActioConnectionError,
    ActioError,
    ActioRateLimitError,
    ActioResponseError,
    ActioServerError,
    ActioValidationError,
    ApiMode,
    DeliveryStatus,
    SentMessage,
    format_field_errors,
    utc_now_iso,
)
from .const import (
    DOMAIN,
    EVENT_DELIVERY_STATUS,
    EVENT_LIMIT_REACHED,
    EVENT_MESSAGE_SENT,
    ISSUE_DAILY_LIMIT,
    LOGGER,
)
from .data import ActioRuntime, Change
from .issues import async_delete, async_raise_daily_limit
from .phone import (
    MessageTooLongError,
    UnsupportedCharactersError,
    count_parts,
    is_polish_mobile,
    normalize_numbers,
)
from .store import SendOutcome

# After one of these, the remaining requests of a send would fail alike.
STOPPING_ERRORS: Final = (ActioAuthError, ActioRateLimitError)

# Client error → translation key; the first matching class wins.
ERROR_TRANSLATION_KEYS: Final[tuple[tuple[type[ActioError], str], ...]] = (
    (ActioAuthError, "auth_failed"),
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
    """What ACTIO accepted, and who was left out before sending."""

    sent: list[SendOutcome]
    skipped: list[Skipped]


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
        case ActioConnectionError() | ActioAuthError():
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
                item.recipient,
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
                # Not sent, so a retry is not a repeat.
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
            and data.get("status") == DeliveryStatus.ERROR
            and "recipient" in data
        ):
            runtime.spend.recent.pop((data["recipient"], data["body"]), None)

    return runtime.hass.bus.async_listen(EVENT_DELIVERY_STATUS, _failed)


@dataclass
class SendBatch:
    """One message to a list of normalised numbers, and how each fared."""

    runtime: ActioRuntime
    message: str
    numbers: list[str]
    parts: int
    outcomes: dict[str, SendOutcome] = field(default_factory=dict)
    errors: dict[str, ActioError] = field(default_factory=dict)
    stopped_by: ActioError | None = None
    """An auth or rate-limit error: what is not sent yet is not tried."""

    async def async_run(self) -> None:
        """Bulk where allowed, the rest one by one, never beyond the entry's bound."""
        singles = self.numbers
        if self.runtime.settings.bulk and len(self.numbers) > 1:
            # The bulk endpoint takes Polish mobiles only; others go one by one.
            bulk = [n for n in self.numbers if is_polish_mobile(n)]
            mobile = set(bulk)
            singles = [n for n in self.numbers if n not in mobile]
            for start in range(0, len(bulk), MAX_MULTI_RECIPIENTS):
                await self._async_send_chunk(bulk[start : start + MAX_MULTI_RECIPIENTS])
        await asyncio.gather(*(self._async_send_one(n) for n in singles))

    async def _async_send_chunk(self, chunk: list[str]) -> None:
        async with self.runtime.send_gate:
            if self.stopped_by is not None:
                self._fail(chunk, self.stopped_by)
                return
            try:
                sent = await self.runtime.client.send_sms_multi(
                    self.runtime.settings.sender, chunk, self.message
                )
            except ActioError as err:
                self._fail(chunk, err)
                return
        self._accept(sent)
        if missing := [n for n in chunk if n not in self.outcomes]:
            self._fail(missing, ActioResponseError("Answer names no message id"))

    async def _async_send_one(self, number: str) -> None:
        settings = self.runtime.settings
        client = self.runtime.client
        async with self.runtime.send_gate:
            if self.stopped_by is not None:
                self._fail([number], self.stopped_by)
                return
            try:
                if settings.mode is ApiMode.TCX:
                    sent = await client.send_3cx(settings.sender, number, self.message)
                else:
                    sent = await client.send_sms(settings.sender, number, self.message)
            except ActioError as err:
                self._fail([number], err)
                return
        self._accept([sent])

    def _accept(self, sent: list[SentMessage]) -> None:
        for item in sent:
            self.outcomes[item.recipient] = SendOutcome(
                item.recipient, item.message_id, self.parts
            )

    def _fail(self, numbers: list[str], err: ActioError) -> None:
        self.errors.update(dict.fromkeys(numbers, err))
        if isinstance(err, STOPPING_ERRORS) and self.stopped_by is None:
            self.stopped_by = err

    @property
    def sent(self) -> list[SendOutcome]:
        """What ACTIO accepted, in the order the numbers were given."""
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
def async_record_sent(
    runtime: ActioRuntime, outcomes: list[SendOutcome], body: str, sent_at: str
) -> None:
    """Keep what ACTIO accepted, and say so on the bus (one event per send)."""
    if not outcomes:
        return
    runtime.store.add_sent(outcomes, body, sent_at)
    runtime.hass.bus.async_fire(
        EVENT_MESSAGE_SENT,
        runtime.event_data(
            messages=[
                {"recipient": o.recipient, "message_id": o.message_id, "parts": o.parts}
                for o in outcomes
            ],
            body=body,
            sent_at=sent_at,
        ),
    )
    runtime.async_changed(Change.SENT, Change.USAGE)


async def async_send(
    runtime: ActioRuntime,
    recipients: Iterable[str],
    message: str,
    *,
    skip_repeats: bool = True,
) -> SendResult:
    """Send ``message`` to every recipient the spend guard lets through.

    Raises when any recipient failed, after keeping those that were sent.
    ``skip_repeats`` off: an answer may repeat the last one (the cap holds).
    """
    numbers = validate_recipients(recipients)
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
    batch = SendBatch(runtime, message, numbers, parts)
    LOGGER.debug(
        "Sending %s part(s) to %s: %s",
        parts,
        numbers,
        message,
    )
    try:
        await batch.async_run()
    finally:
        async_record_sent(runtime, batch.sent, message, utc_now_iso())
        guard.release(reservation, batch.sent)
    LOGGER.debug(
        "ACTIO accepted: %s",
        ", ".join(f"{o.recipient} ({o.message_id})" for o in batch.sent) or "none",
    )
    if not batch.errors:
        return SendResult(batch.sent, skipped)
    runtime.last_error = str(next(iter(batch.errors.values())))
    if isinstance(batch.stopped_by, ActioAuthError):
        runtime.entry.async_start_reauth(runtime.hass)
    raise batch.error()
