"""Base entity: one device per entry, every entity attached to it."""

from __future__ import annotations

from typing import Any, ClassVar

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .const import DOMAIN, MANUFACTURER
from .data import ActioRuntime
from .phone import format_number
from .settings import entity_object_id


class ActioEntity(Entity):
    """An entity of an ACTIO SMS entry."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    # Message texts (one-time codes, private messages) stay out of the
    # recorder's database; automations still see them in the state.
    _unrecorded_attributes = frozenset({"body"})
    _id_domain: ClassVar[str]
    """The platform, for the entity id requested at creation."""
    _quiet_on_reload: ClassVar[bool] = True
    """Leave no Activity line when the entry reloads (see below)."""

    def __init__(self, runtime: ActioRuntime, description: EntityDescription) -> None:
        """Attach to the entry's device."""
        self.entity_description = description
        self.runtime = runtime
        # The entry id, not the number: identities survive a new number.
        self._attr_unique_id = f"{runtime.entry_id}_{description.key}"
        self._attr_device_info = entry_device_info(runtime)
        sender = runtime.settings.sender
        self.entity_id = (
            f"{self._id_domain}.{entity_object_id(sender, description.key)}"
        )

    async def async_will_remove_from_hass(self) -> None:
        """While the entry unloads, leave the state machine: no Activity lines.

        Home Assistant's logbook lists every change of a state that has an old
        state (it leaves out only counters, images, proximity and sensors with
        a unit or state class). Removed with its registry entry kept, an
        entity is set unavailable; a reload therefore wrote two lines per
        entity, "unavailable" and then the state again (for a notify entity
        its time, shown as "Sent", as if an SMS had gone out). Without its
        registry entry here, Home Assistant removes the state instead: the
        recorder stores no state for a removal and the state added back has
        no old one, so the logbook lists neither. If the entry then fails to
        load, ``async_setup_entry`` marks the entity unavailable, as Home
        Assistant does at startup. Event entities keep the old way: the
        README's ``not_to: unavailable`` guard is written for it.
        """
        await super().async_will_remove_from_hass()
        if (
            self._quiet_on_reload
            and self.runtime.entry.state is ConfigEntryState.UNLOAD_IN_PROGRESS
        ):
            self.registry_entry = None


def entry_device_info(runtime: ActioRuntime) -> DeviceInfo:
    """The entry's service device: one per virtual number."""
    return DeviceInfo(
        identifiers={(DOMAIN, runtime.entry_id)},
        name=f"ACTIO SMS {format_number(runtime.settings.sender)}",
        manufacturer=MANUFACTURER,
        model=f"{runtime.settings.mode.value.upper()} API",
        entry_type=DeviceEntryType.SERVICE,
        configuration_url="https://panel.actio.pl",
    )


@callback
def async_mark_unavailable(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """Show the entry's entities that have no state as unavailable.

    What Home Assistant does at startup for entities not provided: after a
    reload removed the notify entities' states (``notify.py``), an entry that
    fails to load again leaves them unavailable like its other entities.
    """
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if not entity.disabled and hass.states.get(entity.entity_id) is None:
            entity.write_unavailable_state(hass)
