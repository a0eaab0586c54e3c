"""The webhook ACTIO posts inbound SMS and delivery reports to: HTTP only.

Method, size, peer and body are checked here; ``actio.parse_inbound`` reads
the body, ``inbox.async_accept`` keeps it. The answer is 200 only once the
record is on disk, 400/403/410/413/422 for what is refused (422: a JSON object no dialect knows, kept aside), 503 when it could not
be stored; never 500.
"""

from __future__ import annotations

from http import HTTPStatus
import json
from typing import Any, Final

from aiohttp import web

from homeassistant.components.webhook import (
    async_generate_path,
    async_generate_url,
    async_register as async_register_webhook,
    async_unregister as async_unregister_webhook,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.network import NoURLAvailableError

from .actio import UnrecognisedPayloadError, parse_inbound
from .cloudhook import async_get_cloudhook_url
from .const import CONF_CLOUDHOOK, DOMAIN, LOGGER, MAX_WEBHOOK_BYTES
from .data import DATA_ACTIO, async_get_runtime
from .inbox import async_accept, async_keep_aside
from .store import StoreWriteError

_OK_BODY: Final = b'{"status":"ok"}'


def _error(status: HTTPStatus, message: str) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps({"error": message}),
        content_type="application/json",
    )


async def _read_limited(request: web.Request) -> bytes | None:
    """Read the body, or None once it exceeds the limit (not reading on).

    Home Assistant Cloud's cloudhooks hand over a ``MockRequest``: no
    ``content_length``, no ``read()``, and a new reader at every ``content``.
    """
    length = getattr(request, "content_length", None)
    if length is not None and length > MAX_WEBHOOK_BYTES:
        return None
    # Read no more than one byte past the limit (chunked, or a cloudhook).
    content = request.content
    chunks: list[bytes] = []
    size = 0
    while chunk := await content.read(MAX_WEBHOOK_BYTES + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_WEBHOOK_BYTES:
            return None
    return b"".join(chunks)


async def async_handle_webhook(
    hass: HomeAssistant, entry_id: str, request: web.Request
) -> web.Response:
    """Check one POST from ACTIO and keep it, whether the entry is loaded or not."""
    if (entry := hass.config_entries.async_get_entry(entry_id)) is None:
        # Only between a removal and the unregistering; never a silent 200.
        LOGGER.warning("A webhook call for a removed ACTIO SMS entry was refused")
        return _error(HTTPStatus.GONE, "gone")
    runtime = async_get_runtime(hass, entry)
    # request.remote is the address HA already resolved (X-Forwarded-For
    # from trusted proxies when use_x_forwarded_for is on).
    if runtime.settings.allowed_sources and not (
        await hass.data[DATA_ACTIO].allowlist.async_allows(request.remote)
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
        record = parse_inbound(raw)
    except UnrecognisedPayloadError as err:
        await async_keep_aside(runtime, raw, err.data)
        return _error(HTTPStatus.UNPROCESSABLE_ENTITY, "unrecognised payload")
    except ValueError as err:
        LOGGER.warning("Refused an invalid webhook payload: %s", type(err).__name__)
        LOGGER.debug("Invalid webhook payload: %s", err)
        return _error(HTTPStatus.BAD_REQUEST, "invalid payload")
    try:
        await async_accept(runtime, record)
    except StoreWriteError:
        return _error(HTTPStatus.SERVICE_UNAVAILABLE, "not stored")
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


def local_webhook_url(hass: HomeAssistant, webhook_id: str) -> str:
    """The URL ACTIO posts to, as Home Assistant's own URLs spell it."""
    try:
        return async_generate_url(hass, webhook_id)
    except NoURLAvailableError:
        return async_generate_path(webhook_id)


async def async_entry_webhook_url(hass: HomeAssistant, entry: ConfigEntry[Any]) -> str:
    """The entry's URL to paste into ACTIO's panel (a cloudhook's, if it has one)."""
    webhook_id: str = entry.data[CONF_WEBHOOK_ID]
    if entry.data.get(CONF_CLOUDHOOK) and (
        url := await async_get_cloudhook_url(hass, webhook_id)
    ):
        return url
    return local_webhook_url(hass, webhook_id)
