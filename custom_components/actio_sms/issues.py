"""Every repair issue the integration raises: ids, creation and removal.

The fixable flows (a form behind an issue) are in ``repairs.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_CORE_CONFIG_UPDATE
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .cloudhook import async_webhook_reachable
from .const import (
    DOMAIN,
    ISSUE_COMMAND_LOCKOUT,
    ISSUE_DAILY_LIMIT,
    ISSUE_INVALID_SENDER,
    ISSUE_NO_FUNDS,
    ISSUE_STORE_CORRUPT,
    ISSUE_UNRECOGNISED_POSTS,
    ISSUE_WEBHOOK_UNREACHABLE,
)
from .phone import format_number

REMOTE_ACCESS_DOCS = "https://www.home-assistant.io/docs/configuration/remote/"


def issue_id(kind: str, entry_id: str, *extra: str) -> str:
    """An issue's id: its kind (the translation key), the entry, then any detail."""
    return "_".join((kind, entry_id, *extra))


@callback
def async_delete(hass: HomeAssistant, kind: str, entry_id: str, *extra: str) -> None:
    """Remove an issue (nothing happens if it is not there)."""
    ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry_id, *extra))


@callback
def _async_create(
    hass: HomeAssistant,
    kind: str,
    entry_id: str,
    *extra: str,
    placeholders: dict[str, str],
    severity: ir.IssueSeverity = ir.IssueSeverity.WARNING,
    **kwargs: Any,
) -> None:
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(kind, entry_id, *extra),
        is_fixable=kwargs.pop("is_fixable", False),
        severity=severity,
        translation_key=kind,
        translation_placeholders=placeholders,
        **kwargs,
    )


@callback
def async_check_webhook_reachable(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """Raise or clear the unreachable-webhook issue of ``entry``."""
    if async_webhook_reachable(hass):
        async_delete(hass, ISSUE_WEBHOOK_UNREACHABLE, entry.entry_id)
        return
    _async_create(
        hass,
        ISSUE_WEBHOOK_UNREACHABLE,
        entry.entry_id,
        placeholders={"title": entry.title},
        learn_more_url=REMOTE_ACCESS_DOCS,
    )


@callback
def async_track_webhook_reachable(
    hass: HomeAssistant, entry: ConfigEntry[Any]
) -> CALLBACK_TYPE:
    """Check now and whenever the core configuration (its URLs) changes."""

    @callback
    def _async_core_config_updated(_event: Event) -> None:
        async_check_webhook_reachable(hass, entry)

    async_check_webhook_reachable(hass, entry)
    return hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, _async_core_config_updated)


@callback
def async_raise_invalid_sender(
    hass: HomeAssistant, entry: ConfigEntry[Any], sender: str
) -> None:
    """ACTIO refused the entry's number: offer a form to enter the right one."""
    _async_create(
        hass,
        ISSUE_INVALID_SENDER,
        entry.entry_id,
        placeholders={"sender": format_number(sender)},
        severity=ir.IssueSeverity.ERROR,
        is_fixable=True,
        is_persistent=False,
        data={"entry_id": entry.entry_id},
    )


@callback
def async_raise_daily_limit(
    hass: HomeAssistant, entry: ConfigEntry[Any], limit: int, used: int
) -> None:
    """The spend guard refused a send: say so until the cap no longer bites.

    Its fix flow (``repairs.py``) raises the limit in place.
    """
    _async_create(
        hass,
        ISSUE_DAILY_LIMIT,
        entry.entry_id,
        placeholders={"title": entry.title, "limit": str(limit), "used": str(used)},
        is_fixable=True,
        data={"entry_id": entry.entry_id},
    )


@callback
def async_raise_command_lockout(
    hass: HomeAssistant,
    entry: ConfigEntry[Any],
    sender: str,
    failures: int,
    minutes: int,
) -> None:
    """A number is locked out of SMS commands after wrong PINs."""
    _async_create(
        hass,
        ISSUE_COMMAND_LOCKOUT,
        entry.entry_id,
        sender,
        placeholders={
            "number": format_number(sender),
            "failures": str(failures),
            "minutes": str(minutes),
            "title": entry.title,
        },
    )


@callback
def async_raise_no_funds(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """ACTIO answered 402: the account needs topping up."""
    _async_create(
        hass,
        ISSUE_NO_FUNDS,
        entry.entry_id,
        placeholders={"title": entry.title},
        severity=ir.IssueSeverity.ERROR,
    )


@callback
def async_raise_unrecognised_posts(
    hass: HomeAssistant, entry: ConfigEntry[Any], count: int, last: str
) -> None:
    """Posts nobody understood are kept aside: tell the person how to report them."""
    _async_create(
        hass,
        ISSUE_UNRECOGNISED_POSTS,
        entry.entry_id,
        placeholders={"title": entry.title, "count": str(count), "last": last},
        is_fixable=True,
        data={"entry_id": entry.entry_id},
    )


@callback
def async_raise_store_corrupt(
    hass: HomeAssistant, entry: ConfigEntry[Any], path: Path
) -> None:
    """The message database was damaged: set aside, a fresh one in its place."""
    _async_create(
        hass,
        ISSUE_STORE_CORRUPT,
        entry.entry_id,
        placeholders={"title": entry.title, "path": str(path)},
        severity=ir.IssueSeverity.ERROR,
    )
