"""Sending: validate everything first, then bulk or bounded single sends."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .api import (
    MAX_MULTI_RECIPIENTS,
    ActioAuthError,
    ActioConnectionError,
    ActioError,
    ActioRateLimitError,
    ActioResponseError,
    ActioServerError,
    ActioValidationError,
    ApiMode,
    SentMessage,
    format_field_errors,
)
from .const import DOMAIN, LOGGER
from .guard import Skipped
from .history import now_iso
from .models import SendOutcome
from .phone import (
    MessageTooLongError,
    UnsupportedCharactersError,
    count_parts,
    is_polish_mobile,
    normalize_numbers,
)
from .runtime import ActioRuntimeData

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


def message_parts(runtime: ActioRuntimeData, message: str) -> int:
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


@dataclass
class SendBatch:
    """One message to a list of normalised numbers, and how each fared."""

    runtime: ActioRuntimeData
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


@dataclass(frozen=True, slots=True)
class SendResult:
    """What ACTIO accepted, and who was left out before sending."""

    sent: list[SendOutcome]
    skipped: list[Skipped]


async def async_send(
    runtime: ActioRuntimeData,
    recipients: Iterable[str],
    message: str,
    *,
    skip_repeats: bool = True,
) -> SendResult:
    """Send ``message`` to every recipient the spend guard lets through.

    Raises when any recipient failed, after logging those that were sent.
    ``skip_repeats`` off: an answer may repeat the last one (the cap holds).
    """
    numbers = validate_recipients(recipients)
    parts = message_parts(runtime, message)
    guard = runtime.guard
    guard.check_size(parts)
    skipped: list[Skipped] = []
    if skip_repeats:
        numbers, skipped = guard.split_duplicates(numbers, message)
    if not numbers:
        return SendResult([], skipped)
    # Refused whole here, before any request, if the parts would cross the cap.
    reservation = guard.reserve(numbers, message, parts)
    batch = SendBatch(runtime, message, numbers, parts)
    LOGGER.debug("Sending %s part(s) to %s: %s", parts, numbers, message)
    try:
        await batch.async_run()
    finally:
        runtime.hub.async_record_sent(batch.sent, message, now_iso())
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
