"""The ACTIO SMS integration."""

from __future__ import annotations

from homeassistant.const import CONF_NAME, CONF_WEBHOOK_ID, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    discovery,
    entity_registry as er,
)
from homeassistant.helpers.typing import ConfigType

from .allowlist import ActioAllowlist
from .cloudhook import async_delete_cloudhook
from .commands import async_remove_command_user
from .const import CONF_CLOUDHOOK, DOMAIN, LOGGER
from .data import (
    DATA_ACTIO,
    ActioConfigEntry,
    ActioData,
    ActioRuntime,
    async_get_runtime,
)
from .entity import async_mark_unavailable, entry_device_info
from .issues import async_track_webhook_reachable
from .outbox import (
    async_forget_failed_deliveries,
    async_refresh_limit_issue,
    async_track_new_day,
)
from .panel import (
    async_register as async_register_panel,
    async_remove_if_last as async_remove_panel_if_last,
    async_setup_static,
)
from .phone import async_load_metadata
from .services import async_setup_services
from .webhook import (
    async_register as async_register_webhook,
    async_unregister as async_unregister_webhook,
)
from .websocket_api import async_setup as async_setup_websocket_api

PLATFORMS = [Platform.EVENT, Platform.NOTIFY, Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Receive for every entry from now on; register the actions once."""
    hass.data[DATA_ACTIO] = ActioData(ActioAllowlist(hass))
    # Before any entry loads (or fails to): ACTIO posts once, and Home
    # Assistant answers 200 to webhooks nobody registered.
    for entry in hass.config_entries.async_entries(DOMAIN):
        async_register_webhook(hass, entry)
    await async_load_metadata(hass)
    async_setup_services(hass)
    async_setup_websocket_api(hass)
    await async_setup_static(hass)
    hass.async_create_task(
        discovery.async_load_platform(
            hass, Platform.NOTIFY, DOMAIN, {CONF_NAME: DOMAIN}, config
        )
    )
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ActioConfigEntry) -> bool:
    """Set up ACTIO SMS from a config entry."""
    async_register_webhook(hass, entry)  # a new entry, made after startup
    runtime = async_get_runtime(hass, entry)
    try:
        await runtime.async_start()
    except Exception:
        async_mark_unavailable(hass, entry)
        raise
    entry.runtime_data = runtime
    # Created up front so recipient devices can point at it (via_device_id).
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **entry_device_info(runtime)
    )
    async_refresh_limit_issue(runtime)
    entry.async_on_unload(async_track_webhook_reachable(hass, entry))
    entry.async_on_unload(async_track_new_day(runtime))
    entry.async_on_unload(async_forget_failed_deliveries(runtime))
    entry.async_on_unload(entry.add_update_listener(_async_reload))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    async_register_panel(hass)
    return True


async def _async_reload(hass: HomeAssistant, entry: ActioConfigEntry) -> None:
    """Reload when the settings or an existing recipient changed."""
    if entry.runtime_data.needs_reload():
        await hass.config_entries.async_reload(entry.entry_id)
    else:
        entry.runtime_data.note_recipients()


async def async_unload_entry(hass: HomeAssistant, entry: ActioConfigEntry) -> bool:
    """Unload the platforms; the webhook and the store stay (see data.py)."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        entry.runtime_data.async_cancel_sensor_write()
        await entry.runtime_data.store.async_flush()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: ActioConfigEntry) -> None:
    """Stop receiving; delete the cloudhook and the stored history."""
    async_unregister_webhook(hass, entry)
    async_remove_panel_if_last(hass, entry)
    data = hass.data.get(DATA_ACTIO)
    runtime = data.runtimes.pop(entry.entry_id, None) if data else None
    if runtime is not None:
        runtime.async_cancel_sensor_write()
    # The runtime's own files, so that pending delayed saves are cancelled too.
    if runtime is None:
        runtime = ActioRuntime(hass, entry)
    await runtime.store.async_remove()
    await runtime.quarantine.async_remove()
    await runtime.commands.store.async_remove()
    if entry.data.get(CONF_CLOUDHOOK):
        await async_delete_cloudhook(hass, entry.data[CONF_WEBHOOK_ID])
    if not any(
        other.entry_id != entry.entry_id
        for other in hass.config_entries.async_entries(DOMAIN)
    ):
        await async_remove_command_user(hass)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: ActioConfigEntry, device: dr.DeviceEntry
) -> bool:
    """A recipient's device may go once its recipient is gone; the entry's may not."""
    return not any(
        identifier in device.identifiers
        for identifier in (
            (DOMAIN, entry.entry_id),
            *(
                (DOMAIN, f"{entry.entry_id}_{subentry_id}")
                for subentry_id in entry.subentries
            ),
        )
    )


async def async_migrate_entry(hass: HomeAssistant, entry: ActioConfigEntry) -> bool:
    """1.1 → 1.2: key entities and devices by the entry id, not the number."""
    if entry.version > 1:
        return False
    if entry.minor_version < 2:
        old = entry.unique_id or entry.entry_id
        new = entry.entry_id

        def rekey(key: str) -> str:
            if key == old or key.startswith(f"{old}_"):
                return new + key.removeprefix(old)
            return key

        await er.async_migrate_entries(
            hass,
            entry.entry_id,
            lambda ent: (
                {"new_unique_id": rekey(ent.unique_id)}
                if rekey(ent.unique_id) != ent.unique_id
                else None
            ),
        )
        registry = dr.async_get(hass)
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            registry.async_update_device(
                device.id,
                new_identifiers={
                    (domain, rekey(key) if domain == DOMAIN else key)
                    for domain, key in device.identifiers
                },
            )
        hass.config_entries.async_update_entry(entry, minor_version=2)
        LOGGER.debug("Migrated entry %s to 1.2", entry.entry_id)
    return True
