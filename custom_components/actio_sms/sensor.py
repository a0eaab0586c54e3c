"""Sensors: last messages, last delivery status and counters."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    DOMAIN as SENSOR_DOMAIN,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .actio import EVENT_STATUSES
from .const import CURRENCY, STATE_MAX_LENGTH
from .data import ActioConfigEntry, ActioRuntime, Change, signal_changed
from .entity import ActioEntity
from .settings import ActioSettings
from .store import MessageStore

PARALLEL_UPDATES = 0


def _truncate(value: Any) -> str | None:
    return None if value is None else str(value)[:STATE_MAX_LENGTH]


def _last(log: MessageStore, which: str) -> Mapping[str, Any]:
    return getattr(log, which) or {}


def _month_start() -> datetime:
    return dt_util.start_of_local_day().replace(day=1)


@dataclass(frozen=True, kw_only=True)
class ActioSensorEntityDescription(SensorEntityDescription):
    """A sensor computed from the message log.

    Counters (messages, SMS parts) are whole numbers: a display precision of
    0 makes Home Assistant show them so, in the state, the more-info dialog
    and its chart's values, as its own count sensors do.
    """

    change: Change
    value_fn: Callable[[ActioRuntime], str | int | float | None]
    attributes_fn: Callable[[MessageStore], dict[str, Any]] | None = None
    exists_fn: Callable[[ActioSettings], bool] = lambda _: True
    last_reset_fn: Callable[[], datetime] | None = None


SENSORS: tuple[ActioSensorEntityDescription, ...] = (
    ActioSensorEntityDescription(
        key="last_received",
        translation_key="last_received",
        change=Change.RECEIVED,
        value_fn=lambda rt: _truncate(_last(rt.store, "last_received").get("body")),
        attributes_fn=lambda log: {
            key: _last(log, "last_received").get(key)
            for key in ("from", "to", "body", "received_at")
        },
    ),
    ActioSensorEntityDescription(
        key="last_sent",
        translation_key="last_sent",
        entity_registry_enabled_default=False,
        change=Change.SENT,
        value_fn=lambda rt: _truncate(_last(rt.store, "last_sent").get("body")),
        attributes_fn=lambda log: {
            key: _last(log, "last_sent").get(key)
            for key in ("recipients", "message_ids", "body", "sent_at")
        },
    ),
    ActioSensorEntityDescription(
        key="last_delivery_status",
        translation_key="last_delivery_status",
        change=Change.DELIVERY,
        device_class=SensorDeviceClass.ENUM,
        options=list(EVENT_STATUSES),
        value_fn=lambda rt: _last(rt.store, "last_delivery").get("status"),
        attributes_fn=lambda log: {
            key: _last(log, "last_delivery").get(key)
            for key in ("message_id", "recipient", "body", "sent_at", "status_at")
        },
    ),
    ActioSensorEntityDescription(
        key="messages_received",
        translation_key="messages_received",
        suggested_display_precision=0,
        change=Change.RECEIVED,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda rt: rt.store.counters["received"],
    ),
    ActioSensorEntityDescription(
        key="messages_sent",
        translation_key="messages_sent",
        suggested_display_precision=0,
        change=Change.SENT,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda rt: rt.store.counters["sent"],
    ),
    ActioSensorEntityDescription(
        key="messages_delivered",
        translation_key="messages_delivered",
        suggested_display_precision=0,
        change=Change.DELIVERY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda rt: rt.store.counters["delivered"],
    ),
    ActioSensorEntityDescription(
        key="messages_failed",
        translation_key="messages_failed",
        suggested_display_precision=0,
        change=Change.DELIVERY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda rt: rt.store.counters["failed"],
    ),
    ActioSensorEntityDescription(
        key="parts_today",
        translation_key="parts_today",
        suggested_display_precision=0,
        change=Change.USAGE,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda rt: rt.store.parts_today(),
    ),
    ActioSensorEntityDescription(
        key="remaining_today",
        translation_key="remaining_today",
        suggested_display_precision=0,
        change=Change.USAGE,
        # A measurement (with its unit): statistics, and no logbook line per send.
        state_class=SensorStateClass.MEASUREMENT,
        exists_fn=lambda settings: settings.daily_limit > 0,
        value_fn=lambda rt: max(0, rt.settings.daily_limit - rt.store.parts_today()),
    ),
    ActioSensorEntityDescription(
        key="cost_this_month",
        translation_key="cost_this_month",
        change=Change.USAGE,
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        native_unit_of_measurement=CURRENCY,
        suggested_display_precision=2,
        exists_fn=lambda settings: settings.price_per_part is not None,
        value_fn=lambda rt: round(
            rt.store.parts_this_month() * (rt.settings.price_per_part or 0), 4
        ),
        last_reset_fn=_month_start,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ActioConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of an entry."""
    runtime = entry.runtime_data
    async_add_entities(
        ActioSensor(runtime, description)
        for description in SENSORS
        if description.exists_fn(runtime.settings)
    )


class ActioSensor(ActioEntity, SensorEntity):
    """A sensor that reads the entry's message log.

    The log is persisted by the integration, so values survive restarts
    without RestoreSensor.
    """

    _id_domain = SENSOR_DOMAIN
    entity_description: ActioSensorEntityDescription

    async def async_added_to_hass(self) -> None:
        """Follow the log."""
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                signal_changed(self.runtime.entry_id, self.entity_description.change),
                self.async_write_ha_state,
            )
        )

    @property
    def native_value(self) -> str | int | float | None:
        """The value from the log."""
        return self.entity_description.value_fn(self.runtime)

    @property
    def last_reset(self) -> datetime | None:
        """The start of the month, for the cost sensor."""
        if (last_reset_fn := self.entity_description.last_reset_fn) is None:
            return None
        return last_reset_fn()

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Details of the last message."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.runtime.store)
