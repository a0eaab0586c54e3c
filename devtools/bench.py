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
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
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

from custom_components.actio_sms.api import ActioClient

from .hass import (
    DEMO_SENDER,
    ROOT,
    HassApi,
    Process,
    free_port,
    onboard,
    set_sim_webhook,
    start_hass,
    start_simulator,
    wait_http,
)

RESULTS = ROOT / "benchmarks" / "results.md"
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
    "__init__.py": '''"""Baseline webhooks and a setup-time probe for scripts/bench."""

import time

from aiohttp import web

from homeassistant.components import webhook
from homeassistant.core import HomeAssistant, ServiceCall, SupportsResponse


async def _noop(hass, webhook_id, request):
    return web.Response(status=200)


async def _peer(hass, webhook_id, request):
    # What a peer integration (core's twilio, say) does: parse, fire, answer.
    data = await request.json()
    hass.bus.async_fire("actio_bench_event", data)
    return web.Response(status=200)


async def async_setup(hass: HomeAssistant, config) -> bool:
    webhook.async_register(hass, "actio_bench", "noop", "bench-noop", _noop, local_only=False, allowed_methods=["POST"])
    webhook.async_register(hass, "actio_bench", "peer", "bench-peer", _peer, local_only=False, allowed_methods=["POST"])

    async def measure_setup(call: ServiceCall):
        entry = hass.config_entries.async_entries("actio_sms")[0]
        durations = []
        for _ in range(call.data.get("runs", 20)):
            await hass.config_entries.async_unload(entry.entry_id)
            start = time.perf_counter()
            await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
            durations.append((time.perf_counter() - start) * 1000)
        return {"ms": durations, "history": len(entry.runtime_data.log.records)}

    hass.services.async_register("actio_bench", "measure_setup", measure_setup, supports_response=SupportsResponse.ONLY)
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

    @property
    def throughput(self) -> float:
        """Requests per second."""
        return len(self.latencies) / self.wall if self.wall else 0.0

    def pct(self, q: float) -> float:
        """Latency percentile in ms."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def write_config(config_dir: Path, port: int) -> None:
    """A lean HA config: no recorder, no frontend, warnings only."""
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
        ),
        encoding="utf-8",
    )
    # A regular package (with __init__.py), found first: a namespace package
    # would lose this folder once HA takes the config dir off sys.path.
    package = config_dir / "custom_components"
    bench = package / "actio_bench"
    bench.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "actio_sms").symlink_to(ROOT / "custom_components" / "actio_sms")
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
            async with session.post(url, json=PAYLOAD) as resp:
                await resp.read()
                if resp.status != 200:
                    series.errors += 1
            series.latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    series.wall += time.perf_counter() - started


async def bench_ingest(
    base: str, webhook_id: str, total: int, concurrency: int, rounds: int
) -> dict[str, Series]:
    """Alternate rounds over the three webhooks so noise hits all alike."""
    targets = {"ours": webhook_id, "noop (a)": "bench-noop", "peer (b)": "bench-peer"}
    results = {name: Series() for name in targets}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.sleep(5)  # let Home Assistant finish starting up
        for hook in targets.values():  # warm-up, not counted
            await blast(
                session, f"{base}/api/webhook/{hook}", 1000, concurrency, Series()
            )
        per_round = total // rounds
        order = list(targets)
        for round_no in range(rounds):
            rotated = order[round_no % 3 :] + order[: round_no % 3]
            for name in rotated:
                before = results[name].wall
                await blast(
                    session,
                    f"{base}/api/webhook/{targets[name]}",
                    per_round,
                    concurrency,
                    results[name],
                )
                results[name].rounds.append(per_round / (results[name].wall - before))
    return results


async def set_options(api: HassApi, entry_id: str, **options: Any) -> None:
    """Run the options flow through the REST API."""
    flow = await api.post(
        "/api/config/config_entries/options/flow", {"handler": entry_id}
    )
    values = {
        "bulk_sending": False,
        "concurrency": 4,
        "encoding": "ucs2",
        "default_recipients": [],
        "allowed_sources": False,
        "history_size": 1000,
        "history_days": 30,
    } | options
    result = await api.post(
        f"/api/config/config_entries/options/flow/{flow['flow_id']}", values
    )
    assert result["type"] == "create_entry", result
    await asyncio.sleep(0.5)  # the entry reloads


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
        await set_options(api, entry_id, bulk_sending=bulk)
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
    restart: Callable[[], Process]


async def part_ingest(ctx: Context) -> list[str]:
    """1. Webhook ingest against the two baselines."""
    args = ctx.args
    print(
        f"1/5 webhook ingest: {args.requests} requests each, concurrency {args.concurrency}",
        flush=True,
    )
    ingest = await bench_ingest(
        ctx.base, ctx.webhook_id, args.requests, args.concurrency, args.rounds
    )
    ours, noop, peer = ingest["ours"], ingest["noop (a)"], ingest["peer (b)"]
    rows = [
        [
            name,
            f"{s.throughput:,.0f}",
            f"{s.pct(0.5):.1f}",
            f"{s.pct(0.99):.1f}",
            str(s.errors),
        ]
        for name, s in ingest.items()
    ]
    return [
        "## 1. Inbound webhook ingest (real hass, real HTTP)",
        "",
        (
            f"{args.requests:,} `MESSAGE` posts per handler, concurrency {args.concurrency}, "
            f"{args.rounds} alternating rounds after a warm-up."
        ),
        "",
        table(["handler", "req/s", "p50 ms", "p99 ms", "errors"], rows),
        "",
        f"- per-round ours / (b): {', '.join(f'{o / p:.2f}' for o, p in zip(ours.rounds, peer.rounds, strict=True))}",
        f"- ours / (a) no-op: **{ours.throughput / noop.throughput:.2f}**",
        f"- ours / (b) peer (parse + one event): **{ours.throughput / peer.throughput:.2f}** (target ≥ 0.75)",
        f"- p99 ours / p99 (b): **{ours.pct(0.99) / peer.pct(0.99):.2f}** (target ≤ 1.5)",
        "",
    ]


async def part_bulk(ctx: Context) -> list[str]:
    """2. Bulk send strategies."""
    count = ctx.args.recipients
    print(f"2/5 bulk send: {count:,} recipients, 20 ms simulator latency", flush=True)
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
    print("3/5 setup cost", flush=True)
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
    print(f"4/5 memory: {total:,} inbound messages", flush=True)
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
    print("5/5 startup window: restarts with the API fast and slow", flush=True)
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


PARTS = {
    "1": part_ingest,
    "2": part_bulk,
    "3": part_setup,
    "4": part_memory,
    "5": part_startup,
}


async def run(args: argparse.Namespace) -> str:
    """Start everything, run the chosen parts, return the markdown report."""
    config_dir = Path(tempfile.mkdtemp(prefix="actio-bench-"))
    ha_port, sim_port = free_port(), free_port()
    write_config(config_dir, ha_port)
    base, sim_url = f"http://127.0.0.1:{ha_port}", f"http://127.0.0.1:{sim_port}"
    sim = start_simulator(sim_port, config_dir / "simulator.log")
    hass = start_hass(config_dir, config_dir / "hass.log")
    report: list[str] = []

    def restart() -> Process:
        nonlocal hass
        hass.stop()
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
            )
            for part in args.parts:
                report += await PARTS[part](ctx)
    finally:
        hass.stop()
        sim.stop()
        if not os.environ.get("ACTIO_BENCH_KEEP"):
            shutil.rmtree(config_dir, ignore_errors=True)
    header = [
        "# Benchmark results",
        "",
        (
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, Home Assistant {ha_version()}. Reproduce with `scripts/bench`."
        ),
        "",
    ]
    return "\n".join(header + report)


def ha_version() -> str:
    """The installed Home Assistant version."""
    from homeassistant.const import __version__  # noqa: PLC0415

    return __version__


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument(
        "--requests", type=int, default=5000, help="webhook posts per handler"
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
        "--parts", default="12345", help="which parts to run, e.g. 1 or 34"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="do not write benchmarks/results.md"
    )
    args = parser.parse_args()
    started = time.monotonic()
    report = asyncio.run(run(args))
    report += f"\nTotal benchmark time: {time.monotonic() - started:.0f} s.\n"
    print("\n" + report)
    if not args.no_write:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(report, encoding="utf-8")
        print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
