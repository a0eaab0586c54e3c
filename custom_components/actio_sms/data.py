"""The integration's state: one runtime per entry, one registry for all of them.

ACTIO posts each inbound SMS and delivery report once and never retries, and
Home Assistant answers 200 to a webhook nobody registered. So every entry's
webhook is registered when the integration is set up, loaded or not, and an
entry's ``ActioRuntime`` exists from its first post or setup until the entry
is removed: it outlives reloads and setup retries. While the entry is loaded
it is also ``entry.runtime_data``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypedDict

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
)
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey
from homeassistant.util.signal_type import SignalType

from .actio import ActioAuthError, ActioClient, ActioError, ActioValidationError
from .allowlist import ActioAllowlist
from .const import (
    API_TIMEOUT,
    CONF_API_URL,
    CONF_TOKEN,
    DOMAIN,
    ISSUE_INVALID_SENDER,
    LOGGER,
)
from .issues import (
    async_delete,
    async_raise_invalid_sender,
    async_raise_unrecognised_posts,
)
from .quarantine import Quarantine
from .settings import ActioSettings, recipients_of
from .store import LoggedReport, MessageStore, ReceivedRecord

type ActioConfigEntry = ConfigEntry[ActioRuntime]

SENSOR_COOLDOWN = 0.25
"""Seconds between sensor writes while messages keep arriving."""


class Change(StrEnum):
    """What part of the store changed; sensors follow only their own."""

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


def signal_deleted(entry_id: str) -> SignalType[str]:
    """Dispatched with the number of a conversation deleted from the history."""
    return SignalType(f"{DOMAIN}_{entry_id}_deleted")


def signal_changed(entry_id: str, change: Change) -> SignalType[()]:
    """Dispatched, coalesced, when sensors showing ``change`` should write."""
    return SignalType(f"{DOMAIN}_{entry_id}_{change}_changed")


@dataclass
class SpendState:
    """The spend guard's memory (``outbox.py`` acts on it)."""

    reserved: int = 0
    """Parts of sends in flight, not yet accepted or refused by ACTIO."""
    recent: dict[tuple[str, str], float] = field(default_factory=dict)
    """(number, text) → when it was last sent, for the repeat window."""


class StoredLockouts(TypedDict):
    """What a restart must not forget: wrong PINs and lockouts, wall-clock times."""

    failures: dict[str, list[float]]
    locked_until: dict[str, float]
    lockouts: dict[str, int]


@dataclass
class CommandState:
    """What control by SMS remembers per sender (``inbox.py``, ``commands.py``).

    Wrong PINs and lockouts are kept in a private file beside the store, so a
    restart does not give a guesser a fresh start.
    """

    store: Store[StoredLockouts]
    conversations: dict[str, tuple[str, float]] = field(default_factory=dict)
    failures: dict[str, list[float]] = field(default_factory=dict)
    """Wall-clock times of wrong PINs, per sender."""
    locked_until: dict[str, float] = field(default_factory=dict)
    lockouts: dict[str, int] = field(default_factory=dict)
    """How many times each sender was locked out (each lockout doubles)."""
    recent: dict[str, list[float]] = field(default_factory=dict)
    warned_until: dict[str, float] = field(default_factory=dict)

    async def async_load(self) -> None:
        """Read the lockouts kept before the last stop."""
        if (data := await self.store.async_load()) is not None:
            self.failures = dict(data.get("failures", {}))
            self.locked_until = dict(data.get("locked_until", {}))
            self.lockouts = dict(data.get("lockouts", {}))

    @callback
    def async_save(self) -> None:
        """Keep the lockouts (written within a second)."""
        self.store.async_delay_save(
            lambda: {
                "failures": self.failures,
                "locked_until": self.locked_until,
                "lockouts": self.lockouts,
            },
            1.0,
        )


class ActioRuntime:
    """Everything one entry owns, from its first post or setup to its removal."""

    def __init__(self, hass: HomeAssistant, entry: ActioConfigEntry) -> None:
        """Create the store (not yet read) and the client (nothing sent yet)."""
        self.hass = hass
        self.entry = entry
        self._settings = ActioSettings.from_entry(entry)
        self._settings_of: tuple[object, object] = (entry.data, entry.options)
        self.store = MessageStore(
            hass,
            entry.entry_id,
            self._settings.history_size,
            self._settings.history_days,
        )
        self.quarantine = Quarantine(hass, entry.entry_id)
        """Posts in shapes no dialect knows, kept aside."""
        self.client = self._new_client()
        self.send_gate = asyncio.Semaphore(self._settings.concurrency)
        """Bounds the entry's requests to ACTIO, across all concurrent sends."""
        self.spend = SpendState()
        self.commands = CommandState(
            Store(hass, 1, f"{DOMAIN}.{entry.entry_id}.commands", private=True)
        )
        self.last_error: str | None = None
        self._loaded_with: tuple[dict[str, Any], dict[str, Any], dict[str, Any]] = (
            {},
            {},
            {},
        )
        self._store_lock = asyncio.Lock()
        self._device_id: str | None = None
        self._changes: set[Change] = set()
        # Events fire for every message; sensors write at once after a quiet
        # spell and at most once per cooldown in a burst.
        self._sensor_debouncer = Debouncer(
            hass,
            LOGGER,
            cooldown=SENSOR_COOLDOWN,
            immediate=True,
            function=self._async_write_sensors,
        )

    def _new_client(self) -> ActioClient:
        return ActioClient(
            async_get_clientsession(self.hass),
            self.entry.data[CONF_TOKEN],
            base_url=self.entry.data[CONF_API_URL],
            timeout=API_TIMEOUT,
        )

    @property
    def entry_id(self) -> str:
        """The entry this runtime belongs to."""
        return self.entry.entry_id

    @property
    def settings(self) -> ActioSettings:
        """The entry's settings as they are now (loaded or not)."""
        if self._settings_of != (self.entry.data, self.entry.options):
            self._settings = ActioSettings.from_entry(self.entry)
            self._settings_of = (self.entry.data, self.entry.options)
        return self._settings

    @property
    def loaded(self) -> bool:
        """Whether the entry is set up (sending needs it; receiving does not)."""
        return self.entry.state is ConfigEntryState.LOADED

    async def async_load_store(self) -> None:
        """Read the stored messages once; a concurrent caller waits for that read."""
        if self.store.loaded:
            return
        async with self._store_lock:
            if not self.store.loaded:
                await self.commands.async_load()
                await self.store.async_load()

    async def async_start(self) -> None:
        """Set up: check the credentials with ACTIO, read the store.

        Maps the client's errors to what Home Assistant does with an entry:
        re-authentication, a repair issue for the number, or a retry.
        """
        settings = self.settings
        self.client = self._new_client()
        self.send_gate = asyncio.Semaphore(settings.concurrency)
        try:
            await self.client.check_credentials(settings.sender, mode=settings.mode)
        except ActioAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        except ActioValidationError as err:
            # Only the number can be wrong here; re-authentication asks for a
            # token, so the repair issue leads to a form that asks for the number.
            async_raise_invalid_sender(self.hass, self.entry, settings.sender)
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key="invalid_sender",
                translation_placeholders={"sender": settings.sender},
            ) from err
        except ActioError as err:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN, translation_key="cannot_connect"
            ) from err
        async_delete(self.hass, ISSUE_INVALID_SENDER, self.entry_id)
        await self.async_load_store()
        self.store.set_bounds(settings.history_size, settings.history_days)
        await self.quarantine.async_load()
        if self.quarantine.count:
            async_raise_unrecognised_posts(
                self.hass, self.entry, self.quarantine.count, self.quarantine.last or ""
            )
        self._loaded_with = (
            dict(self.entry.data),
            dict(self.entry.options),
            recipients_of(self.entry),
        )

    def needs_reload(self) -> bool:
        """Whether the entry changed in a way only a reload applies.

        A recipient added needs none (the notify platform adds its entity);
        one removed takes its entity and device along with it.
        """
        data, options, recipients = self._loaded_with
        now = recipients_of(self.entry)
        return (
            dict(self.entry.data) != data
            or dict(self.entry.options) != options
            or any(
                sub_id in now and now[sub_id] != before
                for sub_id, before in recipients.items()
            )
        )

    def note_recipients(self) -> None:
        """A recipient was added without a reload: changing it later reloads."""
        data, options, _ = self._loaded_with
        self._loaded_with = (data, options, recipients_of(self.entry))

    @callback
    def async_device_id(self) -> str | None:
        """The entry's device, so its page lists the events (None before setup)."""
        if self._device_id is None and (
            device := dr.async_get(self.hass).async_get_device_by_identifier(
                (DOMAIN, self.entry_id), self.entry_id
            )
        ):
            self._device_id = device.id
        return self._device_id

    @callback
    def event_data(self, **data: Any) -> dict[str, Any]:
        """A bus event's data: which entry and device, then ``data``."""
        return {
            "config_entry_id": self.entry_id,
            "device_id": self.async_device_id(),
            **data,
        }

    @callback
    def async_changed(self, *changes: Change) -> None:
        """Sensors showing ``changes`` should write (coalesced in a burst)."""
        if self._changes.issuperset(changes):
            return  # already due at the write scheduled for them
        self._changes.update(changes)
        self._sensor_debouncer.async_schedule_call()

    @callback
    def _async_write_sensors(self) -> None:
        changes, self._changes = self._changes, set()
        for change in changes:
            async_dispatcher_send(self.hass, signal_changed(self.entry_id, change))

    @callback
    def async_deleted(self, number: str) -> None:
        """A conversation left the history: panels drop it, sensors recount."""
        async_dispatcher_send(self.hass, signal_deleted(self.entry_id), number)
        self.async_changed(Change.RECEIVED, Change.SENT)

    @callback
    def async_cancel_sensor_write(self) -> None:
        """Drop a scheduled sensor write (the entities are going away)."""
        self._changes.clear()
        self._sensor_debouncer.async_cancel()


@dataclass
class ActioData:
    """The integration's own state, across all entries (``hass.data``)."""

    allowlist: ActioAllowlist
    runtimes: dict[str, ActioRuntime] = field(default_factory=dict)
    """Every entry's runtime, loaded or not, created on first use."""
    webhooks: set[str] = field(default_factory=set)
    """The webhook ids registered (for every entry, loaded or not)."""
    command_user_id: str | None = None
    """The system user SMS commands run as, once looked up or made."""


DATA_ACTIO: HassKey[ActioData] = HassKey(DOMAIN)


@callback
def async_get_runtime(hass: HomeAssistant, entry: ActioConfigEntry) -> ActioRuntime:
    """The entry's runtime, created (store not yet read) on first use."""
    runtimes = hass.data[DATA_ACTIO].runtimes
    if (runtime := runtimes.get(entry.entry_id)) is None:
        runtime = runtimes[entry.entry_id] = ActioRuntime(hass, entry)
    return runtime
