"""Sending: validate everything first, then bulk or bounded single sends."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .api import (
    MAX_MULTI_RECIPIENTS,
    ActioAuthError,
    ActioConnectionError,
    ActioError,
    ActioRateLimitError,
    ActioServerError,
    ActioValidationError,
    ApiMode,
    SentMessage,
    format_field_errors,
)
from .const import DOMAIN
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


def validate_recipients(recipients: Iterable[str]) -> list[str]:
    """Normalise and deduplicate, or raise naming every bad number."""
    result = normalize_numbers([str(r) for r in recipients])
    if result.invalid:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_numbers",
            translation_placeholders={
                "numbers": ", ".join(
                    f"{e.number} ({e.problem})" for e in result.invalid
                )
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
        return count_parts(message, runtime.encoding)
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


async def async_send(
    runtime: ActioRuntimeData, recipients: Iterable[str], message: str
) -> list[SendOutcome]:
    """Send ``message`` to every recipient; return one outcome per recipient.

    Raises when any recipient failed, after logging those that were sent.
    """
    numbers = validate_recipients(recipients)
    parts = message_parts(runtime, message)
    sender = runtime.sender
    client = runtime.client
    outcomes: dict[str, SendOutcome] = {}
    errors: dict[str, ActioError] = {}
    stop: list[ActioError] = []

    def accepted(sent: list[SentMessage]) -> None:
        for item in sent:
            outcomes[item.recipient] = SendOutcome(
                item.recipient, item.message_id, parts
            )

    async def send_one(number: str, gate: asyncio.Semaphore) -> None:
        async with gate:
            if stop:
                # After an auth or rate-limit error the rest would fail alike.
                errors[number] = stop[0]
                return
            try:
                if runtime.mode is ApiMode.TCX:
                    sent = await client.send_3cx(sender, number, message)
                else:
                    sent = await client.send_sms(sender, number, message)
            except (ActioAuthError, ActioRateLimitError) as err:
                stop.append(err)
                errors[number] = err
            except ActioError as err:
                errors[number] = err
            else:
                accepted([sent])

    async def send_chunk(chunk: list[str]) -> None:
        if stop:
            errors.update(dict.fromkeys(chunk, stop[0]))
            return
        try:
            accepted(await client.send_sms_multi(sender, chunk, message))
        except (ActioAuthError, ActioRateLimitError) as err:
            stop.append(err)
            errors.update(dict.fromkeys(chunk, err))
        except ActioError as err:
            errors.update(dict.fromkeys(chunk, err))
        else:
            missing = [n for n in chunk if n not in outcomes]
            if missing:
                errors.update(
                    dict.fromkeys(missing, ActioError("no message id returned"))
                )

    singles = numbers
    if runtime.bulk and len(numbers) > 1:
        # The bulk endpoint takes Polish mobiles only; others go one by one.
        mobile = {n for n in numbers if is_polish_mobile(n)}
        bulk = [n for n in numbers if n in mobile]
        singles = [n for n in numbers if n not in mobile]
        for start in range(0, len(bulk), MAX_MULTI_RECIPIENTS):
            await send_chunk(bulk[start : start + MAX_MULTI_RECIPIENTS])
    if singles:
        gate = asyncio.Semaphore(max(1, runtime.concurrency))
        await asyncio.gather(*(send_one(n, gate) for n in singles))

    sent_at = now_iso()
    ordered = [outcomes[n] for n in numbers if n in outcomes]
    runtime.async_record_sent(ordered, message, sent_at)
    if errors:
        runtime.last_error = type(next(iter(errors.values()))).__name__
        raise _send_error(runtime, ordered, errors)
    return ordered


def _send_error(
    runtime: ActioRuntimeData, sent: list[SendOutcome], errors: dict[str, ActioError]
) -> HomeAssistantError:
    """The exception for a send in which some or all recipients failed."""
    first = next(iter(errors.values()))
    if isinstance(first, ActioAuthError):
        runtime.entry.async_start_reauth(runtime.hass)
    if sent:
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="partial_failure",
            translation_placeholders={
                "sent": ", ".join(f"{o.recipient} ({o.message_id})" for o in sent),
                "failed": ", ".join(f"{n} ({_reason(e)})" for n, e in errors.items()),
            },
        )
    return map_error(first)


def _reason(err: ActioError) -> str:
    if isinstance(err, ActioValidationError):
        return format_field_errors(err.errors)
    return (
        type(err).__name__.removeprefix("Actio").removesuffix("Error").lower()
        or "error"
    )


def map_error(err: ActioError) -> HomeAssistantError:
    """Translate a client error for a user."""
    if isinstance(err, ActioAuthError):
        return HomeAssistantError(
            translation_domain=DOMAIN, translation_key="auth_failed"
        )
    if isinstance(err, ActioValidationError):
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="rejected",
            translation_placeholders={"errors": format_field_errors(err.errors)},
        )
    if isinstance(err, ActioRateLimitError):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="rate_limited",
            translation_placeholders={
                "retry_after": str(round(err.retry_after))
                if err.retry_after is not None
                else "?"
            },
        )
    if isinstance(err, ActioServerError):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="server_error",
            translation_placeholders={"status": str(err.status)},
        )
    if isinstance(err, ActioConnectionError):
        return HomeAssistantError(
            translation_domain=DOMAIN, translation_key="cannot_connect"
        )
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="unexpected_response",
        translation_placeholders={"error": str(err)},
    )
