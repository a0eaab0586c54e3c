"""Repair flows: the form behind the refused-number issue (ids in ``issues.py``)."""

from __future__ import annotations

from typing import Any

import probatio as vol

from homeassistant.components.repairs import (
    ConfirmRepairFlow,
    RepairsFlow,
    RepairsFlowResult,
)
from homeassistant.core import HomeAssistant

from .actio import ApiMode
from .config_flow import (
    PHONE_SELECTOR,
    api_host,
    async_validate,
    errors_in,
    sender_updates,
)
from .const import (
    CONF_API_MODE,
    CONF_API_URL,
    CONF_SENDER,
    CONF_TOKEN,
    DOMAIN,
    ISSUE_UNRECOGNISED_POSTS,
)
from .data import ActioConfigEntry, async_get_runtime
from .phone import format_number


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
        placeholders = {"host": api_host(entry.data[CONF_API_URL])}
        if user_input is not None:
            sender, errors, placeholders = await async_validate(
                self.hass,
                entry.data[CONF_TOKEN],
                user_input[CONF_SENDER],
                entry.data[CONF_API_URL],
                ApiMode(entry.data[CONF_API_MODE]),
            )
            # Only the number is asked here; the rest is said above the form.
            errors = errors_in(errors, {CONF_SENDER}, "base")
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


class ClearUnrecognisedPostsFlow(ConfirmRepairFlow):
    """Read what to report, then forget the posts kept aside."""

    def __init__(self, entry: ActioConfigEntry) -> None:
        """Remember the entry whose posts to clear."""
        super().__init__()
        self._entry = entry

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Show the count and what to do; clear on submit."""
        runtime = async_get_runtime(self.hass, self._entry)
        if user_input is not None:
            await runtime.quarantine.async_clear()
            return self.async_create_entry(data={})
        await runtime.quarantine.async_load()
        return self.async_show_form(
            step_id="confirm",
            description_placeholders={
                "title": self._entry.title,
                "count": str(runtime.quarantine.count),
                "last": runtime.quarantine.last or "-",
            },
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """The fix flow of a fixable issue (a refused number, unknown posts)."""
    entry_id = str((data or {})["entry_id"])
    entry: ActioConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None:
        msg = f"Unknown entry {entry_id}"
        raise ValueError(msg)
    if issue_id.startswith(ISSUE_UNRECOGNISED_POSTS):
        return ClearUnrecognisedPostsFlow(entry)
    return InvalidSenderRepairFlow(entry)
