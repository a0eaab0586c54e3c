"""Setup, unload, reload and removal of an entry."""

from __future__ import annotations

import threading

from phonenumbers import data as phonenumbers_data
from phonenumbers.phonemetadata import PhoneMetadata
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.actio_sms import async_remove_config_entry_device
from custom_components.actio_sms.const import CONF_CLOUDHOOK, CONF_SENDER, DOMAIN
from custom_components.actio_sms.store import db_path
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component

from .conftest import (
    FAMILY,
    SENDER,
    TOKEN,
    WEBHOOK_ID,
    FakeCloud,
    Setup,
    Sim,
    actio_entry,
    entry_data,
    free_port,
)

NEW_SENDER = "48732129005"


async def test_setup_unload_reload(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_client_no_auth
) -> None:
    assert init_integration.state is ConfigEntryState.LOADED
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, init_integration.entry_id), init_integration.entry_id
    )
    assert device is not None
    assert device.name == "ACTIO SMS +48 732 129 000"
    assert device.manufacturer == "ACTIO"
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    entities = er.async_entries_for_config_entry(
        er.async_get(hass), init_integration.entry_id
    )
    assert {e.device_id for e in entities} == {device.id}
    assert all(
        e.unique_id.startswith(f"{init_integration.entry_id}_") for e in entities
    )

    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    # The webhook stays while the entry exists (see test_receiving.py): an
    # invalid payload is still judged by us, not swallowed by HA's 200.
    client = await hass_client_no_auth()
    resp = await client.post(f"/api/webhook/{WEBHOOK_ID}", json={"type": "MESSAGE"})
    assert resp.status == 400


async def test_setup_not_ready(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=SENDER,
        data=entry_data(f"http://127.0.0.1:{free_port()}"),
    )
    await setup_entry(entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_setup_server_error_retries(
    hass: HomeAssistant,
    simulator: Sim,
    mock_config_entry: MockConfigEntry,
    setup_entry: Setup,
) -> None:
    simulator.fault("500")
    await setup_entry(mock_config_entry)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_setup_auth_failed_starts_reauth(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=SENDER, data=entry_data(simulator.url, token="revoked")
    )
    await setup_entry(entry)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    [flow] = hass.config_entries.flow.async_progress()
    assert flow["context"]["source"] == SOURCE_REAUTH
    assert flow["context"]["entry_id"] == entry.entry_id


async def test_setup_sender_refused_offers_a_fix(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client
) -> None:
    """A refused number leads to a form that asks for the number, not a token."""
    assert await async_setup_component(hass, "repairs", {})
    entry = await setup_entry(actio_entry(simulator.url, recipients=FAMILY))
    entities_before = {
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }
    await hass.config_entries.async_unload(entry.entry_id)
    # ACTIO stops accepting the number (another number was assigned).
    simulator.state.tokens[TOKEN].senders[:] = [NEW_SENDER]
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason == (
        f"ACTIO does not accept the virtual number {SENDER} for this token; enter "
        "the right number in the repair issue or reconfigure the entry"
    )
    assert hass.config_entries.flow.async_progress() == []  # no token dialog
    issue_id = f"invalid_sender_{entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_placeholders == {"sender": "+48 732 129 000"}

    client = await hass_client()
    resp = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    flow = await resp.json()
    assert flow["step_id"] == "sender"
    assert flow["description_placeholders"] == {
        "sender": "+48 732 129 000",
        "host": simulator.url.removeprefix("http://"),
    }
    # A number ACTIO also refuses: the form says so and stays.
    resp = await client.post(
        f"/api/repairs/issues/fix/{flow['flow_id']}", json={"sender": "48732129009"}
    )
    flow = await resp.json()
    assert flow["errors"] == {"sender": "invalid_sender"}
    resp = await client.post(
        f"/api/repairs/issues/fix/{flow['flow_id']}", json={"sender": "+48 732 129 005"}
    )
    assert (await resp.json())["type"] == "create_entry"
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_SENDER] == NEW_SENDER
    assert entry.unique_id == NEW_SENDER
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert {
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    } == entities_before


async def test_sender_fix_refuses_a_number_of_another_entry(
    hass: HomeAssistant, simulator: Sim, hass_client
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    simulator.state.tokens[TOKEN].senders[:] = [NEW_SENDER]
    MockConfigEntry(
        domain=DOMAIN, unique_id=NEW_SENDER, data=entry_data(simulator.url)
    ).add_to_hass(hass)
    entry = actio_entry(simulator.url)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    client = await hass_client()
    resp = await client.post(
        "/api/repairs/issues/fix",
        json={"handler": DOMAIN, "issue_id": f"invalid_sender_{entry.entry_id}"},
    )
    flow = await resp.json()
    resp = await client.post(
        f"/api/repairs/issues/fix/{flow['flow_id']}", json={"sender": NEW_SENDER}
    )
    assert (await resp.json())["errors"] == {"sender": "already_configured"}
    assert entry.data[CONF_SENDER] == SENDER


async def test_remove_entry_deletes_history_and_cloudhook(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    fake_cloud: FakeCloud,
    hass_storage,
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=SENDER,
        data=entry_data(simulator.url) | {CONF_CLOUDHOOK: True},
    )
    await setup_entry(entry)
    await hass.services.async_call(
        DOMAIN,
        "send_message",
        {"message": "x", "recipients": "600100200"},
        blocking=True,
    )
    await hass.config_entries.async_unload(entry.entry_id)
    path = db_path(hass, entry.entry_id)
    assert await hass.async_add_executor_job(path.exists)  # committed
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert not await hass.async_add_executor_job(path.exists)
    assert fake_cloud.deleted == [entry.data[CONF_WEBHOOK_ID]]


async def test_remove_entry_without_cloudhook(
    hass: HomeAssistant, init_integration: MockConfigEntry, fake_cloud: FakeCloud
) -> None:
    await hass.config_entries.async_remove(init_integration.entry_id)
    assert fake_cloud.deleted == []


async def test_phone_metadata_loads_outside_the_event_loop(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """phonenumbers imports a module per region on first use: not in the loop."""
    loaded_in: list[tuple[str, int]] = []

    def recording_loader(code: str) -> None:
        loaded_in.append((code, threading.get_ident()))
        phonenumbers_data._load_region(code)

    # As if no number had been parsed in this process yet.
    for region in ("PL", "DE"):
        monkeypatch.setitem(PhoneMetadata._region_available, region, recording_loader)
    await setup_entry(actio_entry(simulator.url))
    await hass.services.async_call(
        DOMAIN,
        "send_message",
        {"message": "x", "recipients": ["600100200", "+49 30 1234567"]},
        blocking=True,
    )
    assert {code for code, _ in loaded_in} == {"PL", "DE"}
    assert all(thread != threading.get_ident() for _, thread in loaded_in)


async def test_only_a_stale_recipient_device_may_be_deleted(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    """stale-devices: a device no recipient backs may go; the entry's, a live one's not."""
    entry = await setup_entry(actio_entry(simulator.url, recipients=FAMILY))
    assert entry.supports_remove_device
    devices = dr.async_get(hass)
    own = devices.async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    mom = devices.async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_recipient_mom"), entry.entry_id
    )
    # As a recipient's device would stay behind if its subentry went while
    # the entry was not loaded.
    stale = devices.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, f"{entry.entry_id}_recipient_gone")},
    )
    assert own is not None
    assert mom is not None
    assert not await async_remove_config_entry_device(hass, entry, own)
    assert not await async_remove_config_entry_device(hass, entry, mom)
    assert await async_remove_config_entry_device(hass, entry, stale)
