"""Repair issues: tell the user when ACTIO cannot reach the webhook."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.network import NoURLAvailableError, get_url

from .cloudhook import async_cloud_active
from .const import DOMAIN, ISSUE_WEBHOOK_UNREACHABLE


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


@callback
def async_check_webhook_reachable(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Raise or clear the repair issue for this entry."""
    issue_id = f"{ISSUE_WEBHOOK_UNREACHABLE}_{entry.entry_id}"
    if async_webhook_reachable(hass):
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_WEBHOOK_UNREACHABLE,
        translation_placeholders={"title": entry.title},
        learn_more_url="https://www.home-assistant.io/docs/configuration/remote/",
    )
