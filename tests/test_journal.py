"""A 200 means on disk: the journal between snapshots of the message log."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import os
import threading
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.actio_sms.const import (
    DOMAIN,
    EVENT_DELIVERY_STATUS,
    EVENT_MESSAGE_RECEIVED,
)
from custom_components.actio_sms.store import (
    SAVE_DELAY,
    Journal,
    MessageStore,
    journal_path,
)
from homeassistant.core import HomeAssistant
from homeassistant.util.json import json_loads

from .conftest import WEBHOOK_ID, Setup, Sim, actio_entry, send, sms

URL = f"/api/webhook/{WEBHOOK_ID}"


async def reloaded_log(hass: HomeAssistant, entry_id: str) -> MessageStore:
    """The log as a process started after a kill would read it."""
    log = MessageStore(hass, entry_id, 1000, 30)
    await log.async_load()
    return log


def received_bodies(log: MessageStore) -> list[str]:
    return [r["body"] for r in log.records if r["direction"] == "received"]


async def test_killed_right_after_200_loses_nothing(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    hass_client_no_auth,
    hass_storage: dict[str, Any],
) -> None:
    """No snapshot was written yet: the journal alone brings everything back."""
    entry = await setup_entry(actio_entry(simulator.url))
    await send(hass, "600100201", "outgoing")
    sent_id = simulator.outbox[0].message_id
    client = await hass_client_no_auth()
    for body in ("one", "two", "three"):
        assert (await client.post(URL, json=sms(body))).status == 200
    report = {"type": "NOTIFICATION", "message_id": sent_id, "status": "DELIVERED"}
    assert (await client.post(URL, json=report)).status == 200
    assert f"{DOMAIN}.{entry.entry_id}" not in hass_storage  # no snapshot yet

    events = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    events += async_capture_events(hass, EVENT_DELIVERY_STATUS)
    log = await reloaded_log(hass, entry.entry_id)
    assert received_bodies(log) == ["one", "two", "three"]
    sent = [r for r in log.records if r["direction"] == "sent"]
    assert [(r["recipient"], r["message_id"], r["status"]) for r in sent] == [
        ("48600100201", sent_id, "delivered")
    ]
    assert log.counters == {"received": 3, "sent": 1, "delivered": 1, "failed": 0}
    assert log.last_received is not None
    assert log.last_received["body"] == "three"
    await hass.async_block_till_done()
    assert events == []  # recovering is not receiving again


async def test_snapshot_and_journal_never_count_twice(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    hass_client_no_auth,
    freezer: FrozenDateTimeFactory,
) -> None:
    """What a snapshot holds is not replayed; the journal shrinks behind it."""
    entry = await setup_entry(actio_entry(simulator.url))
    client = await hass_client_no_auth()
    for body in ("a", "b", "c"):
        assert (await client.post(URL, json=sms(body))).status == 200
    freezer.tick(timedelta(seconds=SAVE_DELAY + 1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    for body in ("d", "e"):
        assert (await client.post(URL, json=sms(body))).status == 200

    log = await reloaded_log(hass, entry.entry_id)
    assert received_bodies(log) == ["a", "b", "c", "d", "e"]
    assert log.counters["received"] == 5

    # The next snapshot holds d and e; the lines of the first one go.
    freezer.tick(timedelta(seconds=SAVE_DELAY + 1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    path = journal_path(hass, entry.entry_id)
    lines = await hass.async_add_executor_job(path.read_bytes)
    assert [json_loads(line)["record"]["body"] for line in lines.splitlines()] == [
        "d",
        "e",
    ]
    log = await reloaded_log(hass, entry.entry_id)
    assert received_bodies(log) == ["a", "b", "c", "d", "e"]


async def test_the_200_waits_for_the_write(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    """No answer while the journal line is not written."""
    await setup_entry(actio_entry(simulator.url))
    client = await hass_client_no_auth()
    release = threading.Event()
    original = Journal._write

    def slow_write(self: Journal, *args: Any) -> None:
        release.wait(5)
        original(self, *args)

    with patch.object(Journal, "_write", slow_write):
        post = asyncio.ensure_future(client.post(URL, json=sms("held")))
        await asyncio.sleep(0.2)
        assert not post.done()
        release.set()
        assert (await post).status == 200


async def test_write_failure_is_not_a_200(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    hass_client_no_auth,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A full disk: ACTIO is told, the log says why; the next post works."""
    await setup_entry(actio_entry(simulator.url))
    client = await hass_client_no_auth()
    with patch.object(Journal, "_write", side_effect=OSError("No space left")):
        resp = await client.post(URL, json=sms("lost"))
    assert resp.status == 503
    assert "Could not write the message journal: No space left" in caplog.text
    assert (await client.post(URL, json=sms("kept"))).status == 200


async def test_torn_last_line_is_skipped(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    """A kill in the middle of a write leaves half a line: the rest loads."""
    entry = await setup_entry(actio_entry(simulator.url))
    client = await hass_client_no_auth()
    assert (await client.post(URL, json=sms("whole"))).status == 200
    path = journal_path(hass, entry.entry_id)

    def tear() -> None:
        with path.open("ab") as file:
            file.write(b'{"seq": 2, "op": "received", "rec')

    await hass.async_add_executor_job(tear)
    log = await reloaded_log(hass, entry.entry_id)
    assert received_bodies(log) == ["whole"]


async def test_removing_the_entry_deletes_the_journal(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    entry = await setup_entry(actio_entry(simulator.url))
    client = await hass_client_no_auth()
    assert (await client.post(URL, json=sms("bye"))).status == 200
    path = journal_path(hass, entry.entry_id)
    assert await hass.async_add_executor_job(path.exists)
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert not await hass.async_add_executor_job(path.exists)


async def test_the_last_lines_of_a_burst_reach_the_disk(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    """fsync at most once per interval, and once more after the last write."""
    entry = await setup_entry(actio_entry(simulator.url))
    client = await hass_client_no_auth()
    synced: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    with (
        patch("custom_components.actio_sms.store.FSYNC_INTERVAL", 0.2),
        patch("custom_components.actio_sms.store.os.fsync", counting_fsync),
    ):
        assert (await client.post(URL, json=sms("first"))).status == 200
        assert len(synced) == 1  # nothing synced before: at once
        assert (await client.post(URL, json=sms("second"))).status == 200
        assert len(synced) == 1  # within the interval: not again yet
        await asyncio.sleep(0.4)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert len(synced) == 2  # the tail, after the interval
    path = journal_path(hass, entry.entry_id)
    mode = (await hass.async_add_executor_job(path.stat)).st_mode
    assert mode & 0o777 == 0o600  # message texts: private like the Store file


async def test_lines_after_a_torn_one_start_on_a_new_line(hass: HomeAssistant) -> None:
    """The process restarted after a kill mid-write; the next line survives."""
    path = journal_path(hass, "entry")

    def write_torn() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b'{"seq": 1, "op": "x"}\n{"seq": 2, "op": "torn')

    await hass.async_add_executor_job(write_torn)
    journal = Journal(hass, "entry")
    assert [e["seq"] for e in await journal.async_read(after=0)] == [1]
    await journal.append({"op": "after"})
    assert [e["op"] for e in await Journal(hass, "entry").async_read(after=0)] == [
        "x",
        "after",
    ]


async def test_compaction_leaves_no_torn_tail_behind(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """Compaction keeps whole lines only: the next line needs no line break first."""
    path = journal_path(hass, "entry")

    def write_torn() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            b'{"seq": 1, "op": "x"}\n{"seq": 2, "op": "x"}\n{"seq": 3, "op'
        )

    await hass.async_add_executor_job(write_torn)
    journal = Journal(hass, "entry")
    await journal.async_read(after=0)
    journal.drop_upto(1)
    await journal.append({"op": "after"})
    assert await hass.async_add_executor_job(path.read_bytes) == (
        b'{"seq": 2, "op": "x"}\n{"seq":3,"op":"after"}\n'
    )
    caplog.clear()
    assert [e["op"] for e in await Journal(hass, "entry").async_read(after=0)] == [
        "x",
        "after",
    ]
    assert "unreadable" not in caplog.text
