"""The "SMS" sidebar panel: served by the integration, registered once per start.

The JS module lives in ``frontend/`` and is served from a static path; no
resource step, no separate frontend repository. The panel is registered when
Home Assistant's frontend is there (this integration does not wait for it at
startup: every second before the webhook is registered loses what ACTIO
posts), survives reloads, and goes with the last entry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from homeassistant.auth.models import User
from homeassistant.components.http.server import StaticPathConfig
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_COMPONENT_LOADED
from homeassistant.core import Event, HomeAssistant, callback

from .const import CONF_PANEL_EVERYONE, DOMAIN, LOGGER, VERSION

PANEL_URL: Final = "actio-sms"
STATIC_URL: Final = f"/{DOMAIN}_frontend"
ELEMENT: Final = "actio-sms-panel"
FRONTEND_DIR: Final = Path(__file__).parent / "frontend"


async def async_setup_static(hass: HomeAssistant) -> None:
    """Serve the panel's files (once per start; nothing is read now)."""
    await hass.http.async_register_static_paths(
        [StaticPathConfig(STATIC_URL, str(FRONTEND_DIR), cache_headers=False)]
    )


def _for_everyone(entry: ConfigEntry[Any]) -> bool:
    """Whether an entry opens its messages to users who are not admins."""
    return bool(entry.options.get(CONF_PANEL_EVERYONE, False))


def panel_for_everyone(hass: HomeAssistant) -> bool:
    """Whether any entry opens the panel to users who are not admins."""
    return any(
        _for_everyone(entry) for entry in hass.config_entries.async_entries(DOMAIN)
    )


def may_read_messages(entry: ConfigEntry[Any], user: User) -> bool:
    """Whether a user may read an entry's messages (the panel, get_messages)."""
    return user.is_admin or _for_everyone(entry)


@callback
def async_register(hass: HomeAssistant) -> None:
    """Add the panel (or update who may see it) once the frontend is loaded."""
    if "frontend" in hass.config.components:
        _async_register_now(hass)
        return

    @callback
    def _loaded(event: Event) -> None:
        if event.data.get("component") == "frontend":
            unsub()
            _async_register_now(hass)

    unsub = hass.bus.async_listen(EVENT_COMPONENT_LOADED, _loaded)


@callback
def _async_register_now(hass: HomeAssistant) -> None:
    from homeassistant.components import frontend  # noqa: PLC0415

    if not hass.config_entries.async_entries(DOMAIN):
        return
    require_admin = not panel_for_everyone(hass)
    existing = hass.data.get(frontend.DATA_PANELS, {}).get(PANEL_URL)
    if existing is not None and existing.require_admin == require_admin:
        return  # once per start: another entry or a reload changes nothing
    frontend.async_register_built_in_panel(
        hass,
        component_name="custom",
        sidebar_title="SMS",
        sidebar_icon="mdi:message-text",
        frontend_url_path=PANEL_URL,
        config={
            "_panel_custom": {
                "name": ELEMENT,
                "embed_iframe": False,
                "trust_external": False,
                # The version busts the browser's cache after an update.
                "module_url": f"{STATIC_URL}/actio-sms-panel.js?v={VERSION}",
            }
        },
        require_admin=require_admin,
        update=existing is not None,
    )
    LOGGER.debug("SMS panel registered")


@callback
def async_remove_if_last(hass: HomeAssistant, removed: ConfigEntry) -> None:
    """The last entry is gone: so is the panel."""
    if "frontend" not in hass.config.components or any(
        entry.entry_id != removed.entry_id
        for entry in hass.config_entries.async_entries(DOMAIN)
    ):
        return
    from homeassistant.components import frontend  # noqa: PLC0415

    frontend.async_remove_panel(hass, PANEL_URL, warn_if_unknown=False)
