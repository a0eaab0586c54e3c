"""What a loaded entry owns (``entry.runtime_data``) and the signals it sends."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util.signal_type import SignalType

from .allowlist import ActioAllowlist
from .api import ActioAuthError, ActioClient, ActioError, ActioValidationError
from .const import (
    API_TIMEOUT,
    CONF_API_URL,
    CONF_HISTORY_DAYS,
    CONF_HISTORY_SIZE,
    CONF_TOKEN,
    DEFAULT_HISTORY_DAYS,
    DEFAULT_HISTORY_SIZE,
    DOMAIN,
    EVENT_DELIVERY_STATUS,
    EVENT_MESSAGE_RECEIVED,
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
from .repairs import async_delete_invalid_sender_issue, async_raise_invalid_sender_issue
from .settings import ActioSettings

SENSOR_COOLDOWN = 0.25
"""Seconds between sensor writes while messages keep arriving."""

type ActioConfigEntry = ConfigEntry[ActioRuntimeData]

# What a delivery event carries of the SMS it refers to, when that is known.
_REPORT_CONTEXT = frozenset({"recipient", "body", "sent_at"})


class Change(StrEnum):
    """What part of the log changed; sensors follow only their own."""

    RECEIVED = "received"
    SENT = "sent"
    DELIVERY = "delivery"


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
class ActioRuntimeData:
    """Everything an entry owns while it is loaded."""

    hass: HomeAssistant
    entry: ActioConfigEntry
    settings: ActioSettings
    client: ActioClient
    log: MessageLog
    allowlist: ActioAllowlist
    send_gate: asyncio.Semaphore = field(init=False)
    """Bounds the entry's requests to ACTIO, across all concurrent sends."""
    device_id: str | None = None
    last_error: str | None = None
    _changes: set[Change] = field(default_factory=set)
    _sensor_debouncer: Debouncer[None] = field(init=False)

    @property
    def entry_id(self) -> str:
        """The entry this runtime belongs to."""
        return self.entry.entry_id

    def __post_init__(self) -> None:
        """Create the send bound and the sensor debouncer."""
        self.send_gate = asyncio.Semaphore(self.settings.concurrency)
        # Events and event entities fire for every message; sensors write at
        # once after a quiet spell and at most once per cooldown in a burst.
        self._sensor_debouncer = Debouncer(
            self.hass,
            LOGGER,
            cooldown=SENSOR_COOLDOWN,
            immediate=True,
            function=self._async_write_sensors,
        )

    @callback
    def async_handle_inbound(self, message: InboundMessage) -> None:
        """Log an inbound SMS, fire its event, tell the entities."""
        record = self.log.add_received(message)
        self.hass.bus.async_fire(
            EVENT_MESSAGE_RECEIVED,
            {
                "config_entry_id": self.entry_id,
                "from": message.sender,
                "to": message.recipient,
                "body": message.body,
                "received_at": message.received_at,
            },
        )
        async_dispatcher_send(self.hass, signal_received(self.entry_id), record)
        self._async_changed(Change.RECEIVED)

    @callback
    def async_handle_delivery(self, report: DeliveryReport) -> None:
        """Apply a delivery report, fire its event, tell the entities."""
        logged = self.log.apply_delivery(report)
        data: dict[str, Any] = {
            "config_entry_id": self.entry_id,
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
        """Log what ACTIO accepted."""
        if outcomes:
            self.log.add_sent(outcomes, body, sent_at)
            self._async_changed(Change.SENT)

    @callback
    def _async_changed(self, change: Change) -> None:
        self._changes.add(change)
        self._sensor_debouncer.async_schedule_call()

    @callback
    def _async_write_sensors(self) -> None:
        changes, self._changes = self._changes, set()
        for change in changes:
            async_dispatcher_send(self.hass, signal_changed(self.entry_id, change))

    @callback
    def async_shutdown(self) -> None:
        """Drop a scheduled sensor write (the entry is unloading)."""
        self._sensor_debouncer.async_shutdown()


async def async_create_runtime(
    hass: HomeAssistant, entry: ActioConfigEntry
) -> ActioRuntimeData:
    """Check the credentials with ACTIO, then load the entry's message log."""
    settings = ActioSettings.from_entry(entry)
    client = ActioClient(
        async_get_clientsession(hass),
        entry.data[CONF_TOKEN],
        base_url=entry.data[CONF_API_URL],
        timeout=API_TIMEOUT,
    )
    try:
        await client.check_credentials(settings.sender, mode=settings.mode)
    except ActioAuthError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="auth_failed"
        ) from err
    except ActioValidationError as err:
        # Only the number can be wrong here; re-authentication asks for a token,
        # so the repair issue leads to a form that asks for the number.
        async_raise_invalid_sender_issue(hass, entry, settings.sender)
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="invalid_sender",
            translation_placeholders={"sender": settings.sender},
        ) from err
    except ActioError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="cannot_connect"
        ) from err
    async_delete_invalid_sender_issue(hass, entry)
    log = MessageLog(
        hass,
        entry.entry_id,
        int(entry.options.get(CONF_HISTORY_SIZE, DEFAULT_HISTORY_SIZE)),
        int(entry.options.get(CONF_HISTORY_DAYS, DEFAULT_HISTORY_DAYS)),
    )
    await log.async_load()
    return ActioRuntimeData(hass, entry, settings, client, log, ActioAllowlist(hass))
