"""Can ACTIO reach the webhook: Home Assistant Cloud's cloudhooks, external URLs."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.network import NoURLAvailableError, get_url


@callback
def async_cloud_active(hass: HomeAssistant) -> bool:
    """Whether Home Assistant Cloud is loaded with an active subscription."""
    if "cloud" not in hass.config.components:
        return False
    from homeassistant.components import cloud  # noqa: PLC0415

    return cloud.async_active_subscription(hass)


@callback
def async_webhook_reachable(hass: HomeAssistant) -> bool:
    """Whether Home Assistant has a URL the internet can reach (or Cloud)."""
    if async_cloud_active(hass):
        return True
    try:
        get_url(hass, allow_internal=False, allow_ip=True, prefer_external=True)
    except NoURLAvailableError:
        return False
    return True


async def async_create_cloudhook(hass: HomeAssistant, webhook_id: str) -> str | None:
    """A cloudhook URL for ``webhook_id``, or None without Cloud."""
    if not async_cloud_active(hass):
        return None
    from homeassistant.components import cloud  # noqa: PLC0415

    return await cloud.async_create_cloudhook(hass, webhook_id)


async def async_delete_cloudhook(hass: HomeAssistant, webhook_id: str) -> None:
    """Delete the cloudhook of a removed entry."""
    if "cloud" not in hass.config.components:
        return
    from homeassistant.components import cloud  # noqa: PLC0415

    await cloud.async_delete_cloudhook(hass, webhook_id)


async def async_get_cloudhook_url(hass: HomeAssistant, webhook_id: str) -> str | None:
    """The entry's existing cloudhook URL, or None without Cloud."""
    if not async_cloud_active(hass):
        return None
    from homeassistant.components import cloud  # noqa: PLC0415

    return await cloud.async_get_or_create_cloudhook(hass, webhook_id)
