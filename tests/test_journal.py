"""A 200 means on disk: the webhook answers after the commit holding its post."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from typing import Any
from unittest.mock import patch

import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.actio_sms.const import (
    EVENT_DELIVERY_STATUS,
    EVENT_MESSAGE_RECEIVED,
)
from custom_components.actio_sms.store import Database, MessageStore, db_path
from homeassistant.core import HomeAssistant

from .conftest import WEBHOOK_ID, Setup, Sim, actio_entry, send, sms

URL = f"/api/webhook/{WEBHOOK_ID}"


async def reloaded_log(hass: HomeAssistant, entry_id: str) -> MessageStore:
    """The log as a process started after a kill would read it."""
    log = MessageStore(hass, entry_id, 1000, 30)
    await log.async_load()
    return log


async def received_bodies(log: MessageStore) -> list[str]:
    return [r["body"] for r in reversed(await log.query("received", None, 1000))]


async def test_killed_right_after_200_loses_nothing(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    """What was answered 200 is in the database, read by another connection."""
    entry = await setup_entry(actio_entry(simulator.url))
    await send(hass, "600100201", "outgoing")
    sent_id = simulator.outbox[0].message_id
    client = await hass_client_no_auth()
    for body in ("one", "two", "three"):
        assert (await client.post(URL, json=sms(body))).status == 200
    report = {"type": "NOTIFICATION", "message_id": sent_id, "status": "DELIVERED"}
    assert (await client.post(URL, json=report)).status == 200

    events = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    events += async_capture_events(hass, EVENT_DELIVERY_STATUS)
    log = await reloaded_log(hass, entry.entry_id)
    assert await received_bodies(log) == ["one", "two", "three"]
    sent = await log.query("sent", None, 10)
    assert [(r["recipient"], r["message_id"], r["status"]) for r in sent] == [
        ("48600100201", sent_id, "delivered")
    ]
    assert log.counters == {"received": 3, "sent": 1, "delivered": 1, "failed": 0}
    assert log.last_received is not None
    assert log.last_received["body"] == "three"
    await hass.async_block_till_done()
    assert events == []  # recovering is not receiving again


async def test_reloading_never_counts_twice(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    """Each load reads what was committed, once; later posts add to it."""
    entry = await setup_entry(actio_entry(simulator.url))
    client = await hass_client_no_auth()
    for body in ("a", "b", "c"):
        assert (await client.post(URL, json=sms(body))).status == 200
    assert await received_bodies(await reloaded_log(hass, entry.entry_id)) == [
        "a",
        "b",
        "c",
    ]
    for body in ("d", "e"):
        assert (await client.post(URL, json=sms(body))).status == 200
    for _ in range(2):
        log = await reloaded_log(hass, entry.entry_id)
        assert await received_bodies(log) == ["a", "b", "c", "d", "e"]
        assert log.counters["received"] == 5
        assert len(log) == 5


async def test_the_200_waits_for_the_commit(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    """No answer while the transaction holding the post is not committed."""
    entry = await setup_entry(actio_entry(simulator.url))
    client = await hass_client_no_auth()
    release = threading.Event()
    original = Database._transaction

    def slow_transaction(self: Database, *args: Any, **kwargs: Any) -> None:
        release.wait(5)
        original(self, *args, **kwargs)

    with patch.object(Database, "_transaction", slow_transaction):
        post = asyncio.ensure_future(client.post(URL, json=sms("held")))
        await asyncio.sleep(0.2)
        assert not post.done()
        release.set()
        assert (await post).status == 200
    assert await received_bodies(await reloaded_log(hass, entry.entry_id)) == ["held"]


async def test_write_failure_is_not_a_200(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    hass_client_no_auth,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A full disk: ACTIO is told, the log says why; the next post works."""
    entry = await setup_entry(actio_entry(simulator.url))
    client = await hass_client_no_auth()
    full = sqlite3.OperationalError("database or disk is full")
    with patch.object(Database, "_transaction", side_effect=full):
        resp = await client.post(URL, json=sms("lost"))
    assert resp.status == 503
    assert "Could not write the message store: database or disk is full" in (
        caplog.text
    )
    assert (await client.post(URL, json=sms("kept"))).status == 200
    log = await reloaded_log(hass, entry.entry_id)
    assert await received_bodies(log) == ["kept"]
    # The counters went to disk with the next commit.
    assert log.counters["received"] == 2


async def test_removing_the_entry_deletes_the_database(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    entry = await setup_entry(actio_entry(simulator.url))
    client = await hass_client_no_auth()
    assert (await client.post(URL, json=sms("bye"))).status == 200
    path = db_path(hass, entry.entry_id)
    assert await hass.async_add_executor_job(path.exists)
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()

    def leftovers() -> list[str]:
        return [p.name for p in path.parent.glob(f"{path.name}*")]

    assert await hass.async_add_executor_job(leftovers) == []


async def test_every_commit_is_synced_and_private(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    """WAL with synchronous=FULL (fsync at each commit); 0600 like .storage files."""
    entry = await setup_entry(actio_entry(simulator.url))
    client = await hass_client_no_auth()
    assert (await client.post(URL, json=sms("first"))).status == 200
    store = entry.runtime_data.store

    def pragmas(db: Database) -> tuple[str, int]:
        conn = db.conn
        return (
            conn.execute("PRAGMA journal_mode").fetchone()[0],
            conn.execute("PRAGMA synchronous").fetchone()[0],
        )

    assert await store._async_read(pragmas) == ("wal", 2)  # 2: FULL
    path = db_path(hass, entry.entry_id)
    for name in (path, path.with_name(f"{path.name}-wal")):
        mode = (await hass.async_add_executor_job(name.stat)).st_mode
        assert mode & 0o777 == 0o600  # message texts: private
