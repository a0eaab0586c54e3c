"""Diagnostics, with the token, webhook id and phone numbers redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant

from .const import CONF_DEFAULT_RECIPIENTS, CONF_NUMBER, CONF_TOKEN
from .runtime import ActioConfigEntry

TO_REDACT = {CONF_TOKEN, CONF_WEBHOOK_ID, CONF_DEFAULT_RECIPIENTS, CONF_NUMBER}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ActioConfigEntry
) -> dict[str, Any]:
    """Entry settings, counters and recent errors; no message content."""
    runtime = entry.runtime_data
    log = runtime.log
    statuses: dict[str, int] = {}
    for record in log.records:
        if record["direction"] == "sent":
            statuses[record["status"]] = statuses.get(record["status"], 0) + 1
    return {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": async_redact_data(dict(entry.options), TO_REDACT),
            "subentries": len(entry.subentries),
        },
        "api": {"mode": runtime.mode.value, "multi_path": runtime.client.multi_path},
        "counters": dict(log.counters),
        "history": {
            "records": len(log.records),
            "max_size": log.max_size,
            "max_days": log.max_age.days,
            "sent_by_status": statuses,
        },
        "last_error": runtime.last_error,
    }
