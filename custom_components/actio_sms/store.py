"""An entry's message store: SQLite in ``.storage``, on disk before the answer.

One database per entry, ``.storage/actio_sms.<entry id>.db`` (private, 0600),
in WAL mode with ``synchronous=FULL``: a commit returns only once the log
holding it is forced to the disk (fsync), so the webhook's 200, which waits
for the commit holding its record (``written``), means "on disk", across a
``kill -9`` and a power cut alike.

Every database call runs off the event loop, in one executor job at a time.
A change is applied at once to the small state kept in memory (counters,
usage, the ``last_*`` values, the recent sends that delivery reports look
up) and queued; whatever is queued while a commit is in progress goes into
the next one (group commit), so a burst of posts costs a few transactions,
not one each. Reads are queued behind the writes before them and see them.

Retention deletes in bulk after a commit, in chunks: the rows beyond
``history_size`` (by arrival: rows whose id is more than ``history_size``
below the next one) and, from the oldest on, those older than
``history_days``. Nothing is rewritten whole, and the cost of a message does
not grow with the history.

A database found damaged (``PRAGMA quick_check`` as the first job after
loading, or SQLite reporting corruption at any time) is moved aside as
``….db.corrupt-<UTC time>`` and a fresh one started, with a repair issue:
new SMS are still received. Version 0.2/0.3 files (a ``Store`` snapshot and
its journal) are read once, replayed as 0.3 did, committed, then removed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
import contextlib
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial
import os
from pathlib import Path
import re
import sqlite3
import time
from typing import Any, Final, Literal, NotRequired, TypedDict

from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.json import json_bytes
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.json import json_loads

from .actio import (
    LEGACY_STATUSES,
    REPORT_DETAILS,
    REPORTED_STATUSES,
    DeliveryReport,
    DeliveryStatus,
    InboundMessage,
    ReportedStatus,
    storable,
    utc_now_iso,
)
from .const import DOMAIN, LOGGER
from .issues import async_raise_store_corrupt


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
        """The outcome as an intent holds it (only what is set)."""
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
        # Its row, as pages of a conversation name it (not kept in the row).
        "id": NotRequired[int],
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
    """A delivery report as logged, with what it refers to when known.

    Also what a send whose answer was lost tells the entities: ``unconfirmed``,
    without an id (ACTIO never gave one).
    """

    message_id: str | None
    status: ReportedStatus | Literal[DeliveryStatus.UNCONFIRMED]
    status_at: str
    reason: NotRequired[str]
    operator: NotRequired[str]
    segments: NotRequired[int]
    recipient: NotRequired[str]
    body: NotRequired[str]
    sent_at: NotRequired[str]


class Usage(TypedDict):
    """SMS parts ACTIO accepted, today and this month (local calendar)."""

    day: str
    day_parts: int
    month: str
    month_parts: int


class StoreWriteError(OSError):
    """A change could not be committed to the message store."""


COUNTERS: Final = ("received", "sent", "delivered", "failed")
SCHEMA_VERSION: Final = 1
PAGE_SIZE: Final = 1024
"""Small pages: a message touches about five, each written to the log once."""
REPORTS_KEPT: Final = 2000
"""Newest sent records delivery reports are matched against in memory."""
REPORT_WINDOW: Final = timedelta(days=7)
"""Sends read back at a start for reports still to come (ACTIO: 48 hours)."""
UNCONFIRMED_MATCH_WINDOW: Final = 500
"""Newest records searched for an unconfirmed SMS a report's number names."""
UNKNOWN_REPORTS_KEPT: Final = 1000
"""Reports for ids not (yet) known, kept for a send still to be recorded."""
UNKNOWN_REPORT_TTL: Final = 6 * 3600.0
"""Seconds such a report is kept: a send's answer comes within seconds."""
PRUNE_CHUNK: Final = 5000
"""Ids one retention step deletes at most: a commit stays short."""
PRUNE_SLACK: Final = 0.01
"""Rows beyond ``history_size`` are hidden at once, deleted once 1 % gathered."""
PRUNE_AGE_EVERY: Final = timedelta(hours=1)
"""Rows older than ``history_days`` are deleted at most this often (and at load)."""
META_KEYS: Final = (
    "counters",
    "last_received",
    "last_sent",
    "last_delivery",
    "usage",
    "owns",
    "legacy",
)


def _storable_value(value: Any) -> Any:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(str(k)): _storable_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable_value(item) for item in value]
    return value


def db_path(hass: HomeAssistant, entry_id: str) -> Path:
    """Where an entry's message database lives."""
    return Path(hass.config.path(".storage", f"{DOMAIN}.{entry_id}.db"))


def journal_path(hass: HomeAssistant, entry_id: str) -> Path:
    """The file that holds what a 200 promised: the database since 0.4."""
    return db_path(hass, entry_id)


def legacy_journal_path(hass: HomeAssistant, entry_id: str) -> Path:
    """Where 0.2 and 0.3 kept the journal beside their ``Store`` file."""
    return Path(hass.config.path(".storage", f"{DOMAIN}.{entry_id}.journal"))


def _legacy_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(hass, 1, f"{DOMAIN}.{entry_id}", private=True, atomic_writes=True)


def _empty_usage() -> Usage:
    return {"day": "", "day_parts": 0, "month": "", "month_parts": 0}


# --- the database side: one executor job at a time, never in the loop --------

SCHEMA: Final = f"""
BEGIN;
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    sent INTEGER NOT NULL,
    number TEXT NOT NULL,
    own TEXT,
    at TEXT NOT NULL,
    body TEXT NOT NULL,
    message_id TEXT,
    parts INTEGER,
    status TEXT,
    status_at TEXT,
    extra TEXT,
    unread INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_number ON messages (number, at);
CREATE INDEX IF NOT EXISTS messages_sent ON messages (sent);
CREATE INDEX IF NOT EXISTS messages_message_id ON messages (message_id)
    WHERE message_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS conversations (
    number TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL,
    last_at TEXT NOT NULL,
    count INTEGER NOT NULL,
    unread INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS intents (batch TEXT PRIMARY KEY, value TEXT NOT NULL)
    WITHOUT ROWID;
PRAGMA user_version = {SCHEMA_VERSION};
COMMIT;
"""
# messages: ``number`` is the counterpart (``from`` of a received SMS, the
# ``recipient`` of a sent one), ``own`` the ``to`` of a received one, ``at``
# its time, ``extra`` (JSON) the record's other keys.
COLUMNS: Final = (
    "id, sent, number, own, at, body, message_id, parts, status, status_at, extra"
)
INSERT: Final = (
    "INSERT INTO messages (id, sent, number, own, at, body, message_id, parts,"
    " status, status_at, extra, unread) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
CONVERSATION_ADD: Final = """
INSERT INTO conversations (number, last_id, last_at, count, unread)
VALUES (?1, ?2, ?3, 1, ?4)
ON CONFLICT (number) DO UPDATE SET
    count = count + 1,
    unread = unread + excluded.unread,
    last_id = iif((excluded.last_at, excluded.last_id) > (last_at, last_id),
                  excluded.last_id, last_id),
    last_at = iif((excluded.last_at, excluded.last_id) > (last_at, last_id),
                  excluded.last_at, last_at)
"""
CONVERSATION_LAST: Final = """
UPDATE conversations SET (last_id, last_at) = (
    SELECT id, at FROM messages WHERE number = ?1 ORDER BY at DESC, id DESC LIMIT 1
) WHERE number = ?1 AND NOT EXISTS (
    SELECT 1 FROM messages WHERE id = conversations.last_id
)
"""
PATCH_EXTRA: Final = "iif(?4 IS NULL, extra, json_patch(coalesce(extra, '{}'), ?4))"

type Row = tuple[
    int,
    int,
    str,
    str | None,
    str,
    str,
    str | None,
    int | None,
    str | None,
    str | None,
    str | None,
    int,
]
type Op = Callable[[Database], Any]

_RECEIVED_KEYS: Final = frozenset({"direction", "from", "to", "body", "received_at"})
_SENT_KEYS: Final = frozenset(
    {
        "direction",
        "message_id",
        "recipient",
        "body",
        "parts",
        "sent_at",
        "status",
        "status_at",
    }
)


def _extra(record: Mapping[str, Any], known: frozenset[str]) -> str | None:
    extra = {k: v for k, v in record.items() if k not in known}
    return json_bytes(_storable_value(extra)).decode() if extra else None


def row_of(row_id: int, record: Mapping[str, Any], *, unread: bool) -> Row:
    """A record as its row; KeyError, TypeError or ValueError if it is not one."""
    if record["direction"] == "sent":
        message_id = record.get("message_id")
        status_at = record.get("status_at")
        return (
            row_id,
            1,
            storable(str(record["recipient"])),
            None,
            str(record["sent_at"]),
            storable(str(record["body"])),
            storable(str(message_id)) if message_id else None,
            int(record["parts"]),
            str(read_status(record.get("status", DeliveryStatus.PENDING))),
            None if status_at is None else str(status_at),
            _extra(record, _SENT_KEYS),
            0,
        )
    if record["direction"] != "received":
        raise ValueError(record["direction"])
    return (
        row_id,
        0,
        storable(str(record["from"])),
        storable(str(record["to"])),
        str(record["received_at"]),
        storable(str(record["body"])),
        None,
        None,
        None,
        None,
        _extra(record, _RECEIVED_KEYS),
        int(unread),
    )


def record_of(row: Sequence[Any]) -> Record:
    """A row (``COLUMNS``) as the record get_messages returns."""
    _, sent, number, own, at, body, message_id, parts, status, status_at, extra = row
    record: dict[str, Any]
    if sent:
        record = {
            "direction": "sent",
            "message_id": message_id,
            "recipient": number,
            "body": body,
            "parts": parts,
            "sent_at": at,
            "status": read_status(status),
            "status_at": status_at,
        }
    else:
        record = {
            "direction": "received",
            "from": number,
            "to": own,
            "body": body,
            "received_at": at,
        }
    if extra:
        record.update(json_loads(extra))  # type: ignore[arg-type]
    return record  # type: ignore[return-value]


def _is_corrupt(err: sqlite3.Error) -> bool:
    code = getattr(err, "sqlite_errorcode", 0) & 0xFF
    return code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


class _RecordError(Exception):
    """One change of a batch failed on its own: commit the others."""


@dataclass(slots=True)
class Failed:
    """What a queued call raised."""

    error: BaseException


@dataclass(slots=True)
class Batch:
    """What one executor job does: a check, a transaction, then reads."""

    writes: list[Op]
    reads: list[Op]
    meta: dict[str, str]
    next_id: int
    floor: int
    """Rows with a lower id are beyond ``history_size``: no read sees them."""
    cutoff: str
    """Rows older than this are beyond ``history_days``."""
    retain: bool
    check: bool = False
    slack: int = 0
    """Hidden rows gathered before they are deleted (in one statement)."""
    prune_age: bool = False


@dataclass(slots=True)
class Result:
    """What the job did, for the loop to settle its futures."""

    values: list[Any]
    reads: list[Any]
    count: int = 0
    """Rows a read can see."""
    pruned_below: int = 0
    more: bool = False
    """Retention has more to delete (the next job goes on)."""
    error: sqlite3.Error | None = None
    """The transaction failed: none of the batch's writes is on disk."""
    corrupt: Path | None = None
    """Where a damaged database was moved; a fresh one took its place."""


@dataclass(slots=True)
class _Sent:
    """A recent sent record, as delivery reports need it."""

    id: int
    message_id: str | None
    recipient: str
    body: str
    sent_at: str
    status: DeliveryStatus


@dataclass(slots=True)
class Opened:
    """What loading found in the database."""

    meta: dict[str, Any]
    sent: list[_Sent]
    """The recent sends, oldest first."""
    intents: list[dict[str, Any]]
    next_id: int
    count: int
    fresh: bool
    corrupt: Path | None = None


class Database:
    """The SQLite connection and what it knows; one executor job at a time."""

    def __init__(self, path: Path) -> None:
        """Nothing is opened yet."""
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self.count = 0
        self.pruned_below = 0
        self.next_id = 1
        self.meta: dict[str, str] = {}
        """Every meta value as last read or written (for a fresh database)."""
        self.floor = 0
        self._txn_count = 0

    @property
    def conn(self) -> sqlite3.Connection:
        """The open connection."""
        if self._conn is None:
            raise sqlite3.OperationalError("the message store is closed")
        return self._conn

    def open(self, max_size: int = 0) -> Opened:
        """Open (or create) the database and read what memory keeps."""
        self.close()
        fresh = not self.path.exists()
        corrupt = None
        try:
            self._connect()
            opened = self._read(fresh=fresh, max_size=max_size)
        except sqlite3.DatabaseError as err:
            # Not a database, damaged, or not our schema: set aside. Not
            # writable, full, busy: the caller sees the error (and retries).
            code = getattr(err, "sqlite_errorcode", 0) & 0xFF
            if isinstance(err, sqlite3.OperationalError) and not (
                _is_corrupt(err) or code == sqlite3.SQLITE_ERROR
            ):
                self.close()
                raise
            corrupt = self._set_aside(str(err))
            opened = self._read(fresh=True, max_size=max_size)
        opened.corrupt = corrupt
        return opened

    def _connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Private from the start: it holds message texts (-wal and -shm
        # files get the database's permissions).
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn = conn
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA journal_size_limit = 4194304")
        if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
            conn.executescript(SCHEMA)

    def _read(self, *, fresh: bool, max_size: int) -> Opened:
        conn = self.conn
        self.meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        meta: dict[str, Any] = {}
        for key, value in self.meta.items():
            try:
                meta[key] = json_loads(value)
            except ValueError:
                LOGGER.warning("Skipped an unreadable %s of the message store", key)
        # Reports come within ACTIO's validity period (48 hours): the sends
        # of the last REPORT_WINDOW, newest first, until one is older.
        cutoff = (dt_util.utcnow() - REPORT_WINDOW).isoformat(timespec="milliseconds")
        sent: list[_Sent] = []
        for row_id, message_id, number, body, at, status in conn.execute(
            "SELECT id, message_id, number, body, at, status FROM messages"
            " WHERE sent = 1 ORDER BY id DESC"
        ):
            if at < cutoff or len(sent) >= REPORTS_KEPT:
                break
            sent.append(
                _Sent(row_id, message_id, number, body, at, read_status(status))
            )
        intents = []
        for (value,) in conn.execute("SELECT value FROM intents"):
            try:
                intents.append(json_loads(value))
            except ValueError:
                LOGGER.warning("Skipped an unreadable send of the message store")
        # Apart: together, min() and max() would scan the table.
        low = conn.execute("SELECT min(id) FROM messages").fetchone()[0]
        high = conn.execute("SELECT max(id) FROM messages").fetchone()[0]
        rows = meta.pop("rows", None)
        if isinstance(rows, list) and len(rows) == 3:
            self.next_id, self.count, self.pruned_below = (int(v) for v in rows)
        else:
            self.count = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
            self.next_id, self.pruned_below = 1, 0
        self.next_id = max(self.next_id, (high or 0) + 1)
        self.pruned_below = max(self.pruned_below, low or 0)
        if max_size:
            self.floor = self.next_id - max_size
        return Opened(
            meta,
            sent[::-1],
            [i for i in intents if isinstance(i, dict)],
            self.next_id,
            self.count - self._hidden(),
            fresh,
        )

    def _hidden(self) -> int:
        """Rows below the floor, not deleted yet."""
        return int(
            self.conn.execute(
                "SELECT count(*) FROM messages WHERE id < ?", (self.floor,)
            ).fetchone()[0]
        )

    def close(self) -> None:
        """Close the connection (the last one checkpoints and drops the log)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.close()
            except sqlite3.Error as err:
                LOGGER.debug("Closing the message store: %s", err)

    def _set_aside(self, problem: str) -> Path:
        """Move a damaged database aside and start a fresh one."""
        self.close()
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        serial = 1
        while aside.exists():
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{serial}")
            serial += 1
        LOGGER.error(
            "The message store %s is damaged (%s); moved to %s, starting a new one",
            self.path,
            problem,
            aside,
        )
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").replace(Path(f"{aside}{suffix}"))
        self._connect()
        self.count = 0
        self.pruned_below = self.next_id
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            [(k, v) for k, v in self.meta.items() if k != "rows"],
        )
        self._write_rows(self.count)
        conn.execute("COMMIT")
        return aside

    def _write_rows(self, count: int) -> None:
        value = json_bytes([self.next_id, count, self.pruned_below]).decode()
        if value != self.meta.get("rows"):
            self.conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('rows', ?)",
                (value,),
            )
            self.meta["rows"] = value

    # -- a job ------------------------------------------------------------------

    def run(self, batch: Batch) -> Result:
        """Check, commit the writes (one transaction), then answer the reads."""
        result = Result([None] * len(batch.writes), [None] * len(batch.reads))
        self.floor = batch.floor
        if batch.check:
            self._check(result)
        if batch.writes or batch.meta or batch.retain:
            self._write(batch, result)
        for index, read in enumerate(batch.reads):
            try:
                result.reads[index] = read(self)
            except Exception as err:  # noqa: BLE001 - handed to its caller
                result.reads[index] = Failed(err)
        try:
            result.count = self.count - self._hidden()
        except sqlite3.Error:
            result.count = self.count
        result.pruned_below = self.pruned_below
        return result

    def _check(self, result: Result) -> None:
        try:
            rows = self.conn.execute("PRAGMA quick_check").fetchall()
        except sqlite3.OperationalError as err:
            if not _is_corrupt(err):
                LOGGER.warning("Could not check the message store: %s", err)
                return
            rows = [(str(err),)]
        except sqlite3.DatabaseError as err:
            rows = [(str(err),)]
        if rows != [("ok",)]:
            result.corrupt = self._set_aside("; ".join(str(r[0]) for r in rows[:3]))

    def _write(self, batch: Batch, result: Result) -> None:
        isolate = False
        for _attempt in range(3):
            try:
                self._transaction(batch, result, isolate=isolate)
            except _RecordError:
                self._rollback()
                isolate = True
            except sqlite3.Error as err:
                self._rollback()
                if not _is_corrupt(err) or result.corrupt is not None:
                    result.error = err
                    return
                result.corrupt = self._set_aside(str(err))
                isolate = True
            else:
                return

    def _rollback(self) -> None:
        try:
            if self._conn is not None and self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error as err:
            LOGGER.debug("Rollback of the message store: %s", err)

    def _transaction(self, batch: Batch, result: Result, *, isolate: bool) -> None:
        conn = self.conn
        self._txn_count = self.count
        pruned_below = self.pruned_below
        conn.execute("BEGIN IMMEDIATE")
        for index, op in enumerate(batch.writes):
            if isolate:
                conn.execute("SAVEPOINT op")
            try:
                value = op(self)
            except sqlite3.OperationalError:
                raise
            except sqlite3.DatabaseError as err:
                if _is_corrupt(err):
                    raise
                value = self._failed(err, isolate=isolate)
            except Exception as err:  # noqa: BLE001 - one record, not the batch
                value = self._failed(err, isolate=isolate)
            if isolate:
                conn.execute("RELEASE op")
            result.values[index] = value
        if batch.meta:
            conn.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                batch.meta.items(),
            )
        self.next_id = max(self.next_id, batch.next_id)
        if batch.retain:
            result.more = self._retain(batch)
        self._write_rows(self._txn_count)
        try:
            conn.execute("COMMIT")
        except sqlite3.Error:
            self.pruned_below = pruned_below
            raise
        self.count = self._txn_count
        self.meta.update(batch.meta)

    def _failed(self, err: BaseException, *, isolate: bool) -> Failed:
        if not isolate:
            raise _RecordError from err
        self.conn.execute("ROLLBACK TO op")
        return Failed(err)

    def _retain(self, batch: Batch) -> bool:
        """Delete one chunk of what is beyond the bounds; True if more is."""
        conn = self.conn
        low = conn.execute("SELECT min(id) FROM messages").fetchone()[0]
        if low is None:
            return False
        limit = low + PRUNE_CHUNK
        bound, more = low, False
        if batch.floor - low > batch.slack:
            bound, more = min(batch.floor, limit), batch.floor > limit
        if batch.prune_age:
            young = conn.execute(
                "SELECT id FROM messages WHERE id < ? AND at >= ? ORDER BY id LIMIT 1",
                (limit, batch.cutoff),
            ).fetchone()
            # The oldest first, up to the first young one (as the log always did).
            if young is None:
                bound, more = limit, True
            else:
                bound = max(bound, young[0])
        if bound <= low:
            return False
        self._delete_ids(low, bound)
        self.pruned_below = max(self.pruned_below, bound)
        return more

    def _delete_ids(self, low: int, high: int) -> None:
        conn = self.conn
        touched = conn.execute(
            "SELECT number, count(*), sum(unread) FROM messages"
            " WHERE id >= ? AND id < ? GROUP BY number",
            (low, high),
        ).fetchall()
        deleted = conn.execute(
            "DELETE FROM messages WHERE id >= ? AND id < ?", (low, high)
        ).rowcount
        self._txn_count -= deleted
        for number, count, unread in touched:
            conn.execute(
                "UPDATE conversations SET count = count - ?, unread = unread - ?"
                " WHERE number = ?",
                (count, unread, number),
            )
            self._fix_conversation(number)

    def _fix_conversation(self, number: str) -> None:
        conn = self.conn
        conn.execute(
            "DELETE FROM conversations WHERE number = ? AND count <= 0", (number,)
        )
        conn.execute(CONVERSATION_LAST, (number,))

    # -- writes (inside the transaction) -----------------------------------------

    def insert(self, rows: Iterable[Row]) -> None:
        """Add records (one conversation update each)."""
        conn = self.conn
        for row in rows:
            conn.execute(INSERT, row)
            conn.execute(CONVERSATION_ADD, (row[2], row[0], row[4], row[11]))
            self._txn_count += 1

    def insert_legacy(self, records: list[Any], first_id: int) -> int:
        """Add a 0.2/0.3 snapshot's records, read; return how many were skipped."""
        rows = []
        for index, record in enumerate(records):
            try:
                rows.append(row_of(first_id + index, record, unread=False))
            except KeyError, TypeError, ValueError:
                continue
        conn = self.conn
        conn.executemany(INSERT, rows)
        self._txn_count += len(rows)
        self.rebuild_conversations()
        return len(records) - len(rows)

    def rebuild_conversations(self) -> None:
        """Summarise every conversation again from the messages."""
        conn = self.conn
        conn.execute("DELETE FROM conversations")
        conn.execute(
            "INSERT INTO conversations (number, last_id, last_at, count, unread)"
            " SELECT number, 0, '', count(*), sum(unread) FROM messages"
            " GROUP BY number"
        )
        conn.execute(
            "UPDATE conversations SET (last_id, last_at) = (SELECT id, at FROM"
            " messages WHERE number = conversations.number"
            " ORDER BY at DESC, id DESC LIMIT 1)"
        )

    def update_row(
        self,
        row_id: int,
        message_id: str,
        status: str,
        at: str,
        details: str | None,
    ) -> None:
        """A delivery report for a record at hand (its id adopted if new)."""
        self.conn.execute(
            "UPDATE messages SET message_id = ?2, status = ?3, status_at = ?5,"  # noqa: S608 - constants only
            f" extra = {PATCH_EXTRA} WHERE id = ?1",
            (row_id, message_id, status, details, at),
        )

    def update_message_id(
        self, message_id: str, status: str, at: str, details: str | None
    ) -> None:
        """A delivery report for an id not at hand: an older record, if any."""
        self.conn.execute(
            "UPDATE messages SET status = ?2, status_at = ?3,"  # noqa: S608 - constants only
            f" extra = {PATCH_EXTRA} WHERE message_id = ?1 AND sent = 1"
            " AND status != 'delivered'",
            (message_id, status, at, details),
        )

    def put_intent(self, batch: str, value: str) -> None:
        """Keep a send's intent until it is resolved."""
        self.conn.execute(
            "INSERT OR REPLACE INTO intents (batch, value) VALUES (?, ?)",
            (batch, value),
        )

    def resolve(self, batch: str, rows: list[Row]) -> None:
        """Replace an intent by what became of it."""
        self.insert(rows)
        self.conn.execute("DELETE FROM intents WHERE batch = ?", (batch,))

    def put_state(self, key: str, value: str | None) -> None:
        """Set (or, with None, delete) a key of the key/value table."""
        if value is None:
            self.conn.execute("DELETE FROM state WHERE key = ?", (key,))
        else:
            self.conn.execute(
                "INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)",
                (key, value),
            )

    def mark_read(self, number: str) -> int:
        """Mark a conversation read; return how many messages were unread."""
        marked = self.conn.execute(
            "UPDATE messages SET unread = 0 WHERE number = ? AND unread = 1",
            (number,),
        ).rowcount
        self.conn.execute(
            "UPDATE conversations SET unread = 0 WHERE number = ?", (number,)
        )
        return marked

    def delete_number(self, number: str) -> int:
        """Delete a conversation; return how many messages it had."""
        deleted = self.conn.execute(
            "DELETE FROM messages WHERE number = ?", (number,)
        ).rowcount
        self.conn.execute("DELETE FROM conversations WHERE number = ?", (number,))
        self._txn_count -= deleted
        return deleted

    # -- reads --------------------------------------------------------------------

    def query(
        self, direction: str | None, number: str | None, own: bool, limit: int
    ) -> list[Record]:
        """Newest first, by direction and number (also ``to`` when ``own``)."""
        where = ["id >= ?"]
        args: list[Any] = [self.floor]
        order = "id DESC"
        if number and own:
            where.append("(number = ? OR own = ?)")
            args += [number, number]
        elif number:
            # The (number, at) index: newest first by time, then by arrival.
            where.append("number = ?")
            args.append(number)
            order = "at DESC, id DESC"
        if direction:
            # Unary plus: the number's index, not the direction's, when both.
            where.append("+sent = ?" if number else "sent = ?")
            args.append(int(direction == "sent"))
        sql = f"SELECT {COLUMNS} FROM messages"  # noqa: S608 - constants only
        sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order} LIMIT ?"
        args.append(limit)
        return [record_of(row) for row in self.conn.execute(sql, args)]

    def conversations(self, search: str | None, limit: int) -> list[dict[str, Any]]:
        """One line per counterpart, the latest first."""
        conn = self.conn
        # Rows beyond history_size not deleted yet: taken off the summaries.
        hidden = {
            number: (count, unread)
            for number, count, unread in conn.execute(
                "SELECT number, count(*), sum(unread) FROM messages WHERE id < ?"
                " GROUP BY number",
                (self.floor,),
            )
        }
        sql = (
            "SELECT c.number, c.count, c.unread, m.sent, m.body, m.at, c.last_id"
            " FROM conversations AS c JOIN messages AS m ON m.id = c.last_id"
        )
        args: list[Any] = []
        if search:
            pattern = "%" + re.sub(r"([\\%_])", r"\\\1", search) + "%"
            terms = [
                (
                    "c.number IN (SELECT number FROM messages"
                    " WHERE body LIKE ? ESCAPE '\\')"
                )
            ]
            args.append(pattern)
            # A number as people type it (+48 600-100 …): its digits.
            digits = "".join(ch for ch in search if ch.isdigit())
            if digits and not any(ch.isalpha() for ch in search):
                terms.append("c.number LIKE ?")
                args.append(f"%{digits}%")
            sql += " WHERE " + " OR ".join(terms)
        sql += " ORDER BY c.last_at DESC, c.last_id DESC LIMIT ?"
        args.append(limit + len(hidden))
        result = []
        for number, count, unread, sent, body, at, last_id in conn.execute(sql, args):
            if number in hidden:
                gone, gone_unread = hidden[number]
                count, unread = count - gone, unread - gone_unread
                if count <= 0:
                    continue
                if last_id < self.floor:
                    sent, body, at = conn.execute(
                        "SELECT sent, body, at FROM messages WHERE number = ?"
                        " AND id >= ? ORDER BY at DESC, id DESC LIMIT 1",
                        (number, self.floor),
                    ).fetchone()
            result.append(
                {
                    "number": number,
                    "last": {
                        "direction": "sent" if sent else "received",
                        "body": body,
                        "at": at,
                    },
                    "count": count,
                    "unread": unread,
                }
            )
        # A conversation whose newest row was hidden may sort lower now.
        result.sort(key=lambda c: c["last"]["at"], reverse=True)
        return result[:limit]

    def messages(
        self, number: str, before: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A conversation, newest first, a page at a time."""
        sql = f"SELECT {COLUMNS} FROM messages WHERE number = ? AND id >= ?"  # noqa: S608
        args: list[Any] = [number, self.floor]
        if before is not None:
            at, row_id = parse_cursor(before)
            sql += " AND (at, id) < (?, ?)"
            args += [at, row_id]
        sql += " ORDER BY at DESC, id DESC LIMIT ?"
        args.append(limit + 1)
        rows = self.conn.execute(sql, args).fetchall()
        page = [{**record_of(row), "id": row[0]} for row in rows[:limit]]
        cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            cursor = f"{last[4]}/{last[0]}"
        return page, cursor

    def count_by_status(self) -> dict[str, int]:
        """Sent records by status."""
        counts: dict[str, int] = {}
        for status, count in self.conn.execute(
            "SELECT status, count(*) FROM messages WHERE sent = 1 AND id >= ?"
            " GROUP BY status",
            (self.floor,),
        ):
            key = str(read_status(status))
            counts[key] = counts.get(key, 0) + count
        return counts

    def get_state(self, key: str) -> Any:
        """A value of the key/value table, or None."""
        row = self.conn.execute(
            "SELECT value FROM state WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else json_loads(row[0])


def parse_cursor(cursor: str) -> tuple[str, int]:
    """A ``messages`` cursor: (time, id); ValueError if it is not one."""
    at, sep, row_id = cursor.rpartition("/")
    if not sep or not at:
        raise ValueError(f"not a cursor: {cursor!r}")
    return at, int(row_id)


def _noop(_db: Database) -> None:
    """A read that waits for the writes queued before it."""


# --- the loop side -------------------------------------------------------------


@dataclass(slots=True)
class _Legacy:
    """What a 0.2/0.3 ``Store`` file and journal held."""

    data: dict[str, Any] | None
    entries: list[dict[str, Any]] = field(default_factory=list)


def _journal_entry(line: bytes) -> dict[str, Any] | None:
    """A legacy journal line as written, or None (torn or not ours)."""
    try:
        entry = json_loads(line)
    except ValueError:
        return None
    if isinstance(entry, dict) and type(entry.get("seq")) is int:
        return entry
    return None


def _read_journal(path: Path) -> tuple[list[dict[str, Any]], int, bool]:
    """A legacy journal's entries, how many lines were unreadable, and if any."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [], 0, False
    entries = []
    skipped = 0
    for line in raw.splitlines():
        if (entry := _journal_entry(line)) is None:
            skipped += 1
        else:
            entries.append(entry)
    return entries, skipped, True


def _remove_files(paths: Iterable[Path], db: Path | None = None) -> None:
    """Delete files; with ``db``, also the damaged copies set aside beside it."""
    for path in paths:
        path.unlink(missing_ok=True)
    if db is not None:
        for aside in db.parent.glob(f"{db.name}.corrupt-*"):
            aside.unlink(missing_ok=True)


class MessageStore:
    """Sent and received messages, counters and usage of one entry."""

    def __init__(
        self, hass: HomeAssistant, entry_id: str, max_size: int, max_days: int
    ) -> None:
        """Create an empty store; call async_load before use."""
        self._hass = hass
        self._entry_id = entry_id
        self.path = db_path(hass, entry_id)
        self._db = Database(self.path)
        self.written: asyncio.Future[Any] | None = None
        """Done once the last change is committed (StoreWriteError if not)."""
        self.max_size = max_size
        self.max_age = timedelta(days=max_days)
        self.loaded = False
        """Whether the store has been read (changes before would be lost)."""
        self._load_lock = asyncio.Lock()
        self._open = False
        self._writes: list[tuple[Op, asyncio.Future[Any]]] = []
        self._reads: list[tuple[Op, asyncio.Future[Any]]] = []
        self._worker: asyncio.Task[None] | None = None
        self._check = False
        self._retain = False
        self._failing = False
        self._prune_age_at = dt_util.utcnow()
        """When the next commit also deletes what is older than ``history_days``."""
        self._unsub_final_write: CALLBACK_TYPE | None = None
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self.last_received: ReceivedRecord | None = None
        self.last_sent: LastSent | None = None
        self.last_delivery: LoggedReport | None = None
        self.usage: Usage = _empty_usage()
        self._reset()

    def _reset(self) -> None:
        self.counters = dict.fromkeys(COUNTERS, 0)
        self.last_received = None
        self.last_sent = None
        self.last_delivery = None
        self.usage = _empty_usage()
        self._inflight: dict[str, dict[str, Any]] = {}
        """Sends announced before their requests went out, by batch id."""
        self._sent_by_id: dict[str, _Sent] = {}
        self._unconfirmed: list[_Sent] = []
        self._parked: dict[str, tuple[DeliveryStatus, float]] = {}
        self._owns: set[str] = set()
        self._legacy_marker: str | None = None
        self._next_id = 1
        self._pruned_below = 0
        self._count = 0
        self._dirty: set[str] = set()
        self._migrating = False

    def __len__(self) -> int:
        """Messages in the history (as last committed)."""
        return self._count

    def __bool__(self) -> bool:
        """A store is a store, empty or not."""
        return True

    # -- loading --------------------------------------------------------------

    async def async_load(self) -> None:
        """Open the database (migrating 0.2/0.3 files once); no-op if loaded."""
        async with self._load_lock:
            if not self.loaded:
                await self._async_load()

    async def _async_load(self) -> None:
        self._reset()
        legacy = await self._async_read_legacy()
        try:
            opened = await self._hass.async_add_executor_job(
                self._db.open, self.max_size
            )
        except (OSError, sqlite3.Error) as err:
            raise StoreWriteError(f"Could not open the message store: {err}") from err
        if opened.corrupt is not None:
            self._async_corrupt(opened.corrupt)
        self._apply(opened)
        if self._unsub_final_write is None:
            self._unsub_final_write = self._hass.bus.async_listen_once(
                EVENT_HOMEASSISTANT_FINAL_WRITE, self._async_final_write
            )
        self._open = True
        migrate = legacy is not None and "legacy" not in opened.meta
        if migrate:
            assert legacy is not None
            self._migrate(legacy)
        for batch, intent in list(self._inflight.items()):
            # Stopped while a send was under way: it may have gone out.
            try:
                outcomes = [
                    replace(
                        SendOutcome.from_journal(line),
                        message_id=None,
                        status=DeliveryStatus.UNCONFIRMED,
                    )
                    for line in intent["outcomes"]
                ]
                if "body" not in intent or "sent_at" not in intent:
                    raise KeyError("body")  # noqa: TRY301 - one reading of an intent
            except KeyError, TypeError, ValueError:
                LOGGER.warning("Skipped an unreadable send of the message store")
                del self._inflight[batch]
                self._write_op(partial(Database.resolve, batch=batch, rows=[]))
                continue
            self.resolve_intent(batch, outcomes)
        self._check = not opened.fresh
        self._retain = True
        self._prune_age_at = dt_util.utcnow()
        self._async_kick()
        if migrate:
            await self._enqueue(_noop, write=False)
            if self._failing:  # the commit holding the migration failed
                await self._async_shut()  # the load lock is held
                raise StoreWriteError("Could not move the 0.3 message log")
        self.loaded = True
        if legacy is not None:
            # Only now: the database holds all they held.
            await self._async_remove_legacy()

    def _apply(self, opened: Opened) -> None:
        meta = opened.meta
        counters = meta.get("counters")
        if isinstance(counters, dict):
            for key in COUNTERS:
                self.counters[key] = int(counters.get(key, 0))
        self.last_received = meta.get("last_received")
        self.last_sent = meta.get("last_sent")
        self.last_delivery = meta.get("last_delivery")
        if (last := self.last_delivery) is not None:
            last["status"] = read_status(last["status"])
        if isinstance(usage := meta.get("usage"), dict):
            self.usage = self._usage_of(usage)
        self._owns = {str(number) for number in meta.get("owns") or ()}
        self._legacy_marker = meta.get("legacy")
        self._next_id = opened.next_id
        self._count = opened.count
        self._pruned_below = self._db.pruned_below
        self._sent_by_id = {s.message_id: s for s in opened.sent if s.message_id}
        self._unconfirmed = [
            s
            for s in opened.sent
            if not s.message_id and s.status is DeliveryStatus.UNCONFIRMED
        ]
        self._trim_sent()
        for intent in opened.intents:
            self._inflight[str(intent["batch"])] = intent

    @staticmethod
    def _usage_of(stored: Mapping[str, Any]) -> Usage:
        return {
            "day": str(stored.get("day", "")),
            "day_parts": int(stored.get("day_parts", 0)),
            "month": str(stored.get("month", "")),
            "month_parts": int(stored.get("month_parts", 0)),
        }

    async def _async_read_legacy(self) -> _Legacy | None:
        try:
            data = await _legacy_store(self._hass, self._entry_id).async_load()
        except (HomeAssistantError, ValueError) as err:
            LOGGER.warning("Could not read the message log of 0.3: %s", err)
            data = None
        entries, skipped, found = await self._hass.async_add_executor_job(
            _read_journal, legacy_journal_path(self._hass, self._entry_id)
        )
        for _ in range(skipped):
            LOGGER.warning("Skipped an unreadable line of the message journal")
        if data is None and not found:
            return None
        return _Legacy(data if isinstance(data, dict) else None, entries)

    async def _async_remove_legacy(self) -> None:
        journal = legacy_journal_path(self._hass, self._entry_id)
        await self._hass.async_add_executor_job(
            _remove_files, (journal, journal.with_suffix(".tmp"))
        )
        await _legacy_store(self._hass, self._entry_id).async_remove()

    def _migrate(self, legacy: _Legacy) -> None:
        """Replay a 0.2/0.3 snapshot and journal as 0.3's load did, then commit."""
        self._migrating = True
        data = legacy.data or {}
        seq = 0
        records: list[Any] = []
        if legacy.data is not None:
            # Tolerant of older or hand-edited files: every key may be missing.
            counters = data.get("counters", {})
            for key in COUNTERS:
                self.counters[key] = int(counters.get(key, 0))
            self.last_received = data.get("last_received")
            self.last_sent = data.get("last_sent")
            self.last_delivery = data.get("last_delivery")
            if (last := self.last_delivery) is not None:
                last["status"] = read_status(last["status"])
            records = [r for r in data.get("records", []) if isinstance(r, dict)]
            self._inflight = {
                str(intent["batch"]): intent for intent in data.get("inflight", [])
            }
            self.usage = self._usage_of(data.get("usage") or {})
            seq = int(data.get("seq", 0))
        entries = [e for e in legacy.entries if e["seq"] > seq]
        # 0.3 kept at most history_size records: those beyond were gone.
        records = records[-max(self.max_size, 1) :]
        # The journal's reports need their records at hand, as they were.
        wanted = {
            str(e.get("message_id")) for e in entries if e.get("op") == "delivery"
        }
        keep = max(REPORTS_KEPT, UNCONFIRMED_MATCH_WINDOW)
        first = self._next_id
        self._next_id += len(records)
        for index, record in enumerate(records):
            if record.get("direction") == "received":
                self._owns.add(str(record.get("to")))
            elif record.get("direction") == "sent" and (
                index >= len(records) - keep or record.get("message_id") in wanted
            ):
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    self._remember(
                        _Sent(
                            first + index,
                            record.get("message_id") or None,
                            str(record["recipient"]),
                            storable(str(record["body"])),
                            str(record["sent_at"]),
                            read_status(record.get("status", "pending")),
                        )
                    )
        self._write_op(lambda db: db.insert_legacy(records, first))
        replayed = 0
        for entry in entries:
            try:
                self._replay(entry)
            except KeyError, TypeError, ValueError:
                LOGGER.warning("Skipped an unreadable entry of the message journal")
            else:
                replayed += 1
        if replayed:
            LOGGER.info("Recovered %s message log change(s) from the journal", replayed)
        self._legacy_marker = utc_now_iso()
        self._dirty.update(META_KEYS)
        self._migrating = False
        self._trim_sent()
        LOGGER.info(
            "Moved %s message(s) of the 0.3 message log into %s",
            len(records),
            self.path.name,
        )

    def _replay(self, entry: dict[str, Any]) -> None:
        match entry["op"]:
            case "received":
                record = entry["record"]
                row = self._add_received(
                    {
                        "direction": "received",
                        "from": storable(str(record["from"])),
                        "to": storable(str(record["to"])),
                        "body": storable(str(record["body"])),
                        "received_at": str(record["received_at"]),
                    },
                    unread=False,
                )
                self._write_op(lambda db: db.insert([row]))
            case "delivery":
                status = read_status(entry["status"])
                if status not in REPORTED_STATUSES:
                    raise ValueError(status)
                self._apply_delivery(
                    DeliveryReport(
                        str(entry["message_id"]),
                        status,  # type: ignore[arg-type]
                        recipient=entry.get("recipient"),
                        **{k: entry[k] for k in REPORT_DETAILS if k in entry},
                    ),
                    str(entry["at"]),
                )
            case "intent":
                self._inflight[str(entry["batch"])] = entry
            case "sent":
                if batch := entry.get("batch"):
                    self._inflight.pop(str(batch), None)
                rows = self._add_sent(
                    [SendOutcome.from_journal(o) for o in entry["outcomes"]],
                    str(entry["body"]),
                    str(entry["sent_at"]),
                )
                self._write_op(lambda db: db.insert(rows))
            case _:
                raise ValueError(entry["op"])

    # -- the queue ------------------------------------------------------------

    @callback
    def _enqueue(self, op: Op, *, write: bool) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = self._hass.loop.create_future()
        (self._writes if write else self._reads).append((op, future))
        self._async_kick()
        return future

    @callback
    def _write_op(self, op: Op) -> asyncio.Future[Any]:
        self.written = self._enqueue(op, write=True)
        return self.written

    @callback
    def _async_kick(self) -> None:
        if self._open and (self._worker is None or self._worker.done()):
            self._worker = self._hass.async_create_task(
                self._async_work(), f"{DOMAIN} store", eager_start=False
            )

    def _take_meta(self) -> dict[str, str]:
        values: dict[str, Any] = {
            "counters": self.counters,
            "last_received": self.last_received,
            "last_sent": self.last_sent,
            "last_delivery": self.last_delivery,
            "usage": self.usage,
            "owns": sorted(self._owns),
            "legacy": self._legacy_marker,
        }
        meta = {}
        for key in self._dirty:
            try:
                meta[key] = json_bytes(values[key]).decode()
            except (TypeError, ValueError) as err:
                LOGGER.error("Could not keep %s in the message store: %s", key, err)
        self._dirty.clear()
        return meta

    async def _async_work(self) -> None:
        while self._open and (
            self._writes
            or self._reads
            or self._retain
            or self._check
            # After a failed commit, what it held waits for the next change.
            or (self._dirty and not self._failing)
        ):
            writes, self._writes = self._writes, []
            reads, self._reads = self._reads, []
            now = dt_util.utcnow()
            prune_age = now >= self._prune_age_at
            if prune_age:
                self._prune_age_at = now + PRUNE_AGE_EVERY
            batch = Batch(
                [op for op, _ in writes],
                [op for op, _ in reads],
                self._take_meta(),
                self._next_id,
                self._next_id - self.max_size,
                (now - self.max_age).isoformat(timespec="milliseconds"),
                retain=bool(writes) or self._retain,
                check=self._check,
                slack=int(self.max_size * PRUNE_SLACK),
                prune_age=prune_age,
            )
            self._retain = self._check = False
            try:
                result = await self._hass.async_add_executor_job(self._db.run, batch)
            except Exception as err:  # noqa: BLE001 - every caller is told
                LOGGER.exception("The message store failed")
                result = Result(
                    [None] * len(writes),
                    [Failed(err)] * len(reads),
                    self._count,
                    self._pruned_below,
                    error=sqlite3.OperationalError(str(err)),
                )
            self._settle(writes, reads, batch, result)

    def _settle(
        self,
        writes: list[tuple[Op, asyncio.Future[Any]]],
        reads: list[tuple[Op, asyncio.Future[Any]]],
        batch: Batch,
        result: Result,
    ) -> None:
        self._failing = result.error is not None
        if result.error is not None:
            LOGGER.error("Could not write the message store: %s", result.error)
            self._dirty.update(batch.meta)
        for (_, future), value in zip(writes, result.values, strict=True):
            if result.error is not None:
                _fail(future, StoreWriteError(str(result.error)))
            elif isinstance(value, Failed):
                LOGGER.error(
                    "Could not keep a change in the message store: %s", value.error
                )
                _fail(future, StoreWriteError(str(value.error)))
            elif not future.done():
                future.set_result(value)
        for (_, future), value in zip(reads, result.reads, strict=True):
            if isinstance(value, Failed):
                _fail(future, value.error)
            elif not future.done():
                future.set_result(value)
        self._count = result.count
        self._pruned_below = max(self._pruned_below, result.pruned_below)
        if result.more:
            # The next chunk at once, by age too if it was by age.
            self._retain = True
            if batch.prune_age:
                self._prune_age_at = dt_util.utcnow()
        if result.corrupt is not None:
            self._async_corrupt(result.corrupt)

    @callback
    def _async_corrupt(self, aside: Path) -> None:
        """A fresh database replaced a damaged one: say so, forget its rows."""
        self._sent_by_id.clear()
        self._unconfirmed.clear()
        self._dirty.update(META_KEYS)
        if (entry := self._hass.config_entries.async_get_entry(self._entry_id)) is None:
            return
        async_raise_store_corrupt(self._hass, entry, aside)

    async def async_flush(self) -> None:
        """Return once everything queued so far is committed (on unload)."""
        if self._open and (
            self._writes or self._reads or self._dirty or not _idle(self._worker)
        ):
            await self._enqueue(_noop, write=False)

    async def _async_final_write(self, _event: Event) -> None:
        self._unsub_final_write = None
        await self._async_close()

    async def _async_close(self) -> None:
        # A read or write meanwhile reopens the store: only after this close.
        async with self._load_lock:
            await self._async_shut()

    async def _async_shut(self) -> None:
        await self.async_flush()
        self._open = False
        self.loaded = False
        if (worker := self._worker) is not None and not worker.done():
            # A batch queued meanwhile is in flight: its job ends first.
            await asyncio.shield(worker)
        for _, future in (*self._writes, *self._reads):
            _fail(future, StoreWriteError("the message store is closed"))
        self._writes, self._reads = [], []
        await self._hass.async_add_executor_job(self._db.close)

    async def async_remove(self) -> None:
        """Delete the database and any older files (the entry is removed)."""
        if self._unsub_final_write is not None:
            self._unsub_final_write()
            self._unsub_final_write = None
        await self._async_close()
        path = self.path
        journal = legacy_journal_path(self._hass, self._entry_id)
        await self._hass.async_add_executor_job(
            _remove_files,
            (
                path,
                Path(f"{path}-wal"),
                Path(f"{path}-shm"),
                journal,
                journal.with_suffix(".tmp"),
            ),
            path,
        )
        await _legacy_store(self._hass, self._entry_id).async_remove()

    # -- bounds and the records kept in memory ----------------------------------------

    @callback
    def set_bounds(self, max_size: int, max_days: int) -> None:
        """Apply changed history options; what no longer fits is deleted."""
        self.max_size = max_size
        self.max_age = timedelta(days=max_days)
        self._retain = True
        self._prune_age_at = dt_util.utcnow()
        self._async_kick()

    def _low(self) -> int:
        """Records with a lower id are no longer in the history."""
        return max(self._next_id - self.max_size, self._pruned_below)

    def _alloc(self) -> int:
        row_id = self._next_id
        self._next_id += 1
        return row_id

    def _remember(self, sent: _Sent) -> None:
        if sent.message_id:
            self._sent_by_id.pop(sent.message_id, None)
            self._sent_by_id[sent.message_id] = sent
        elif sent.status is DeliveryStatus.UNCONFIRMED:
            self._unconfirmed.append(sent)
        if not self._migrating:
            self._trim_sent()

    def _trim_sent(self) -> None:
        by_id = self._sent_by_id
        low = self._low()
        while by_id and (
            len(by_id) > REPORTS_KEPT or next(iter(by_id.values())).id < low
        ):
            del by_id[next(iter(by_id))]
        if len(self._unconfirmed) > UNCONFIRMED_MATCH_WINDOW:
            del self._unconfirmed[:-UNCONFIRMED_MATCH_WINDOW]

    def _lookup(self, message_id: str) -> _Sent | None:
        sent = self._sent_by_id.get(message_id)
        if sent is not None and sent.id < self._low():
            del self._sent_by_id[message_id]
            return None
        return sent

    # -- changes ----------------------------------------------------------------------

    @callback
    def knows(self, message_id: str) -> bool:
        """Whether an SMS this entry sent (in the last week) has ``message_id``."""
        return self._lookup(message_id) is not None

    def add_received(
        self, message: InboundMessage, *, unknown_number: bool = False
    ) -> ReceivedRecord:
        """Log an inbound SMS (``unknown_number``: to a number no entry has)."""
        record: ReceivedRecord = {
            "direction": "received",
            "from": storable(message.sender),
            "to": storable(message.recipient),
            "body": storable(message.body),
            "received_at": message.received_at,
        }
        if unknown_number:
            record["unknown_number"] = True
        row = self._add_received(record, unread=True)
        self._write_op(lambda db: db.insert([row]))
        return {**record, "id": row[0]}

    def _add_received(self, record: ReceivedRecord, *, unread: bool) -> Row:
        row = row_of(self._alloc(), record, unread=unread)
        self.counters["received"] += 1
        self.last_received = record
        self._dirty.update(("counters", "last_received"))
        if record["to"] not in self._owns:
            self._owns.add(record["to"])
            self._dirty.add("owns")
        return row

    @callback
    def add_intent(
        self, batch: str, outcomes: list[SendOutcome], body: str, sent_at: str
    ) -> asyncio.Future[Any]:
        """Note a send before its requests go out (each with its key).

        Should Home Assistant stop before the outcome is known, the send is
        read back as unconfirmed: it may have gone out, and it costs as if.
        """
        intent = {
            "op": "intent",
            "batch": batch,
            "outcomes": [o.as_journal() for o in outcomes],
            "body": storable(body),
            "sent_at": sent_at,
        }
        self._inflight[batch] = intent
        value = json_bytes(_storable_value(intent)).decode()
        return self._write_op(lambda db: db.put_intent(batch, value))

    @callback
    def resolve_intent(self, batch: str, outcomes: list[SendOutcome]) -> None:
        """The send is over: keep ``outcomes`` (accepted or unconfirmed).

        Recipients the intent named and ``outcomes`` does not were refused.
        """
        if (intent := self._inflight.pop(batch, None)) is None:
            return
        rows = self._add_sent(outcomes, str(intent["body"]), str(intent["sent_at"]))
        self._write_op(lambda db: db.resolve(batch, rows))

    @callback
    def add_sent(self, outcomes: list[SendOutcome], body: str, sent_at: str) -> None:
        """Log SMS sent without an intent (one record per recipient)."""
        rows = self._add_sent(outcomes, body, sent_at)
        self._write_op(lambda db: db.insert(rows))

    def _add_sent(
        self, outcomes: list[SendOutcome], body: str, sent_at: str
    ) -> list[Row]:
        if not outcomes:
            return []
        body = storable(body)
        rows = []
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
            if (
                outcome.message_id
                and (parked := self._unpark(outcome.message_id)) is not None
            ):
                record["status"] = parked
            row_id = self._alloc()
            rows.append(row_of(row_id, record, unread=False))
            self._remember(
                _Sent(
                    row_id,
                    outcome.message_id,
                    outcome.recipient,
                    body,
                    sent_at,
                    record["status"],
                )
            )
        self.counters["sent"] += len(outcomes)
        self._count_parts(sum(o.parts for o in outcomes), sent_at)
        self.last_sent = {
            "body": body,
            "recipients": [o.recipient for o in outcomes],
            "message_ids": [o.message_id for o in outcomes],
            "sent_at": sent_at,
        }
        self._dirty.update(("counters", "usage", "last_sent"))
        return rows

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

    # -- delivery reports ---------------------------------------------------------

    @callback
    def apply_delivery(self, report: DeliveryReport) -> LoggedReport | None:
        """Update the sent record for a report; return the report as logged.

        A report that tells nothing new is ignored (None): the same status
        again, or anything after delivered, which is final, so the counters,
        totals for long-term statistics, never go down.
        """
        if self._lookup(report.message_id) is None and report.recipient:
            self._adopt_unconfirmed(report.message_id, report.recipient)
        if self._status_of(report.message_id) in (
            report.status,
            DeliveryStatus.DELIVERED,
        ):
            return None
        return self._apply_delivery(report, utc_now_iso())

    def _adopt_unconfirmed(self, message_id: str, recipient: str) -> None:
        """A report for an id never learnt: the newest unconfirmed SMS to its number.

        A send whose answer was lost has no id; the live API's reports name
        the number, which is enough to tell the person what became of it.
        """
        low = max(self._low(), self._next_id - UNCONFIRMED_MATCH_WINDOW)
        unconfirmed = self._unconfirmed
        for index in range(len(unconfirmed) - 1, -1, -1):
            sent = unconfirmed[index]
            if sent.id < low:
                del unconfirmed[: index + 1]
                return
            if (
                sent.recipient == recipient
                and sent.message_id is None
                and sent.status is DeliveryStatus.UNCONFIRMED
            ):
                del unconfirmed[index]
                sent.message_id = message_id
                self._remember(sent)
                return

    def _status_of(self, message_id: str) -> DeliveryStatus | None:
        if (sent := self._lookup(message_id)) is not None:
            return sent.status
        return self._parked_status(message_id)

    def _park(self, message_id: str, status: DeliveryStatus) -> None:
        parked = self._parked
        parked.pop(message_id, None)
        now = time.monotonic()
        parked[message_id] = (status, now)
        while parked and (
            len(parked) > UNKNOWN_REPORTS_KEPT
            or now - next(iter(parked.values()))[1] > UNKNOWN_REPORT_TTL
        ):
            del parked[next(iter(parked))]

    def _parked_status(self, message_id: str) -> DeliveryStatus | None:
        if (parked := self._parked.get(message_id)) is None:
            return None
        if time.monotonic() - parked[1] > UNKNOWN_REPORT_TTL:
            del self._parked[message_id]
            return None
        return parked[0]

    def _unpark(self, message_id: str) -> DeliveryStatus | None:
        status = self._parked_status(message_id)
        self._parked.pop(message_id, None)
        return status

    def _apply_delivery(self, report: DeliveryReport, at: str) -> LoggedReport:
        message_id, status = report.message_id, report.status
        if report.recipient and self._lookup(message_id) is None:
            self._adopt_unconfirmed(message_id, report.recipient)
        sent = self._lookup(message_id)
        previous = sent.status if sent is not None else self._parked_status(message_id)
        details: dict[str, Any] = {
            key: storable(value) if isinstance(value, str) else value
            for key in REPORT_DETAILS
            if (value := getattr(report, key)) is not None
        }
        patch = json_bytes(details).decode() if details else None
        if sent is not None:
            sent.status = status
            row_id = sent.id
            self._write_op(
                lambda db: db.update_row(row_id, message_id, str(status), at, patch)
            )
        else:
            self._park(message_id, status)
            self._write_op(
                lambda db: db.update_message_id(message_id, str(status), at, patch)
            )
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
            logged["recipient"] = sent.recipient
            logged["body"] = sent.body
            logged["sent_at"] = sent.sent_at
        self.last_delivery = logged
        self._dirty.update(("counters", "last_delivery"))
        return logged

    # -- reads and the inbox ---------------------------------------------------------

    async def _async_read(self, op: Op) -> Any:
        if not self.loaded:
            await self.async_load()
        return await self._enqueue(op, write=False)

    async def _async_write(self, op: Op) -> Any:
        if not self.loaded:
            await self.async_load()
        return await self._write_op(op)

    async def query(
        self, direction: str | None, number: str | None, limit: int
    ) -> list[Record]:
        """Newest first, filtered by direction and number.

        A number matches the counterpart (``from`` of a received SMS, the
        ``recipient`` of a sent one) and the ``to`` of a received one; one
        number's records come by time, then arrival.
        """
        own = bool(number) and number in self._owns
        result: list[Record] = await self._async_read(
            lambda db: db.query(direction, number or None, own, limit)
        )
        return result

    async def count_by_status(self) -> dict[str, int]:
        """Sent records in the history by status."""
        result: dict[str, int] = await self._async_read(Database.count_by_status)
        return result

    async def conversations(
        self, search: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """One per counterpart, the latest first: number, last, count, unread.

        ``last`` is {direction, body, at} of its newest message; ``search``
        keeps those whose number holds its digits or whose messages its text
        (case-insensitive for ASCII letters; a scan of the bodies).
        """
        result: list[dict[str, Any]] = await self._async_read(
            lambda db: db.conversations(search or None, limit)
        )
        return result

    async def messages(
        self, number: str, before: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A conversation, newest first: records with their "id", and a cursor.

        Pass the cursor as ``before`` for the next (older) page; None when
        there is none. Cursors stay valid while messages arrive.
        """
        if before is not None:
            parse_cursor(before)
        result: tuple[list[dict[str, Any]], str | None] = await self._async_read(
            lambda db: db.messages(number, before, limit)
        )
        return result

    async def mark_read(self, number: str) -> int:
        """Mark a conversation read; return how many messages were unread."""
        result: int = await self._async_write(lambda db: db.mark_read(number))
        return result

    async def delete_conversation(self, number: str) -> int:
        """Delete every message to and from ``number``; return how many."""
        for message_id, sent in list(self._sent_by_id.items()):
            if sent.recipient == number:
                del self._sent_by_id[message_id]
        self._unconfirmed = [s for s in self._unconfirmed if s.recipient != number]
        result: int = await self._async_write(lambda db: db.delete_number(number))
        return result

    async def async_get_state(self, key: str) -> Any:
        """A value ``set_state`` kept (JSON), or None."""
        return await self._async_read(lambda db: db.get_state(key))

    @callback
    def set_state(self, key: str, value: Any) -> asyncio.Future[Any]:
        """Keep a JSON value under ``key`` (None deletes it), in the next commit."""
        text = None if value is None else json_bytes(value).decode()
        return self._write_op(lambda db: db.put_state(key, text))


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
        future.exception()  # retrieved: callers may be gone


def _idle(task: asyncio.Task[None] | None) -> bool:
    return task is None or task.done()


def _counter(status: DeliveryStatus) -> str | None:
    """Which counter a reported status adds to (pending and unconfirmed: none)."""
    if status is DeliveryStatus.DELIVERED:
        return "delivered"
    return "failed" if status in REPORTED_STATUSES else None
