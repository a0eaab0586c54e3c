"""A real Home Assistant process and ACTIO simulator, shared by the e2e tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
import os
from pathlib import Path
import shutil
import tempfile
import time
import urllib.request

import pytest
import pytest_socket

from devtools.hass import Process, free_port, start_hass, start_simulator, write_config

ARTIFACTS = Path(__file__).parent / "artifacts"
SECOND_SENDER = "48732129001"


@dataclass
class Stack:
    """The processes under test and where they listen."""

    config_dir: Path
    base: str
    sim_url: str
    hass: Process
    sim: Process
    token: str = ""
    webhook_url: str = ""

    def restart_hass(self, *, kill: bool = False) -> float:
        """Stop HA (gracefully, or SIGKILL) and start it again; return the seconds."""
        started = time.monotonic()
        if kill:
            self.hass.proc.kill()
            self.hass.stop()
        else:
            log = self.hass.log.read_text(encoding="utf-8")[-3000:]
            assert self.hass.stop() == 0, log
        self.hass = start_hass(self.config_dir, self.config_dir / "hass.log")
        wait_sync(f"{self.base}/manifest.json", self.hass)
        return time.monotonic() - started


def wait_sync(url: str, proc: Process, timeout: float = 180) -> None:
    """Wait for ``url`` to answer, outside any event loop."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.proc.poll() is not None:
            pytest.fail(
                f"process exited: {proc.log.read_text(encoding='utf-8')[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return
        except OSError:
            time.sleep(0.25)
    pytest.fail(f"{url} did not answer in {timeout} s")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """The e2e tests use a real hass process, not the test harness's hass."""


NEIGHBOUR = {
    "manifest.json": (
        '{"domain": "e2e_neighbour", "name": "Another custom integration",'
        ' "codeowners": [], "documentation": "https://example.invalid",'
        ' "iot_class": "local_push", "requirements": [], "version": "1.0.0"}'
    ),
    "__init__.py": (
        "async def async_setup(hass, config):\n"
        "    hass.states.async_set('sensor.e2e_neighbour', 'here')\n"
        "    return True\n"
    ),
}


def add_neighbour(config_dir: Path) -> None:
    """Another custom integration beside ours, as HACS or a user puts one."""
    folder = config_dir / "custom_components" / "e2e_neighbour"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in NEIGHBOUR.items():
        (folder / name).write_text(text, encoding="utf-8")
    with (config_dir / "configuration.yaml").open("a", encoding="utf-8") as config:
        config.write("e2e_neighbour:\n")


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """Simulator + hass on free ports in a temporary config dir."""
    pytest_socket.enable_socket()
    config_dir = Path(tempfile.mkdtemp(prefix="actio-e2e-"))
    ha_port, sim_port = free_port(), free_port()
    write_config(config_dir, ha_port)
    add_neighbour(config_dir)
    # A second virtual number for a second entry (Activity names each).
    sim = start_simulator(
        sim_port,
        config_dir / "simulator.log",
        *("--sender", "48732129000", "--sender", SECOND_SENDER),
    )
    hass = start_hass(config_dir, config_dir / "hass.log")
    stack = Stack(
        config_dir,
        f"http://127.0.0.1:{ha_port}",
        f"http://127.0.0.1:{sim_port}",
        hass,
        sim,
    )
    try:
        wait_sync(f"{stack.sim_url}/_sim/config", sim)
        wait_sync(f"{stack.base}/manifest.json", hass)
        yield stack
    finally:
        stack.hass.stop()
        sim.stop()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(config_dir / "hass.log", ARTIFACTS / "hass.log")
        if not os.environ.get("ACTIO_E2E_KEEP"):
            shutil.rmtree(config_dir, ignore_errors=True)
