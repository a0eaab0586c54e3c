"""Spend guard: a daily cap on SMS parts, duplicate suppression, a size limit.

ACTIO bills every part. A looping automation must not be able to send
thousands of them: every send surface reserves its parts here before any
request goes out, and gives back what ACTIO did not accept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
import time

from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_change

from .const import (
    DOMAIN,
    EVENT_DELIVERY_STATUS,
    EVENT_LIMIT_REACHED,
    ISSUE_DAILY_LIMIT,
    LOGGER,
)
from .history import MessageLog
from .models import DeliveryStatus, SendOutcome
from .settings import ActioSettings


@dataclass(frozen=True, slots=True)
class Skipped:
    """A recipient left out of a send, and why."""

    recipient: str
    reason: str


@dataclass(slots=True)
class Reservation:
    """Parts held for a send in flight, and the duplicates it marked."""

    parts: int
    message: str
    numbers: list[str]


@dataclass
class SpendGuard:
    """An entry's cap, duplicate window and size limit."""

    hass: HomeAssistant
    entry_id: str
    title: str
    settings: ActioSettings
    log: MessageLog
    reserved: int = 0
    """Parts of sends in flight, not yet accepted or refused by ACTIO."""
    _recent: dict[tuple[str, str], float] = field(default_factory=dict)

    @property
    def issue_id(self) -> str:
        """The repair issue shown while the cap is reached."""
        return f"{ISSUE_DAILY_LIMIT}_{self.entry_id}"

    def used_today(self) -> int:
        """Parts ACTIO accepted today (local time)."""
        return self.log.parts_today()

    def check_size(self, parts: int) -> None:
        """Refuse a message longer than the entry allows."""
        if parts > self.settings.max_parts:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="too_many_parts",
                translation_placeholders={
                    "parts": str(parts),
                    "max_parts": str(self.settings.max_parts),
                },
            )

    @callback
    def split_duplicates(
        self, numbers: list[str], message: str
    ) -> tuple[list[str], list[Skipped]]:
        """Leave out numbers that got this same text within the window."""
        if not (window := self.settings.duplicate_window):
            return numbers, []
        now = time.monotonic()
        self._recent = {k: t for k, t in self._recent.items() if now - t < window}
        send = [n for n in numbers if (n, message) not in self._recent]
        skipped = [
            Skipped(n, "duplicate") for n in numbers if (n, message) in self._recent
        ]
        for item in skipped:
            LOGGER.debug(
                "Skipped %s: the same text went to it less than %s s ago",
                item.recipient,
                window,
            )
        return send, skipped

    @callback
    def reserve(self, numbers: list[str], message: str, parts: int) -> Reservation:
        """Hold the parts of a send, or refuse it whole."""
        requested = parts * len(numbers)
        if limit := self.settings.daily_limit:
            used = self.used_today() + self.reserved
            if used + requested > limit:
                self._async_limit_reached(limit, used, requested)
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="daily_limit_reached",
                    translation_placeholders={
                        "used": str(used),
                        "limit": str(limit),
                        "requested": str(requested),
                    },
                )
        self.reserved += requested
        if self.settings.duplicate_window:
            now = time.monotonic()
            for number in numbers:
                self._recent[number, message] = now
        return Reservation(requested, message, numbers)

    @callback
    def release(self, reservation: Reservation, sent: list[SendOutcome]) -> None:
        """The send is over: what ACTIO accepted is in the log; free the rest."""
        self.reserved -= reservation.parts
        accepted = {outcome.recipient for outcome in sent}
        for number in reservation.numbers:
            if number not in accepted:
                # Not sent, so a retry is not a duplicate.
                self._recent.pop((number, reservation.message), None)

    @callback
    def _async_limit_reached(self, limit: int, used: int, requested: int) -> None:
        LOGGER.warning(
            "Refused to send %s SMS part(s) for %s: %s of the daily limit of %s used",
            requested,
            self.title,
            used,
            limit,
        )
        self.hass.bus.async_fire(
            EVENT_LIMIT_REACHED,
            {
                "config_entry_id": self.entry_id,
                "limit": limit,
                "used": used,
                "requested": requested,
            },
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self.issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_DAILY_LIMIT,
            translation_placeholders={
                "title": self.title,
                "limit": str(limit),
                "used": str(used),
            },
        )

    @callback
    def async_refresh_issue(self) -> None:
        """Clear the issue once the cap no longer bites (a new day, a higher cap)."""
        limit = self.settings.daily_limit
        if not limit or self.used_today() < limit:
            ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)

    @callback
    def async_track_new_day(self, on_new_day: Callable[[], None]) -> CALLBACK_TYPE:
        """At local midnight the cap starts again: clear the issue, tell sensors."""

        @callback
        def _new_day(_now: datetime) -> None:
            self.async_refresh_issue()
            on_new_day()

        return async_track_time_change(self.hass, _new_day, hour=0, minute=0, second=0)

    @callback
    def async_forget_failed_deliveries(self) -> CALLBACK_TYPE:
        """An SMS that was not delivered may go to its number again at once."""

        @callback
        def _failed(event: Event) -> None:
            data = event.data
            if (
                data.get("config_entry_id") == self.entry_id
                and data.get("status") == DeliveryStatus.ERROR
                and "recipient" in data
            ):
                self._recent.pop((data["recipient"], data["body"]), None)

        return self.hass.bus.async_listen(EVENT_DELIVERY_STATUS, _failed)
