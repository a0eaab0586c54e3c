"""Actions: ``actio_sms.send_message`` and ``actio_sms.get_messages``."""

from __future__ import annotations

from typing import cast

import probatio as vol

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.helpers import config_validation as cv, service
from homeassistant.util.json import JsonValueType

from .const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DIRECTION,
    ATTR_LIMIT,
    ATTR_MESSAGE,
    ATTR_NUMBER,
    ATTR_RECIPIENTS,
    ATTR_SEND_AT,
    ATTR_SENDER,
    DOMAIN,
    SERVICE_GET_MESSAGES,
    SERVICE_SEND_MESSAGE,
)
from .data import ActioConfigEntry, ActioRuntime
from .outbox import async_send, message_of, send_options
from .panel import may_read_messages
from .phone import InvalidNumberError, format_number, normalize_number

SEND_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_MESSAGE): cv.string,
        vol.Required(ATTR_RECIPIENTS): vol.All(
            cv.ensure_list, [cv.string], vol.Length(min=1)
        ),
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_SENDER): cv.string,
        vol.Optional(ATTR_SEND_AT): cv.string,
    }
)
GET_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_DIRECTION): vol.In(["sent", "received"]),
        vol.Optional(ATTR_NUMBER): cv.string,
        vol.Optional(ATTR_LIMIT, default=20): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=1000)
        ),
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    }
)


@callback
def async_runtime_for_action(
    hass: HomeAssistant, *, entry_id: str | None = None, sender: str | None = None
) -> ActioRuntime:
    """The loaded entry an action is for; raise a translated error otherwise."""
    if entry_id is not None:
        entry: ActioConfigEntry = service.async_get_config_entry(hass, DOMAIN, entry_id)
        return entry.runtime_data
    entries: list[ActioConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    # For the error words: numbers as people write them (+48 732 129 000).
    senders = ", ".join(
        format_number(sender)
        for sender in sorted(e.runtime_data.settings.sender for e in entries)
    )
    if sender is not None:
        try:
            wanted = normalize_number(str(sender))
        except InvalidNumberError:
            wanted = str(sender)
        for entry in entries:
            if entry.runtime_data.settings.sender == wanted:
                return entry.runtime_data
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="sender_not_found",
            translation_placeholders={"sender": str(sender), "senders": senders or "-"},
        )
    if len(entries) == 1:
        return entries[0].runtime_data
    if not entries:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="no_entries"
        )
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="entry_required",
        translation_placeholders={"senders": senders},
    )


async def _async_send_message(call: ServiceCall) -> ServiceResponse:
    runtime = async_runtime_for_action(
        call.hass, entry_id=call.data.get(ATTR_CONFIG_ENTRY_ID)
    )
    options = send_options(
        runtime, call.data.get(ATTR_SENDER), call.data.get(ATTR_SEND_AT)
    )
    result = await async_send(
        runtime, call.data[ATTR_RECIPIENTS], call.data[ATTR_MESSAGE], options=options
    )
    return {
        "messages": [message_of(o) for o in result.sent],
        "skipped": [
            {"recipient": s.recipient, "reason": s.reason} for s in result.skipped
        ],
    }


async def _async_get_messages(call: ServiceCall) -> ServiceResponse:
    runtime = async_runtime_for_action(
        call.hass, entry_id=call.data.get(ATTR_CONFIG_ENTRY_ID)
    )
    # The history is the inbox's (automations and scripts run with no user).
    if (user_id := call.context.user_id) is not None:
        user = await call.hass.auth.async_get_user(user_id)
        if user is None or not may_read_messages(runtime.entry, user):
            raise Unauthorized(context=call.context)
    number = call.data.get(ATTR_NUMBER)
    if number:
        try:
            number = normalize_number(number)
        except InvalidNumberError:
            number = number.strip()
    messages = await runtime.store.query(
        call.data.get(ATTR_DIRECTION), number, call.data[ATTR_LIMIT]
    )
    return {"messages": cast("list[JsonValueType]", messages)}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_SEND_MESSAGE,
        _async_send_message,
        schema=SEND_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_MESSAGES,
        _async_get_messages,
        schema=GET_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
