"""An entry's settings: options checked and coerced once, names derived from it.

Used by the options flow and the runtime alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.util import slugify

from .actio import ApiMode
from .const import (
    CONF_ALLOWED_SOURCES,
    CONF_API_MODE,
    CONF_BULK,
    CONF_COMMAND_AGENT,
    CONF_COMMAND_PIN,
    CONF_COMMAND_REPLY,
    CONF_COMMAND_SENDERS,
    CONF_CONCURRENCY,
    CONF_DAILY_LIMIT,
    CONF_DEFAULT_RECIPIENTS,
    CONF_DUPLICATE_WINDOW,
    CONF_ENCODING,
    CONF_HISTORY_DAYS,
    CONF_HISTORY_SIZE,
    CONF_MAX_PARTS,
    CONF_NUMBER,
    CONF_PRICE_PER_PART,
    CONF_SENDER,
    DEFAULT_CONCURRENCY,
    DEFAULT_DAILY_LIMIT,
    DEFAULT_DUPLICATE_WINDOW,
    DEFAULT_HISTORY_DAYS,
    DEFAULT_HISTORY_SIZE,
    DEFAULT_MAX_PARTS,
    MAX_HISTORY_DAYS,
    MAX_HISTORY_SIZE,
    MAX_PARTS,
    SUBENTRY_RECIPIENT,
)
from .phone import Encoding, normalize_numbers, recipient_label

MIN_PIN_LENGTH: Final = 4
INT_OPTIONS: Final = (
    CONF_CONCURRENCY,
    CONF_HISTORY_SIZE,
    CONF_HISTORY_DAYS,
    CONF_DAILY_LIMIT,
    CONF_DUPLICATE_WINDOW,
    CONF_MAX_PARTS,
)


class OptionsError(ValueError):
    """An option the form cannot accept: the field, its error key, placeholders."""

    def __init__(self, field: str, key: str, placeholders: dict[str, str]) -> None:
        """Store where the error goes and what it says."""
        self.field = field
        self.key = key
        self.placeholders = placeholders
        super().__init__(f"{field}: {key}")


def coerce_options(user_input: dict[str, Any]) -> dict[str, Any]:
    """The options as stored, from the options form; raise OptionsError.

    Numbers are normalised (digits with the country code), counts are ints.
    """
    options = dict(user_input)
    for key in (CONF_DEFAULT_RECIPIENTS, CONF_COMMAND_SENDERS):
        result = normalize_numbers([str(n) for n in user_input.get(key, [])])
        if result.invalid:
            raise OptionsError(
                key,
                "invalid_numbers",
                {"numbers": ", ".join(e.number for e in result.invalid)},
            )
        options[key] = result.numbers
    if (pin := user_input.get(CONF_COMMAND_PIN, "")) and (
        len(pin) < MIN_PIN_LENGTH or any(ch.isspace() for ch in pin)
    ):
        raise OptionsError(CONF_COMMAND_PIN, "invalid_pin", {})
    for key in INT_OPTIONS:
        if key in user_input:
            options[key] = int(user_input[key])
    if user_input.get(CONF_PRICE_PER_PART) is not None:
        options[CONF_PRICE_PER_PART] = float(user_input[CONF_PRICE_PER_PART])
    return options


@dataclass(frozen=True, slots=True, kw_only=True)
class ActioSettings:
    """An entry's data and options, read once (the entry reloads on change)."""

    sender: str
    mode: ApiMode
    allowed_sources: bool
    """Accept webhooks only from ACTIO's addresses."""
    bulk: bool
    concurrency: int
    encoding: Encoding
    default_recipients: tuple[str, ...]
    daily_limit: int
    """SMS parts per local day; 0 means no limit."""
    duplicate_window: float
    """Seconds in which the same text to the same number is skipped; 0: off."""
    max_parts: int
    price_per_part: float | None
    command_senders: frozenset[str]
    """Numbers whose SMS go to Assist; empty: commands are off."""
    command_pin: str | None
    command_agent: str | None
    """The conversation agent; None: Home Assistant's own."""
    command_reply: bool
    history_size: int
    history_days: int

    @classmethod
    def from_entry(cls, entry: ConfigEntry[Any]) -> ActioSettings:
        """Read the settings of ``entry``."""
        mode = ApiMode(entry.data.get(CONF_API_MODE, ApiMode.SMS))
        options = entry.options
        return cls(
            sender=str(entry.data[CONF_SENDER]),
            mode=mode,
            allowed_sources=bool(options.get(CONF_ALLOWED_SOURCES)),
            # sms-multi does not exist in 3CX mode.
            bulk=mode is ApiMode.SMS and bool(options.get(CONF_BULK)),
            concurrency=max(1, int(options.get(CONF_CONCURRENCY, DEFAULT_CONCURRENCY))),
            encoding=Encoding(options.get(CONF_ENCODING, Encoding.UCS2)),
            default_recipients=tuple(options.get(CONF_DEFAULT_RECIPIENTS, ())),
            daily_limit=max(0, int(options.get(CONF_DAILY_LIMIT, DEFAULT_DAILY_LIMIT))),
            duplicate_window=max(
                0.0, float(options.get(CONF_DUPLICATE_WINDOW, DEFAULT_DUPLICATE_WINDOW))
            ),
            max_parts=min(
                MAX_PARTS,
                max(1, int(options.get(CONF_MAX_PARTS, DEFAULT_MAX_PARTS))),
            ),
            price_per_part=(
                None
                if (price := options.get(CONF_PRICE_PER_PART)) in (None, "")
                else float(price)
            ),
            command_senders=frozenset(options.get(CONF_COMMAND_SENDERS, ())),
            command_pin=options.get(CONF_COMMAND_PIN) or None,
            command_agent=options.get(CONF_COMMAND_AGENT) or None,
            command_reply=bool(options.get(CONF_COMMAND_REPLY, True)),
            history_size=min(
                MAX_HISTORY_SIZE,
                max(1, int(options.get(CONF_HISTORY_SIZE, DEFAULT_HISTORY_SIZE))),
            ),
            history_days=min(
                MAX_HISTORY_DAYS,
                max(1, int(options.get(CONF_HISTORY_DAYS, DEFAULT_HISTORY_DAYS))),
            ),
        )


# The English names' slugs where they differ from the key: entity ids were
# made from "ACTIO SMS <digits>" and these names, and stay so now that the
# device is named as people write the number.
_OBJECT_IDS: Final = {
    "last_received": "last_received_message",
    "last_sent": "last_sent_message",
    "parts_today": "sms_parts_sent_today",
    "remaining_today": "sms_parts_remaining_today",
    "cost_this_month": "sms_cost_this_month",
}


def entity_object_id(sender: str, key: str) -> str:
    """The object id of an entry's entity (``actio_sms_<number>_messages_sent``)."""
    return f"actio_sms_{sender}_{_OBJECT_IDS.get(key, key)}"


def recipient_object_id(sender: str, title: str) -> str:
    """The object id of a recipient's notify entity (``actio_sms_<number>_mom``)."""
    return slugify(f"actio_sms_{sender}_{title}")


def recipients_of(entry: ConfigEntry[Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Recipient subentries by id: (title, data)."""
    return {
        sub_id: (sub.title, dict(sub.data))
        for sub_id, sub in entry.subentries.items()
        if sub.subentry_type == SUBENTRY_RECIPIENT
    }


def recipient_labels(entry: ConfigEntry[Any]) -> dict[str, str]:
    """Recipients' numbers, each with its label: ``Mom (+48 600 100 200)``."""
    return {
        str(data[CONF_NUMBER]): recipient_label(title, str(data[CONF_NUMBER]))
        for title, data in recipients_of(entry).values()
    }
