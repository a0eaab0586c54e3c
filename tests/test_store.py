"""The SQLite message store: migration, corruption, text, queries, retention."""

from __future__ import annotations

import asyncio
from contextlib import closing
from datetime import timedelta
import json
from pathlib import Path
import sqlite3
import threading
import time
from typing import Any
from unittest.mock import ANY, patch

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.actio_sms.actio import (
    DeliveryReport,
    DeliveryStatus,
    InboundMessage,
    utc_now_iso,
)
from custom_components.actio_sms.const import DOMAIN
from custom_components.actio_sms.store import (
    Database,
    MessageStore,
    SendOutcome,
    StoreWriteError,
    db_path,
    journal_path,
    legacy_journal_path,
    parse_cursor,
    record_of,
    row_of,
    storable,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.json import json_bytes
from homeassistant.util import dt as dt_util
from homeassistant.util.json import json_loads

from .conftest import SENDER, WEBHOOK_ID, Setup, Sim, actio_entry, sms

URL = f"/api/webhook/{WEBHOOK_ID}"
ENTRY = "01JSTORETESTENTRY0000000000"
MOM, DAD, AUNT = "48600100200", "48600100201", "48600100202"
T0 = "2026-11-20T12:00:00.000+00:00"


def TODAY() -> str:  # noqa: N802 - reads as the constant it stands for
    return dt_util.now().date().isoformat()


async def opened(
    hass: HomeAssistant, size: int = 1000, days: int = 30, entry_id: str = ENTRY
) -> MessageStore:
    """A store as a (re)started Home Assistant reads it."""
    store = MessageStore(hass, entry_id, size, days)
    await store.async_load()
    return store


def inbound(body: str, sender: str = MOM, at: str | None = None) -> InboundMessage:
    return InboundMessage(sender, SENDER, body, at or utc_now_iso())


def outcome(recipient: str, message_id: str | None, **kwargs: Any) -> SendOutcome:
    return SendOutcome(recipient, message_id, 1, **kwargs)


async def bodies(store: MessageStore, number: str | None = None) -> list[str]:
    """Bodies, oldest first."""
    return [r["body"] for r in reversed(await store.query(None, number, 1000))]


def read_db(path: Path, sql: str) -> list[Any]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


# --- what a row and an intent hold ---------------------------------------------------


@pytest.mark.parametrize(
    "sent",
    [
        SendOutcome(
            MOM,
            "msg_01JD6Z3Q8Y4F5V2K7M9N0P1R2S",
            2,
            DeliveryStatus.UNCONFIRMED,
            "k1",
            "2026-12-24T18:00:00+01:00",
            "Dom",
        ),
        SendOutcome(MOM, None, 1),
    ],
)
def test_an_outcome_reads_back_as_it_was_noted(sent: SendOutcome) -> None:
    assert SendOutcome.from_journal(json_loads(json_bytes(sent.as_journal()))) == sent


def test_0_2_outcomes_were_lists() -> None:
    assert SendOutcome.from_journal([MOM, None, 2]) == SendOutcome(MOM, None, 2)
    assert SendOutcome.from_journal([MOM, 12345, 1]) == SendOutcome(MOM, "12345", 1)


@pytest.mark.parametrize(
    ("record", "extra"),
    [
        (
            {
                "direction": "sent",
                "message_id": "m1",
                "recipient": MOM,
                "body": "hej",
                "parts": 1,
                "sent_at": T0,
                "status": DeliveryStatus.FAILED,
                "status_at": "2026-11-20T12:01:00.000+00:00",
                "reason": "absent",
            },
            '{"reason":"absent"}',
        ),
        (
            {
                "direction": "sent",
                "message_id": None,
                "recipient": MOM,
                "body": "hej",
                "parts": 1,
                "sent_at": T0,
                "status": DeliveryStatus.PENDING,
                "status_at": None,
            },
            None,
        ),
        (
            {
                "direction": "received",
                "from": "Dom",
                "to": SENDER,
                "body": "hej",
                "received_at": T0,
            },
            None,
        ),
    ],
)
def test_a_record_reads_back_from_its_row(
    record: dict[str, Any], extra: str | None
) -> None:
    row = row_of(7, record, unread=True)
    assert row[10] == extra  # only what has no column of its own
    assert record_of(row[:11]) == record


# --- migration from 0.2/0.3 ---------------------------------------------------------


def v02_files(hass: HomeAssistant, hass_storage: dict[str, Any]) -> None:
    """A 0.2-era snapshot and a journal with lines it does not hold yet."""
    hass_storage[f"{DOMAIN}.{ENTRY}"] = {
        "version": 1,
        "key": f"{DOMAIN}.{ENTRY}",
        "data": {
            "counters": {"received": 1, "sent": 2, "delivered": 0, "failed": 1},
            "last_received": {
                "direction": "received",
                "from": MOM,
                "to": SENDER,
                "body": "before",
                "received_at": T0,
            },
            "last_sent": None,
            "last_delivery": {
                "message_id": "bbbb",
                "status": "error",
                "status_at": T0,
            },
            "records": [
                {
                    "direction": "received",
                    "from": MOM,
                    "to": SENDER,
                    "body": "before",
                    "received_at": T0,
                },
                # Skipped; the records after it are still moved.
                {"direction": "sideways", "body": "not a record"},
                {
                    "direction": "sent",
                    "message_id": "aaaa",
                    "recipient": DAD,
                    "body": "pending one",
                    "parts": 1,
                    "sent_at": T0,
                    "status": "pending",
                    "status_at": None,
                },
                {
                    "direction": "sent",
                    "message_id": "bbbb",
                    "recipient": DAD,
                    "body": "failed one",
                    "parts": 1,
                    "sent_at": T0,
                    "status": "error",
                    "status_at": T0,
                },
            ],
            "inflight": [{"batch": "b0", "outcomes": [{"no": "recipient"}]}],
            "usage": {
                "day": "2026-11-20",
                "day_parts": 2,
                "month": "2026-11",
                "month_parts": 2,
            },
            "seq": 2,
        },
    }
    lines = [
        # Already in the snapshot (seq <= 2): not replayed, though readable.
        {
            "seq": 1,
            "op": "received",
            "record": {"from": MOM, "to": SENDER, "body": "x", "received_at": T0},
        },
        {
            "seq": 2,
            "op": "delivery",
            "message_id": "bbbb",
            "status": "delivered",
            "at": T0,
        },
        {
            "seq": 3,
            "op": "received",
            "record": {
                "direction": "received",
                "from": AUNT,
                "to": SENDER,
                "body": "after the snapshot",
                "received_at": "2026-11-20T12:05:00.000+00:00",
            },
        },
        {
            "seq": 4,
            "op": "delivery",
            "message_id": "aaaa",
            "status": "delivered",
            "at": "2026-11-20T12:06:00.000+00:00",
        },
        {
            "seq": 5,
            "op": "intent",
            "batch": "b1",
            "outcomes": [
                {
                    "recipient": AUNT,
                    "message_id": None,
                    "parts": 1,
                    "status": "pending",
                    "idempotency_key": "k1",
                }
            ],
            "body": "never answered",
            "sent_at": "2026-11-20T12:07:00.000+00:00",
        },
        # 0.2's outcomes: [recipient, id, parts].
        {
            "seq": 6,
            "op": "sent",
            "outcomes": [[MOM, "cccc", 2]],
            "body": "old style",
            "sent_at": "2026-11-20T12:08:00.000+00:00",
        },
        {
            "seq": 7,
            "op": "delivery",
            "message_id": "cccc",
            "status": "error",
            "at": "2026-11-20T12:09:00.000+00:00",
            "reason": "absent",
        },
        {"seq": 8, "op": "mystery"},
        {
            "seq": 9,
            "op": "intent",
            "batch": "b2",
            "outcomes": [{"recipient": AUNT, "message_id": None, "parts": 1}],
            "body": "answered",
            "sent_at": "2026-11-20T12:10:00.000+00:00",
        },
        {
            "seq": 10,
            "op": "sent",
            "batch": "b2",
            "outcomes": [
                {
                    "recipient": AUNT,
                    "message_id": "dddd",
                    "parts": 1,
                    "scheduled_at": "2026-11-21T08:00:00+01:00",
                    "sender": "Dom",
                }
            ],
            "body": "answered",
            "sent_at": "2026-11-20T12:10:00.000+00:00",
        },
        # Not a reported status: skipped.
        {"seq": 11, "op": "delivery", "message_id": "dddd", "status": "pending"},
    ]
    text = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    path = legacy_journal_path(hass, ENTRY)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text + b'{"seq": 12, "op": "received", "rec')  # torn by a kill


EXPECTED = [
    ("received", MOM, "before", None),
    ("sent", DAD, "pending one", "delivered"),
    ("sent", DAD, "failed one", "failed"),
    ("received", AUNT, "after the snapshot", None),
    ("sent", MOM, "old style", "failed"),
    ("sent", AUNT, "answered", "pending"),
    ("sent", AUNT, "never answered", "unconfirmed"),
]


def summary(records: list[Any]) -> list[tuple[str, str, str, str | None]]:
    return [
        (
            r["direction"],
            r["from"] if r["direction"] == "received" else r["recipient"],
            r["body"],
            r.get("status"),
        )
        for r in reversed(records)
    ]


async def test_v02_files_move_into_the_database_losslessly(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    freezer.move_to("2026-11-20T13:00:00+00:00")
    await hass.async_add_executor_job(v02_files, hass, hass_storage)
    # 0.3 wrote the journal through a temporary file a kill may have left.
    leftover = legacy_journal_path(hass, ENTRY).with_suffix(".tmp")
    await hass.async_add_executor_job(leftover.write_bytes, b"{")
    store = await opened(hass)
    assert not await hass.async_add_executor_job(leftover.exists)
    records = await store.query(None, None, 100)
    assert summary(records) == EXPECTED
    by_body = {r["body"]: r for r in records}
    assert by_body["pending one"]["status_at"] == "2026-11-20T12:06:00.000+00:00"
    assert by_body["old style"]["parts"] == 2
    assert by_body["old style"]["reason"] == "absent"  # type: ignore[typeddict-item]
    assert by_body["never answered"]["message_id"] is None
    assert by_body["never answered"]["idempotency_key"] == "k1"  # type: ignore[typeddict-item]
    answered: Any = by_body["answered"]
    assert (answered["scheduled_at"], answered["sender"]) == (
        "2026-11-21T08:00:00+01:00",
        "Dom",
    )
    replayed: Any = by_body["after the snapshot"]
    assert (replayed["to"], replayed["received_at"]) == (
        SENDER,
        "2026-11-20T12:05:00.000+00:00",
    )
    assert store.counters == {"received": 2, "sent": 5, "delivered": 1, "failed": 2}
    assert store.usage == {
        "day": "2026-11-20",
        "day_parts": 6,
        "month": "2026-11",
        "month_parts": 6,
    }
    assert store.last_received is not None
    assert store.last_received["body"] == "after the snapshot"
    assert store.last_delivery is not None
    assert store.last_delivery["status"] is DeliveryStatus.FAILED
    assert store.last_delivery["body"] == "old style"  # type: ignore[typeddict-item]
    assert store.last_sent is not None
    assert store.last_sent["body"] == "never answered"
    assert "Skipped an unreadable line of the message journal" in caplog.text
    assert "Skipped an unreadable entry of the message journal" in caplog.text
    assert "Skipped an unreadable send of the message store" in caplog.text
    # The old files are gone, after the commit.
    assert f"{DOMAIN}.{ENTRY}" not in hass_storage
    assert not await hass.async_add_executor_job(
        legacy_journal_path(hass, ENTRY).exists
    )
    # A restart reads the same, once.
    again = await opened(hass)
    assert summary(await again.query(None, None, 100)) == EXPECTED
    assert again.counters == store.counters
    assert again.usage == store.usage
    assert again.last_delivery == store.last_delivery
    assert len(again) == 7
    # Migrated history is read; conversations are there.
    conversations = await again.conversations(None, 10)
    assert {(c["number"], c["count"], c["unread"]) for c in conversations} == {
        (MOM, 2, 0),
        (DAD, 2, 0),
        (AUNT, 3, 0),
    }


async def test_old_files_stay_until_the_database_committed(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A failed first commit keeps them; the next start migrates."""
    await hass.async_add_executor_job(v02_files, hass, hass_storage)
    full = sqlite3.OperationalError("database or disk is full")
    store = MessageStore(hass, ENTRY, 1000, 30)
    with (
        patch.object(Database, "_transaction", side_effect=full),
        pytest.raises(StoreWriteError, match=r"^Could not move the 0\.3 message log$"),
    ):
        await store.async_load()
    assert not store.loaded
    assert f"{DOMAIN}.{ENTRY}" in hass_storage
    assert await hass.async_add_executor_job(legacy_journal_path(hass, ENTRY).exists)
    await store.async_load()
    assert summary(await store.query(None, None, 100)) == EXPECTED
    assert f"{DOMAIN}.{ENTRY}" not in hass_storage


async def test_old_files_left_by_a_kill_after_the_commit_are_not_read_again(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    await hass.async_add_executor_job(v02_files, hass, hass_storage)
    await opened(hass)
    # As if killed after the commit, before the files were removed.
    await hass.async_add_executor_job(v02_files, hass, hass_storage)
    store = await opened(hass)
    assert len(store) == 7
    assert store.counters["received"] == 2
    assert f"{DOMAIN}.{ENTRY}" not in hass_storage
    assert not await hass.async_add_executor_job(
        legacy_journal_path(hass, ENTRY).exists
    )


def write_journal_line(hass: HomeAssistant) -> None:
    line = {
        "seq": 1,
        "op": "received",
        "record": {"from": MOM, "to": SENDER, "body": "only", "received_at": T0},
    }
    path = legacy_journal_path(hass, ENTRY)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(json.dumps(line).encode() + b"\n")


async def test_a_journal_alone_is_migrated(hass: HomeAssistant) -> None:
    """0.3 killed before its first snapshot: only the journal exists."""
    await hass.async_add_executor_job(write_journal_line, hass)
    store = await opened(hass)
    assert await bodies(store) == ["only"]
    assert store.counters["received"] == 1


def v02_snapshot_only(hass_storage: dict[str, Any], **data: Any) -> None:
    hass_storage[f"{DOMAIN}.{ENTRY}"] = {
        "version": 1,
        "key": f"{DOMAIN}.{ENTRY}",
        "data": data,
    }


async def test_a_snapshot_alone_keeps_its_last_values(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """No journal line to overwrite them: the snapshot's own last_* are kept;
    a counter the file lacks is 0; a sent record keeps what a report needs."""
    last_received = {
        "direction": "received",
        "from": MOM,
        "to": SENDER,
        "body": "hello",
        "received_at": T0,
    }
    last_sent = {
        "direction": "sent",
        "message_id": "aaaa",
        "recipient": DAD,
        "body": "sent one",
        "parts": 1,
        "sent_at": T0,
        "status": "pending",
    }
    v02_snapshot_only(
        hass_storage,
        counters={"received": 1, "sent": 1},
        last_received=last_received,
        last_sent=last_sent,
        last_delivery={"message_id": "zzzz", "status": "error", "status_at": T0},
        records=[last_received, last_sent],
        seq=4,
    )
    store = await opened(hass)
    assert store.counters == {"received": 1, "sent": 1, "delivered": 0, "failed": 0}
    assert store.last_received == last_received
    assert store.last_sent is not None
    assert store.last_sent["body"] == "sent one"
    assert store.last_delivery is not None
    assert store.last_delivery["status"] is DeliveryStatus.FAILED
    # Our own number's received SMS are found by it.
    assert await bodies(store, SENDER) == ["hello"]
    # A report after the move still finds its SMS.
    assert store.knows("aaaa")
    [sent] = await store.query("sent", None, 10)
    assert (sent["recipient"], sent["status"]) == (DAD, "pending")


async def test_a_snapshot_without_seq_replays_the_whole_journal(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    v02_snapshot_only(hass_storage, records=[])
    await hass.async_add_executor_job(write_journal_line, hass)
    store = await opened(hass)
    assert await bodies(store) == ["only"]


def sent_record(message_id: str, recipient: str, body: str, **more: Any) -> Any:
    return {
        "direction": "sent",
        "message_id": message_id,
        "recipient": recipient,
        "body": body,
        "parts": 1,
        "sent_at": T0,
        **more,
    }


async def test_reports_after_the_move_find_their_sms(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """The sends a report may still come for are at hand after the move: the
    newest ones, and older ones the journal has a report for; a record
    without a status is pending; records that are no sends are skipped."""
    records = [
        sent_record("aaaa", DAD, "old one", status="failed"),
        sent_record("zzzz", DAD, "older still"),
        sent_record("bbbb", DAD, "no status"),
        sent_record("cccc", MOM, "done", status="delivered"),
        sent_record("dddd", MOM, "odd status", status="sideways"),
        {"direction": "sent", "message_id": "eeee", "body": "no recipient"},
    ]
    outcomes = [{"recipient": AUNT, "message_id": None, "parts": 1}]
    inflight = [
        {"batch": batch, "outcomes": outcomes, "body": batch, "sent_at": T0}
        for batch in ("b1", "b2")
    ]
    v02_snapshot_only(hass_storage, records=records, inflight=inflight, seq=0)
    line = {"seq": 1, "op": "delivery", "message_id": "aaaa", "status": "delivered"}

    def journal() -> None:
        path = legacy_journal_path(hass, ENTRY)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(json.dumps({**line, "at": T0}).encode() + b"\n")

    await hass.async_add_executor_job(journal)
    with (
        patch("custom_components.actio_sms.store.REPORTS_KEPT", 2),
        patch("custom_components.actio_sms.store.UNCONFIRMED_MATCH_WINDOW", 4),
    ):
        store = await opened(hass)
        last = store.last_delivery
        assert last is not None
        assert (last["recipient"], last["body"], last["sent_at"]) == (
            DAD,
            "old one",
            T0,
        )
        assert store.counters["delivered"] == 1
        logged = store.apply_delivery(report("bbbb", DeliveryStatus.DELIVERED))
        assert logged is not None
        assert (logged["recipient"], logged["body"]) == (DAD, "no status")
        # Delivered is final: a repeat tells nothing new.
        assert store.apply_delivery(report("cccc", DeliveryStatus.DELIVERED)) is None
        # Two newer sends: only the newest two are kept at hand.
        store.add_sent([outcome(MOM, "ffff")], "f", T0)
        store.add_sent([outcome(MOM, "gggg")], "g", T0)
        assert not store.knows("cccc")
    rows = {r["body"]: r["status"] for r in await store.query("sent", None, 100)}
    assert rows == {
        "old one": "delivered",
        "older still": "pending",
        "no status": "delivered",
        "done": "delivered",
        "b1": "unconfirmed",
        "b2": "unconfirmed",
        "f": "pending",
        "g": "pending",
    }


async def test_what_a_start_reads_back(hass: HomeAssistant) -> None:
    """Our own numbers, and a counter missing from the file reads as 0."""
    store = await opened(hass)
    store.add_received(inbound("late", at="2026-11-20T12:00:02.000+00:00"))
    store.add_received(inbound("early", at="2026-11-20T12:00:01.000+00:00"))
    await store.written
    await store._async_close()

    def spoil() -> None:
        with closing(sqlite3.connect(db_path(hass, ENTRY))) as conn, conn:
            conn.execute(
                "UPDATE meta SET value = '{\"received\": 2}' WHERE key = 'counters'"
            )

    await hass.async_add_executor_job(spoil)
    store = await opened(hass)
    assert store.counters == {"received": 2, "sent": 0, "delivered": 0, "failed": 0}
    # By the number that received them; a counterpart's newest by time first.
    assert await bodies(store, SENDER) == ["late", "early"]
    assert [r["body"] for r in await store.query(None, MOM, 10)] == ["late", "early"]
    # A usage line of today without its parts: none yet.
    store.usage = store._usage_of({"day": TODAY(), "month": TODAY()[:7]})
    assert (store.parts_today(), store.parts_this_month()) == (0, 0)
    record = store.add_received(inbound("known"))
    assert "unknown_number" not in record
    assert store.add_received(inbound("?"), unknown_number=True)["unknown_number"]
    store.add_sent([outcome(DAD, "d1")], "mine", T0)
    [dad] = [c for c in await store.conversations(None, 10) if c["number"] == DAD]
    assert dad["unread"] == 0


async def test_only_as_many_as_the_size_move(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    records = [
        {
            "direction": "received",
            "from": MOM,
            "to": SENDER,
            "body": f"n{i}",
            "received_at": T0,
        }
        for i in range(3)
    ]
    v02_snapshot_only(hass_storage, records=records)
    store = await opened(hass, size=1)
    assert await bodies(store) == ["n2"]


# --- corruption -----------------------------------------------------------------------


def asides(hass: HomeAssistant, entry_id: str) -> list[Path]:
    path = db_path(hass, entry_id)
    return sorted(path.parent.glob(f"{path.name}.corrupt-*"))


async def test_a_file_that_is_no_database_is_set_aside(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    hass_client_no_auth,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Moved aside, a repair issue, a fresh database: SMS still arrive."""
    entry = actio_entry(simulator.url)
    path = db_path(hass, entry.entry_id)

    def damage() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"this is not a database " * 200)

    await hass.async_add_executor_job(damage)
    await setup_entry(entry)
    [aside] = await hass.async_add_executor_job(asides, hass, entry.entry_id)
    assert (await hass.async_add_executor_job(aside.read_bytes)).startswith(
        b"this is not"
    )
    issue = issue_registry.async_get_issue(DOMAIN, f"store_corrupt_{entry.entry_id}")
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders == {"title": SENDER, "path": str(aside)}
    client = await hass_client_no_auth()
    assert (await client.post(URL, json=sms("still received"))).status == 200
    assert await bodies(await opened(hass, entry_id=entry.entry_id)) == [
        "still received"
    ]


def test_each_damaged_file_is_set_aside_whole_under_its_own_name(
    tmp_path: Path,
) -> None:
    """The database and its -shm move together; a second damage in the same
    second gets its own name rather than replacing the first."""
    path = tmp_path / "actio_sms.db"
    second = time.struct_time((2026, 12, 3, 7, 40, 0, 3, 337, 0))
    found = []
    with patch("custom_components.actio_sms.store.time.gmtime", return_value=second):
        for n in range(3):
            path.write_bytes(b"not a database " * 300)
            Path(f"{path}-shm").write_bytes(b"shm %d" % n)
            db = Database(path)
            found.append(db.open().corrupt)
            assert db.count == 0
            db.close()
    base = "actio_sms.db.corrupt-20261203T074000Z"
    assert [aside.name for aside in found if aside] == [base, f"{base}-1", f"{base}-2"]
    for n, aside in enumerate(found):
        assert aside is not None
        assert aside.read_bytes().startswith(b"not a database")
        assert Path(f"{aside}-shm").read_bytes() == b"shm %d" % n


async def test_a_damaged_page_is_found_by_the_check_after_loading(
    hass: HomeAssistant, issue_registry: ir.IssueRegistry
) -> None:
    """quick_check runs first after the load: the damage is set aside at once."""
    entry = MockConfigEntry(domain=DOMAIN, entry_id=ENTRY, title="Mine")
    entry.add_to_hass(hass)
    store = await opened(hass)
    for i in range(300):
        store.add_received(inbound(f"message number {i} " * 4))
    store.set_state("kept", 1)
    await store.async_flush()
    counters = dict(store.counters)
    await store._async_close()
    path = db_path(hass, ENTRY)

    def damage() -> None:
        # The last pages hold index entries loading does not read.
        size = path.stat().st_size
        with path.open("r+b") as file:
            file.seek(size - 3 * 1024)
            file.write(b"\xff" * 2048)

    await hass.async_add_executor_job(damage)
    store = await opened(hass)
    await store.async_flush()
    assert len(await hass.async_add_executor_job(asides, hass, ENTRY)) == 1
    assert issue_registry.async_get_issue(DOMAIN, f"store_corrupt_{ENTRY}")
    # What memory held is kept (the counters go on); the history starts afresh.
    assert store.counters == counters
    store.add_received(inbound("after the damage"))
    await store.written
    again = await opened(hass)
    assert await bodies(again) == ["after the damage"]
    assert again.counters["received"] == counters["received"] + 1
    assert await again.async_get_state("kept") is None


async def test_corruption_reported_by_a_commit_starts_a_fresh_database(
    hass: HomeAssistant,
) -> None:
    """SQLite says "malformed" mid-way: set aside, the batch committed afresh."""
    store = await opened(hass)
    store.add_received(inbound("before"))
    await store.written
    malformed = sqlite3.DatabaseError("database disk image is malformed")
    malformed.sqlite_errorcode = sqlite3.SQLITE_CORRUPT
    original = Database._transaction
    calls = 0

    def once_malformed(self: Database, *args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise malformed
        original(self, *args, **kwargs)

    with patch.object(Database, "_transaction", once_malformed):
        store.add_received(inbound("during"))
        await store.written
    assert len(await hass.async_add_executor_job(asides, hass, ENTRY)) == 1
    assert await bodies(await opened(hass)) == ["during"]


async def test_an_unopenable_database_is_an_error_not_a_reset(
    hass: HomeAssistant,
) -> None:
    """Not writable (here: a directory in its place) is not corruption."""
    path = db_path(hass, ENTRY)
    await hass.async_add_executor_job(lambda: path.mkdir(parents=True))
    store = MessageStore(hass, ENTRY, 1000, 30)
    with pytest.raises(StoreWriteError, match="Could not open the message store"):
        await store.async_load()
    assert not store.loaded
    assert await hass.async_add_executor_job(asides, hass, ENTRY) == []


async def test_unreadable_values_are_skipped_not_fatal(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    store = await opened(hass)
    store.add_received(inbound("kept"))
    await store.written
    await store._async_close()

    def spoil() -> None:
        with closing(sqlite3.connect(db_path(hass, ENTRY))) as conn, conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('usage', '{')")
            conn.execute("INSERT INTO intents VALUES ('x', 'not json')")
            conn.execute("DELETE FROM meta WHERE key = 'rows'")

    await hass.async_add_executor_job(spoil)
    store = await opened(hass)
    assert await bodies(store) == ["kept"]
    assert len(store) == 1
    assert store.counters["received"] == 1
    assert "Skipped an unreadable usage of the message store" in caplog.text
    assert "Skipped an unreadable send of the message store" in caplog.text


# --- text that cannot be stored as it came ---------------------------------------------


async def test_a_lone_surrogate_is_stored_and_blocks_nothing(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    entry = await setup_entry(actio_entry(simulator.url))
    client = await hass_client_no_auth()
    # aiohttp's JSON escapes it as \ud800: ACTIO's posts can carry one.
    assert (await client.post(URL, json=sms("bad \ud800 text"))).status == 200
    assert (await client.post(URL, json=sms("normal"))).status == 200
    # A restart: both are in the history.
    await hass.config_entries.async_unload(entry.entry_id)
    store = await opened(hass, entry_id=entry.entry_id)
    assert await bodies(store) == ["bad \ufffd text", "normal"]


def test_storable() -> None:
    assert storable("plain") == "plain"
    assert storable("zażółć") == "zażółć"
    assert storable("a\ud800b\udfffc") == "a\ufffdb\ufffdc"
    # A pair split in two code points is joined, not replaced.
    assert storable("\ud83d\ude00") == "\N{GRINNING FACE}"


async def test_one_failing_change_does_not_block_the_others(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    store = await opened(hass)
    store.add_received(inbound("first"))
    first = store.written
    # A row that cannot be (its id taken by the first): IntegrityError.
    bad = store._write_op(
        lambda db: db.conn.execute(
            "INSERT INTO messages (id, sent, number, at, body) VALUES (1, 0, '', '', '')"
        )
    )
    store.add_received(inbound("last"))
    assert first is not None
    await first
    with pytest.raises(StoreWriteError, match="UNIQUE constraint failed"):
        await bad
    await store.written
    assert await bodies(await opened(hass)) == ["first", "last"]
    assert "Could not keep a change in the message store" in caplog.text


async def test_a_failing_job_fails_its_callers(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    store = await opened(hass)
    store.add_received(inbound("before"))
    await store.written
    with patch.object(Database, "run", side_effect=RuntimeError("boom")):
        store.add_received(inbound("lost"))
        with pytest.raises(StoreWriteError, match=r"^boom$"):
            await store.written
        with pytest.raises(RuntimeError):
            await store.query(None, None, 1)
    assert "The message store failed" in caplog.text
    # What was committed before is still counted.
    assert len(store) == 1
    store.add_received(inbound("kept"))
    await store.written
    assert await bodies(store) == ["before", "kept"]
    with pytest.raises(ZeroDivisionError):
        await store._async_read(lambda db: 1 / 0)


async def test_a_value_json_cannot_hold_is_logged(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    store = await opened(hass)
    store.last_sent = {"body": object()}  # type: ignore[typeddict-item]
    store._dirty.add("last_sent")
    await store.async_flush()
    assert "Could not keep last_sent in the message store" in caplog.text


# --- delivery reports ---------------------------------------------------------------------


def report(message_id: str, status: DeliveryStatus, **kwargs: Any) -> DeliveryReport:
    return DeliveryReport(message_id, status, **kwargs)  # type: ignore[arg-type]


async def test_reports_update_one_row_and_repeats_are_ignored(
    hass: HomeAssistant,
) -> None:
    store = await opened(hass)
    # Sent now: read back at a start for the reports still to come.
    store.add_sent([outcome(MOM, "m1"), outcome(DAD, "m2")], "hello", utc_now_iso())
    logged = store.apply_delivery(report("m1", DeliveryStatus.FAILED, reason="x"))
    assert logged is not None
    assert logged["recipient"] == MOM  # type: ignore[typeddict-item]
    assert store.apply_delivery(report("m1", DeliveryStatus.FAILED)) is None
    assert store.apply_delivery(report("m1", DeliveryStatus.DELIVERED)) is not None
    assert store.apply_delivery(report("m1", DeliveryStatus.FAILED)) is None
    await store.written
    assert store.counters == {"received": 0, "sent": 2, "delivered": 1, "failed": 1}
    again = await opened(hass)
    sent = {r["message_id"]: r for r in await again.query("sent", None, 10)}
    assert sent["m1"]["status"] is DeliveryStatus.DELIVERED
    assert sent["m1"]["reason"] == "x"  # type: ignore[typeddict-item]
    assert sent["m2"]["status"] is DeliveryStatus.PENDING
    assert await again.count_by_status() == {"delivered": 1, "pending": 1}
    # After a restart, a repeat is still a repeat.
    assert again.apply_delivery(report("m1", DeliveryStatus.DELIVERED)) is None


async def test_a_report_before_its_send_is_parked_bounded_and_expiring(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    store = await opened(hass)
    with patch("custom_components.actio_sms.store.UNKNOWN_REPORTS_KEPT", 3):
        for n in range(5):
            assert store.apply_delivery(report(f"early{n}", DeliveryStatus.DELIVERED))
    assert len(store._parked) == 3  # a flood of random ids stays bounded
    store.add_sent([outcome(MOM, "early0"), outcome(MOM, "early4")], "x", T0)
    assert store.apply_delivery(report("later", DeliveryStatus.FAILED))
    freezer.tick(timedelta(hours=7))
    store.add_sent([outcome(DAD, "later")], "y", T0)
    await store.written
    status = {r["message_id"]: r["status"] for r in await store.query("sent", None, 10)}
    assert status == {
        "early0": DeliveryStatus.PENDING,  # pushed out by newer ones
        "early4": DeliveryStatus.DELIVERED,  # applied once its id appeared
        "later": DeliveryStatus.PENDING,  # expired: hours, not forever
    }


async def test_a_report_for_an_older_send_updates_its_row(
    hass: HomeAssistant,
) -> None:
    """Beyond the sends kept at hand, the row is updated by its id."""
    with patch("custom_components.actio_sms.store.REPORTS_KEPT", 1):
        store = await opened(hass)
        store.add_sent([outcome(MOM, "old"), outcome(DAD, "new")], "x", T0)
        logged = store.apply_delivery(
            report("old", DeliveryStatus.DELIVERED, operator="Orange")
        )
    assert logged is not None
    assert "recipient" not in logged  # not at hand: the event names no SMS
    await store.written
    rows = {r["message_id"]: r for r in await store.query("sent", None, 10)}
    assert {k: r["status"] for k, r in rows.items()} == {
        "old": DeliveryStatus.DELIVERED,
        "new": DeliveryStatus.PENDING,
    }
    assert rows["old"]["operator"] == "Orange"  # type: ignore[typeddict-item]
    # After a restart, nothing of it in memory: a later report still never
    # takes "delivered" back.
    with patch("custom_components.actio_sms.store.REPORTS_KEPT", 1):
        again = await opened(hass)
        again.apply_delivery(report("old", DeliveryStatus.FAILED))
    await again.written
    [old] = [r for r in await again.query("sent", None, 10) if r["message_id"] == "old"]
    assert old["status"] is DeliveryStatus.DELIVERED


async def test_a_live_report_adopts_the_newest_unconfirmed_sms_to_its_number(
    hass: HomeAssistant,
) -> None:
    store = await opened(hass)
    unconfirmed = DeliveryStatus.UNCONFIRMED
    now = utc_now_iso()
    store.add_sent([outcome(MOM, None, status=unconfirmed)], "older", now)
    store.add_sent([outcome(MOM, None, status=unconfirmed)], "newer", now)
    store.add_sent([outcome(DAD, None, status=unconfirmed)], "dad's", now)
    logged = store.apply_delivery(
        report("live1", DeliveryStatus.DELIVERED, recipient=MOM)
    )
    assert logged is not None
    assert logged["body"] == "newer"  # type: ignore[typeddict-item]
    # Nobody unconfirmed to that number: nothing adopted.
    assert store.apply_delivery(
        report("live2", DeliveryStatus.DELIVERED, recipient=AUNT)
    )
    await store.written
    again = await opened(hass)
    rows = [(r["body"], r["message_id"], r["status"]) for r in await bodies_of(again)]
    assert rows == [
        ("older", None, unconfirmed),
        ("newer", "live1", DeliveryStatus.DELIVERED),
        ("dad's", None, unconfirmed),
    ]
    # Read back at a restart, the adopted one is known by its id.
    assert again.apply_delivery(report("live1", DeliveryStatus.DELIVERED)) is None


async def bodies_of(store: MessageStore) -> list[Any]:
    return list(reversed(await store.query("sent", None, 100)))


def unconfirmed(recipient: str) -> SendOutcome:
    return outcome(recipient, None, status=DeliveryStatus.UNCONFIRMED)


async def test_reports_adopt_unconfirmed_sms_within_the_window(
    hass: HomeAssistant,
) -> None:
    """The window counts ids back from the newest; its oldest id is in it; a
    restart or deleting another conversation loses none of the candidates."""
    with patch("custom_components.actio_sms.store.UNCONFIRMED_MATCH_WINDOW", 2):
        store = await opened(hass)
        store.add_sent([unconfirmed(DAD)], "to dad", utc_now_iso())  # id 1
        store.add_sent([unconfirmed(MOM)], "to mom", utc_now_iso())  # id 2
        store.add_received(inbound("hi"))  # id 3: the window starts at 2
        await store.written
        again = await opened(hass)
        await again.delete_conversation(AUNT)
        # No SMS to this number: the walk drops what is out of the window.
        assert again.apply_delivery(
            report("x1", DeliveryStatus.DELIVERED, recipient=AUNT)
        ) == {"message_id": "x1", "status": "delivered", "status_at": ANY}
        logged = again.apply_delivery(
            report("x2", DeliveryStatus.DELIVERED, recipient=MOM)
        )
        assert logged is not None
        assert logged["body"] == "to mom"
        # Exactly as many as the window holds are kept.
        again.add_sent([unconfirmed(MOM)], "one", T0)
        again.add_sent([unconfirmed(DAD)], "two", T0)
        await again.delete_conversation(AUNT)
        logged = again.apply_delivery(
            report("x3", DeliveryStatus.DELIVERED, recipient=MOM)
        )
        assert logged is not None
        assert logged["body"] == "one"


async def test_what_a_report_keeps(hass: HomeAssistant) -> None:
    """Its details made storable, its id and time, and a failure counted once
    however it is worded (failed, then expired)."""
    store = await opened(hass)
    store.add_sent([outcome(MOM, "m1")], "x", T0)
    logged = store.apply_delivery(
        report("m1", DeliveryStatus.FAILED, reason="bad \ud800", segments=2)
    )
    assert logged is not None
    assert logged["message_id"] == "m1"
    assert logged["status_at"]
    assert logged["reason"] == "bad \ufffd"  # type: ignore[typeddict-item]
    assert logged["segments"] == 2  # type: ignore[typeddict-item]
    store.apply_delivery(report("m1", DeliveryStatus.EXPIRED))
    assert store.counters["failed"] == 1
    await store.written
    [row] = await store.query("sent", None, 10)
    assert row["reason"] == "bad \ufffd"  # type: ignore[typeddict-item]


async def test_what_a_start_does_with_a_store_left_as_is(hass: HomeAssistant) -> None:
    """Rows beyond a size lowered meanwhile are deleted, not only hidden; an
    intent that cannot be read is skipped once and removed."""
    store = await opened(hass)
    for n in range(5):
        store.add_received(inbound(f"n{n}"))
    await store.written
    await store._async_close()

    path = db_path(hass, ENTRY)
    store = await opened(hass, size=2)
    await store.async_flush()
    assert read_db(path, "SELECT body FROM messages") == [("n3",), ("n4",)]
    await store._async_close()

    def spoil() -> None:
        outcomes = [{"recipient": MOM, "message_id": None, "parts": 1}]
        intent = {"batch": "y", "outcomes": outcomes, "body": "b"}
        with closing(sqlite3.connect(path)) as conn, conn:
            conn.execute("INSERT INTO intents VALUES ('y', ?)", (json.dumps(intent),))

    await hass.async_add_executor_job(spoil)
    store = await opened(hass, size=2)
    await store.async_flush()
    assert read_db(path, "SELECT * FROM intents") == []
    assert len(await store.query("sent", None, 10)) == 0


async def test_a_write_while_closed_waits_for_the_next_open(
    hass: HomeAssistant,
) -> None:
    """A reload closes the store: what comes meanwhile is kept at reopening."""
    store = await opened(hass)
    await store._async_close()
    store.add_received(inbound("while closed"))
    written = store.written
    async with asyncio.timeout(5):
        await store.async_flush()  # while closed: nothing to wait for
    await store.async_load()
    await written
    assert await bodies(store) == ["while closed"]


async def test_a_close_waits_for_the_job_under_way(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    store = await opened(hass, size=100)
    for n in range(60):
        store.add_received(inbound(f"m{n}"))
    await store.written
    with patch("custom_components.actio_sms.store.PRUNE_CHUNK", 7):
        store.set_bounds(10, 30)
        await store.async_flush()
        await store._async_close()
    assert "Could not write the message store" not in caplog.text


async def test_a_read_during_a_close_waits_for_it_then_reopens(
    hass: HomeAssistant,
) -> None:
    """A panel query while a reload closes the store must not open the
    database under the close (which would then shut the new connection, or
    close it under a job still running)."""
    store = await opened(hass)
    store.add_received(inbound("kept"))
    await store.written
    gate = threading.Event()
    steps: list[str] = []
    real_close, real_open = store._db.close, store._db.open

    def slow_close() -> None:
        gate.wait(5)
        real_close()
        steps.append("closed")

    def tracked_open(max_size: int = 0) -> Any:
        steps.append("open")
        return real_open(max_size)

    with (
        patch.object(store._db, "close", slow_close),
        patch.object(store._db, "open", tracked_open),
    ):
        closing_task = asyncio.create_task(store._async_close())
        async with asyncio.timeout(5):
            while store.loaded:
                await asyncio.sleep(0)
        reading = asyncio.create_task(bodies(store))
        # Time for the read to reach the database if nothing holds it back.
        for _ in range(20):
            await asyncio.sleep(0.01)
        gate.set()
        async with asyncio.timeout(5):
            await closing_task
            assert await reading == ["kept"]
    assert steps[:2] == ["closed", "open"]
    store.add_received(inbound("after"))
    await store.written
    assert await bodies(store) == ["kept", "after"]


async def test_an_old_store_file_that_is_no_mapping_leaves_the_journal(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    hass_storage[f"{DOMAIN}.{ENTRY}"] = {"version": 1, "key": "x", "data": [1, 2]}
    await hass.async_add_executor_job(write_journal_line, hass)
    assert await bodies(await opened(hass)) == ["only"]


async def test_journal_sends_move_with_their_time_and_reports(
    hass: HomeAssistant,
) -> None:
    """A send whose intent the journal never had, and a live report naming
    the number of an unconfirmed one."""
    sent_line = {
        "seq": 1,
        "op": "sent",
        "batch": "gone",
        "outcomes": [
            {"recipient": MOM, "message_id": None, "parts": 1, "status": "unconfirmed"}
        ],
        "body": "lost answer",
        "sent_at": T0,
    }
    delivery = {
        "seq": 2,
        "op": "delivery",
        "message_id": "msg_1",
        "status": "delivered",
        "recipient": MOM,
        "at": T0,
    }

    def journal() -> None:
        path = legacy_journal_path(hass, ENTRY)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            b"".join(json.dumps(x).encode() + b"\n" for x in (sent_line, delivery))
        )

    await hass.async_add_executor_job(journal)
    store = await opened(hass)
    [row] = await store.query("sent", None, 10)
    assert (row["sent_at"], row["message_id"], row["status"]) == (
        T0,
        "msg_1",
        "delivered",
    )


async def test_an_intent_left_at_a_stop_is_read_back_unconfirmed(
    hass: HomeAssistant,
) -> None:
    store = await opened(hass)
    await store.add_intent(
        "batch1", [outcome(MOM, None, idempotency_key="k")], "mid-send", T0
    )
    store.add_intent("batch2", [outcome(DAD, None)], "answered", T0)
    store.resolve_intent("batch2", [outcome(DAD, "d1")])
    await store.written
    # Killed here; the next start:
    again = await opened(hass)
    await again.async_flush()
    sent = {r["body"]: r for r in await again.query("sent", None, 10)}
    assert sent["mid-send"]["status"] is DeliveryStatus.UNCONFIRMED
    assert sent["mid-send"]["idempotency_key"] == "k"  # type: ignore[typeddict-item]
    assert sent["answered"]["message_id"] == "d1"
    assert again.counters["sent"] == 2
    # Resolved once: not again at the next start.
    assert len(await (await opened(hass)).query("sent", None, 10)) == 2


# --- the inbox's queries -------------------------------------------------------------------


async def filled(hass: HomeAssistant) -> MessageStore:
    store = await opened(hass)
    store.add_received(inbound("mom one", MOM, "2026-11-20T10:00:00.000+00:00"))
    store.add_sent([outcome(MOM, "s1")], "to mom", "2026-11-20T10:01:00.000+00:00")
    store.add_received(inbound("dad one", DAD, "2026-11-20T10:02:00.000+00:00"))
    store.add_received(inbound("mom two", MOM, "2026-11-20T10:03:00.000+00:00"))
    store.add_received(inbound("Hello 50% off", AUNT, "2026-11-20T10:04:00.000+00:00"))
    store.add_received(inbound("mom three", MOM, "2026-11-20T10:05:00.000+00:00"))
    await store.written
    return store


async def test_conversations(hass: HomeAssistant) -> None:
    store = await filled(hass)
    conversations = await store.conversations(None, 10)
    assert conversations == [
        {
            "number": MOM,
            "last": {
                "direction": "received",
                "body": "mom three",
                "at": "2026-11-20T10:05:00.000+00:00",
            },
            "count": 4,
            "unread": 3,
        },
        {
            "number": AUNT,
            "last": {
                "direction": "received",
                "body": "Hello 50% off",
                "at": "2026-11-20T10:04:00.000+00:00",
            },
            "count": 1,
            "unread": 1,
        },
        {
            "number": DAD,
            "last": {
                "direction": "received",
                "body": "dad one",
                "at": "2026-11-20T10:02:00.000+00:00",
            },
            "count": 1,
            "unread": 1,
        },
    ]
    assert [c["number"] for c in await store.conversations(None, 1)] == [MOM]
    # By text (ASCII letters in any case, % literally) and by digits.
    assert [c["number"] for c in await store.conversations("hello 50%", 10)] == [AUNT]
    assert [c["number"] for c in await store.conversations("TO MOM", 10)] == [MOM]
    assert [c["number"] for c in await store.conversations("600 100 201", 10)] == [DAD]
    assert await store.conversations("nothing like it", 10) == []
    # "_" and "%" are themselves, not LIKE's wildcards.
    assert await store.conversations("hello 50_ off", 10) == []
    assert await store.conversations("o%o", 10) == []
    # Read, then deleted.
    assert await store.mark_read(MOM) == 3
    assert (await store.conversations(None, 1))[0]["unread"] == 0
    assert await store.delete_conversation(DAD) == 1
    assert [c["number"] for c in await store.conversations(None, 10)] == [MOM, AUNT]
    assert len(store) == 5
    again = await opened(hass)
    assert [c["unread"] for c in await again.conversations(None, 10)] == [0, 1]
    assert await bodies(again, DAD) == []
    # A reply is the conversation's newest: it leads, as sent.
    again.add_sent([outcome(AUNT, "s2")], "thanks", "2026-11-20T10:06:00.000+00:00")
    [first, _] = await again.conversations(None, 10)
    assert (first["number"], first["last"]) == (
        AUNT,
        {"direction": "sent", "body": "thanks", "at": "2026-11-20T10:06:00.000+00:00"},
    )


async def test_messages_pages_with_a_stable_cursor(hass: HomeAssistant) -> None:
    store = await filled(hass)
    page, cursor = await store.messages(MOM, None, 2)
    assert [m["body"] for m in page] == ["mom three", "mom two"]
    assert all(isinstance(m["id"], int) for m in page)
    # The rows' own ids: distinct, the newer the larger.
    assert page[0]["id"] > page[1]["id"]
    assert cursor is not None
    # New messages arrive meanwhile: the next page is the same.
    store.add_received(inbound("mom four", MOM))
    page, cursor = await store.messages(MOM, cursor, 2)
    assert [m["body"] for m in page] == ["to mom", "mom one"]
    assert page[0]["direction"] == "sent"
    assert cursor is None
    page, cursor = await store.messages(MOM, None, 10)
    assert [m["body"] for m in page][:2] == ["mom four", "mom three"]
    assert cursor is None
    # Messages at the same time come newest arrival first, across pages.
    for n in range(3):
        store.add_received(inbound(f"same {n}", AUNT, T0))
    page, cursor = await store.messages(AUNT, None, 2)
    assert [m["body"] for m in page] == ["same 2", "same 1"]
    page, _ = await store.messages(AUNT, cursor, 1)
    assert [m["body"] for m in page] == ["same 0"]
    with pytest.raises(ValueError, match="not a cursor"):
        await store.messages(MOM, "nonsense", 2)
    with pytest.raises(ValueError):
        parse_cursor("2026/x")
    with pytest.raises(ValueError):
        parse_cursor("/5")


async def test_query_filters_like_get_messages_always_did(hass: HomeAssistant) -> None:
    store = await filled(hass)
    assert [r["body"] for r in await store.query("sent", None, 10)] == ["to mom"]
    assert [r["body"] for r in await store.query("received", MOM, 2)] == [
        "mom three",
        "mom two",
    ]
    assert [r["body"] for r in await store.query("sent", MOM, 10)] == ["to mom"]
    # The entry's own number matches every received SMS (their "to").
    assert len(await store.query(None, SENDER, 10)) == 5
    assert await store.query(None, "48999999999", 10) == []
    assert [r["body"] for r in await store.query(None, None, 2)] == [
        "mom three",
        "Hello 50% off",
    ]


async def test_this_month_and_today_start_from_zero(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    await hass.config.async_set_time_zone("Europe/Warsaw")
    freezer.move_to("2026-11-30T22:30:00+00:00")  # 23:30 in Warsaw
    store = await opened(hass)
    store.add_sent([SendOutcome(MOM, "m1", 3)], "late in November", utc_now_iso())
    assert (store.parts_today(), store.parts_this_month()) == (3, 3)
    freezer.move_to("2026-11-30T23:30:00+00:00")  # 1 December in Warsaw
    assert (store.parts_today(), store.parts_this_month()) == (0, 0)


async def test_key_value_state(hass: HomeAssistant) -> None:
    store = await opened(hass)
    store.set_state("lockout:48600100200", {"until": 123.5, "failures": [1, 2]})
    await store.set_state("other", "x")
    assert await store.async_get_state("missing") is None
    again = await opened(hass)
    assert await again.async_get_state("lockout:48600100200") == {
        "until": 123.5,
        "failures": [1, 2],
    }
    await again.set_state("other", None)
    assert await (await opened(hass)).async_get_state("other") is None


# --- retention ----------------------------------------------------------------------------------


async def test_size_retention_deletes_in_chunks(hass: HomeAssistant) -> None:
    store = await opened(hass, size=100)
    for n in range(60):
        store.add_received(inbound(f"m{n}", MOM if n % 2 else DAD))
    await store.written
    with patch("custom_components.actio_sms.store.PRUNE_CHUNK", 7):
        store.set_bounds(10, 30)
        # One job goes on chunk by chunk until nothing more is beyond the size
        # (deleted, not only hidden).
        assert store._worker is not None
        await store._worker
    count = "SELECT count(*) FROM messages"
    assert await hass.async_add_executor_job(read_db, store.path, count) == [(10,)]
    assert len(store) == 10
    assert await bodies(store) == [f"m{n}" for n in range(50, 60)]
    conversations = await store.conversations(None, 10)
    assert sum(c["count"] for c in conversations) == 10
    assert sum(c["unread"] for c in conversations) == 10
    again = await opened(hass, size=10)
    assert len(again) == 10


async def test_age_retention_and_a_conversation_losing_its_latest(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to("2026-11-20T12:00:00+00:00")
    store = await opened(hass, days=2)
    # ACTIO's time of the first is later than the second's (a late post).
    store.add_received(inbound("early but late", MOM, "2026-11-20T11:00:00.000+00:00"))
    store.add_received(inbound("old", MOM, "2026-11-18T13:00:00.000+00:00"))
    store.add_received(inbound("young", DAD, "2026-11-20T11:30:00.000+00:00"))
    await store.written
    assert (await store.conversations(None, 10))[0]["last"]["body"] == "young"
    store.set_bounds(2, 2)  # the first goes by size
    await store.async_flush()
    [mom, _dad] = sorted(await store.conversations(None, 10), key=lambda c: c["number"])
    assert (mom["number"], mom["count"], mom["last"]["body"]) == (MOM, 1, "old")
    freezer.move_to("2026-11-21T12:00:00+00:00")  # "old" is now older than 2 days
    store.add_received(inbound("newest", AUNT))
    await store.written
    assert await bodies(store) == ["young", "newest"]
    assert [c["number"] for c in await store.conversations(None, 10)] == [AUNT, DAD]


async def test_a_report_for_a_send_gone_by_size_names_nothing(
    hass: HomeAssistant,
) -> None:
    store = await opened(hass, size=3)
    store.add_sent([outcome(MOM, "gone")], "x", T0)
    for n in range(3):
        store.add_received(inbound(f"m{n}"))
    logged = store.apply_delivery(report("gone", DeliveryStatus.DELIVERED))
    assert logged is not None
    assert "recipient" not in logged


# --- files ---------------------------------------------------------------------------------------


async def test_paths_and_files(hass: HomeAssistant) -> None:
    store = await opened(hass)
    assert journal_path(hass, ENTRY) == db_path(hass, ENTRY) == store.path
    assert store.path.name == f"{DOMAIN}.{ENTRY}.db"
    assert bool(MessageStore(hass, "empty", 10, 1))  # empty, yet a store


async def test_removal_deletes_every_file(hass: HomeAssistant) -> None:
    store = await opened(hass)
    store.add_received(inbound("x"))
    await store.written
    path = db_path(hass, ENTRY)

    def litter() -> None:
        Path(f"{path}.corrupt-20261120T120000Z").write_bytes(b"old")
        legacy_journal_path(hass, ENTRY).write_bytes(b"")
        legacy_journal_path(hass, ENTRY).with_suffix(".tmp").write_bytes(b"")

    await hass.async_add_executor_job(litter)
    await store.async_remove()
    assert legacy_journal_path(hass, ENTRY) == Path(
        hass.config.path(".storage", f"{DOMAIN}.{ENTRY}.journal")
    )

    def left() -> list[str]:
        return [p.name for p in path.parent.iterdir() if ENTRY in p.name]

    assert await hass.async_add_executor_job(left) == []
    # An entry removed without ever loading its store.
    await MessageStore(hass, "never", 10, 1).async_remove()


async def test_closed_cleanly_at_the_final_write(hass: HomeAssistant) -> None:
    """Home Assistant stops: committed, closed, the write-ahead log folded in."""
    store = await opened(hass)
    store.add_received(inbound("at the stop"))
    await hass.async_stop(force=True)
    path = db_path(hass, ENTRY)
    assert not Path(f"{path}-wal").exists()
    assert read_db(path, "SELECT body FROM messages") == [("at the stop",)]
    assert not store.loaded


async def test_an_unreadable_old_store_file_leaves_the_journal(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    await hass.async_add_executor_job(write_journal_line, hass)
    with patch(
        "custom_components.actio_sms.store.Store.async_load",
        side_effect=HomeAssistantError("damaged"),
    ):
        store = await opened(hass)
    assert await bodies(store) == ["only"]
    assert "Could not read the message log of 0.3" in caplog.text


async def test_unconfirmed_sends_too_far_back_are_not_adopted(
    hass: HomeAssistant,
) -> None:
    with patch("custom_components.actio_sms.store.UNCONFIRMED_MATCH_WINDOW", 2):
        store = await opened(hass)
        unconfirmed = DeliveryStatus.UNCONFIRMED
        for body in ("a", "b", "c"):
            store.add_sent([outcome(MOM, None, status=unconfirmed)], body, T0)
        assert len(store._unconfirmed) == 2  # bounded
        for n in range(3):
            store.add_received(inbound(f"m{n}"))
        logged = store.apply_delivery(
            report("late", DeliveryStatus.DELIVERED, recipient=MOM)
        )
    assert logged is not None
    assert "body" not in logged
    assert store._unconfirmed == []


async def test_reads_load_the_store_first(hass: HomeAssistant) -> None:
    store = await opened(hass)
    store.add_received(inbound("there"))
    await store.written
    fresh = MessageStore(hass, ENTRY, 1000, 30)
    assert [r["body"] for r in await fresh.query(None, None, 5)] == ["there"]
    await fresh.async_load()  # loaded already: nothing happens
    other = MessageStore(hass, ENTRY, 1000, 30)
    assert await other.mark_read(MOM) == 1


async def test_deleting_a_conversation_forgets_its_sends(hass: HomeAssistant) -> None:
    store = await opened(hass)
    store.add_sent([outcome(MOM, "x1"), outcome(DAD, "x2")], "hi", T0)
    assert await store.delete_conversation(MOM) == 1
    logged = store.apply_delivery(report("x1", DeliveryStatus.DELIVERED))
    assert logged is not None
    assert "recipient" not in logged
    assert [r["message_id"] for r in await store.query("sent", None, 5)] == ["x2"]


async def test_sends_older_than_a_week_are_not_read_back(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Reports come within 48 hours: memory holds only the recent sends."""
    freezer.move_to("2026-11-20T12:00:00+00:00")
    store = await opened(hass)
    store.add_sent([outcome(MOM, "old")], "x", "2026-11-10T12:00:00.000+00:00")
    store.add_sent([outcome(MOM, "new")], "y", "2026-11-19T12:00:00.000+00:00")
    await store.written
    again = await opened(hass)
    assert list(again._sent_by_id) == ["new"]
    # The old one's report still updates its row (by its id).
    assert again.apply_delivery(report("old", DeliveryStatus.DELIVERED))
    await again.written
    status = {r["message_id"]: r["status"] for r in await again.query("sent", None, 5)}
    assert status["old"] is DeliveryStatus.DELIVERED


async def test_rows_beyond_the_size_are_hidden_at_once_and_deleted_in_bulk(
    hass: HomeAssistant,
) -> None:
    """Bound 300: 1 % (3 rows) gathers before one DELETE; no read sees them."""
    store = await opened(hass, size=300)
    store.add_received(
        inbound("aunt, late clock", AUNT, "2026-11-20T12:00:00.000+00:00")
    )
    store.add_received(inbound("dad's only", DAD, "2026-11-20T10:00:00.000+00:00"))
    store.add_received(inbound("aunt, early", AUNT, "2026-11-20T09:00:00.000+00:00"))
    for n in range(299):
        store.add_received(inbound(f"mom {n}", MOM))
    await store.written
    path = db_path(hass, ENTRY)
    count = "SELECT count(*) FROM messages"
    assert await hass.async_add_executor_job(read_db, path, count) == [(302,)]
    assert len(store) == 300
    assert len(await store.query(None, None, 1000)) == 300
    assert await store.query(None, DAD, 10) == []
    conversations = {c["number"]: c for c in await store.conversations(None, 10)}
    assert set(conversations) == {MOM, AUNT}
    assert (conversations[AUNT]["count"], conversations[AUNT]["unread"]) == (1, 1)
    assert conversations[AUNT]["last"]["body"] == "aunt, early"
    assert [m["body"] for m in (await store.messages(AUNT, None, 10))[0]] == [
        "aunt, early"
    ]
    assert len(await opened(hass, size=300)) == 300
    # Two more: 4 rows beyond the bound, more than 1 %: one DELETE.
    store.add_received(inbound("mom 299", MOM))
    store.add_received(inbound("mom 300", MOM))
    await store.written
    assert await hass.async_add_executor_job(read_db, path, count) == [(300,)]
    assert [c["number"] for c in await store.conversations(None, 10)] == [MOM]
