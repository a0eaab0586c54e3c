"""Every entity: state, registry entry and device, as elgato's tests do it."""

from __future__ import annotations

import json
from pathlib import Path
from unittest.mock import patch

import pytest
from pytest_homeassistant_custom_component.common import snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.actio_sms.const import CONF_DEFAULT_RECIPIENTS, DOMAIN
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import slugify

from .conftest import FAMILY, Setup, Sim, actio_entry


@pytest.fixture
def expected_lingering_timers() -> bool:
    """With time frozen, the 2026.9 test plugin counts the spend guard's
    midnight timer as lingering; later plugins do not."""
    return True


@pytest.mark.freeze_time("2026-11-28 10:00:00+00:00")
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize(
    "platform", [Platform.EVENT, Platform.NOTIFY, Platform.SENSOR], ids=str
)
async def test_entities(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    entry = actio_entry(
        simulator.url,
        recipients=FAMILY,
        options={CONF_DEFAULT_RECIPIENTS: ["48600100299"]},
        entry_id="01JACTIOSMSTESTENTRY000000",
    )
    with patch("custom_components.actio_sms.PLATFORMS", [platform]):
        await setup_entry(entry)
    await snapshot_platform(hass, er.async_get(hass), snapshot, entry.entry_id)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_devices(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, snapshot: SnapshotAssertion
) -> None:
    entry = await setup_entry(
        actio_entry(
            simulator.url, recipients=FAMILY, entry_id="01JACTIOSMSTESTENTRY000000"
        )
    )
    devices = sorted(
        dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id),
        key=lambda device: device.name or "",
    )
    assert devices == snapshot
    assert {identifier for d in devices for identifier in d.identifiers} >= {
        (DOMAIN, entry.entry_id)
    }


async def test_enabled_by_default(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    """A new entry shows the last message and delivery status (the product's
    definition), and no other entity that only repeats the logbook's line."""
    entry = await setup_entry(actio_entry(simulator.url, recipients=FAMILY))
    registry = er.async_get(hass)
    entities = er.async_entries_for_config_entry(registry, entry.entry_id)
    enabled = {e.entity_id for e in entities if not e.disabled}
    assert enabled == {
        "sensor.actio_sms_48732129000_messages_received",
        "sensor.actio_sms_48732129000_messages_sent",
        "sensor.actio_sms_48732129000_sms_parts_sent_today",
        "sensor.actio_sms_48732129000_sms_parts_remaining_today",
        "sensor.actio_sms_48732129000_last_received_message",
        "sensor.actio_sms_48732129000_last_delivery_status",
        "notify.actio_sms_48732129000_mom",
        "notify.actio_sms_48732129000_dad",
    }
    assert {e.entity_id for e in entities if e.disabled} == {
        "event.actio_sms_48732129000_message_received",
        "event.actio_sms_48732129000_delivery_report",
        "sensor.actio_sms_48732129000_last_sent_message",
        "sensor.actio_sms_48732129000_messages_delivered",
        "sensor.actio_sms_48732129000_messages_failed",
    }


async def test_existing_entries_keep_what_their_users_chose(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    """The two Last ... sensors are on for new entries only: one left off by
    0.2's default stays off, one its user turned off stays off, one its user
    turned on stays on."""
    entry = actio_entry(simulator.url)
    entry.add_to_hass(hass)
    registry = er.async_get(hass)
    chosen = {
        "last_received": er.RegistryEntryDisabler.INTEGRATION,  # 0.2's default
        "last_delivery_status": er.RegistryEntryDisabler.USER,
        "last_sent": None,  # off by default, turned on
    }
    for key, disabled_by in chosen.items():
        registry.async_get_or_create(
            "sensor",
            DOMAIN,
            f"{entry.entry_id}_{key}",
            config_entry=entry,
            disabled_by=disabled_by,
        )
    await setup_entry(entry)
    for key, disabled_by in chosen.items():
        entity_id = registry.async_get_entity_id(
            "sensor", DOMAIN, f"{entry.entry_id}_{key}"
        )
        entity = registry.async_get(entity_id) if entity_id else None
        assert entity is not None
        assert entity.disabled_by is disabled_by, key


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_entity_ids_keep_the_digits(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    """The device shows +48 732 129 000; entity ids stay what 0.1 derived from
    "ACTIO SMS 48732129000" and each English name, so automations keep working."""
    strings = json.loads(
        (
            Path(__file__).parents[1] / "custom_components/actio_sms/strings.json"
        ).read_text(encoding="utf-8")
    )["entity"]
    entry = await setup_entry(
        actio_entry(
            simulator.url,
            options={CONF_DEFAULT_RECIPIENTS: ["48600100299"], "price_per_part": 0.1},
        )
    )
    registry = er.async_get(hass)
    entities = er.async_entries_for_config_entry(registry, entry.entry_id)
    assert len(entities) == sum(len(names) for names in strings.values())
    for entity in entities:
        key = entity.unique_id.removeprefix(f"{entry.entry_id}_")
        name = strings[entity.domain][key]["name"]
        assert entity.entity_id == (
            f"{entity.domain}.{slugify(f'ACTIO SMS 48732129000 {name}')}"
        )
    [device] = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert device.name == "ACTIO SMS +48 732 129 000"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_counters_show_as_whole_numbers(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    """What the frontend formats states and more-info values with: "dp"."""
    entry = await setup_entry(
        actio_entry(simulator.url, options={"price_per_part": 0.1})
    )
    registry = er.async_get(hass)
    precision = {
        entity.entity_id: json.loads(entity.display_json_repr or b"{}").get("dp")
        for entity in er.async_entries_for_config_entry(registry, entry.entry_id)
        if entity.domain == "sensor"
    }
    counters = (
        "messages_received",
        "messages_sent",
        "messages_delivered",
        "messages_failed",
        "sms_parts_sent_today",
        "sms_parts_remaining_today",
    )
    assert precision == {
        **{f"sensor.actio_sms_48732129000_{key}": 0 for key in counters},
        "sensor.actio_sms_48732129000_sms_cost_this_month": 2,
        "sensor.actio_sms_48732129000_last_received_message": None,
        "sensor.actio_sms_48732129000_last_sent_message": None,
        "sensor.actio_sms_48732129000_last_delivery_status": None,
    }
