"""Asynchronous client for ACTIO's HTTP API (SMS API and 3CX API modes)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
import json
import time
from typing import Any, Final
import uuid

import aiohttp

from .errors import (
    ActioAnswerLostError,
    ActioAuthError,
    ActioConnectionError,
    ActioNoFundsError,
    ActioNotFoundError,
    ActioRateLimitError,
    ActioResponseError,
    ActioServerError,
    ActioValidationError,
    format_field_errors,
)
from .inbound import loads_tolerant
from .models import ApiMode, SentMessage, parse_message_id

DEFAULT_BASE_URL: Final = "https://msg-api.actio.pl"
DEFAULT_TIMEOUT: Final = 15.0
MAX_MULTI_RECIPIENTS: Final = 100

PATH_SMS: Final = "/api/sms"
PATH_TCX: Final = "/api/tcx"
# The spec names the bulk endpoint "/api/sms-mult" in one place and
# "/api/sms-multi" in its curl example; the client tries both (see below).
PATHS_MULTI: Final = ("/api/sms-multi", "/api/sms-mult")

RETRY_DELAYS: Final = (1.0, 2.0, 4.0)
"""Seconds before each retry of a request whose answer was lost (or 429);
a longer ``Retry-After`` (429 or 5xx) is waited instead."""
RETRY_BUDGET: Final = 30.0
"""No retry starts later than this many seconds after the first attempt."""
MAX_RETRY_AFTER: Final = 20.0
"""A longer Retry-After is not waited for: the send fails (or is unconfirmed)."""


def new_idempotency_key() -> str:
    """A key for one message request (UUID v4), kept before the request goes out."""
    return str(uuid.uuid4())


@dataclass(slots=True)
class _Answer:
    status: int
    data: Any
    headers: dict[str, str] = field(default_factory=dict)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Read a Retry-After header given in seconds or as an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except TypeError, ValueError:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _field_errors(data: Any) -> dict[str, list[str]]:
    """Extract ``errors.<field>`` lists, tolerating strings for lists."""
    if not isinstance(data, dict) or not isinstance(data.get("errors"), dict):
        return {}
    result: dict[str, list[str]] = {}
    for key, value in data["errors"].items():
        if isinstance(value, list):
            result[str(key)] = [str(item) for item in value]
        elif value is not None:
            result[str(key)] = [str(value)]
    return result


class ActioClient:
    """Client for ACTIO's HTTP API using an injected aiohttp session.

    Accepts both dialects ACTIO answers in (the v1.0 PDF and the live
    documentation): ids of any shape, 401 or 403 for a bad token, 402, 429.
    A message request carries an ``idempotency_key``; when its answer is lost
    (timeout, reset, 5xx) the same request is retried with the same key, a
    few times within ``RETRY_BUDGET`` seconds, and what stays unanswered
    raises ``ActioAnswerLostError`` (it may have gone out). No other 4xx is
    ever retried.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
        retry_delays: tuple[float, ...] | None = None,
    ) -> None:
        """Initialise the client; nothing is sent until a method is called."""
        self._session = session
        self._token = token
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._retry_delays = retry_delays
        self._multi_path = PATHS_MULTI[0]

    @property
    def multi_path(self) -> str:
        """The bulk endpoint path currently in use."""
        return self._multi_path

    async def check_credentials(
        self, sender: str, *, mode: ApiMode = ApiMode.SMS
    ) -> None:
        """Prove the token and sender are valid without sending an SMS.

        The probe posts a message with an empty body, which the spec forbids
        (body: minimum 1 character). A valid token and sender then get a 422
        that names only ``body``; a bad token gets 401/403 or ``errors.token``
        (ActioAuthError); a bad sender gets ``errors.from``
        (ActioValidationError). The probe is addressed to the sender itself,
        so even a server that accepted it would only text our own number.
        """
        if mode is ApiMode.TCX:
            path, payload = (
                PATH_TCX,
                {"from": f"+{sender}", "to": f"+{sender}", "text": ""},
            )
        else:
            path, payload = PATH_SMS, {"from": sender, "to": sender, "body": ""}
        try:
            await self._request(path, payload, retry_lost=False)
        except ActioValidationError as err:
            remaining = {
                k: v for k, v in err.errors.items() if k not in ("body", "text")
            }
            if remaining:
                raise ActioValidationError(remaining) from err

    async def send_sms(
        self,
        sender: str,
        recipient: str,
        body: str,
        *,
        idempotency_key: str | None = None,
        scheduled_at: str | None = None,
    ) -> SentMessage:
        """Send one SMS with ``POST /api/sms``.

        ``sender`` is the virtual number or a registered sender name;
        ``scheduled_at`` an ISO 8601 time with its UTC offset.
        """
        payload = self._message(sender, recipient, body, idempotency_key, scheduled_at)
        answer = await self._request(PATH_SMS, payload)
        data: dict[str, Any] = answer.data if isinstance(answer.data, dict) else {}
        message_id = parse_message_id(data.get("message_id")) or parse_message_id(
            data.get("id")
        )
        if message_id is None:
            raise ActioResponseError("Answer has no message_id", answer.status)
        return SentMessage(recipient, message_id)

    async def send_sms_multi(
        self,
        sender: str,
        recipients: list[str],
        body: str,
        *,
        idempotency_key: str | None = None,
        scheduled_at: str | None = None,
    ) -> list[SentMessage]:
        """Send one SMS to up to 100 unique numbers with the bulk endpoint.

        On a 404 (nothing sent) the other spelling of the endpoint is tried
        once and the one that works is remembered.
        """
        if not 1 <= len(recipients) <= MAX_MULTI_RECIPIENTS:
            msg = f"sms-multi takes 1..{MAX_MULTI_RECIPIENTS} recipients"
            raise ValueError(msg)
        if len(set(recipients)) != len(recipients):
            msg = "sms-multi recipients must be unique"
            raise ValueError(msg)
        payload = self._message(sender, recipients, body, idempotency_key, scheduled_at)
        try:
            answer = await self._request(self._multi_path, payload)
        except ActioNotFoundError:
            other = next(p for p in PATHS_MULTI if p != self._multi_path)
            answer = await self._request(other, payload)
            self._multi_path = other
        return self._parse_multi(answer, recipients)

    async def send_3cx(self, sender: str, recipient: str, text: str) -> SentMessage:
        """Send one SMS through the 3CX endpoint (Telnyx-style body).

        Telnyx-style bodies have no idempotency key, so a lost answer is not
        retried here: it is unconfirmed at once.
        """
        answer = await self._request(
            PATH_TCX,
            {"from": f"+{sender}", "to": f"+{recipient}", "text": text},
            retry_lost=False,
        )
        data: dict[str, Any] = answer.data if isinstance(answer.data, dict) else {}
        inner: dict[str, Any] = (
            data["data"] if isinstance(data.get("data"), dict) else {}
        )
        message_id = (
            parse_message_id(data.get("message_id"))
            or parse_message_id(inner.get("id"))
            or parse_message_id(data.get("id"))
        )
        return SentMessage(recipient, message_id)

    @staticmethod
    def _message(
        sender: str,
        to: str | list[str],
        body: str,
        idempotency_key: str | None,
        scheduled_at: str | None,
    ) -> dict[str, Any]:
        """A message request's JSON: only the fields that have a value."""
        payload: dict[str, Any] = {
            "from": sender,
            "to": to,
            "body": body,
            "idempotency_key": idempotency_key or new_idempotency_key(),
        }
        if scheduled_at is not None:
            payload["scheduled_at"] = scheduled_at
        return payload

    @staticmethod
    def _parse_multi(answer: _Answer, recipients: list[str]) -> list[SentMessage]:
        """The ids of an sms-multi answer; recipients it does not name are left out.

        The caller decides what a missing one is (ACTIO accepted the request:
        it may have gone out).
        """
        items = (
            answer.data.get("message_ids") if isinstance(answer.data, dict) else None
        )
        if not isinstance(items, list):
            raise ActioResponseError("Answer has no message_ids list", answer.status)
        wanted = set(recipients)
        found: dict[str, str] = {}
        for item in items:
            if not isinstance(item, dict):
                continue
            number = "".join(ch for ch in str(item.get("number", "")) if ch.isdigit())
            message_id = parse_message_id(item.get("message_id")) or parse_message_id(
                item.get("id")
            )
            if number in wanted and message_id is not None:
                found[number] = message_id
        if not found:
            raise ActioResponseError(
                "Answer names none of the recipients", answer.status
            )
        return [
            SentMessage(number, found[number])
            for number in recipients
            if number in found
        ]

    async def _request(
        self, path: str, payload: dict[str, Any], *, retry_lost: bool = True
    ) -> _Answer:
        """POST, retrying what is safe to retry; raise the client's errors.

        Safe: a connection that never opened (nothing was sent), a 429 (not
        accepted), and, with ``retry_lost``, a lost answer (the request
        carries its idempotency key, so ACTIO sends it at most once).
        """
        deadline = time.monotonic() + RETRY_BUDGET
        delays = iter(self._retry_delays or RETRY_DELAYS)
        refused = False
        while True:
            try:
                return await self._attempt(path, payload)
            except (ActioAnswerLostError, ActioRateLimitError) as err:
                lost = isinstance(err, ActioAnswerLostError)
                if lost and not retry_lost:
                    raise
                wait = next(delays, None)
                hint = getattr(err, "retry_after", None)
                if wait is not None and hint is not None:
                    wait = max(wait, hint) if hint <= MAX_RETRY_AFTER else None
                if wait is None or time.monotonic() + wait > deadline:
                    raise
                await asyncio.sleep(wait)
            except _NotConnectedError as err:
                # Nothing was sent: one more attempt at once is safe and cheap.
                if refused:
                    raise ActioConnectionError(str(err)) from err.__cause__
                refused = True

    async def _attempt(self, path: str, payload: dict[str, Any]) -> _Answer:
        """One POST and its answer, as the client's exceptions."""
        url = f"{self._base_url}{path}"
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
        }
        key = payload.get("idempotency_key")
        try:
            async with (
                asyncio.timeout(self._timeout),
                self._session.post(
                    url, json=payload, headers=headers, allow_redirects=False
                ) as resp,
            ):
                raw = await resp.read()
                answer = _Answer(resp.status, None, dict(resp.headers))
        except aiohttp.ClientConnectorError as err:
            raise _NotConnectedError(f"Cannot connect to ACTIO: {err}") from err
        except TimeoutError as err:
            raise ActioAnswerLostError("Timed out waiting for ACTIO", key) from err
        except aiohttp.ClientError as err:
            raise ActioAnswerLostError(f"Error talking to ACTIO: {err}", key) from err
        try:
            answer.data = loads_tolerant(raw) if raw.strip() else None
        except UnicodeDecodeError, json.JSONDecodeError:
            if 200 <= answer.status < 300:
                raise ActioResponseError("Answer is not JSON", answer.status) from None
        return self._check(answer, key)

    @staticmethod
    def _check(answer: _Answer, key: str | None) -> _Answer:
        status = answer.status
        errors = _field_errors(answer.data)
        if 200 <= status < 300:
            return answer
        if status in (401, 403) or "token" in errors:
            raise ActioAuthError(
                format_field_errors(errors) or f"Authorization failed ({status})"
            )
        if status == 402:
            raise ActioNoFundsError("No funds left on the ACTIO account")
        if status == 422:
            raise ActioValidationError(errors)
        retry_after = parse_retry_after(answer.headers.get("Retry-After"))
        if status == 429:
            raise ActioRateLimitError(retry_after)
        if status == 404:
            raise ActioNotFoundError("Endpoint not found", status)
        if status >= 500:
            raise ActioServerError(status, key, retry_after)
        raise ActioResponseError(f"Unexpected status {status}", status)


class _NotConnectedError(Exception):
    """The connection never opened: nothing was sent."""
