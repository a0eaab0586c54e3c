"""The per-entry runtime object: client, message log, counters, listeners."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback

from .allowlist import ActioAllowlist
from .api import ActioClient, ApiMode
from .const import (
    CONF_ALLOWED_SOURCES,
    CONF_API_MODE,
    CONF_BULK,
    CONF_CONCURRENCY,
    CONF_DEFAULT_RECIPIENTS,
    CONF_ENCODING,
    CONF_SENDER,
    DEFAULT_CONCURRENCY,
    EVENT_DELIVERY_STATUS,
    EVENT_MESSAGE_RECEIVED,
)
from .history import MessageLog, Record
from .models import DeliveryReport, InboundMessage, SendOutcome
from .phone import Encoding

SENSOR_WINDOW = 0.25
"""Seconds between sensor writes while messages keep arriving."""

type ActioConfigEntry = ConfigEntry[ActioRuntimeData]
type MessageListener = Callable[[Record], None]


class Change(StrEnum):
    """What part of the log changed; sensors follow only their own."""

    RECEIVED = "received"
    SENT = "sent"
    DELIVERY = "delivery"


@dataclass
class ActioRuntimeData:
    """Everything an entry owns while it is loaded."""

    hass: HomeAssistant
    entry: ActioConfigEntry
    client: ActioClient
    log: MessageLog
    allowlist: ActioAllowlist = field(init=False)
    device_id: str | None = None
    last_error: str | None = None
    _received_listeners: list[MessageListener] = field(default_factory=list)
    _delivery_listeners: list[MessageListener] = field(default_factory=list)
    _state_listeners: dict[Change, list[CALLBACK_TYPE]] = field(
        default_factory=lambda: {change: [] for change in Change}
    )
    _pending_changes: set[Change] = field(default_factory=set)
    _flush_handle: asyncio.Handle | None = None
    _quiet_until: float = 0.0

    def __post_init__(self) -> None:
        """Create what is derived from hass."""
        self.allowlist = ActioAllowlist(self.hass)

    @property
    def device_key(self) -> str:
        """Identifier of the entry's device and prefix of unique ids."""
        return self.entry.unique_id or self.entry.entry_id

    @property
    def sender(self) -> str:
        """The ACTIO virtual number this entry sends from."""
        return str(self.entry.data[CONF_SENDER])

    @property
    def mode(self) -> ApiMode:
        """SMS API or 3CX API."""
        return ApiMode(self.entry.data.get(CONF_API_MODE, ApiMode.SMS))

    @property
    def bulk(self) -> bool:
        """Whether sms-multi may be used (never in 3CX mode)."""
        return self.mode is ApiMode.SMS and bool(self.entry.options.get(CONF_BULK))

    @property
    def concurrency(self) -> int:
        """How many single sends may run at once."""
        return int(self.entry.options.get(CONF_CONCURRENCY, DEFAULT_CONCURRENCY))

    @property
    def encoding(self) -> Encoding:
        """The encoding activated at ACTIO."""
        return Encoding(self.entry.options.get(CONF_ENCODING, Encoding.UCS2))

    @property
    def allowed_sources(self) -> bool:
        """Whether only ACTIO's servers may post to the webhook."""
        return bool(self.entry.options.get(CONF_ALLOWED_SOURCES))

    @property
    def default_recipients(self) -> list[str]:
        """Numbers the default-recipients notify entity sends to."""
        return list(self.entry.options.get(CONF_DEFAULT_RECIPIENTS, []))

    @callback
    def async_listen_received(self, listener: MessageListener) -> CALLBACK_TYPE:
        """Call ``listener`` for every inbound SMS."""
        return _add(self._received_listeners, listener)

    @callback
    def async_listen_delivery(self, listener: MessageListener) -> CALLBACK_TYPE:
        """Call ``listener`` for every delivery report."""
        return _add(self._delivery_listeners, listener)

    @callback
    def async_listen_state(
        self, change: Change, listener: CALLBACK_TYPE
    ) -> CALLBACK_TYPE:
        """Call ``listener`` after ``change`` happened (coalesced, see below)."""
        return _add(self._state_listeners[change], listener)

    @callback
    def async_handle_inbound(self, message: InboundMessage) -> None:
        """Log an inbound SMS, fire its event, notify entities."""
        record = self.log.add_received(message)
        self.hass.bus.async_fire(
            EVENT_MESSAGE_RECEIVED,
            {
                "config_entry_id": self.entry.entry_id,
                "from": message.sender,
                "to": message.recipient,
                "body": message.body,
                "received_at": message.received_at,
            },
        )
        for listener in self._received_listeners:
            listener(record)
        self._schedule_state_update(Change.RECEIVED)

    @callback
    def async_handle_delivery(self, report: DeliveryReport) -> None:
        """Apply a delivery report, fire its event, notify entities."""
        record = self.log.apply_delivery(report)
        data: dict[str, Any] = {
            "config_entry_id": self.entry.entry_id,
            "message_id": report.message_id,
            "status": report.status,
        }
        for key in ("recipient", "body", "sent_at"):
            if key in record:
                data[key] = record[key]
        self.hass.bus.async_fire(EVENT_DELIVERY_STATUS, data)
        for listener in self._delivery_listeners:
            listener(record)
        self._schedule_state_update(Change.DELIVERY)

    @callback
    def async_record_sent(
        self, outcomes: list[SendOutcome], body: str, sent_at: str
    ) -> None:
        """Log what ACTIO accepted."""
        if outcomes:
            self.log.add_sent(outcomes, body, sent_at)
            self._schedule_state_update(Change.SENT)

    @callback
    def _schedule_state_update(self, change: Change) -> None:
        # Events and event entities fire for every message; sensors are
        # coalesced: written on the next loop iteration after a quiet spell,
        # and at most once per SENSOR_WINDOW during a burst.
        self._pending_changes.add(change)
        if self._flush_handle is not None:
            return
        loop = self.hass.loop
        if loop.time() >= self._quiet_until:
            self._flush_handle = loop.call_soon(self._async_update_state)
        else:
            self._flush_handle = loop.call_at(
                self._quiet_until, self._async_update_state
            )

    @callback
    def _async_update_state(self) -> None:
        self._flush_handle = None
        self._quiet_until = self.hass.loop.time() + SENSOR_WINDOW
        changes = self._pending_changes
        self._pending_changes = set()
        for change in changes:
            for listener in self._state_listeners[change]:
                listener()

    @callback
    def async_cancel_pending(self) -> None:
        """Drop a scheduled sensor write (the entry is unloading)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None


def _add[T](listeners: list[T], listener: T) -> CALLBACK_TYPE:
    listeners.append(listener)

    @callback
    def remove() -> None:
        listeners.remove(listener)

    return remove
