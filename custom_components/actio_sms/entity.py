"""Base entity: one device per entry, every entity attached to it."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .const import DOMAIN, MANUFACTURER
from .runtime import ActioRuntimeData


class ActioEntity(Entity):
    """An entity of an ACTIO SMS entry."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self, runtime: ActioRuntimeData, description: EntityDescription
    ) -> None:
        """Attach to the entry's device."""
        self.entity_description = description
        self.runtime = runtime
        unique = runtime.entry.unique_id or runtime.entry.entry_id
        self._attr_unique_id = f"{unique}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, unique)},
            name=f"ACTIO SMS {runtime.sender}",
            manufacturer=MANUFACTURER,
            model=f"{runtime.mode.value.upper()} API",
            entry_type=DeviceEntryType.SERVICE,
            configuration_url="https://panel.actio.pl",
        )
