"""Diagnostics: settings, counters and errors, with secrets and numbers redacted."""

from __future__ import annotations

import re
from typing import Any, Final

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant

from .const import (
    CONF_COMMAND_PIN,
    CONF_COMMAND_SENDERS,
    CONF_DEFAULT_RECIPIENTS,
    CONF_NUMBER,
    CONF_SENDER,
    CONF_TOKEN,
)
from .data import ActioConfigEntry

TO_REDACT: Final = {
    CONF_TOKEN,
    CONF_WEBHOOK_ID,
    CONF_SENDER,
    CONF_DEFAULT_RECIPIENTS,
    CONF_COMMAND_PIN,
    CONF_COMMAND_SENDERS,
    CONF_NUMBER,
    "title",
    "unique_id",
}
# Anything that looks like a phone number in free text (titles, ACTIO's
# error messages): 7 or more digits, possibly grouped by spaces or dashes.
PHONE_LIKE: Final = re.compile(r"\+?\d(?:[\s\-]?\d){6,}")


def _scrub(value: Any) -> Any:
    """Replace phone-like text in every string of a nested structure."""
    if isinstance(value, str):
        return PHONE_LIKE.sub(REDACTED, value)
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    return value


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ActioConfigEntry
) -> dict[str, Any]:
    """Entry settings, counters and the last error; no message content."""
    runtime = entry.runtime_data
    log = runtime.store
    statuses = await log.count_by_status()
    diagnostics: dict[str, Any] = _scrub(
        {
            "entry": {
                "title": entry.title,
                "version": f"{entry.version}.{entry.minor_version}",
                "data": async_redact_data(dict(entry.data), TO_REDACT),
                "options": async_redact_data(dict(entry.options), TO_REDACT),
                "subentries": [
                    async_redact_data(
                        {
                            "type": sub.subentry_type,
                            "title": sub.title,
                            "unique_id": sub.unique_id,
                            "data": dict(sub.data),
                        },
                        TO_REDACT,
                    )
                    for sub in entry.subentries.values()
                ],
            },
            "api": {
                "mode": runtime.settings.mode.value,
                "multi_path": runtime.client.multi_path,
            },
            "counters": dict(log.counters),
            "spend_guard": {
                "parts_today": log.parts_today(),
                "parts_this_month": log.parts_this_month(),
                "reserved": runtime.spend.reserved,
            },
            "history": {
                "records": len(log),
                "max_size": log.max_size,
                "max_days": log.max_age.days,
                "sent_by_status": statuses,
            },
            "last_error": runtime.last_error,
            # Shapes only (key paths and value types): never a value of a post.
            "unrecognised_posts": {
                "count": runtime.quarantine.count,
                "kept": runtime.quarantine.shapes(),
            },
        }
    )
    return diagnostics
