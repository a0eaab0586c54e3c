"""The SMS panel and the integration triggers in a real Home Assistant, in Chromium."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import re
from typing import Any

import aiohttp
import pytest

from devtools.hass import DEMO_PASSWORD, DEMO_USER

from .conftest import ARTIFACTS, Stack
from .test_e2e import CHROMIUM, CHROMIUM_ARGS, ensure_entry, sim_post

pytestmark = [pytest.mark.e2e]

BIG = "48600100999"
FRIEND = "48600100207"


def need_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing; CI runs scripts/setup --e2e")
        pytest.skip("chromium not installed (scripts/setup --e2e installs it)")


async def fill_history(session: aiohttp.ClientSession, url: str, count: int) -> None:
    """``count`` SMS from one number, posted as ACTIO would (20 at a time)."""
    gate = asyncio.Semaphore(20)

    async def one(i: int) -> None:
        payload = {
            "type": "MESSAGE",
            "from": BIG,
            "to": "48732129000",
            "body": f"Wiadomość {i}",
        }
        async with gate, session.post(url, json=payload) as resp:
            assert resp.status == 200

    await asyncio.gather(*(one(i) for i in range(count)))


async def log_in(page: Any, url: str) -> None:
    await page.goto(url)
    await page.get_by_label("Username").fill(DEMO_USER)
    await page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Log in").click()


async def test_the_sms_panel_live(stack: Stack, socket_enabled: None) -> None:
    need_chromium()
    from playwright.async_api import async_playwright  # noqa: PLC0415

    ARTIFACTS.mkdir(exist_ok=True)
    async with aiohttp.ClientSession() as session, async_playwright() as pw:
        await ensure_entry(stack, session)
        await fill_history(session, stack.webhook_url, 1000)
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            await log_in(page, f"{stack.base}/actio-sms")
            panel = page.locator("actio-sms-panel")
            await panel.locator(f'.conv[data-number="{BIG}"]').wait_for(timeout=30000)

            # An SMS arrives while the panel is open: no reload.
            await sim_post(
                session,
                stack,
                "inbound",
                {"from": FRIEND, "body": "Czy jesteś w domu?"},
            )
            conversation = panel.locator(f'.conv[data-number="{FRIEND}"]')
            await conversation.wait_for(timeout=10000)
            await conversation.click()
            await panel.get_by_text("Czy jesteś w domu?").last.wait_for(timeout=5000)

            # A reply through the same path as every send, then its tick.
            await panel.locator("textarea").fill("Tak, za 10 minut")
            await panel.locator("textarea").press("Control+Enter")
            pending = panel.locator('.status[data-status="pending"]')
            await pending.last.wait_for(timeout=10000)
            async with session.get(f"{stack.sim_url}/_sim/outbox") as resp:
                outbox = await resp.json()
            [reply] = [m for m in outbox if m["body"] == "Tak, za 10 minut"]
            await sim_post(
                session,
                stack,
                "deliver",
                {"message_id": reply["message_id"], "status": "DELIVERED"},
            )
            delivered = panel.locator('.status[data-status="delivered"]')
            await delivered.last.wait_for(timeout=10000)
            await page.wait_for_timeout(300)
            await page.screenshot(path=str(ARTIFACTS / "panel.png"))

            # 1,000 messages: the newest page renders at once, measured in the page.
            elapsed = await panel.evaluate(
                """async (el, number) => {
                  const root = el.shadowRoot;
                  const button = root.querySelector(`.conv[data-number="${number}"]`);
                  const frame = () => new Promise((r) => requestAnimationFrame(r));
                  const t0 = performance.now();
                  button.click();
                  // A bubble, not the list's preview (which already says it).
                  const shown = () => [...root.querySelectorAll('.msg .text')]
                    .some((e) => e.textContent === 'Wiadomość 999');
                  while (!shown()) await frame();
                  await frame();
                  return performance.now() - t0;
                }""",
                BIG,
            )
            print(f"opening a 1,000-message conversation in HA: {elapsed:.0f} ms")
            assert elapsed < 300, f"{elapsed:.0f} ms"
            assert await panel.locator(".msg").count() <= 200  # paged, not all

            # Dark mode (HA's own theme variables) and a phone-sized screen.
            await page.emulate_media(color_scheme="dark")
            await page.wait_for_timeout(500)
            await page.screenshot(path=str(ARTIFACTS / "panel_dark.png"))
            phone = await browser.new_page(viewport={"width": 390, "height": 844})
            await log_in(phone, f"{stack.base}/actio-sms")
            phone_panel = phone.locator("actio-sms-panel")
            await phone_panel.locator(f'.conv[data-number="{FRIEND}"]').wait_for(
                timeout=30000
            )
            await phone.screenshot(path=str(ARTIFACTS / "panel_narrow.png"))
            await phone_panel.locator(f'.conv[data-number="{FRIEND}"]').click()
            await (
                phone_panel.locator(".msg")
                .get_by_text("Tak, za 10 minut")
                .wait_for(timeout=5000)
            )
            await phone.screenshot(
                path=str(ARTIFACTS / "panel_narrow_conversation.png")
            )
        finally:
            await browser.close()


async def test_sms_received_trigger_in_the_automation_editor(
    stack: Stack, socket_enabled: None
) -> None:
    """The editor offers "SMS received" under ACTIO SMS; an automation on it runs."""
    need_chromium()
    from playwright.async_api import async_playwright  # noqa: PLC0415

    ARTIFACTS.mkdir(exist_ok=True)
    async with aiohttp.ClientSession() as session, async_playwright() as pw:
        api = await ensure_entry(stack, session)
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await log_in(page, f"{stack.base}/config/automation/edit/new")
            await pick_sms_received(page)
            await fill_sms_received(page)
            await show_sms_actions(page)
            await add_counter_increment(page)
            await save_as(page, "When a friend asks")
        finally:
            await browser.close()

        # What the editor saved, and that it runs.
        entity_id = "automation.when_a_friend_asks"
        for _ in range(100):
            if (automation := await api.state(entity_id)) is not None:
                break
            await asyncio.sleep(0.1)
        assert automation is not None, "the editor did not save the automation"
        automation_id = automation["attributes"]["id"]
        path = f"/api/config/automation/config/{automation_id}"
        config = await api.get(path)
        assert config["alias"] == "When a friend asks"
        [trigger] = config["triggers"]
        assert trigger["trigger"] == "actio_sms.message_received"
        assert trigger["options"] == {"from": ["+48 600 100 207"], "contains": "domu"}
        [action] = config["actions"]
        assert action["action"] == "counter.increment"
        assert action["target"] == {"entity_id": "counter.guarded_runs"}

        before = int((await api.state("counter.guarded_runs"))["state"])
        await sim_post(session, stack, "inbound", {"from": FRIEND, "body": "Nie"})
        await sim_post(
            session, stack, "inbound", {"from": FRIEND, "body": "Jesteś w DOMU?"}
        )
        await sim_post(
            session, stack, "inbound", {"from": "48600100208", "body": "w domu"}
        )
        for _ in range(50):
            if int((await api.state("counter.guarded_runs"))["state"]) > before:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        assert int((await api.state("counter.guarded_runs"))["state"]) == before + 1
        await api.delete(path)


async def pick_sms_received(page: Any) -> None:
    """Add trigger, By type: "SMS received" is listed under ACTIO SMS."""
    await page.get_by_text("Add trigger").first.click(timeout=30000)
    await page.get_by_text("By type", exact=True).first.click(timeout=15000)
    integrations = page.get_by_text("Integrations", exact=True).first
    await integrations.wait_for(timeout=15000)
    group = page.get_by_text("ACTIO SMS", exact=True).first
    await group.click(timeout=15000)
    offered = page.get_by_text("SMS received", exact=True).first
    await offered.wait_for(timeout=15000)
    await page.get_by_text("SMS delivery report", exact=True).first.wait_for()
    # The group sits under the "Integrations" heading, left of its triggers.
    heading, item, trigger = [
        await x.bounding_box() for x in (integrations, group, offered)
    ]
    assert heading
    assert item
    assert trigger
    assert item["y"] > heading["y"]
    assert item["x"] < trigger["x"]
    await page.screenshot(path=str(ARTIFACTS / "trigger_picker.png"))
    await offered.click()


async def fill_sms_received(page: Any) -> None:
    """The trigger's translated fields; fill From numbers and Containing."""
    await page.get_by_text("From numbers").first.wait_for(timeout=10000)
    await page.get_by_text("Containing").first.wait_for(timeout=5000)
    rows = page.locator("ha-settings-row")
    # Optional fields: tick the box, then the field takes input.
    sender = rows.filter(has_text="From numbers")
    await sender.locator("ha-checkbox").first.click()
    await sender.get_by_text("Add", exact=True).first.click(timeout=10000)
    await sender.locator("ha-selector input").first.fill("+48 600 100 207")
    contains = rows.filter(has_text="Containing")
    await contains.locator("ha-checkbox").first.click()
    await contains.locator("ha-selector input").first.fill("domu")
    await page.wait_for_timeout(500)
    await page.screenshot(path=str(ARTIFACTS / "trigger_form.png"))


async def show_sms_actions(page: Any) -> None:
    """Add action, search SMS: the integration's actions and the legacy notify."""
    await page.get_by_text("Add action").first.click(timeout=15000)
    await page.get_by_placeholder("Search").last.fill("SMS")
    for name in ("ACTIO SMS: Send SMS", "ACTIO SMS: Get messages"):
        await page.get_by_text(name, exact=True).first.wait_for(timeout=15000)
    await page.get_by_text("Send an SMS with ACTIO (legacy)").first.wait_for()
    await page.wait_for_timeout(500)
    await page.screenshot(path=str(ARTIFACTS / "action_picker.png"))


async def add_counter_increment(page: Any) -> None:
    """In the open Add action dialog: counter.increment on counter.guarded_runs."""
    await page.get_by_placeholder("Search").last.fill("Increment")
    await page.get_by_text("Counter: Increment counter", exact=True).first.click(
        timeout=15000
    )
    await page.get_by_text("Add target", exact=True).first.click(timeout=15000)
    await page.get_by_placeholder("Search").last.fill("guarded")
    await page.get_by_text("counter.guarded_runs").first.click(timeout=15000)
    await page.get_by_text("No target set").wait_for(state="detached", timeout=10000)


async def save_as(page: Any, name: str) -> None:
    """The editor's Save button and its dialog, then the saved automation's URL."""
    await page.get_by_role("button", name="Save").last.click(timeout=10000)
    dialog = page.locator("ha-dialog-automation-save")
    await dialog.get_by_role("textbox", name="Name").fill(name, timeout=15000)
    await page.wait_for_timeout(300)
    await page.screenshot(path=str(ARTIFACTS / "save_dialog.png"))
    await dialog.get_by_role("button", name="Save", exact=True).click()
    await page.wait_for_url(re.compile(r"/config/automation/edit/(?!new)"))
    await page.get_by_text(name).first.wait_for(timeout=10000)
    await page.wait_for_timeout(300)
    await page.screenshot(path=str(ARTIFACTS / "automation_saved.png"))
