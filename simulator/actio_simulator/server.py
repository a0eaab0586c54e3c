"""An ACTIO SMS API simulator: a real HTTP server that behaves as the spec says.

Choices where the spec is silent (documented in the README):
- sms-multi on a token without bulk sending: 422 ``errors.to``.
- The 3CX endpoint answers like Telnyx: ``{"data": {"id": ..., ...}}``; its
  validation errors use the SMS API's 422 shape with the field ``text``.
- A 3CX-mode token may also use ``/api/sms`` (the spec requires both options
  enabled for 3CX); an SMS-mode token gets 403 on ``/api/tcx``.

Two dialects (``SimState.dialect``): ``v1`` is the v1.0 PDF; ``live`` is ACTIO's
current documentation (``msg_`` ULID ids, 401 for a bad token, ``status`` in
the send answer, ``event`` status webhooks). ``idempotency_key``,
``scheduled_at``, sender names and the 10-part limit apply in both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
import json
import logging
import math
from pathlib import Path
import re
import secrets
import time
from typing import Any
import uuid

from aiohttp import ClientError, ClientSession, ClientTimeout, web
import phonenumbers

_LOGGER = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
FAULTS = (
    "401",
    "402",
    "403",
    "422",
    "429",
    "500",
    "lost_answer",
    "timeout",
    "reset",
    "non_json",
)
DIALECTS = ("v1", "live")
MULTI_PATHS = {"multi": "/api/sms-multi", "mult": "/api/sms-mult"}
MAX_PARTS = 10
# Delivery statuses: what /_sim/deliver accepts -> the outbox's status.
STATUSES = {
    "DELIVERED": "delivered",
    "ERROR": "failed",
    "delivered": "delivered",
    "failed": "failed",
    "expired": "expired",
    "bounced": "bounced",
}
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
UUID4 = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
    re.IGNORECASE,
)
SENDER_NAME = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 .\-]{1,11}$")


@dataclass
class Token:
    """A token known to the simulator."""

    senders: list[str]
    mode: str = "sms"
    multi: bool = True
    sender_names: list[str] = field(default_factory=list)
    """Registered alphanumeric sender names (``from`` may be one of them)."""


@dataclass
class OutboxItem:
    """One SMS the simulator accepted."""

    message_id: str
    sender: str
    recipient: str
    body: str
    parts: int
    endpoint: str
    sent_at: str
    status: str = "pending"
    """pending, delivered, failed, expired or bounced."""
    scheduled_at: str | None = None
    idempotency_key: str | None = None
    manual: bool = False
    """The status was set by hand (/_sim/deliver): auto delivery leaves it."""


@dataclass
class SimState:
    """Everything mutable about a running simulator."""

    tokens: dict[str, Token]
    webhook_url: str | None = None
    multi_path: str = "multi"
    latency: float = 0.0
    fault: str | None = None
    fault_count: int | None = None
    retry_after: int | None = 7
    multi_answer_limit: int | None = None
    """Name only this many ids in sms-multi answers (all are still sent)."""
    fault_after: int = 0
    """API requests answered normally before the fault starts."""
    fault_errors: dict[str, list[str]] | None = None
    """The ``errors`` of the 422 fault (default: one about ``to``)."""
    auto_deliver: float | None = None
    dialect: str = "v1"
    """``v1`` (the v1.0 PDF) or ``live`` (ACTIO's current documentation)."""
    outbox: list[OutboxItem] = field(default_factory=list)
    answers: dict[tuple[str, str], tuple[int, dict[str, Any]]] = field(
        default_factory=dict
    )
    """First answers by (token, idempotency_key)."""
    requests: list[dict[str, Any]] = field(default_factory=list)
    inflight: int = 0
    max_inflight: int = 0


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _numeric(value: Any) -> bool:
    return isinstance(value, str) and value.isdigit() and 9 <= len(value) <= 11


def _polish_mobile(number: str) -> bool:
    try:
        parsed = phonenumbers.parse(f"+{number}")
    except phonenumbers.NumberParseException:
        return False
    return parsed.country_code == 48 and phonenumbers.number_type(parsed) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def _utc_now() -> str:
    """Now as ACTIO's live webhooks write it: ``2026-12-02T10:00:00Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ulid() -> str:
    """A ULID: 48 bits of milliseconds + 80 random bits, Crockford base32."""
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def _scheduled_at(value: Any) -> datetime | None:
    """An ISO 8601 date and time with an offset, else None."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def parts_ucs2(body: str) -> int:
    """Parts of a UCS-2 message split every 60 UTF-16 units."""
    return max(1, math.ceil(len(body.encode("utf-16-le")) // 2 / 60))


def _errors(status: int, **fields: list[str]) -> web.Response:
    return web.json_response({"errors": fields}, status=status)


class Simulator:
    """The ACTIO simulator's behaviour, independent of how it is served."""

    def __init__(self, state: SimState) -> None:
        """Wrap the state."""
        self.state = state
        self._release = asyncio.Event()
        self._session: ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- API -------------------------------------------------------------

    async def _api(
        self, request: web.Request
    ) -> tuple[Token | None, Any, web.Response | None]:
        """Common front of every API call: latency, faults, auth, JSON."""
        st = self.state
        if st.latency:
            await asyncio.sleep(st.latency)
        if st.fault and st.fault_after > 0:
            st.fault_after -= 1
        elif st.fault and st.fault_count != 0:
            if st.fault_count is not None:
                st.fault_count -= 1
            if st.fault == "lost_answer":
                request["lost_answer"] = True  # the _track middleware loses it
            else:
                return None, None, await self._fault(request, st.fault)
        auth = request.headers.get("Authorization", "")
        secret = auth.removeprefix("Bearer ").strip()
        token = st.tokens.get(secret) if auth.startswith("Bearer ") else None
        if token is None:
            return None, None, self._bad_token()
        request["token"] = secret
        try:
            data = json.loads(await request.read())
        except ValueError, UnicodeDecodeError:
            return token, None, _errors(422, body=["Invalid JSON"])
        if not isinstance(data, dict):
            return token, None, _errors(422, body=["Invalid JSON"])
        request["to"] = data.get("to")  # for the request log
        return token, data, None

    def _bad_token(self) -> web.Response:
        """v1.0: 403 with ``errors.token``; live: 401 (same body)."""
        status = 401 if self.state.dialect == "live" else 403
        return _errors(status, token=["Invalid token"])

    async def _fault(self, request: web.Request, fault: str) -> web.Response:
        if fault in ("401", "403"):
            return _errors(int(fault), token=["Invalid token"])
        if fault == "402":
            return web.json_response({"error": "insufficient funds"}, status=402)
        if fault == "422":
            return _errors(
                422, **(self.state.fault_errors or {"to": ["The to field is invalid."]})
            )
        if fault == "429":
            return web.json_response(
                {"message": "Too Many Attempts."},
                status=429,
                headers={}
                if self.state.retry_after is None
                else {"Retry-After": str(self.state.retry_after)},
            )
        if fault == "500":
            return web.Response(status=500, text="Internal Server Error")
        if fault == "non_json":
            return web.Response(
                status=200, text="<html>OK</html>", content_type="text/html"
            )
        if fault == "timeout":
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(30):
                    await self._release.wait()
            return web.Response(status=504)
        # reset: drop the connection without an answer
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError

    def _validate(
        self, token: Token, data: dict[str, Any], body_key: str = "body"
    ) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        sender = data.get("from")
        if _numeric(sender):
            if sender not in token.senders:
                errors["from"] = ["The selected from is invalid."]
        elif isinstance(sender, str) and SENDER_NAME.match(sender):
            if sender not in token.sender_names:
                errors["from"] = ["The sender name is not registered."]
        else:
            errors["from"] = ["The from field must be 9 to 11 digits."]
        body = data.get(body_key)
        if not isinstance(body, str) or not body:
            errors[body_key] = [f"The {body_key} field is required."]
        elif parts_ucs2(body) > MAX_PARTS:
            errors[body_key] = [f"The {body_key} may not be longer than 10 parts."]
        return errors

    def _options(self, data: dict[str, Any]) -> dict[str, list[str]]:
        """Errors of the optional ``idempotency_key`` and ``scheduled_at``."""
        errors: dict[str, list[str]] = {}
        key = data.get("idempotency_key")
        if key is not None and not (isinstance(key, str) and UUID4.match(key)):
            errors["idempotency_key"] = ["The idempotency key must be a UUID v4."]
        when = data.get("scheduled_at")
        if when is not None and _scheduled_at(when) is None:
            errors["scheduled_at"] = [
                "The scheduled at must be an ISO 8601 date and time with an offset."
            ]
        return errors

    def _replay(
        self, request: web.Request, data: dict[str, Any]
    ) -> web.Response | None:
        """The first answer to this request's ``idempotency_key``, if any."""
        key = data.get("idempotency_key")
        first = self.state.answers.get((request["token"], key)) if key else None
        return None if first is None else web.json_response(first[1], status=first[0])

    def _answer(
        self, request: web.Request, data: dict[str, Any], answer: dict[str, Any]
    ) -> web.Response:
        """A 200 answer, kept for a retry with the same ``idempotency_key``."""
        if key := data.get("idempotency_key"):
            self.state.answers[request["token"], key] = (200, answer)
        return web.json_response(answer)

    def _new_id(self) -> str:
        if self.state.dialect == "live":
            return f"msg_{ulid()}"
        return secrets.token_hex(8)

    def _accept(
        self,
        sender: str,
        recipient: str,
        body: str,
        endpoint: str,
        data: dict[str, Any] | None = None,
    ) -> OutboxItem:
        data = data or {}
        item = OutboxItem(
            message_id=self._new_id(),
            sender=sender,
            recipient=recipient,
            body=body,
            parts=parts_ucs2(body),
            endpoint=endpoint,
            sent_at=_now(),
            scheduled_at=data.get("scheduled_at"),
            idempotency_key=data.get("idempotency_key"),
        )
        self.state.outbox.append(item)
        if self.state.auto_deliver is not None:
            delay = self.state.auto_deliver
            if when := _scheduled_at(item.scheduled_at):
                # Sent at the scheduled time, delivered the usual delay later.
                delay += max(0.0, (when - datetime.now(UTC)).total_seconds())
            self._spawn(self._auto_deliver(item, delay))
        return item

    async def handle_sms(self, request: web.Request) -> web.Response:
        """POST /api/sms."""
        token, data, error = await self._api(request)
        if error or token is None:
            return error or self._bad_token()
        errors = self._options(data)
        if not errors and (first := self._replay(request, data)):
            return first
        errors |= self._validate(token, data)
        if not _numeric(data.get("to")):
            errors["to"] = ["The to field must be 9 to 11 digits."]
        if errors:
            return _errors(422, **errors)
        item = self._accept(data["from"], data["to"], data["body"], "sms", data)
        answer: dict[str, Any] = {"message_id": item.message_id}
        if self.state.dialect == "live":
            answer["status"] = "queued"
        return self._answer(request, data, answer)

    async def handle_multi(self, request: web.Request) -> web.Response:
        """POST /api/sms-multi (or /api/sms-mult): all or nothing."""
        token, data, error = await self._api(request)
        if error or token is None:
            return error or self._bad_token()
        errors = self._options(data)
        if not errors and (first := self._replay(request, data)):
            return first
        errors |= self._validate(token, data)
        to = data.get("to")
        if not token.multi:
            errors["to"] = ["Bulk sending is not enabled for this token."]
        elif not isinstance(to, list) or not 1 <= len(to) <= 100:
            errors["to"] = ["The to field must have 1 to 100 items."]
        elif not all(_numeric(n) and _polish_mobile(n) for n in to):
            errors["to"] = ["Every number must be a valid Polish mobile number."]
        elif len(set(to)) != len(to):
            errors["to"] = ["The to field has duplicate values."]
        if errors:
            return _errors(422, **errors)
        items = [
            self._accept(data["from"], n, data["body"], "sms-multi", data) for n in to
        ]
        named = items[: self.state.multi_answer_limit]
        return self._answer(
            request,
            data,
            {
                "message_ids": [
                    {"number": i.recipient, "message_id": i.message_id} for i in named
                ]
            },
        )

    async def handle_tcx(self, request: web.Request) -> web.Response:
        """POST /api/tcx: 3CX's generic provider, Telnyx-style."""
        token, data, error = await self._api(request)
        if error or token is None:
            return error or self._bad_token()
        if token.mode != "3cx":
            return _errors(403, token=["3CX API is not enabled for this token."])
        fixed = dict(data)
        for key in ("from", "to"):
            value = fixed.get(key)
            fixed[key] = value.removeprefix("+") if isinstance(value, str) else value
        errors = self._validate(token, fixed, body_key="text")
        if not _numeric(fixed.get("to")):
            errors["to"] = ["The to field must be 9 to 11 digits."]
        if errors:
            return _errors(422, **errors)
        item = self._accept(fixed["from"], fixed["to"], fixed["text"], "tcx")
        return web.json_response(
            {
                "data": {
                    "record_type": "message",
                    "id": item.message_id,
                    "from": {
                        "phone_number": f"+{item.sender}"
                        if item.sender.isdigit()
                        else item.sender
                    },
                    "to": [{"phone_number": f"+{item.recipient}", "status": "queued"}],
                    "text": item.body,
                    "parts": item.parts,
                }
            }
        )

    # -- deliveries to the webhook ---------------------------------------

    def inbound_payload(
        self, sender: str, recipient: str, body: str, fmt: str
    ) -> dict[str, Any]:
        """An inbound SMS as ACTIO (sms) or 3CX's provider (3cx) posts it.

        ``odd`` is a shape no dialect knows, for quarantine tests.
        """
        if fmt == "odd":
            return {
                "kind": "inbound",
                "payload": {
                    "sender": sender,
                    "recipient": recipient,
                    "text": body,
                    "at": _now(),
                },
            }
        if fmt == "3cx":
            return {
                "data": {
                    "event_type": "message.received",
                    "id": str(uuid.uuid4()),
                    "occurred_at": _now(),
                    "payload": {
                        "text": body,
                        "from": {
                            "phone_number": f"+{sender}" if sender.isdigit() else sender
                        },
                        "to": [{"phone_number": f"+{recipient}"}],
                        "received_at": _now(),
                    },
                }
            }
        return {"type": "MESSAGE", "from": sender, "to": recipient, "body": body}

    def delivery_payload(
        self,
        message_id: str,
        status: str,
        fmt: str,
        dialect: str = "v1",
        reason: str | None = None,
    ) -> dict[str, Any]:
        """A delivery report for ``message_id``; ``status`` as in the outbox.

        3CX (``fmt`` 3cx) and v1.0 know only delivered or not; the live
        dialect posts ``sms.<status>`` events.
        """
        delivered = status == "delivered"
        item = self._find(message_id)
        if fmt == "3cx":
            return {
                "data": {
                    "event_type": "message.finalized",
                    "id": str(uuid.uuid4()),
                    "occurred_at": _now(),
                    "payload": {
                        "id": message_id,
                        "to": [
                            {
                                "phone_number": f"+{item.recipient}" if item else "",
                                "status": "delivered"
                                if delivered
                                else "sending_failed",
                            }
                        ],
                    },
                }
            }
        if dialect == "live":
            event: dict[str, Any] = {
                "event": f"sms.{status}",
                "message_id": message_id,
                "to": item.recipient if item else "",
            }
            if delivered:
                event |= {
                    "delivered_at": _utc_now(),
                    "operator": "Plus",
                    "segments": item.parts if item else 1,
                }
            elif reason or status == "failed":
                event["reason"] = reason or "undeliverable"
            return event
        return {
            "type": "NOTIFICATION",
            "message_id": message_id,
            "status": "DELIVERED" if delivered else "ERROR",
        }

    def _find(self, message_id: str) -> OutboxItem | None:
        return next((i for i in self.state.outbox if i.message_id == message_id), None)

    async def post_webhook(self, payload: dict[str, Any]) -> int | None:
        """POST a payload to the webhook once, as ACTIO does; return the status."""
        url = self.state.webhook_url
        if not url:
            return None
        if self._session is None:
            self._session = ClientSession(timeout=ClientTimeout(total=10))
        try:
            async with self._session.post(
                url, json=payload, allow_redirects=False
            ) as resp:
                await resp.read()
                return resp.status
        except (ClientError, TimeoutError) as err:
            _LOGGER.warning("Webhook delivery failed: %s", err)
            return None

    async def _auto_deliver(self, item: OutboxItem, delay: float) -> None:
        await asyncio.sleep(delay)
        if item.manual:  # marked by hand meanwhile: that report stands
            return
        item.status = "delivered"
        fmt = "3cx" if item.endpoint == "tcx" else "sms"
        await self.post_webhook(
            self.delivery_payload(item.message_id, "delivered", fmt, self.state.dialect)
        )

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- control API -----------------------------------------------------

    async def handle_inbound(self, request: web.Request) -> web.Response:
        """POST /_sim/inbound: {from, to?, body, format?} → the webhook."""
        data = await request.json()
        sender = str(data.get("from", "48600100200"))
        recipient = str(
            data.get("to") or next(iter(self.state.tokens.values())).senders[0]
        )
        payload = self.inbound_payload(
            sender, recipient, str(data.get("body", "")), data.get("format") or "sms"
        )
        status = await self.post_webhook(payload)
        return web.json_response({"webhook_status": status, "payload": payload})

    async def handle_deliver(self, request: web.Request) -> web.Response:
        """POST /_sim/deliver: a delivery report, set by hand.

        {message_id, status?, reason?, format?, dialect?}; status is one of
        DELIVERED, ERROR, delivered, failed, expired, bounced.
        """
        data = await request.json()
        message_id = str(data.get("message_id", ""))
        status = STATUSES.get(str(data.get("status", "DELIVERED")))
        dialect = data.get("dialect") or self.state.dialect
        if status is None or dialect not in DIALECTS:
            return web.json_response(
                {
                    "error": f"status must be one of {tuple(STATUSES)}, "
                    f"dialect one of {DIALECTS}"
                },
                status=400,
            )
        item = self._find(message_id)
        fmt = data.get("format") or (
            "3cx" if item and item.endpoint == "tcx" else "sms"
        )
        if item:
            item.status = status
            item.manual = True
        reason = data.get("reason")
        payload = self.delivery_payload(
            message_id, status, fmt, dialect, str(reason) if reason else None
        )
        answered = await self.post_webhook(payload)
        return web.json_response({"webhook_status": answered, "payload": payload})

    async def handle_outbox(self, _request: web.Request) -> web.Response:
        """GET /_sim/outbox."""
        return web.json_response([asdict(i) for i in self.state.outbox])

    async def handle_requests(self, _request: web.Request) -> web.Response:
        """GET /_sim/requests: every API request seen, and peak concurrency."""
        return web.json_response(
            {"requests": self.state.requests, "max_inflight": self.state.max_inflight}
        )

    async def handle_config(self, request: web.Request) -> web.Response:
        """GET or POST /_sim/config: webhook, latency, faults, auto delivery."""
        st = self.state
        if request.method == "POST":
            data = await request.json()
            for key in (
                "webhook_url",
                "latency",
                "fault",
                "fault_count",
                "fault_after",
                "fault_errors",
                "retry_after",
                "auto_deliver",
                "multi_path",
            ):
                if key in data:
                    setattr(st, key, data[key])
            if "dialect" in data:
                if data["dialect"] not in DIALECTS:
                    return web.json_response(
                        {"error": f"dialect must be one of {DIALECTS}"}, status=400
                    )
                st.dialect = data["dialect"]
            if st.fault is not None and st.fault not in FAULTS:
                st.fault = None
                return web.json_response(
                    {"error": f"fault must be one of {FAULTS}"}, status=400
                )
        return web.json_response(
            {
                "webhook_url": st.webhook_url,
                "latency": st.latency,
                "fault": st.fault,
                "fault_count": st.fault_count,
                "fault_after": st.fault_after,
                "retry_after": st.retry_after,
                "auto_deliver": st.auto_deliver,
                "multi_path": MULTI_PATHS[st.multi_path],
                "dialect": st.dialect,
                "senders": sorted({s for t in st.tokens.values() for s in t.senders}),
                "sender_names": sorted(
                    {n for t in st.tokens.values() for n in t.sender_names}
                ),
            }
        )

    async def handle_reset(self, _request: web.Request) -> web.Response:
        """POST /_sim/reset: clear the outbox, the request log and faults."""
        self.reset()
        return web.json_response({"ok": True})

    def reset(self) -> None:
        """Forget sent messages, requests and faults."""
        st = self.state
        st.outbox.clear()
        st.requests.clear()
        st.answers.clear()
        st.fault = None
        st.fault_count = None
        st.latency = 0.0
        st.max_inflight = 0

    async def handle_page(self, _request: web.Request) -> web.FileResponse:
        """GET /: the phone page."""
        return web.FileResponse(STATIC / "phone.html")

    @web.middleware
    async def _track(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        if not request.path.startswith("/api/"):
            return await handler(request)
        st = self.state
        # The key of every request, faulted ones too (the body is cached).
        with contextlib.suppress(ValueError, UnicodeDecodeError, AttributeError):
            request["idempotency_key"] = json.loads(await request.read()).get(
                "idempotency_key"
            )
        st.inflight += 1
        st.max_inflight = max(st.max_inflight, st.inflight)
        started = time.monotonic()
        status = 0
        try:
            response = await handler(request)
            if request.get("lost_answer"):
                # Processed (maybe accepted), but the answer never arrives.
                response = web.Response(status=500, text="Internal Server Error")
        except web.HTTPException as exc:
            status = exc.status
            raise
        else:
            status = response.status
            return response
        finally:
            st.inflight -= 1
            st.requests.append(
                {
                    "path": request.path,
                    "status": status,
                    "to": request.get("to"),
                    "idempotency_key": request.get("idempotency_key"),
                    "ms": round((time.monotonic() - started) * 1000, 1),
                }
            )

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(middlewares=[self._track])
        app.router.add_post("/api/sms", self.handle_sms)
        app.router.add_post(MULTI_PATHS[self.state.multi_path], self.handle_multi)
        app.router.add_post("/api/tcx", self.handle_tcx)
        app.router.add_get("/_sim/outbox", self.handle_outbox)
        app.router.add_get("/_sim/requests", self.handle_requests)
        app.router.add_route("*", "/_sim/config", self.handle_config)
        app.router.add_post("/_sim/inbound", self.handle_inbound)
        app.router.add_post("/_sim/deliver", self.handle_deliver)
        app.router.add_post("/_sim/reset", self.handle_reset)
        app.router.add_get("/", self.handle_page)
        app.on_cleanup.append(self._cleanup)
        return app

    async def _cleanup(self, _app: web.Application) -> None:
        self._release.set()
        for task in list(self._tasks):
            task.cancel()
        if self._session is not None:
            await self._session.close()


@contextlib.asynccontextmanager
async def run_simulator(
    state: SimState, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[tuple[Simulator, str]]:
    """Serve a simulator on host:port (0 = free port); yields it and its URL."""
    sim = Simulator(state)
    runner = web.AppRunner(sim.app(), access_log=None, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    try:
        yield sim, f"http://{host}:{bound}"
    finally:
        await runner.cleanup()
