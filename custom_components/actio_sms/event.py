"""Event entities, so UI automations can trigger on SMS and delivery reports."""

from __future__ import annotations

from homeassistant.components.event import (
    DOMAIN as EVENT_DOMAIN,
    EventEntity,
    EventEntityDescription,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .actio import EVENT_STATUSES
from .data import ActioConfigEntry, signal_delivery, signal_received
from .entity import ActioEntity
from .store import LoggedReport, ReceivedRecord

PARALLEL_UPDATES = 0

MESSAGE_RECEIVED = EventEntityDescription(
    key="message_received",
    translation_key="message_received",
    event_types=["message_received"],
    entity_registry_enabled_default=False,
)
DELIVERY_REPORT = EventEntityDescription(
    key="delivery_report",
    translation_key="delivery_report",
    event_types=list(EVENT_STATUSES),
    entity_registry_enabled_default=False,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ActioConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the event entities of an entry."""
    runtime = entry.runtime_data
    async_add_entities(
        [
            ActioMessageEvent(runtime, MESSAGE_RECEIVED),
            ActioDeliveryEvent(runtime, DELIVERY_REPORT),
        ]
    )


class ActioMessageEvent(ActioEntity, EventEntity):
    """Fires for every inbound SMS."""

    _id_domain = EVENT_DOMAIN
    _quiet_on_reload = False

    # Numbers are personal data, and with them every state would need its own
    # attributes row; the recorded bus event already keeps who wrote.
    _unrecorded_attributes = frozenset({"body", "from", "to"})

    async def async_added_to_hass(self) -> None:
        """Follow inbound messages."""
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, signal_received(self.runtime.entry_id), self._async_received
            )
        )

    @callback
    def _async_received(self, record: ReceivedRecord) -> None:
        self._trigger_event(
            "message_received",
            {key: record[key] for key in ("from", "to", "body")},
        )
        self.async_write_ha_state()


class ActioDeliveryEvent(ActioEntity, EventEntity):
    """Fires for every delivery report."""

    _id_domain = EVENT_DOMAIN
    _quiet_on_reload = False

    _unrecorded_attributes = frozenset({"body", "recipient", "message_id"})

    async def async_added_to_hass(self) -> None:
        """Follow delivery reports."""
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, signal_delivery(self.runtime.entry_id), self._async_report
            )
        )

    @callback
    def _async_report(self, report: LoggedReport) -> None:
        self._trigger_event(
            report["status"],
            {
                key: value
                for key, value in report.items()
                if key in ("message_id", "recipient", "body")
            },
        )
        self.async_write_ha_state()
