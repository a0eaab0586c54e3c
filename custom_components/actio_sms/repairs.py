"""Repair issues: an unreachable webhook, and a virtual number ACTIO refuses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import probatio as vol

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.const import EVENT_CORE_CONFIG_UPDATE
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .api import ApiMode
from .cloudhook import async_webhook_reachable
from .config_flow import PHONE_SELECTOR, async_validate, sender_updates
from .const import (
    CONF_API_MODE,
    CONF_API_URL,
    CONF_SENDER,
    CONF_TOKEN,
    DOMAIN,
    ISSUE_INVALID_SENDER,
    ISSUE_WEBHOOK_UNREACHABLE,
)
from .phone import format_number

if TYPE_CHECKING:
    from .runtime import ActioConfigEntry


@callback
def async_check_webhook_reachable(hass: HomeAssistant, entry: ActioConfigEntry) -> None:
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


@callback
def async_track_webhook_reachable(
    hass: HomeAssistant, entry: ActioConfigEntry
) -> CALLBACK_TYPE:
    """Check now and whenever the core configuration (its URLs) changes."""

    @callback
    def _async_core_config_updated(_event: Event) -> None:
        async_check_webhook_reachable(hass, entry)

    async_check_webhook_reachable(hass, entry)
    return hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, _async_core_config_updated)


@callback
def async_raise_invalid_sender_issue(
    hass: HomeAssistant, entry: ActioConfigEntry, sender: str
) -> None:
    """ACTIO refused the entry's number: offer a form to enter the right one."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{ISSUE_INVALID_SENDER}_{entry.entry_id}",
        is_fixable=True,
        is_persistent=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=ISSUE_INVALID_SENDER,
        translation_placeholders={"sender": format_number(sender)},
        data={"entry_id": entry.entry_id},
    )


@callback
def async_delete_invalid_sender_issue(
    hass: HomeAssistant, entry: ActioConfigEntry
) -> None:
    """The number works again."""
    ir.async_delete_issue(hass, DOMAIN, f"{ISSUE_INVALID_SENDER}_{entry.entry_id}")


class InvalidSenderRepairFlow(RepairsFlow):
    """Ask for the virtual number ACTIO accepts, check it, and reload."""

    def __init__(self, entry: ActioConfigEntry) -> None:
        """Remember the entry to fix."""
        self._entry = entry

    async def async_step_init(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Start with the form (the repairs flow passes the issue data here)."""
        return await self.async_step_sender()

    async def async_step_sender(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Ask for the number."""
        entry = self._entry
        errors: dict[str, str] = {}
        placeholders = {"reason": ""}
        if user_input is not None:
            sender, errors, placeholders = await async_validate(
                self.hass,
                entry.data[CONF_TOKEN],
                user_input[CONF_SENDER],
                entry.data[CONF_API_URL],
                ApiMode(entry.data[CONF_API_MODE]),
            )
            if sender and not errors:
                if any(
                    other.unique_id == sender and other.entry_id != entry.entry_id
                    for other in self.hass.config_entries.async_entries(DOMAIN)
                ):
                    errors[CONF_SENDER] = "already_configured"
                else:
                    self.hass.config_entries.async_update_entry(
                        entry, **sender_updates(entry, sender)
                    )
                    self.hass.config_entries.async_schedule_reload(entry.entry_id)
                    return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="sender",
            data_schema=vol.Schema({vol.Required(CONF_SENDER): PHONE_SELECTOR}),
            description_placeholders={
                "sender": format_number(entry.data[CONF_SENDER]),
                **placeholders,
            },
            errors=errors,
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """The fix flow of a fixable issue (only the invalid-number one is)."""
    entry_id = str((data or {})["entry_id"])
    entry: ActioConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None:
        msg = f"Unknown entry {entry_id}"
        raise ValueError(msg)
    return InvalidSenderRepairFlow(entry)
