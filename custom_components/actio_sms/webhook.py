"""The webhook ACTIO posts inbound SMS and delivery reports to."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from functools import partial
from http import HTTPStatus
import json
from typing import Any, Final

from aiohttp import web
import probatio as vol

from homeassistant.components.webhook import (
    async_register as async_register_webhook,
    async_unregister as async_unregister_webhook,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util
from homeassistant.util.json import json_loads

from .api import loads_tolerant, parse_message_id
from .const import CONF_ALLOWED_SOURCES, DOMAIN, LOGGER, MAX_WEBHOOK_BYTES
from .history import now_iso
from .hub import DATA_ACTIO, async_get_hub
from .journal import JournalWriteError
from .models import DeliveryReport, DeliveryStatus, InboundMessage, ReportedStatus
from .phone import display_sender

_MAX_FIELD: Final = 64
_OK_BODY: Final = b'{"status":"ok"}'


class InvalidPayloadError(ValueError):
    """The payload is not one ACTIO (or 3CX's provider) sends."""


def _phone(value: Any) -> str:
    """A number as digits: ``+48600100200`` or ``48600100200``."""
    if not isinstance(value, str):
        raise vol.Invalid("expected a string")
    digits = value.strip().removeprefix("+")
    if not (digits.isascii() and digits.isdigit()) or not 9 <= len(digits) <= 15:
        raise vol.Invalid("expected a phone number")
    return digits


def _sender(value: Any) -> str:
    """An inbound sender: a number or an alphanumeric override."""
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_FIELD:
        raise vol.Invalid("expected a sender")
    return display_sender(value)


def _message_id(value: Any) -> str:
    if (message_id := parse_message_id(value)) is None:
        raise vol.Invalid("expected a message id")
    return message_id


def _upper(value: Any) -> str:
    if not isinstance(value, str):
        raise vol.Invalid("expected a string")
    return value.strip().upper()


TELNYX_RECEIVED_SCHEMA: Final = vol.Schema(
    {
        vol.Required("text"): str,
        vol.Required("from"): vol.Schema(
            {vol.Required("phone_number"): _sender}, extra=vol.ALLOW_EXTRA
        ),
        vol.Required("to"): vol.All(
            [vol.Schema({vol.Required("phone_number"): _phone}, extra=vol.ALLOW_EXTRA)],
            vol.Length(min=1),
        ),
        vol.Optional("received_at"): vol.Any(str, None),
    },
    extra=vol.ALLOW_EXTRA,
)
_ACTIO_STATUS: Final[dict[str, ReportedStatus]] = {
    "DELIVERED": DeliveryStatus.DELIVERED,
    "ERROR": DeliveryStatus.ERROR,
}
TELNYX_STATUS: Final[dict[str, ReportedStatus]] = {
    "delivered": DeliveryStatus.DELIVERED,
    "sending_failed": DeliveryStatus.ERROR,
    "delivery_failed": DeliveryStatus.ERROR,
}
TELNYX_DELIVERY_SCHEMA: Final = vol.Schema(
    {
        vol.Required("id"): _message_id,
        vol.Required("to"): vol.All(
            [
                vol.Schema(
                    {vol.Required("status"): vol.All(str, vol.In(TELNYX_STATUS))},
                    extra=vol.ALLOW_EXTRA,
                )
            ],
            vol.Length(min=1),
        ),
    },
    extra=vol.ALLOW_EXTRA,
)
TELNYX_DELIVERY_EVENTS: Final = ("message.finalized", "message.sent")


def _utc_iso(value: str | None) -> str:
    """An ISO timestamp given by the sender, in UTC; now if unusable."""
    if value and (parsed := dt_util.parse_datetime(value)) and parsed.tzinfo:
        return dt_util.as_utc(parsed).isoformat(timespec="milliseconds")
    return now_iso()


def parse_payload(data: Any) -> InboundMessage | DeliveryReport:
    """Turn a decoded JSON payload into a typed record, or raise."""
    if not isinstance(data, dict):
        raise InvalidPayloadError("not an object")
    try:
        if "type" in data:
            kind = _upper(data["type"])
            if (record := _parse_actio(kind, data)) is not None:
                return record
            raise InvalidPayloadError("unknown type")
        envelope = data.get("data")
        if isinstance(envelope, dict) and isinstance(envelope.get("payload"), dict):
            return _parse_telnyx(envelope.get("event_type"), envelope["payload"])
    except vol.Invalid as err:
        raise InvalidPayloadError(str(err)) from err
    raise InvalidPayloadError("unknown format")


def _parse_actio(
    kind: str, data: dict[str, Any]
) -> InboundMessage | DeliveryReport | None:
    """ACTIO's own two formats, checked by hand: the hot path, cheaper than a schema."""
    if kind == "MESSAGE":
        if not isinstance(body := data.get("body"), str):
            raise vol.Invalid("expected a string for body")
        return InboundMessage(
            _sender(data.get("from")), _phone(data.get("to")), body, now_iso()
        )
    if kind == "NOTIFICATION":
        message_id = _message_id(data.get("message_id"))
        if (status := _ACTIO_STATUS.get(_upper(data.get("status")))) is None:
            raise vol.Invalid("expected DELIVERED or ERROR")
        return DeliveryReport(message_id, status)
    return None


def _parse_telnyx(
    event_type: Any, payload: dict[str, Any]
) -> InboundMessage | DeliveryReport:
    if event_type == "message.received":
        msg = TELNYX_RECEIVED_SCHEMA(payload)
        return InboundMessage(
            msg["from"]["phone_number"],
            msg["to"][0]["phone_number"],
            msg["text"],
            _utc_iso(msg.get("received_at")),
        )
    if event_type in TELNYX_DELIVERY_EVENTS:
        note = TELNYX_DELIVERY_SCHEMA(payload)
        return DeliveryReport(note["id"], TELNYX_STATUS[note["to"][0]["status"]])
    raise InvalidPayloadError("unknown event_type")


def _loads(raw: bytes) -> Any:
    """Decode JSON fast (orjson); fall back to the typographic-quote repair."""
    try:
        return json_loads(raw)
    except ValueError:
        return loads_tolerant(raw)


def _error(status: HTTPStatus, message: str) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps({"error": message}),
        content_type="application/json",
    )


async def _read_limited(request: web.Request) -> bytes | None:
    """Read the body, or None once it exceeds the limit (not reading on)."""
    length = request.content_length
    if length is not None:
        return None if length > MAX_WEBHOOK_BYTES else await request.read()
    # Chunked: read no more than one byte past the limit.
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(MAX_WEBHOOK_BYTES + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_WEBHOOK_BYTES:
            return None
    return b"".join(chunks)


async def async_handle_webhook(
    hass: HomeAssistant, entry_id: str, request: web.Request
) -> web.Response:
    """Validate one POST from ACTIO and keep it, whether the entry is loaded or not."""
    if (entry := hass.config_entries.async_get_entry(entry_id)) is None:
        # Only between a removal and the unregistering; never a silent 200.
        LOGGER.warning("A webhook call for a removed ACTIO SMS entry was refused")
        return _error(HTTPStatus.GONE, "gone")
    data = hass.data[DATA_ACTIO]
    # request.remote is the address HA already resolved (X-Forwarded-For
    # from trusted proxies when use_x_forwarded_for is on).
    if entry.options.get(CONF_ALLOWED_SOURCES) and not (
        await data.allowlist.async_allows(request.remote)
    ):
        LOGGER.warning("Refused a webhook call from a peer that is not ACTIO")
        return _error(HTTPStatus.FORBIDDEN, "forbidden")
    raw = await _read_limited(request)
    if raw is None:
        LOGGER.warning(
            "Refused a webhook payload larger than %s bytes", MAX_WEBHOOK_BYTES
        )
        return _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "payload too large")
    try:
        record = parse_payload(_loads(raw))
    except (ValueError, RecursionError) as err:
        # ValueError covers bad UTF-8, bad JSON and InvalidPayloadError.
        LOGGER.warning("Refused an invalid webhook payload: %s", type(err).__name__)
        LOGGER.debug("Invalid webhook payload: %s", err)
        return _error(HTTPStatus.BAD_REQUEST, "invalid payload")
    hub = async_get_hub(hass, entry)
    if not hub.loaded:
        await hub.async_load()
    # A disabled entry keeps what arrives, but triggers no automation.
    fire = entry.disabled_by is None
    run_command: Callable[[], Coroutine[Any, Any, None]] | None = None
    if isinstance(record, InboundMessage):
        if (commands := hub.commands) is not None:
            # Before anything keeps the text: it may begin with the PIN.
            record, command = commands.async_inspect(record)
            if command is not None:
                run_command = partial(commands.async_run, record.sender, command)
        LOGGER.debug(
            "Received an SMS from %s to %s: %s",
            record.sender,
            record.recipient,
            record.body,
        )
        hub.async_handle_inbound(record, fire=fire, command=run_command is not None)
    else:
        LOGGER.debug("Delivery report: %s is %s", record.message_id, record.status)
        hub.async_handle_delivery(record, fire=fire)
    # 200 means kept: answer once the journal line is written.
    if (written := hub.log.written) is not None:
        try:
            await asyncio.shield(written)
        except JournalWriteError:
            return _error(HTTPStatus.SERVICE_UNAVAILABLE, "not stored")
    if run_command is not None:
        # Only here, for a live post: a replayed journal never runs commands.
        hass.async_create_background_task(run_command(), f"{DOMAIN} SMS command")
    return web.Response(body=_OK_BODY, content_type="application/json")


@callback
def async_register(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """Register the entry's webhook until the entry is removed (not unloaded)."""
    webhook_id: str = entry.data[CONF_WEBHOOK_ID]
    registered = hass.data[DATA_ACTIO].webhooks
    if webhook_id in registered:
        return
    registered.add(webhook_id)

    async def _async_handle(
        hass: HomeAssistant, _webhook_id: str, request: web.Request
    ) -> web.Response:
        return await async_handle_webhook(hass, entry.entry_id, request)

    async_register_webhook(
        hass,
        DOMAIN,
        entry.title,
        webhook_id,
        _async_handle,
        local_only=False,
        allowed_methods=["POST"],
    )


@callback
def async_unregister(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """The entry is removed: stop accepting for it."""
    if (data := hass.data.get(DATA_ACTIO)) is not None:
        data.webhooks.discard(entry.data[CONF_WEBHOOK_ID])
    async_unregister_webhook(hass, entry.data[CONF_WEBHOOK_ID])
