"""Logbook descriptions of the events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from custom_components.actio_sms.const import (
    DOMAIN,
    EVENT_COMMAND,
    EVENT_DELIVERY_STATUS,
    EVENT_MESSAGE_RECEIVED,
)
from custom_components.actio_sms.logbook import async_describe_events
from homeassistant.core import Event, HomeAssistant


async def test_logbook(hass: HomeAssistant) -> None:
    described: dict[str, Callable[[Event], dict[str, Any]]] = {}

    def register(
        domain: str, event_type: str, describe: Callable[[Event], dict[str, Any]]
    ) -> None:
        assert domain == DOMAIN
        described[event_type] = describe

    async_describe_events(hass, register)
    assert set(described) == {
        EVENT_MESSAGE_RECEIVED,
        EVENT_DELIVERY_STATUS,
        EVENT_COMMAND,
    }
    rows = [
        described[EVENT_MESSAGE_RECEIVED](
            Event(EVENT_MESSAGE_RECEIVED, {"from": "48600100200", "body": "hi"})
        ),
        described[EVENT_DELIVERY_STATUS](
            Event(
                EVENT_DELIVERY_STATUS,
                {
                    "message_id": "abc",
                    "status": "delivered",
                    "recipient": "48600100200",
                },
            )
        ),
        described[EVENT_DELIVERY_STATUS](
            Event(EVENT_DELIVERY_STATUS, {"message_id": "def", "status": "error"})
        ),
        described[EVENT_COMMAND](
            Event(
                EVENT_COMMAND,
                {"from": "48600100200", "command": "status", "response": "All off"},
            )
        ),
    ]
    assert [(r["name"], r["message"]) for r in rows] == [
        ("ACTIO SMS", "received an SMS from 48600100200"),
        ("ACTIO SMS", "SMS abc to 48600100200 was delivered"),
        ("ACTIO SMS", "SMS def failed"),
        ("ACTIO SMS", "ran an SMS command from 48600100200: status"),
    ]
