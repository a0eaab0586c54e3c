"""Setup, unload, reload and removal of an entry."""

from __future__ import annotations

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.actio_sms.const import CONF_CLOUDHOOK, DOMAIN
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .conftest import SENDER, WEBHOOK_ID, FakeCloud, Setup, Sim, entry_data, free_port


async def test_setup_unload_reload(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_client_no_auth
) -> None:
    assert init_integration.state is ConfigEntryState.LOADED
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, SENDER), init_integration.entry_id
    )
    assert device is not None
    assert device.name == f"ACTIO SMS {SENDER}"
    assert device.manufacturer == "ACTIO"
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    entities = er.async_entries_for_config_entry(
        er.async_get(hass), init_integration.entry_id
    )
    assert {e.device_id for e in entities} == {device.id}
    assert all(e.unique_id.startswith(f"{SENDER}_") for e in entities)

    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    # The webhook is gone: HA answers 200 without calling us, and no event.
    client = await hass_client_no_auth()
    resp = await client.post(f"/api/webhook/{WEBHOOK_ID}", json={"type": "MESSAGE"})
    assert resp.status == 200
    assert await resp.text() == ""


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


async def test_setup_sender_refused(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    simulator.state.tokens[next(iter(simulator.state.tokens))].senders.clear()
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=SENDER, data=entry_data(simulator.url)
    )
    await setup_entry(entry)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert [
        f["context"]["source"] for f in hass.config_entries.flow.async_progress()
    ] == [SOURCE_REAUTH]


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
    key = f"{DOMAIN}.{entry.entry_id}"
    assert key in hass_storage  # flushed on unload
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage
    assert fake_cloud.deleted == [entry.data[CONF_WEBHOOK_ID]]


async def test_remove_entry_without_cloudhook(
    hass: HomeAssistant, init_integration: MockConfigEntry, fake_cloud: FakeCloud
) -> None:
    await hass.config_entries.async_remove(init_integration.entry_id)
    assert fake_cloud.deleted == []
