"""Tools for Assist's LLM agents: send an SMS to a recipient, read the latest.

Home Assistant's ``llm`` integration asks every loaded integration with an
``llm`` platform for tools (``async_get_tools``) and gives them to the Assist
API. These are offered only for entries with the option ``llm_tools`` on (off
by default: an SMS costs money and reaches people). The send tool takes a
configured recipient's name, never a number, and goes through the one send
path, so the daily limit, the duplicate window and the size limit apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, cast, override

import probatio as vol

from homeassistant.components.llm import LLMTools
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import llm
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonObjectType

from .const import CONF_LLM_TOOLS, CONF_NUMBER, DOMAIN
from .outbox import SendResult, async_send
from .phone import mask_number, recipient_label, shorten
from .settings import recipients_of
from .store import Record

try:
    from homeassistant.helpers.llm import ToolAnnotations, ToolResult
except ImportError:  # pragma: no cover - Home Assistant 2026.9
    # Before 2026.10 a tool answers with a plain JSON object, declares nothing.
    _TOOL_RESULT = False
else:
    _TOOL_RESULT = True


async def _send(
    hass: HomeAssistant, entry: ConfigEntry[Any], numbers: list[str], message: str
) -> SendResult:
    """Send through the integration's one send path (guard, dedupe, max parts)."""
    return await async_send(entry.runtime_data, numbers, message)


async def _query(
    entry: ConfigEntry[Any], number: str | None, limit: int
) -> list[Record]:
    """The entry's latest messages, newest first, to or from ``number`` if given."""
    return cast(
        "list[Record]", await entry.runtime_data.store.query(None, number, limit)
    )


MAX_MESSAGES: Final = 10
DEFAULT_MESSAGES: Final = 5
MAX_BODY: Final = 160
"""Characters of each message body a tool shows."""


@dataclass(frozen=True, slots=True)
class Recipient:
    """A configured recipient of an entry with the tools on."""

    entry: ConfigEntry[Any]
    name: str
    number: str


def _answer(data: JsonObjectType, *, error: bool = False) -> Any:
    """A tool's answer: a ToolResult where Home Assistant has it."""
    if _TOOL_RESULT:
        return ToolResult(data=data, error=error)
    return data  # pragma: no cover - Home Assistant 2026.9


def _refuse(message: str) -> Any:
    """A polite refusal the model can pass on (not an exception)."""
    return _answer({"error": message}, error=True)


def _truncate(body: str) -> str:
    return shorten(body, MAX_BODY, one_line=False)


def _local_time(value: str | None) -> str | None:
    if value and (parsed := dt_util.parse_datetime(value)):
        return dt_util.as_local(parsed).isoformat(timespec="minutes")
    return value


@callback
def _tool_entries(hass: HomeAssistant) -> list[ConfigEntry[Any]]:
    """Loaded entries whose owner turned the tools on."""
    return [
        entry
        for entry in hass.config_entries.async_loaded_entries(DOMAIN)
        if entry.options.get(CONF_LLM_TOOLS, False)
    ]


def _recipients(entries: list[ConfigEntry[Any]]) -> list[Recipient]:
    return [
        Recipient(entry, title, str(data[CONF_NUMBER]))
        for entry in entries
        for title, data in recipients_of(entry).values()
    ]


class _RecipientTool(llm.Tool):
    """A tool that knows the configured recipients it may name."""

    integration = DOMAIN

    def __init__(
        self, entries: list[ConfigEntry[Any]], recipients: list[Recipient]
    ) -> None:
        """Remember the entries and recipients offered in this conversation."""
        self._entries = entries
        self._recipients = recipients
        self._names = sorted({r.name for r in recipients}, key=str.casefold)

    def _find(self, name: Any) -> Recipient | str:
        """The recipient called ``name``, or why there is none to use."""
        names = ", ".join(self._names) or "none"
        if not isinstance(name, str) or not name.strip():
            return f"Say which recipient: one of {names}."
        wanted = name.strip().casefold()
        matches = {
            (r.entry.entry_id, r.number): r
            for r in self._recipients
            if r.name.casefold() == wanted
        }
        if not matches:
            return (
                f"{name.strip()} is not a configured SMS recipient; only these are: "
                f"{names}. Recipients are added in the ACTIO SMS integration."
            )
        if len(matches) > 1:
            return f"Several recipients are called {name.strip()}; rename one first."
        recipient = next(iter(matches.values()))
        if recipient.entry.state is not ConfigEntryState.LOADED:
            return "The SMS gateway is not available right now."
        return recipient


class SendSmsTool(_RecipientTool):
    """Send an SMS to a configured recipient, named."""

    name = "actio_sms__send_sms"
    title = "Send an SMS"
    description = (
        "Send a text message (SMS) to one of the user's configured SMS recipients, "
        "by the recipient's name. Each SMS costs money and reaches a person: send "
        "only when the user clearly asked for it, with the text they want."
    )
    if _TOOL_RESULT:
        annotations = ToolAnnotations(
            read_only=False, destructive=True, idempotent=False, open_world=True
        )

    def __init__(
        self, entries: list[ConfigEntry[Any]], recipients: list[Recipient]
    ) -> None:
        """Offer the recipients' names to the model."""
        super().__init__(entries, recipients)
        self.parameters = vol.Schema(
            {
                vol.Required(
                    "recipient", description="The configured recipient's name."
                ): vol.In(self._names),
                vol.Required("message", description="The text to send."): str,
            }
        )

    @override
    async def async_call(
        self,
        hass: HomeAssistant,
        tool_input: llm.ToolInput,
        llm_context: llm.LLMContext,
    ) -> Any:
        """Send, or say politely why not."""
        args = tool_input.tool_args
        found = self._find(args.get("recipient"))
        if isinstance(found, str):
            return _refuse(found)
        message = args.get("message")
        if not isinstance(message, str) or not message.strip():
            return _refuse("The SMS has no text; say what it should say.")
        try:
            result = await _send(hass, found.entry, [found.number], message.strip())
        except HomeAssistantError as err:
            reason = str(err).removeprefix("Not sent: ")
            return _refuse(
                f"The SMS to {found.name} was not sent: {reason[:1].lower()}{reason[1:]}"
            )
        if not result.sent:
            return _refuse(
                f"The SMS to {found.name} was not sent: the same text went to "
                "them a moment ago."
            )
        return _answer(
            {
                "success": True,
                "recipient": found.name,
                "parts": sum(outcome.parts for outcome in result.sent),
            }
        )


class ReadMessagesTool(_RecipientTool):
    """The latest SMS, from and to a configured recipient or anyone."""

    name = "actio_sms__read_messages"
    title = "Read the latest SMS"
    description = (
        "Read the latest text messages (SMS) sent and received, newest first, "
        "optionally only those with one configured recipient, named. Numbers of "
        "people who are not configured recipients are partly hidden."
    )
    if _TOOL_RESULT:
        annotations = ToolAnnotations(
            read_only=True, destructive=False, idempotent=True, open_world=False
        )

    def __init__(
        self, entries: list[ConfigEntry[Any]], recipients: list[Recipient]
    ) -> None:
        """Offer the recipients' names and a bounded count."""
        super().__init__(entries, recipients)
        schema: dict[Any, Any] = {}
        if self._names:
            schema[
                vol.Optional(
                    "recipient",
                    description="Only messages with this configured recipient.",
                )
            ] = vol.In(self._names)
        schema[
            vol.Optional(
                "limit", description=f"How many messages, at most {MAX_MESSAGES}."
            )
        ] = vol.All(int, vol.Range(min=1, max=MAX_MESSAGES))
        self.parameters = vol.Schema(schema)
        self._labels = {r.number: recipient_label(r.name, r.number) for r in recipients}

    @override
    async def async_call(
        self,
        hass: HomeAssistant,
        tool_input: llm.ToolInput,
        llm_context: llm.LLMContext,
    ) -> Any:
        """The messages, bounded, bodies cut, unknown numbers masked."""
        args = tool_input.tool_args
        limit = args.get("limit", DEFAULT_MESSAGES)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            return _refuse(f"The limit is a number from 1 to {MAX_MESSAGES}.")
        limit = min(limit, MAX_MESSAGES)
        if args.get("recipient") is None:
            entries = [e for e in self._entries if e.state is ConfigEntryState.LOADED]
            number = None
        else:
            found = self._find(args["recipient"])
            if isinstance(found, str):
                return _refuse(found)
            entries, number = [found.entry], found.number
        records = [
            record for entry in entries for record in await _query(entry, number, limit)
        ]
        records.sort(key=_timestamp, reverse=True)
        return _answer({"messages": [self._show(r) for r in records[:limit]]})

    def _label(self, number: str) -> str:
        return self._labels.get(number) or mask_number(number)

    def _show(self, record: Record) -> JsonObjectType:
        if record["direction"] == "sent":
            return {
                "direction": "sent",
                "to": self._label(record["recipient"]),
                "time": _local_time(record["sent_at"]),
                "text": _truncate(record["body"]),
                "status": str(record["status"]),
            }
        return {
            "direction": "received",
            "from": self._label(record["from"]),
            "time": _local_time(record["received_at"]),
            "text": _truncate(record["body"]),
        }


def _timestamp(record: Record) -> str:
    if record["direction"] == "sent":
        return record["sent_at"]
    return record["received_at"]


@callback
def async_get_tools(
    hass: HomeAssistant, llm_context: llm.LLMContext, api_id: str
) -> LLMTools | None:
    """The tools for Assist, when an entry has them on."""
    if api_id != llm.LLM_API_ASSIST or not (entries := _tool_entries(hass)):
        return None
    recipients = _recipients(entries)
    tools: list[llm.Tool] = [ReadMessagesTool(entries, recipients)]
    if recipients:
        tools.insert(0, SendSmsTool(entries, recipients))
    return LLMTools(tools=tools)
