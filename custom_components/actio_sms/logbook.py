"""Logbook lines for the integration's events: who, and what was said."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ICON,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Event, HomeAssistant, callback

from .actio import EVENT_STATUSES
from .const import (
    CONF_NUMBER,
    CONF_SENDER,
    DOMAIN,
    EVENT_DELIVERY_STATUS,
    EVENT_MESSAGE_RECEIVED,
    EVENT_MESSAGE_SENT,
)
from .phone import format_number, recipient_label, shorten
from .settings import recipients_of

MAX_TEXT: Final = 80
MAX_NAMED: Final = 3
STATUS_TEXTS: Final = frozenset(EVENT_STATUSES)
STATUS_ICONS: Final = {
    "delivered": "mdi:message-check",
    "unconfirmed": "mdi:message-question",
    "expired": "mdi:message-alert-outline",
}
"""A send to more recipients is counted, not named."""

# The logbook takes finished text, not translation keys: Home Assistant's
# language picks one of these (English for any other).
TEXTS: Final = {
    "en": {
        "received": "SMS from {who}: {text}",
        "sent": "SMS to {who}: {text}",
        "sent_many": "SMS to {count} recipients: {text}",
        "delivered": "SMS to {who} delivered: {text}",
        "failed": "SMS to {who} not delivered{reason}: {text}",
        "expired": "SMS to {who} expired undelivered: {text}",
        "bounced": "SMS to {who} refused by the network: {text}",
        "unconfirmed": "SMS to {who} unconfirmed (ACTIO's answer was lost; it may have gone out): {text}",
        "unknown_delivered": "An SMS not in the history was delivered (id {message_id})",
        "unknown_failed": "An SMS not in the history was not delivered (id {message_id})",
        "command": "SMS command from {who}: {text}",
    },
    "pl": {
        "received": "SMS od {who}: {text}",
        "sent": "SMS do {who}: {text}",
        "sent_many": "SMS do {count} odbiorców: {text}",
        "delivered": "SMS do {who} dostarczony: {text}",
        "failed": "SMS do {who} niedostarczony{reason}: {text}",
        "expired": "SMS do {who} wygasł niedostarczony: {text}",
        "bounced": "SMS do {who} odrzucony przez sieć: {text}",
        "unconfirmed": "SMS do {who} niepotwierdzony (odpowiedź ACTIO zaginęła; mógł zostać wysłany): {text}",
        "unknown_delivered": "SMS spoza historii dostarczony (id {message_id})",
        "unknown_failed": "SMS spoza historii niedostarczony (id {message_id})",
        "command": "Polecenie SMS od {who}: {text}",
    },
}


def _short(value: Any) -> str:
    return shorten(str(value or ""), MAX_TEXT)


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    """One line per SMS and per report, naming the recipient where known."""

    def texts() -> dict[str, str]:
        return TEXTS.get(hass.config.language.split("-")[0], TEXTS["en"])

    def entry_of(event: Event) -> ConfigEntry[Any] | None:
        return hass.config_entries.async_get_entry(
            str(event.data.get("config_entry_id"))
        )

    def name(event: Event) -> str:
        """Whose line it is: ACTIO, or which of several virtual numbers.

        With one entry "ACTIO" says it all and keeps the line short on a
        phone; with several, a line names its entry: the title the user gave
        it, or "ACTIO" and the number.
        """
        entry = entry_of(event)
        if entry is None or len(hass.config_entries.async_entries(DOMAIN)) < 2:
            return "ACTIO"
        number = format_number(str(entry.data.get(CONF_SENDER, "")))
        if entry.title in (entry.data.get(CONF_SENDER), number):
            return f"ACTIO {number}"
        return entry.title

    def who(event: Event, number: Any) -> str:
        """A recipient's name with the number, or the number."""
        if (entry := entry_of(event)) is not None:
            for title, data in recipients_of(entry).values():
                if data.get(CONF_NUMBER) == number:
                    return recipient_label(title, str(number))
        return format_number(str(number))

    @callback
    def describe_received(event: Event) -> dict[str, str]:
        data = event.data
        command = bool(data.get("command"))
        return {
            LOGBOOK_ENTRY_NAME: name(event),
            LOGBOOK_ENTRY_MESSAGE: texts()["command" if command else "received"].format(
                who=who(event, data.get("from")), text=_short(data.get("body"))
            ),
            LOGBOOK_ENTRY_ICON: "mdi:message-cog"
            if command
            else "mdi:message-arrow-left",
        }

    @callback
    def describe_sent(event: Event) -> dict[str, str]:
        data = event.data
        recipients = [m.get("recipient") for m in data.get("messages") or ()]
        text = _short(data.get("body"))
        if len(recipients) > MAX_NAMED:
            message = texts()["sent_many"].format(count=len(recipients), text=text)
        else:
            message = texts()["sent"].format(
                who=", ".join(who(event, number) for number in recipients), text=text
            )
        return {
            LOGBOOK_ENTRY_NAME: name(event),
            LOGBOOK_ENTRY_MESSAGE: message,
            LOGBOOK_ENTRY_ICON: "mdi:message-arrow-right",
        }

    @callback
    def describe_delivery(event: Event) -> dict[str, str]:
        data = event.data
        status = str(data.get("status"))
        delivered = status == "delivered"
        if (recipient := data.get("recipient")) is None:
            message = texts()[
                "unknown_delivered" if delivered else "unknown_failed"
            ].format(message_id=data.get("message_id"))
        else:
            reason = data.get("reason")
            message = texts()[status if status in STATUS_TEXTS else "failed"].format(
                who=who(event, recipient),
                text=_short(data.get("body")),
                reason=f" ({_short(reason)})" if reason else "",
            )
        return {
            LOGBOOK_ENTRY_NAME: name(event),
            LOGBOOK_ENTRY_MESSAGE: message,
            LOGBOOK_ENTRY_ICON: STATUS_ICONS.get(status, "mdi:message-alert"),
        }

    async_describe_event(DOMAIN, EVENT_MESSAGE_RECEIVED, describe_received)
    async_describe_event(DOMAIN, EVENT_MESSAGE_SENT, describe_sent)
    async_describe_event(DOMAIN, EVENT_DELIVERY_STATUS, describe_delivery)
