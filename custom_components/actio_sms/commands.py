"""Control by SMS: commands from listed numbers go to Assist, answered by SMS.

Sender numbers can be spoofed, so a PIN is strongly advised. The PIN is
compared in constant time and taken off the text before anything keeps or
shows it: the inbound event, the history and the logs see the command only.
Commands run only for a live webhook post, never for a replayed journal line,
as a non-admin system user, and only on what is exposed to Assist.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
import hmac
import time
from typing import TYPE_CHECKING, Any, Final

import probatio as vol

from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.core import Context, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN, EVENT_COMMAND, ISSUE_COMMAND_LOCKOUT, LOGGER
from .hub import DATA_ACTIO
from .models import InboundMessage
from .phone import format_number
from .sending import async_send

if TYPE_CHECKING:
    from .runtime import ActioRuntimeData

COMMAND_USER_NAME: Final = "ACTIO SMS commands"
RATE_LIMIT: Final = 5
"""Commands per sender per RATE_WINDOW seconds."""
RATE_WINDOW: Final = 60.0
LOCKOUT_FAILURES: Final = 5
"""Wrong PINs within FAILURE_WINDOW seconds that lock a number out."""
FAILURE_WINDOW: Final = 600.0
LOCKOUT: Final = 900.0
CONVERSATION_TTL: Final = 300.0
"""Seconds a sender's conversation stays open for follow-up questions."""
MAX_REPLY: Final = 300
"""Characters of the agent's answer sent back (five UCS-2 parts)."""


def _looks_like_pin(token: str, pin: str) -> bool:
    """A wrong guess, not an ordinary message from a listed number."""
    return len(token) == len(pin) and token.isdigit() == pin.isdigit()


def _within(
    times: dict[str, list[float]], sender: str, now: float, window: float
) -> list[float]:
    """The sender's times inside the window (kept in ``times``, to append to)."""
    kept = times[sender] = [t for t in times.get(sender, []) if now - t < window]
    return kept


def bounded(text: str) -> str:
    """The answer cut to MAX_REPLY characters."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_REPLY else text[: MAX_REPLY - 1] + "…"


@dataclass
class CommandHandler:
    """An entry's command senders, PIN, agent, and what it remembers of them."""

    hass: HomeAssistant
    runtime: ActioRuntimeData
    _conversations: dict[str, tuple[str, float]] = field(default_factory=dict)
    _failures: dict[str, list[float]] = field(default_factory=dict)
    _locked_until: dict[str, float] = field(default_factory=dict)
    _recent: dict[str, list[float]] = field(default_factory=dict)
    _warned_until: dict[str, float] = field(default_factory=dict)

    @callback
    def async_inspect(
        self, message: InboundMessage
    ) -> tuple[InboundMessage, str | None]:
        """The message as it may be kept, and the command in it, if any."""
        settings = self.runtime.settings
        sender = message.sender
        if sender not in settings.command_senders:
            return message, None
        command = message.body.strip()
        if pin := settings.command_pin:
            first, _, rest = command.partition(" ")
            if not hmac.compare_digest(first.encode(), pin.encode()):
                if _looks_like_pin(first, pin):
                    self._async_wrong_pin(sender)
                return message, None
            command = rest.strip()
            # From here on nothing keeps or shows the PIN.
            message = replace(message, body=command)
        now = time.monotonic()
        if (locked_until := self._locked_until.get(sender)) is not None:
            if locked_until > now:
                LOGGER.warning("Ignored a command from %s: locked out", sender)
                return message, None
            del self._locked_until[sender]
            ir.async_delete_issue(self.hass, DOMAIN, self._issue_id(sender))
        if not command or not self._async_within_rate(sender, now):
            return message, None
        return message, command

    @callback
    def _async_wrong_pin(self, sender: str) -> None:
        now = time.monotonic()
        failures = _within(self._failures, sender, now, FAILURE_WINDOW)
        failures.append(now)
        LOGGER.warning("Wrong command PIN from %s", sender)
        if len(failures) < LOCKOUT_FAILURES:
            return
        self._failures[sender] = []
        self._locked_until[sender] = now + LOCKOUT
        LOGGER.warning(
            "Locked %s out of SMS commands for %s minutes after %s wrong PINs",
            sender,
            int(LOCKOUT // 60),
            LOCKOUT_FAILURES,
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._issue_id(sender),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_COMMAND_LOCKOUT,
            translation_placeholders={
                "number": format_number(sender),
                "failures": str(LOCKOUT_FAILURES),
                "minutes": str(int(LOCKOUT // 60)),
                "title": self.runtime.entry.title,
            },
        )

    def _issue_id(self, sender: str) -> str:
        return f"{ISSUE_COMMAND_LOCKOUT}_{self.runtime.entry_id}_{sender}"

    @callback
    def _async_within_rate(self, sender: str, now: float) -> bool:
        recent = _within(self._recent, sender, now, RATE_WINDOW)
        if len(recent) >= RATE_LIMIT:
            if self._warned_until.get(sender, 0) <= now:
                self._warned_until[sender] = now + RATE_WINDOW
                LOGGER.warning(
                    "Ignoring commands from %s: more than %s a minute",
                    sender,
                    RATE_LIMIT,
                )
            return False
        recent.append(now)
        return True

    async def async_run(self, sender: str, command: str) -> None:
        """Ask the agent, answer by SMS, fire ``actio_sms_command``."""
        settings = self.runtime.settings
        now = time.monotonic()
        conversation_id, expires = self._conversations.get(sender, (None, 0.0))
        if expires <= now:
            conversation_id = None
        if "conversation" not in self.hass.config.components:
            LOGGER.warning(
                "SMS commands need Assist (conversation), which is not set up"
            )
            return
        # Through Assist's action, not its module: importing it would make this
        # integration wait for Assist's setup at startup, and every second
        # before the webhook is registered loses what ACTIO posts.
        request: dict[str, Any] = {
            "text": command,
            "language": self.hass.config.language,
        }
        if conversation_id:
            request["conversation_id"] = conversation_id
        if settings.command_agent:
            request["agent_id"] = settings.command_agent
        context = Context(user_id=await async_command_user_id(self.hass))
        try:
            result = await self.hass.services.async_call(
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
            self._conversations[sender] = (str(new_id), now + CONVERSATION_TTL)
        response = bounded(str(_dig(result, "response", "speech", "plain", "speech")))
        replied = False
        if settings.command_reply and response:
            try:
                await async_send(self.runtime, [sender], response, skip_repeats=False)
            except HomeAssistantError as err:
                LOGGER.warning("Could not answer an SMS command: %s", err)
            else:
                replied = True
        self.hass.bus.async_fire(
            EVENT_COMMAND,
            {
                "config_entry_id": self.runtime.entry_id,
                "device_id": self.runtime.hub.async_device_id(),
                "from": sender,
                "command": command,
                "response": response,
                "replied": replied,
            },
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
