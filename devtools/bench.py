"""Benchmarks behind scripts/bench: a real hass process, real sockets, baselines.

1. Webhook ingest: ours vs (a) a no-op webhook and (b) a peer-style handler
   (parse JSON, fire one event), registered in the same hass process.
2. Bulk send: 1,000 recipients with 20 ms simulator latency: bulk on, bulk
   off (default concurrency), and a sequential one-request-per-number baseline.
3. Setup cost: import time and config-entry setup with a 1,000-message history.
4. Memory: hass RSS while 100,000 inbound messages arrive.
5. Startup window: after a restart, how long HTTP answers before our webhook
   is registered (HA answers 200 to unregistered webhooks: ACTIO's post is
   lost), with ACTIO's API fast and slow.
6. kill -9 during a burst: how many posts answered 200 are gone after a restart.
7. History scale (--parts 7, not in the default run): the message database
   prefilled with 1k, 10k, 100k and 1M messages; at each size load at start,
   RSS added, get_messages latency, bytes written and loop stall per sparse
   SMS, and webhook ingest against the peer baseline.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
import json
import os
from pathlib import Path
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from typing import Any

import aiohttp

from custom_components.actio_sms.actio import ActioClient
from custom_components.actio_sms.store import INSERT, Database

from .hass import (
    DEMO_SENDER,
    ROOT,
    HassApi,
    Process,
    free_port,
    link_integration,
    onboard,
    set_options,
    set_sim_webhook,
    start_hass,
    start_simulator,
    wait_http,
)

RESULTS = ROOT / "benchmarks" / "results.md"
LEAN = "lean (no recorder)"
RECORDER = "recorder on (default install)"
TARGETS = {LEAN: 0.8, RECORDER: 0.9}
SIM_TOKEN = "demo-token"  # noqa: S105 - the simulator's demo token
PAYLOAD = {
    "type": "MESSAGE",
    "from": "48600100200",
    "to": DEMO_SENDER,
    "body": "Benchmark ąęś 🎉",
}

BENCH_INTEGRATION = {
    "manifest.json": """{
  "domain": "actio_bench",
  "name": "ACTIO SMS benchmark baselines",
  "codeowners": [],
  "dependencies": ["webhook"],
  "documentation": "https://example.invalid",
  "iot_class": "local_push",
  "requirements": [],
  "version": "0.0.1"
}
""",
    "__init__.py": '''"""Baseline webhooks, a loop-lag monitor and probes for scripts/bench."""

import asyncio
import cProfile
import gc
import json
import time

from aiohttp import web

from homeassistant.components import webhook
from homeassistant.core import HomeAssistant, ServiceCall, SupportsResponse

LAG = {"max": 0.0}
CPU = {"mark": 0.0}


async def _noop(hass, webhook_id, request):
    return web.Response(status=200)


async def _peer(hass, webhook_id, request):
    # What a peer integration (core's twilio, say) does: parse, fire, answer.
    data = await request.json()
    hass.bus.async_fire("actio_bench_event", data)
    return web.Response(status=200)


class _Floor:
    """The least a handler that answers once the SMS is on disk can pay.

    One SQLite row per post (WAL, synchronous=FULL, as ours), committed in
    groups by one writer thread; the answer waits for the commit. No routing,
    counters, PIN check or conversations: what any "200 means kept" handler
    needs at the very least.
    """

    def __init__(self, hass, path):
        import sqlite3

        self.hass, self.pending, self.task = hass, [], None
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS m (id INTEGER PRIMARY KEY, body TEXT)")

    def _commit(self, rows):
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany("INSERT INTO m (body) VALUES (?)", rows)
        self.conn.execute("COMMIT")

    async def _work(self):
        while self.pending:
            batch, self.pending = self.pending, []
            await self.hass.async_add_executor_job(self._commit, [(raw,) for raw, _ in batch])
            for _, future in batch:
                future.set_result(None)

    async def add(self, raw):
        future = self.hass.loop.create_future()
        self.pending.append((raw, future))
        if self.task is None or self.task.done():
            self.task = self.hass.async_create_task(self._work(), "bench floor", eager_start=False)
        await future


async def _monitor_lag() -> None:
    # A 5 ms tick: how late it wakes is how long the loop was blocked.
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(0.005)
        LAG["max"] = max(LAG["max"], loop.time() - started - 0.005)


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _io() -> dict:
    # wchar: bytes handed to write(); write_bytes: what reached the block layer.
    with open("/proc/self/io", encoding="utf-8") as io:
        return {k: int(v) for k, _, v in (line.partition(":") for line in io)}


class _Lag:
    """A 1 ms tick while a section runs: the worst delay is the worst stall."""

    def __init__(self, hass):
        self.hass, self.max, self.task = hass, 0.0, None

    async def _run(self):
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(0.001)
            self.max = max(self.max, loop.time() - started - 0.001)

    def start(self):
        self.max = 0.0
        self.task = self.hass.async_create_background_task(self._run(), "bench lag")

    def stop(self) -> float:
        self.task.cancel()
        return self.max * 1000


async def _store_probe(hass, call):
    """History scale: the store's figures at the size it has now."""
    from custom_components.actio_sms.actio import InboundMessage, utc_now_iso
    from custom_components.actio_sms.store import MessageStore

    entry = hass.config_entries.async_entries("actio_sms")[0]
    runtime = entry.runtime_data
    store = runtime.store
    own = runtime.settings.sender
    result = {"history": len(store)}

    async def timed(data, runs=50):
        ms = []
        for _ in range(runs):
            started = time.perf_counter()
            await hass.services.async_call(
                "actio_sms", "get_messages", data, blocking=True, return_response=True
            )
            ms.append((time.perf_counter() - started) * 1000)
        ms.sort()
        return [ms[len(ms) // 2], ms[int(0.95 * len(ms))]]

    result["latest"] = await timed({"limit": 20})
    result["by_number"] = await timed({"number": call.data["number"], "limit": 20})
    result["absent"] = await timed({"number": "48999999999", "limit": 20})

    # Load at a start: a second instance of the entry's store, read as at a start.
    gc.collect()
    rss_before = await hass.async_add_executor_job(_rss_mb)
    lag = _Lag(hass)
    lag.start()
    started = time.perf_counter()
    other = MessageStore(hass, entry.entry_id, store.max_size, store.max_age.days)
    await other.async_load()
    result["load_ms"] = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    await other.async_flush()  # its first job: PRAGMA quick_check
    result["check_ms"] = (time.perf_counter() - started) * 1000
    result["load_stall_ms"] = lag.stop()
    await other.query(None, "48600000007", 20)
    result["rss_added_mb"] = await hass.async_add_executor_job(_rss_mb) - rss_before
    await other._async_close()

    # Sparse SMS: each in a transaction of its own, as SMS minutes apart; the
    # same time without writes first, for what the loop does anyway.
    sparse = call.data.get("sparse", 50)
    lag.start()
    for n in range(sparse):
        await asyncio.sleep(0.022)
    result["idle_stall_ms"] = lag.stop()
    before = await hass.async_add_executor_job(_io)
    lag.start()
    for n in range(sparse):
        store.add_received(
            InboundMessage("48600100999", own, f"Sparse {n}: zażółć gęślą jaźń", utc_now_iso())
        )
        await store.written
        await asyncio.sleep(0.02)
    result["sparse_stall_ms"] = lag.stop()
    middle = await hass.async_add_executor_job(_io)
    # The log's pages reach the database file at a checkpoint: count it too.
    await store._async_read(
        lambda db: db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    )
    after = await hass.async_add_executor_job(_io)
    result["sparse_wchar"] = (middle["wchar"] - before["wchar"]) / sparse
    result["sparse_wchar_ckpt"] = (after["wchar"] - before["wchar"]) / sparse
    result["sparse_write_bytes"] = (after["write_bytes"] - before["write_bytes"]) / sparse
    result["rss_mb"] = await hass.async_add_executor_job(_rss_mb)
    return result


async def async_setup(hass: HomeAssistant, config) -> bool:
    webhook.async_register(hass, "actio_bench", "noop", "bench-noop", _noop, local_only=False, allowed_methods=["POST"])
    webhook.async_register(hass, "actio_bench", "peer", "bench-peer", _peer, local_only=False, allowed_methods=["POST"])
    floor = _Floor(hass, hass.config.path("bench-floor.db"))

    async def _durable(hass, webhook_id, request):
        raw = await request.read()
        data = json.loads(raw)
        await floor.add(raw.decode())
        hass.bus.async_fire("actio_bench_event", data)
        return web.Response(status=200)

    webhook.async_register(hass, "actio_bench", "floor", "bench-floor", _durable, local_only=False, allowed_methods=["POST"])
    hass.async_create_background_task(_monitor_lag(), "actio_bench lag monitor")

    async def measure_setup(call: ServiceCall):
        entry = hass.config_entries.async_entries("actio_sms")[0]
        durations = []
        for _ in range(call.data.get("runs", 20)):
            await hass.config_entries.async_unload(entry.entry_id)
            start = time.perf_counter()
            await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
            durations.append((time.perf_counter() - start) * 1000)
        return {"ms": durations, "history": len(entry.runtime_data.store)}

    async def drain(call: ServiceCall):
        # Wait for the recorder to commit what the last round queued, so it
        # does not land on the next handler's round.
        await hass.async_block_till_done()
        if "recorder" in hass.config.components:
            from homeassistant.components.recorder import get_instance

            await get_instance(hass).async_block_till_done()
        lag, LAG["max"] = LAG["max"], 0.0
        # CPU time of the event-loop thread since the last drain: what the
        # round cost Home Assistant, whatever the client's own speed.
        cpu, CPU["mark"] = time.thread_time() - CPU["mark"], time.thread_time()
        return {"max_lag_ms": lag * 1000, "loop_cpu_s": cpu}

    profiler = cProfile.Profile()

    async def profile(call: ServiceCall):
        if call.data["action"] == "start":
            profiler.enable()
        else:
            profiler.disable()
            await hass.async_add_executor_job(profiler.dump_stats, call.data["path"])
        return {}

    hass.services.async_register("actio_bench", "measure_setup", measure_setup, supports_response=SupportsResponse.ONLY)
    hass.services.async_register("actio_bench", "drain", drain, supports_response=SupportsResponse.ONLY)
    hass.services.async_register("actio_bench", "profile", profile, supports_response=SupportsResponse.ONLY)

    async def store_probe(call: ServiceCall):
        return await _store_probe(hass, call)

    hass.services.async_register("actio_bench", "store_probe", store_probe, supports_response=SupportsResponse.ONLY)
    return True
''',
}


@dataclass
class Series:
    """Latencies and wall time of one target across rounds."""

    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    errors: int = 0
    rounds: list[float] = field(default_factory=list)  # req/s of each round
    round_p99: list[float] = field(default_factory=list)  # ms
    round_lag: list[float] = field(default_factory=list)  # worst loop stall, ms
    round_cpu: list[float] = field(default_factory=list)  # loop CPU µs per post

    @property
    def throughput(self) -> float:
        """Requests per second."""
        return len(self.latencies) / self.wall if self.wall else 0.0

    def pct(self, q: float) -> float:
        """Latency percentile in ms."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def write_config(config_dir: Path, port: int, *, recorder: bool) -> None:
    """A lean HA config (no recorder), or one with what a default install records."""
    # default_config's recorder, history and logbook; not its network scanners.
    recording = "recorder:\nhistory:\nlogbook:\n" if recorder else ""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(
        textwrap.dedent(
            f"""\
            homeassistant:
              name: ACTIO SMS bench
              time_zone: Europe/Warsaw
              country: PL
              external_url: http://127.0.0.1:{port}
            http:
              server_host: 127.0.0.1
              server_port: {port}
            config:
            onboarding:
            actio_bench:
            logger:
              default: warning
            """
        )
        + recording,
        encoding="utf-8",
    )
    link_integration(config_dir)
    bench = config_dir / "custom_components" / "actio_bench"
    bench.mkdir(parents=True, exist_ok=True)
    for name, text in BENCH_INTEGRATION.items():
        (bench / name).write_text(text, encoding="utf-8")


async def blast(
    session: aiohttp.ClientSession,
    url: str,
    count: int,
    concurrency: int,
    series: Series,
) -> None:
    """POST ``count`` payloads with ``concurrency`` workers."""
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            # Every SMS says something else, as real ones do: no handler's
            # recorded event data can be shared with the previous one's.
            payload = PAYLOAD | {"body": f"{PAYLOAD['body']} {remaining}"}
            async with session.post(url, json=payload) as resp:
                await resp.read()
                if resp.status != 200:
                    series.errors += 1
            series.latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    series.wall += time.perf_counter() - started


async def bench_ingest(
    api: HassApi, webhook_id: str, per_round: int, concurrency: int, rounds: int
) -> dict[str, Series]:
    """Alternate rounds over the three webhooks so noise hits all alike."""
    targets = {
        "ours": webhook_id,
        "noop (a)": "bench-noop",
        "peer (b)": "bench-peer",
        "durable floor (c)": "bench-floor",
    }
    results = {name: Series() for name in targets}
    connector = aiohttp.TCPConnector(limit=concurrency)

    async def drain() -> tuple[float, float]:
        response = await api.post("/api/services/actio_bench/drain?return_response")
        answer = response["service_response"]
        return float(answer["max_lag_ms"]), float(answer["loop_cpu_s"])

    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.sleep(5)  # let Home Assistant finish starting up
        for hook in targets.values():  # warm-up, not counted
            await blast(
                session, f"{api.base}/api/webhook/{hook}", 1000, concurrency, Series()
            )
        await drain()
        order = list(targets)
        for round_no in range(rounds):
            shift = round_no % len(order)
            rotated = order[shift:] + order[:shift]
            for name in rotated:
                series = results[name]
                before, first = series.wall, len(series.latencies)
                await blast(
                    session,
                    f"{api.base}/api/webhook/{targets[name]}",
                    per_round,
                    concurrency,
                    series,
                )
                series.rounds.append(per_round / (series.wall - before))
                this_round = sorted(series.latencies[first:])
                series.round_p99.append(this_round[int(0.99 * len(this_round))] * 1000)
                lag, cpu = await drain()
                series.round_lag.append(lag)
                series.round_cpu.append(cpu / per_round * 1e6)
    return results


async def sim_requests(session: aiohttp.ClientSession, sim_url: str) -> int:
    """How many API requests the simulator has seen."""
    async with session.get(f"{sim_url}/_sim/requests") as resp:
        return len((await resp.json())["requests"])


async def bench_bulk(
    api: HassApi, sim_url: str, entry_id: str, count: int
) -> dict[str, tuple[int, float]]:
    """Requests and seconds for bulk on, bulk off and a sequential baseline."""
    session = api.session
    numbers = [f"48600{i:06d}" for i in range(count)]
    results: dict[str, tuple[int, float]] = {}
    async with session.post(f"{sim_url}/_sim/config", json={"latency": 0.02}) as resp:
        resp.raise_for_status()
    for label, bulk in (("bulk on (a)", True), ("bulk off, concurrency 4 (b)", False)):
        # Sending speed is measured here, not the spend guard.
        await set_options(
            api, entry_id, bulk_sending=bulk, daily_limit=0, duplicate_window=0
        )
        before = await sim_requests(session, sim_url)
        started = time.perf_counter()
        response = await api.post(
            "/api/services/actio_sms/send_message?return_response",
            {"message": "Bench", "recipients": numbers},
        )
        elapsed = time.perf_counter() - started
        assert len(response["service_response"]["messages"]) == count
        results[label] = (await sim_requests(session, sim_url) - before, elapsed)
    client = ActioClient(session, SIM_TOKEN, base_url=sim_url)
    before = await sim_requests(session, sim_url)
    started = time.perf_counter()
    for number in numbers:
        await client.send_sms(DEMO_SENDER, number, "Bench")
    results["sequential baseline (c)"] = (
        await sim_requests(session, sim_url) - before,
        time.perf_counter() - started,
    )
    async with session.post(f"{sim_url}/_sim/config", json={"latency": 0}) as resp:
        resp.raise_for_status()
    return results


def import_time() -> tuple[float, float]:
    """(own modules ms, cumulative ms) importing the package in a fresh interpreter."""
    proc = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            "import custom_components.actio_sms",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    own = 0
    cumulative = 0
    for line in proc.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s+(.*)$", line)
        if not match:
            continue
        name = match.group(3).strip()
        if name.startswith("custom_components.actio_sms"):
            own += int(match.group(1))
        if name == "custom_components.actio_sms":
            cumulative = int(match.group(2))
    return own / 1000, cumulative / 1000


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def bench_memory(
    base: str, webhook_id: str, pid: int, total: int, step: int
) -> list[tuple[int, float]]:
    """RSS after every ``step`` inbound messages."""
    points = [(0, rss_mb(pid))]
    connector = aiohttp.TCPConnector(limit=50)
    async with aiohttp.ClientSession(connector=connector) as session:
        for sent in range(step, total + 1, step):
            await blast(session, f"{base}/api/webhook/{webhook_id}", step, 50, Series())
            points.append((sent, rss_mb(pid)))
    return points


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


@dataclass
class Context:
    """What every part needs."""

    args: argparse.Namespace
    api: HassApi
    base: str
    sim_url: str
    entry_id: str
    webhook_id: str
    hass_pid: int
    restart: Callable[..., Process]
    setup: str
    summary: dict[str, dict[str, Any]]
    config_dir: Path


def _range(values: list[float], fmt: str = "{:.2f}") -> str:
    return f"{fmt.format(min(values))} to {fmt.format(max(values))}"


async def part_ingest(ctx: Context) -> list[str]:
    """1. Webhook ingest against the two baselines, in this hass's setup."""
    args = ctx.args
    print(
        f"1/6 webhook ingest ({ctx.setup}): {args.rounds} rounds of {args.requests} "
        f"posts per handler, concurrency {args.concurrency}",
        flush=True,
    )
    ingest = await bench_ingest(
        ctx.api, ctx.webhook_id, args.requests, args.concurrency, args.rounds
    )
    ours, noop, peer = ingest["ours"], ingest["noop (a)"], ingest["peer (b)"]
    floor = ingest["durable floor (c)"]
    floors = [f / p for f, p in zip(floor.rounds, peer.rounds, strict=True)]
    rows = [
        [
            name,
            f"{statistics.median(s.rounds):,.0f}",
            f"{s.pct(0.5):.1f}",
            f"{s.pct(0.99):.1f}",
            f"{max(s.round_lag):.0f}",
            f"{statistics.median(s.round_cpu):.0f}",
            str(s.errors),
        ]
        for name, s in ingest.items()
    ]
    ratios = [o / p for o, p in zip(ours.rounds, peer.rounds, strict=True)]
    p99s = [o / p for o, p in zip(ours.round_p99, peer.round_p99, strict=True)]
    ctx.summary[ctx.setup] = {
        "ratio": statistics.median(ratios),
        "ratios": ratios,
        "p99": ours.pct(0.99) / peer.pct(0.99),
        "lag": max(ours.round_lag),
        "floor": statistics.median(floors),
        "ours_floor": statistics.median(
            o / f for o, f in zip(ours.rounds, floor.rounds, strict=True)
        ),
    }
    return [
        f"## 1. Inbound webhook ingest, {ctx.setup} (real hass, real HTTP)",
        "",
        (
            f"{args.rounds} alternating rounds of {args.requests:,} `MESSAGE` posts per "
            f"handler, concurrency {args.concurrency}, after a warm-up; "
            + (
                "the recorder drained after every round, its time not counted."
                if ctx.setup == RECORDER
                else "no recorder."
            )
        ),
        "",
        table(
            [
                "handler",
                "req/s (median round)",
                "p50 ms",
                "p99 ms",
                "worst loop stall ms",
                "loop CPU µs/post",
                "errors",
            ],
            rows,
        ),
        "",
        f"- per-round ours / (b): {', '.join(f'{r:.2f}' for r in ratios)}",
        f"- ours / (a) no-op, median round: **{statistics.median(o / n for o, n in zip(ours.rounds, noop.rounds, strict=True)):.2f}**",
        (
            f"- ours / (b) peer (parse + one event), median round: **{statistics.median(ratios):.2f}** "
            f"(range {_range(ratios)}; target ≥ {TARGETS[ctx.setup]})"
        ),
        (
            f"- p99 ours / p99 (b): **{ours.pct(0.99) / peer.pct(0.99):.2f}** over the run, "
            f"{_range(p99s)} per round (target ≤ 1.25)"
        ),
        (
            f"- event-loop CPU per post, (b) / ours: **{statistics.median(peer.round_cpu) / statistics.median(ours.round_cpu):.2f}** "
            "(the same ratio, free of the load generator's own limit)"
        ),
        (
            f"- (c) durable floor / (b) peer, median round: **{statistics.median(floors):.2f}** "
            f"(range {_range(floors)}): the most any handler that answers only once the "
            "SMS is committed (one SQLite row, synchronous=FULL) reaches here"
        ),
        f"- ours / (c) durable floor, median round: **{ctx.summary[ctx.setup]['ours_floor']:.2f}**",
        f"- worst event-loop stall in our rounds: **{max(ours.round_lag):.0f} ms** (target ≤ 50)",
        "",
    ]


async def part_bulk(ctx: Context) -> list[str]:
    """2. Bulk send strategies."""
    count = ctx.args.recipients
    print(f"2/6 bulk send: {count:,} recipients, 20 ms simulator latency", flush=True)
    bulk = await bench_bulk(ctx.api, ctx.sim_url, ctx.entry_id, count)
    seq = bulk["sequential baseline (c)"][1]
    return [
        f"## 2. Bulk send ({count:,} recipients, 20 ms added latency)",
        "",
        table(
            ["strategy", "requests", "wall s", "speed-up vs (c)"],
            [[k, str(n), f"{t:.2f}", f"{seq / t:.1f}x"] for k, (n, t) in bulk.items()],
        ),
        "",
        "Targets: (a) 10 requests; (b) ≥ 3.5x faster than (c).",
        "",
    ]


async def part_setup(ctx: Context) -> list[str]:
    """3. Import time and setup time with a full history."""
    print("3/6 setup cost", flush=True)
    async with aiohttp.ClientSession() as load:  # fill the history to its bound
        await blast(
            load, f"{ctx.base}/api/webhook/{ctx.webhook_id}", 1000, 20, Series()
        )
    own, cumulative = import_time()
    setup = await ctx.api.post(
        "/api/services/actio_bench/measure_setup?return_response",
        {"runs": ctx.args.setup_runs},
    )
    durations = setup["service_response"]["ms"]
    history = setup["service_response"]["history"]
    return [
        "## 3. Setup cost",
        "",
        table(
            ["measure", "value"],
            [
                ["import `custom_components.actio_sms`: own modules", f"{own:.1f} ms"],
                [
                    "import, cumulative in a fresh interpreter (incl. HA modules it pulls in)",
                    f"{cumulative:.0f} ms",
                ],
                [
                    f"config-entry setup, {history:,}-message history, median of {len(durations)}",
                    f"**{statistics.median(durations):.1f} ms** (min {min(durations):.1f}, max {max(durations):.1f})",
                ],
            ],
        ),
        "",
        (
            "Target: setup median < 50 ms. Setup includes the credential probe (an HTTP round trip to the "
            "simulator), loading the stored history and setting up the platforms."
        ),
        "",
    ]


async def part_memory(ctx: Context) -> list[str]:
    """4. RSS while inbound messages keep arriving."""
    total = ctx.args.memory
    print(f"4/6 memory: {total:,} inbound messages", flush=True)
    points = await bench_memory(
        ctx.base, ctx.webhook_id, ctx.hass_pid, total, total // 10
    )
    return [
        f"## 4. Memory ({total:,} inbound messages, history bound 1,000)",
        "",
        table(
            ["messages", "hass RSS MiB"], [[f"{n:,}", f"{mb:.1f}"] for n, mb in points]
        ),
        "",
        (
            f"Growth from {points[1][0]:,} to {points[-1][0]:,} messages (bound long reached): "
            f"**{points[-1][1] - points[1][1]:+.1f} MiB**."
        ),
        "",
    ]


async def startup_window(ctx: Context, latency: float) -> tuple[float, float, float]:
    """Restart hass; seconds to the first HTTP answer, ours, and a loaded entry.

    Ours is the first 400 to an invalid payload: HA itself answers 200 while
    the webhook is not registered.
    """
    async with ctx.api.session.post(
        f"{ctx.sim_url}/_sim/config", json={"latency": latency}
    ) as resp:
        resp.raise_for_status()
    proc = ctx.restart()
    started = time.monotonic()
    url = f"{ctx.base}/api/webhook/{ctx.webhook_id}"
    first_http: float | None = None
    ours: float | None = None
    timeout = aiohttp.ClientTimeout(total=1)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while ours is None:
            if proc.proc.poll() is not None or time.monotonic() - started > 300:
                msg = "hass did not come up"
                raise RuntimeError(msg)
            try:
                async with session.post(url, json={"type": "MESSAGE"}) as resp:
                    now = time.monotonic() - started
                    first_http = first_http if first_http is not None else now
                    if resp.status == 400:
                        ours = now
            except aiohttp.ClientError, TimeoutError:
                pass
            await asyncio.sleep(0.005)
        api = HassApi(ctx.base, ctx.api.token, session)
        await api.wait_loaded(timeout=300)
        loaded = time.monotonic() - started
    assert first_http is not None
    return first_http, ours, loaded


async def part_startup(ctx: Context) -> list[str]:
    """5. The startup window in which ACTIO's posts would be lost."""
    print("5/6 startup window: restarts with the API fast and slow", flush=True)
    rows = []
    for latency in (0.0, 3.0):
        first_http, ours, loaded = await startup_window(ctx, latency)
        rows.append(
            [
                f"{latency:.0f} s",
                f"{first_http:.2f}",
                f"{ours:.2f}",
                f"**{ours - first_http:.2f}**",
                f"{loaded:.2f}",
                f"{loaded - first_http:.2f}",
            ]
        )
    async with ctx.api.session.post(
        f"{ctx.sim_url}/_sim/config", json={"latency": 0}
    ) as resp:
        resp.raise_for_status()
    return [
        "## 5. Startup window (posts lost while HTTP answers and we are not registered)",
        "",
        table(
            [
                "ACTIO API latency",
                "first HTTP answer s",
                "our webhook answers s",
                "window s (ours)",
                "entry loaded s",
                "window s if registered at entry setup (0.1)",
            ],
            rows,
        ),
        "",
        (
            "Seconds from starting the `hass` process. The webhook is registered when the "
            "integration is set up, before any entry's credential probe; 0.1 registered it at "
            "the end of the entry's setup, after the probe, so its window ran to the entry "
            "being loaded."
        ),
        "",
    ]


async def received_count(api: HassApi) -> int:
    """The entry's persisted count of inbound SMS (its sensor)."""
    for state in await api.get("/api/states"):
        if state["entity_id"].endswith("_messages_received"):
            return int(state["state"])
    msg = "no messages_received sensor"
    raise RuntimeError(msg)


async def killed_burst(ctx: Context, after: float) -> tuple[int, int]:
    """Post a burst, SIGKILL hass ``after`` s in; (posts answered 200, kept)."""
    before = await received_count(ctx.api)
    url = f"{ctx.base}/api/webhook/{ctx.webhook_id}"
    accepted = 0
    stop = asyncio.Event()

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal accepted
        while not stop.is_set():
            try:
                async with session.post(url, json=PAYLOAD) as resp:
                    await resp.read()
                    accepted += resp.status == 200
            except aiohttp.ClientError:
                return

    async with aiohttp.ClientSession() as session:
        workers = [asyncio.create_task(worker(session)) for _ in range(20)]
        await asyncio.sleep(after)
        ctx.restart(kill=True)
        stop.set()
        await asyncio.gather(*workers)
    await wait_http(f"{ctx.base}/manifest.json", 300)
    await ctx.api.wait_loaded(timeout=300)
    await asyncio.sleep(1)  # the counter sensor's first write
    return accepted, await received_count(ctx.api) - before


async def part_kill(ctx: Context) -> list[str]:
    """6. What a SIGKILL during a burst loses of what was answered 200."""
    print("6/6 kill -9 during a burst", flush=True)
    rows = []
    for after in (2.0, 5.0, 8.5):
        accepted, kept = await killed_burst(ctx, after)
        rows.append(
            [
                f"{after:.1f} s",
                f"{accepted:,}",
                f"{kept:,}",
                f"**{max(0, accepted - kept):,}**",
                f"{max(0, kept - accepted):,}",
            ]
        )
    return [
        "## 6. `kill -9` during a burst (what a 200 does not survive)",
        "",
        table(
            [
                "killed after",
                "posts answered 200",
                "kept after restart",
                "lost",
                "kept, answer cut by the kill",
            ],
            rows,
        ),
        "",
        (
            "A post is answered 200 once the transaction holding it is committed to the "
            "message database (SQLite, WAL, synchronous=FULL; posts arriving together share "
            "a commit). A post committed but whose answer the kill cut off is kept too "
            "(ACTIO saw an error for it, and does not retry)."
        ),
        "",
    ]


BUSY_NUMBER = "48600000007"
"""One of the 200 counterparts of a prefilled history: 1 in 200 messages."""
V020_HISTORY = """\
v0.2.0, measured for issue 24 (`history_size` at its then maximum, 100,000; lean;
medians of repeated runs): the whole log was rewritten by a delayed `Store`
snapshot, 10 s after the first change, so each SMS a few minutes apart cost a
full rewrite and fsync.

| history | Store snapshot | snapshot: event-loop stall | RSS added | load at start | `get_messages` for one number |
|---|---|---|---|---|---|
| 1k | 0.25 MB | ~0 ms | +1 MB | 2.5 ms | 0.9 ms |
| 10k | 2.5 MB | 3 ms (up to 20) | +6 MB | 16 ms | 1.1\N{EN DASH}2.3 ms |
| 100k | **24.8 MB** | **45\N{EN DASH}60 ms** | **+62\N{EN DASH}85 MB** | 160 ms (70\N{EN DASH}100 ms blocking) | **10.6 ms** (p95 20) |

Ingest (v0.2.0): p50 ~4 ms, ~4,200 posts/s at every size."""


def prefill(path: Path, count: int, own: str) -> None:
    """A fresh database holding ``count`` messages, written directly (hass down).

    70 % received, 30 % sent and delivered, from and to 200 numbers, spread
    over the last 300 days (inside the default year of history).
    """
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = Database(path)
    db.open()
    conn = db.conn
    start = datetime.now(UTC) - timedelta(days=300)
    step = timedelta(days=299) / max(count, 1)
    received = sum(1 for i in range(count) if i % 10 < 7)

    def rows() -> Any:
        for i in range(count):
            at = (start + step * i).isoformat(timespec="milliseconds")
            number = f"48600{i % 200:06d}"
            body = f"Wiadomość {i}: zażółć gęślą jaźń, do zobaczenia o {i % 24}:00"
            if i % 10 < 7:
                yield (i + 1, 0, number, own, at, body, None, None, None, None, None, 0)
            else:
                yield (
                    *(i + 1, 1, number, None, at, body, f"{i:016x}", 1),
                    *("delivered", at, None, 0),
                )

    conn.execute("BEGIN")
    conn.executemany(INSERT, rows())
    db.rebuild_conversations()
    counters = {
        "received": received,
        "sent": count - received,
        "delivered": count - received,
        "failed": 0,
    }
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('counters', ?)",
        (json.dumps(counters),),
    )
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('owns', ?)",
        (json.dumps([own]),),
    )
    db.next_id = count + 1
    db._write_rows(count)
    conn.execute("COMMIT")
    db.close()


async def history_ingest(
    ctx: Context, per_round: int, rounds: int
) -> tuple[dict[str, Series], float]:
    """Ours against the peer baseline, alternating; the worst stall in ours."""
    targets = {"ours": ctx.webhook_id, "peer": "bench-peer"}
    results = {name: Series() for name in targets}
    worst = 0.0
    connector = aiohttp.TCPConnector(limit=50)
    async with aiohttp.ClientSession(connector=connector) as session:
        for hook in targets.values():  # warm-up, not counted
            await blast(session, f"{ctx.base}/api/webhook/{hook}", 500, 50, Series())
        await ctx.api.post("/api/services/actio_bench/drain?return_response")
        for _ in range(rounds):
            for name, hook in targets.items():
                series = results[name]
                before = series.wall
                await blast(
                    session, f"{ctx.base}/api/webhook/{hook}", per_round, 50, series
                )
                series.rounds.append(per_round / (series.wall - before))
                answer = await ctx.api.post(
                    "/api/services/actio_bench/drain?return_response"
                )
                if name == "ours":
                    worst = max(worst, float(answer["service_response"]["max_lag_ms"]))
    return results, worst


def _span(values: list[float], fmt: str = "{:.1f}") -> str:
    low, high = fmt.format(min(values)), fmt.format(max(values))
    return low if low == high else f"{low}\N{EN DASH}{high}"


def _column(
    probes: list[dict[str, Any]], key: str, fmt: str = "{:.1f}", scale: float = 1.0
) -> str:
    return _span([p[key] * scale for p in probes], fmt)


def _latency(probes: list[dict[str, Any]], key: str) -> str:
    """Median (p95) in ms, each a range over the probes."""
    return (
        f"{_span([p[key][0] for p in probes], '{:.2f}')} "
        f"({_span([p[key][1] for p in probes], '{:.2f}')})"
    )


async def part_history(ctx: Context) -> list[str]:
    """7. The message store at 1k to 1M messages."""
    args = ctx.args
    sizes = [int(n) for n in args.history_sizes.split(",")]
    print(
        f"7 history scale: {', '.join(f'{n:,}' for n in sizes)} messages, "
        f"{args.history_rounds} probe(s) each",
        flush=True,
    )
    # history_size at its maximum: nothing is deleted below 1M.
    await set_options(
        ctx.api,
        ctx.entry_id,
        history_size=1_000_000,
        history_days=3650,
        daily_limit=0,
        duplicate_window=0,
    )
    path = ctx.config_dir / ".storage" / f"actio_sms.{ctx.entry_id}.db"
    store_rows: list[list[str]] = []
    write_rows: list[list[str]] = []
    for count in sizes:
        started = time.monotonic()
        proc = ctx.restart(
            prepare=lambda count=count: prefill(path, count, DEMO_SENDER)
        )
        filled = time.monotonic() - started
        await wait_http(f"{ctx.base}/manifest.json", 300, proc)
        await ctx.api.wait_loaded(timeout=300)
        await asyncio.sleep(5)  # let Home Assistant finish starting up
        size_mb = path.stat().st_size / 1e6
        probes = []
        for _ in range(args.history_rounds):
            answer = await ctx.api.post(
                "/api/services/actio_bench/store_probe?return_response",
                {"number": BUSY_NUMBER},
            )
            probes.append(answer["service_response"])
        ingest, stall = await history_ingest(
            ctx, args.history_requests, args.history_rounds
        )
        ours, peer = ingest["ours"], ingest["peer"]
        print(
            f"  {count:,}: prefilled and restarted in {filled:.0f} s; "
            f"{probes[-1]['history']:,} messages",
            flush=True,
        )

        col = partial(_column, probes)
        lat = partial(_latency, probes)
        label = f"{count:,}"
        store_rows.append(
            [
                label,
                f"{size_mb:.1f} MB",
                col("load_ms"),
                col("check_ms", "{:.0f}"),
                col("load_stall_ms"),
                col("rss_added_mb", "{:+.1f}"),
                lat("latest"),
                lat("by_number"),
                lat("absent"),
            ]
        )
        write_rows.append(
            [
                label,
                col("sparse_wchar", "{:.1f}", 1 / 1024),
                col("sparse_wchar_ckpt", "{:.1f}", 1 / 1024),
                col("sparse_write_bytes", "{:.1f}", 1 / 1024),
                f"{col('sparse_stall_ms')} ({col('idle_stall_ms')})",
                f"{_span(ours.rounds, '{:,.0f}')} / {_span(peer.rounds, '{:,.0f}')}",
                f"{ours.pct(0.5):.1f} / {ours.pct(0.99):.1f}",
                f"{peer.pct(0.99):.1f}",
                f"{stall:.0f}",
            ]
        )
    return [
        "## 7. History scale (the SQLite message store)",
        "",
        (
            f"The entry's database prefilled directly with each size (70 % received, 30 % "
            f"sent, 200 numbers, over 300 days; `history_size` 1,000,000), then Home Assistant "
            f"restarted, lean. {args.history_rounds} probe(s) per size (ranges when they differ): "
            "get_messages through the action, 50 calls each, median (p95); "
            f"`{BUSY_NUMBER}` holds 1 in 200 messages. Load: a second instance of the store "
            "opened as at a start, until it accepts calls; its first job, `PRAGMA quick_check`, "
            "follows (posts arriving meanwhile queue behind it). RSS added: that instance's "
            "process RSS growth after the check and one query."
        ),
        "",
        table(
            [
                "history",
                "database",
                "load ms (ready)",
                "quick_check ms",
                "loop stall at load ms",
                "RSS added MB",
                "latest ms",
                "by number ms",
                "absent number ms",
            ],
            store_rows,
        ),
        "",
        (
            "Writes: 50 SMS a few ms apart, each awaited (a transaction each, as SMS minutes "
            "apart): bytes handed to `write()` per SMS (`/proc/self/io` wchar of the hass "
            "process: the write-ahead log, then with a checkpoint copying its pages into the "
            "database), and what reached the block layer (`write_bytes`, file system "
            "included); worst event-loop stall meanwhile (a 1 ms tick), and over as long "
            "without writes (idle: what the loop does anyway). Ingest: "
            f"{args.history_rounds} alternating rounds of {args.history_requests:,} posts, "
            "concurrency 50, ours and the peer baseline (parse + one event)."
        ),
        "",
        table(
            [
                "history",
                "KiB/SMS to log",
                "KiB/SMS incl. checkpoint",
                "KiB/SMS block layer",
                "stall, sparse writes ms (idle)",
                "ingest posts/s ours / peer",
                "ours p50 / p99 ms",
                "peer p99 ms",
                "worst stall, ingest ms",
            ],
            write_rows,
        ),
        "",
        (
            "Targets at 100k: ≤ 16 KiB per sparse SMS, store stall < 5 ms, RSS added < 15 MB, "
            "load < 30 ms, get_messages by number < 2 ms; at 1M within 2x."
        ),
        "",
        V020_HISTORY,
        "",
    ]


PARTS = {
    "1": part_ingest,
    "2": part_bulk,
    "3": part_setup,
    "4": part_memory,
    "5": part_startup,
    "6": part_kill,
    "7": part_history,
}
HISTORY_BEGIN = "<!-- history scale -->"
HISTORY_END = "<!-- /history scale -->"


def merge_results(report: str, parts: str) -> str:
    """The results file: this run, keeping the other kind of run's section.

    Part 7 runs on its own (it restarts hass with a prefilled database): a
    run of it replaces only its section; a run without it keeps the last one.
    """
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    history = re.search(
        re.escape(HISTORY_BEGIN) + ".*?" + re.escape(HISTORY_END), old, re.DOTALL
    )
    if "7" in parts:
        section = re.search(
            r"^## 7\. .*?(?=^Total benchmark time|\Z)", report, re.DOTALL | re.MULTILINE
        )
        block = f"{HISTORY_BEGIN}\n{section.group(0).strip() if section else ''}\n{HISTORY_END}"
        if parts.strip("7"):
            return (
                report.replace(section.group(0), "") + "\n" + block + "\n"
                if section
                else report
            )
        if history:
            return old.replace(history.group(0), block)
        return old.rstrip("\n") + "\n\n" + block + "\n"
    if history:
        return report.rstrip("\n") + "\n\n" + history.group(0) + "\n"
    return report


async def run_setup(
    args: argparse.Namespace, setup: str, parts: str, summary: dict[str, Any]
) -> list[str]:
    """Start the simulator and a hass in ``setup``; run ``parts`` there."""
    config_dir = Path(tempfile.mkdtemp(prefix="actio-bench-"))
    ha_port, sim_port = free_port(), free_port()
    write_config(config_dir, ha_port, recorder=setup == RECORDER)
    base, sim_url = f"http://127.0.0.1:{ha_port}", f"http://127.0.0.1:{sim_port}"
    sim = start_simulator(sim_port, config_dir / "simulator.log")
    hass = start_hass(config_dir, config_dir / "hass.log")
    report: list[str] = []

    def restart(
        *, kill: bool = False, prepare: Callable[[], None] | None = None
    ) -> Process:
        nonlocal hass
        if kill:
            hass.proc.kill()
        hass.stop()
        if prepare is not None:  # while hass is down
            prepare()
        hass = start_hass(config_dir, config_dir / "hass.log")
        return hass

    try:
        await wait_http(f"{sim_url}/_sim/config", 30, sim)
        await wait_http(f"{base}/manifest.json", 300, hass)
        async with aiohttp.ClientSession() as session:
            token = await onboard(base, session)
            api = HassApi(base, token, session)
            result = await api.add_entry(SIM_TOKEN, sim_url)
            webhook_url = result["description_placeholders"]["webhook_url"]
            await set_sim_webhook(sim_url, webhook_url, session)
            ctx = Context(
                args,
                api,
                base,
                sim_url,
                result["result"]["entry_id"],
                webhook_url.rsplit("/", 1)[-1],
                hass.proc.pid,
                restart,
                setup,
                summary,
                config_dir,
            )
            if args.profile:
                await api.post(
                    "/api/services/actio_bench/profile?return_response",
                    {"action": "start"},
                )
            for part in parts:
                report += await PARTS[part](ctx)
            if args.profile:
                path = f"{args.profile}-{'recorder' if setup == RECORDER else 'lean'}"
                await api.post(
                    "/api/services/actio_bench/profile?return_response",
                    {"action": "stop", "path": path},
                )
                print(f"profile of the event loop written to {path}")
    finally:
        hass.stop()
        sim.stop()
        if not os.environ.get("ACTIO_BENCH_KEEP"):
            shutil.rmtree(config_dir, ignore_errors=True)
    return report


async def run(args: argparse.Namespace) -> str:
    """Run the chosen parts: ingest in both setups, the rest in the lean one."""
    summary: dict[str, Any] = {}
    report: list[str] = []
    setups = {"lean": LEAN, "recorder": RECORDER}
    for name in args.setups.split(","):
        setup = setups[name]
        parts = "".join(p for p in args.parts if setup == LEAN or p == "1")
        if parts:
            report += await run_setup(args, setup, parts, summary)
    lines = [
        "# Benchmark results",
        "",
        (
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, Home Assistant {ha_version()}. Reproduce with `scripts/bench`."
        ),
        "",
    ]
    if len(summary) > 1:
        lines += [
            "## Inbound ingest, both setups side by side",
            "",
            table(
                [
                    "setup",
                    "ours / peer (median round)",
                    "range over rounds",
                    "target",
                    "p99 ours / peer",
                    "worst stall ms",
                    "durable floor / peer",
                    "ours / durable floor",
                ],
                [
                    [
                        setup,
                        f"**{row['ratio']:.2f}**",
                        _range(row["ratios"]),
                        f"≥ {TARGETS[setup]}",
                        f"{row['p99']:.2f}",
                        f"{row['lag']:.0f}",
                        f"{row['floor']:.2f}",
                        f"{row['ours_floor']:.2f}",
                    ]
                    for setup, row in summary.items()
                ],
            ),
            "",
        ]
    return "\n".join(lines + report)


def ha_version() -> str:
    """The installed Home Assistant version."""
    from homeassistant.const import __version__  # noqa: PLC0415

    return __version__


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument(
        "--requests", type=int, default=5000, help="webhook posts per handler and round"
    )
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--setup-runs", type=int, default=20)
    parser.add_argument(
        "--memory",
        type=int,
        default=100_000,
        help="inbound messages for the memory run",
    )
    parser.add_argument(
        "--parts",
        default="123456",
        help=(
            "which parts to run, e.g. 1 or 34; 7 is the history scale of the message "
            "store (1k to 1M messages, several minutes; not in the default)"
        ),
    )
    parser.add_argument(
        "--history-sizes",
        default="1000,10000,100000,1000000",
        help="part 7: history sizes, comma-separated",
    )
    parser.add_argument(
        "--history-rounds", type=int, default=2, help="part 7: probes per size"
    )
    parser.add_argument(
        "--history-requests",
        type=int,
        default=2000,
        help="part 7: webhook posts per handler and round at each size",
    )
    parser.add_argument(
        "--setups",
        default="lean,recorder",
        help="where ingest runs: lean (no recorder), recorder (default install)",
    )
    parser.add_argument(
        "--profile",
        metavar="PATH",
        help="cProfile the event loop during the parts, written to PATH-<setup>",
    )
    parser.add_argument(
        "--no-write", action="store_true", help="do not write benchmarks/results.md"
    )
    args = parser.parse_args()
    if args.profile:
        args.profile = str(Path(args.profile).resolve())
    started = time.monotonic()
    report = asyncio.run(run(args))
    report += f"\nTotal benchmark time: {time.monotonic() - started:.0f} s.\n"
    print("\n" + report)
    if not args.no_write:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(merge_results(report, args.parts), encoding="utf-8")
        print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
