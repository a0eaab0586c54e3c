"""Repair flows: the forms behind fixable issues (their ids in ``issues.py``).

A refused number asks for the right one; a reached daily limit offers to
raise it; posts nobody understood are forgotten once read about.
"""

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
    LIMIT_SELECTOR,
    PHONE_SELECTOR,
    api_host,
    async_validate,
    errors_in,
    sender_updates,
)
from .const import (
    CONF_API_MODE,
    CONF_API_URL,
    CONF_DAILY_LIMIT,
    CONF_SENDER,
    CONF_TOKEN,
    DOMAIN,
    ISSUE_DAILY_LIMIT,
    ISSUE_UNRECOGNISED_POSTS,
)
from .data import ActioConfigEntry, async_get_runtime
from .phone import format_number
from .settings import ActioSettings


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


class RaiseDailyLimitFlow(RepairsFlow):
    """The spend guard refused a send: raise the daily limit here, or leave it."""

    def __init__(self, entry: ActioConfigEntry) -> None:
        """Remember the entry whose limit to raise."""
        self._entry = entry

    async def async_step_init(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Start with the form."""
        return await self.async_step_limit()

    async def async_step_limit(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Ask for the new limit; a limit today's use already reaches is refused."""
        entry = self._entry
        limit = ActioSettings.from_entry(entry).daily_limit
        runtime = async_get_runtime(self.hass, entry)
        await runtime.async_load_store()
        used = runtime.store.parts_today()
        errors: dict[str, str] = {}
        if user_input is not None:
            new_limit = int(user_input[CONF_DAILY_LIMIT])
            if new_limit and new_limit <= used:
                errors[CONF_DAILY_LIMIT] = "limit_too_low"
            else:
                # The entry reloads with it, which clears the issue too.
                self.hass.config_entries.async_update_entry(
                    entry, options={**entry.options, CONF_DAILY_LIMIT: new_limit}
                )
                return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="limit",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Required(CONF_DAILY_LIMIT): LIMIT_SELECTOR}),
                user_input or {CONF_DAILY_LIMIT: max(2 * limit, used + 1)},
            ),
            description_placeholders={
                "title": entry.title,
                "used": str(used),
                "limit": str(limit),
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
    """The fix flow of a fixable issue (a refused number, the limit, unknown posts)."""
    entry_id = str((data or {})["entry_id"])
    entry: ActioConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None:
        msg = f"Unknown entry {entry_id}"
        raise ValueError(msg)
    if issue_id.startswith(ISSUE_UNRECOGNISED_POSTS):
        return ClearUnrecognisedPostsFlow(entry)
    if issue_id.startswith(ISSUE_DAILY_LIMIT):
        return RaiseDailyLimitFlow(entry)
    return InvalidSenderRepairFlow(entry)
