"""Typed values on ACTIO's wire, in both directions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
import re
from typing import Final, Literal

MAX_MESSAGE_ID_LENGTH: Final = 64


class ApiMode(StrEnum):
    """ACTIO's two mutually exclusive API modes (the value is stored in entries)."""

    SMS = "sms"
    TCX = "3cx"
    """The 3CX API: ``/api/tcx``, Telnyx-style bodies and webhook envelopes."""


class DeliveryStatus(StrEnum):
    """Where a sent SMS stands; one vocabulary for every dialect.

    v1.0's ``ERROR``, the live API's ``sms.failed`` and 3CX's failures are
    all ``failed``.
    """

    PENDING = "pending"
    """Sent, no report yet."""
    UNCONFIRMED = "unconfirmed"
    """The answer was lost: it may have gone out (and costs as if it had)."""
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"
    """Not delivered within ACTIO's validity period (48 hours)."""
    BOUNCED = "bounced"
    """Refused by the network or the number."""


type ReportedStatus = Literal[
    DeliveryStatus.DELIVERED,
    DeliveryStatus.FAILED,
    DeliveryStatus.EXPIRED,
    DeliveryStatus.BOUNCED,
]
REPORTED_STATUSES: Final[frozenset[DeliveryStatus]] = frozenset(
    {
        DeliveryStatus.DELIVERED,
        DeliveryStatus.FAILED,
        DeliveryStatus.EXPIRED,
        DeliveryStatus.BOUNCED,
    }
)
EVENT_STATUSES: Final[tuple[DeliveryStatus, ...]] = (
    DeliveryStatus.DELIVERED,
    DeliveryStatus.FAILED,
    DeliveryStatus.EXPIRED,
    DeliveryStatus.BOUNCED,
    DeliveryStatus.UNCONFIRMED,
)
"""What a delivery event can say: every report, and an answer that was lost."""
LEGACY_STATUSES: Final[dict[str, DeliveryStatus]] = {"error": DeliveryStatus.FAILED}
"""Statuses stored by earlier versions, read as today's."""


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One SMS accepted by ACTIO for delivery."""

    recipient: str
    message_id: str | None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """An SMS ACTIO (or 3CX's provider) posted to the webhook."""

    sender: str
    recipient: str
    body: str
    received_at: str


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A delivery report for a message id, with what ACTIO said of it."""

    message_id: str
    status: ReportedStatus
    reason: str | None = None
    """Why it failed, in ACTIO's words (live API)."""
    operator: str | None = None
    segments: int | None = None
    recipient: str | None = None
    """The number, when the report names it (live API)."""


REPORT_DETAILS: Final = ("reason", "operator", "segments")
"""What a report may say beyond its status (``DeliveryReport``'s fields)."""

_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    """``text`` as UTF-8 can hold it: lone UTF-16 surrogates become U+FFFD.

    JSON may escape half of a surrogate pair (a lone high or low half); such a
    string could be neither stored nor sent. A whole pair left as two halves
    is joined.
    """
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def is_digits(value: str) -> bool:
    """Whether ``value`` is ASCII digits only (a number as the wire spells it)."""
    return value.isascii() and value.isdigit()


def parse_message_id(value: object) -> str | None:
    """Return a plausible message id (text, or a number as text) or None.

    v1.0 ids are 16 hex characters; anything printable without spaces and of
    reasonable length is accepted, in answers and in delivery reports.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if (
        isinstance(value, str)
        and 0 < len(value) <= MAX_MESSAGE_ID_LENGTH
        and value.isprintable()
        and not any(ch.isspace() for ch in value)
    ):
        return value
    return None


_second_cache: tuple[int, str] = (0, "")


def utc_now_iso() -> str:
    """Current UTC time in one fixed ISO 8601 format (sortable as text).

    Called for every inbound SMS; formatting only once per second keeps it
    cheap under bursts.
    """
    global _second_cache  # noqa: PLW0603
    now = datetime.now(UTC)
    second = int(now.timestamp())
    if _second_cache[0] != second:
        _second_cache = (second, now.strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{_second_cache[1]}.{now.microsecond // 1000:03d}+00:00"
