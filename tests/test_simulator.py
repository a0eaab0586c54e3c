"""The ACTIO simulator itself, over real HTTP, in both dialects.

Expected values come from the specs: /work/shared/spec/actio-sms-api-v1.0.pl.txt
(v1.0) and actio-live-api.md (ACTIO's current documentation, "live").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
import re
import shutil
from typing import Any
import uuid

from aiohttp import ClientSession, web
import pytest

from devtools.demo import prepare_config
from homeassistant.util.yaml import load_yaml

from .conftest import SENDER, TOKEN, Sim, free_port

ROOT = Path(__file__).parents[1]
PHONE = "48600100200"
HEX16 = re.compile(r"^[0-9a-f]{16}$")  # v1.0: "16 znaków hex"
# live: msg_ + a 26-character ULID (Crockford base32: no I, L, O, U).
MSG_ULID = re.compile(r"^msg_[0-9A-HJKMNP-TV-Z]{26}$")


@dataclass
class Receiver:
    """A webhook endpoint that keeps what it is posted."""

    url: str
    posts: list[Any] = field(default_factory=list)

    async def wait(self, count: int, timeout: float = 3) -> list[Any]:
        async with asyncio.timeout(timeout):
            while len(self.posts) < count:
                await asyncio.sleep(0.02)
        return self.posts


@pytest.fixture
async def sim(simulator: Sim) -> Sim:
    """The test simulator; its SMS API token has the sender name "Dom"."""
    simulator.state.tokens[TOKEN].sender_names = ["Dom"]
    return simulator


@pytest.fixture
async def receiver(
    sim: Sim, session: ClientSession, socket_enabled: None
) -> AsyncIterator[Receiver]:
    """A webhook receiver the simulator posts to."""
    app = web.Application()
    port = free_port()
    hook = Receiver(f"http://127.0.0.1:{port}/hook")

    async def handle(request: web.Request) -> web.Response:
        hook.posts.append(await request.json())
        return web.Response(text="ok")

    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await configure(session, sim, webhook_url=hook.url)
    try:
        yield hook
    finally:
        await runner.cleanup()


async def configure(session: ClientSession, sim: Sim, **fields: Any) -> Any:
    async with session.post(f"{sim.url}/_sim/config", json=fields) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def control(session: ClientSession, sim: Sim, what: str, **payload: Any) -> Any:
    async with session.post(f"{sim.url}/_sim/{what}", json=payload) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def outbox(session: ClientSession, sim: Sim) -> list[dict[str, Any]]:
    async with session.get(f"{sim.url}/_sim/outbox") as resp:
        return list(await resp.json())


async def api(
    session: ClientSession,
    sim: Sim,
    token: str = TOKEN,
    path: str = "/api/sms",
    **payload: Any,
) -> tuple[int, Any, Any]:
    """POST to the API; (status, JSON or text, headers)."""
    body = {"from": SENDER, "to": PHONE, "body": "Hej"} | payload
    async with session.post(
        f"{sim.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}
    ) as resp:
        try:
            answer = await resp.json(content_type=None)
        except ValueError:
            answer = await resp.text()
        return resp.status, answer, resp.headers


# -- ids, answers, auth ------------------------------------------------------


async def test_v1_ids_and_auth(session: ClientSession, sim: Sim) -> None:
    status, answer, _ = await api(session, sim)
    assert status == 200
    assert list(answer) == ["message_id"]
    assert HEX16.match(answer["message_id"])
    status, answer, _ = await api(session, sim, token="revoked")
    assert (status, list(answer["errors"])) == (403, ["token"])


async def test_live_ids_and_auth(session: ClientSession, sim: Sim) -> None:
    assert (await configure(session, sim, dialect="live"))["dialect"] == "live"
    status, answer, _ = await api(session, sim)
    assert status == 200
    assert MSG_ULID.match(answer["message_id"])
    assert isinstance(answer["status"], str)
    assert answer["status"]
    [item] = await outbox(session, sim)
    assert item["message_id"] == answer["message_id"]
    status, _, _ = await api(session, sim, token="revoked")
    assert status == 401


async def test_live_multi_keeps_v1_shape(session: ClientSession, sim: Sim) -> None:
    await configure(session, sim, dialect="live")
    to = ["48600100200", "48600100201"]
    status, answer, _ = await api(session, sim, path="/api/sms-multi", to=to)
    assert status == 200
    assert [i["number"] for i in answer["message_ids"]] == to
    assert all(MSG_ULID.match(i["message_id"]) for i in answer["message_ids"])


async def test_unknown_dialect_refused(session: ClientSession, sim: Sim) -> None:
    async with session.post(f"{sim.url}/_sim/config", json={"dialect": "v2"}) as resp:
        assert resp.status == 400
    assert sim.state.dialect == "v1"


# -- idempotency -----------------------------------------------------------


@pytest.mark.parametrize("dialect", ["v1", "live"])
async def test_idempotency_key(session: ClientSession, sim: Sim, dialect: str) -> None:
    await configure(session, sim, dialect=dialect)
    key = str(uuid.uuid4())
    first = await api(session, sim, idempotency_key=key)
    again = await api(session, sim, idempotency_key=key)
    assert first[0] == again[0] == 200
    assert again[1] == first[1]
    assert len(await outbox(session, sim)) == 1
    other = await api(session, sim, idempotency_key=str(uuid.uuid4()))
    assert other[1]["message_id"] != first[1]["message_id"]
    assert len(await outbox(session, sim)) == 2


@pytest.mark.parametrize(
    "key",
    ["abc", "0b0e7a3c-ee7e-11f1-804a-02fc00000001", 42],  # the middle one: a UUID1
)
async def test_idempotency_key_not_uuid4(
    session: ClientSession, sim: Sim, key: Any
) -> None:
    status, answer, _ = await api(session, sim, idempotency_key=key)
    assert (status, list(answer["errors"])) == (422, ["idempotency_key"])
    assert await outbox(session, sim) == []


async def test_lost_answer_then_retry(session: ClientSession, sim: Sim) -> None:
    """ACTIO took it but the answer was lost: the retry with the key gets it."""
    await configure(session, sim, dialect="live", fault="lost_answer", fault_count=1)
    key = str(uuid.uuid4())
    status, _, _ = await api(session, sim, idempotency_key=key)
    assert status == 500
    [item] = await outbox(session, sim)
    status, answer, _ = await api(session, sim, idempotency_key=key)
    assert status == 200
    assert answer["message_id"] == item["message_id"]
    assert len(await outbox(session, sim)) == 1
    # Without a key, the same retry sends a second SMS.
    await configure(session, sim, fault="lost_answer", fault_count=1)
    assert (await api(session, sim))[0] == 500
    assert (await api(session, sim))[0] == 200
    assert len(await outbox(session, sim)) == 3


# -- faults ------------------------------------------------------------------


async def test_fault_402(session: ClientSession, sim: Sim) -> None:
    await configure(session, sim, fault="402", fault_count=1)
    status, answer, _ = await api(session, sim)
    assert status == 402
    assert isinstance(answer, dict)
    assert await outbox(session, sim) == []
    assert (await api(session, sim))[0] == 200  # fault_count spent


async def test_fault_401(session: ClientSession, sim: Sim) -> None:
    await configure(session, sim, fault="401", fault_after=1)
    assert (await api(session, sim))[0] == 200
    assert (await api(session, sim))[0] == 401
    assert len(await outbox(session, sim)) == 1


async def test_fault_429_retry_after(session: ClientSession, sim: Sim) -> None:
    await configure(session, sim, fault="429", retry_after=12)
    status, _, headers = await api(session, sim)
    assert (status, headers["Retry-After"]) == (429, "12")
    assert await outbox(session, sim) == []


# -- fields ------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["v1", "live"])
async def test_scheduled_at(session: ClientSession, sim: Sim, dialect: str) -> None:
    await configure(session, sim, dialect=dialect)
    when = "2026-12-24T18:00:00+01:00"
    assert (await api(session, sim, scheduled_at=when))[0] == 200
    assert [i["scheduled_at"] for i in await outbox(session, sim)] == [when]
    for bad in ("24.12.2026 18:00", "2026-12-24T18:00:00", "soon"):
        status, answer, _ = await api(session, sim, scheduled_at=bad)
        assert (status, list(answer["errors"])) == (422, ["scheduled_at"]), bad
    assert len(await outbox(session, sim)) == 1


@pytest.mark.parametrize("dialect", ["v1", "live"])
async def test_sender_names(session: ClientSession, sim: Sim, dialect: str) -> None:
    await configure(session, sim, dialect=dialect)
    assert (await api(session, sim, **{"from": "Dom"}))[0] == 200
    assert [i["sender"] for i in await outbox(session, sim)] == ["Dom"]
    # Unregistered, and longer than 11 characters.
    for name in ("Garaz", "Dom Kowalski"):
        status, answer, _ = await api(session, sim, **{"from": name})
        assert (status, list(answer["errors"])) == (422, ["from"]), name
    assert len(await outbox(session, sim)) == 1


async def test_body_at_most_ten_parts(session: ClientSession, sim: Sim) -> None:
    # UCS-2, 60 characters a part (v1.0); at most 10 parts (live).
    assert (await api(session, sim, body="ż" * 600))[0] == 200
    status, answer, _ = await api(session, sim, body="ż" * 601)
    assert (status, list(answer["errors"])) == (422, ["body"])
    assert [i["parts"] for i in await outbox(session, sim)] == [10]


# -- status webhooks -----------------------------------------------------------


@pytest.mark.parametrize("status", ["delivered", "failed", "expired", "bounced"])
async def test_live_status_webhook(
    session: ClientSession, sim: Sim, receiver: Receiver, status: str
) -> None:
    await configure(session, sim, dialect="live")
    _, answer, _ = await api(session, sim, body="ż" * 61)  # 2 parts
    message_id = answer["message_id"]
    reason = None if status == "delivered" else "Number not in service"
    sent = {"message_id": message_id, "status": status}
    result = await control(session, sim, "deliver", **sent, reason=reason)
    assert result["webhook_status"] == 200
    [post] = receiver.posts
    assert post["event"] == f"sms.{status}"
    assert (post["message_id"], post["to"]) == (message_id, PHONE)
    if status == "delivered":
        assert set(post) == {
            "event",
            "message_id",
            "to",
            "delivered_at",
            "operator",
            "segments",
        }
        assert datetime.fromisoformat(post["delivered_at"]).tzinfo is not None
        assert isinstance(post["operator"], str)
        assert post["operator"]
        assert post["segments"] == 2
    else:
        assert post["reason"] == reason


@pytest.mark.parametrize(
    ("status", "v1"),
    [
        ("DELIVERED", "DELIVERED"),
        ("delivered", "DELIVERED"),
        ("ERROR", "ERROR"),
        ("failed", "ERROR"),
        ("expired", "ERROR"),
        ("bounced", "ERROR"),
    ],
)
async def test_v1_status_webhook(
    session: ClientSession, sim: Sim, receiver: Receiver, status: str, v1: str
) -> None:
    _, answer, _ = await api(session, sim)
    await control(
        session, sim, "deliver", message_id=answer["message_id"], status=status
    )
    assert receiver.posts == [
        {"type": "NOTIFICATION", "message_id": answer["message_id"], "status": v1}
    ]


async def test_deliver_dialect_per_call(
    session: ClientSession, sim: Sim, receiver: Receiver
) -> None:
    _, answer, _ = await api(session, sim)
    sent = {"message_id": answer["message_id"], "dialect": "live"}
    await control(session, sim, "deliver", **sent, status="ERROR")
    assert receiver.posts[0]["event"] == "sms.failed"
    assert "reason" in receiver.posts[0]


async def test_manual_mark_beats_auto_deliver(
    session: ClientSession, sim: Sim, receiver: Receiver
) -> None:
    """Issue 27.3: "Failed" by hand, then auto delivery must not undo it."""
    await configure(session, sim, dialect="live", auto_deliver=0.3)
    _, marked, _ = await api(session, sim)
    _, left, _ = await api(session, sim)
    await control(
        session, sim, "deliver", message_id=marked["message_id"], status="failed"
    )
    await receiver.wait(2)
    await asyncio.sleep(0.5)  # well past the auto delivery of both
    events = {p["message_id"]: p["event"] for p in receiver.posts}
    assert len(receiver.posts) == 2
    assert events == {
        marked["message_id"]: "sms.failed",
        left["message_id"]: "sms.delivered",
    }
    status = {i["message_id"]: i["status"] for i in await outbox(session, sim)}
    assert status[marked["message_id"]] == "failed"


# -- inbound -------------------------------------------------------------------


async def test_inbound_formats(
    session: ClientSession, sim: Sim, receiver: Receiver
) -> None:
    await configure(session, sim, dialect="live")
    # The live inbound format is undocumented: v1.0's is what the spec shows.
    await control(session, sim, "inbound", **{"from": PHONE, "body": "Hej"})
    assert receiver.posts[0] == {
        "type": "MESSAGE",
        "from": PHONE,
        "to": SENDER,
        "body": "Hej",
    }
    await control(
        session, sim, "inbound", **{"from": PHONE, "body": "?", "format": "odd"}
    )
    odd = receiver.posts[1]
    assert isinstance(odd, dict)
    assert not {"type", "event", "data"} & set(odd)  # no dialect's marker


# -- the demo's config ---------------------------------------------------------


def test_demo_config(tmp_path: Path) -> None:
    """Issue 27.2: the UI editors' files exist; the blueprints are in config/."""
    shutil.copyfile(
        ROOT / "config" / "configuration.yaml", tmp_path / "configuration.yaml"
    )
    (tmp_path / "scripts.yaml").write_text("hello: {sequence: []}\n")
    prepare_config(tmp_path)
    prepare_config(tmp_path)  # every start
    config = load_yaml(tmp_path / "configuration.yaml")
    assert isinstance(config, dict)
    assert config["automation"] == []
    assert config["script"] == {"hello": {"sequence": []}}  # kept
    assert config["scene"] == []
    shipped = ROOT / "blueprints" / "automation" / "actio_sms"
    copied = tmp_path / "blueprints" / "automation" / "actio_sms"
    names = sorted(p.name for p in shipped.glob("*.yaml"))
    assert names
    assert sorted(p.name for p in copied.iterdir()) == names
    for name in names:
        assert (copied / name).read_bytes() == (shipped / name).read_bytes()
