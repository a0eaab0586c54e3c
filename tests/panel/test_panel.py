"""The SMS panel (frontend/actio-sms-panel.js) in real Chromium.

The panel runs in tests/panel/harness.html against a fake Home Assistant: the
WebSocket contract of the integration answered from in-page data,
``callService`` recorded, and ``window.push(event)`` standing in for the
``actio_sms/subscribe`` events. Expected values come from the contract and the
integration's counting rules, not from the panel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
import math
import re
from typing import Any

import pytest

from custom_components.actio_sms.phone import (
    Encoding,
    MessageTooLongError,
    UnsupportedCharactersError,
    count_parts,
)

from .conftest import ARTIFACTS, FRONTEND, PREFIX

pytestmark = [pytest.mark.e2e]

WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
MOM = "48600100200"
BOB = "48600100201"
DAD = "48600100300"
BIG = "48600100999"
WEBHOOK = "https://example.duckdns.org/api/webhook/0f1e2d3c4b5a6978"
NOW = datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def ago(**delta: float) -> str:
    return iso(NOW - timedelta(**delta))


def entry(entry_id: str = "e1", **extra: Any) -> dict[str, Any]:
    return {
        "entry_id": entry_id,
        "title": "ACTIO SMS +48 732 129 000",
        "number": "48732129000",
        "display": "+48 732 129 000",
        "encoding": "ucs2",
        "max_parts": 10,
        "loaded": True,
        "recipients": [
            {"name": "Mom", "number": MOM, "display": "+48 600 100 200"},
            {"name": "Bob", "number": BOB, "display": "+48 600 100 201"},
        ],
        # A field a later backend may add: ignored.
        "added_later": {"nested": [1, 2]},
        **extra,
    }


def msg(
    id_: str,
    direction: str,
    number: str,
    body: str,
    at: str,
    status: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": id_,
        "direction": direction,
        "number": number,
        "body": body,
        "at": at,
        "parts": 1,
        "status": status,
        "reason": None,
        "message_id": f"mid-{id_}" if direction == "sent" else None,
        "scheduled_at": None,
        "sender": None,
        **extra,
    }


def conv(
    number: str, name: str | None, display: str, last: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "number": number,
        "name": name,
        "display": display,
        "last": {k: last[k] for k in ("direction", "body", "at")},
        "unread": 0,
        "count": 1,
        **extra,
    }


LONG = "Long message. " * 10  # 140 characters: 3 parts in UCS-2


def mom_messages() -> list[dict[str, Any]]:
    """Newest first, as actio_sms/messages answers."""
    return [
        msg("m7", "received", MOM, "Dinner at 7?", ago(minutes=5)),
        msg("m6", "sent", MOM, "On my way 🚗", ago(minutes=20), "pending"),
        msg("m5", "sent", MOM, LONG, ago(minutes=40), "delivered", parts=3),
        msg(
            "m4",
            "sent",
            MOM,
            "Did you get it?",
            ago(hours=2),
            "failed",
            reason="Number unreachable",
        ),
        msg(
            "m3",
            "sent",
            MOM,
            "Dentist tomorrow",
            ago(hours=3),
            "pending",  # as the integration stores a scheduled SMS
            scheduled_at=iso(datetime(2027, 3, 1, 8, 30, tzinfo=UTC)),
        ),
        msg("m2", "sent", MOM, "Odd one", ago(hours=4), "queued_at_operator"),
        msg("m1", "sent", MOM, "Maybe", ago(hours=5), "unconfirmed"),
        msg("m0", "received", MOM, "Hi!", ago(days=1, hours=1), future=True),
    ]


def base_db() -> dict[str, Any]:
    mom = mom_messages()
    bob = [msg("b1", "sent", BOB, "OK, thanks", ago(hours=3), "delivered")]
    allegro = [
        msg("a1", "received", "ALLEGRO", "Twoja paczka jest w drodze", ago(days=2))
    ]
    return {
        "entries": [entry()],
        "conversations": {
            "e1": [
                conv(MOM, "Mom", "+48 600 100 200", mom[0], unread=2, count=len(mom)),
                conv(BOB, None, "+48 600 100 201", bob[0]),
                conv("ALLEGRO", None, "ALLEGRO", allegro[0], unread=1),
            ]
        },
        "messages": {"e1": {MOM: mom, BOB: bob, "ALLEGRO": allegro}},
        "webhook": WEBHOOK,
    }


@dataclass
class Panel:
    """A page with the panel mounted, and what it did."""

    page: Any
    errors: list[str] = field(default_factory=list)

    def loc(self, css: str) -> Any:
        """A locator inside the panel (Playwright's CSS pierces shadow roots)."""
        return self.page.locator(f"actio-sms-panel {css}")

    async def js(self, body: str, arg: Any = None) -> Any:
        """Run ``body`` with ``root`` = the panel's shadow root."""
        return await self.page.evaluate(
            "([body, arg]) => new Function('root', 'arg', 'harness', body)"
            "(document.querySelector('actio-sms-panel').shadowRoot, arg, window.harness)",
            [body, arg],
        )

    async def calls(self, kind: str | None = None) -> list[dict[str, Any]]:
        calls = await self.page.evaluate("window.harness.calls")
        return [c for c in calls if kind is None or c["type"] == kind]

    async def services(self) -> list[dict[str, Any]]:
        return list(await self.page.evaluate("window.harness.services"))

    async def push(self, event: Any) -> None:
        await self.page.evaluate("e => window.push(e)", event)

    async def names(self) -> list[str]:
        return list(
            await self.js(
                "return [...root.querySelectorAll('.conv .conv-name')].map(e => e.textContent)"
            )
        )

    async def bubbles(self) -> list[dict[str, Any]]:
        return list(
            await self.js(
                """return [...root.querySelectorAll('.msg')].map(li => {
                  const bubble = li.querySelector('.bubble').getBoundingClientRect();
                  const pane = root.querySelector('.scroller').getBoundingClientRect();
                  return {
                    id: li.dataset.id, side: li.classList.contains('sent') ? 'sent' : 'received',
                    left: bubble.left - pane.left, right: pane.right - bubble.right,
                    text: li.querySelector('.text').textContent,
                    time: li.querySelector('time') ? li.querySelector('time').textContent : null,
                    datetime: li.querySelector('time') ? li.querySelector('time').getAttribute('datetime') : null,
                    status: li.dataset.status || null,
                    statusText: li.querySelector('.status-label') ? li.querySelector('.status-label').textContent : null,
                    parts: li.querySelector('.parts') ? li.querySelector('.parts').textContent : null,
                  };
                })"""
            )
        )

    async def screenshot(self, name: str) -> None:
        await self.page.screenshot(path=str(ARTIFACTS / name))

    async def close(self) -> None:
        # Whatever the test did, the panel's panes scroll, never the page.
        overflow = await self.page.evaluate(
            """() => { const d = document.scrollingElement;
                 return [d.scrollWidth - innerWidth, d.scrollHeight - innerHeight]; }"""
        )
        await self.page.context.close()
        assert not self.errors, self.errors
        assert overflow == [0, 0], f"the page itself scrolls by {overflow}"


async def open_panel(
    browser: Any,
    base: str,
    db: dict[str, Any] | None = None,
    *,
    viewport: dict[str, int] = WIDE,
    timezone: str = "America/New_York",
    path: str = "",
    **options: Any,
) -> Panel:
    """Mount the panel the way Home Assistant does; wait for the list."""
    context = await browser.new_context(
        viewport=viewport, timezone_id=timezone, locale="en-US"
    )
    context.set_default_timeout(5000)
    page = await context.new_page()
    panel = Panel(page)
    page.on("pageerror", lambda exc: panel.errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda m: (
            panel.errors.append(f"console: {m.text}") if m.type == "error" else None
        ),
    )
    await page.goto(f"{base}{PREFIX}{path}")
    await page.evaluate(
        "config => window.setup(config)",
        {"db": db if db is not None else base_db(), "options": options},
    )
    await page.wait_for_function(
        "window.harness.calls.some(c => c.type === 'actio_sms/conversations')"
    )
    await page.wait_for_function(
        """() => {
          const root = document.querySelector('actio-sms-panel').shadowRoot;
          const status = root.querySelector('.list-status');
          return status && !/Loading|Wczytywanie/.test(status.textContent);
        }"""
    )
    return panel


async def expect_text(panel: Panel, css: str, text: str, timeout: float = 3000) -> None:
    from playwright.async_api import expect  # noqa: PLC0415

    await expect(panel.loc(css)).to_contain_text(text, timeout=timeout)


async def wait_js(panel: Panel, condition: str, arg: Any = None) -> None:
    """Wait until ``condition`` (JS, with root/arg/harness) is truthy."""
    await panel.page.wait_for_function(
        "([body, arg]) => new Function('root', 'arg', 'harness', body)"
        "(document.querySelector('actio-sms-panel').shadowRoot, arg, window.harness)",
        arg=[f"return ({condition});", arg],
        timeout=3000,
    )


async def test_conversations_newest_first_and_cheap_hass_updates(
    browser: Any, panel_server: str
) -> None:
    panel = await open_panel(browser, panel_server)
    try:
        assert await panel.names() == ["Mom", "+48 600 100 201", "ALLEGRO"]
        previews = await panel.js(
            "return [...root.querySelectorAll('.conv-preview')].map(e => e.textContent)"
        )
        assert previews == [
            "Dinner at 7?",
            "You: OK, thanks",
            "Twoja paczka jest w drodze",
        ]
        badges = await panel.js(
            "return [...root.querySelectorAll('.conv')].map(b => b.querySelector('.badge')?.textContent ?? null)"
        )
        assert badges == ["2", None, "1"]
        # Mom's last message was 5 minutes ago: today, so a time (en-US, Warsaw).
        mom_time = await panel.js("return root.querySelector('.conv-time').textContent")
        assert ":" in mom_time
        # The first call: entries, then the entry's conversations and subscription.
        calls = await panel.calls()
        assert calls[0] == {"type": "actio_sms/entries"}
        assert {"type": "actio_sms/conversations", "config_entry_id": "e1"} in calls
        assert {"type": "actio_sms/subscribe", "config_entry_id": "e1"} in calls
        # One entry: no picker.
        assert not await panel.loc("select").is_visible()

        # HA sets hass on every state change: nothing is fetched again, and it is cheap.
        before = len(await panel.calls())
        elapsed = await panel.page.evaluate(
            """() => {
              const t0 = performance.now();
              for (let i = 0; i < 200; i++) window.updateHass();
              return performance.now() - t0;
            }"""
        )
        await panel.page.wait_for_timeout(300)
        assert len(await panel.calls()) == before
        assert elapsed < 50, f"200 hass updates took {elapsed:.1f} ms"
    finally:
        await panel.close()


async def test_conversation_bubbles_sides_statuses_light_screenshot(
    browser: Any, panel_server: str
) -> None:
    db = base_db()
    db["entries"].append(entry("e2", title="ACTIO SMS +48 732 129 001", recipients=[]))
    panel = await open_panel(browser, panel_server, db)
    try:
        await panel.loc(f'.conv[data-number="{MOM}"]').click()
        await wait_js(panel, "root.querySelectorAll('.msg').length === 8")
        bubbles = {b["id"]: b for b in await panel.bubbles()}
        # Received on the left, sent on the right.
        for bubble in bubbles.values():
            if bubble["side"] == "received":
                assert bubble["left"] < 40 < bubble["right"], bubble
            else:
                assert bubble["right"] < 40 < bubble["left"], bubble
        assert bubbles["m7"]["side"] == "received"
        assert bubbles["m6"]["side"] == "sent"
        # Oldest at the top: the page came newest first.
        assert [b["id"] for b in await panel.bubbles()] == [f"m{i}" for i in range(8)]
        assert bubbles["m6"]["status"] == "pending"
        assert bubbles["m6"]["statusText"] == "Sent"
        assert bubbles["m5"]["statusText"] == "Delivered"
        assert bubbles["m5"]["parts"] == "3 parts"
        assert bubbles["m6"]["parts"] == "1 part"
        assert bubbles["m4"]["statusText"] == "Not delivered: Number unreachable"
        assert bubbles["m3"]["statusText"].startswith("Scheduled for ")
        assert "2027" in bubbles["m3"]["statusText"]
        assert bubbles["m2"]["statusText"] == "Status: queued_at_operator"
        assert bubbles["m1"]["statusText"] == "Unconfirmed"
        # Screen readers get the status in words, and who wrote each bubble.
        sr = await panel.js(
            "return [...root.querySelectorAll('.msg[data-id=\"m1\"] .sr-only')].map(e => e.textContent).join('|')"
        )
        assert "You:" in sr
        assert "may have gone out" in sr
        # Opening marks as read: the exact command, and the badge is gone.
        assert {
            "type": "actio_sms/mark_read",
            "config_entry_id": "e1",
            "number": MOM,
        } in await panel.calls()
        assert not await panel.loc(f'.conv[data-number="{MOM}"] .badge').count()
        # The header names the conversation; the number as people read it below.
        assert await panel.loc(".conv-title h2").inner_text() == "Mom"
        assert await panel.loc(".conv-title .sub").inner_text() == "+48 600 100 200"
        await panel.screenshot("light-wide.png")
    finally:
        await panel.close()


async def test_times_in_the_users_locale_and_time_zone(
    browser: Any, panel_server: str
) -> None:
    """pl, server time zone Europe/Warsaw, a browser in New York."""
    db = base_db()
    first = msg("d1", "received", DAD, "Dzień dobry", "2026-01-15T10:05:00Z")
    late = msg("d2", "sent", DAD, "Dobranoc", "2026-01-15T23:30:00Z", "delivered")
    late["parts"] = 2
    db["conversations"]["e1"].append(conv(DAD, "Tata", "+48 600 100 300", late))
    db["messages"]["e1"][DAD] = [late, first]
    panel = await open_panel(browser, panel_server, db, language="pl")
    try:
        await panel.loc(f'.conv[data-number="{DAD}"]').click()
        await wait_js(panel, "root.querySelectorAll('.msg').length === 2")
        bubbles = await panel.bubbles()
        # 10:05 UTC is 11:05 in Warsaw in winter; 23:30 UTC is 0:30 the next day
        # (hour "numeric", as Home Assistant's own time format).
        assert [b["time"] for b in bubbles] == ["11:05", "0:30"]
        assert [b["datetime"] for b in bubbles] == [
            "2026-01-15T10:05:00.000Z",
            "2026-01-15T23:30:00.000Z",
        ]
        days = await panel.js(
            "return [...root.querySelectorAll('.day')].map(e => e.textContent)"
        )
        assert len(days) == 2
        assert "15 stycznia 2026" in days[0]
        assert "16 stycznia 2026" in days[1]
        # Polish words, Polish plural.
        assert bubbles[1]["statusText"] == "Dostarczono"
        assert bubbles[1]["parts"] == "2 części"
        assert await panel.loc(".new-label").inner_text() == "Nowa wiadomość"

        # The user switches to the browser's time zone: New York.
        await panel.page.evaluate(
            "() => window.updateHass({locale: {...window.harness.hass.locale, time_zone: 'local'}})"
        )
        await wait_js(panel, "root.querySelector('.msg time').textContent === '5:05'")
        assert [b["time"] for b in await panel.bubbles()] == ["5:05", "18:30"]
        assert len(await panel.js("return [...root.querySelectorAll('.day')]")) == 1
    finally:
        await panel.close()


async def test_live_messages_statuses_and_deletes_without_reload(
    browser: Any, panel_server: str
) -> None:
    panel = await open_panel(browser, panel_server)
    try:
        await panel.loc(f'.conv[data-number="{MOM}"]').click()
        await wait_js(panel, "root.querySelectorAll('.msg').length === 8")
        loads = len(await panel.calls("actio_sms/messages"))

        # An SMS from another conversation bumps it to the top with a badge.
        await panel.push(
            {
                "kind": "message",
                "message": msg("a2", "received", "ALLEGRO", "Paczka odebrana", ago()),
            }
        )
        await wait_js(
            panel, "root.querySelector('.conv .conv-name').textContent === 'ALLEGRO'"
        )
        assert await panel.names() == ["ALLEGRO", "Mom", "+48 600 100 201"]
        assert (
            await panel.loc('.conv[data-number="ALLEGRO"] .badge').inner_text() == "2"
        )
        assert (
            await panel.loc('.conv[data-number="ALLEGRO"] .conv-preview').inner_text()
            == "Paczka odebrana"
        )
        await expect_text(
            panel, "[aria-live=polite]", "New SMS from ALLEGRO: Paczka odebrana"
        )

        # An SMS in the open conversation appears at the bottom, on the left;
        # it is read at once (no badge, mark_read again).
        await panel.push(
            {"kind": "message", "message": msg("m8", "received", MOM, "Hurry!", ago())}
        )
        await wait_js(
            panel, "root.querySelector('.msg:last-child')?.dataset.id === 'm8'"
        )
        last = (await panel.bubbles())[-1]
        assert (last["side"], last["text"]) == ("received", "Hurry!")
        assert await panel.names() == ["Mom", "ALLEGRO", "+48 600 100 201"]
        assert not await panel.loc(f'.conv[data-number="{MOM}"] .badge').count()
        await wait_js(
            panel,
            "harness.calls.filter(c => c.type === 'actio_sms/mark_read' && c.number === arg).length === 2",
            MOM,
        )

        # A sent SMS arrives pending; its report turns the tick into delivered.
        await panel.push(
            {
                "kind": "message",
                "message": msg("m9", "sent", MOM, "Coming", ago(), "pending"),
            }
        )
        await wait_js(panel, "root.querySelector('.msg[data-id=\"m9\"]')")
        sent = {b["id"]: b for b in await panel.bubbles()}["m9"]
        assert (sent["side"], sent["status"], sent["statusText"]) == (
            "sent",
            "pending",
            "Sent",
        )
        await panel.push(
            {
                "kind": "status",
                "id": "m9",
                "number": MOM,
                "message_id": "mid-m9",
                "status": "delivered",
                "reason": None,
            }
        )
        await wait_js(
            panel,
            "root.querySelector('.msg[data-id=\"m9\"]').dataset.status === 'delivered'",
        )
        sent = {b["id"]: b for b in await panel.bubbles()}["m9"]
        assert sent["statusText"] == "Delivered"
        # A report found by message_id alone, with a reason.
        await panel.push(
            {
                "kind": "status",
                "id": None,
                "number": MOM,
                "message_id": "mid-m6",
                "status": "failed",
                "reason": "Operator rejected",
            }
        )
        await wait_js(
            panel,
            "root.querySelector('.msg[data-id=\"m6\"]').dataset.status === 'failed'",
        )
        failed = {b["id"]: b for b in await panel.bubbles()}["m6"]
        assert failed["statusText"] == "Not delivered: Operator rejected"
        # The integration's other final states, in words.
        for id_, status, text in (
            ("m5", "expired", "Expired"),
            ("m4", "bounced", "Rejected"),
        ):
            await panel.push(
                {
                    "kind": "status",
                    "id": id_,
                    "number": MOM,
                    "message_id": f"mid-{id_}",
                    "status": status,
                    "reason": None,
                }
            )
            await wait_js(
                panel,
                "root.querySelector(`.msg[data-id='${arg[0]}']`).dataset.status === arg[1]",
                [id_, status],
            )
            changed = {b["id"]: b for b in await panel.bubbles()}[id_]
            assert changed["statusText"] == text
        # Nothing was fetched for any of it.
        assert len(await panel.calls("actio_sms/messages")) == loads

        # The same event twice (a reconnect): still one bubble.
        await panel.push(
            {"kind": "message", "message": msg("m8", "received", MOM, "Hurry!", ago())}
        )
        await panel.push(
            {
                "kind": "message",
                "message": msg("a2", "received", "ALLEGRO", "Paczka odebrana", ago()),
            }
        )
        await panel.page.wait_for_timeout(100)
        assert [b["id"] for b in await panel.bubbles()].count("m8") == 1
        assert (
            await panel.loc('.conv[data-number="ALLEGRO"] .badge').inner_text() == "2"
        )

        # A new number: the list is fetched again and shows it.
        new = msg("n1", "received", "48511222333", "Who is this?", ago())
        await panel.page.evaluate(
            """m => window.harness.db.conversations.e1.push({number: m.number, name: null,
                 display: '+48 511 222 333', last: m, unread: 1, count: 1})""",
            new,
        )
        await panel.push({"kind": "message", "message": new})
        await wait_js(
            panel,
            "root.querySelector('.conv .conv-name').textContent === '+48 511 222 333'",
        )

        # Deleted elsewhere: gone from the list.
        await panel.push({"kind": "deleted", "number": BOB})
        await wait_js(panel, "!root.querySelector(`.conv[data-number='${arg}']`)", BOB)

        # HA's connection drops and comes back: what was missed is fetched.
        missed = msg("m11", "received", MOM, "Missed while offline", ago())
        await panel.page.evaluate(
            "m => window.harness.db.messages.e1[m.number].unshift(m)", missed
        )
        await panel.page.evaluate("window.fireConnection('ready')")
        await wait_js(panel, "root.querySelector('.msg[data-id=\"m11\"]')")
        assert (await panel.bubbles())[-1]["text"] == "Missed while offline"

        # Leaving the DOM unsubscribes; coming back subscribes again.
        await panel.page.evaluate("window.harness.panel.remove()")
        assert await panel.page.evaluate("window.harness.subscriptions.size") == 0
        assert await panel.page.evaluate("window.harness.listeners.ready.size") == 0
        assert await panel.calls("unsubscribe")
        await panel.page.evaluate(
            "document.getElementById('panel-host').append(window.harness.panel)"
        )
        await panel.page.wait_for_function("window.harness.subscriptions.size === 1")
    finally:
        await panel.close()


async def counter(panel: Panel, text: str) -> dict[str, Any]:
    await panel.loc("textarea").fill(text)
    return dict(
        await panel.js(
            """const c = root.querySelector('#counter');
               return {units: Number(c.dataset.units), parts: Number(c.dataset.parts),
                       error: c.dataset.error, text: c.textContent,
                       send: !root.querySelector('.send').disabled}"""
        )
    )


UCS2_CASES = [
    ("a" * 60, 60, 1),
    ("a" * 61, 61, 2),
    ("😀", 2, 1),  # beyond the BMP: two UTF-16 units
    ("😀" * 30, 60, 1),
    ("😀" * 30 + "a", 61, 2),
    ("Zażółć gęślą jaźń", 17, 1),
    ("ą" * 121, 121, 3),
    ("a" * 600, 600, 10),
]
GSM7_CASES = [
    ("Hello", 5, 1),
    ("€", 2, 1),
    ("^{}\\[~]|€", 18, 1),
    ("a" * 160, 160, 1),
    ("a" * 158 + "€", 160, 1),
    ("line\nbreak", 10, 1),
    ("\f", 2, 1),
]


async def test_part_counter_follows_the_integrations_rules(
    browser: Any, panel_server: str
) -> None:
    db = base_db()
    db["entries"].append(
        entry("e2", title="ACTIO GSM", encoding="gsm7", max_parts=3, recipients=[])
    )
    db["conversations"]["e2"] = [
        conv(
            "48600100400",
            None,
            "+48 600 100 400",
            msg("g1", "received", "48600100400", "x", ago()),
        )
    ]
    db["messages"]["e2"] = {}
    panel = await open_panel(browser, panel_server, db)
    try:
        await panel.loc(".new").click()
        for text, units, parts in UCS2_CASES:
            # The integration's own counting agrees with the rule's numbers.
            assert count_parts(text, Encoding.UCS2) == parts
            got = await counter(panel, text)
            assert (got["units"], got["parts"], got["error"]) == (units, parts, ""), (
                text
            )
            assert f"{parts} / 10 parts" in got["text"]
        # Above max_parts: refused in words, Send disabled.
        await panel.loc("#to").fill(MOM)
        got = await counter(panel, "a" * 601)
        assert math.ceil(601 / 60) == 11
        assert (got["parts"], got["error"], got["send"]) == (
            11,
            "too_many_parts",
            False,
        )
        assert got["text"] == "Too long: 11 parts, at most 10 are allowed."
        got = await counter(panel, "a" * 600)
        assert got["send"]

        # The second entry counts GSM-7.
        assert await panel.loc("select").is_visible()
        await panel.loc("select").select_option("e2")
        await panel.page.wait_for_function(
            "window.harness.calls.some(c => c.type === 'actio_sms/conversations' && c.config_entry_id === 'e2')"
        )
        subs = [s["config_entry_id"] for s in await panel.calls("actio_sms/subscribe")]
        assert subs == ["e1", "e2"]
        assert len(await panel.calls("unsubscribe")) == 1
        assert await panel.page.evaluate("window.harness.subscriptions.size") == 1
        await wait_js(panel, "root.querySelectorAll('.conv').length === 1")
        await panel.loc(".new").click()
        await panel.loc("#to").fill("48600100400")
        for text, units, parts in GSM7_CASES:
            assert count_parts(text, Encoding.GSM7) == parts
            got = await counter(panel, text)
            assert (got["units"], got["parts"], got["error"]) == (units, parts, ""), (
                text
            )
            assert f"{units} / 160 GSM-7 characters" in got["text"]
            assert "1 / 3 parts" in got["text"]
            # Only white space (a form feed) is nothing to send.
            assert got["send"] == bool(text.strip())
        # 161 septets: one GSM-7 SMS cannot hold it.
        with pytest.raises(MessageTooLongError):
            count_parts("a" * 159 + "€", Encoding.GSM7)
        got = await counter(panel, "a" * 159 + "€")
        assert (got["units"], got["error"], got["send"]) == (161, "gsm7_long", False)
        assert "161" in got["text"]
        assert "160" in got["text"]
        # A character GSM-7 has not: refused, naming it.
        with pytest.raises(UnsupportedCharactersError):
            count_parts("Cześć", Encoding.GSM7)
        got = await counter(panel, "Cześć")
        assert (got["error"], got["send"]) == ("unsupported", False)
        assert got["text"] == "Cannot be sent in GSM-7: ść. Remove these characters."
        assert await panel.loc("textarea").get_attribute("aria-invalid") == "true"
    finally:
        await panel.close()


async def test_ctrl_enter_sends_once_and_errors_are_shown(
    browser: Any, panel_server: str
) -> None:
    panel = await open_panel(browser, panel_server)
    try:
        await panel.loc(f'.conv[data-number="{MOM}"]').click()
        await wait_js(panel, "root.querySelectorAll('.msg').length === 8")
        await panel.loc("textarea").fill("Hello 👋")
        await panel.loc("textarea").press("Control+Enter")
        await panel.page.wait_for_function("window.harness.services.length === 1")
        assert await panel.services() == [
            {
                "domain": "actio_sms",
                "service": "send_message",
                "data": {
                    "message": "Hello 👋",
                    "recipients": [MOM],
                    "config_entry_id": "e1",
                },
                "target": None,
                "notifyOnError": True,
                "returnResponse": True,
            }
        ]
        await wait_js(panel, "root.querySelector('textarea').value === ''")
        # Not added by the panel itself: it comes through the subscription, once.
        assert len(await panel.bubbles()) == 8
        sent = msg("m10", "sent", MOM, "Hello 👋", ago(), "pending")
        await panel.push({"kind": "message", "message": sent})
        await wait_js(panel, "root.querySelectorAll('.msg').length === 9")
        await panel.page.wait_for_timeout(100)
        assert [b["text"] for b in await panel.bubbles()].count("Hello 👋") == 1

        # A refusal of the backend (already translated) is shown in words.
        refusal = "Daily limit of 100 parts reached: 99 used, this message needs 2."
        await panel.page.evaluate(
            "m => { window.harness.serviceError = {code: 'service_validation_error', message: m}; }",
            refusal,
        )
        await panel.loc("textarea").fill("Second")
        await panel.loc(".send").click()
        await expect_text(panel, ".notice[role=alert]", refusal)
        assert await panel.loc("textarea").input_value() == "Second"
        # A duplicate is skipped by the backend: said so.
        await panel.page.evaluate(
            """() => { window.harness.serviceError = null;
                 window.harness.serviceResponse = {messages: [],
                   skipped: [{recipient: '48600100200', reason: 'duplicate'}]}; }"""
        )
        # Cmd+Enter on a Mac.
        await panel.loc("textarea").press("Meta+Enter")
        await expect_text(
            panel,
            ".notice[role=alert]",
            "Not sent: the same text went to +48 600 100 200 a moment ago.",
        )
        assert len(await panel.services()) == 3
    finally:
        await panel.close()


async def test_new_message_to_a_recipient_or_a_typed_number(
    browser: Any, panel_server: str
) -> None:
    panel = await open_panel(browser, panel_server)
    try:
        await panel.loc(".new").click()
        options = await panel.js(
            "return [...root.querySelectorAll('datalist option')].map(o => [o.value, o.textContent])"
        )
        assert options == [
            [MOM, "Mom (+48 600 100 200)"],
            [BOB, "Bob (+48 600 100 201)"],
        ]
        assert not await panel.loc(".send").is_enabled()
        await panel.loc("#to").fill("mom")
        await panel.loc("textarea").fill("Hi Mom")
        await panel.loc("textarea").press("Control+Enter")
        await panel.page.wait_for_function("window.harness.services.length === 1")
        assert (await panel.services())[0]["data"]["recipients"] == [MOM]
        # The conversation it went to opens.
        await expect_text(panel, ".conv-title h2", "Mom")

        # A typed number goes as typed; the backend answers with the digits.
        await panel.page.evaluate(
            """() => { window.harness.serviceResponse = {messages: [{recipient: '48600100202',
                 message_id: 'x', parts: 1, status: 'pending'}]}; }"""
        )
        await panel.loc(".new").click()
        assert await panel.loc("textarea").input_value() == ""
        await panel.loc("#to").fill("600 100 202")
        await panel.loc("textarea").fill("Hello stranger")
        await panel.loc(".send").click()
        await panel.page.wait_for_function("window.harness.services.length === 2")
        assert (await panel.services())[1]["data"] == {
            "message": "Hello stranger",
            "recipients": ["600 100 202"],
            "config_entry_id": "e1",
        }
        await expect_text(panel, ".conv-title h2", "48600100202")

        # Or picked from the recipients.
        await panel.page.evaluate("() => { window.harness.serviceResponse = null; }")
        await panel.loc(".new").click()
        await panel.loc(f'.recipient[data-number="{BOB}"]').click()
        assert await panel.loc("#to").input_value() == "Bob"
        await panel.page.keyboard.type("Hi Bob")
        await panel.page.keyboard.press("Control+Enter")
        await panel.page.wait_for_function("window.harness.services.length === 3")
        assert (await panel.services())[2]["data"]["recipients"] == [BOB]
        await expect_text(panel, ".conv-title h2", "+48 600 100 201")

        # A sender name cannot be answered.
        await panel.loc('.conv[data-number="ALLEGRO"]').click()
        await expect_text(
            panel,
            ".blocker",
            "ALLEGRO is a sender name, not a number: replies are not possible.",
        )
        assert await panel.loc("textarea").is_disabled()
    finally:
        await panel.close()


async def test_search_goes_to_the_backend(browser: Any, panel_server: str) -> None:
    panel = await open_panel(browser, panel_server)
    try:
        await panel.loc("input[type=search]").fill("paczka")
        await panel.page.wait_for_function(
            "window.harness.calls.some(c => c.search === 'paczka')"
        )
        await wait_js(panel, "root.querySelectorAll('.conv').length === 1")
        assert await panel.names() == ["ALLEGRO"]
        assert {
            "type": "actio_sms/conversations",
            "config_entry_id": "e1",
            "search": "paczka",
        } in await panel.calls()
        await panel.loc("input[type=search]").fill("nothing like it")
        await expect_text(
            panel, ".list-status", "No conversation matches “nothing like it”."
        )
        await panel.loc("input[type=search]").fill("")
        await wait_js(panel, "root.querySelectorAll('.conv').length === 3")
    finally:
        await panel.close()


def big_db(count: int = 1000) -> dict[str, Any]:
    db = base_db()
    start = NOW - timedelta(days=30)
    messages = [
        msg(
            f"big{i:04d}",
            "sent" if i % 3 else "received",
            BIG,
            f"Message number {i} " + "lorem ipsum " * (i % 5),
            iso(start + timedelta(minutes=37 * i)),
            "delivered" if i % 3 else None,
        )
        for i in range(count)
    ][::-1]
    db["conversations"]["e1"].insert(
        0, conv(BIG, "Big", "+48 600 100 999", messages[0], count=count)
    )
    db["messages"]["e1"][BIG] = messages
    return db


async def test_thousand_messages_open_fast(browser: Any, panel_server: str) -> None:
    panel = await open_panel(browser, panel_server, big_db())
    try:
        elapsed = await panel.page.evaluate(
            """async (number) => {
              const root = document.querySelector('actio-sms-panel').shadowRoot;
              const button = root.querySelector(`.conv[data-number="${number}"]`);
              const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
              const t0 = performance.now();
              button.click();
              while (root.querySelectorAll('.msg').length < 50) await frame();
              await frame();
              return performance.now() - t0;
            }""",
            BIG,
        )
        print(f"opening a 1,000-message conversation: {elapsed:.0f} ms")
        assert elapsed < 300, f"opening 1,000 messages took {elapsed:.0f} ms"
        # Paged: the newest 50, not all of them.
        assert len(await panel.bubbles()) == 50
        assert await panel.calls("actio_sms/messages") == [
            {
                "type": "actio_sms/messages",
                "config_entry_id": "e1",
                "number": BIG,
                "limit": 50,
            }
        ]
    finally:
        await panel.close()


async def test_scrolling_to_the_top_loads_older_and_keeps_the_position(
    browser: Any, panel_server: str
) -> None:
    panel = await open_panel(browser, panel_server, big_db())
    try:
        await panel.loc(f'.conv[data-number="{BIG}"]').click()
        await wait_js(panel, "root.querySelectorAll('.msg').length === 50")
        # The pane scrolls, not the page (HA gives the panel no height).
        assert await panel.page.evaluate(
            "document.scrollingElement.scrollHeight <= window.innerHeight"
        )
        assert await panel.js(
            "const s = root.querySelector('.scroller'); return s.scrollHeight > 2 * s.clientHeight"
        )
        # Opened at the bottom: the newest message is in view.
        assert await panel.js(
            "const s = root.querySelector('.scroller'); return s.scrollHeight - s.scrollTop - s.clientHeight < 5"
        )
        first = await panel.js(
            """const li = root.querySelector('.msg');
               return {id: li.dataset.id, top: li.getBoundingClientRect().top}"""
        )
        assert first["id"] == "big0950"
        # Scrolled to the top: the next page (before = the oldest shown).
        top_before = await panel.js(
            """const s = root.querySelector('.scroller'); s.scrollTop = 0;
               return root.querySelector('.msg[data-id="big0950"]').getBoundingClientRect().top"""
        )
        await wait_js(panel, "root.querySelectorAll('.msg').length === 100")
        pages = await panel.calls("actio_sms/messages")
        assert pages[1] == {
            "type": "actio_sms/messages",
            "config_entry_id": "e1",
            "number": BIG,
            "limit": 50,
            "before": "big0950",
        }
        # The message that was at the top stays where it was on screen.
        top_after = await panel.js(
            "return root.querySelector('.msg[data-id=\"big0950\"]').getBoundingClientRect().top"
        )
        assert abs(top_after - top_before) < 2, (top_before, top_after)
        assert (await panel.bubbles())[0]["id"] == "big0900"
        # All the way up: the cursor runs out at the first message.
        for _ in range(30):
            done = await panel.js(
                """const s = root.querySelector('.scroller'); s.scrollTop = 0;
                   return root.querySelectorAll('.msg').length"""
            )
            if done == 1000:
                break
            await panel.page.wait_for_timeout(30)
        await wait_js(panel, "root.querySelectorAll('.msg').length === 1000")
        await expect_text(panel, ".thread-start", "Start of the conversation")
        assert len(await panel.calls("actio_sms/messages")) == 20
    finally:
        await panel.close()


async def test_keyboard_only(browser: Any, panel_server: str) -> None:
    panel = await open_panel(browser, panel_server)
    deep_focus = """() => { let el = document.activeElement;
        while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
        return el ? {tag: el.tagName, cls: el.className, number: el.dataset?.number ?? null,
                     outline: getComputedStyle(el).outlineStyle} : null; }"""
    try:
        focus = None
        for _ in range(10):
            await panel.page.keyboard.press("Tab")
            focus = await panel.page.evaluate(deep_focus)
            if focus and "conv" in focus["cls"].split():
                break
        assert focus
        assert focus["number"] == MOM
        assert focus["outline"] != "none", "no visible focus"
        # Arrow keys move along the list.
        await panel.page.keyboard.press("ArrowDown")
        assert (await panel.page.evaluate(deep_focus))["number"] == BOB
        await panel.page.keyboard.press("ArrowUp")
        await panel.page.keyboard.press("Enter")
        await wait_js(panel, "root.querySelectorAll('.msg').length === 8")
        assert (await panel.page.evaluate(deep_focus))["tag"] == "TEXTAREA"
        await panel.page.keyboard.type("Typed only")
        await panel.page.keyboard.press("Control+Enter")
        await panel.page.wait_for_function("window.harness.services.length === 1")
        assert (await panel.services())[0]["data"] == {
            "message": "Typed only",
            "recipients": [MOM],
            "config_entry_id": "e1",
        }
    finally:
        await panel.close()


async def test_narrow_one_pane_at_a_time(browser: Any, panel_server: str) -> None:
    panel = await open_panel(browser, panel_server, viewport=PHONE, narrow=True)
    try:
        assert await panel.loc(".list-pane").is_visible()
        assert not await panel.loc(".conv-pane").is_visible()
        # HA's sidebar is hidden on a phone: the menu button opens it.
        await panel.loc(".toolbar .icon-button").first.click()
        assert await panel.page.evaluate("window.harness.menuToggles") == 1
        width = await panel.js("return root.querySelector('.app').scrollWidth")
        assert width <= PHONE["width"]
        await panel.screenshot("narrow-list.png")

        await panel.loc(f'.conv[data-number="{MOM}"]').click()
        await wait_js(panel, "root.querySelectorAll('.msg').length === 8")
        assert not await panel.loc(".list-pane").is_visible()
        assert await panel.loc(".conv-pane").is_visible()
        assert await panel.loc(".back").is_visible()
        assert not await panel.loc(".toolbar").is_visible()
        assert await panel.page.evaluate("location.pathname") == f"{PREFIX}/{MOM}"
        bubbles = await panel.bubbles()
        assert all(b["left"] >= 0 and b["right"] >= 0 for b in bubbles)
        await panel.screenshot("narrow-conversation.png")

        # Escape goes back to the list, to the conversation it came from.
        await panel.page.keyboard.press("Escape")
        await wait_js(
            panel,
            "getComputedStyle(root.querySelector('.list-pane')).display !== 'none'",
        )
        assert not await panel.loc(".conv-pane").is_visible()
        focused = await panel.js("return root.activeElement?.dataset.number")
        assert focused == MOM
        await panel.page.wait_for_function(f"location.pathname === '{PREFIX}'")

        # The phone's back button (history) leaves the conversation too.
        await panel.loc(f'.conv[data-number="{BOB}"]').click()
        await wait_js(panel, "root.querySelectorAll('.msg').length === 1")
        await panel.page.go_back()
        await wait_js(
            panel,
            "getComputedStyle(root.querySelector('.list-pane')).display !== 'none'",
        )
        # The back button in the header does the same.
        await panel.loc(f'.conv[data-number="{BOB}"]').click()
        await panel.loc(".back").click()
        await wait_js(
            panel,
            "getComputedStyle(root.querySelector('.list-pane')).display !== 'none'",
        )
    finally:
        await panel.close()


async def test_narrow_by_width_without_the_menu_button(
    browser: Any, panel_server: str
) -> None:
    """A 500 px window with HA's sidebar shown: one pane, no menu button."""
    panel = await open_panel(
        browser, panel_server, viewport={"width": 500, "height": 700}
    )
    try:
        assert not await panel.loc(".toolbar .icon-button").first.is_visible()
        await panel.loc(f'.conv[data-number="{MOM}"]').click()
        assert not await panel.loc(".list-pane").is_visible()
        assert await panel.loc(".back").is_visible()
    finally:
        await panel.close()


CONTRAST = """
const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
const lum = ([r, g, b]) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
// The colour behind an element: its own and its ancestors' backgrounds, blended.
const behind = (el) => { const layers = [];
  for (let e = el; e; e = e.parentElement || (e.getRootNode() && e.getRootNode().host)) {
    const c = rgb(getComputedStyle(e).backgroundColor);
    if (c.length >= 3 && (c.length === 3 || c[3] > 0)) { layers.push(c); if (c.length === 3 || c[3] === 1) break; }
  }
  let out = [255, 255, 255];
  for (const c of layers.reverse()) { const a = c.length === 4 ? c[3] : 1; out = out.map((v, i) => v * (1 - a) + c[i] * a); }
  return out; };
const ratio = (el) => { const fg = rgb(getComputedStyle(el).color); const opacity = Number(getComputedStyle(el).opacity);
  const bg = behind(el); const a = (fg.length === 4 ? fg[3] : 1) * opacity;
  const mixed = fg.slice(0, 3).map((v, i) => v * a + bg[i] * (1 - a));
  const [l1, l2] = [lum(mixed), lum(bg)].sort((x, y) => y - x); return (l1 + 0.05) / (l2 + 0.05); };
"""


async def colours_and_contrast(panel: Panel) -> dict[str, Any]:
    return dict(
        await panel.js(
            CONTRAST
            + """
            const style = (css, prop) => getComputedStyle(root.querySelector(css))[prop];
            const pick = ['.conv-name', '.conv-preview', '.conv-time', '.msg.sent .text', '.msg.received .text',
                          '.msg.sent .meta time', '.msg.received .meta time', '.msg.sent .parts',
                          '.msg.failed .status-label', '.msg.sent .status-label', '.conv-title h2',
                          '.conv-title .sub', 'textarea', '.counter', '.day'];
            return {
              list: style('.list-pane', 'backgroundColor'),
              pane: style('.conv-pane', 'backgroundColor'),
              toolbar: style('.toolbar', 'backgroundColor'),
              text: style('.msg.received .text', 'color'),
              scheme: getComputedStyle(root.host).colorScheme,
              contrast: Object.fromEntries(pick.map(css => [css, ratio(root.querySelector(css))])),
            };"""
        )
    )


async def test_dark_mode_uses_the_themes_variables(
    browser: Any, panel_server: str
) -> None:
    light = await open_panel(browser, panel_server)
    try:
        await light.loc(f'.conv[data-number="{MOM}"]').click()
        await wait_js(light, "root.querySelectorAll('.msg').length === 8")
        colours = await colours_and_contrast(light)
        assert colours["list"] == "rgb(255, 255, 255)"
        assert colours["pane"] == "rgb(250, 250, 250)"
        assert colours["toolbar"] == "rgb(0, 154, 199)"
        assert colours["scheme"] == "light"
        for css, ratio in colours["contrast"].items():
            assert ratio >= 4.5, f"light: {css} contrast {ratio:.2f}"
    finally:
        await light.close()
    dark = await open_panel(browser, panel_server, dark=True)
    try:
        await dark.loc(f'.conv[data-number="{MOM}"]').click()
        await wait_js(dark, "root.querySelectorAll('.msg').length === 8")
        colours = await colours_and_contrast(dark)
        assert colours["list"] == "rgb(28, 28, 28)"
        assert colours["pane"] == "rgb(17, 17, 17)"
        assert colours["toolbar"] == "rgb(16, 30, 36)"
        assert colours["text"] == "rgb(225, 225, 225)"
        assert colours["scheme"] == "dark"
        for css, ratio in colours["contrast"].items():
            assert ratio >= 4.5, f"dark: {css} contrast {ratio:.2f}"
        await dark.screenshot("dark-wide.png")
    finally:
        await dark.close()


async def test_empty_state_says_how_to_receive_the_first_sms(
    browser: Any, panel_server: str
) -> None:
    db = base_db()
    db["conversations"]["e1"] = []
    db["messages"]["e1"] = {}
    admin = await open_panel(browser, panel_server, db)
    try:
        await admin.page.context.grant_permissions(
            ["clipboard-read", "clipboard-write"]
        )
        await expect_text(
            admin, ".empty", "paste this webhook URL in the ACTIO client panel"
        )
        await expect_text(admin, ".empty", "+48 732 129 000")
        await admin.page.wait_for_function(
            "window.harness.calls.some(c => c.type === 'actio_sms/webhook_url')"
        )
        assert {
            "type": "actio_sms/webhook_url",
            "config_entry_id": "e1",
        } in await admin.calls()
        url = admin.loc(".empty .url")
        await expect_text(admin, ".empty .url", WEBHOOK)
        await admin.loc(".empty .url-row button").click()
        await expect_text(admin, ".empty .copy-status", "Copied")
        assert await admin.page.evaluate("navigator.clipboard.readText()") == WEBHOOK
        assert await url.is_visible()
        await admin.screenshot("empty-state.png")
        # The settings button shows it again.
        await admin.loc(".toolbar .icon-button >> nth=-1").click()
        await expect_text(admin, "dialog", "Receiving SMS")
        await expect_text(admin, "dialog .url", WEBHOOK)
        await admin.page.keyboard.press("Escape")
        assert not await admin.loc("dialog").is_visible()
    finally:
        await admin.close()

    user = await open_panel(browser, panel_server, db, admin=False)
    try:
        await expect_text(user, ".empty", "once an administrator has set the webhook")
        assert not await user.loc(".empty .url").count()
        assert not await user.loc(".toolbar .icon-button").last.is_visible()
        await user.page.wait_for_timeout(100)
        assert not await user.calls("actio_sms/webhook_url")
    finally:
        await user.close()


async def test_delete_conversation_admin_only_with_confirmation(
    browser: Any, panel_server: str
) -> None:
    admin = await open_panel(browser, panel_server)
    try:
        await admin.loc(f'.conv[data-number="{BOB}"]').click()
        await admin.loc(".conv-header .icon-button >> nth=-1").click()
        await expect_text(admin, "dialog", "Delete the conversation?")
        await expect_text(admin, "dialog", "+48 600 100 201 (1 message)")
        # Cancelling deletes nothing.
        await admin.loc("dialog .button.flat").click()
        assert not await admin.calls("actio_sms/delete_conversation")
        await admin.loc(".conv-header .icon-button >> nth=-1").click()
        await admin.loc("dialog .button.danger").click()
        await wait_js(admin, "root.querySelectorAll('.conv').length === 2")
        assert await admin.calls("actio_sms/delete_conversation") == [
            {
                "type": "actio_sms/delete_conversation",
                "config_entry_id": "e1",
                "number": BOB,
            }
        ]
        assert await admin.names() == ["Mom", "ALLEGRO"]
        assert not await admin.loc(".conv-header").is_visible()
    finally:
        await admin.close()

    user = await open_panel(browser, panel_server, admin=False)
    try:
        await user.loc(f'.conv[data-number="{BOB}"]').click()
        await wait_js(user, "root.querySelectorAll('.msg').length === 1")
        assert not await user.loc(".conv-header .icon-button >> nth=-1").is_visible()
    finally:
        await user.close()


async def test_missing_and_unknown_fields_never_break_it(
    browser: Any, panel_server: str
) -> None:
    db = base_db()
    db["entries"] = [
        {"entry_id": "e1", "title": "Old backend", "loaded": False},
    ]
    db["conversations"]["e1"].append({"number": "48600100500", "display": None})
    db["messages"]["e1"]["48600100500"] = [
        {"id": "x1"},
        {"id": "x2", "direction": "sent", "status": "teleported", "at": "not a date"},
        {"id": "x3", "direction": "received", "body": None, "at": None, "parts": None},
    ]
    panel = await open_panel(browser, panel_server, db)
    try:
        await expect_text(panel, ".banner", "Old backend is not loaded")
        await panel.loc('.conv[data-number="48600100500"]').click()
        await wait_js(panel, "root.querySelectorAll('.msg').length === 3")
        await expect_text(panel, '.msg[data-id="x2"]', "Status: teleported")
        assert await panel.loc("textarea").is_disabled()
        for event in (
            None,
            {},
            {"kind": "message"},
            {"kind": "message", "message": {}},
            {"kind": "status"},
            {"kind": "status", "id": "nope", "status": "delivered"},
            {"kind": "deleted"},
            {"kind": "something_new", "payload": 1},
        ):
            await panel.push(event)
        await panel.page.wait_for_timeout(300)
        assert await panel.loc(".conv").count() == 4
    finally:
        await panel.close()


PLURAL = re.compile(r"_(zero|one|two|few|many|other)$")


def test_translations_cover_the_module_in_both_languages() -> None:
    """Every key the module asks for is in en and pl, with the same placeholders."""
    source = (FRONTEND / "actio-sms-panel.js").read_text(encoding="utf-8")
    used = {
        key
        for call in re.finditer(r"_t\((?P<args>[^{)]*)", source)
        for key in re.findall(r'"([a-z][a-z0-9_]*)"', call["args"])
    }
    assert {"send", "parts", "status_delivered", "empty_body"} <= used
    strings = {
        lang: json.loads(
            (FRONTEND / f"translations/{lang}.json").read_text(encoding="utf-8")
        )
        for lang in ("en", "pl")
    }
    for lang, table in strings.items():
        assert all(isinstance(v, str) for v in table.values()), lang
        bases = {PLURAL.sub("", key) for key in table}
        assert used <= bases, (lang, sorted(used - bases))
        assert bases <= used, (lang, "unused", sorted(bases - used))
    # Polish plurals have their forms; placeholders agree with English.
    for key in ("parts", "unread", "characters", "delete_body"):
        assert {f"{key}_{form}" for form in ("one", "few", "many")} <= set(
            strings["pl"]
        )
    placeholders = re.compile(r"\{(\w+)\}")
    for key, text in strings["pl"].items():
        english = strings["en"].get(key) or strings["en"][PLURAL.sub("_other", key)]
        assert set(placeholders.findall(text)) == set(placeholders.findall(english)), (
            key
        )
