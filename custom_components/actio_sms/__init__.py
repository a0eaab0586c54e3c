"""The ACTIO SMS integration."""

from __future__ import annotations

from functools import partial

from aiohttp import web

from homeassistant.components.webhook import (
    async_register as async_register_webhook,
    async_unregister as async_unregister_webhook,
)
from homeassistant.const import (
    CONF_NAME,
    CONF_WEBHOOK_ID,
    EVENT_CORE_CONFIG_UPDATE,
    Platform,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    discovery,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .api import ActioAuthError, ActioClient, ActioError, ActioValidationError
from .cloudhook import async_delete_cloudhook
from .const import (
    API_TIMEOUT,
    CONF_API_URL,
    CONF_CLOUDHOOK,
    CONF_HISTORY_DAYS,
    CONF_HISTORY_SIZE,
    CONF_TOKEN,
    DEFAULT_HISTORY_DAYS,
    DEFAULT_HISTORY_SIZE,
    DOMAIN,
)
from .entity import entry_device_info
from .history import MessageLog
from .repairs import async_check_webhook_reachable
from .runtime import ActioConfigEntry, ActioRuntimeData
from .services import async_setup_services
from .webhook import async_handle_webhook

PLATFORMS = [Platform.EVENT, Platform.NOTIFY, Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions and the legacy notify service once."""
    async_setup_services(hass)
    hass.async_create_task(
        discovery.async_load_platform(
            hass, Platform.NOTIFY, DOMAIN, {CONF_NAME: DOMAIN}, config
        )
    )
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ActioConfigEntry) -> bool:
    """Set up ACTIO SMS from a config entry."""
    client = ActioClient(
        async_get_clientsession(hass),
        entry.data[CONF_TOKEN],
        base_url=entry.data[CONF_API_URL],
        timeout=API_TIMEOUT,
    )
    runtime = ActioRuntimeData(
        hass,
        entry,
        client,
        MessageLog(
            hass,
            entry.entry_id,
            int(entry.options.get(CONF_HISTORY_SIZE, DEFAULT_HISTORY_SIZE)),
            int(entry.options.get(CONF_HISTORY_DAYS, DEFAULT_HISTORY_DAYS)),
        ),
    )
    try:
        await client.check_credentials(runtime.sender, mode=runtime.mode)
    except ActioAuthError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="auth_failed"
        ) from err
    except ActioValidationError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="invalid_sender"
        ) from err
    except ActioError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="cannot_connect"
        ) from err
    await runtime.log.async_load()
    entry.runtime_data = runtime
    # Created up front so recipient devices can point at it (via_device_id).
    runtime.device_id = (
        dr.async_get(hass)
        .async_get_or_create(
            config_entry_id=entry.entry_id, **entry_device_info(runtime)
        )
        .id
    )

    async_register_webhook(
        hass,
        DOMAIN,
        entry.title,
        entry.data[CONF_WEBHOOK_ID],
        partial(_handle_webhook, runtime),
        local_only=False,
        allowed_methods=["POST"],
    )
    entry.async_on_unload(
        partial(async_unregister_webhook, hass, entry.data[CONF_WEBHOOK_ID])
    )

    @callback
    def _async_core_config_updated(_event: Event) -> None:
        async_check_webhook_reachable(hass, entry)

    async_check_webhook_reachable(hass, entry)
    entry.async_on_unload(
        hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, _async_core_config_updated)
    )
    entry.async_on_unload(entry.add_update_listener(_async_reload))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def _handle_webhook(
    runtime: ActioRuntimeData,
    _hass: HomeAssistant,
    _webhook_id: str,
    request: web.Request,
) -> web.Response:
    return await async_handle_webhook(runtime, request)


async def _async_reload(hass: HomeAssistant, entry: ActioConfigEntry) -> None:
    """Reload when options or subentries change."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: ActioConfigEntry) -> bool:
    """Unload a config entry, writing any pending history first."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        entry.runtime_data.async_cancel_pending()
        await entry.runtime_data.log.async_flush()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: ActioConfigEntry) -> None:
    """Delete the cloudhook and the stored history of a removed entry."""
    await MessageLog(hass, entry.entry_id, 0, 0).async_remove()
    if entry.data.get(CONF_CLOUDHOOK):
        await async_delete_cloudhook(hass, entry.data[CONF_WEBHOOK_ID])
