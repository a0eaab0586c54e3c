"""Control by SMS: run a command through Assist and answer it by SMS.

Which SMS are commands (listed senders, the PIN taken off, lockout, rate
limit) is decided in ``inbox.py`` before anything keeps the text. Commands
run only for a live webhook post, never for a record read back, as a
non-admin system user, and only on what is exposed to Assist.
"""

from __future__ import annotations

import time
from typing import Any, Final

import probatio as vol

from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .const import EVENT_COMMAND, LOGGER
from .data import DATA_ACTIO, ActioRuntime
from .outbox import async_send
from .phone import shorten

COMMAND_USER_NAME: Final = "ACTIO SMS commands"
CONVERSATION_TTL: Final = 300.0
"""Seconds a sender's conversation stays open for follow-up questions."""
MAX_REPLY: Final = 300
"""Characters of the agent's answer sent back (five UCS-2 parts)."""


async def async_run_command(runtime: ActioRuntime, sender: str, command: str) -> None:
    """Ask the agent, answer by SMS, fire ``actio_sms_command``."""
    hass = runtime.hass
    settings = runtime.settings
    conversations = runtime.commands.conversations
    now = time.monotonic()
    conversation_id, expires = conversations.get(sender, (None, 0.0))
    if expires <= now:
        conversation_id = None
    if "conversation" not in hass.config.components:
        LOGGER.warning("SMS commands need Assist (conversation), which is not set up")
        return
    # Through Assist's action, not its module: importing it would make this
    # integration wait for Assist's setup at startup, and every second
    # before the webhook is registered loses what ACTIO posts.
    request: dict[str, Any] = {"text": command, "language": hass.config.language}
    if conversation_id:
        request["conversation_id"] = conversation_id
    if settings.command_agent:
        request["agent_id"] = settings.command_agent
    context = Context(user_id=await async_command_user_id(hass))
    try:
        result = await hass.services.async_call(
            "conversation",
            "process",
            request,
            blocking=True,
            context=context,
            return_response=True,
        )
    except (HomeAssistantError, vol.Invalid) as err:
        LOGGER.warning("The conversation agent failed on an SMS command: %s", err)
        return
    if new_id := _dig(result, "conversation_id"):
        conversations[sender] = (str(new_id), now + CONVERSATION_TTL)
    response = shorten(
        str(_dig(result, "response", "speech", "plain", "speech")), MAX_REPLY
    )
    replied = False
    if settings.command_reply and response:
        try:
            await async_send(runtime, [sender], response, skip_repeats=False)
        except HomeAssistantError as err:
            LOGGER.warning("Could not answer an SMS command: %s", err)
        else:
            replied = True
    hass.bus.async_fire(
        EVENT_COMMAND,
        runtime.event_data(
            **{
                "from": sender,
                "command": command,
                "response": response,
                "replied": replied,
            }
        ),
        context=context,
    )


def _dig(value: Any, *keys: str) -> Any:
    """``value[k1][k2]…``, or "" where something is missing."""
    for key in keys:
        if not isinstance(value, dict):
            return ""
        value = value.get(key, "")
    return value


async def async_command_user_id(hass: HomeAssistant) -> str:
    """The non-admin system user commands run as (made once)."""
    data = hass.data[DATA_ACTIO]
    if data.command_user_id is not None:
        return data.command_user_id
    for user in await hass.auth.async_get_users():
        if user.system_generated and user.name == COMMAND_USER_NAME:
            data.command_user_id = user.id
            return user.id
    user = await hass.auth.async_create_system_user(
        COMMAND_USER_NAME, group_ids=[GROUP_ID_USER]
    )
    data.command_user_id = user.id
    return user.id


async def async_remove_command_user(hass: HomeAssistant) -> None:
    """The last entry is gone: so is the commands' user."""
    for user in await hass.auth.async_get_users():
        if user.system_generated and user.name == COMMAND_USER_NAME:
            await hass.auth.async_remove_user(user)
    if (data := hass.data.get(DATA_ACTIO)) is not None:
        data.command_user_id = None
