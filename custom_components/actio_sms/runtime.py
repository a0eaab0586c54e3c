"""What a loaded entry owns (``entry.runtime_data``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession

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
)
from .guard import SpendGuard
from .history import MessageLog
from .hub import EntryHub, async_get_hub
from .repairs import async_delete_invalid_sender_issue, async_raise_invalid_sender_issue
from .settings import ActioSettings, recipients_of

type ActioConfigEntry = ConfigEntry[ActioRuntimeData]


@dataclass
class ActioRuntimeData:
    """Everything an entry owns while it is loaded."""

    hass: HomeAssistant
    entry: ActioConfigEntry
    settings: ActioSettings
    client: ActioClient
    hub: EntryHub
    guard: SpendGuard
    send_gate: asyncio.Semaphore = field(init=False)
    """Bounds the entry's requests to ACTIO, across all concurrent sends."""
    device_id: str | None = None
    last_error: str | None = None
    data: dict[str, Any] = field(init=False)
    options: dict[str, Any] = field(init=False)
    recipients: dict[str, tuple[str, dict[str, Any]]] = field(init=False)
    """What the entry was loaded with: a change to these reloads it."""

    def __post_init__(self) -> None:
        """Create the send bound; note what the entry was loaded with."""
        self.send_gate = asyncio.Semaphore(self.settings.concurrency)
        self.data = dict(self.entry.data)
        self.options = dict(self.entry.options)
        self.recipients = recipients_of(self.entry)

    @property
    def entry_id(self) -> str:
        """The entry this runtime belongs to."""
        return self.entry.entry_id

    @property
    def log(self) -> MessageLog:
        """The entry's message log (owned by its hub, which outlives loads)."""
        return self.hub.log

    def needs_reload(self) -> bool:
        """Whether the entry changed in a way only a reload applies.

        A recipient added needs none (the notify platform adds its entity);
        one removed takes its entity and device along with it.
        """
        now = recipients_of(self.entry)
        return (
            dict(self.entry.data) != self.data
            or dict(self.entry.options) != self.options
            or any(
                sub_id in now and now[sub_id] != before
                for sub_id, before in self.recipients.items()
            )
        )


async def async_create_runtime(
    hass: HomeAssistant, entry: ActioConfigEntry
) -> ActioRuntimeData:
    """Check the credentials with ACTIO; the log is the hub's, loaded once."""
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
    hub = async_get_hub(hass, entry)
    await hub.async_load()
    hub.log.set_bounds(
        int(entry.options.get(CONF_HISTORY_SIZE, DEFAULT_HISTORY_SIZE)),
        int(entry.options.get(CONF_HISTORY_DAYS, DEFAULT_HISTORY_DAYS)),
    )
    guard = SpendGuard(hass, entry.entry_id, entry.title, settings, hub.log)
    guard.async_refresh_issue()
    return ActioRuntimeData(hass, entry, settings, client, hub, guard)
