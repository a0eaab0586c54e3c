"""Entities and devices keep their identity when the virtual number changes."""

from __future__ import annotations

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.actio_sms.const import (
    CONF_API_URL,
    CONF_SENDER,
    CONF_TOKEN,
    DOMAIN,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .conftest import FAMILY, SENDER, TOKEN, Setup, Sim, actio_entry

NEW_SENDER = "48732129005"


def registries(hass: HomeAssistant, entry: MockConfigEntry) -> tuple[dict, dict]:
    """entity_id → unique_id, and device id → (identifiers, name)."""
    entities = {
        e.entity_id: e.unique_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }
    devices = {
        d.id: (d.identifiers, d.name)
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    }
    return entities, devices


async def test_reconfigure_to_new_number_keeps_entities_and_devices(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    simulator.state.tokens[TOKEN].senders.append(NEW_SENDER)
    entry = await setup_entry(actio_entry(simulator.url, recipients=FAMILY))
    entities_before, devices_before = registries(hass, entry)
    # 2 event + 9 sensor (7 + parts today, remaining today) + 2 recipient
    # notify entities; the entry's device and one per recipient.
    assert len(entities_before) == 13
    assert len(devices_before) == 3

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_TOKEN: TOKEN,
            CONF_SENDER: "+48 732 129 005",
            CONF_API_URL: simulator.url,
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    assert entry.unique_id == NEW_SENDER
    assert entry.title == "+48 732 129 005"  # as people write it
    entities_after, devices_after = registries(hass, entry)
    # Same entity ids with the same unique ids: automations keep working.
    assert entities_after == entities_before
    assert devices_after.keys() == devices_before.keys()
    main = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    assert main is not None
    assert main.name == "ACTIO SMS +48 732 129 005"
    # And it sends from the new number.
    await hass.services.async_call(
        DOMAIN,
        "send_message",
        {"message": "x", "recipients": "600100200"},
        blocking=True,
    )
    assert [m.sender for m in simulator.outbox] == [NEW_SENDER]


async def test_reconfigure_keeps_a_title_the_user_chose(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    simulator.state.tokens[TOKEN].senders.append(NEW_SENDER)
    entry = await setup_entry(actio_entry(simulator.url))
    hass.config_entries.async_update_entry(entry, title="Summer house")
    result = await entry.start_reconfigure_flow(hass)
    await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_TOKEN: TOKEN, CONF_SENDER: NEW_SENDER, CONF_API_URL: simulator.url},
    )
    await hass.async_block_till_done()
    assert entry.title == "Summer house"
    assert entry.unique_id == NEW_SENDER


async def test_migration_from_number_keyed_ids(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    """An entry made by 0.1 (ids from the number) keeps its entity ids."""
    entry = actio_entry(
        simulator.url, recipients={"Mom": "48600100200"}, minor_version=1
    )
    entry.add_to_hass(hass)
    [mom] = entry.subentries.values()
    device_registry = dr.async_get(hass)
    main = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, SENDER)}
    )
    mom_device = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        config_subentry_id=mom.subentry_id,
        identifiers={(DOMAIN, f"{SENDER}_{mom.subentry_id}")},
    )
    entity_registry = er.async_get(hass)
    old_ids = {
        "sensor.old_last_received": ("sensor", f"{SENDER}_last_received", None),
        "event.old_message_received": ("event", f"{SENDER}_message_received", None),
        "notify.old_mom": ("notify", f"{SENDER}_{mom.subentry_id}", mom.subentry_id),
    }
    for entity_id, (platform, unique_id, subentry_id) in old_ids.items():
        entity_registry.async_get_or_create(
            platform,
            DOMAIN,
            unique_id,
            config_entry=entry,
            config_subentry_id=subentry_id,
            suggested_object_id=entity_id.split(".")[1],
        )

    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    assert (entry.version, entry.minor_version) == (1, 2)
    for entity_id, (_, unique_id, _) in old_ids.items():
        migrated = entity_registry.async_get(entity_id)
        assert migrated is not None
        assert migrated.unique_id == entry.entry_id + unique_id.removeprefix(SENDER)
    # No second set of entities: 11 per entry + 1 recipient.
    assert len(er.async_entries_for_config_entry(entity_registry, entry.entry_id)) == 12
    assert device_registry.async_get(main.id).identifiers == {(DOMAIN, entry.entry_id)}
    assert device_registry.async_get(mom_device.id).identifiers == {
        (DOMAIN, f"{entry.entry_id}_{mom.subentry_id}")
    }
    assert len(dr.async_entries_for_config_entry(device_registry, entry.entry_id)) == 2


async def test_migration_refuses_a_newer_major_version(
    hass: HomeAssistant, simulator: Sim
) -> None:
    entry = actio_entry(simulator.url, version=2)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
