"""ACTIO's live API beside v1.0: scheduling, sender names, length, the quarantine."""

from __future__ import annotations

from datetime import timedelta
import json
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
import pytest

from custom_components.actio_sms.actio import ActioClient, ActioConnectionError
from custom_components.actio_sms.const import CONF_BULK, CONF_MAX_PARTS, DOMAIN
from custom_components.actio_sms.quarantine import (
    MAX_BYTES,
    MAX_POSTS,
    MAX_SHAPE_LINE,
    MAX_SHAPE_LINES,
    Quarantine,
    bounded_shape,
)
from custom_components.actio_sms.store import MessageStore
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from .conftest import (
    TCX_TOKEN,
    TOKEN,
    WEBHOOK_ID,
    Setup,
    Sim,
    actio_entry,
    entry_data,
    get_messages,
    send,
)

URL = f"/api/webhook/{WEBHOOK_ID}"


@pytest.fixture
async def in_warsaw(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An entry set up at 11:00 in Warsaw (CET), 2 December 2026."""
    await hass.config.async_set_time_zone("Europe/Warsaw")
    freezer.move_to("2026-12-02 10:00:00+00:00")
    await setup_entry(actio_entry(simulator.url))


@pytest.mark.usefixtures("in_warsaw")
async def test_send_at_goes_as_scheduled_at_with_its_offset(
    hass: HomeAssistant, simulator: Sim
) -> None:
    response = await send(hass, "600100200", "Wigilia", send_at="2026-12-24 18:00:00")
    [item] = simulator.outbox
    # Home Assistant's time zone (CET in December, +01:00), with its offset.
    assert item.scheduled_at == "2026-12-24T18:00:00+01:00"
    assert response["messages"][0]["scheduled_at"] == "2026-12-24T18:00:00+01:00"
    [kept] = await get_messages(hass, direction="sent")
    assert kept["scheduled_at"] == "2026-12-24T18:00:00+01:00"


async def test_a_time_in_the_past_is_refused_before_any_request(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    await setup_entry(actio_entry(simulator.url))
    past = (dt_util.now() - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, "600100200", "late", send_at=past)
    assert err.value.translation_key == "send_at_past"
    assert "already passed" in str(err.value)
    assert simulator.requests == []


async def test_notify_data_send_at(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    await setup_entry(actio_entry(simulator.url))
    later = (dt_util.now() + timedelta(days=1)).replace(microsecond=0)
    await hass.services.async_call(
        "notify",
        DOMAIN,
        {
            "message": "jutro",
            "target": "600100200",
            "data": {"send_at": later.isoformat()},
        },
        blocking=True,
    )
    [item] = simulator.outbox
    assert dt_util.parse_datetime(item.scheduled_at or "") == later


@pytest.mark.parametrize(
    ("sender", "sent_from"),
    [("Dom", "Dom"), ("Dom-1.A", "Dom-1.A"), ("+48 732 129 000", "48732129000")],
)
async def test_a_sender_name_or_number(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, sender: str, sent_from: str
) -> None:
    simulator.state.tokens[TOKEN].sender_names = [
        "Dom",
        "Dom-1.A",
    ]
    await setup_entry(actio_entry(simulator.url))
    await send(hass, "600100200", f"od {sender}", sender=sender)
    [item] = simulator.outbox
    assert item.sender == sent_from


@pytest.mark.parametrize("sender", ["Dom z ogrodem", "12345", "Dom!", "Łódź"])
async def test_a_sender_that_cannot_be_is_refused(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, sender: str
) -> None:
    """More than 11 characters, digits only but no number, other characters."""
    await setup_entry(actio_entry(simulator.url))
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, "600100200", "x", sender=sender)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "invalid_sender_name"
    assert err.value.translation_placeholders == {"sender": sender}
    assert str(err.value).startswith(f'"{sender}" cannot be a sender: use a number')
    assert simulator.requests == []


async def test_scheduling_and_sender_names_are_not_in_3cx_mode(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    entry = actio_entry(simulator.url)
    entry = type(entry)(
        domain=DOMAIN,
        unique_id="x",
        minor_version=2,
        data=entry_data(simulator.url, TCX_TOKEN, "3cx"),
    )
    await setup_entry(entry)
    later = (dt_util.now() + timedelta(days=1)).isoformat()
    for feature, value in (("send_at", later), ("sender", "Dom")):
        with pytest.raises(ServiceValidationError) as err:
            await send(hass, "600100200", "x", **{feature: value})
        assert err.value.translation_domain == DOMAIN
        assert err.value.translation_key == "not_in_3cx_mode"
        assert err.value.translation_placeholders == {"feature": feature}
        assert str(err.value) == f"{feature} is not available in 3CX mode"
    assert simulator.requests == []
    # Empty fields (as a form leaves them) ask for neither: the SMS goes now.
    await send(hass, "600100200", "x", send_at="", sender="")
    assert [item.scheduled_at for item in simulator.outbox] == [None]


async def test_an_empty_send_at_sends_now(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    await setup_entry(actio_entry(simulator.url))
    response = await send(hass, "600100200", "teraz", send_at="")
    [item] = simulator.outbox
    assert item.scheduled_at is None
    assert "scheduled_at" not in response["messages"][0]


async def test_at_most_10_parts_even_if_an_old_option_says_more(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    """ACTIO's own limit; an entry saved with max_parts 20 is held to 10."""
    await setup_entry(actio_entry(simulator.url, options={CONF_MAX_PARTS: 20}))
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, "600100200", "x" * 601)  # 11 parts of 60
    assert err.value.translation_placeholders == {"parts": "11", "max_parts": "10"}
    assert simulator.requests == []
    await send(hass, "600100200", "x" * 600)


async def test_a_flood_of_odd_posts_stays_within_the_quarantines_cap(
    hass: HomeAssistant,
) -> None:
    quarantine = Quarantine(hass, "flood")
    for i in range(10_000):
        body = json.dumps({"kind": "inbound", "n": i, "pad": "x" * (i % 300)}).encode()
        await quarantine.async_keep(body, json.loads(body))
    await quarantine.async_keep(b'{"kind": "inbound", "n": 0, "pad": ""}', {"kind": 1})
    assert quarantine.count == 10_001
    shapes = quarantine.shapes()
    assert len(shapes) <= MAX_POSTS
    assert shapes[0]["count"] == 2  # the same post again is counted, not kept twice
    assert shapes[0]["shape"] == ["kind: str", "n: int", "pad: str"]
    await hass.async_block_till_done()
    # What the (private) file holds stays under the cap, JSON escaping aside.
    data = quarantine._data_to_save()
    assert len(json.dumps(data).encode()) < MAX_BYTES * 2
    assert quarantine._store._private


async def test_shapes_count_toward_the_cap(hass: HomeAssistant) -> None:
    """Long keys nested deep make a shape far larger than its post (each
    path repeats every key above it): the shape is cut and counted, so the
    file stays under its cap whatever the posts look like."""

    def crafted(i: int) -> bytes:
        inner: dict[str, Any] = {f"k{j}": 1 for j in range(50)}
        for level in range(7):
            inner = {chr(65 + level) * 7000 + str(i): inner}
        return json.dumps(inner).encode()

    quarantine = Quarantine(hass, "deep")
    for i in range(20):
        body = crafted(i)
        assert len(body) < 64 * 1024  # what the webhook takes
        await quarantine.async_keep(body, json.loads(body))
    assert quarantine.count == 20
    for kept in quarantine.shapes():
        assert len(kept["shape"]) <= MAX_SHAPE_LINES + 1
        assert all(len(line) <= MAX_SHAPE_LINE for line in kept["shape"])
        assert all(line.endswith(": int") for line in kept["shape"])
    assert len(json.dumps(quarantine._data_to_save()).encode()) < MAX_BYTES
    await hass.async_block_till_done()


async def test_a_post_whose_shape_would_not_fit_is_only_counted(
    hass: HomeAssistant,
) -> None:
    quarantine = Quarantine(hass, "tight")
    wide = json.dumps({f"k{i:02}": 1 for i in range(50)}).encode()
    # The body alone fits beside the first post; with its shape it does not.
    with patch("custom_components.actio_sms.quarantine.MAX_BYTES", 600):
        await quarantine.async_keep(b'{"a": 1}', {"a": 1})
        await quarantine.async_keep(wide, json.loads(wide))
    assert quarantine.count == 2
    assert quarantine.dropped == 1
    assert quarantine.shapes() == [{"shape": ["a: int"], "count": 1}]
    await hass.async_block_till_done()


def test_a_long_shape_says_what_was_left_out() -> None:
    post = {f"k{i:02}": {"x": 1, "y": "s", "z": None} for i in range(50)}
    shape = bounded_shape(post)
    assert shape[:3] == ["k00.x: int", "k00.y: str", "k00.z: null"]
    assert shape[MAX_SHAPE_LINES:] == [f"… {150 - MAX_SHAPE_LINES} more"]


@pytest.mark.parametrize("bulk", [False, True], ids=["one by one", "bulk"])
async def test_what_is_kept_is_what_was_sent(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, *, bulk: bool
) -> None:
    """Key, time and sender of every request are the ones the history keeps,
    also when ACTIO's answer was lost (the key is what makes a retry safe)."""
    simulator.state.tokens[TOKEN].sender_names = ["Dom"]
    await setup_entry(actio_entry(simulator.url, options={CONF_BULK: bulk}))
    simulator.fault("lost_answer")
    later = (dt_util.now() + timedelta(days=1)).replace(microsecond=0)
    response = await send(
        hass, ["600100200", "600100201"], "Jutro", send_at=later, sender="Dom"
    )
    assert [m["status"] for m in response["messages"]] == ["unconfirmed"] * 2
    # ACTIO got each SMS once: the retries carried the first request's key.
    assert sorted(item.recipient for item in simulator.outbox) == [
        "48600100200",
        "48600100201",
    ]
    assert {item.sender for item in simulator.outbox} == {"Dom"}
    assert {
        dt_util.parse_datetime(item.scheduled_at or "") for item in simulator.outbox
    } == {later}
    sent_keys = {r["idempotency_key"] for r in simulator.requests}
    assert None not in sent_keys
    assert len(sent_keys) == (1 if bulk else 2)  # a bulk request is one chunk
    kept = await get_messages(hass, direction="sent")
    assert {m["idempotency_key"] for m in kept} == sent_keys
    assert {m["sender"] for m in kept} == {"Dom"}
    assert {dt_util.parse_datetime(m["scheduled_at"]) for m in kept} == {later}


async def test_a_send_cut_off_mid_request_reads_back_as_it_went(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    """Noted before the request: a start after a kill right then (read here by
    a second store, as that start would) finds the SMS with its key, time and
    sender, unconfirmed."""
    simulator.state.tokens[TOKEN].sender_names = ["Dom"]
    entry = await setup_entry(actio_entry(simulator.url))
    later = (dt_util.now() + timedelta(days=1)).replace(microsecond=0)
    seen: dict[str, Any] = {}

    async def cut_off(_client: ActioClient, *_args: Any, **request: Any) -> Any:
        after_a_kill = MessageStore(hass, entry.entry_id, 1000, 30)
        await after_a_kill.async_load()
        seen["request"] = request
        seen["kept"] = await after_a_kill.query("sent", None, 10)
        raise ActioConnectionError("the process ends here")

    with (
        patch.object(ActioClient, "send_sms", cut_off),
        pytest.raises(HomeAssistantError),
    ):
        await send(hass, "600100200", "Jutro", send_at=later, sender="Dom")
    [kept] = seen["kept"]
    assert kept["status"] == "unconfirmed"
    assert (kept["recipient"], kept["body"]) == ("48600100200", "Jutro")
    assert kept["idempotency_key"] == seen["request"]["idempotency_key"]
    assert kept["sender"] == "Dom"
    assert dt_util.parse_datetime(kept["scheduled_at"]) == later


async def test_a_time_that_is_no_time_is_refused_in_words(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    await setup_entry(actio_entry(simulator.url))
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, "600100200", "x", send_at="tomorrow evening")
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "send_at_invalid"
    assert err.value.translation_placeholders == {"send_at": "tomorrow evening"}
    assert str(err.value).startswith(
        'The time to send ("tomorrow evening") is not a date and time'
    )
    assert simulator.requests == []


@pytest.mark.usefixtures("in_warsaw")
async def test_now_is_in_time_and_a_moment_before_it_is_not(
    hass: HomeAssistant, simulator: Sim
) -> None:
    """A time a few seconds back (the form's "now") goes; before that, refused."""
    await send(hass, "600100200", "now", send_at="2026-12-02 11:00:00")
    await send(hass, "600100200", "5 s ago", send_at="2026-12-02 10:59:55")
    assert [item.body for item in simulator.outbox] == ["now", "5 s ago"]
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, "600100200", "6 s ago", send_at="2026-12-02 10:59:54")
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "send_at_past"
    # In Home Assistant's time zone, as the person typed it.
    assert err.value.translation_placeholders == {"send_at": "2026-12-02 10:59"}
    assert str(err.value).startswith(
        "The time to send (2026-12-02 10:59) has already passed"
    )
    assert len(simulator.outbox) == 2
