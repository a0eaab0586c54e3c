"""Single-point guarantees, each checked fast and directly (issue 28, item 3).

The commit on disk before the 200, pruning by age, UCS-2 parts counted in
UTF-16 units, and the sent counter under concurrent sends. Through Home
Assistant's surfaces only; one helper below touches an internal.
"""

from __future__ import annotations

import asyncio
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
import sqlite3
import threading
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.actio_sms.const import CONF_HISTORY_DAYS, DOMAIN
from custom_components.actio_sms.phone import Encoding, count_parts
from custom_components.actio_sms.store import Database
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .conftest import (
    WEBHOOK_ID,
    Setup,
    Sim,
    actio_entry,
    end_process,
    get_messages,
    numbers,
    send,
    sms,
)

URL = f"/api/webhook/{WEBHOOK_ID}"
MESSAGES_SENT = "sensor.actio_sms_48732129000_messages_sent"


def database_file(hass: HomeAssistant, entry_id: str) -> Path:
    """The entry's message database, where the README says it is."""
    return Path(hass.config.path(".storage", f"{DOMAIN}.{entry_id}.db"))


def committed_bodies(path: Path) -> list[str]:
    """What another connection (another process, after a kill) reads."""
    with closing(sqlite3.connect(path)) as conn:
        return [b for (b,) in conn.execute("SELECT body FROM messages ORDER BY id")]


# --- (a) a 200 comes after the commit holding it, which is synced -----------------


async def test_the_200_comes_after_the_commit_which_is_synced(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    entry = await setup_entry(actio_entry(simulator.url))
    path = database_file(hass, entry.entry_id)
    client = await hass_client_no_auth()
    steps: list[object] = []
    release = threading.Event()
    original = Database._transaction  # internal: the store's transaction

    def watched(self: Database, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        # WAL with synchronous=FULL: the log is fsynced at every commit.
        assert self.conn.execute("PRAGMA synchronous").fetchone()[0] == 2
        steps.append(("commit", committed_bodies(path)))
        release.wait(5)

    with patch.object(Database, "_transaction", watched):
        post = asyncio.ensure_future(client.post(URL, json=sms("first")))
        for _ in range(100):
            if steps:
                break
            await asyncio.sleep(0.01)
        assert steps == [("commit", ["first"])]  # committed: another reader sees it
        await asyncio.sleep(0.1)
        assert not post.done()  # no answer before the commit returned
        release.set()
        assert (await post).status == 200
        steps.append("200 first")
        assert (await client.post(URL, json=sms("second"))).status == 200
        steps.append("200 second")
    assert steps == [
        ("commit", ["first"]),
        "200 first",
        ("commit", ["first", "second"]),
        "200 second",
    ]


# --- (b) records older than history_days are dropped --------------------------


T0 = datetime(2026, 11, 20, 12, 0, tzinfo=dt_util.UTC)


async def test_old_records_are_gone_after_a_load(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    hass_client_no_auth,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Saved while young, loaded once old: dropped at the load; younger ones stay."""
    freezer.move_to(T0)
    entry = await setup_entry(
        actio_entry(simulator.url, options={CONF_HISTORY_DAYS: 2})
    )
    client = await hass_client_no_auth()
    assert (await client.post(URL, json=sms("old"))).status == 200
    await send(hass, "600100200", "old too")
    freezer.move_to(T0 + timedelta(days=1))
    assert (await client.post(URL, json=sms("a day younger"))).status == 200
    # A restart: saved now, when nothing is older than two days yet.
    assert await hass.config_entries.async_unload(entry.entry_id)
    end_process(hass, entry.entry_id)

    freezer.move_to(T0 + timedelta(days=2, hours=1))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    messages = await get_messages(hass)
    assert [m["body"] for m in messages] == ["a day younger"]


async def test_old_records_are_gone_after_a_snapshot(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    hass_client_no_auth,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(T0)
    await setup_entry(actio_entry(simulator.url, options={CONF_HISTORY_DAYS: 2}))
    client = await hass_client_no_auth()
    assert (await client.post(URL, json=sms("old"))).status == 200
    await send(hass, "600100200", "old too")
    freezer.move_to(T0 + timedelta(days=1))
    assert (await client.post(URL, json=sms("a day younger"))).status == 200

    freezer.move_to(T0 + timedelta(days=2, hours=1))
    assert (await client.post(URL, json=sms("new"))).status == 200
    # Retention runs after the commit that holds "new" (and a minute later anyway).
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    messages = await get_messages(hass)
    assert [m["body"] for m in messages] == ["new", "a day younger"]


# --- (c) UCS-2 parts are counted in UTF-16 units -------------------------------

EMOJI = "\N{GRINNING FACE}"  # outside the BMP: two UTF-16 units
UCS2_PARTS = {
    "60-ascii": ("a" * 60, 1),
    "61-ascii": ("a" * 61, 2),
    "30-emoji": (EMOJI * 30, 1),
    "31-emoji": (EMOJI * 31, 2),
}


@pytest.mark.parametrize(("body", "parts"), UCS2_PARTS.values(), ids=UCS2_PARTS.keys())
async def test_ucs2_parts_are_counted_in_utf16_units(body: str, parts: int) -> None:
    assert count_parts(body) == parts
    assert count_parts(body, Encoding.UCS2) == parts


async def test_send_message_reports_parts_in_utf16_units(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    await setup_entry(actio_entry(simulator.url))
    for body, parts in UCS2_PARTS.values():
        response = await send(hass, "600100200", body)
        assert [m["parts"] for m in response["messages"]] == [parts], body


# --- (d) the sent counter under concurrent sends -----------------------------------


async def test_sent_counter_under_concurrent_sends(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client
) -> None:
    assert await async_setup_component(hass, "diagnostics", {})
    entry = await setup_entry(actio_entry(simulator.url))
    simulator.state.latency = 0.02  # the sends overlap at ACTIO
    responses = await asyncio.gather(
        *(send(hass, number, "Alarm") for number in numbers(20))
    )
    assert sum(len(r["messages"]) for r in responses) == 20
    assert simulator.state.max_inflight > 1
    async_fire_time_changed(hass)  # the sensors' debouncer
    await hass.async_block_till_done()
    assert hass.states.get(MESSAGES_SENT).state == "20"
    result = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert result["counters"]["sent"] == 20
