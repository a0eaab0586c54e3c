"""What outlives an entry's loads: its message log, its events and signals.

ACTIO posts each inbound SMS and delivery report once and never retries, and
Home Assistant answers 200 to a webhook nobody registered. So every entry's
webhook is registered when the integration is set up, loaded or not, and what
it accepts goes through the entry's hub: into the persisted log, out as a bus
event at once, and to the entities whenever they are there to listen.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util.hass_dict import HassKey
from homeassistant.util.signal_type import SignalType

from .allowlist import ActioAllowlist
from .const import (
    CONF_HISTORY_DAYS,
    CONF_HISTORY_SIZE,
    DEFAULT_HISTORY_DAYS,
    DEFAULT_HISTORY_SIZE,
    DOMAIN,
    EVENT_DELIVERY_STATUS,
    EVENT_MESSAGE_RECEIVED,
    EVENT_MESSAGE_SENT,
    LOGGER,
)
from .history import MessageLog
from .models import (
    DeliveryReport,
    InboundMessage,
    LoggedReport,
    ReceivedRecord,
    SendOutcome,
)

if TYPE_CHECKING:
    from .commands import CommandHandler

SENSOR_COOLDOWN = 0.25
"""Seconds between sensor writes while messages keep arriving."""

# What a delivery event carries of the SMS it refers to, when that is known.
_REPORT_CONTEXT = frozenset({"recipient", "body", "sent_at"})


class Change(StrEnum):
    """What part of the log changed; sensors follow only their own."""

    RECEIVED = "received"
    SENT = "sent"
    DELIVERY = "delivery"
    USAGE = "usage"
    """Parts used today and this month: on a send, and at local midnight."""


def signal_received(entry_id: str) -> SignalType[ReceivedRecord]:
    """Dispatched with every inbound SMS of an entry."""
    return SignalType(f"{DOMAIN}_{entry_id}_received")


def signal_delivery(entry_id: str) -> SignalType[LoggedReport]:
    """Dispatched with every delivery report of an entry."""
    return SignalType(f"{DOMAIN}_{entry_id}_delivery")


def signal_changed(entry_id: str, change: Change) -> SignalType[()]:
    """Dispatched, coalesced, when sensors showing ``change`` should write."""
    return SignalType(f"{DOMAIN}_{entry_id}_{change}_changed")


@dataclass
class ActioData:
    """The integration's own state, across all entries (``hass.data``)."""

    allowlist: ActioAllowlist
    hubs: dict[str, EntryHub] = field(default_factory=dict)
    webhooks: set[str] = field(default_factory=set)
    """The webhook ids registered (for every entry, loaded or not)."""
    command_user_id: str | None = None
    """The system user SMS commands run as, once looked up or made."""


DATA_ACTIO: HassKey[ActioData] = HassKey(DOMAIN)


@dataclass
class EntryHub:
    """An entry's messages, whether or not the entry is loaded."""

    hass: HomeAssistant
    entry_id: str
    log: MessageLog
    loaded: bool = False
    """Whether the stored log has been read (once; appending before would lose it)."""
    commands: CommandHandler | None = None
    """Set while the entry is loaded with command senders."""
    _load_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _changes: set[Change] = field(default_factory=set)
    _sensor_debouncer: Debouncer[None] = field(init=False)
    _device_id: str | None = None

    def __post_init__(self) -> None:
        """Create the sensor debouncer."""
        # Events and event entities fire for every message; sensors write at
        # once after a quiet spell and at most once per cooldown in a burst.
        self._sensor_debouncer = Debouncer(
            self.hass,
            LOGGER,
            cooldown=SENSOR_COOLDOWN,
            immediate=True,
            function=self._async_write_sensors,
        )

    async def async_load(self) -> None:
        """Load the stored log once; a concurrent caller waits for that load."""
        async with self._load_lock:
            if not self.loaded:
                await self.log.async_load()
                self.loaded = True

    @callback
    def async_device_id(self) -> str | None:
        """The entry's device, so its page shows the messages (None before setup)."""
        if self._device_id is None and (
            device := dr.async_get(self.hass).async_get_device_by_identifier(
                (DOMAIN, self.entry_id), self.entry_id
            )
        ):
            self._device_id = device.id
        return self._device_id

    @callback
    def async_handle_inbound(
        self, message: InboundMessage, *, fire: bool, command: bool = False
    ) -> None:
        """Log an inbound SMS, fire its event, tell the entities."""
        record = self.log.add_received(message)
        if fire:
            self.hass.bus.async_fire(
                EVENT_MESSAGE_RECEIVED,
                {
                    "config_entry_id": self.entry_id,
                    "device_id": self.async_device_id(),
                    "from": message.sender,
                    "to": message.recipient,
                    "body": message.body,
                    "received_at": message.received_at,
                    "command": command,
                },
            )
        async_dispatcher_send(self.hass, signal_received(self.entry_id), record)
        self._async_changed(Change.RECEIVED)

    @callback
    def async_handle_delivery(self, report: DeliveryReport, *, fire: bool) -> None:
        """Apply a delivery report, fire its event, tell the entities."""
        if (logged := self.log.apply_delivery(report)) is None:
            LOGGER.debug(
                "Ignored a %s report for %s: a repeat, or delivered already",
                report.status,
                report.message_id,
            )
            return
        if fire:
            data: dict[str, Any] = {
                "config_entry_id": self.entry_id,
                "device_id": self.async_device_id(),
                "message_id": report.message_id,
                "status": str(report.status),
            }
            data |= {k: v for k, v in logged.items() if k in _REPORT_CONTEXT}
            self.hass.bus.async_fire(EVENT_DELIVERY_STATUS, data)
        async_dispatcher_send(self.hass, signal_delivery(self.entry_id), logged)
        self._async_changed(Change.DELIVERY)

    @callback
    def async_record_sent(
        self, outcomes: list[SendOutcome], body: str, sent_at: str
    ) -> None:
        """Log what ACTIO accepted, and say so on the bus (one event per send)."""
        if outcomes:
            self.log.add_sent(outcomes, body, sent_at)
            self.hass.bus.async_fire(
                EVENT_MESSAGE_SENT,
                {
                    "config_entry_id": self.entry_id,
                    "device_id": self.async_device_id(),
                    "messages": [
                        {
                            "recipient": o.recipient,
                            "message_id": o.message_id,
                            "parts": o.parts,
                        }
                        for o in outcomes
                    ],
                    "body": body,
                    "sent_at": sent_at,
                },
            )
            self._async_changed(Change.SENT, Change.USAGE)

    @callback
    def async_usage_changed(self) -> None:
        """A new day or month began: usage sensors read again."""
        self._async_changed(Change.USAGE)

    @callback
    def _async_changed(self, *changes: Change) -> None:
        self._changes.update(changes)
        self._sensor_debouncer.async_schedule_call()

    @callback
    def _async_write_sensors(self) -> None:
        changes, self._changes = self._changes, set()
        for change in changes:
            async_dispatcher_send(self.hass, signal_changed(self.entry_id, change))

    @callback
    def async_cancel_sensor_write(self) -> None:
        """Drop a scheduled sensor write (the entities are going away)."""
        self._sensor_debouncer.async_cancel()


@callback
def async_get_hub(hass: HomeAssistant, entry: ConfigEntry[Any]) -> EntryHub:
    """The entry's hub, created (not yet loaded) on first use."""
    hubs = hass.data[DATA_ACTIO].hubs
    if (hub := hubs.get(entry.entry_id)) is None:
        hub = hubs[entry.entry_id] = EntryHub(
            hass,
            entry.entry_id,
            MessageLog(
                hass,
                entry.entry_id,
                int(entry.options.get(CONF_HISTORY_SIZE, DEFAULT_HISTORY_SIZE)),
                int(entry.options.get(CONF_HISTORY_DAYS, DEFAULT_HISTORY_DAYS)),
            ),
        )
    return hub
