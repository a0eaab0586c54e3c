"""The per-entry runtime object: client, message log, counters, listeners."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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

type ActioConfigEntry = ConfigEntry[ActioRuntimeData]
type MessageListener = Callable[[Record], None]


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
    _state_listeners: list[CALLBACK_TYPE] = field(default_factory=list)
    _state_update_scheduled: bool = False

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
    def async_listen_state(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``listener`` once per loop iteration after the log changed."""
        return _add(self._state_listeners, listener)

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
        self._schedule_state_update()

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
        self._schedule_state_update()

    @callback
    def async_record_sent(
        self, outcomes: list[SendOutcome], body: str, sent_at: str
    ) -> None:
        """Log what ACTIO accepted."""
        if outcomes:
            self.log.add_sent(outcomes, body, sent_at)
            self._schedule_state_update()

    @callback
    def _schedule_state_update(self) -> None:
        # Sensors are written once per loop iteration, however many webhooks
        # arrived in it; events and event entities are not coalesced.
        if not self._state_update_scheduled:
            self._state_update_scheduled = True
            self.hass.loop.call_soon(self._async_update_state)

    @callback
    def _async_update_state(self) -> None:
        self._state_update_scheduled = False
        for listener in self._state_listeners:
            listener()


def _add[T](listeners: list[T], listener: T) -> CALLBACK_TYPE:
    listeners.append(listener)

    @callback
    def remove() -> None:
        listeners.remove(listener)

    return remove
