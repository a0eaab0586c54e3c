"""Typed records that flow through the integration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


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
    status: Literal["delivered", "error"]


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """One recipient of a send: the id ACTIO gave, or why it failed."""

    recipient: str
    message_id: str | None
    parts: int
    error: str | None = None
