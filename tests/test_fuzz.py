"""Hypothesis fuzzing of the webhook: never 5xx, events only for valid payloads.

CI runs 500 examples per test; scripts/fuzz sets ACTIO_FUZZ_EXAMPLES=10000.
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.actio_sms.const import (
    EVENT_DELIVERY_STATUS,
    EVENT_MESSAGE_RECEIVED,
    MAX_WEBHOOK_BYTES,
)
from custom_components.actio_sms.webhook import InvalidPayloadError, parse_payload
from homeassistant.core import Event, HomeAssistant, callback

from .conftest import SENDER, WEBHOOK_ID

URL = f"/api/webhook/{WEBHOOK_ID}"
EXAMPLES = int(os.environ.get("ACTIO_FUZZ_EXAMPLES", "500"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    database=None,
)

text = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "🎉" * 10,
        "Zażółć gęślą jaźń",
        "\u202e",
        "\ud7ff",
        "48600100200",
        "+48600100200",
        "x" * 70,
    ]
)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4)
    ),
    max_leaves=20,
)
phone = st.from_regex(r"\+?48[4-8][0-9]{8}", fullmatch=True)
message_id = st.from_regex(r"[0-9a-f]{16}", fullmatch=True)
valid_sms = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["MESSAGE", "message", " Message "]),
        "from": phone
        | st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=11),
        "to": phone,
        "body": st.text(max_size=300),
    }
) | st.fixed_dictionaries(
    {
        "type": st.sampled_from(["NOTIFICATION", "notification"]),
        "message_id": message_id,
        "status": st.sampled_from(["DELIVERED", "ERROR", "delivered", "error"]),
    }
)
valid_telnyx = st.builds(
    lambda text_, sender, recipient: {
        "data": {
            "event_type": "message.received",
            "id": "x",
            "payload": {
                "text": text_,
                "from": {"phone_number": sender},
                "to": [{"phone_number": recipient}],
            },
        }
    },
    st.text(max_size=200),
    phone,
    phone,
) | st.builds(
    lambda mid, status, event: {
        "data": {
            "event_type": event,
            "payload": {
                "id": mid,
                "to": [{"phone_number": "+48600100200", "status": status}],
            },
        }
    },
    message_id,
    st.sampled_from(["delivered", "sending_failed", "delivery_failed"]),
    st.sampled_from(["message.finalized", "message.sent"]),
)
valid = valid_sms | valid_telnyx


def mutate(payload: dict[str, Any], key_path: list[str], value: Any) -> dict[str, Any]:
    """Replace one field somewhere in a valid payload (wrong types, junk)."""
    copy = json.loads(json.dumps(payload))
    node = copy
    for key in key_path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            return copy
    if isinstance(node, dict) and key_path:
        node[key_path[-1]] = value
    return copy


def is_valid(payload: Any) -> bool:
    try:
        parse_payload(payload)
    except InvalidPayloadError:
        return False
    return True


class Counter:
    def __init__(self, hass: HomeAssistant) -> None:
        self.count = 0

        @callback
        def seen(_event: Event) -> None:
            self.count += 1

        hass.bus.async_listen(EVENT_MESSAGE_RECEIVED, seen)
        hass.bus.async_listen(EVENT_DELIVERY_STATUS, seen)


async def check(
    hass: HomeAssistant, client, counter: Counter, raw: bytes, expect_valid: bool | None
) -> None:
    before = counter.count
    resp = await client.post(
        URL, data=raw, headers={"Content-Type": "application/json"}
    )
    await hass.async_block_till_done()
    assert resp.status < 500
    if len(raw) > MAX_WEBHOOK_BYTES:
        assert resp.status == 413
        assert counter.count == before
        return
    if expect_valid is None:  # arbitrary input: the validator decides
        try:
            expect_valid = is_valid(json.loads(raw))
        except ValueError:
            expect_valid = False
    if expect_valid:
        assert resp.status == 200, raw[:200]
        assert counter.count == before + 1
    else:
        assert resp.status in (400, 413), (resp.status, raw[:200])
        assert counter.count == before


PATHS = st.sampled_from(
    [
        ["type"],
        ["from"],
        ["to"],
        ["body"],
        ["message_id"],
        ["status"],
        ["data"],
        ["data", "event_type"],
        ["data", "payload"],
        ["data", "payload", "text"],
        ["data", "payload", "to"],
        ["data", "payload", "from"],
        ["data", "payload", "id"],
    ]
)
RAW = (
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.integers(1, 3000).map(lambda depth: b"[" * depth + b"]" * depth)
    | st.integers(1, 2000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth)
    | st.sampled_from(
        [
            b"x" * 70_000,
            json.dumps(
                {"type": "MESSAGE", "from": "1", "to": SENDER, "body": "y" * 70_000}
            ).encode(),
        ]
    )
)
_clients: dict[int, tuple[Any, Counter]] = {}


async def harness(hass: HomeAssistant, hass_client_no_auth) -> tuple[Any, Counter]:
    """One test client and event counter per hass (examples share them)."""
    if id(hass) not in _clients:
        _clients.clear()
        _clients[id(hass)] = (await hass_client_no_auth(), Counter(hass))
    return _clients[id(hass)]


@FUZZ
@given(payload=valid)
async def test_fuzz_valid_payloads(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_client_no_auth,
    payload: dict[str, Any],
) -> None:
    client, counter = await harness(hass, hass_client_no_auth)
    await check(hass, client, counter, json.dumps(payload).encode(), True)


@FUZZ
@given(payload=valid, path=PATHS, value=json_values)
async def test_fuzz_mutated_payloads(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_client_no_auth,
    payload: dict[str, Any],
    path: list[str],
    value: Any,
) -> None:
    client, counter = await harness(hass, hass_client_no_auth)
    await check(
        hass, client, counter, json.dumps(mutate(payload, path, value)).encode(), None
    )


@FUZZ
@given(data=RAW)
async def test_fuzz_arbitrary_json_and_bytes(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_client_no_auth,
    data: bytes,
) -> None:
    client, counter = await harness(hass, hass_client_no_auth)
    await check(hass, client, counter, data, None)
