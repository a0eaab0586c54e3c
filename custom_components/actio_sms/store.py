"""An entry's message store: the message log, counters, usage and the journal.

The log is bounded by size and age. The journal makes a webhook's 200 mean
"on disk".

Between snapshots (a delayed ``Store``, at most every ``SAVE_DELAY``
seconds) every change is also appended to the journal, and the webhook
answers only once its line is written: a process killed right after a 200
(OOM killer, ``kill -9``, a crashed add-on) loses nothing. Journal writes are
grouped the way databases group commits: whatever arrives while one write is
in progress goes out in the next, so a burst costs a few writes, not one per
message. Lines are handed to the operating system at once and forced to the
disk (fsync) at most every ``FSYNC_INTERVAL`` seconds, the last ones too: a
power cut can lose that last second.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
import os
from pathlib import Path
import time
from typing import Any, BinaryIO, Final, Literal, NotRequired, TypedDict, cast

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.json import json_bytes
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.json import json_loads

from .actio import (
    LEGACY_STATUSES,
    REPORTED_STATUSES,
    DeliveryReport,
    DeliveryStatus,
    InboundMessage,
    ReportedStatus,
    utc_now_iso,
)
from .const import DOMAIN, LOGGER


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """One recipient of a send ACTIO accepted, or whose answer was lost."""

    recipient: str
    message_id: str | None
    parts: int
    status: DeliveryStatus = DeliveryStatus.PENDING
    """``pending`` (accepted) or ``unconfirmed`` (the answer was lost)."""
    idempotency_key: str | None = None
    scheduled_at: str | None = None
    sender: str | None = None
    """A sender name or number other than the entry's, when one was asked for."""

    def as_journal(self) -> dict[str, Any]:
        """The outcome as a journal line holds it (only what is set)."""
        line: dict[str, Any] = {
            "recipient": self.recipient,
            "message_id": self.message_id,
            "parts": self.parts,
            "status": str(self.status),
        }
        for key in ("idempotency_key", "scheduled_at", "sender"):
            if (value := getattr(self, key)) is not None:
                line[key] = value
        return line

    @classmethod
    def from_journal(cls, line: Any) -> SendOutcome:
        """Read an outcome back (also the [recipient, id, parts] of 0.2)."""
        if isinstance(line, list):
            recipient, message_id, parts = line
            return cls(str(recipient), message_id and str(message_id), int(parts))
        return cls(
            str(line["recipient"]),
            line.get("message_id") and str(line["message_id"]),
            int(line["parts"]),
            read_status(line.get("status", DeliveryStatus.PENDING)),
            line.get("idempotency_key"),
            line.get("scheduled_at"),
            line.get("sender"),
        )


def read_status(value: Any) -> DeliveryStatus:
    """A stored status, also one an earlier version wrote (``error``)."""
    text = str(value)
    return LEGACY_STATUSES.get(text) or DeliveryStatus(text)


# The history's records, as stored and as returned by actio_sms.get_messages.
# Keys are the fixed names users' templates read.
ReceivedRecord = TypedDict(
    "ReceivedRecord",
    {
        "direction": Literal["received"],
        "from": str,
        "to": str,
        "body": str,
        "received_at": str,
        "unknown_number": NotRequired[bool],
    },
)


class SentRecord(TypedDict):
    """One SMS sent (or perhaps sent), and where its delivery stands."""

    direction: Literal["sent"]
    message_id: str | None
    recipient: str
    body: str
    parts: int
    sent_at: str
    status: DeliveryStatus
    status_at: str | None
    reason: NotRequired[str]
    operator: NotRequired[str]
    segments: NotRequired[int]
    idempotency_key: NotRequired[str]
    scheduled_at: NotRequired[str]
    sender: NotRequired[str]


type Record = ReceivedRecord | SentRecord


class LastSent(TypedDict):
    """The last send, all of its recipients."""

    body: str
    recipients: list[str]
    message_ids: list[str | None]
    sent_at: str


class LoggedReport(TypedDict):
    """A delivery report as logged, with what it refers to when known."""

    message_id: str
    status: ReportedStatus
    status_at: str
    reason: NotRequired[str]
    operator: NotRequired[str]
    segments: NotRequired[int]
    recipient: NotRequired[str]
    body: NotRequired[str]
    sent_at: NotRequired[str]


FSYNC_INTERVAL: Final = 1.0


class StoreWriteError(OSError):
    """A journal line could not be written."""


def journal_path(hass: HomeAssistant, entry_id: str) -> Path:
    """Where an entry's journal lives (beside its Store file)."""
    return Path(hass.config.path(".storage", f"{DOMAIN}.{entry_id}.journal"))


class Journal:
    """Numbered lines, written in groups; dropped once a snapshot holds them."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Create a journal; nothing is read or written yet."""
        self._hass = hass
        self._path = journal_path(hass, entry_id)
        self.seq = 0
        """The number of the last line appended."""
        self._pending: list[bytes] = []
        self._batch: asyncio.Future[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._drop_upto: int | None = None
        self._last_fsync = 0.0
        self._fsync_due = False
        self._fsync_later: asyncio.Task[None] | None = None
        self._torn = False

    async def async_read(self, after: int) -> list[dict[str, Any]]:
        """The lines numbered above ``after`` (a torn last line is skipped)."""
        lines = await self._hass.async_add_executor_job(self._read)
        entries = []
        for line in lines:
            if (entry := _entry(line)) is None:
                LOGGER.warning("Skipped an unreadable line of the message journal")
            elif entry["seq"] > after:
                entries.append(entry)
                self.seq = max(self.seq, entry["seq"])
        return entries

    def _read(self) -> list[bytes]:
        try:
            raw = self._path.read_bytes()
        except FileNotFoundError:
            return []
        # A kill in the middle of a write: start the next line on a new one.
        self._torn = bool(raw) and not raw.endswith(b"\n")
        return raw.splitlines()

    @callback
    def append(self, entry: dict[str, Any]) -> asyncio.Future[None]:
        """Queue a line; the future is done once it is written (or failed)."""
        self.seq += 1
        self._pending.append(json_bytes({"seq": self.seq, **entry}) + b"\n")
        if (batch := self._batch) is None:
            batch = self._batch = self._hass.loop.create_future()
        self._async_start_writer()
        return batch

    @callback
    def drop_upto(self, seq: int) -> None:
        """Lines up to ``seq`` are in a snapshot on disk: drop them."""
        self._drop_upto = seq
        self._async_start_writer()

    @callback
    def _async_start_writer(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = self._hass.async_create_background_task(
                self._async_write_loop(), f"{DOMAIN} journal writer"
            )

    async def _async_write_loop(self) -> None:
        while self._pending or self._drop_upto is not None or self._fsync_due:
            lines, self._pending = self._pending, []
            batch, self._batch = self._batch, None
            drop_upto, self._drop_upto = self._drop_upto, None
            fsync = (
                self._fsync_due or time.monotonic() - self._last_fsync >= FSYNC_INTERVAL
            )
            self._fsync_due = False
            try:
                await self._hass.async_add_executor_job(
                    self._write, b"".join(lines), drop_upto, fsync
                )
            except OSError as err:
                LOGGER.error("Could not write the message journal: %s", err)
                if batch is not None and not batch.done():
                    batch.set_exception(StoreWriteError(str(err)))
                    batch.exception()  # retrieved: callers may be gone
                continue
            if fsync:
                self._last_fsync = time.monotonic()
            elif self._fsync_later is None or self._fsync_later.done():
                # The last lines of a burst reach the disk within a second too.
                self._fsync_later = self._hass.async_create_background_task(
                    self._async_fsync_later(), f"{DOMAIN} journal fsync"
                )
            if batch is not None and not batch.done():
                batch.set_result(None)

    async def _async_fsync_later(self) -> None:
        await asyncio.sleep(FSYNC_INTERVAL)
        self._fsync_due = True
        self._async_start_writer()

    def _write(self, data: bytes, drop_upto: int | None, fsync: bool) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        if drop_upto is not None:
            self._compact(drop_upto)
        if data and self._torn:
            data, self._torn = b"\n" + data, False
        if data or (fsync and self._path.exists()):
            with _open_private(self._path, os.O_APPEND) as file:
                file.write(data)
                if fsync:
                    file.flush()
                    os.fsync(file.fileno())

    def _compact(self, drop_upto: int) -> None:
        # Line by line: a burst can leave a journal of many megabytes.
        temp = self._path.with_suffix(".tmp")
        kept = 0
        try:
            source = self._path.open("rb")
        except FileNotFoundError:
            return
        with source, _open_private(temp, os.O_TRUNC) as target:
            for line in source:
                entry = _entry(line) if line.endswith(b"\n") else None
                if entry is not None and entry["seq"] > drop_upto:
                    target.write(line)
                    kept += 1
        if kept:
            temp.replace(self._path)
        else:
            temp.unlink()
            self._path.unlink()
        # Only whole lines were kept: the next one starts on a line of its own.
        self._torn = False

    async def async_remove(self) -> None:
        """Delete the journal (the entry is removed)."""
        if self._writer is not None:
            await asyncio.shield(self._writer)
        self._pending.clear()
        await self._hass.async_add_executor_job(self._path.unlink, True)


def _open_private(path: Path, flag: int) -> BinaryIO:
    """Open for writing, private like the Store file (it holds message texts)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | flag, 0o600), "wb")


def _entry(line: bytes) -> dict[str, Any] | None:
    """A journal line as written, or None (torn or not ours)."""
    try:
        entry = json_loads(line)
    except ValueError:
        return None
    if isinstance(entry, dict) and type(entry.get("seq")) is int:
        return entry
    return None


STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 10.0
"""Seconds between snapshots; the journal keeps what came in between."""
UNKNOWN_REPORTS_KEPT: Final = 1000
PARKED_FOR: Final = 6 * 3600.0
"""Seconds a report for an unknown id waits for the send that names it."""
COUNTERS: Final = ("received", "sent", "delivered", "failed")
UNCONFIRMED_MATCH_WINDOW: Final = 500
"""Newest records searched for an unconfirmed SMS a report's number names."""
REPORT_DETAILS: Final = ("reason", "operator", "segments")


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
    inflight: NotRequired[list[dict[str, Any]]]
    """Sends whose outcome was not known yet when the snapshot was taken."""
    usage: NotRequired[Usage]
    seq: NotRequired[int]
    """The last journal line this snapshot holds."""


class MessageStore:
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
        self._unknown_reports: dict[str, tuple[DeliveryStatus, float]] = {}
        """Reports for ids no send named yet (its answer may still be on the
        way): applied when the id appears; at most UNKNOWN_REPORTS_KEPT, for
        PARKED_FOR seconds."""
        self._inflight: dict[str, dict[str, Any]] = {}
        self._read_marks: dict[str, str] = {}
        """Sends announced before their requests went out, by batch id."""
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self.last_received: ReceivedRecord | None = None
        self.last_sent: LastSent | None = None
        self.last_delivery: LoggedReport | None = None
        self.usage: Usage = _empty_usage()
        self._save_pending = False
        self.loaded = False
        """Whether the stored log has been read (appending before would lose it)."""

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
                if record["direction"] == "sent":
                    record["status"] = read_status(record.get("status", "pending"))
                self._append(record)
            if (last := self.last_delivery) is not None:
                last["status"] = read_status(last["status"])  # type: ignore[typeddict-item]
            self._inflight = {
                str(intent["batch"]): intent for intent in data.get("inflight", [])
            }
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
        for batch, intent in list(self._inflight.items()):
            # Stopped while a send was under way: it may have gone out.
            self.resolve_intent(
                batch,
                [
                    replace(
                        SendOutcome.from_journal(line),
                        message_id=None,
                        status=DeliveryStatus.UNCONFIRMED,
                    )
                    for line in intent["outcomes"]
                ],
            )
        self._prune()
        self.loaded = True

    def _replay(self, entry: dict[str, Any]) -> None:
        match entry["op"]:
            case "received":
                self._add_received(entry["record"])
            case "delivery":
                status = read_status(entry["status"])
                if status not in REPORTED_STATUSES:
                    raise ValueError(status)
                self._apply_delivery(
                    DeliveryReport(
                        str(entry["message_id"]),
                        status,  # type: ignore[arg-type]
                        **{k: entry[k] for k in REPORT_DETAILS if k in entry},
                    ),
                    str(entry["at"]),
                )
            case "intent":
                self._inflight[str(entry["batch"])] = entry
            case "sent":
                if batch := entry.get("batch"):
                    self._inflight.pop(str(batch), None)
                self._add_sent(
                    [SendOutcome.from_journal(o) for o in entry["outcomes"]],
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

    def knows(self, message_id: str) -> bool:
        """Whether an SMS this entry sent has ``message_id``."""
        return message_id in self._by_id

    @callback
    def add_received(
        self, message: InboundMessage, *, unknown_number: bool = False
    ) -> ReceivedRecord:
        """Log an inbound SMS (``unknown_number``: to a number no entry has)."""
        record: ReceivedRecord = {
            "direction": "received",
            "from": message.sender,
            "to": message.recipient,
            "body": message.body,
            "received_at": message.received_at,
        }
        if unknown_number:
            record["unknown_number"] = True
        self._add_received(record)
        self.written = self._journal.append({"op": "received", "record": record})
        return record

    def _add_received(self, record: ReceivedRecord) -> None:
        self._append(record)
        self.counters["received"] += 1
        self.last_received = record
        self._schedule_save()

    @callback
    def add_intent(
        self, batch: str, outcomes: list[SendOutcome], body: str, sent_at: str
    ) -> asyncio.Future[None]:
        """Note a send before its requests go out (each with its key).

        Should Home Assistant stop before the outcome is known, the send is
        read back as unconfirmed: it may have gone out, and it costs as if.
        """
        intent = {
            "op": "intent",
            "batch": batch,
            "outcomes": [o.as_journal() for o in outcomes],
            "body": body,
            "sent_at": sent_at,
        }
        self._inflight[batch] = intent
        self.written = self._journal.append(intent)
        return self.written

    @callback
    def resolve_intent(self, batch: str, outcomes: list[SendOutcome]) -> None:
        """The send is over: keep ``outcomes`` (accepted or unconfirmed).

        Recipients the intent named and ``outcomes`` does not were refused.
        """
        if (intent := self._inflight.pop(batch, None)) is None:
            return
        body, sent_at = str(intent["body"]), str(intent["sent_at"])
        self._add_sent(outcomes, body, sent_at)
        self.written = self._journal.append(
            {
                "op": "sent",
                "batch": batch,
                "outcomes": [o.as_journal() for o in outcomes],
                "body": body,
                "sent_at": sent_at,
            }
        )

    @callback
    def add_sent(self, outcomes: list[SendOutcome], body: str, sent_at: str) -> None:
        """Log SMS sent without an intent (one record per recipient)."""
        self._add_sent(outcomes, body, sent_at)
        self.written = self._journal.append(
            {
                "op": "sent",
                "outcomes": [o.as_journal() for o in outcomes],
                "body": body,
                "sent_at": sent_at,
            }
        )

    def _add_sent(self, outcomes: list[SendOutcome], body: str, sent_at: str) -> None:
        if not outcomes:
            self._schedule_save()
            return
        for outcome in outcomes:
            record: SentRecord = {
                "direction": "sent",
                "message_id": outcome.message_id,
                "recipient": outcome.recipient,
                "body": body,
                "parts": outcome.parts,
                "sent_at": sent_at,
                "status": outcome.status,
                "status_at": None,
            }
            if outcome.idempotency_key is not None:
                record["idempotency_key"] = outcome.idempotency_key
            if outcome.scheduled_at is not None:
                record["scheduled_at"] = outcome.scheduled_at
            if outcome.sender is not None:
                record["sender"] = outcome.sender
            self._append(record)
            if outcome.message_id and (
                parked := self._unknown_reports.pop(outcome.message_id, None)
            ):
                # The report came before the answer that named its id.
                record["status"], record["status_at"] = parked[0], utc_now_iso()
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
        if report.message_id not in self._by_id and report.recipient:
            self._adopt_unconfirmed(report.message_id, report.recipient)
        if self._status_of(report.message_id) in (
            report.status,
            DeliveryStatus.DELIVERED,
        ):
            return None
        at = utc_now_iso()
        logged = self._apply_delivery(report, at)
        line: dict[str, Any] = {
            "op": "delivery",
            "message_id": report.message_id,
            "status": str(report.status),
            "at": at,
        }
        if report.recipient:
            line["recipient"] = report.recipient
        for key in REPORT_DETAILS:
            if (value := getattr(report, key)) is not None:
                line[key] = value
        self.written = self._journal.append(line)
        return logged

    def _adopt_unconfirmed(self, message_id: str, recipient: str) -> None:
        """A report for an id never learnt: the newest unconfirmed SMS to its number.

        A send whose answer was lost has no id; the live API's reports name
        the number, which is enough to tell the person what became of it.
        """
        for index, record in enumerate(reversed(self.records)):
            if index >= UNCONFIRMED_MATCH_WINDOW:
                return
            if (
                record["direction"] == "sent"
                and record["message_id"] is None
                and record["status"] is DeliveryStatus.UNCONFIRMED
                and record["recipient"] == recipient
            ):
                record["message_id"] = message_id
                self._by_id[message_id] = record
                return

    def _status_of(self, message_id: str) -> DeliveryStatus | None:
        if (sent := self._by_id.get(message_id)) is not None:
            return sent["status"]
        parked = self._unknown_reports.get(message_id)
        return None if parked is None else parked[0]

    def _apply_delivery(self, report: DeliveryReport, at: str) -> LoggedReport:
        message_id, status = report.message_id, report.status
        if report.recipient and message_id not in self._by_id:
            self._adopt_unconfirmed(message_id, report.recipient)
        previous = self._status_of(message_id)
        details = {
            key: value
            for key in REPORT_DETAILS
            if (value := getattr(report, key)) is not None
        }
        if (sent := self._by_id.get(message_id)) is not None:
            sent["status"] = status
            sent["status_at"] = at
            sent.update(details)  # type: ignore[typeddict-item]
        else:
            now = time.monotonic()
            self._unknown_reports.pop(message_id, None)
            self._unknown_reports[message_id] = (status, now)
            # Oldest first: drop what is too old, then what is too many.
            for old_id, (_, parked_at) in list(self._unknown_reports.items()):
                if (
                    now - parked_at < PARKED_FOR
                    and len(self._unknown_reports) <= UNKNOWN_REPORTS_KEPT
                ):
                    break
                del self._unknown_reports[old_id]
        if (counter := _counter(status)) and (
            previous is None or _counter(previous) != counter
        ):
            # A failure, then a delivery (a retry that worked) counts in both.
            self.counters[counter] += 1
        logged: LoggedReport = {
            "message_id": message_id,
            "status": status,
            "status_at": at,
            **details,  # type: ignore[typeddict-item]
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

    async def async_conversations(
        self, search: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """One per counterpart number, newest first (for the inbox panel)."""
        found: dict[str, dict[str, Any]] = {}
        for record in reversed(self.records):
            number = _counterpart(record)
            if (item := found.get(number)) is None:
                if len(found) >= limit:
                    continue
                item = found[number] = {
                    "number": number,
                    "last": {
                        "direction": record["direction"],
                        "body": record["body"],
                        "at": _timestamp(record),
                    },
                    "count": 0,
                    "unread": 0,
                }
            item["count"] += 1
            if record["direction"] == "received" and _timestamp(
                record
            ) > self._read_marks.get(number, ""):
                item["unread"] += 1
        return list(found.values())

    async def async_messages(
        self, number: str, before: str | None, limit: int
    ) -> tuple[list[Record], str | None]:
        """A page of one conversation, newest first, and the cursor to the next."""
        matching = [r for r in reversed(self.records) if _counterpart(r) == number]
        start = int(before) if before and before.isdigit() else 0
        page = matching[start : start + limit]
        after = start + len(page)
        return (
            [
                cast("Record", {**r, "id": f"{number}:{start + i}"})
                for i, r in enumerate(page)
            ],
            str(after) if after < len(matching) else None,
        )

    async def async_mark_read(self, number: str) -> None:
        """Everything received from ``number`` until now has been read."""
        self._read_marks[number] = utc_now_iso()

    async def async_delete_conversation(self, number: str) -> int:
        """Forget every message to or from ``number``; how many went."""
        kept = [r for r in self.records if _counterpart(r) != number]
        deleted = len(self.records) - len(kept)
        self.records = deque()
        self._by_id.clear()
        for record in kept:
            self._append(record)
        self._schedule_save()
        return deleted

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
            "inflight": list(self._inflight.values()),
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


def _counterpart(record: Record) -> str:
    """The other side of a conversation: who wrote, or who was written to."""
    return record["recipient"] if record["direction"] == "sent" else record["from"]


def _numbers(record: Record) -> tuple[str, ...]:
    if record["direction"] == "sent":
        return (record["recipient"],)
    return (record["from"], record["to"])


def _counter(status: DeliveryStatus) -> str | None:
    """Which counter a reported status adds to (pending and unconfirmed: none)."""
    if status is DeliveryStatus.DELIVERED:
        return "delivered"
    return "failed" if status in REPORTED_STATUSES else None
