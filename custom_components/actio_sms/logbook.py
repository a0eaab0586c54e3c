"""Logbook descriptions for the integration's events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN, EVENT_COMMAND, EVENT_DELIVERY_STATUS, EVENT_MESSAGE_RECEIVED


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    """Describe inbound SMS and delivery reports."""

    @callback
    def describe_received(event: Event) -> dict[str, str]:
        return {
            LOGBOOK_ENTRY_NAME: "ACTIO SMS",
            LOGBOOK_ENTRY_MESSAGE: f"received an SMS from {event.data.get('from')}",
        }

    @callback
    def describe_delivery(event: Event) -> dict[str, str]:
        recipient = event.data.get("recipient")
        target = f" to {recipient}" if recipient else ""
        status = (
            "was delivered" if event.data.get("status") == "delivered" else "failed"
        )
        return {
            LOGBOOK_ENTRY_NAME: "ACTIO SMS",
            LOGBOOK_ENTRY_MESSAGE: f"SMS {event.data.get('message_id')}{target} {status}",
        }

    @callback
    def describe_command(event: Event) -> dict[str, str]:
        return {
            LOGBOOK_ENTRY_NAME: "ACTIO SMS",
            LOGBOOK_ENTRY_MESSAGE: (
                f"ran an SMS command from {event.data.get('from')}: "
                f"{event.data.get('command')}"
            ),
        }

    async_describe_event(DOMAIN, EVENT_MESSAGE_RECEIVED, describe_received)
    async_describe_event(DOMAIN, EVENT_DELIVERY_STATUS, describe_delivery)
    async_describe_event(DOMAIN, EVENT_COMMAND, describe_command)
