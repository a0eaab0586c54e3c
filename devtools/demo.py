"""The live demo behind scripts/develop: simulator + Home Assistant + entry."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from pathlib import Path
import shutil
import signal
import time

import aiohttp

from .hass import (
    DEMO_PASSWORD,
    DEMO_USER,
    ROOT,
    HassApi,
    link_integration,
    onboard,
    onboarded,
    set_options,
    set_sim_webhook,
    start_hass,
    start_simulator,
    wait_http,
)

CONFIG = ROOT / "config"
STATE_FILE = CONFIG / ".actio_demo.json"
SIM_TOKEN = "demo-token"  # noqa: S105 - the simulator's documented demo token
DEMO_PHONE = "48600100200"  # the phone page's default sender
DEMO_PIN = "4321"
SECOND_SENDER = "48732129001"


# What configuration.yaml includes, created empty when missing (the UI's
# automation, script and scene editors write to them).
INCLUDED = {"automations.yaml": "[]\n", "scripts.yaml": "{}\n", "scenes.yaml": "[]\n"}
BLUEPRINTS = Path("blueprints") / "automation" / "actio_sms"


def prepare_config(config: Path, root: Path = ROOT) -> None:
    """Create the included files if missing; copy the repository's blueprints.

    The blueprints are copied on every start, so config/ has this checkout's
    versions (importing them from the repository's URL needs the internet).
    """
    config.mkdir(parents=True, exist_ok=True)
    for name, empty in INCLUDED.items():
        path = config / name
        if not path.exists():
            path.write_text(empty, encoding="utf-8")
    target = config / BLUEPRINTS
    target.mkdir(parents=True, exist_ok=True)
    for blueprint in sorted((root / BLUEPRINTS).glob("*.yaml")):
        shutil.copyfile(blueprint, target / blueprint.name)


# Onboarding adds these; with no internet they fail and show red cards.
ONLINE_ONLY = frozenset({"google_translate", "met", "radio_browser"})


async def remove_online_only_entries(api: HassApi, timeout: float = 15) -> None:
    """Delete what onboarding added that needs the internet, once it appears."""
    deadline = time.monotonic() + timeout
    removed: set[str] = set()
    while removed != ONLINE_ONLY and time.monotonic() < deadline:
        for entry in await api.get("/api/config/config_entries/entry"):
            if entry["domain"] in ONLINE_ONLY:
                await api.delete(
                    f"/api/config/config_entries/entry/{entry['entry_id']}"
                )
                removed.add(entry["domain"])
        await asyncio.sleep(0.5)


async def prepare(
    base: str, sim_url: str, session: aiohttp.ClientSession
) -> dict[str, str]:
    """Onboard and add the entry on first start; reuse them afterwards."""
    state: dict[str, str] = {}
    if STATE_FILE.exists():
        state = json.loads(STATE_FILE.read_text(encoding="utf-8"))
    api: HassApi | None = None
    if not await onboarded(base, session):
        state = {"token": await onboard(base, session)}
        api = HassApi(base, state["token"], session)
        await remove_online_only_entries(api)
    api = api or HassApi(base, state["token"], session)
    if not await api.entries():
        result = await api.add_entry(SIM_TOKEN, sim_url)
        if result.get("type") != "create_entry":
            msg = f"config flow did not create the entry: {result}"
            raise RuntimeError(msg)
        state["webhook_url"] = result["description_placeholders"]["webhook_url"]
        state["entry_id"] = result["result"]["entry_id"]
        # Control by SMS from the phone page's number, with a demo PIN.
        await set_options(
            api,
            state["entry_id"],
            command_senders=[DEMO_PHONE],
            command_pin=DEMO_PIN,
            command_reply=True,
        )
    STATE_FILE.write_text(json.dumps(state, indent=2), encoding="utf-8")
    STATE_FILE.chmod(0o600)
    await set_sim_webhook(sim_url, state["webhook_url"], session)
    await api.wait_loaded()
    return state


async def main() -> None:
    """Run until Ctrl-C."""
    ha_port = int(os.environ.get("ACTIO_HA_PORT", "8123"))
    sim_port = int(os.environ.get("ACTIO_SIM_PORT", "8125"))
    base = f"http://127.0.0.1:{ha_port}"
    sim_url = f"http://127.0.0.1:{sim_port}"
    prepare_config(CONFIG)
    link_integration(CONFIG)
    sim = start_simulator(
        sim_port,
        CONFIG / "simulator.log",
        "--auto-deliver",
        "3",
        # A second number, for trying a second entry (README).
        *("--sender", "48732129000", "--sender", SECOND_SENDER),
    )
    hass = start_hass(CONFIG, CONFIG / "hass.log")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await wait_http(f"{sim_url}/_sim/config", 30, sim)
        print("Starting Home Assistant (the first start takes a minute)...", flush=True)
        await wait_http(f"{base}/manifest.json", 300, hass)
        async with aiohttp.ClientSession() as session:
            state = await prepare(base, sim_url, session)
        print(
            f"\n  Home Assistant:  {base}  (user {DEMO_USER!r}, password {DEMO_PASSWORD!r})"
            f"\n  ACTIO simulator: {sim_url}/  (phone page: send and receive SMS)"
            f"\n  Control by SMS:  from {DEMO_PHONE}, e.g. '{DEMO_PIN} turn on the kitchen light'"
            f"\n  API token:       {state['token']}"
            f"\n  (also in {STATE_FILE.relative_to(ROOT)}; logs in config/hass.log)"
            "\n\nPress Ctrl-C to stop both.\n",
            flush=True,
        )
        done = asyncio.ensure_future(stop.wait())
        while not done.done():
            if hass.proc.poll() is not None or sim.proc.poll() is not None:
                print("A process exited; stopping.", flush=True)
                break
            await asyncio.sleep(0.5)
        done.cancel()
    finally:
        print("Stopping...", flush=True)
        hass.stop()
        sim.stop()


def run() -> None:
    """Entry point."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


if __name__ == "__main__":
    run()
