"""Nothing ACTIO posts is lost: not while the entry is not loaded, not in a
reload, not across a normal stop. ACTIO posts once and never retries."""

from __future__ import annotations

import asyncio
from contextlib import closing
import json
import sqlite3
from typing import Any
from unittest.mock import patch

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.actio_sms.const import (
    DOMAIN,
    EVENT_DELIVERY_STATUS,
    EVENT_MESSAGE_RECEIVED,
)
from custom_components.actio_sms.store import db_path
from homeassistant.config_entries import ConfigEntryDisabler, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_set_domains_to_be_loaded, async_setup_component

from .conftest import (
    SENDER,
    WEBHOOK_ID,
    Setup,
    Sim,
    actio_entry,
    get_messages,
    send,
    sms,
)

URL = f"/api/webhook/{WEBHOOK_ID}"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_received_while_api_is_down_is_kept(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    """HA restarts while ACTIO's API answers 500: nothing posted is lost."""
    # An SMS sent before the restart, so a delivery report can refer to it.
    entry = await setup_entry(actio_entry(simulator.url))
    await send(hass, "600100201", "hi")
    sent_id = simulator.outbox[0].message_id
    await hass.config_entries.async_unload(entry.entry_id)

    simulator.fault("500")
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY

    received = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    delivered = async_capture_events(hass, EVENT_DELIVERY_STATUS)
    client = await hass_client_no_auth()
    resp = await client.post(URL, json=sms("while down"))
    assert resp.status == 200
    resp = await client.post(
        URL,
        json={"type": "NOTIFICATION", "message_id": sent_id, "status": "DELIVERED"},
    )
    assert resp.status == 200
    await hass.async_block_till_done()
    # The events fire at once: they need no entity.
    assert [e.data["body"] for e in received] == ["while down"]
    assert received[0].data["config_entry_id"] == entry.entry_id
    assert [(e.data["status"], e.data["recipient"]) for e in delivered] == [
        ("delivered", "48600100201")
    ]

    simulator.fault(None)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    history = await get_messages(hass, limit=1000)
    assert [(m["direction"], m.get("body"), m.get("status")) for m in history] == [
        ("received", "while down", None),
        ("sent", "hi", "delivered"),
    ]
    # Sensors caught up with what arrived while the entry was not loaded.
    assert (
        hass.states.get("sensor.actio_sms_48732129000_messages_received").state == "1"
    )
    assert (
        hass.states.get("sensor.actio_sms_48732129000_last_received_message").state
        == "while down"
    )
    assert len(received) == 1  # no replay when the entities came


async def test_reload_racing_a_burst_loses_and_duplicates_nothing(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    entry = await setup_entry(actio_entry(simulator.url))
    received = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    client = await hass_client_no_auth()

    async def post(i: int) -> int:
        return (await client.post(URL, json=sms(f"m{i}"))).status

    async def reload() -> None:
        for _ in range(3):
            await hass.config_entries.async_reload(entry.entry_id)

    *statuses, _ = await asyncio.gather(*(post(i) for i in range(200)), reload())
    await hass.async_block_till_done()
    assert statuses == [200] * 200
    assert entry.state is ConfigEntryState.LOADED
    bodies = [
        m["body"] for m in await get_messages(hass, direction="received", limit=1000)
    ]
    assert sorted(bodies) == sorted(f"m{i}" for i in range(200))
    assert sorted(e.data["body"] for e in received) == sorted(bodies)
    assert hass.states.get("sensor.actio_sms_48732129000_messages_received").state == (
        "200"
    )


async def test_entry_that_never_loaded_still_receives(
    hass: HomeAssistant, simulator: Sim, hass_client_no_auth, hass_storage
) -> None:
    """A token ACTIO refuses (setup error) does not stop receiving."""
    entry = actio_entry(simulator.url)
    entry.add_to_hass(hass)
    # History from before the restart: what arrives joins it, not replaces it.
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = {
        "version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}",
        "data": {
            "counters": {"received": 1},
            "records": [
                {
                    "direction": "received",
                    "from": "48600100200",
                    "to": SENDER,
                    "body": "earlier",
                    "received_at": "2026-11-27T10:00:00.000+00:00",
                }
            ],
        },
    }
    simulator.fault("403")
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    received = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    client = await hass_client_no_auth()
    assert (await client.post(URL, json=sms("kept"))).status == 200
    assert (await client.post(URL, json={"type": "MESSAGE"})).status == 400
    await hass.async_block_till_done()
    assert [e.data["body"] for e in received] == ["kept"]
    await hass.async_stop(force=True)
    # The 0.3 file was moved into the database, which holds both.
    assert f"{DOMAIN}.{entry.entry_id}" not in hass_storage
    with closing(sqlite3.connect(db_path(hass, entry.entry_id))) as db:
        bodies = [b for (b,) in db.execute("SELECT body FROM messages ORDER BY id")]
        meta = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM meta")}
    assert bodies == ["earlier", "kept"]
    assert meta["counters"] == {"received": 2, "sent": 0, "delivered": 0, "failed": 0}
    assert meta["last_received"]["body"] == "kept"


async def test_disabled_entry_keeps_but_triggers_nothing(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    entry = await setup_entry(actio_entry(simulator.url))
    await hass.config_entries.async_set_disabled_by(
        entry.entry_id, ConfigEntryDisabler.USER
    )
    await hass.async_block_till_done()
    received = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    client = await hass_client_no_auth()
    assert (await client.post(URL, json=sms("quiet"))).status == 200
    await hass.async_block_till_done()
    assert received == []
    await hass.config_entries.async_set_disabled_by(entry.entry_id, None)
    await hass.async_block_till_done()
    assert [m["body"] for m in await get_messages(hass, limit=1000)] == ["quiet"]


async def test_removed_entry_stops_receiving(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_client_no_auth
) -> None:
    received = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    await hass.config_entries.async_remove(init_integration.entry_id)
    await hass.async_block_till_done()
    client = await hass_client_no_auth()
    # HA's own answer for an unknown webhook: nothing of ours runs.
    resp = await client.post(URL, json=sms("too late"))
    assert resp.status == 200
    assert await resp.text() == ""
    assert received == []


async def test_receiving_does_not_wait_for_assist(
    hass: HomeAssistant, simulator: Sim, hass_client_no_auth
) -> None:
    """The webhook is up while Assist (slow to load) is still setting up.

    Every moment between Home Assistant answering HTTP and the webhook being
    registered loses what ACTIO posts; commands reach Assist through its
    action, so nothing here waits for it.
    """
    assert await async_setup_component(hass, "homeassistant", {})
    gate = asyncio.Event()

    async def slow_setup(hass: HomeAssistant, config: Any) -> bool:
        await gate.wait()
        return True

    entry = actio_entry(simulator.url)
    entry.add_to_hass(hass)
    # As at startup: both are to be loaded, so after_dependencies would wait.
    async_set_domains_to_be_loaded(hass, {"conversation", DOMAIN})
    with patch("homeassistant.components.conversation.async_setup", slow_setup):
        assist = hass.async_create_task(async_setup_component(hass, "conversation", {}))
        await asyncio.sleep(0.1)
        assert not assist.done()
        ours = hass.async_create_task(async_setup_component(hass, DOMAIN, {}))
        await asyncio.wait([ours], timeout=5)
        assert ours.done(), "the integration waited for Assist"
        client = await hass_client_no_auth()
        assert (await client.post(URL, json=sms("early"))).status == 200
        gate.set()
        await assist
    assert [m["body"] for m in await get_messages(hass)] == ["early"]
