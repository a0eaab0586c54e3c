"""Typed records that flow through the integration."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, NotRequired, TypedDict


class DeliveryStatus(StrEnum):
    """Where a sent SMS stands; values appear in events and the history."""

    PENDING = "pending"
    DELIVERED = "delivered"
    ERROR = "error"


type ReportedStatus = Literal[DeliveryStatus.DELIVERED, DeliveryStatus.ERROR]


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """An SMS received through the webhook."""

    sender: str
    recipient: str
    body: str
    received_at: str


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A delivery report for a message id."""

    message_id: str
    status: ReportedStatus


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """One recipient ACTIO accepted, with the id it gave."""

    recipient: str
    message_id: str | None
    parts: int


# The history's records, as stored and as returned by actio_sms.get_messages.
# Keys are the fixed names users' templates read.
ReceivedRecord = TypedDict(
    "ReceivedRecord",
    {
        "direction": Literal["received"],
        "from": str,
        "to": str,
        "body": str,
        "received_at": str,
    },
)


class SentRecord(TypedDict):
    """One SMS ACTIO accepted, and where its delivery stands."""

    direction: Literal["sent"]
    message_id: str | None
    recipient: str
    body: str
    parts: int
    sent_at: str
    status: DeliveryStatus
    status_at: str | None


type Record = ReceivedRecord | SentRecord


class LastSent(TypedDict):
    """The last send, all of its recipients."""

    body: str
    recipients: list[str]
    message_ids: list[str | None]
    sent_at: str


class LoggedReport(TypedDict):
    """A delivery report as logged, with what it refers to when known."""

    message_id: str
    status: ReportedStatus
    status_at: str
    recipient: NotRequired[str]
    body: NotRequired[str]
    sent_at: NotRequired[str]
