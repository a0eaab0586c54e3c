"""The per-entry message log and counters, persisted with a delayed Store."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final, NotRequired, TypedDict

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .journal import Journal
from .models import (
    DeliveryReport,
    DeliveryStatus,
    InboundMessage,
    LastSent,
    LoggedReport,
    ReceivedRecord,
    Record,
    ReportedStatus,
    SendOutcome,
    SentRecord,
)

STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 10.0
"""Seconds between snapshots; the journal keeps what came in between."""
UNKNOWN_REPORTS_KEPT: Final = 1000
COUNTERS: Final = ("received", "sent", "delivered", "failed")
_REPORTED: Final[dict[str, ReportedStatus]] = {
    DeliveryStatus.DELIVERED: DeliveryStatus.DELIVERED,
    DeliveryStatus.ERROR: DeliveryStatus.ERROR,
}


class Usage(TypedDict):
    """SMS parts ACTIO accepted, today and this month (local calendar)."""

    day: str
    day_parts: int
    month: str
    month_parts: int


def _empty_usage() -> Usage:
    return {"day": "", "day_parts": 0, "month": "", "month_parts": 0}


class StoredLog(TypedDict):
    """What the Store holds."""

    counters: dict[str, int]
    last_received: ReceivedRecord | None
    last_sent: LastSent | None
    last_delivery: LoggedReport | None
    records: list[Record]
    usage: NotRequired[Usage]
    seq: NotRequired[int]
    """The last journal line this snapshot holds."""


_second_cache: tuple[int, str] = (0, "")


def now_iso() -> str:
    """Current UTC time in one fixed ISO 8601 format (sortable as text).

    Called for every inbound SMS; formatting only once per second keeps it
    cheap under bursts.
    """
    global _second_cache  # noqa: PLW0603
    now = dt_util.utcnow()
    second = int(now.timestamp())
    if _second_cache[0] != second:
        _second_cache = (second, now.strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{_second_cache[1]}.{now.microsecond // 1000:03d}+00:00"


class MessageLog:
    """Sent and received messages, newest last, bounded by size and age."""

    def __init__(
        self, hass: HomeAssistant, entry_id: str, max_size: int, max_days: int
    ) -> None:
        """Create an empty log; call async_load before use."""
        self._store: Store[StoredLog] = Store(
            hass,
            STORAGE_VERSION,
            f"{DOMAIN}.{entry_id}",
            private=True,
            atomic_writes=True,
        )
        self._journal = Journal(hass, entry_id)
        self._snapshot_seq: int | None = None
        self.written: asyncio.Future[None] | None = None
        """Done once the last change is in the journal on disk."""
        self.max_size = max_size
        self.max_age = timedelta(days=max_days)
        self.records: deque[Record] = deque()
        self._by_id: dict[str, SentRecord] = {}
        self._unknown_reports: dict[str, DeliveryStatus] = {}
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self.last_received: ReceivedRecord | None = None
        self.last_sent: LastSent | None = None
        self.last_delivery: LoggedReport | None = None
        self.usage: Usage = _empty_usage()
        self._save_pending = False

    async def async_load(self) -> None:
        """Load the snapshot, then replay the journal written after it."""
        data = await self._store.async_load()
        seq = 0
        if data is not None:
            # Tolerant of older or hand-edited files: every key may be missing.
            counters = data.get("counters", {})
            for key in COUNTERS:
                self.counters[key] = int(counters.get(key, 0))
            self.last_received = data.get("last_received")
            self.last_sent = data.get("last_sent")
            self.last_delivery = data.get("last_delivery")
            for record in data.get("records", []):
                self._append(record)
            stored: Mapping[str, Any] = data.get("usage") or {}
            self.usage = {
                "day": str(stored.get("day", "")),
                "day_parts": int(stored.get("day_parts", 0)),
                "month": str(stored.get("month", "")),
                "month_parts": int(stored.get("month_parts", 0)),
            }
            seq = int(data.get("seq", 0))
        self._journal.seq = seq
        replayed = 0
        for entry in await self._journal.async_read(after=seq):
            try:
                self._replay(entry)
            except KeyError, TypeError, ValueError:
                LOGGER.warning("Skipped an unreadable entry of the message journal")
            else:
                replayed += 1
        if replayed:
            LOGGER.info("Recovered %s message log change(s) from the journal", replayed)
            self._schedule_save()
        self._prune()

    def _replay(self, entry: dict[str, Any]) -> None:
        match entry["op"]:
            case "received":
                self._add_received(entry["record"])
            case "delivery":
                self._apply_delivery(
                    str(entry["message_id"]),
                    _REPORTED[entry["status"]],
                    str(entry["at"]),
                )
            case "sent":
                self._add_sent(
                    [
                        SendOutcome(str(r), str(i), int(n))
                        for r, i, n in entry["outcomes"]
                    ],
                    str(entry["body"]),
                    str(entry["sent_at"]),
                )
            case _:
                raise ValueError(entry["op"])

    @callback
    def set_bounds(self, max_size: int, max_days: int) -> None:
        """Apply changed history options, dropping what no longer fits."""
        self.max_size = max_size
        self.max_age = timedelta(days=max_days)
        while len(self.records) > self.max_size:
            self._drop_oldest()
        self._prune()

    def _append(self, record: Record) -> None:
        self.records.append(record)
        if record["direction"] == "sent" and record["message_id"]:
            self._by_id[record["message_id"]] = record
        while len(self.records) > self.max_size:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        old = self.records.popleft()
        if (
            old["direction"] == "sent"
            and (message_id := old["message_id"])
            and self._by_id.get(message_id) is old
        ):
            del self._by_id[message_id]

    def _prune(self) -> None:
        cutoff = (dt_util.utcnow() - self.max_age).isoformat(timespec="milliseconds")
        while self.records and _timestamp(self.records[0]) < cutoff:
            self._drop_oldest()

    @callback
    def add_received(self, message: InboundMessage) -> ReceivedRecord:
        """Log an inbound SMS."""
        record: ReceivedRecord = {
            "direction": "received",
            "from": message.sender,
            "to": message.recipient,
            "body": message.body,
            "received_at": message.received_at,
        }
        self._add_received(record)
        self.written = self._journal.append({"op": "received", "record": record})
        return record

    def _add_received(self, record: ReceivedRecord) -> None:
        self._append(record)
        self.counters["received"] += 1
        self.last_received = record
        self._schedule_save()

    @callback
    def add_sent(self, outcomes: list[SendOutcome], body: str, sent_at: str) -> None:
        """Log the SMS ACTIO accepted (one record per recipient)."""
        self._add_sent(outcomes, body, sent_at)
        self.written = self._journal.append(
            {
                "op": "sent",
                "outcomes": [[o.recipient, o.message_id, o.parts] for o in outcomes],
                "body": body,
                "sent_at": sent_at,
            }
        )

    def _add_sent(self, outcomes: list[SendOutcome], body: str, sent_at: str) -> None:
        for outcome in outcomes:
            self._append(
                {
                    "direction": "sent",
                    "message_id": outcome.message_id,
                    "recipient": outcome.recipient,
                    "body": body,
                    "parts": outcome.parts,
                    "sent_at": sent_at,
                    "status": DeliveryStatus.PENDING,
                    "status_at": None,
                }
            )
        self.counters["sent"] += len(outcomes)
        self._count_parts(sum(o.parts for o in outcomes), sent_at)
        self.last_sent = {
            "body": body,
            "recipients": [o.recipient for o in outcomes],
            "message_ids": [o.message_id for o in outcomes],
            "sent_at": sent_at,
        }
        self._schedule_save()

    def _count_parts(self, parts: int, sent_at: str) -> None:
        sent = dt_util.parse_datetime(sent_at) or dt_util.utcnow()
        day = dt_util.as_local(sent).date().isoformat()
        usage = self.usage
        if usage["day"] != day:
            usage["day"], usage["day_parts"] = day, 0
        if usage["month"] != day[:7]:
            usage["month"], usage["month_parts"] = day[:7], 0
        usage["day_parts"] += parts
        usage["month_parts"] += parts

    def parts_today(self) -> int:
        """SMS parts ACTIO accepted today (local time)."""
        today = dt_util.now().date().isoformat()
        return self.usage["day_parts"] if self.usage["day"] == today else 0

    def parts_this_month(self) -> int:
        """SMS parts ACTIO accepted this calendar month (local time)."""
        month = dt_util.now().date().isoformat()[:7]
        return self.usage["month_parts"] if self.usage["month"] == month else 0

    @callback
    def apply_delivery(self, report: DeliveryReport) -> LoggedReport | None:
        """Update the sent record for a report; return the report as logged.

        A report that tells nothing new is ignored (None): the same status
        again, or anything after delivered, which is final, so the counters,
        totals for long-term statistics, never go down.
        """
        if self._status_of(report.message_id) in (
            report.status,
            DeliveryStatus.DELIVERED,
        ):
            return None
        at = now_iso()
        logged = self._apply_delivery(report.message_id, report.status, at)
        self.written = self._journal.append(
            {
                "op": "delivery",
                "message_id": report.message_id,
                "status": str(report.status),
                "at": at,
            }
        )
        return logged

    def _status_of(self, message_id: str) -> DeliveryStatus | None:
        if (sent := self._by_id.get(message_id)) is not None:
            return sent["status"]
        return self._unknown_reports.get(message_id)

    def _apply_delivery(
        self, message_id: str, status: ReportedStatus, at: str
    ) -> LoggedReport:
        previous = self._status_of(message_id)
        if (sent := self._by_id.get(message_id)) is not None:
            sent["status"] = status
            sent["status_at"] = at
        else:
            self._unknown_reports[message_id] = status
            if len(self._unknown_reports) > UNKNOWN_REPORTS_KEPT:
                del self._unknown_reports[next(iter(self._unknown_reports))]
        if previous != status:
            # An error, then a delivery (a retry that worked) counts in both.
            self.counters[_counter(status)] += 1
        logged: LoggedReport = {
            "message_id": message_id,
            "status": status,
            "status_at": at,
        }
        if sent is not None:
            logged["recipient"] = sent["recipient"]
            logged["body"] = sent["body"]
            logged["sent_at"] = sent["sent_at"]
        self.last_delivery = logged
        self._schedule_save()
        return logged

    def query(
        self, direction: str | None, number: str | None, limit: int
    ) -> list[Record]:
        """Newest first, filtered by direction and counterpart number."""
        result: list[Record] = []
        for record in reversed(self.records):
            if direction and record["direction"] != direction:
                continue
            if number and number not in _numbers(record):
                continue
            result.append(record.copy())
            if len(result) >= limit:
                break
        return result

    @callback
    def _schedule_save(self) -> None:
        # One pending save per window: rescheduling on every message would
        # postpone the write forever under steady traffic.
        if not self._save_pending:
            self._save_pending = True
            self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    @callback
    def _data_to_save(self) -> StoredLog:
        # Called as the Store writes, after its previous write finished: the
        # journal lines that snapshot held are no longer needed.
        if self._snapshot_seq is not None:
            self._journal.drop_upto(self._snapshot_seq)
        self._snapshot_seq = self._journal.seq
        self._save_pending = False
        self._prune()
        return {
            "counters": self.counters,
            "last_received": self.last_received,
            "last_sent": self.last_sent,
            "last_delivery": self.last_delivery,
            "records": list(self.records),
            "usage": self.usage,
            "seq": self._journal.seq,
        }

    async def async_flush(self) -> None:
        """Write now if a save is pending (on unload)."""
        if self._save_pending:
            data = self._data_to_save()
            await self._store.async_save(data)
            self._journal.drop_upto(data["seq"])

    async def async_remove(self) -> None:
        """Delete the stored file and the journal (entry removed)."""
        await self._store.async_remove()
        await self._journal.async_remove()


def _timestamp(record: Record) -> str:
    if record["direction"] == "sent":
        return record["sent_at"]
    return record["received_at"]


def _numbers(record: Record) -> tuple[str, ...]:
    if record["direction"] == "sent":
        return (record["recipient"],)
    return (record["from"], record["to"])


def _counter(status: DeliveryStatus) -> str:
    return "delivered" if status == DeliveryStatus.DELIVERED else "failed"
