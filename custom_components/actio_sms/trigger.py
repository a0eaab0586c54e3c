"""Automation triggers: an SMS received, a delivery report.

Both listen to the integration's bus events, which every entry fires whether
or not it was reloaded in between, so a trigger keeps working across reloads.
inbox.py fires a repeated delivery report only once, and fires the inbound
event of an SMS command (its PIN removed) with ``command`` set: these
triggers never fire for that one.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any, Final, cast, override

import probatio as vol

from homeassistant.const import CONF_OPTIONS
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.trigger import (
    Trigger,
    TriggerActionRunner,
    TriggerConfig,
    TriggerNotTriggeredReporter,
)
from homeassistant.helpers.typing import ConfigType

from .actio import EVENT_STATUSES
from .const import (
    ATTR_CONFIG_ENTRY_ID,
    CONF_NUMBER,
    DOMAIN,
    EVENT_DELIVERY_STATUS,
    EVENT_MESSAGE_RECEIVED,
    SUBENTRY_RECIPIENT,
)
from .phone import (
    InvalidNumberError,
    async_load_metadata,
    format_number,
    normalize_number,
)
from .settings import recipients_of

CONF_FROM: Final = "from"
CONF_RECIPIENTS: Final = "recipients"
"""Recipient devices (one per recipient subentry), picked in the editor."""
CONF_CONTAINS: Final = "contains"
CONF_STATUS: Final = "status"
CONF_RECIPIENT: Final = "recipient"

STATUSES: Final = tuple(str(status) for status in EVENT_STATUSES)
_STATUS_ALIASES: Final = {"error": "failed"}
"""The status the integration fired before the vocabulary grew."""


def sender_key(value: str) -> str:
    """How a sender is compared: a number as digits, a name case-folded."""
    try:
        return normalize_number(value)
    except InvalidNumberError:
        return value.strip().casefold()


def _sender(value: Any) -> str:
    """A number in any spelling people type, or an alphanumeric sender name."""
    text = cv.string(value).strip()
    try:
        return normalize_number(text)
    except InvalidNumberError as err:
        # "InPost", "ACTIO Bank": senders ACTIO shows by name.
        if any(ch.isalpha() for ch in text):
            return text
        msg = f"not a phone number: {text}"
        raise vol.Invalid(msg) from err


def _number(value: Any) -> str:
    """A phone number in any spelling people type, as digits."""
    text = cv.string(value)
    try:
        return normalize_number(text)
    except InvalidNumberError as err:
        msg = f"not a phone number: {text}"
        raise vol.Invalid(msg) from err


def _status(value: Any) -> str:
    status = cv.string(value).strip().lower()
    status = _STATUS_ALIASES.get(status, status)
    if status not in STATUSES:
        msg = f"expected one of {', '.join(STATUSES)}"
        raise vol.Invalid(msg)
    return status


def _empty_to_none(value: Any) -> Any:
    return None if value in ("", []) else value


def _list(value: Any) -> list[Any]:
    """A list without blank items; nothing given is an empty list."""
    return [
        item
        for item in cv.ensure_list(value)
        if not (isinstance(item, str) and not item.strip())
    ]


_ENTRY: Final = vol.Optional(ATTR_CONFIG_ENTRY_ID, default=None)
_ENTRY_VALUE: Final = vol.All(_empty_to_none, vol.Maybe(cv.string))

RECEIVED_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_OPTIONS, default=dict): {
            vol.Optional(CONF_FROM, default=list): vol.All(_list, [_sender]),
            vol.Optional(CONF_RECIPIENTS, default=list): vol.All(_list, [cv.string]),
            vol.Optional(CONF_CONTAINS, default=None): vol.All(
                _empty_to_none, vol.Maybe(cv.string)
            ),
            _ENTRY: _ENTRY_VALUE,
        }
    }
)
DELIVERY_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_OPTIONS, default=dict): {
            vol.Optional(CONF_STATUS, default=list): vol.All(_list, [_status]),
            vol.Optional(CONF_RECIPIENT, default=None): vol.All(
                _empty_to_none, vol.Maybe(_number)
            ),
            _ENTRY: _ENTRY_VALUE,
        }
    }
)


@callback
def recipient_numbers(hass: HomeAssistant, device_ids: Iterable[str]) -> set[str]:
    """The numbers of recipient devices, as their subentries hold them now."""
    registry = dr.async_get(hass)
    found: set[str] = set()
    for device_id in device_ids:
        if (device := registry.async_get(device_id)) is None or not (
            subentry_id := device.config_subentry_id
        ):
            continue
        entry = hass.config_entries.async_get_entry(device.config_entry_id)
        if entry is None or entry.domain != DOMAIN:
            continue
        subentry = entry.subentries.get(subentry_id)
        if subentry and subentry.subentry_type == SUBENTRY_RECIPIENT:
            found.add(str(subentry.data[CONF_NUMBER]))
    return found


@callback
def recipient_name(hass: HomeAssistant, entry_id: Any, number: Any) -> str | None:
    """The name of the entry's recipient with this number, if there is one."""
    if (
        not isinstance(entry_id, str)
        or (entry := hass.config_entries.async_get_entry(entry_id)) is None
    ):
        return None
    for title, data in recipients_of(entry).values():
        if str(data.get(CONF_NUMBER)) == number:
            return title
    return None


@callback
def _named(hass: HomeAssistant, entry_id: Any, number: str) -> tuple[str | None, str]:
    """A number's recipient name, if any, and how a person reads it.

    "Mom", or "+48 600 100 299" for a number that is no recipient.
    """
    name = recipient_name(hass, entry_id, number)
    return name, name or format_number(number)


class _BusTrigger(Trigger):
    """A trigger on one of the integration's bus events, for one entry or all."""

    _event_type: str
    _schema: vol.Schema

    @override
    @classmethod
    async def async_validate_config(
        cls, hass: HomeAssistant, config: ConfigType
    ) -> ConfigType:
        """Validate the options (numbers need the phone number metadata)."""
        await async_load_metadata(hass)
        return cast("ConfigType", cls._schema(config))

    def __init__(self, hass: HomeAssistant, config: TriggerConfig) -> None:
        """Keep the validated options."""
        super().__init__(hass, config)
        self._options: dict[str, Any] = config.options or {}
        self._entry_id: str | None = self._options.get(ATTR_CONFIG_ENTRY_ID)

    @override
    async def async_attach_runner(
        self,
        run_action: TriggerActionRunner,
        did_not_trigger: TriggerNotTriggeredReporter | None = None,
    ) -> CALLBACK_TYPE:
        """Listen on the bus until the automation goes away."""

        @callback
        def _async_event(event: Event[Mapping[str, Any]]) -> None:
            data = event.data
            if self._entry_id is not None and (
                data.get(ATTR_CONFIG_ENTRY_ID) != self._entry_id
            ):
                return
            if (fired := self._async_match(data)) is not None:
                payload, description = fired
                run_action(payload, description, event.context)

        return self._hass.bus.async_listen(self._event_type, _async_event)

    @abstractmethod
    def _async_match(
        self, data: Mapping[str, Any]
    ) -> tuple[dict[str, Any], str] | None:
        """The trigger variables and a description, or None to stay quiet."""


class MessageReceivedTrigger(_BusTrigger):
    """An SMS arrived, optionally from given senders and containing a text."""

    _event_type = EVENT_MESSAGE_RECEIVED
    _schema = RECEIVED_SCHEMA

    def __init__(self, hass: HomeAssistant, config: TriggerConfig) -> None:
        """Prepare the filters."""
        super().__init__(hass, config)
        self._senders = {sender_key(s) for s in self._options.get(CONF_FROM, [])}
        self._devices: list[str] = self._options.get(CONF_RECIPIENTS, [])
        contains: str | None = self._options.get(CONF_CONTAINS)
        self._contains = contains.casefold() if contains else None

    @callback
    @override
    def _async_match(
        self, data: Mapping[str, Any]
    ) -> tuple[dict[str, Any], str] | None:
        if data.get("command"):
            return None  # SMS commands go to Assist, not to automations
        sender = str(data.get("from", ""))
        body = str(data.get("body", ""))
        if self._senders or self._devices:
            wanted = self._senders | recipient_numbers(self._hass, self._devices)
            if sender_key(sender) not in wanted:
                return None
        if self._contains is not None and self._contains not in body.casefold():
            return None
        entry_id = data.get(ATTR_CONFIG_ENTRY_ID)
        name, from_label = _named(self._hass, entry_id, sender)
        return (
            {
                "from": sender,
                "to": data.get("to"),
                "body": body,
                "received_at": data.get("received_at"),
                "config_entry_id": entry_id,
                "name": name,
                "from_label": from_label,
            },
            f"SMS from {from_label}",
        )


class DeliveryStatusTrigger(_BusTrigger):
    """ACTIO reported on a sent SMS, optionally only some outcomes or a number."""

    _event_type = EVENT_DELIVERY_STATUS
    _schema = DELIVERY_SCHEMA

    def __init__(self, hass: HomeAssistant, config: TriggerConfig) -> None:
        """Prepare the filters."""
        super().__init__(hass, config)
        self._statuses = frozenset(self._options.get(CONF_STATUS, ()))
        self._recipient: str | None = self._options.get(CONF_RECIPIENT)

    @callback
    @override
    def _async_match(
        self, data: Mapping[str, Any]
    ) -> tuple[dict[str, Any], str] | None:
        status = str(data.get("status", ""))
        status = _STATUS_ALIASES.get(status, status)
        if self._statuses and status not in self._statuses:
            return None
        recipient = data.get("recipient")
        if self._recipient is not None and recipient != self._recipient:
            return None
        entry_id = data.get(ATTR_CONFIG_ENTRY_ID)
        recipient_label = (
            _named(self._hass, entry_id, recipient)[1]
            if isinstance(recipient, str)
            else None
        )
        return (
            {
                "message_id": data.get("message_id"),
                "status": status,
                "recipient": recipient,
                "recipient_label": recipient_label,
                "body": data.get("body"),
                "reason": data.get("reason"),
                "sent_at": data.get("sent_at"),
                "config_entry_id": entry_id,
            },
            f"SMS {data.get('message_id')} {status}",
        )


TRIGGERS: Final[dict[str, type[Trigger]]] = {
    "message_received": MessageReceivedTrigger,
    "delivery_status": DeliveryStatusTrigger,
}


async def async_get_triggers(hass: HomeAssistant) -> dict[str, type[Trigger]]:
    """The integration's triggers (``actio_sms.message_received``, …)."""
    return TRIGGERS
