"""Sending: the action, the legacy notify service, notify entities, errors."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from unittest.mock import patch

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.actio_sms.actio import (
    ActioClient,
    ActioConnectionError,
    ActioError,
    ActioResponseError,
    ActioServerError,
)
from custom_components.actio_sms.const import (
    CONF_BULK,
    CONF_CONCURRENCY,
    CONF_DAILY_LIMIT,
    CONF_DEFAULT_RECIPIENTS,
    CONF_DUPLICATE_WINDOW,
    CONF_ENCODING,
    DOMAIN,
    EVENT_DELIVERY_STATUS,
    EVENT_MESSAGE_SENT,
)
from custom_components.actio_sms.outbox import map_error, validate_recipients
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.service import async_get_cached_service_description
from homeassistant.setup import async_setup_component

from .conftest import (
    FAMILY,
    NOMULTI_TOKEN,
    SENDER,
    TCX_TOKEN,
    WEBHOOK_ID,
    Setup,
    Sim,
    actio_entry,
    entry_data,
    entry_device_id,
    numbers,
    send,
)

LAST_SENT = "sensor.actio_sms_48732129000_last_sent_message"
SENT_COUNT = "sensor.actio_sms_48732129000_messages_sent"
PARTS_TODAY = "sensor.actio_sms_48732129000_sms_parts_sent_today"


async def legacy_notify(hass: HomeAssistant, **data: Any) -> None:
    """Call notify.actio_sms."""
    await hass.services.async_call("notify", DOMAIN, data, blocking=True)


# For tests of sending itself: hundreds of parts, the same text again on purpose.
NO_GUARD = {CONF_DAILY_LIMIT: 0, CONF_DUPLICATE_WINDOW: 0}


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_send_message_response(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    events = async_capture_events(hass, EVENT_MESSAGE_SENT)
    response = await send(
        hass, ["+48 600 100 200", "600100200", "0048 600 100 201"], "a" * 61
    )
    assert [m["recipient"] for m in response["messages"]] == [
        "48600100200",
        "48600100201",
    ]
    ids = {item.recipient: item.message_id for item in simulator.outbox}
    assert response == {
        "messages": [
            {
                "recipient": "48600100200",
                "message_id": ids["48600100200"],
                "parts": 2,
                "status": "pending",
            },
            {
                "recipient": "48600100201",
                "message_id": ids["48600100201"],
                "parts": 2,
                "status": "pending",
            },
        ],
        "skipped": [],
    }
    await hass.async_block_till_done()
    state = hass.states.get(LAST_SENT)
    assert state.state == "a" * 61
    assert state.attributes["recipients"] == ["48600100200", "48600100201"]
    assert state.attributes["message_ids"] == [ids["48600100200"], ids["48600100201"]]
    assert state.attributes["sent_at"]
    assert hass.states.get(SENT_COUNT).state == "2"
    # One event for the whole send, naming what ACTIO accepted.
    [event] = events
    assert event.data == {
        "config_entry_id": init_integration.entry_id,
        "device_id": entry_device_id(hass, init_integration),
        "messages": response["messages"],
        "body": "a" * 61,
        "sent_at": state.attributes["sent_at"],
    }


async def test_send_without_response(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    await hass.services.async_call(
        DOMAIN,
        "send_message",
        {"message": "x", "recipients": "600100200"},
        blocking=True,
    )
    assert len(simulator.outbox) == 1


async def test_invalid_numbers_send_nothing(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, ["600100200", "mom", "123"])
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "invalid_numbers"
    assert err.value.translation_placeholders == {"numbers": "mom, 123"}
    assert str(err.value).startswith(
        "Not valid phone numbers: mom, 123. Give a Polish number as 9 digits"
    )
    assert simulator.requests == []


async def test_empty_message(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, "600100200", "")
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "empty_message"
    assert simulator.requests == []


def test_no_recipients_at_all() -> None:
    """Every surface checks first; the validator refuses an empty list too."""
    with pytest.raises(ServiceValidationError) as err:
        validate_recipients([])
    assert (err.value.translation_domain, err.value.translation_key) == (
        DOMAIN,
        "no_recipients",
    )


@pytest.mark.parametrize("entry_options", [{CONF_ENCODING: "gsm7"}])
async def test_gsm7(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, "600100200", "a" * 161)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "gsm7_too_long"
    assert err.value.translation_placeholders == {"length": "161"}
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, "600100200", "Zażółć")
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "gsm7_unsupported"
    assert err.value.translation_placeholders == {"characters": "żółć"}
    assert simulator.requests == []
    response = await send(hass, "600100200", "a" * 160)
    assert response["messages"][0]["parts"] == 1


@pytest.mark.parametrize("entry_options", [{CONF_BULK: True, **NO_GUARD}])
async def test_bulk_250(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    response = await send(hass, numbers(250))
    assert [(r["path"], r["to"]) for r in simulator.requests] == [
        ("/api/sms-multi", numbers(100)),
        ("/api/sms-multi", numbers(100, start=100)),
        ("/api/sms-multi", numbers(50, start=200)),
    ]
    # Each recipient is paired with the id ACTIO gave for that recipient.
    assert {m["recipient"]: m["message_id"] for m in response["messages"]} == {
        i.recipient: i.message_id for i in simulator.outbox
    }
    assert len(simulator.outbox) == 250
    assert [m["parts"] for m in response["messages"]] == [1] * 250


@pytest.mark.parametrize("entry_options", [{CONF_BULK: True, **NO_GUARD}])
async def test_bulk_mixed_numbers(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    """Non-mobile numbers cannot go through sms-multi; they go one by one."""
    response = await send(hass, ["600100200", "600100201", "+48 22 123 45 67"])
    assert len(response["messages"]) == 3
    assert sorted(r["path"] for r in simulator.requests) == [
        "/api/sms",
        "/api/sms-multi",
    ]


@pytest.mark.parametrize("entry_options", [{CONF_BULK: True, **NO_GUARD}])
async def test_bulk_single_recipient_uses_sms(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    await send(hass, "600100200")
    assert [r["path"] for r in simulator.requests] == ["/api/sms"]


@pytest.mark.parametrize("entry_options", [{CONF_CONCURRENCY: 3, **NO_GUARD}])
async def test_single_sends_bounded(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    simulator.state.latency = 0.01
    response = await send(hass, numbers(250))
    assert len(response["messages"]) == 250
    assert [r["path"] for r in simulator.requests] == ["/api/sms"] * 250
    assert simulator.state.max_inflight == 3


@pytest.mark.parametrize("entry_options", [{CONF_CONCURRENCY: 2}])
async def test_concurrency_bound_holds_across_actions(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    """Three actions and a notify at once still make at most 2 requests at once."""
    simulator.state.latency = 0.02
    await asyncio.gather(
        send(hass, numbers(6)),
        send(hass, numbers(6, start=100)),
        send(hass, numbers(6, start=200)),
        legacy_notify(hass, message="Hej", target=numbers(6, start=300)),
    )
    assert len(simulator.outbox) == 24
    assert simulator.state.max_inflight == 2


@pytest.mark.parametrize(
    "entry_options", [{CONF_BULK: True, CONF_CONCURRENCY: 1, **NO_GUARD}]
)
async def test_bulk_chunks_share_the_bound(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    simulator.state.latency = 0.02
    await asyncio.gather(send(hass, numbers(150)), send(hass, numbers(150, 500)))
    assert len(simulator.outbox) == 300
    assert simulator.state.max_inflight == 1


async def test_bulk_not_enabled_at_actio(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=SENDER,
        data=entry_data(simulator.url, NOMULTI_TOKEN),
        options={CONF_BULK: True},
    )
    await setup_entry(entry)
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, numbers(2))
    assert err.value.translation_key == "rejected"
    assert "Bulk sending is not enabled" in err.value.translation_placeholders["errors"]
    assert simulator.outbox == []


PLACEHOLDERS: dict[str, dict[str, str] | None] = {
    "422": {"errors": "to: The to field is invalid."},
    "429": {"retry_after": "7"},
    "402": None,
    "401": None,
    "403": None,
}


@pytest.mark.parametrize(
    ("fault", "exc", "key"),
    [
        ("422", ServiceValidationError, "rejected"),
        ("429", HomeAssistantError, "rate_limited"),
        ("402", HomeAssistantError, "no_funds"),
        ("401", HomeAssistantError, "auth_failed"),
        ("403", HomeAssistantError, "auth_failed"),
    ],
)
async def test_api_errors(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Sim,
    fault: str,
    exc: type,
    key: str,
) -> None:
    simulator.fault(fault)
    with pytest.raises(exc) as err:
        await send(hass, "600100200")
    assert type(err.value) is exc
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert err.value.translation_placeholders == PLACEHOLDERS[fault]
    flows = [f["context"]["source"] for f in hass.config_entries.flow.async_progress()]
    assert flows == ([SOURCE_REAUTH] if fault in ("401", "403") else [])
    assert simulator.outbox == []
    assert len(simulator.requests) == 1


@pytest.mark.parametrize("fault", ["500", "reset", "timeout", "non_json"])
async def test_a_lost_answer_is_unconfirmed_not_failed(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim, fault: str
) -> None:
    """It may have gone out: reported as unconfirmed, kept, counted, never 'not sent'."""
    statuses = async_capture_events(hass, EVENT_DELIVERY_STATUS)
    with patch("custom_components.actio_sms.data.API_TIMEOUT", 0.2):
        await hass.config_entries.async_reload(init_integration.entry_id)
        simulator.fault(fault)
        response = await send(hass, "600100200", "Alarm")
    assert response["messages"] == [
        {
            "recipient": "48600100200",
            "message_id": None,
            "parts": 1,
            "status": "unconfirmed",
        }
    ]
    await hass.async_block_till_done()
    assert [
        (e.data["status"], e.data["recipient"], e.data["body"]) for e in statuses
    ] == [("unconfirmed", "48600100200", "Alarm")]
    history = await hass.services.async_call(
        DOMAIN,
        "get_messages",
        {"direction": "sent"},
        blocking=True,
        return_response=True,
    )
    [record] = history["messages"]
    assert (record["status"], record["message_id"]) == ("unconfirmed", None)
    assert record["idempotency_key"]
    # It costs as if it went out, and it is a repeat within the window.
    assert hass.states.get(PARTS_TODAY).state == "1"
    simulator.fault(None)
    again = await send(hass, "600100200", "Alarm")
    assert again == {
        "messages": [],
        "skipped": [{"recipient": "48600100200", "reason": "duplicate"}],
    }


async def test_a_lost_answer_retried_sends_one_sms(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    """ACTIO accepted but its answer was lost: the retry, with the same key,
    gets the first answer and the phone gets one SMS."""
    simulator.fault("lost_answer", count=1)
    response = await send(hass, "600100200", "Raz")
    [item] = simulator.outbox
    assert response["messages"] == [
        {
            "recipient": "48600100200",
            "message_id": item.message_id,
            "parts": 1,
            "status": "pending",
        }
    ]
    assert [r["status"] for r in simulator.requests] == [500, 200]


async def test_no_funds_raises_and_the_next_accepted_send_clears_the_repair(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    simulator.fault("402", count=1)
    with pytest.raises(HomeAssistantError) as err:
        await send(hass, "600100200")
    assert err.value.translation_key == "no_funds"
    assert "no funds left" in str(err.value)
    issue_id = f"no_funds_{init_integration.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "no_funds"
    await send(hass, "600100201")
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_rate_limit_without_retry_after(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    simulator.state.retry_after = None
    simulator.fault("429")
    with pytest.raises(HomeAssistantError) as err:
        await send(hass, "600100200")
    assert err.value.translation_placeholders == {"retry_after": "?"}


@pytest.mark.parametrize("entry_options", [{CONF_BULK: True, **NO_GUARD}])
async def test_bulk_stop_after_a_sent_chunk_names_every_unsent_number(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    """Chunk 1 goes out, chunk 2 is rate limited, chunk 3 is not tried."""
    simulator.state.fault_after = 1
    simulator.fault("429")
    with pytest.raises(HomeAssistantError) as err:
        await send(hass, numbers(250))
    assert err.value.translation_key == "partial_failure"
    # The faulted request is answered before its body is read: no "to".
    assert [(r["status"], r["to"]) for r in simulator.requests] == [
        (200, numbers(100)),
        (429, None),
    ]
    assert {i.recipient for i in simulator.outbox} == set(numbers(100))
    failed = err.value.translation_placeholders["failed"]
    assert failed == (
        ", ".join(numbers(150, start=100))
        + ": ACTIO is rate limiting requests; try again in 7 seconds"
    )


@pytest.mark.parametrize("entry_options", [{CONF_BULK: True, **NO_GUARD}])
async def test_bulk_answer_missing_ids_fails_those_numbers(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    """ACTIO accepted the request but names only some numbers: the others may
    still get it, so they are unconfirmed (and counted), not failures."""
    simulator.state.multi_answer_limit = 2
    response = await send(hass, numbers(3))
    assert [(m["recipient"], m["status"]) for m in response["messages"]] == [
        (numbers(1)[0], "pending"),
        (numbers(1, start=1)[0], "pending"),
        (numbers(1, start=2)[0], "unconfirmed"),
    ]
    history = await hass.services.async_call(
        DOMAIN,
        "get_messages",
        {"direction": "sent"},
        blocking=True,
        return_response=True,
    )
    assert sorted(m["recipient"] for m in history["messages"]) == numbers(3)
    assert hass.states.get(PARTS_TODAY).state == "3"


async def test_auth_error_stops_remaining_sends(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    simulator.fault("403")
    with pytest.raises(HomeAssistantError) as err:
        await send(hass, numbers(20))
    assert err.value.translation_key == "auth_failed"
    # Only the requests already in flight (at most the concurrency) went out.
    assert len(simulator.requests) <= 4


@pytest.mark.parametrize("entry_options", [{CONF_BULK: True, **NO_GUARD}])
async def test_bulk_rate_limit_stops_remaining_chunks(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    simulator.fault("429")
    with pytest.raises(HomeAssistantError) as err:
        await send(hass, numbers(250))
    assert err.value.translation_key == "rate_limited"
    assert len(simulator.requests) == 1  # not three
    assert simulator.outbox == []


async def test_partial_failure(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    simulator.fault("422", count=1)
    with pytest.raises(HomeAssistantError) as err:
        await send(hass, numbers(3))
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "partial_failure"
    placeholders = err.value.translation_placeholders
    sent = {item.recipient: item.message_id for item in simulator.outbox}
    assert len(sent) == 2
    assert placeholders["sent"] == ", ".join(
        f"{recipient} ({sent[recipient]})"
        for recipient in numbers(3)
        if recipient in sent
    )
    [failed] = set(numbers(3)) - set(sent)
    assert placeholders["failed"] == (
        f"{failed}: ACTIO rejected the message: to: The to field is invalid."
    )
    # What was sent is recorded.
    await hass.async_block_till_done()
    assert hass.states.get(SENT_COUNT).state == "2"


async def test_send_3cx(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=SENDER,
        data=entry_data(simulator.url, TCX_TOKEN, "3cx"),
        options={CONF_BULK: True},
    )
    await setup_entry(entry)
    response = await send(hass, numbers(3), "Cześć")
    assert len(response["messages"]) == 3
    assert [r["path"] for r in simulator.requests] == ["/api/tcx"] * 3
    assert {item.message_id for item in simulator.outbox} == {
        m["message_id"] for m in response["messages"]
    }


async def test_legacy_notify(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    await legacy_notify(hass, message="one", target="600100200")
    await legacy_notify(hass, message="many", target=["600100200", "600100201"])
    # Concurrent single sends may complete in any order.
    assert sorted((i.recipient, i.body) for i in simulator.outbox) == [
        ("48600100200", "many"),
        ("48600100200", "one"),
        ("48600100201", "many"),
    ]
    with pytest.raises(ServiceValidationError) as err:
        await legacy_notify(hass, message="nobody")
    assert err.value.translation_key == "no_recipients"


@pytest.mark.parametrize(
    "entry_options", [{CONF_DEFAULT_RECIPIENTS: ["48600100200", "48600100201"]}]
)
async def test_legacy_notify_defaults_and_entity(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    await legacy_notify(hass, message="to defaults")
    assert sorted(i.recipient for i in simulator.outbox) == [
        "48600100200",
        "48600100201",
    ]
    entity_id = "notify.actio_sms_48732129000_default_recipients"
    await hass.services.async_call(
        "notify",
        "send_message",
        {"entity_id": entity_id, "message": "hi", "title": "Alarm"},
        blocking=True,
    )
    assert [i.body for i in simulator.outbox[2:]] == ["Alarm\nhi", "Alarm\nhi"]
    assert hass.states.get(entity_id).state not in ("unknown", "unavailable")


async def test_several_entries(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    simulator.state.tokens[next(iter(simulator.state.tokens))].senders.append(
        "48732129005"
    )
    first = await setup_entry(
        MockConfigEntry(
            domain=DOMAIN,
            unique_id=SENDER,
            title=SENDER,
            data=entry_data(simulator.url),
        )
    )
    second_data = entry_data(simulator.url) | {
        "sender": "48732129005",
        "webhook_id": "f" * 64,
    }
    second = await setup_entry(
        MockConfigEntry(
            domain=DOMAIN,
            unique_id="48732129005",
            title="48732129005",
            data=second_data,
        )
    )

    with pytest.raises(ServiceValidationError) as err:
        await send(hass, "600100200")
    assert err.value.translation_key == "entry_required"
    # As people read numbers.
    assert err.value.translation_placeholders == {
        "senders": "+48 732 129 000, +48 732 129 005"
    }

    await send(hass, "600100200", config_entry_id=second.entry_id)
    assert simulator.outbox[-1].sender == "48732129005"

    with pytest.raises(ServiceValidationError) as err:
        await legacy_notify(hass, message="x", target="600100200")
    assert err.value.translation_key == "entry_required"
    await legacy_notify(
        hass, message="x", target="600100200", data={"sender": "+48 732 129 000"}
    )
    assert simulator.outbox[-1].sender == SENDER
    with pytest.raises(ServiceValidationError) as err:
        await legacy_notify(
            hass, message="x", target="600100200", data={"sender": "48500500500"}
        )
    assert err.value.translation_key == "sender_not_found"
    with pytest.raises(ServiceValidationError) as err:
        await legacy_notify(
            hass, message="x", target="600100200", data={"sender": "ACTIO"}
        )
    assert err.value.translation_key == "sender_not_found"

    with pytest.raises(ServiceValidationError) as err:
        await send(hass, "600100200", config_entry_id="nope")
    assert err.value.translation_domain == "homeassistant"
    assert err.value.translation_key == "service_config_entry_not_found"
    await hass.config_entries.async_unload(first.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, "600100200", config_entry_id=first.entry_id)
    assert err.value.translation_key == "service_config_entry_not_loaded"


async def test_no_entries(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, "600100200")
    assert err.value.translation_key == "no_entries"


async def test_recipient_entities(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    entry = actio_entry(simulator.url, recipients=FAMILY)
    await setup_entry(entry)
    assert hass.states.get("notify.actio_sms_48732129000_default_recipients") is None
    await hass.services.async_call(
        "notify",
        "send_message",
        {"entity_id": "notify.actio_sms_48732129000_mom", "message": "Obiad!"},
        blocking=True,
    )
    assert [(i.recipient, i.body) for i in simulator.outbox] == [
        ("48600100200", "Obiad!")
    ]
    state = hass.states.get("notify.actio_sms_48732129000_mom")
    assert state.state not in ("unknown", "unavailable")  # the send was recorded
    assert hass.states.get("notify.actio_sms_48732129000_dad").state == "unknown"
    # Each recipient is a device of its own, linked to the entry's device.
    devices = dr.async_get(hass)
    main = devices.async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    mom_entity = er.async_get(hass).async_get("notify.actio_sms_48732129000_mom")
    mom_device = devices.async_get(mom_entity.device_id)
    # Named as a person reads it; the entity id keeps the entry's pattern.
    assert mom_device.name == "Mom (+48 600 100 200)"
    assert mom_entity.entity_id == "notify.actio_sms_48732129000_mom"
    assert mom_device.entry_type is None  # a person's phone, not a service
    assert mom_device.via_device_id == main.id
    assert mom_entity.config_subentry_id is not None


async def test_legacy_notify_in_a_notify_group(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    setup_entry: Setup,
    simulator: Sim,
) -> None:
    # notify reads its YAML platforms when it is first set up.
    assert await async_setup_component(
        hass,
        "notify",
        {
            "notify": [
                {
                    "platform": "group",
                    "name": "family",
                    "services": [
                        {
                            "action": DOMAIN,
                            "data": {"target": ["600100200", "600100201"]},
                        }
                    ],
                }
            ]
        },
    )
    await setup_entry(mock_config_entry)
    await hass.services.async_call(
        "notify", "family", {"message": "Kolacja!"}, blocking=True
    )
    await hass.async_block_till_done()
    assert sorted((i.recipient, i.body) for i in simulator.outbox) == [
        ("48600100200", "Kolacja!"),
        ("48600100201", "Kolacja!"),
    ]


@pytest.mark.parametrize("entry_options", [{CONF_CONCURRENCY: 1}])
async def test_one_failure_does_not_stop_the_others(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    """A refusal for one number; the next numbers are still tried (in order)."""
    simulator.fault("422", count=1)
    with pytest.raises(HomeAssistantError) as err:
        await send(hass, numbers(3))
    assert err.value.translation_key == "partial_failure"
    assert [i.recipient for i in simulator.outbox] == numbers(2, start=1)
    assert init_integration.runtime_data.last_error == "to: The to field is invalid."


@pytest.mark.parametrize("entry_options", [{CONF_CONCURRENCY: 1}])
async def test_rate_limit_stops_the_rest_and_names_them(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    simulator.state.fault_after = 1
    simulator.fault("429")
    with pytest.raises(HomeAssistantError) as err:
        await send(hass, numbers(3))
    assert len(simulator.requests) == 2  # the third is not tried
    assert err.value.translation_placeholders["failed"] == (
        f"{numbers(1, start=1)[0]}, {numbers(1, start=2)[0]}: ACTIO is rate "
        "limiting requests; try again in 7 seconds"
    )


async def test_debug_log_names_text_and_numbers(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    hass_client_no_auth,
) -> None:
    """Texts at debug level only; numbers masked at every level (README)."""
    caplog.set_level(logging.DEBUG, logger="custom_components.actio_sms")
    response = await send(hass, ["600100200", "600100201"], "Hej 🎉")
    assert (
        "Sending 1 part(s) to +48 600 *** *00, +48 600 *** *01: Hej 🎉"
        in caplog.messages
    )
    ids = [m["message_id"] for m in response["messages"]]
    assert (
        f"ACTIO accepted: +48 600 *** *00 ({ids[0]}, pending), "
        f"+48 600 *** *01 ({ids[1]}, pending)" in caplog.messages
    )
    # Receiving, too: the SMS and the report, with numbers and text.
    client = await hass_client_no_auth()
    await client.post(
        f"/api/webhook/{WEBHOOK_ID}",
        json={"type": "MESSAGE", "from": "+48600100201", "to": SENDER, "body": "Ok 👍"},
    )
    await client.post(
        f"/api/webhook/{WEBHOOK_ID}",
        json={"type": "NOTIFICATION", "message_id": ids[0], "status": "DELIVERED"},
    )
    assert (
        "Received an SMS from +48 600 *** *01 to +48 732 *** *00: Ok 👍"
        in caplog.messages
    )
    assert f"Delivery report: {ids[0]} is delivered" in caplog.messages


async def test_legacy_notify_describes_itself(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Not notify's generic "…using the actio_sms service" text."""
    description = async_get_cached_service_description(hass, "notify", DOMAIN)
    assert description is not None
    assert description["name"] == "Send an SMS with ACTIO (legacy)"
    # When to pick it, and what to pick instead.
    assert "for tools that expect a notify service" in description["description"]
    assert "notify.send_message" in description["description"]
    assert "actio_sms.send_message" in description["description"]
    assert "target" in description["fields"]


async def test_legacy_notify_describes_itself_in_polish(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, setup_entry: Setup
) -> None:
    """A legacy service takes no translations: HA's language picks the words."""
    hass.config.language = "pl"
    await setup_entry(mock_config_entry)
    description = async_get_cached_service_description(hass, "notify", DOMAIN)
    assert description is not None
    assert description["name"] == "Wyślij SMS przez ACTIO (starsza usługa)"
    assert "notify.send_message" in description["description"]


@pytest.mark.parametrize(
    ("err", "key", "placeholders", "words"),
    [
        (
            ActioServerError(503),
            "server_error",
            {"status": "503"},
            "ACTIO answered with server error 503; try again later",
        ),
        (
            ActioResponseError("Unexpected status 302", 302),
            "unexpected_response",
            {"error": "Unexpected status 302"},
            "ACTIO gave an unexpected answer: Unexpected status 302",
        ),
        (
            ActioConnectionError("refused"),
            "cannot_connect",
            None,
            "Cannot reach the ACTIO API",
        ),
    ],
)
async def test_client_errors_in_words(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    err: ActioError,
    key: str,
    placeholders: dict[str, str] | None,
    words: str,
) -> None:
    mapped = map_error(err)
    assert type(mapped) is HomeAssistantError
    assert mapped.translation_domain == DOMAIN
    assert mapped.translation_key == key
    assert mapped.translation_placeholders == placeholders
    assert str(mapped) == words


@pytest.mark.parametrize(
    ("status", "unconfirmed"), [(200, True), (299, True), (300, False), (302, False)]
)
async def test_only_an_unreadable_2xx_may_have_gone_out(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    status: int,
    *,
    unconfirmed: bool,
) -> None:
    """A 2xx whose body makes no sense was accepted; a 3xx was not."""
    answer = ActioResponseError(f"Unexpected status {status}", status)
    with patch.object(ActioClient, "send_sms", side_effect=answer):
        if unconfirmed:
            response = await send(hass, "600100200", "x")
            assert [m["status"] for m in response["messages"]] == ["unconfirmed"]
        else:
            with pytest.raises(HomeAssistantError) as err:
                await send(hass, "600100200", "x")
            assert err.value.translation_key == "unexpected_response"
    await hass.async_block_till_done()
    assert hass.states.get(PARTS_TODAY).state == ("1" if unconfirmed else "0")


@pytest.mark.parametrize("entry_options", [{CONF_CONCURRENCY: 1}])
async def test_a_partial_failure_names_each_reason(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Sim
) -> None:
    sent, refused, odd = numbers(3)
    send_sms = ActioClient.send_sms

    async def answers(
        client: ActioClient, sender: str, to: str, *args: Any, **kw: Any
    ) -> Any:
        if to == refused:
            raise ActioConnectionError("refused")
        if to == odd:
            raise ActioResponseError("Unexpected status 302", 302)
        return await send_sms(client, sender, to, *args, **kw)

    with (
        patch.object(ActioClient, "send_sms", answers),
        pytest.raises(HomeAssistantError) as err,
    ):
        await send(hass, [sent, refused, odd])
    assert err.value.translation_key == "partial_failure"
    assert err.value.translation_placeholders["failed"] == (
        f"{refused}: Cannot reach the ACTIO API; "
        f"{odd}: ACTIO gave an unexpected answer: Unexpected status 302"
    )
