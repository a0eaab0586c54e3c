"""WebSocket commands behind the SMS panel: conversations, pages, live updates.

Personal data (numbers, texts) is for admins, or for every user when an
entry's option opens the panel to them. Sending goes through the
``actio_sms.send_message`` action, like every other send.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import probatio as vol

from homeassistant.components.websocket_api import async_register_command
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.decorators import (
    async_response,
    require_admin,
    websocket_command,
)
from homeassistant.components.websocket_api.messages import event_message
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .const import DOMAIN, EVENT_DELIVERY_STATUS, EVENT_MESSAGE_SENT
from .data import (
    ActioConfigEntry,
    ActioRuntime,
    async_get_runtime,
    signal_deleted,
    signal_received,
)
from .panel import may_read_messages
from .phone import format_number
from .settings import recipients_of
from .store import ReceivedRecord
from .webhook import async_entry_webhook_url

MAX_PAGE: Final = 200
DEFAULT_PAGE: Final = 50
MAX_CONVERSATIONS: Final = 500

type Connection = ActiveConnection


@callback
def async_setup(hass: HomeAssistant) -> None:
    """Register the panel's commands (once per start)."""
    for command in (
        ws_entries,
        ws_conversations,
        ws_messages,
        ws_subscribe,
        ws_mark_read,
        ws_delete_conversation,
        ws_webhook_url,
    ):
        async_register_command(hass, command)


def _runtime(
    hass: HomeAssistant, connection: Connection, msg: dict[str, Any], *, admin: bool
) -> ActioRuntime | None:
    """The entry's runtime, or None after sending the error."""
    entry: ActioConfigEntry | None = hass.config_entries.async_get_entry(
        msg["config_entry_id"]
    )
    if entry is None or entry.domain != DOMAIN:
        connection.send_error(msg["id"], "not_found", "No such ACTIO SMS entry")
        return None
    if not (
        connection.user.is_admin if admin else may_read_messages(entry, connection.user)
    ):
        connection.send_error(msg["id"], "unauthorized", "Unauthorized")
        return None
    return async_get_runtime(hass, entry)


def panel_message(record: dict[str, Any]) -> dict[str, Any]:
    """A stored record as the panel shows it."""
    sent = record["direction"] == "sent"
    return {
        # ACTIO's id where there is one: what live sends and reports carry.
        "id": str(record.get("message_id") or record.get("id") or ""),
        "direction": record["direction"],
        "number": record["recipient"] if sent else record["from"],
        "body": record["body"],
        "at": record["sent_at"] if sent else record["received_at"],
        "parts": record.get("parts"),
        "status": record.get("status"),
        "reason": record.get("reason"),
        "message_id": record.get("message_id"),
        "scheduled_at": record.get("scheduled_at"),
        "sender": record.get("sender"),
    }


@websocket_command({vol.Required("type"): "actio_sms/entries"})
@callback
def ws_entries(
    hass: HomeAssistant, connection: Connection, msg: dict[str, Any]
) -> None:
    """The ACTIO entries this user may open, with what the reply box needs."""
    entries = []
    for entry in hass.config_entries.async_entries(DOMAIN):
        if not may_read_messages(entry, connection.user):
            continue
        settings = async_get_runtime(hass, entry).settings
        entries.append(
            {
                "entry_id": entry.entry_id,
                "title": entry.title,
                "number": settings.sender,
                "display": format_number(settings.sender),
                "encoding": str(settings.encoding),
                "max_parts": settings.max_parts,
                "loaded": async_get_runtime(hass, entry).loaded,
                "recipients": [
                    {
                        "name": title,
                        "number": data["number"],
                        "display": format_number(data["number"]),
                    }
                    for title, data in recipients_of(entry).values()
                ],
            }
        )
    connection.send_result(msg["id"], {"entries": entries})


@websocket_command(
    {
        vol.Required("type"): "actio_sms/conversations",
        vol.Required("config_entry_id"): str,
        vol.Optional("search"): vol.All(str, vol.Length(max=100)),
    }
)
@async_response
async def ws_conversations(
    hass: HomeAssistant, connection: Connection, msg: dict[str, Any]
) -> None:
    """One line per number, newest first, with the recipient's name."""
    if (runtime := _runtime(hass, connection, msg, admin=False)) is None:
        return
    await runtime.async_load_store()
    names = {
        number: title
        for title, data in recipients_of(runtime.entry).values()
        if (number := str(data["number"]))
    }
    search = (msg.get("search") or "").strip()
    # The store searches numbers and every message's text; names are ours.
    found = await runtime.store.conversations(search or None, MAX_CONVERSATIONS)
    if search and (
        named := {
            number
            for number, name in names.items()
            if search.casefold() in name.casefold()
        }
        - {item["number"] for item in found}
    ):
        everyone = await runtime.store.conversations(None, MAX_CONVERSATIONS)
        found += [item for item in everyone if item["number"] in named]
        found.sort(key=lambda item: str(item["last"]["at"]), reverse=True)
    conversations = [
        item
        | {"name": names.get(item["number"]), "display": format_number(item["number"])}
        for item in found
    ]
    connection.send_result(msg["id"], {"conversations": conversations})


@websocket_command(
    {
        vol.Required("type"): "actio_sms/messages",
        vol.Required("config_entry_id"): str,
        vol.Required("number"): vol.All(str, vol.Length(min=1, max=64)),
        vol.Optional("before"): vol.Any(str, None),
        vol.Optional("limit", default=DEFAULT_PAGE): vol.All(
            int, vol.Range(min=1, max=MAX_PAGE)
        ),
    }
)
@async_response
async def ws_messages(
    hass: HomeAssistant, connection: Connection, msg: dict[str, Any]
) -> None:
    """One page of a conversation, newest first, and the cursor to older ones."""
    if (runtime := _runtime(hass, connection, msg, admin=False)) is None:
        return
    await runtime.async_load_store()
    records, before = await runtime.store.messages(
        msg["number"], msg.get("before"), msg["limit"]
    )
    connection.send_result(
        msg["id"],
        {"messages": [panel_message(dict(r)) for r in records], "before": before},
    )


@websocket_command(
    {vol.Required("type"): "actio_sms/subscribe", vol.Required("config_entry_id"): str}
)
@callback
def ws_subscribe(
    hass: HomeAssistant, connection: Connection, msg: dict[str, Any]
) -> None:
    """Every new SMS, sent or received, every status change and deletion, live."""
    if (runtime := _runtime(hass, connection, msg, admin=False)) is None:
        return
    entry_id = runtime.entry_id

    @callback
    def _send(data: dict[str, Any]) -> None:
        connection.send_message(event_message(msg["id"], data))

    @callback
    def _received(record: ReceivedRecord) -> None:
        # From the store: its row id is the one pages carry.
        _send({"kind": "message", "message": panel_message(dict(record))})

    @callback
    def _sent(event: Event) -> None:
        data = event.data
        if data.get("config_entry_id") != entry_id:
            return
        for item in data.get("messages", []):
            record = {
                "direction": "sent",
                "body": data["body"],
                "sent_at": data["sent_at"],
                **item,
                "id": item.get("message_id") or f"s-{data['sent_at']}",
            }
            _send({"kind": "message", "message": panel_message(record)})

    @callback
    def _status(event: Event) -> None:
        data = event.data
        if (
            data.get("config_entry_id") != entry_id
            or data.get("status") == "unconfirmed"
        ):
            return  # an unconfirmed SMS comes with its message, status included
        _send(
            {
                "kind": "status",
                "id": data.get("message_id"),
                "number": data.get("recipient"),
                "message_id": data.get("message_id"),
                "status": data.get("status"),
                "reason": data.get("reason"),
            }
        )

    @callback
    def _deleted(number: str) -> None:
        _send({"kind": "deleted", "number": number})

    unsubs: list[Callable[[], None]] = [
        async_dispatcher_connect(hass, signal_received(entry_id), _received),
        hass.bus.async_listen(EVENT_MESSAGE_SENT, _sent),
        hass.bus.async_listen(EVENT_DELIVERY_STATUS, _status),
        async_dispatcher_connect(hass, signal_deleted(entry_id), _deleted),
    ]

    @callback
    def _unsubscribe() -> None:
        for unsub in unsubs:
            unsub()

    connection.subscriptions[msg["id"]] = _unsubscribe
    connection.send_result(msg["id"])


@websocket_command(
    {
        vol.Required("type"): "actio_sms/mark_read",
        vol.Required("config_entry_id"): str,
        vol.Required("number"): vol.All(str, vol.Length(min=1, max=64)),
    }
)
@async_response
async def ws_mark_read(
    hass: HomeAssistant, connection: Connection, msg: dict[str, Any]
) -> None:
    """The conversation has been read (in this Home Assistant, by anyone)."""
    if (runtime := _runtime(hass, connection, msg, admin=False)) is None:
        return
    await runtime.async_load_store()
    await runtime.store.mark_read(msg["number"])
    connection.send_result(msg["id"], {})


@websocket_command(
    {
        vol.Required("type"): "actio_sms/delete_conversation",
        vol.Required("config_entry_id"): str,
        vol.Required("number"): vol.All(str, vol.Length(min=1, max=64)),
    }
)
@require_admin
@async_response
async def ws_delete_conversation(
    hass: HomeAssistant, connection: Connection, msg: dict[str, Any]
) -> None:
    """Delete a conversation from the history (admins only)."""
    if (runtime := _runtime(hass, connection, msg, admin=True)) is None:
        return
    await runtime.async_load_store()
    deleted = await runtime.store.delete_conversation(msg["number"])
    connection.send_result(msg["id"], {"deleted": deleted})
    runtime.async_deleted(msg["number"])


@websocket_command(
    {
        vol.Required("type"): "actio_sms/webhook_url",
        vol.Required("config_entry_id"): str,
    }
)
@require_admin
@async_response
async def ws_webhook_url(
    hass: HomeAssistant, connection: Connection, msg: dict[str, Any]
) -> None:
    """The URL to paste into ACTIO's panel (a secret: admins only)."""
    if (runtime := _runtime(hass, connection, msg, admin=True)) is None:
        return
    url = await async_entry_webhook_url(hass, runtime.entry)
    connection.send_result(msg["id"], {"url": url})
