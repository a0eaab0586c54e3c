"""The webhook: ACTIO's payloads, 3CX envelopes, invalid input, limits, allowlist."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import json
from typing import Any
from unittest.mock import patch

from aiohttp.test_utils import make_mocked_request
from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.actio_sms.const import (
    CONF_ALLOWED_SOURCES,
    CONF_CLOUDHOOK,
    DOMAIN,
    EVENT_DELIVERY_STATUS,
    EVENT_MESSAGE_RECEIVED,
)
from custom_components.actio_sms.data import DATA_ACTIO
from custom_components.actio_sms.quarantine import SAVE_DELAY
from custom_components.actio_sms.webhook import (
    async_entry_webhook_url,
    async_handle_webhook,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.aiohttp import MockRequest

from .conftest import SENDER, WEBHOOK_ID, entry_data, entry_device_id, sms

# The event entities and Last … sensors are off by default; these tests watch them.
pytestmark = pytest.mark.usefixtures("entity_registry_enabled_by_default")

URL = f"/api/webhook/{WEBHOOK_ID}"
LAST_RECEIVED = "sensor.actio_sms_48732129000_last_received_message"
RECEIVED_COUNT = "sensor.actio_sms_48732129000_messages_received"
LAST_STATUS = "sensor.actio_sms_48732129000_last_delivery_status"
EVENT_RECEIVED = "event.actio_sms_48732129000_message_received"
EVENT_DELIVERY = "event.actio_sms_48732129000_delivery_report"


def telnyx_received(
    text: str = "Cześć", sender: str = "+48600100200"
) -> dict[str, Any]:
    return {
        "data": {
            "event_type": "message.received",
            "id": "b301ed3f-1490-491f-995f-6e64e69674d4",
            "occurred_at": "2026-11-27T10:00:00.000+00:00",
            "payload": {
                "text": text,
                "from": {"phone_number": sender, "carrier": "Play"},
                "to": [{"phone_number": f"+{SENDER}", "status": "webhook_delivered"}],
                "received_at": "2026-11-27T11:00:00.000+01:00",
            },
        },
        "meta": {"attempt": 1},
    }


def telnyx_delivery(
    message_id: str, status: str, event: str = "message.finalized"
) -> dict[str, Any]:
    return {
        "data": {
            "event_type": event,
            "id": "4ee8c3a6-4995-4309-a3c6-38e3db9ea4be",
            "payload": {
                "id": message_id,
                "to": [{"phone_number": "+48600100200", "status": status}],
            },
        }
    }


@pytest.fixture
async def client(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_client_no_auth
):
    return await hass_client_no_auth()


async def test_inbound_message(
    hass: HomeAssistant,
    client,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2026-11-27T10:15:00+00:00")
    events = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    resp = await client.post(
        URL,
        json=sms("Zażółć gęślą jaźń 🎉"),
    )
    assert resp.status == 200
    assert await resp.json() == {"status": "ok"}
    await hass.async_block_till_done()
    assert len(events) == 1
    assert events[0].data == {
        "config_entry_id": init_integration.entry_id,
        "device_id": entry_device_id(hass, init_integration),
        "from": "48600100200",
        "to": SENDER,
        "body": "Zażółć gęślą jaźń 🎉",
        "received_at": "2026-11-27T10:15:00.000+00:00",
        "command": False,
    }
    state = hass.states.get(LAST_RECEIVED)
    assert state.state == "Zażółć gęślą jaźń 🎉"
    assert state.attributes["from"] == "48600100200"
    assert state.attributes["received_at"] == "2026-11-27T10:15:00.000+00:00"
    assert hass.states.get(RECEIVED_COUNT).state == "1"
    event_state = hass.states.get(EVENT_RECEIVED)
    assert event_state.attributes["event_type"] == "message_received"
    assert event_state.attributes["body"] == "Zażółć gęślą jaźń 🎉"
    assert event_state.state == "2026-11-27T10:15:00.000+00:00"


async def test_inbound_alphanumeric_sender_and_long_body(
    hass: HomeAssistant, client
) -> None:
    events = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    body = "x" * 300
    resp = await client.post(
        URL,
        json={
            "type": "message",
            "from": "ACTIO Bank",
            "to": f"+{SENDER}",
            "body": body,
        },
    )
    assert resp.status == 200
    await hass.async_block_till_done()
    assert events[0].data["from"] == "ACTIO Bank"
    assert events[0].data["to"] == SENDER
    state = hass.states.get(LAST_RECEIVED)
    assert state.state == "x" * 255
    assert state.attributes["body"] == body


async def test_spec_example_with_typographic_quotes(
    hass: HomeAssistant, client
) -> None:
    """The spec's own example, typeset with „ and ” quotes."""
    events = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    raw = "{\u201etype\u201d : \u201eMESSAGE\u201d, \u201efrom\u201d : \u201e48732129000\u201d, \u201eto\u201d : \u201e48732129001\u201d, \u201ebody\u201d : \u201eTest sms\u201d }"
    resp = await client.post(
        URL, data=raw.encode(), headers={"Content-Type": "application/json"}
    )
    assert resp.status == 200
    await hass.async_block_till_done()
    assert events[0].data["body"] == "Test sms"


@pytest.mark.parametrize(
    ("status", "expected"),
    [("DELIVERED", "delivered"), ("ERROR", "failed"), ("delivered", "delivered")],
)
async def test_delivery_report_unknown_id(
    hass: HomeAssistant,
    client,
    init_integration: MockConfigEntry,
    status: str,
    expected: str,
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_STATUS)
    resp = await client.post(
        URL,
        json={
            "type": "NOTIFICATION",
            "message_id": "a906cff7719bd889",
            "status": status,
        },
    )
    assert resp.status == 200
    await hass.async_block_till_done()
    assert [e.data for e in events] == [
        {
            "config_entry_id": init_integration.entry_id,
            "device_id": entry_device_id(hass, init_integration),
            "message_id": "a906cff7719bd889",
            "status": expected,
        }
    ]
    assert hass.states.get(LAST_STATUS).state == expected
    event_state = hass.states.get(EVENT_DELIVERY)
    assert event_state.attributes["event_type"] == expected
    assert event_state.attributes["message_id"] == "a906cff7719bd889"


async def test_telnyx_envelopes(hass: HomeAssistant, client) -> None:
    received = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    reports = async_capture_events(hass, EVENT_DELIVERY_STATUS)
    assert (await client.post(URL, json=telnyx_received())).status == 200
    assert (
        await client.post(URL, json=telnyx_delivery("id-1", "delivered"))
    ).status == 200
    assert (
        await client.post(
            URL, json=telnyx_delivery("id-2", "sending_failed", "message.sent")
        )
    ).status == 200
    assert (
        await client.post(URL, json=telnyx_delivery("id-3", "delivery_failed"))
    ).status == 200
    await hass.async_block_till_done()
    assert len(received) == 1
    assert received[0].data["from"] == "48600100200"
    assert received[0].data["to"] == SENDER
    assert received[0].data["body"] == "Cześć"
    assert received[0].data["received_at"] == "2026-11-27T10:00:00.000+00:00"
    assert [(e.data["message_id"], e.data["status"]) for e in reports] == [
        ("id-1", "delivered"),
        ("id-2", "failed"),
        ("id-3", "failed"),
    ]


INVALID: list[Any] = [
    b"",
    b"not json",
    b"\xff\xfe\x00",
    b"[1, 2, 3]",
    b'"MESSAGE"',
    b"null",
    {"type": "MESSAGE", "from": "48600100200", "to": SENDER},
    sms(5),
    {"type": "MESSAGE", "from": "", "to": SENDER, "body": "x"},
    {"type": "MESSAGE", "from": "48600100200", "to": "abc", "body": "x"},
    {"type": "MESSAGE", "from": "48600100200", "to": 48732129000, "body": "x"},
    {"type": "MESSAGE", "from": ["x"], "to": SENDER, "body": "x"},
    {"type": "NOTIFICATION", "message_id": "a906cff7719bd889", "status": "READ"},
    {"type": "NOTIFICATION", "message_id": "", "status": "DELIVERED"},
    {"type": "NOTIFICATION", "message_id": "with space", "status": "DELIVERED"},
    {"type": "NOTIFICATION", "status": "DELIVERED"},
    {"type": 7},
    {"data": {"event_type": "message.received", "payload": {"text": "x"}}},
    {
        "data": {
            "event_type": "message.received",
            "payload": {
                "text": "x",
                "from": {"phone_number": "+48600100200"},
                "to": [],
            },
        }
    },
    {
        "data": {
            "event_type": "message.finalized",
            "payload": {"id": "x", "to": [{"status": "sent"}]},
        }
    },
    {
        "data": {
            "event_type": "message.finalized",
            "payload": {"id": "x", "to": [{"status": "queued"}]},
        }
    },
    {"event": "sms.delivered", "status": "x"},
    {"event": "sms.failed", "message_id": "with space"},
    {"event": 7, "message_id": "a906cff7719bd889"},
]
# JSON objects in a shape no dialect has: refused, but kept aside (quarantine).
UNRECOGNISED: list[Any] = [
    {},
    {"type": "SPAM", "from": "x"},
    {"body": "no type"},
    {"data": {"event_type": "call.initiated", "payload": {}}},
    {"data": "string"},
    {"event": "sms.queued", "message_id": "msg_01JD3Q5Z8KXW2M4N6P7R9S0T1V"},
]


@pytest.mark.parametrize("payload", INVALID)
async def test_invalid_payloads(
    hass: HomeAssistant, client, payload: Any, caplog: pytest.LogCaptureFixture
) -> None:
    received = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    reports = async_capture_events(hass, EVENT_DELIVERY_STATUS)
    before = hass.states.get(LAST_RECEIVED)
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    resp = await client.post(
        URL, data=data, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400
    assert await resp.json() == {"error": "invalid payload"}
    await hass.async_block_till_done()
    assert received == []
    assert reports == []
    assert hass.states.get(LAST_RECEIVED) == before
    assert hass.states.get(RECEIVED_COUNT).state == "0"
    warnings = [
        r
        for r in caplog.records
        if r.levelname == "WARNING" and r.name.startswith("custom_components")
    ]
    assert len(warnings) == 1
    assert "48600100200" not in warnings[0].getMessage()


@pytest.mark.parametrize("opener", [b"[", b'{"type":'])
async def test_deep_nesting_is_400(hass: HomeAssistant, client, opener: bytes) -> None:
    """Under the size limit, so it is parsed: the parsers' depth limits answer."""
    closer = b"]" if opener == b"[" else b"}"
    body = opener * 5000 + b"1" + closer * 5000
    assert len(body) < 64 * 1024
    events = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    resp = await client.post(URL, data=body)
    assert resp.status == 400
    assert events == []


async def test_too_large(hass: HomeAssistant, client) -> None:
    events = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    body = "x" * (64 * 1024)
    resp = await client.post(URL, json=sms(body))
    assert resp.status == 413

    async def chunks():
        # No Content-Length: the limit must hold while streaming too.
        for _ in range(100):
            yield b"x" * 1024

    resp = await client.post(URL, data=chunks())
    assert resp.status == 413
    await hass.async_block_till_done()
    assert events == []


async def test_just_under_limit_is_accepted(hass: HomeAssistant, client) -> None:
    envelope = json.dumps(sms(""))
    body = "y" * (64 * 1024 - len(envelope))
    resp = await client.post(
        URL,
        data=json.dumps(sms(body)),
    )
    assert resp.status == 200


async def test_get_is_refused(hass: HomeAssistant, client) -> None:
    events = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    resp = await client.get(URL)
    assert resp.status == 405
    assert events == []


def resolver(address: str):
    async def resolve(host: str, port: int, **_kwargs: Any):
        assert host == "msg-api.actio.pl"
        return [
            (2, 1, 6, "", (address, port)),
            (10, 1, 6, "", ("2001:db8::7", port, 0, 0)),
        ]

    return resolve


@pytest.mark.parametrize("entry_options", [{CONF_ALLOWED_SOURCES: True}])
async def test_allowlist(
    hass: HomeAssistant,
    client,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    events = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    payload = sms("hi")
    with patch.object(hass.loop, "getaddrinfo", side_effect=resolver("203.0.113.7")):
        # The test client connects from 127.0.0.1, which is not ACTIO.
        resp = await client.post(URL, json=payload)
        assert resp.status == 403
        assert await resp.json() == {"error": "forbidden"}
    assert "Refused a webhook call from a peer that is not ACTIO" in caplog.messages
    # Cached: no new lookup until the TTL runs out.
    with patch.object(hass.loop, "getaddrinfo", side_effect=AssertionError("cached")):
        assert (await client.post(URL, json=payload)).status == 403
    hass.data[DATA_ACTIO].allowlist._expires = 0
    with patch.object(hass.loop, "getaddrinfo", side_effect=resolver("127.0.0.1")):
        assert (await client.post(URL, json=payload)).status == 200
    await hass.async_block_till_done()
    assert len(events) == 1


async def test_allowlist_behind_trusted_proxy(
    hass: HomeAssistant, simulator, setup_entry, hass_client_no_auth
) -> None:
    """With use_x_forwarded_for, the address HA resolved from the proxy counts."""
    assert await async_setup_component(
        hass,
        "http",
        {"http": {"use_x_forwarded_for": True, "trusted_proxies": ["127.0.0.1"]}},
    )
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=SENDER,
        data=entry_data(simulator.url),
        options={CONF_ALLOWED_SOURCES: True},
    )
    await setup_entry(entry)
    client = await hass_client_no_auth()
    payload = sms("hi")
    with patch.object(hass.loop, "getaddrinfo", side_effect=resolver("203.0.113.7")):
        resp = await client.post(
            URL, json=payload, headers={"X-Forwarded-For": "203.0.113.7"}
        )
        assert resp.status == 200
        resp = await client.post(
            URL, json=payload, headers={"X-Forwarded-For": "198.51.100.1"}
        )
        assert resp.status == 403
        resp = await client.post(
            URL, json=payload, headers={"X-Forwarded-For": "2001:db8::7"}
        )
        assert resp.status == 200


@pytest.mark.parametrize("entry_options", [{CONF_ALLOWED_SOURCES: True}])
async def test_allowlist_dns_failure_refuses(hass: HomeAssistant, client) -> None:
    with patch.object(hass.loop, "getaddrinfo", side_effect=OSError("no dns")):
        resp = await client.post(
            URL,
            json=sms("x"),
        )
    assert resp.status == 403


async def test_allowlist_off_accepts_anyone(hass: HomeAssistant, client) -> None:
    with patch.object(
        hass.loop, "getaddrinfo", side_effect=AssertionError("must not resolve")
    ):
        resp = await client.post(
            URL,
            json=sms("x"),
        )
    assert resp.status == 200


@pytest.mark.real_sensor_window
async def test_sensors_coalesce_bursts_events_do_not(
    hass: HomeAssistant, client, init_integration: MockConfigEntry
) -> None:
    """A burst fires every event, but writes the sensors once per window."""
    events = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    entity_events: list[str] = []

    @callback
    def record(event: Event) -> None:
        if event.data["entity_id"] == EVENT_RECEIVED:
            entity_events.append(event.data["new_state"].attributes["body"])

    hass.bus.async_listen("state_changed", record)
    for i in range(5):
        assert (
            await client.post(
                URL,
                json=sms(f"m{i}"),
            )
        ).status == 200
    await hass.async_block_till_done()
    assert [e.data["body"] for e in events] == [f"m{i}" for i in range(5)]
    assert entity_events == [f"m{i}" for i in range(5)]  # every trigger delivered
    # The sensors took the first message at once; the rest wait for the window.
    assert hass.states.get(LAST_RECEIVED).state == "m0"
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=61))
    await hass.async_block_till_done()
    assert hass.states.get(LAST_RECEIVED).state == "m4"
    assert hass.states.get(RECEIVED_COUNT).state == "5"
    # Within the window after that write, the next message waits too.
    await client.post(
        URL,
        json=sms("later"),
    )
    await hass.async_block_till_done()
    assert hass.states.get(LAST_RECEIVED).state == "m4"
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=122))
    await hass.async_block_till_done()
    assert hass.states.get(LAST_RECEIVED).state == "later"


@pytest.mark.real_sensor_window
async def test_unload_cancels_pending_sensor_write(
    hass: HomeAssistant, client, init_integration: MockConfigEntry
) -> None:
    for body in ("x", "y"):  # the second waits for the window
        await client.post(
            URL,
            json=sms(body),
        )
    runtime = init_integration.runtime_data
    assert runtime._sensor_debouncer._timer_task is not None
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert runtime._sensor_debouncer._timer_task is None


@pytest.mark.real_sensor_window
async def test_sensors_write_after_a_reload_cancelled_a_pending_write(
    hass: HomeAssistant, client, init_integration: MockConfigEntry
) -> None:
    """A write cancelled by a reload is not taken for one still due."""
    for body in ("x", "y"):  # the second waits for the window
        await client.post(URL, json=sms(body))
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    await client.post(URL, json=sms("after the reload"))
    await hass.async_block_till_done()
    assert hass.states.get(LAST_RECEIVED).state == "after the reload"
    assert hass.states.get(RECEIVED_COUNT).state == "3"


@pytest.mark.parametrize(
    ("field", "value", "status", "expected"),
    [
        # "to": 9 to 15 digits (E.164), a "+" and spaces around tolerated.
        ("to", "4" * 8, 400, None),
        ("to", "4" * 9, 200, "4" * 9),
        ("to", " +" + "4" * 15 + " ", 200, "4" * 15),
        ("to", "4" * 16, 400, None),
        ("to", "+48 732 129 000", 400, None),
        # "from": a number (as digits) or a sender name of up to 64 characters.
        ("from", "+48600100200", 200, "48600100200"),
        ("from", "+Alarm", 200, "+Alarm"),
        ("from", "x" * 64, 200, "x" * 64),
        ("from", "x" * 65, 400, None),
        ("from", "   ", 400, None),
    ],
)
async def test_number_field_bounds(
    hass: HomeAssistant,
    client,
    field: str,
    value: str,
    status: int,
    expected: str | None,
) -> None:
    events = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    payload = {"type": "MESSAGE", "from": "48600100200", "to": SENDER, "body": "x"}
    payload[field] = value
    resp = await client.post(URL, json=payload)
    assert resp.status == status
    await hass.async_block_till_done()
    assert [e.data[field] for e in events] == ([expected] if expected else [])


async def test_valid_chunked_body(hass: HomeAssistant, client) -> None:
    """No Content-Length: a valid payload streamed in pieces is read whole."""
    events = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    raw = json.dumps(sms("w kawałkach " + "x" * 2000)).encode()

    async def chunks():
        for start in range(0, len(raw), 100):
            yield raw[start : start + 100]

    resp = await client.post(URL, data=chunks())
    assert resp.status == 200
    await hass.async_block_till_done()
    assert [e.data["body"] for e in events] == ["w kawałkach " + "x" * 2000]

    # Exactly at the limit is still read; one byte more is not.
    padded = sms("")
    padded["pad"] = ""
    base = len(json.dumps(padded).encode())
    padded["pad"] = "p" * (64 * 1024 - base)
    exact = json.dumps(padded).encode()
    assert len(exact) == 64 * 1024

    async def exact_chunks():
        yield exact

    assert (await client.post(URL, data=exact_chunks())).status == 200


@pytest.mark.parametrize(
    ("payload", "status", "error", "warning"),
    [
        (b"x" * (64 * 1024 + 1), 413, "payload too large", "larger than 65536 bytes"),
        (b"[]", 400, "invalid payload", "invalid webhook payload: InvalidPayloadError"),
        (b"{}", 422, "unrecognised payload", "shape no ACTIO format has"),
        (b"{nope", 400, "invalid payload", "invalid webhook payload: JSONDecodeError"),
    ],
)
async def test_refusals_say_why(
    hass: HomeAssistant,
    client,
    caplog: pytest.LogCaptureFixture,
    payload: bytes,
    status: int,
    error: str,
    warning: str,
) -> None:
    resp = await client.post(URL, data=payload)
    assert resp.status == status
    assert resp.content_type == "application/json"
    assert await resp.json() == {"error": error}
    assert any(warning in line for line in caplog.messages)


async def test_call_for_a_removed_entry_is_refused_visibly(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Between a removal and the unregistering: 410 and a warning, never 200."""
    request = make_mocked_request("POST", URL)
    resp = await async_handle_webhook(hass, "no-such-entry", request)
    assert resp.status == 410
    assert json.loads(resp.text or "") == {"error": "gone"}
    assert "A webhook call for a removed ACTIO SMS entry was refused" in caplog.messages


@pytest.mark.parametrize("payload", UNRECOGNISED)
async def test_unrecognised_shapes_are_kept_aside(
    hass: HomeAssistant, client, init_integration: MockConfigEntry, payload: Any
) -> None:
    """Refused (422), no event, but kept and announced by a repair issue."""
    received = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    resp = await client.post(URL, json=payload)
    assert resp.status == 422
    assert await resp.json() == {"error": "unrecognised payload"}
    await hass.async_block_till_done()
    assert received == []
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"unrecognised_posts_{init_integration.entry_id}"
    )
    assert issue is not None
    assert issue.translation_key == "unrecognised_posts"
    assert issue.translation_placeholders["count"] == "1"


LIVE_REPORTS = [
    (
        {
            "event": "sms.delivered",
            "delivered_at": "2026-12-02T10:00:00Z",
            "operator": "Plus",
            "segments": 1,
        },
        {"status": "delivered", "operator": "Plus", "segments": 1},
    ),
    (
        {"event": "sms.failed", "reason": "Number does not exist"},
        {"status": "failed", "reason": "Number does not exist"},
    ),
    ({"event": "sms.expired"}, {"status": "expired"}),
    (
        {"event": "sms.bounced", "reason": "blocked"},
        {"status": "bounced", "reason": "blocked"},
    ),
]


@pytest.mark.parametrize(("extra", "expected"), LIVE_REPORTS)
async def test_live_status_webhooks_reach_the_bus_correlated(
    hass: HomeAssistant,
    simulator,
    init_integration: MockConfigEntry,
    hass_client_no_auth,
    extra: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    """The live API's ``event`` payloads: the SMS they refer to, and ACTIO's words."""
    simulator.state.dialect = "live"
    sent = await hass.services.async_call(
        DOMAIN,
        "send_message",
        {"message": "Obiad!", "recipients": ["600100200"]},
        blocking=True,
        return_response=True,
    )
    [message] = sent["messages"]
    assert message["message_id"].startswith("msg_")
    reports = async_capture_events(hass, EVENT_DELIVERY_STATUS)
    client = await hass_client_no_auth()
    payload = {"message_id": message["message_id"], "to": "48600100200", **extra}
    assert (await client.post(URL, json=payload)).status == 200
    await hass.async_block_till_done()
    [event] = reports
    assert event.data == {
        "config_entry_id": init_integration.entry_id,
        "device_id": entry_device_id(hass, init_integration),
        "message_id": message["message_id"],
        "recipient": "48600100200",
        "body": "Obiad!",
        "sent_at": event.data["sent_at"],
        **expected,
    }
    history = await hass.services.async_call(
        DOMAIN,
        "get_messages",
        {"direction": "sent"},
        blocking=True,
        return_response=True,
    )
    [record] = history["messages"]
    assert record["status"] == expected["status"]
    for detail in ("reason", "operator", "segments"):
        assert record.get(detail) == expected.get(detail)
    assert hass.states.get(LAST_STATUS).state == expected["status"]


async def test_live_inbound_guess_is_read_as_an_sms(
    hass: HomeAssistant, client
) -> None:
    """The undocumented live inbound format, as most likely written."""
    received = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    payload = {
        "event": "sms.received",
        "from": "+48600100200",
        "to": SENDER,
        "text": "Hej",
    }
    assert (await client.post(URL, json=payload)).status == 200
    await hass.async_block_till_done()
    assert [(e.data["from"], e.data["body"]) for e in received] == [
        ("48600100200", "Hej")
    ]


async def test_a_cloudhook_request_is_kept(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Home Assistant Cloud hands over a MockRequest: no content_length, no read()."""
    received = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    request = MockRequest(
        content=json.dumps(sms("Przez chmurę")).encode(),
        mock_source="cloud",
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    resp = await async_handle_webhook(hass, init_integration.entry_id, request)  # type: ignore[arg-type]
    assert resp.status == 200
    await hass.async_block_till_done()
    assert [e.data["body"] for e in received] == ["Przez chmurę"]
    big = MockRequest(
        content=b"x" * (64 * 1024 + 1), mock_source="cloud", method="POST"
    )
    resp = await async_handle_webhook(hass, init_integration.entry_id, big)  # type: ignore[arg-type]
    assert resp.status == 413


async def test_the_webhook_url_shown_to_the_admin(hass: HomeAssistant) -> None:
    path = f"/api/webhook/{WEBHOOK_ID}"
    local = MockConfigEntry(domain=DOMAIN, data=entry_data("http://unused"))
    cloud = MockConfigEntry(
        domain=DOMAIN, data=entry_data("http://unused") | {CONF_CLOUDHOOK: True}
    )
    cloudhook = "custom_components.actio_sms.webhook.async_get_cloudhook_url"
    # No URL of Home Assistant's is known: the path, to put behind one's own.
    with patch(
        "custom_components.actio_sms.webhook.async_generate_url",
        side_effect=NoURLAvailableError,
    ):
        assert await async_entry_webhook_url(hass, local) == path
    await async_process_ha_core_config(hass, {"internal_url": "http://ha.lan:8123"})
    assert await async_entry_webhook_url(hass, local) == f"http://ha.lan:8123{path}"
    # A cloudhook's URL when the entry has one; the local URL when the cloud
    # has none (signed out), and never asked for an entry without one.
    nabu = "https://hooks.nabu.casa/abc"
    with patch(cloudhook, return_value=nabu) as asked:
        assert await async_entry_webhook_url(hass, cloud) == nabu
        assert await async_entry_webhook_url(hass, local) == f"http://ha.lan:8123{path}"
    asked.assert_called_once_with(hass, WEBHOOK_ID)
    with patch(cloudhook, return_value=None):
        assert await async_entry_webhook_url(hass, cloud) == f"http://ha.lan:8123{path}"


async def test_what_is_kept_aside_is_the_posts_shape(
    hass: HomeAssistant, client, init_integration: MockConfigEntry
) -> None:
    payload = {"event": "sms.read", "message_id": "m1", "at": {"t": 1}}
    assert (await client.post(URL, json=payload)).status == 422
    assert init_integration.runtime_data.quarantine.shapes() == [
        {"shape": ["at.t: int", "event: str", "message_id: str"], "count": 1}
    ]


async def test_kept_posts_are_read_back_and_the_repair_forgets_them(
    hass: HomeAssistant,
    client,
    init_integration: MockConfigEntry,
    hass_client,
    hass_storage: dict[str, Any],
) -> None:
    """The file outlives a restart (the issue comes back with its count);
    submitting the repair empties it, as the README says."""
    assert await async_setup_component(hass, "repairs", {})
    for n in range(2):
        assert (await client.post(URL, json={"kind": "inbound", "n": n})).status == 422
    # The file is written a moment later (the Store's delay, in loop time).
    await asyncio.sleep(SAVE_DELAY + 0.2)
    await hass.async_block_till_done()
    key = f"{DOMAIN}.{init_integration.entry_id}.quarantine"
    assert len(hass_storage[key]["data"]["posts"]) == 2
    issue_id = f"unrecognised_posts_{init_integration.entry_id}"
    ir.async_get(hass).async_delete(DOMAIN, issue_id)
    await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders["count"] == "2"
    http = await hass_client()
    resp = await http.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    flow = await resp.json()
    assert flow["step_id"] == "confirm"
    assert flow["description_placeholders"]["count"] == "2"
    resp = await http.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
    assert (await resp.json())["type"] == "create_entry"
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert init_integration.runtime_data.quarantine.count == 0
    assert key not in hass_storage
