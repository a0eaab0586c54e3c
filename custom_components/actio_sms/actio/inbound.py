"""What ACTIO posts to the webhook, in every dialect, read into typed records.

- v1.0 (the SMS API): ``{"type": "MESSAGE", "from", "to", "body"}`` and
  ``{"type": "NOTIFICATION", "message_id", "status": "DELIVERED"|"ERROR"}``.
- live (ACTIO's current documentation): status webhooks
  ``{"event": "sms.delivered"|"sms.failed"|"sms.expired"|"sms.bounced",
  "message_id", "to", "reason", "operator", "segments", ...}``. Its inbound
  SMS format is not documented: ``{"event": "sms.received", "from", "to",
  "body"|"text"}`` is read as the most likely one; anything else is
  ``UnrecognisedPayloadError``, for the caller to keep aside.
- 3CX API: Telnyx-style envelopes ``{"data": {"event_type", "payload"}}``.

Validated by hand: this is the hot path of every inbound SMS, and cheaper
than a schema.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from typing import Any, Final

from .models import (
    DeliveryReport,
    DeliveryStatus,
    InboundMessage,
    ReportedStatus,
    is_digits,
    parse_message_id,
    storable,
    utc_now_iso,
)

try:
    import orjson
except ImportError:  # pragma: no cover - orjson comes with Home Assistant
    orjson = None  # type: ignore[assignment]

MAX_SENDER_LENGTH: Final = 64
# The spec's own examples are typeset with typographic quotes; accept them.
_QUOTES: Final = str.maketrans(dict.fromkeys("\u201e\u201d\u201c\u201a\u2019", '"'))

MAX_REASON_LENGTH: Final = 200
MAX_CLOCK_SKEW: Final = timedelta(minutes=5)
"""How far ahead of our clock a sender's timestamp may be."""
V1_STATUS: Final[dict[str, ReportedStatus]] = {
    "DELIVERED": DeliveryStatus.DELIVERED,
    "ERROR": DeliveryStatus.FAILED,
}
LIVE_STATUS: Final[dict[str, ReportedStatus]] = {
    "sms.delivered": DeliveryStatus.DELIVERED,
    "sms.failed": DeliveryStatus.FAILED,
    "sms.expired": DeliveryStatus.EXPIRED,
    "sms.bounced": DeliveryStatus.BOUNCED,
}
LIVE_INBOUND_EVENTS: Final = ("sms.received", "sms.inbound")
TCX_STATUS: Final[dict[str, ReportedStatus]] = {
    "delivered": DeliveryStatus.DELIVERED,
    "sending_failed": DeliveryStatus.FAILED,
    "delivery_failed": DeliveryStatus.FAILED,
}
TCX_DELIVERY_EVENTS: Final = ("message.finalized", "message.sent")

type InboundRecord = InboundMessage | DeliveryReport


class InvalidPayloadError(ValueError):
    """The payload is not one ACTIO (or 3CX's provider) sends."""


class UnrecognisedPayloadError(InvalidPayloadError):
    """A JSON object in a shape no dialect has: perhaps one ACTIO never documented."""

    def __init__(self, message: str, data: dict[str, Any]) -> None:
        """Keep the decoded object, so the caller can set it aside."""
        self.data = data
        super().__init__(message)


def loads_tolerant(raw: str | bytes) -> Any:
    """Parse JSON, also when it was typeset with typographic quotes."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        fixed = text.translate(_QUOTES).replace("\uff1a", ":")
        if fixed == text:
            raise
        return json.loads(fixed)


def loads(raw: bytes) -> Any:
    """Decode JSON fast (orjson); fall back to the typographic-quote repair."""
    if orjson is not None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return loads_tolerant(raw)


def parse_inbound(raw: bytes) -> InboundRecord:
    """Read one webhook body into a typed record, or raise ValueError.

    ValueError covers bad UTF-8, bad JSON and InvalidPayloadError;
    RecursionError (absurd nesting) is turned into InvalidPayloadError.
    """
    try:
        return parse_payload(loads(raw))
    except RecursionError as err:
        raise InvalidPayloadError("too deeply nested") from err


def parse_payload(data: Any) -> InboundRecord:
    """Turn a decoded JSON payload into a typed record, or raise."""
    if not isinstance(data, dict):
        raise InvalidPayloadError("not an object")
    if "type" in data:
        kind = _upper(data["type"], "type")
        if kind == "MESSAGE":
            return InboundMessage(
                _sender(data.get("from")),
                _number(data.get("to"), "to"),
                _text(data.get("body"), "body"),
                utc_now_iso(),
            )
        if kind == "NOTIFICATION":
            message_id = _message_id(data.get("message_id"))
            if (status := V1_STATUS.get(_upper(data.get("status"), "status"))) is None:
                raise InvalidPayloadError("expected DELIVERED or ERROR")
            return DeliveryReport(message_id, status)
        raise UnrecognisedPayloadError("unknown type", data)
    if "event" in data:
        return _parse_live(data)
    envelope = data.get("data")
    if isinstance(envelope, dict) and isinstance(envelope.get("payload"), dict):
        return _parse_3cx(envelope.get("event_type"), envelope["payload"], data)
    raise UnrecognisedPayloadError("unknown format", data)


def _parse_live(data: dict[str, Any]) -> InboundRecord:
    event = _text(data["event"], "event").strip().lower()
    if (status := LIVE_STATUS.get(event)) is not None:
        recipient = data.get("to")
        segments = data.get("segments")
        return DeliveryReport(
            _message_id(data.get("message_id")),
            status,
            reason=_optional_text(data.get("reason"), "reason"),
            operator=_optional_text(data.get("operator"), "operator"),
            segments=(
                segments
                if isinstance(segments, int)
                and not isinstance(segments, bool)
                and 0 < segments < 1000
                else None
            ),
            recipient=_optional_number(recipient),
        )
    if event in LIVE_INBOUND_EVENTS:
        body = data.get("body", data.get("text"))
        return InboundMessage(
            _sender(data.get("from")),
            _number(data.get("to"), "to"),
            _text(body, "body"),
            utc_now_iso(),
        )
    raise UnrecognisedPayloadError("unknown event", data)


def _optional_number(value: Any) -> str | None:
    """A number the report adds; an unusable one is dropped, not the report."""
    try:
        return _number(value, "to")
    except InvalidPayloadError:
        return None


def _optional_text(value: Any, key: str) -> str | None:
    """A short free text ACTIO may add (a reason, an operator), or None."""
    if value is None:
        return None
    text = " ".join(_text(value, key).split())
    return text[:MAX_REASON_LENGTH] or None


def _parse_3cx(
    event_type: Any, payload: dict[str, Any], data: dict[str, Any]
) -> InboundRecord:
    if event_type == "message.received":
        sender = payload.get("from")
        if not isinstance(sender, dict):
            raise InvalidPayloadError("expected an object for from")
        recipients = [
            _number(item.get("phone_number"), "to")
            for item in _objects(payload.get("to"))
        ]
        return InboundMessage(
            _sender(sender.get("phone_number")),
            recipients[0],
            _text(payload.get("text"), "text"),
            _utc_iso(payload.get("received_at")),
        )
    if event_type in TCX_DELIVERY_EVENTS:
        message_id = _message_id(payload.get("id"))
        statuses = [
            TCX_STATUS.get(status)
            if isinstance(status := item.get("status"), str)
            else None
            for item in _objects(payload.get("to"))
        ]
        if None in statuses or not (first := statuses[0]):
            raise InvalidPayloadError("unknown delivery status")
        return DeliveryReport(message_id, first)
    raise UnrecognisedPayloadError("unknown event_type", data)


def _objects(value: Any) -> list[dict[str, Any]]:
    """A non-empty list of objects."""
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, dict) for item in value)
    ):
        raise InvalidPayloadError("expected a list of objects")
    return value


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise InvalidPayloadError(f"expected a string for {key}")
    return storable(value)


def _upper(value: Any, key: str) -> str:
    return _text(value, key).strip().upper()


def _number(value: Any, key: str) -> str:
    """A number as digits: ``+48600100200`` or ``48600100200``."""
    digits = _text(value, key).strip().removeprefix("+")
    if not is_digits(digits) or not 9 <= len(digits) <= 15:
        raise InvalidPayloadError(f"expected a phone number for {key}")
    return digits


def display_sender(value: str) -> str:
    """An inbound sender as digits when it is a number, else as given (a name)."""
    stripped = value.strip()
    digits = stripped.removeprefix("+")
    return digits if is_digits(digits) else stripped


def _sender(value: Any) -> str:
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > MAX_SENDER_LENGTH
    ):
        raise InvalidPayloadError("expected a sender")
    return display_sender(value)


def _message_id(value: Any) -> str:
    if (message_id := parse_message_id(value)) is None:
        raise InvalidPayloadError("expected a message id")
    return message_id


def _utc_iso(value: Any) -> str:
    """An ISO timestamp given by the sender, in UTC; now if absent or unusable."""
    if value is not None and not isinstance(value, str):
        raise InvalidPayloadError("expected a string for received_at")
    if value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is not None:
                # The sender's clock, not ours: never later than now (a time
                # far ahead would outlive every age limit of the history).
                latest = datetime.now(UTC) + MAX_CLOCK_SKEW
                return (
                    min(parsed, latest)
                    .astimezone(UTC)
                    .isoformat(timespec="milliseconds")
                )
    return utc_now_iso()


def shape_of(data: Any, prefix: str = "", depth: int = 0) -> list[str]:
    """The key paths and value types of a JSON value, without any value.

    ``{"a": {"b": "x"}, "c": [1]}`` → ``["a.b: str", "c[]: int"]``; what a
    person can report about a post nobody understood without sharing its text.
    """
    if depth > 8:
        return [f"{prefix or '.'}: ..."]
    if isinstance(data, dict):
        if not data:
            return [f"{prefix or '.'}: object"]
        return [
            line
            for key in sorted(data, key=str)[:50]
            for line in shape_of(
                data[key], f"{prefix}.{key}" if prefix else str(key), depth + 1
            )
        ]
    if isinstance(data, list):
        kinds = sorted(
            {
                line
                for item in data[:20]
                for line in shape_of(item, f"{prefix}[]", depth + 1)
            }
        )
        return kinds or [f"{prefix}[]: empty"]
    kind = {bool: "bool", int: "int", float: "float", str: "str", type(None): "null"}
    return [f"{prefix or '.'}: {kind.get(type(data), 'other')}"]
