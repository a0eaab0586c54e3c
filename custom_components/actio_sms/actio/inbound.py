"""What ACTIO posts to the webhook, in every dialect, read into typed records.

- v1.0 (the SMS API): ``{"type": "MESSAGE", "from", "to", "body"}`` and
  ``{"type": "NOTIFICATION", "message_id", "status": "DELIVERED"|"ERROR"}``.
- 3CX API: Telnyx-style envelopes ``{"data": {"event_type", "payload"}}``.

Validated by hand: this is the hot path of every inbound SMS, and cheaper
than a schema.
"""

from __future__ import annotations

from datetime import UTC, datetime
import json
from typing import Any, Final

from .models import (
    DeliveryReport,
    DeliveryStatus,
    InboundMessage,
    ReportedStatus,
    is_digits,
    parse_message_id,
    utc_now_iso,
)

try:
    import orjson
except ImportError:  # pragma: no cover - orjson comes with Home Assistant
    orjson = None  # type: ignore[assignment]

MAX_SENDER_LENGTH: Final = 64
# The spec's own examples are typeset with typographic quotes; accept them.
_QUOTES: Final = str.maketrans(dict.fromkeys("\u201e\u201d\u201c\u201a\u2019", '"'))

V1_STATUS: Final[dict[str, ReportedStatus]] = {
    "DELIVERED": DeliveryStatus.DELIVERED,
    "ERROR": DeliveryStatus.ERROR,
}
TCX_STATUS: Final[dict[str, ReportedStatus]] = {
    "delivered": DeliveryStatus.DELIVERED,
    "sending_failed": DeliveryStatus.ERROR,
    "delivery_failed": DeliveryStatus.ERROR,
}
TCX_DELIVERY_EVENTS: Final = ("message.finalized", "message.sent")

type InboundRecord = InboundMessage | DeliveryReport


class InvalidPayloadError(ValueError):
    """The payload is not one ACTIO (or 3CX's provider) sends."""


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
        raise InvalidPayloadError("unknown type")
    envelope = data.get("data")
    if isinstance(envelope, dict) and isinstance(envelope.get("payload"), dict):
        return _parse_3cx(envelope.get("event_type"), envelope["payload"])
    raise InvalidPayloadError("unknown format")


def _parse_3cx(event_type: Any, payload: dict[str, Any]) -> InboundRecord:
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
    raise InvalidPayloadError("unknown event_type")


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
    return value


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
                return parsed.astimezone(UTC).isoformat(timespec="milliseconds")
    return utc_now_iso()
