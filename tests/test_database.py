"""The message database on its own (no Home Assistant): fast, direct checks of
what the store's promises rest on: ids, retention bounds, errors and damage."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
import logging
from pathlib import Path
import sqlite3
from typing import Any
from unittest.mock import patch

import pytest

from custom_components.actio_sms import store as store_module
from custom_components.actio_sms.store import (
    Batch,
    Database,
    Failed,
    Op,
    Result,
    Row,
    parse_cursor,
    row_of,
)

A, B, C = "48600100200", "48600100201", "48600100202"
OLD, YOUNG, CUTOFF = "2026-01-01T00:00", "2026-12-01T00:00", "2026-06-01T00:00"


def received(row_id: int, number: str, at: str = YOUNG) -> Row:
    record = {
        "direction": "received",
        "from": number,
        "to": "48732129000",
        "body": f"text {row_id}",
        "received_at": at,
    }
    return row_of(row_id, record, unread=True)


def sent(row_id: int, at: str) -> Row:
    record = {
        "direction": "sent",
        "recipient": A,
        "body": f"sent {row_id}",
        "parts": 1,
        "sent_at": at,
        "message_id": f"id{row_id}",
    }
    return row_of(row_id, record, unread=False)


def batch(
    *writes: Op,
    next_id: int = 1,
    floor: int = 0,
    retain: bool = False,
    slack: int = 0,
    prune_age: bool = False,
    meta: dict[str, str] | None = None,
    check: bool = False,
) -> Batch:
    return Batch(
        list(writes),
        [],
        meta or {},
        next_id,
        floor,
        CUTOFF,
        retain,
        check=check,
        slack=slack,
        prune_age=prune_age,
    )


def insert(*rows: Row) -> Op:
    return lambda db: db.insert(rows)


def ids(db: Database) -> list[int]:
    return [r[0] for r in db.conn.execute("SELECT id FROM messages ORDER BY id")]


def filled(path: Path, rows: list[Row], **kwargs: Any) -> Database:
    db = Database(path)
    db.open(**kwargs)
    result = db.run(batch(insert(*rows), next_id=rows[-1][0] + 1))
    assert result.error is None
    return db


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "actio_sms.db"


@pytest.fixture
def chunk_of_3() -> Iterator[None]:
    with patch.object(store_module, "PRUNE_CHUNK", 3):
        yield


# --- ids -------------------------------------------------------------------------


def test_ids_are_never_reused_after_the_newest_rows_are_deleted(path: Path) -> None:
    """A row id names one message for good (pages, the inbox's links)."""
    db = filled(path, [received(1, A), received(2, B), received(3, C)])
    db.run(batch(lambda d: d.delete_number(C), next_id=4))
    db.close()
    again = Database(path)
    assert again.open().next_id == 4
    assert again.count == 2


def test_ids_and_bounds_without_the_rows_line(path: Path) -> None:
    """A database whose bookkeeping line is missing: read from the rows."""
    db = filled(path, [received(1, A), received(2, B), received(3, C)])
    db.run(batch(lambda d: d.delete_number(A), next_id=4))
    db.close()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("DELETE FROM meta WHERE key = 'rows'")
    again = Database(path)
    opened = again.open()
    assert opened.next_id == 4
    assert opened.count == again.count == 2
    assert again.pruned_below == 2


def test_a_default_open_hides_nothing(path: Path) -> None:
    filled(path, [received(1, A), received(2, A), received(3, A)]).close()
    db = Database(path)
    assert db.open().count == 3
    assert [r["body"] for r in db.query(None, None, own=False, limit=10)] == [
        "text 3",
        "text 2",
        "text 1",
    ]


def test_a_folder_that_does_not_exist_yet_is_made(tmp_path: Path) -> None:
    db = Database(tmp_path / "config" / ".storage" / "actio_sms.db")
    assert db.open().fresh


@pytest.mark.parametrize("at", ["2026-12-03T10:00:00.000+00:00", "03/12/2026 10:00"])
def test_a_cursor_reads_back_whatever_the_time_holds(at: str) -> None:
    assert parse_cursor(f"{at}/42") == (at, 42)


# --- what a start reads back -------------------------------------------------------


def test_recent_sends_are_read_back_oldest_first_up_to_the_bounds(path: Path) -> None:
    now = datetime(2026, 12, 3, 12, tzinfo=UTC)
    cutoff = (now - store_module.REPORT_WINDOW).isoformat(timespec="milliseconds")
    early = (now - timedelta(days=8)).isoformat(timespec="milliseconds")
    rows = [sent(1, early), sent(2, cutoff), sent(3, cutoff), sent(4, cutoff)]
    filled(path, rows).close()
    db = Database(path)
    with patch.object(store_module.dt_util, "utcnow", return_value=now):
        # A send exactly at the window's edge is still within it.
        assert [s.id for s in db.open().sent] == [2, 3, 4]
        with patch.object(store_module, "REPORTS_KEPT", 2):
            assert [s.id for s in db.open().sent] == [3, 4]


# --- retention ---------------------------------------------------------------------


@pytest.mark.usefixtures("chunk_of_3")
def test_rows_beyond_the_size_go_once_the_slack_is_exceeded(path: Path) -> None:
    db = filled(path, [received(i, A) for i in range(1, 11)])
    # Five hidden rows, a slack of five: kept for now.
    assert db.run(batch(next_id=11, floor=6, retain=True, slack=5)).more is False
    assert ids(db) == list(range(1, 11))
    # Past the slack: a chunk of three, then the rest.
    assert db.run(batch(next_id=11, floor=6, retain=True, slack=4)).more is True
    assert ids(db) == list(range(4, 11))
    assert db.run(batch(next_id=11, floor=6, retain=True)).more is False
    assert ids(db) == list(range(6, 11))
    assert db.pruned_below == 6
    # A bound exactly one chunk away: done in this step, nothing more.
    assert db.run(batch(next_id=11, floor=9, retain=True)).more is False
    assert ids(db) == [9, 10]


@pytest.mark.usefixtures("chunk_of_3")
def test_age_retention_stops_at_the_first_young_row(path: Path) -> None:
    rows = [received(1, A, OLD), received(2, A, OLD)]
    db = filled(path, rows + [received(i, A) for i in range(3, 8)])
    assert db.run(batch(next_id=8, retain=True, prune_age=True)).more is False
    assert ids(db) == [3, 4, 5, 6, 7]


@pytest.mark.usefixtures("chunk_of_3")
def test_age_retention_goes_on_while_a_whole_chunk_is_old(path: Path) -> None:
    db = filled(path, [received(i, A, OLD) for i in range(1, 6)])
    assert db.run(batch(next_id=6, retain=True, prune_age=True)).more is True
    assert ids(db) == [4, 5]
    assert db.run(batch(next_id=6, retain=True, prune_age=True)).more is True
    assert ids(db) == []


# --- a job --------------------------------------------------------------------------


def test_writes_alone_are_committed(path: Path) -> None:
    db = Database(path)
    db.open()
    db.run(batch(insert(received(1, A)), next_id=2))
    db.run(batch(meta={"usage": '{"day": ""}'}))
    db.close()
    db = Database(path)
    opened = db.open()
    assert opened.count == 1
    assert opened.meta["usage"] == {"day": ""}


def test_a_record_the_database_refuses_fails_alone(path: Path) -> None:
    db = filled(path, [received(1, A)])
    result = db.run(batch(insert(received(1, B)), insert(received(2, C)), next_id=3))
    assert isinstance(result.values[0], Failed)
    assert isinstance(result.values[0].error, sqlite3.IntegrityError)
    assert result.error is None
    assert ids(db) == [1, 2]


def test_a_full_disk_fails_the_batch_and_sets_nothing_aside(path: Path) -> None:
    db = filled(path, [received(1, A)])
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = sqlite3.SQLITE_FULL

    def fill(_db: Database) -> None:
        raise full

    result = db.run(batch(insert(received(2, A)), fill, next_id=3))
    assert result.error is full
    assert result.corrupt is None
    assert ids(db) == [1]
    assert not list(path.parent.glob("*.corrupt-*"))


def test_damage_after_a_bad_record_keeps_the_good_ones(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A bad record, then corruption: set aside, and the good record commits."""
    db = filled(path, [received(1, A)])
    malformed = sqlite3.DatabaseError("database disk image is malformed")
    malformed.sqlite_errorcode = sqlite3.SQLITE_CORRUPT
    calls = 0

    def bad(_db: Database) -> None:
        raise ValueError("not a record")

    def flaky(d: Database) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise malformed
        d.insert([received(2, B)])

    with caplog.at_level(logging.ERROR):
        result = db.run(batch(bad, flaky, next_id=3))
    assert result.error is None
    assert result.corrupt is not None
    assert isinstance(result.values[0], Failed)
    assert ids(db) == [2]
    assert "is damaged (database disk image is malformed)" in caplog.text


# --- damage and errors at the start -------------------------------------------------


def test_another_programs_database_is_set_aside(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE other (x)")
        conn.execute("PRAGMA user_version = 7")
    db = Database(path)
    with caplog.at_level(logging.ERROR):
        opened = db.open()
    assert opened.corrupt is not None
    assert opened.fresh
    assert "(no such table: meta)" in caplog.text
    assert read_tables(opened.corrupt) == ["other"]


def read_tables(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        return [r[0] for r in conn.execute("SELECT name FROM sqlite_master")]


def coded(code: int | None) -> sqlite3.OperationalError:
    err = sqlite3.OperationalError("database is locked")
    if code is not None:
        err.sqlite_errorcode = code
    return err


@pytest.mark.parametrize("code", [sqlite3.SQLITE_BUSY, sqlite3.SQLITE_READONLY, None])
def test_a_busy_or_readonly_database_is_an_error_not_a_reset(
    path: Path, code: int | None
) -> None:
    filled(path, [received(1, A)]).close()
    db = Database(path)
    with (
        patch.object(Database, "_read", side_effect=coded(code)),
        pytest.raises(sqlite3.OperationalError, match="locked"),
    ):
        db.open()
    assert not list(path.parent.glob("*.corrupt-*"))


class Checked:
    """A connection whose quick_check answers as told."""

    def __init__(self, conn: sqlite3.Connection, answer: Any) -> None:
        self._conn = conn
        self._answer = answer

    def execute(self, sql: str, *args: Any) -> Any:
        if sql != "PRAGMA quick_check":
            return self._conn.execute(sql, *args)
        if isinstance(self._answer, BaseException):
            raise self._answer
        rows = self._answer
        return type("Rows", (), {"fetchall": lambda _self: rows})()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def checked(db: Database, answer: Any) -> Result:
    db._conn = Checked(db.conn, answer)  # type: ignore[assignment]
    return db.run(batch(check=True, next_id=db.next_id))


def test_a_check_that_cannot_run_is_not_damage(path: Path) -> None:
    db = filled(path, [received(1, A)])
    assert checked(db, coded(sqlite3.SQLITE_BUSY)).corrupt is None
    assert ids(db) == [1]


def test_a_check_that_finds_damage_sets_it_aside_and_says_what(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = filled(path, [received(1, A)])
    db.run(batch(meta={"usage": '{"day": "2026-12-03"}'}, next_id=2))
    problems = [(f"row {n} missing from index",) for n in range(1, 5)]
    with caplog.at_level(logging.ERROR):
        result = checked(db, problems)
    assert result.corrupt is not None
    log = caplog.text
    assert "row 1 missing from index; row 2 missing from index; row 3" in log
    assert "row 4" not in log
    # The fresh database keeps what memory holds (meta), with its own rows line.
    db.close()
    fresh = Database(path)
    opened = fresh.open()
    assert opened.meta["usage"] == {"day": "2026-12-03"}
    assert (opened.next_id, fresh.count, fresh.pruned_below) == (2, 0, 2)


def test_a_check_failing_as_damage_says_what(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = filled(path, [received(1, A)])
    with caplog.at_level(logging.ERROR):
        assert checked(db, coded(sqlite3.SQLITE_CORRUPT)).corrupt is not None
    assert "is damaged (database is locked)" in caplog.text


def test_the_log_moves_aside_with_its_database(path: Path) -> None:
    """SQLite would replay a -wal left behind into the fresh database."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").write_bytes(b"damaged" + suffix.encode())
    aside = Database(path)._set_aside("a test")
    for suffix in ("", "-wal", "-shm"):
        assert Path(f"{aside}{suffix}").read_bytes() == b"damaged" + suffix.encode()


# --- conversations with rows beyond the size, not deleted yet -------------------------


def test_conversations_count_only_what_is_visible(path: Path) -> None:
    rows = [received(1, A, "2026-12-01T09:00"), received(2, A, "2026-12-01T09:01")]
    rows += [received(3, B, "2026-12-01T08:00"), received(4, C, "2026-12-01T07:00")]
    db = filled(path, rows)
    db.floor = 2
    assert [(c["number"], c["count"]) for c in db.conversations(None, 3)] == [
        (A, 1),
        (B, 1),
        (C, 1),
    ]


def test_a_conversation_entirely_hidden_is_left_out(path: Path) -> None:
    rows = [received(1, A, "2026-12-01T09:00"), received(2, B, "2026-12-01T08:00")]
    rows.append(received(3, C, "2026-12-01T07:00"))
    db = filled(path, rows)
    db.floor = 2
    assert [c["number"] for c in db.conversations(None, 10)] == [B, C]


def test_a_check_that_reads_no_database_says_what(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = filled(path, [received(1, A)])
    with caplog.at_level(logging.ERROR):
        result = checked(db, sqlite3.DatabaseError("file is not a database"))
    assert result.corrupt is not None
    assert "is damaged (file is not a database)" in caplog.text


def test_a_search_of_neither_digits_nor_letters_is_text(path: Path) -> None:
    db = filled(path, [received(1, A), received(2, B)])
    db.run(batch(insert(received(3, C)), next_id=4))
    db.conn.execute("UPDATE messages SET body = 'ok?' WHERE id = 3")
    assert [c["number"] for c in db.conversations("?", 10)] == [C]
    assert db.conversations("!!", 10) == []
