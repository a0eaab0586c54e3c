"""The SMS panel's WebSocket API: pages, filters, permissions, live updates."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.actio_sms.const import (
    CONF_PANEL_EVERYONE,
    EVENT_DELIVERY_STATUS,
    EVENT_MESSAGE_SENT,
)
from homeassistant.components.frontend import DATA_PANELS
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_COMPONENT_LOADED, EVENT_PANELS_UPDATED
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .conftest import (
    FAMILY,
    SECOND_SENDER,
    TOKEN,
    WEBHOOK_ID,
    Setup,
    Sim,
    actio_entry,
    second_entry,
    send,
    sms,
)

URL = f"/api/webhook/{WEBHOOK_ID}"
MOM, DAD = FAMILY["Mom"], FAMILY["Dad"]


@pytest.fixture
async def entry(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> MockConfigEntry:
    # The panel waits for the frontend; 2026.9's test venv cannot set it up
    # (no frontend package), and what the panel needs of it is its registry.
    hass.config.components.add("frontend")
    # Before any HTTP client starts the server (its router freezes then).
    assert await async_setup_component(hass, "websocket_api", {})
    return await setup_entry(actio_entry(simulator.url, recipients=FAMILY))


async def receive(ws: Any) -> Any:
    """The next message; a missing one fails the test instead of hanging it."""
    return await ws.receive_json(timeout=5)


async def call(ws: Any, **msg: Any) -> Any:
    await ws.send_json_auto_id(msg)
    response = await receive(ws)
    assert response["success"], response
    return response["result"]


async def post(hass: HomeAssistant, hass_client_no_auth: Any, payload: Any) -> None:
    client = await hass_client_no_auth()
    assert (await client.post(URL, json=payload)).status == 200
    await hass.async_block_till_done()


async def test_the_panel_is_registered_once_and_goes_with_the_last_entry(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    panel = hass.data[DATA_PANELS]["actio-sms"]
    assert panel.sidebar_title == "SMS"
    assert panel.require_admin is True
    assert panel.config["_panel_custom"]["name"] == "actio-sms-panel"
    updates = async_capture_events(hass, EVENT_PANELS_UPDATED)
    await hass.config_entries.async_reload(entry.entry_id)
    assert hass.data[DATA_PANELS]["actio-sms"] is panel
    assert updates == []  # a reload registers nothing again
    hass.config_entries.async_update_entry(entry, options={CONF_PANEL_EVERYONE: True})
    await hass.async_block_till_done()
    assert hass.data[DATA_PANELS]["actio-sms"].require_admin is False
    await hass.config_entries.async_remove(entry.entry_id)
    assert "actio-sms" not in hass.data[DATA_PANELS]


async def test_one_panel_for_every_entry_until_the_last_goes(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    """Entries set up before the frontend (as at startup): one panel when it comes."""
    assert await async_setup_component(hass, "websocket_api", {})
    simulator.state.tokens[TOKEN].senders.append(SECOND_SENDER)
    first = await setup_entry(actio_entry(simulator.url, recipients=FAMILY))
    second = await setup_entry(second_entry(simulator.url))
    assert first.state is second.state is ConfigEntryState.LOADED
    assert "actio-sms" not in hass.data.get(DATA_PANELS, {})
    updates = async_capture_events(hass, EVENT_PANELS_UPDATED)
    hass.config.components.add("frontend")
    hass.bus.async_fire(EVENT_COMPONENT_LOADED, {"component": "frontend"})
    await hass.async_block_till_done()
    assert "actio-sms" in hass.data[DATA_PANELS]
    assert len(updates) == 1  # once, not once per entry
    await hass.config_entries.async_remove(first.entry_id)
    assert "actio-sms" in hass.data[DATA_PANELS]
    await hass.config_entries.async_remove(second.entry_id)
    assert "actio-sms" not in hass.data[DATA_PANELS]


async def test_the_module_is_served(
    hass: HomeAssistant, entry: MockConfigEntry, hass_client: Any
) -> None:
    url = hass.data[DATA_PANELS]["actio-sms"].config["_panel_custom"]["module_url"]
    client = await hass_client()
    resp = await client.get(url.split("?")[0])
    assert resp.status == 200
    assert "customElements.define" in await resp.text()


async def test_conversations_messages_and_paging(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_client_no_auth: Any,
) -> None:
    await send(hass, MOM, "Obiad o 18")
    for i in range(5):
        await post(hass, hass_client_no_auth, sms(f"Dad {i}", DAD))
    await post(hass, hass_client_no_auth, sms("Jestem", MOM))
    ws = await hass_ws_client(hass)
    [listed] = (await call(ws, type="actio_sms/entries"))["entries"]
    assert listed["entry_id"] == entry.entry_id
    assert listed["display"] == "+48 732 129 000"
    assert {r["name"] for r in listed["recipients"]} == {"Mom", "Dad"}
    result = await call(
        ws, type="actio_sms/conversations", config_entry_id=entry.entry_id
    )
    conversations = result["conversations"]
    assert [
        (c["name"], c["last"]["body"], c["count"], c["unread"]) for c in conversations
    ] == [
        ("Mom", "Jestem", 2, 1),
        ("Dad", "Dad 4", 5, 5),
    ]
    assert conversations[0]["display"] == "+48 600 100 200"
    found = await call(
        ws,
        type="actio_sms/conversations",
        config_entry_id=entry.entry_id,
        search="dad 2",
    )
    # Any message's text, not only the last; "2" alone is no number here.
    assert [c["name"] for c in found["conversations"]] == ["Dad"]
    found = await call(
        ws,
        type="actio_sms/conversations",
        config_entry_id=entry.entry_id,
        search="600 100 201",
    )
    assert [c["name"] for c in found["conversations"]] == ["Dad"]
    # A recipient's name: no message or number holds it.
    found = await call(
        ws, type="actio_sms/conversations", config_entry_id=entry.entry_id, search="mo"
    )
    assert [c["name"] for c in found["conversations"]] == ["Mom"]

    page = await call(
        ws,
        type="actio_sms/messages",
        config_entry_id=entry.entry_id,
        number=DAD,
        limit=3,
    )
    assert [m["body"] for m in page["messages"]] == ["Dad 4", "Dad 3", "Dad 2"]
    assert page["before"]
    rest = await call(
        ws,
        type="actio_sms/messages",
        config_entry_id=entry.entry_id,
        number=DAD,
        limit=3,
        before=page["before"],
    )
    assert [m["body"] for m in rest["messages"]] == ["Dad 1", "Dad 0"]
    assert rest["before"] is None
    mom = await call(
        ws, type="actio_sms/messages", config_entry_id=entry.entry_id, number=MOM
    )
    assert [(m["direction"], m["status"]) for m in mom["messages"]] == [
        ("received", None),
        ("sent", "pending"),
    ]

    await call(
        ws, type="actio_sms/mark_read", config_entry_id=entry.entry_id, number=DAD
    )
    result = await call(
        ws, type="actio_sms/conversations", config_entry_id=entry.entry_id
    )
    assert [c["unread"] for c in result["conversations"]] == [1, 0]


async def test_a_scheduled_sms_is_pending_with_its_time(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """What the panel reads to show "Scheduled for …" (there is no such status)."""
    later = (dt_util.now() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    await send(hass, MOM, "Jutro", send_at=later)
    ws = await hass_ws_client(hass)
    [message] = (
        await call(
            ws, type="actio_sms/messages", config_entry_id=entry.entry_id, number=MOM
        )
    )["messages"]
    assert message["status"] == "pending"
    assert message["scheduled_at"]


async def test_live_updates_and_unsubscribe(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    simulator: Sim,
    hass_ws_client: WebSocketGenerator,
    hass_client_no_auth: Any,
) -> None:
    ws = await hass_ws_client(hass)
    await ws.send_json_auto_id(
        {"type": "actio_sms/subscribe", "config_entry_id": entry.entry_id}
    )
    subscribed = await receive(ws)
    assert subscribed["success"]
    await post(hass, hass_client_no_auth, sms("Hej", MOM))
    event = (await receive(ws))["event"]
    assert event["kind"] == "message"
    assert (
        event["message"]["direction"],
        event["message"]["number"],
        event["message"]["body"],
    ) == (
        "received",
        MOM,
        "Hej",
    )
    response = await send(hass, MOM, "Odp")
    event = (await receive(ws))["event"]
    assert (event["message"]["direction"], event["message"]["status"]) == (
        "sent",
        "pending",
    )
    message_id = response["messages"][0]["message_id"]
    await post(
        hass,
        hass_client_no_auth,
        {"type": "NOTIFICATION", "message_id": message_id, "status": "DELIVERED"},
    )
    event = (await receive(ws))["event"]
    assert event == {
        "kind": "status",
        "id": message_id,
        "number": MOM,
        "message_id": message_id,
        "status": "delivered",
        "reason": None,
    }
    await call(
        ws,
        type="actio_sms/delete_conversation",
        config_entry_id=entry.entry_id,
        number=MOM,
    )
    event = (await receive(ws))["event"]
    assert event == {"kind": "deleted", "number": MOM}
    # Unsubscribed: the listeners go.
    listeners = hass.bus.async_listeners().get("actio_sms_message_sent", 0)
    await call(ws, type="unsubscribe_events", subscription=subscribed["id"])
    assert hass.bus.async_listeners().get("actio_sms_message_sent", 0) == listeners - 1


async def test_a_closed_connection_unsubscribes(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    def listening() -> list[int]:
        counts = hass.bus.async_listeners()
        return [counts.get(EVENT_MESSAGE_SENT, 0), counts.get(EVENT_DELIVERY_STATUS, 0)]

    before = listening()
    ws = await hass_ws_client(hass)
    await call(ws, type="actio_sms/subscribe", config_entry_id=entry.entry_id)
    assert listening() == [n + 1 for n in before]
    await ws.close()
    await hass.async_block_till_done()
    assert listening() == before


async def test_live_messages_carry_the_ids_pages_do(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_client_no_auth: Any,
) -> None:
    """Two SMS in one millisecond stay two; a page names them as live did."""
    ws = await hass_ws_client(hass)
    await call(ws, type="actio_sms/subscribe", config_entry_id=entry.entry_id)
    with patch(
        "custom_components.actio_sms.actio.inbound.utc_now_iso",
        return_value="2026-12-02T18:00:00.000+00:00",
    ):
        for body in ("Jestem", "Jestem"):
            await post(hass, hass_client_no_auth, sms(body, MOM))
    response = await send(hass, MOM, "Odp")
    live = [(await receive(ws))["event"]["message"]["id"] for _ in range(3)]
    assert len(set(live)) == 3
    assert live[2] == response["messages"][0]["message_id"]
    page = await call(
        ws,
        type="actio_sms/messages",
        config_entry_id=entry.entry_id,
        number=MOM,
        limit=10,
    )
    assert sorted(m["id"] for m in page["messages"]) == sorted(live)


async def test_non_admins_need_the_option(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    ws = await hass_ws_client(hass, hass_read_only_access_token)
    assert (await call(ws, type="actio_sms/entries"))["entries"] == []
    await ws.send_json_auto_id(
        {"type": "actio_sms/conversations", "config_entry_id": entry.entry_id}
    )
    response = await receive(ws)
    assert response["error"]["code"] == "unauthorized"
    hass.config_entries.async_update_entry(entry, options={CONF_PANEL_EVERYONE: True})
    await hass.async_block_till_done()
    result = await call(
        ws, type="actio_sms/conversations", config_entry_id=entry.entry_id
    )
    assert result == {"conversations": []}
    # Deleting history and the webhook URL (a secret) stay with admins.
    for command in ("actio_sms/delete_conversation", "actio_sms/webhook_url"):
        await ws.send_json_auto_id(
            {"type": command, "config_entry_id": entry.entry_id, "number": MOM}
            if "delete" in command
            else {"type": command, "config_entry_id": entry.entry_id}
        )
        response = await receive(ws)
        assert response["error"]["code"] == "unauthorized", command


async def test_webhook_url_for_admins(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    ws = await hass_ws_client(hass)
    result = await call(
        ws, type="actio_sms/webhook_url", config_entry_id=entry.entry_id
    )
    assert result["url"].endswith(f"/api/webhook/{WEBHOOK_ID}")


async def test_bounded_pages_and_unknown_entries(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    ws = await hass_ws_client(hass)
    await ws.send_json_auto_id(
        {
            "type": "actio_sms/messages",
            "config_entry_id": entry.entry_id,
            "number": MOM,
            "limit": 10_000,
        }
    )
    assert (await receive(ws))["error"]["code"] == "invalid_format"
    await ws.send_json_auto_id(
        {"type": "actio_sms/conversations", "config_entry_id": "nope"}
    )
    assert (await receive(ws))["error"]["code"] == "not_found"
