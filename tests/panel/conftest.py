"""The SMS panel in real Chromium against a fake Home Assistant (no hass fixture)."""

from __future__ import annotations

from collections.abc import AsyncIterator
import os
from pathlib import Path
import shutil

from aiohttp import web
import pytest
import pytest_socket

ROOT = Path(__file__).parent.parent.parent
FRONTEND = ROOT / "custom_components/actio_sms/frontend"
HARNESS = Path(__file__).parent / "harness.html"
ARTIFACTS = Path(__file__).parent / "artifacts"
PREFIX = "/actio-sms"

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As root on a closed network: no sandbox, no background connections.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """These tests load no integration into a test hass."""


async def _harness(request: web.Request) -> web.FileResponse:
    return web.FileResponse(HARNESS, headers={"Cache-Control": "no-store"})


@pytest.fixture
async def panel_server(socket_enabled: None) -> AsyncIterator[str]:
    """The frontend folder (as HA serves it) and the harness page on 127.0.0.1."""
    pytest_socket.enable_socket()
    app = web.Application()
    app.router.add_get(PREFIX, _harness)
    app.router.add_get(PREFIX + "/{tail:.*}", _harness)
    app.router.add_static("/frontend", FRONTEND)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def browser(panel_server: str) -> AsyncIterator[object]:
    """Debian's chromium through Playwright; skipped here when it is missing."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing; CI runs scripts/setup --e2e")
        pytest.skip("chromium not installed (scripts/setup --e2e installs it)")
    from playwright.async_api import async_playwright  # noqa: PLC0415

    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()
