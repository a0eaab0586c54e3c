"""Contract tests: the client against the simulator over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
import contextlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
import json
import re
import time
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

from aiohttp import ClientSession, web
import pytest

from actio_simulator import run_simulator
from custom_components.actio_sms.actio import (
    ActioAnswerLostError,
    ActioAuthError,
    ActioClient,
    ActioConnectionError,
    ActioError,
    ActioNoFundsError,
    ActioNotFoundError,
    ActioRateLimitError,
    ActioResponseError,
    ActioServerError,
    ActioValidationError,
    ApiMode,
    DeliveryReport,
    DeliveryStatus,
    InboundMessage,
    InvalidPayloadError,
    SentMessage,
    UnrecognisedPayloadError,
    loads_tolerant,
    parse_inbound,
    parse_message_id,
    parse_retry_after,
    shape_of,
    utc_now_iso,
)
from custom_components.actio_sms.actio.client import MAX_RETRY_AFTER, PATHS_MULTI

from .conftest import (
    NOMULTI_TOKEN,
    SENDER,
    TCX_TOKEN,
    TOKEN,
    Sim,
    free_port,
    make_state,
)

HEX16 = re.compile(r"^[0-9a-f]{16}$")
# The live API's ids: msg_ and a 26-character ULID (Crockford base32).
MSG_ULID = re.compile(r"^msg_[0-9A-HJKMNP-TV-Z]{26}$")
UUID4 = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)
KEY = "3b241101-e2bb-4255-8caf-4136c566a962"


@contextlib.asynccontextmanager
async def raw_server(handler: Any, *paths: str) -> AsyncIterator[str]:
    """A bare HTTP server answering ``paths`` with ``handler``."""
    app = web.Application()
    for path in paths:
        app.router.add_post(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


class Counting:
    """A handler answering every request with one status, counting them."""

    def __init__(self, status: int) -> None:
        """Answer with ``status``."""
        self.status = status
        self.calls = 0

    async def answer(self, _request: web.Request) -> web.Response:
        """Count the request and answer it."""
        self.calls += 1
        return web.Response(status=self.status)


@pytest.fixture(params=["v1", "live"])
async def simulator(
    request: pytest.FixtureRequest, socket_enabled: None
) -> AsyncIterator[Sim]:
    """The contract holds in both dialects: each client test runs against a
    simulator speaking v1.0, then one speaking ACTIO's live API."""
    async with run_simulator(make_state(dialect=request.param)) as (sim, url):
        yield Sim(sim, url)


def message_ids(sim: Sim) -> re.Pattern[str]:
    """The ids the simulator's dialect gives."""
    return {"v1": HEX16, "live": MSG_ULID}[sim.state.dialect]


def client(
    session: ClientSession, sim: Sim, token: str = TOKEN, **kwargs
) -> ActioClient:
    return ActioClient(session, token, base_url=sim.url, **kwargs)


async def test_send_sms(session: ClientSession, simulator: Sim) -> None:
    sent = await client(session, simulator).send_sms(SENDER, "48600100200", "Zażółć 🎉")
    assert sent.recipient == "48600100200"
    assert message_ids(simulator).match(sent.message_id or "")
    [item] = simulator.outbox
    assert (item.message_id, item.sender, item.recipient, item.body) == (
        sent.message_id,
        SENDER,
        "48600100200",
        "Zażółć 🎉",
    )


async def test_send_sms_validation_error(
    session: ClientSession, simulator: Sim
) -> None:
    with pytest.raises(ActioValidationError) as err:
        await client(session, simulator).send_sms(SENDER, "123", "x")
    assert set(err.value.errors) == {"to"}
    assert "to:" in str(err.value)
    assert simulator.outbox == []


async def test_bad_token(session: ClientSession, simulator: Sim) -> None:
    with pytest.raises(ActioAuthError):
        await client(session, simulator, "wrong").send_sms(SENDER, "48600100200", "x")
    assert simulator.outbox == []


async def test_wrong_sender(session: ClientSession, simulator: Sim) -> None:
    with pytest.raises(ActioValidationError) as err:
        await client(session, simulator).send_sms("48500500500", "48600100200", "x")
    assert "from" in err.value.errors


async def test_probe_valid(session: ClientSession, simulator: Sim) -> None:
    await client(session, simulator).check_credentials(SENDER)
    assert simulator.outbox == []
    assert [r["status"] for r in simulator.requests] == [422]


async def test_probe_bad_token(session: ClientSession, simulator: Sim) -> None:
    with pytest.raises(ActioAuthError):
        await client(session, simulator, "nope").check_credentials(SENDER)


async def test_probe_bad_sender(session: ClientSession, simulator: Sim) -> None:
    with pytest.raises(ActioValidationError) as err:
        await client(session, simulator).check_credentials("48500500500")
    assert list(err.value.errors) == ["from"]
    assert simulator.outbox == []


async def test_probe_3cx(session: ClientSession, simulator: Sim) -> None:
    await client(session, simulator, TCX_TOKEN).check_credentials(
        SENDER, mode=ApiMode.TCX
    )
    with pytest.raises(ActioAuthError):
        await client(session, simulator).check_credentials(SENDER, mode=ApiMode.TCX)
    assert simulator.outbox == []


async def test_probe_errors_token_in_422(
    session: ClientSession, simulator: Sim
) -> None:
    simulator.fault("422")
    with pytest.raises(ActioValidationError) as err:
        await client(session, simulator).check_credentials(SENDER)
    assert "to" in err.value.errors


async def test_send_multi(session: ClientSession, simulator: Sim) -> None:
    numbers = ["48600100200", "48600100201", "48732129001"]
    sent = await client(session, simulator).send_sms_multi(SENDER, numbers, "Hi")
    assert [s.recipient for s in sent] == numbers
    assert all(message_ids(simulator).match(s.message_id or "") for s in sent)
    assert {s.recipient: s.message_id for s in sent} == {
        i.recipient: i.message_id for i in simulator.outbox
    }
    assert [r["to"] for r in simulator.requests] == [numbers]
    assert [r["path"] for r in simulator.requests] == ["/api/sms-multi"]
    assert len(simulator.outbox) == 3


async def test_send_multi_falls_back_to_mult(
    session: ClientSession, socket_enabled: None
) -> None:
    async with run_simulator(make_state(multi_path="mult")) as (sim, url):
        actio = ActioClient(session, TOKEN, base_url=url)
        sent = await actio.send_sms_multi(SENDER, ["48600100200"], "Hi")
        assert [s.recipient for s in sent] == ["48600100200"]
        assert actio.multi_path == PATHS_MULTI[1]
        await actio.send_sms_multi(SENDER, ["48600100201"], "Hi")
        paths = [(r["path"], r["status"]) for r in sim.state.requests]
        # The 404 costs one request once; the working path is remembered.
        assert paths == [
            ("/api/sms-multi", 404),
            ("/api/sms-mult", 200),
            ("/api/sms-mult", 200),
        ]
        assert len(sim.state.outbox) == 2


async def test_multi_all_or_nothing(session: ClientSession, simulator: Sim) -> None:
    with pytest.raises(ActioValidationError) as err:
        await client(session, simulator).send_sms_multi(
            SENDER, ["48600100200", "48221234567"], "Hi"
        )
    assert "to" in err.value.errors
    assert simulator.outbox == []


async def test_multi_not_enabled(session: ClientSession, simulator: Sim) -> None:
    with pytest.raises(ActioValidationError):
        await client(session, simulator, NOMULTI_TOKEN).send_sms_multi(
            SENDER, ["48600100200"], "Hi"
        )
    assert simulator.outbox == []


async def test_multi_server_rejects_duplicates(
    session: ClientSession, simulator: Sim
) -> None:
    # The client refuses duplicates itself; the simulator refuses them too.
    with pytest.raises(ValueError, match="unique"):
        await client(session, simulator).send_sms_multi(
            SENDER, ["48600100200"] * 2, "Hi"
        )
    async with session.post(
        f"{simulator.url}/api/sms-multi",
        json={"from": SENDER, "to": ["48600100200", "48600100200"], "body": "x"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as resp:
        assert resp.status == 422
        assert "to" in (await resp.json())["errors"]
    assert simulator.outbox == []


@pytest.mark.parametrize("count", [0, 101])
async def test_multi_bounds(session: ClientSession, simulator: Sim, count: int) -> None:
    numbers = [f"48600{i:06d}" for i in range(count)]
    with pytest.raises(ValueError, match="recipients"):
        await client(session, simulator).send_sms_multi(SENDER, numbers, "Hi")
    assert simulator.requests == []


async def test_send_3cx(session: ClientSession, simulator: Sim) -> None:
    sent = await client(session, simulator, TCX_TOKEN).send_3cx(
        SENDER, "48600100200", "Cześć"
    )
    assert message_ids(simulator).match(sent.message_id or "")
    [item] = simulator.outbox
    assert (item.endpoint, item.recipient, item.body) == ("tcx", "48600100200", "Cześć")


@pytest.mark.parametrize(
    ("fault", "exc"),
    [
        ("401", ActioAuthError),
        ("403", ActioAuthError),
        ("402", ActioNoFundsError),
        ("422", ActioValidationError),
        ("non_json", ActioResponseError),
    ],
)
async def test_refusals_are_never_retried(
    session: ClientSession, simulator: Sim, fault: str, exc: type[ActioError]
) -> None:
    """A 4xx (or a 2xx that is not JSON) is ACTIO's last word: one request each."""
    simulator.fault(fault)
    actio = client(session, simulator, timeout=0.5)
    with pytest.raises(exc):
        await actio.send_sms(SENDER, "48600100200", "x")
    with pytest.raises(exc):
        await actio.send_sms_multi(SENDER, ["48600100200"], "x")
    assert len(simulator.requests) == 2
    assert simulator.outbox == []


@pytest.mark.parametrize(
    ("fault", "exc"),
    [
        ("500", ActioServerError),
        ("timeout", ActioAnswerLostError),
        ("reset", ActioAnswerLostError),
        ("429", ActioRateLimitError),
    ],
)
async def test_lost_answers_and_429_are_retried_with_the_same_key(
    session: ClientSession, simulator: Sim, fault: str, exc: type[ActioError]
) -> None:
    """Retried a bounded number of times, each time with the request's own key."""
    simulator.fault(fault)
    simulator.state.retry_after = 0
    actio = client(session, simulator, timeout=0.2)
    with (
        patch.object(session, "post", wraps=session.post) as post,
        pytest.raises(exc) as err,
    ):
        await actio.send_sms(SENDER, "48600100200", "x", idempotency_key=KEY)
    # Three retries at most (RETRY_DELAYS), within the budget.
    assert 2 <= post.call_count <= 4
    assert {call.kwargs["json"]["idempotency_key"] for call in post.call_args_list} == {
        KEY
    }
    assert simulator.outbox == []
    if fault == "500":
        assert err.value.status == 500  # type: ignore[attr-defined]
        assert str(err.value) == "ACTIO server error 500"
    if isinstance(err.value, ActioAnswerLostError):
        assert err.value.idempotency_key == KEY


async def test_a_lost_answer_retried_sends_one_sms(
    session: ClientSession, simulator: Sim
) -> None:
    """ACTIO accepted, the answer was lost; the retry gets the first answer."""
    simulator.fault("lost_answer", count=1)
    sent = await client(session, simulator).send_sms(SENDER, "48600100200", "x")
    [item] = simulator.outbox
    assert sent.message_id == item.message_id
    assert [r["status"] for r in simulator.requests] == [500, 200]
    keys = {r["idempotency_key"] for r in simulator.requests}
    assert keys == {item.idempotency_key}
    assert UUID4.match(item.idempotency_key or "")


async def test_429_waits_its_retry_after(
    session: ClientSession, simulator: Sim
) -> None:
    """429 is not accepted: wait as told (not the shorter backoff), then retry."""
    simulator.fault("429", count=1)
    simulator.state.retry_after = 1
    started = time.monotonic()
    with patch("custom_components.actio_sms.actio.client.RETRY_BUDGET", 5.0):
        sent = await client(session, simulator).send_sms(SENDER, "48600100200", "x")
    assert time.monotonic() - started >= 1.0
    assert [i.message_id for i in simulator.outbox] == [sent.message_id]


async def test_a_long_retry_after_is_not_waited_for(
    session: ClientSession, simulator: Sim
) -> None:
    """Beyond the budget the send fails at once, telling how long ACTIO asked."""
    simulator.fault("429")
    simulator.state.retry_after = 7
    started = time.monotonic()
    with pytest.raises(ActioRateLimitError) as err:
        await client(session, simulator).send_sms(SENDER, "48600100200", "x")
    assert time.monotonic() - started < 1.0
    assert err.value.retry_after == 7
    assert str(err.value) == "Rate limited (retry after 7.0 s)"
    assert len(simulator.requests) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_lost_answer_waits_its_retry_after(
    session: ClientSession, socket_enabled: None, status: int
) -> None:
    """A 5xx that says when to come back is retried then (not on the shorter
    backoff), with the same key; one that asks for too long is not waited for:
    the send is unconfirmed at once."""
    seen: list[tuple[float, str]] = []
    retry_after = "1"

    async def handler(request: web.Request) -> web.Response:
        seen.append((time.monotonic(), (await request.json())["idempotency_key"]))
        if len(seen) == 1:
            return web.json_response(
                {}, status=status, headers={"Retry-After": retry_after}
            )
        return web.json_response({"message_id": "msg_01JD3Q5Z8KXW2M4N6P7R9S0T1V"})

    async with raw_server(handler, "/api/sms") as url:
        actio = ActioClient(session, TOKEN, base_url=url)
        with patch("custom_components.actio_sms.actio.client.RETRY_BUDGET", 5.0):
            sent = await actio.send_sms(SENDER, "48600100200", "x", idempotency_key=KEY)
        assert sent.message_id == "msg_01JD3Q5Z8KXW2M4N6P7R9S0T1V"
        [(first, key1), (second, key2)] = seen
        assert second - first >= 1.0
        assert key1 == key2 == KEY
        seen.clear()
        retry_after = "60"
        with pytest.raises(ActioServerError) as err:
            await actio.send_sms(SENDER, "48600100200", "x", idempotency_key=KEY)
        assert len(seen) == 1
        assert (err.value.status, err.value.retry_after) == (status, 60)
        assert err.value.idempotency_key == KEY


@pytest.mark.parametrize(
    ("budget", "retry_after", "sleeps"),
    [
        # Exactly the cap, and exactly what is left of the budget: waited for.
        (MAX_RETRY_AFTER, MAX_RETRY_AFTER, [MAX_RETRY_AFTER]),
        # Over the cap though within the budget: not waited for.
        (30.0, MAX_RETRY_AFTER + 5, []),
    ],
)
async def test_retry_after_is_waited_for_up_to_its_cap(
    session: ClientSession,
    socket_enabled: None,
    budget: float,
    retry_after: float,
    sleeps: list[float],
) -> None:
    """The clock stands still here, so the bounds are met exactly."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def handler(_request: web.Request) -> web.Response:
        if not slept:
            return web.json_response(
                {}, status=429, headers={"Retry-After": str(retry_after)}
            )
        return web.json_response({"message_id": LIVE_ID})

    clock = SimpleNamespace(monotonic=lambda: 1000.0)
    fake_asyncio = SimpleNamespace(timeout=asyncio.timeout, sleep=sleep)
    async with raw_server(handler, "/api/sms") as url:
        actio = ActioClient(session, TOKEN, base_url=url)
        with (
            patch("custom_components.actio_sms.actio.client.RETRY_BUDGET", budget),
            patch("custom_components.actio_sms.actio.client.time", clock),
            patch("custom_components.actio_sms.actio.client.asyncio", fake_asyncio),
        ):
            if sleeps:
                sent = await actio.send_sms(SENDER, "48600100200", "x")
                assert sent.message_id == LIVE_ID
            else:
                with pytest.raises(ActioRateLimitError):
                    await actio.send_sms(SENDER, "48600100200", "x")
    assert slept == sleeps


async def test_retry_delays_are_the_clients_own(
    session: ClientSession, socket_enabled: None
) -> None:
    """A client given its own backoff retries that many times, no more."""
    for delays, attempts in (((0.0,), 2), ((0.0, 0.0, 0.0, 0.0), 5)):
        handler = Counting(503)
        async with raw_server(handler.answer, "/api/sms") as url:
            actio = ActioClient(session, TOKEN, base_url=url, retry_delays=delays)
            with pytest.raises(ActioServerError):
                await actio.send_sms(SENDER, "48600100200", "x")
        assert handler.calls == attempts


async def test_a_base_url_keeps_its_path_and_loses_its_slash(
    session: ClientSession, socket_enabled: None
) -> None:
    """Behind a proxy path; every request carries the token and asks for JSON."""
    seen: list[tuple[str, str | None, str | None]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(
            (
                request.path,
                request.headers.get("Authorization"),
                request.headers.get("Accept"),
            )
        )
        return web.json_response({"message_id": LIVE_ID})

    # The path ends in a letter as well as a slash: only the slash goes.
    async with raw_server(handler, "/relay/BOX/api/sms") as url:
        actio = ActioClient(session, TOKEN, base_url=f"{url}/relay/BOX/")
        await actio.send_sms(SENDER, "48600100200", "x")
    assert seen == [("/relay/BOX/api/sms", f"Bearer {TOKEN}", "application/json")]


@pytest.mark.parametrize(
    ("mode", "path", "probe"),
    [
        (ApiMode.SMS, "/api/sms", {"from": SENDER, "to": SENDER, "body": ""}),
        (
            ApiMode.TCX,
            "/api/tcx",
            {"from": f"+{SENDER}", "to": f"+{SENDER}", "text": ""},
        ),
    ],
)
async def test_the_probe_is_an_empty_message_to_the_sender(
    session: ClientSession,
    socket_enabled: None,
    mode: ApiMode,
    path: str,
    probe: dict[str, str],
) -> None:
    """Exactly the fields the spec names, so ACTIO refuses only the empty text."""
    seen: list[Any] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(await request.json())
        field = next(iter(probe.keys() - {"from", "to"}))
        return web.json_response(
            {"errors": {field: [f"The {field} field is required."]}}, status=422
        )

    async with raw_server(handler, path) as url:
        await ActioClient(session, TOKEN, base_url=url).check_credentials(
            SENDER, mode=mode
        )
    assert seen == [probe]


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (200, "<html>OK</html>", "Answer is not JSON"),
        (299, "<html>OK</html>", "Answer is not JSON"),
        # Not a 2xx: its status is what is wrong, not its body.
        (300, "<html>Moved</html>", "Unexpected status 300"),
        (200, "", None),
        (200, " \n", None),
    ],
)
async def test_a_3cx_answer_that_is_not_json(
    session: ClientSession,
    socket_enabled: None,
    status: int,
    body: str,
    error: str | None,
) -> None:
    """A 3CX answer needs no id, but one that is not JSON is not ACTIO's:
    unconfirmed. An empty 200 is an answer without an id."""

    async def handler(_request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, content_type="text/html")

    async with raw_server(handler, "/api/tcx") as url:
        actio = ActioClient(session, TOKEN, base_url=url)
        if error is None:
            sent = await actio.send_3cx(SENDER, "48600100200", "x")
            assert sent == SentMessage("48600100200", None)
            return
        with pytest.raises(ActioResponseError) as err:
            await actio.send_3cx(SENDER, "48600100200", "x")
    assert (str(err.value), err.value.status) == (error, status)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("402", "No funds left on the ACTIO account"),
        ("non_json", "Answer is not JSON"),
        ("timeout", "Timed out waiting for ACTIO"),
    ],
)
async def test_each_error_says_what_happened(
    session: ClientSession, simulator: Sim, fault: str, error: str
) -> None:
    """The client's errors are read in logs: their words matter."""
    simulator.fault(fault)
    with pytest.raises(ActioError) as err:
        await client(session, simulator, timeout=0.2).send_sms(
            SENDER, "48600100200", "x"
        )
    assert str(err.value) == error


async def test_every_message_request_carries_a_fresh_uuid4_key(
    session: ClientSession, simulator: Sim
) -> None:
    actio = client(session, simulator)
    await actio.send_sms(SENDER, "48600100200", "a")
    await actio.send_sms(SENDER, "48600100200", "b")
    await actio.send_sms_multi(SENDER, ["48600100200", "48600100201"], "c")
    keys = [r["idempotency_key"] for r in simulator.requests]
    assert len(keys) == 3
    assert len(set(keys)) == 3
    assert all(UUID4.match(key) for key in keys)


@pytest.mark.parametrize("dialect", ["v1", "live"])
async def test_both_dialects(
    session: ClientSession, simulator: Sim, dialect: str
) -> None:
    """v1.0's 16-hex ids and 403; the live API's msg_ ids and 401."""
    simulator.state.dialect = dialect
    sent = await client(session, simulator).send_sms(SENDER, "48600100200", "x")
    ids = {"v1": HEX16, "live": MSG_ULID}
    assert ids[dialect].match(sent.message_id or "")
    [multi] = await client(session, simulator).send_sms_multi(
        SENDER, ["48600100200"], "y"
    )
    assert ids[dialect].match(multi.message_id or "")
    with pytest.raises(ActioAuthError):
        await client(session, simulator, "wrong").send_sms(SENDER, "48600100200", "x")
    assert simulator.requests[-1]["status"] == {"v1": 403, "live": 401}[dialect]


async def test_scheduled_and_from_a_sender_name(
    session: ClientSession, simulator: Sim
) -> None:
    simulator.state.tokens[TOKEN].sender_names = ["Dom"]
    await client(session, simulator).send_sms(
        "Dom", "48600100200", "x", scheduled_at="2026-12-24T18:00:00+01:00"
    )
    [item] = simulator.outbox
    assert (item.sender, item.scheduled_at) == ("Dom", "2026-12-24T18:00:00+01:00")


async def test_connection_refused_retries_once(
    session: ClientSession, socket_enabled: None
) -> None:
    """Connecting failed, so nothing was sent: exactly one more attempt."""
    actio = ActioClient(session, TOKEN, base_url=f"http://127.0.0.1:{free_port()}")
    with (
        patch.object(session, "post", wraps=session.post) as post,
        pytest.raises(ActioConnectionError) as err,
    ):
        await actio.send_sms(SENDER, "48600100200", "x")
    assert post.call_count == 2
    assert str(err.value).startswith("Cannot connect to ACTIO: ")


async def test_connection_retry_succeeds(
    session: ClientSession, simulator: Sim
) -> None:
    """A refused first connection, then ACTIO answers: sent once."""
    actio = client(session, simulator)
    real_post = session.post
    calls = 0

    def flaky_post(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            return real_post(f"http://127.0.0.1:{free_port()}/api/sms", **kwargs)
        return real_post(*args, **kwargs)

    with patch.object(session, "post", side_effect=flaky_post):
        sent = await actio.send_sms(SENDER, "48600100200", "x")
    assert calls == 2
    assert [i.message_id for i in simulator.outbox] == [sent.message_id]


async def test_unexpected_status(session: ClientSession, simulator: Sim) -> None:
    actio = ActioClient(session, TOKEN, base_url=f"{simulator.url}/nothing-here")
    with pytest.raises(ActioResponseError) as err:
        await actio.send_sms(SENDER, "48600100200", "x")
    assert err.value.status == 404


@pytest.mark.parametrize(
    ("payload", "status", "exc"),
    [
        ({"message_id": ""}, 200, ActioResponseError),
        ({"nothing": 1}, 200, ActioResponseError),
        ([1, 2], 200, ActioResponseError),
        ({"message_ids": "x"}, 200, ActioResponseError),
        (
            {"message_ids": [{"number": "1", "message_id": "x"}]},
            200,
            ActioResponseError,
        ),
        ({"errors": {"token": "Invalid token"}}, 422, ActioAuthError),
        ({"errors": {"body": ["x"], "to": None}}, 422, ActioValidationError),
        (None, 401, ActioAuthError),
        (None, 418, ActioResponseError),
        (None, 503, ActioServerError),
    ],
)
async def test_odd_answers(
    session: ClientSession,
    socket_enabled: None,
    payload,
    status: int,
    exc: type[ActioError],
) -> None:
    async def handler(_request: web.Request) -> web.Response:
        return web.json_response(payload, status=status)

    async with raw_server(handler, "/api/sms", "/api/sms-multi") as url:
        actio = ActioClient(session, TOKEN, base_url=url)
        multi = isinstance(payload, dict) and "message_ids" in payload
        call = (
            actio.send_sms_multi(SENDER, ["48600100200"], "x")
            if multi
            else actio.send_sms(SENDER, "48600100200", "x")
        )
        with pytest.raises(exc):
            await call


async def test_tolerant_answers(session: ClientSession, socket_enabled: None) -> None:
    """Typographic quotes as in the spec's examples, ids as numbers, '+' numbers."""
    answers = {
        "/api/sms": "{\u201emessage_id\u201d:\u201ea906cff7719bd889\u201d}",
        "/api/sms-multi": '{"message_ids":["junk", {"number": 48600100202},'
        '{"number":"+48600100200","message_id":"a906cff7719bd889"},'
        '{"number":"48600100201","message_id":"b906cff7719bd889"}, "junk"]}',
        "/api/tcx": '{"message_id": 12345}',
    }

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=answers[request.path], content_type="application/json")

    async with raw_server(handler, *answers) as url:
        actio = ActioClient(session, TOKEN, base_url=f"{url}/")
        assert await actio.send_sms(SENDER, "48600100200", "x") == SentMessage(
            "48600100200", "a906cff7719bd889"
        )
        sent = await actio.send_sms_multi(
            SENDER, ["48600100200", "48600100201", "48600100202"], "x"
        )
        assert [s.recipient for s in sent] == ["48600100200", "48600100201"]
        assert (await actio.send_3cx(SENDER, "48600100200", "x")).message_id == "12345"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            [{"number": "48600100200", "message_id": "a"}],
            "Answer has no message_ids list",
        ),
        ({"message_ids": {"48600100200": "a"}}, "Answer has no message_ids list"),
        ({"message_ids": []}, "Answer names none of the recipients"),
        (
            {"message_ids": [{"number": "48600100299", "message_id": "a"}]},
            "Answer names none of the recipients",
        ),
    ],
)
async def test_multi_unusable_answers(
    session: ClientSession, socket_enabled: None, answer: Any, message: str
) -> None:
    """What users see (through unexpected_response) says what was wrong."""

    async def handler(_request: web.Request) -> web.Response:
        return web.json_response(answer)

    async with raw_server(handler, "/api/sms-multi") as url:
        with pytest.raises(ActioResponseError) as err:
            await ActioClient(session, TOKEN, base_url=url).send_sms_multi(
                SENDER, ["48600100200"], "x"
            )
    assert str(err.value) == message
    assert err.value.status == 200


async def test_sms_answer_id_or_message_id(
    session: ClientSession, socket_enabled: None
) -> None:
    """The live documentation does not show the answer: read ``message_id`` or ``id``."""
    answers = iter(
        [
            {"id": "msg_01JD3Q5Z8KXW2M4N6P7R9S0T1V", "status": "queued"},
            {"status": "queued"},
        ]
    )

    async def handler(_request: web.Request) -> web.Response:
        return web.json_response(next(answers))

    async with raw_server(handler, "/api/sms") as url:
        actio = ActioClient(session, TOKEN, base_url=url)
        sent = await actio.send_sms(SENDER, "48600100200", "x")
        assert sent.message_id == "msg_01JD3Q5Z8KXW2M4N6P7R9S0T1V"
        with pytest.raises(ActioResponseError) as err:
            await actio.send_sms(SENDER, "48600100200", "x")
    assert str(err.value) == "Answer has no message_id"
    assert err.value.status == 200


def test_multi_refuses_what_actio_would_refuse_whole() -> None:
    """Checked before any request: duplicates and more than 100 numbers."""
    actio = ActioClient(None, TOKEN)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^sms-multi recipients must be unique$"):
        asyncio.run(actio.send_sms_multi(SENDER, ["48600100200"] * 2, "x"))
    with pytest.raises(ValueError, match=r"^sms-multi takes 1\.\.100 recipients$"):
        asyncio.run(actio.send_sms_multi(SENDER, [], "x"))
    too_many = [f"48600{i:06d}" for i in range(101)]
    with pytest.raises(ValueError, match=r"^sms-multi takes 1\.\.100 recipients$"):
        asyncio.run(actio.send_sms_multi(SENDER, too_many, "x"))


async def test_multi_takes_100_and_reads_id_or_message_id(
    session: ClientSession, socket_enabled: None
) -> None:
    hundred = [f"48600{i:06d}" for i in range(100)]
    answer = {
        "message_ids": [
            {"number": f"+{number}", ("id" if i % 2 else "message_id"): f"m{i}"}
            for i, number in enumerate(hundred)
        ]
    }

    async def handler(_request: web.Request) -> web.Response:
        return web.json_response(answer)

    async with raw_server(handler, "/api/sms-multi") as url:
        sent = await ActioClient(session, TOKEN, base_url=url).send_sms_multi(
            SENDER, hundred, "x"
        )
    assert sent == [SentMessage(n, f"m{i}") for i, n in enumerate(hundred)]


async def test_3cx_lost_answer_is_not_retried(
    session: ClientSession, socket_enabled: None
) -> None:
    """No idempotency key in a Telnyx-style body: a retry could send it twice."""
    handler = Counting(500)
    async with raw_server(handler.answer, "/api/tcx") as url:
        with pytest.raises(ActioServerError):
            await ActioClient(session, TOKEN, base_url=url).send_3cx(
                SENDER, "48600100200", "x"
            )
    assert handler.calls == 1


@pytest.mark.parametrize(
    ("answer", "message_id"),
    [
        ({"data": {"id": "a906cff7719bd889"}}, "a906cff7719bd889"),
        ({"id": "b906cff7719bd889"}, "b906cff7719bd889"),
        ({"message_id": 42}, "42"),
        ([{"id": "x"}], None),
        ({"data": ["x"]}, None),
    ],
)
async def test_3cx_answers(
    session: ClientSession, socket_enabled: None, answer: Any, message_id: str | None
) -> None:
    """3CX's answer may carry the id in several places, or not at all."""

    async def handler(_request: web.Request) -> web.Response:
        return web.json_response(answer)

    async with raw_server(handler, "/api/tcx") as url:
        sent = await ActioClient(session, TOKEN, base_url=url).send_3cx(
            SENDER, "48600100200", "x"
        )
    assert sent == SentMessage("48600100200", message_id)


async def test_multi_pairs_ids_by_number_not_position(
    session: ClientSession, socket_enabled: None
) -> None:
    """ACTIO may list the ids in any order; each goes to its own number."""
    answer = {
        "message_ids": [
            {"number": "48600100202", "message_id": "cccccccccccccccc"},
            {"number": "48600100200", "message_id": "aaaaaaaaaaaaaaaa"},
            {"number": "48600100201", "message_id": "bbbbbbbbbbbbbbbb"},
        ]
    }

    async def handler(_request: web.Request) -> web.Response:
        return web.json_response(answer)

    async with raw_server(handler, "/api/sms-multi") as url:
        sent = await ActioClient(session, TOKEN, base_url=url).send_sms_multi(
            SENDER, ["48600100200", "48600100201", "48600100202"], "x"
        )
    assert sent == [
        SentMessage("48600100200", "aaaaaaaaaaaaaaaa"),
        SentMessage("48600100201", "bbbbbbbbbbbbbbbb"),
        SentMessage("48600100202", "cccccccccccccccc"),
    ]


def test_loads_tolerant() -> None:
    assert loads_tolerant('{"a": 1}') == {"a": 1}
    assert loads_tolerant("{\u201ea\u201d\uff1a\u201cb\u201d}".encode()) == {"a": "b"}
    with pytest.raises(ValueError, match="Expecting"):
        loads_tolerant("{nope")


def test_parse_retry_after() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("soon") is None
    now = datetime(2026, 1, 1, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == 30.0
    earlier = format_datetime(now - timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(earlier, now=now.timestamp()) == 0.0
    # Without "now", the clock: a date a minute ahead is about 60 s away.
    ahead = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert 55 <= (parse_retry_after(ahead) or 0) <= 60


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a", "a"),
        ("a" * 64, "a" * 64),
        ("a" * 65, None),
        ("", None),
        (12345, "12345"),
        (True, None),
        ("a b", None),
        ("a\x00", None),
        (None, None),
    ],
)
def test_message_id_bounds(value: Any, expected: str | None) -> None:
    """One validator for ids in answers and in delivery reports."""
    assert parse_message_id(value) == expected


@pytest.mark.parametrize(
    ("status", "payload", "exc", "message"),
    [
        (300, None, ActioResponseError, "Unexpected status 300"),
        (401, None, ActioAuthError, "Authorization failed (401)"),
        (
            422,
            {"errors": {"token": "Invalid token"}},
            ActioAuthError,
            "token: Invalid token",
        ),
        (
            422,
            {"errors": {"to": ["Bad", "Worse"], "body": ["Empty"]}},
            ActioValidationError,
            "to: Bad, Worse; body: Empty",
        ),
        (422, {"errors": {}}, ActioValidationError, "Validation failed"),
        (404, None, ActioNotFoundError, "Endpoint not found"),
    ],
)
async def test_error_answers_say_what_happened(
    session: ClientSession,
    socket_enabled: None,
    status: int,
    payload: Any,
    exc: type[ActioError],
    message: str,
) -> None:
    """These texts reach users (unexpected_response, rejected) and diagnostics."""

    async def handler(_request: web.Request) -> web.Response:
        return web.json_response(payload, status=status)

    async with raw_server(handler, "/api/sms") as url:
        with pytest.raises(exc) as err:
            await ActioClient(session, TOKEN, base_url=url).send_sms(
                SENDER, "48600100200", "x"
            )
    assert type(err.value) is exc
    assert str(err.value) == message
    if isinstance(err.value, ActioResponseError):
        assert err.value.status == status


async def test_redirects_are_not_followed(
    session: ClientSession, socket_enabled: None
) -> None:
    """The token goes to the configured host only: a redirect is an error."""
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.path)
        if request.path == "/api/sms":
            raise web.HTTPFound("/elsewhere")
        return web.json_response({"message_id": "a906cff7719bd889"})

    async with raw_server(handler, "/api/sms", "/elsewhere") as url:
        with pytest.raises(ActioResponseError) as err:
            await ActioClient(session, TOKEN, base_url=url).send_sms(
                SENDER, "48600100200", "x"
            )
    assert str(err.value) == "Unexpected status 302"
    assert seen == ["/api/sms"]


# --- parse_inbound: what each dialect's post becomes, and why one is refused --

NOW = "2026-12-02T10:00:00.000+00:00"
LIVE_ID = "msg_01JD6Z3Q8Y4F5V2K7M9N0P1R2S"


def parsed(payload: Any) -> Any:
    with patch(
        "custom_components.actio_sms.actio.inbound.utc_now_iso", return_value=NOW
    ):
        return parse_inbound(json.dumps(payload).encode())


@pytest.mark.parametrize(
    ("payload", "record"),
    [
        (
            {
                "event": "sms.received",
                "from": "+48600100200",
                "to": "48732129000",
                "body": "b",
            },
            InboundMessage("48600100200", "48732129000", "b", NOW),
        ),
        (
            {"event": " SMS.Inbound ", "from": "Dom", "to": "48732129000", "text": "t"},
            InboundMessage("Dom", "48732129000", "t", NOW),
        ),
        (
            {
                "event": "sms.failed",
                "message_id": LIVE_ID,
                "to": "+48600100200",
                "reason": "  absent \n subscriber ",
                "operator": "Orange",
                "segments": 2,
            },
            DeliveryReport(
                LIVE_ID,
                DeliveryStatus.FAILED,
                reason="absent subscriber",
                operator="Orange",
                segments=2,
                recipient="48600100200",
            ),
        ),
        # What a report adds but cannot be used is dropped, not the report.
        (
            {
                "event": "sms.delivered",
                "message_id": LIVE_ID,
                "to": "600",
                "segments": 0,
            },
            DeliveryReport(LIVE_ID, DeliveryStatus.DELIVERED),
        ),
        (
            {"event": "sms.expired", "message_id": LIVE_ID, "segments": 1000},
            DeliveryReport(LIVE_ID, DeliveryStatus.EXPIRED),
        ),
        (
            {"event": "sms.bounced", "message_id": LIVE_ID, "segments": True},
            DeliveryReport(LIVE_ID, DeliveryStatus.BOUNCED),
        ),
        (
            {"event": "sms.delivered", "message_id": LIVE_ID, "segments": 999},
            DeliveryReport(LIVE_ID, DeliveryStatus.DELIVERED, segments=999),
        ),
        (
            {"event": "sms.delivered", "message_id": LIVE_ID, "reason": " "},
            DeliveryReport(LIVE_ID, DeliveryStatus.DELIVERED),
        ),
    ],
)
def test_live_posts(payload: dict[str, Any], record: Any) -> None:
    assert parsed(payload) == record


@pytest.fixture
def machine_far_from_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone is Tokyo's (naive local times would show)."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def tcx_sms(received_at: Any) -> dict[str, Any]:
    return {
        "data": {
            "event_type": "message.received",
            "payload": {
                "from": {"phone_number": "+48600100200"},
                "to": [{"phone_number": "+48732129000"}],
                "text": "3cx",
                "received_at": received_at,
            },
        }
    }


@pytest.mark.parametrize(
    ("received_at", "kept"),
    [
        ("2026-12-02T10:30:00.5+01:00", "2026-12-02T09:30:00.500+00:00"),
        # The sender's clock a little ahead is believed; far ahead is not.
        ("2026-12-02T10:04:00+00:00", "2026-12-02T10:04:00.000+00:00"),
        ("2026-12-02T12:00:00+00:00", "2026-12-02T10:05:00.000+00:00"),
        ("2026-12-02T10:00:00", NOW),  # no zone: whose?
        ("yesterday", NOW),
        (None, NOW),
    ],
)
@pytest.mark.usefixtures("machine_far_from_utc")
def test_3cx_time_in_utc_whatever_the_machine_zone(received_at: Any, kept: str) -> None:
    with patch(
        "custom_components.actio_sms.actio.inbound.datetime", wraps=datetime
    ) as clock:
        clock.now.return_value = datetime(2026, 12, 2, 10, tzinfo=UTC)
        clock.fromisoformat = datetime.fromisoformat
        record = parsed(tcx_sms(received_at))
    assert record == InboundMessage("48600100200", "48732129000", "3cx", kept)


def test_absurd_nesting_is_refused_in_words() -> None:
    with pytest.raises(InvalidPayloadError, match=r"^too deeply nested$"):
        parse_inbound(b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ([], "not an object"),
        ({"event": 1}, "expected a string for event"),
        (
            {"event": "sms.received", "from": "x", "to": "48732129000"},
            "expected a string for body",
        ),
        (
            {"event": "sms.received", "from": "x", "to": "4873", "body": "b"},
            "expected a phone number for to",
        ),
        (
            {"event": "sms.received", "from": " ", "to": "48732129000", "body": "b"},
            "expected a sender",
        ),
        ({"event": "sms.delivered", "message_id": ""}, "expected a message id"),
        (
            {"event": "sms.failed", "message_id": LIVE_ID, "reason": 7},
            "expected a string for reason",
        ),
        (
            {"event": "sms.failed", "message_id": LIVE_ID, "operator": 7},
            "expected a string for operator",
        ),
        ({"event": "sms.read", "message_id": LIVE_ID}, "unknown event"),
        (
            {"type": "MESSAGE", "from": "x", "to": "48732129000", "body": None},
            "expected a string for body",
        ),
        (
            {"type": "MESSAGE", "from": "x", "to": "4873", "body": "b"},
            "expected a phone number for to",
        ),
        (
            {"type": "NOTIFICATION", "message_id": "a1", "status": "LOST"},
            "expected DELIVERED or ERROR",
        ),
        ({"type": "PING"}, "unknown type"),
        ({"type": 5}, "expected a string for type"),
        (
            {"type": "NOTIFICATION", "message_id": "a1", "status": 5},
            "expected a string for status",
        ),
        (
            {"data": {"event_type": "message.received", "payload": {"from": "x"}}},
            "expected an object for from",
        ),
        (
            {
                "data": {
                    "event_type": "message.received",
                    "payload": {"from": {"phone_number": "+48600100200"}, "to": []},
                }
            },
            "expected a list of objects",
        ),
        (
            {
                "data": {
                    "event_type": "message.received",
                    "payload": {
                        "from": {"phone_number": "+48600100200"},
                        "to": [{"phone_number": "1"}],
                    },
                }
            },
            "expected a phone number for to",
        ),
        (
            {
                "data": {
                    "event_type": "message.received",
                    "payload": {
                        "from": {"phone_number": "+48600100200"},
                        "to": [{"phone_number": "+48732129000"}],
                    },
                }
            },
            "expected a string for text",
        ),
        (tcx_sms(5), "expected a string for received_at"),
        (
            {
                "data": {
                    "event_type": "message.finalized",
                    "payload": {"id": "a1", "to": [{"status": "lost"}]},
                }
            },
            "unknown delivery status",
        ),
        (
            {"data": {"event_type": "message.deleted", "payload": {}}},
            "unknown event_type",
        ),
        ({"hello": 1}, "unknown format"),
    ],
)
def test_refusals_name_what_is_wrong(payload: Any, error: str) -> None:
    with pytest.raises(InvalidPayloadError) as err:
        parsed(payload)
    assert str(err.value) == error
    unrecognised = error.startswith("unknown") and error != "unknown delivery status"
    assert isinstance(err.value, UnrecognisedPayloadError) is unrecognised
    if unrecognised:
        assert err.value.data == payload


@pytest.mark.parametrize(
    ("data", "shape"),
    [
        ({}, [".: object"]),
        ([], ["[]: empty"]),
        ("x", [".: str"]),
        (
            {"b": [1, "x", 1.5, None, True, {"c": {}}], "a": {"z": [], "y": object()}},
            [
                "a.y: other",
                "a.z[]: empty",
                "b[].c: object",
                "b[]: bool",
                "b[]: float",
                "b[]: int",
                "b[]: null",
                "b[]: str",
            ],
        ),
        (
            {str(i): i for i in range(60)},
            [f"{k}: int" for k in sorted(map(str, range(60)))[:50]],
        ),
        ([*range(20), "late"], ["[]: int"]),
    ],
)
def test_shape_of_names_keys_and_types_never_values(
    data: Any, shape: list[str]
) -> None:
    assert shape_of(data) == shape


def test_shape_of_stops_deep_down() -> None:
    deep: Any = "x"
    for _ in range(12):
        deep = {"k": deep}
    assert shape_of(deep) == ["k.k.k.k.k.k.k.k.k: ..."]


def test_shape_of_stops_deep_down_in_lists_too() -> None:
    deep: Any = 1
    for _ in range(12):
        deep = [deep]
    assert shape_of(deep) == ["[][][][][][][][][]: ..."]


@pytest.mark.parametrize(
    ("now", "text"),
    [
        (
            datetime(2026, 12, 3, 8, 0, 0, 999_999, tzinfo=UTC),
            "2026-12-03T08:00:00.999+00:00",
        ),
        (
            datetime(2026, 12, 3, 8, 0, 1, 1_000, tzinfo=UTC),
            "2026-12-03T08:00:01.001+00:00",
        ),
    ],
)
@pytest.mark.usefixtures("machine_far_from_utc")
def test_now_is_utc_to_the_millisecond_in_any_machine_zone(
    now: datetime, text: str
) -> None:
    with patch(
        "custom_components.actio_sms.actio.models.datetime", wraps=datetime
    ) as clock:
        clock.now.side_effect = lambda tz=None: now.astimezone(tz)
        assert utc_now_iso() == text
