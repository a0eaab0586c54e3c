"""Asynchronous client for ACTIO's HTTP API (SMS API and 3CX API modes)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
import json
import time
from typing import Any, Final

import aiohttp

from .errors import (
    ActioAuthError,
    ActioConnectionError,
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
    """Client for ACTIO's HTTP API using an injected aiohttp session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Initialise the client; nothing is sent until a method is called."""
        self._session = session
        self._token = token
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
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
        that names only ``body``; a bad token gets 403 or ``errors.token``
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
            await self._request(path, payload)
        except ActioValidationError as err:
            remaining = {
                k: v for k, v in err.errors.items() if k not in ("body", "text")
            }
            if remaining:
                raise ActioValidationError(remaining) from err

    async def send_sms(self, sender: str, recipient: str, body: str) -> SentMessage:
        """Send one SMS with ``POST /api/sms``."""
        answer = await self._request(
            PATH_SMS, {"from": sender, "to": recipient, "body": body}
        )
        message_id = (
            parse_message_id(answer.data.get("message_id"))
            if isinstance(answer.data, dict)
            else None
        )
        if message_id is None:
            raise ActioResponseError("Answer has no message_id", answer.status)
        return SentMessage(recipient, message_id)

    async def send_sms_multi(
        self, sender: str, recipients: list[str], body: str
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
        payload = {"from": sender, "to": recipients, "body": body}
        try:
            answer = await self._request(self._multi_path, payload)
        except ActioNotFoundError:
            other = next(p for p in PATHS_MULTI if p != self._multi_path)
            answer = await self._request(other, payload)
            self._multi_path = other
        return self._parse_multi(answer, recipients)

    async def send_3cx(self, sender: str, recipient: str, text: str) -> SentMessage:
        """Send one SMS through the 3CX endpoint (Telnyx-style body)."""
        answer = await self._request(
            PATH_TCX, {"from": f"+{sender}", "to": f"+{recipient}", "text": text}
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
    def _parse_multi(answer: _Answer, recipients: list[str]) -> list[SentMessage]:
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
            message_id = parse_message_id(item.get("message_id"))
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

    async def _request(self, path: str, payload: dict[str, Any]) -> _Answer:
        """POST once; a request that may have reached ACTIO is never retried."""
        url = f"{self._base_url}{path}"
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
        }
        for attempt in (1, 2):
            try:
                async with (
                    asyncio.timeout(self._timeout),
                    self._session.post(
                        url, json=payload, headers=headers, allow_redirects=False
                    ) as resp,
                ):
                    raw = await resp.read()
                    answer = _Answer(resp.status, None, dict(resp.headers))
                    break
            except aiohttp.ClientConnectorError as err:
                # Connecting failed, so nothing was sent: one retry is safe.
                if attempt == 2:
                    raise ActioConnectionError(
                        f"Cannot connect to ACTIO: {err}"
                    ) from err
            except TimeoutError as err:
                raise ActioConnectionError("Timed out talking to ACTIO") from err
            except aiohttp.ClientError as err:
                raise ActioConnectionError(f"Error talking to ACTIO: {err}") from err
        try:
            answer.data = loads_tolerant(raw) if raw.strip() else None
        except UnicodeDecodeError, json.JSONDecodeError:
            answer.data = None
            if 200 <= answer.status < 300:
                raise ActioResponseError("Answer is not JSON", answer.status) from None
        return self._check(answer)

    @staticmethod
    def _check(answer: _Answer) -> _Answer:
        status = answer.status
        errors = _field_errors(answer.data)
        if 200 <= status < 300:
            return answer
        if status in (401, 403) or "token" in errors:
            raise ActioAuthError(
                format_field_errors(errors) or f"Authorization failed ({status})"
            )
        if status == 422:
            raise ActioValidationError(errors)
        if status == 429:
            raise ActioRateLimitError(
                parse_retry_after(answer.headers.get("Retry-After"))
            )
        if status == 404:
            raise ActioNotFoundError("Endpoint not found", status)
        if status >= 500:
            raise ActioServerError(status)
        raise ActioResponseError(f"Unexpected status {status}", status)
