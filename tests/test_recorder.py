"""Message texts are not written into the recorder's database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.actio_sms.const import CONF_DEFAULT_RECIPIENTS
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.history import get_significant_states
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .conftest import (
    FAMILY,
    SENDER,
    WEBHOOK_ID,
    Setup,
    Sim,
    actio_entry,
    entry_device_id,
    send,
    sms,
)

URL = f"/api/webhook/{WEBHOOK_ID}"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder first: its database must exist before hass starts."""


EVENT_RECEIVED = "event.actio_sms_48732129000_message_received"
LAST_RECEIVED = "sensor.actio_sms_48732129000_last_received_message"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_texts_stay_out_of_the_database(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    hass_client_no_auth,
) -> None:
    start = dt_util.utcnow() - timedelta(seconds=1)
    await setup_entry(actio_entry(simulator.url))
    client = await hass_client_no_auth()
    resp = await client.post(
        f"/api/webhook/{WEBHOOK_ID}",
        json={"type": "MESSAGE", "from": "48600100200", "to": SENDER, "body": "1234"},
    )
    assert resp.status == 200
    await hass.async_block_till_done()
    # In the state machine, for automations:
    assert hass.states.get(EVENT_RECEIVED).attributes["body"] == "1234"
    assert hass.states.get(EVENT_RECEIVED).attributes["from"] == "48600100200"
    await async_wait_recording_done(hass)
    states = await recorder_mock.async_add_executor_job(
        get_significant_states, hass, start, None, [EVENT_RECEIVED, LAST_RECEIVED]
    )
    recorded = [s for s in states[EVENT_RECEIVED] if s.state != "unknown"]
    assert recorded
    # Neither the text nor the numbers: one attributes row serves every SMS.
    assert recorded[-1].attributes["event_type"] == "message_received"
    assert not {"body", "from", "to"} & set(recorded[-1].attributes)
    assert "body" not in states[LAST_RECEIVED][-1].attributes


async def test_activity_has_one_line_per_sms_and_report(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    hass_client_no_auth,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """What the Activity page lists after a send, an inbound SMS and a report."""
    # The logbook's panel wants the frontend, which 2026.9's test venv lacks;
    # the logbook's own API is what this reads.
    hass.config.components.add("frontend")
    assert await async_setup_component(hass, "logbook", {})
    entry = await setup_entry(actio_entry(simulator.url, recipients=FAMILY))
    ws = await hass_ws_client(hass)
    await async_wait_recording_done(hass)
    start = dt_util.utcnow()
    await send(hass, FAMILY["Dad"], "Obiad!")
    client = await hass_client_no_auth()
    for payload in (
        sms("Jestem w domu"),
        {
            "type": "NOTIFICATION",
            "message_id": simulator.outbox[0].message_id,
            "status": "DELIVERED",
        },
    ):
        assert (await client.post(URL, json=payload)).status == 200
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)

    lines: dict[str, list[str]] = {}
    for scope, extra in (
        ("all", {}),
        ("device", {"device_ids": [entry_device_id(hass, entry)]}),
    ):
        await ws.send_json_auto_id(
            {
                "type": "logbook/get_events",
                "start_time": start.isoformat(),
                "end_time": dt_util.utcnow().isoformat(),
            }
            | extra
        )
        response = await ws.receive_json()
        assert response["success"]
        lines[scope] = [
            row.get("message") or f"{row['entity_id']} → {row['state']}"
            for row in response["result"]
        ]
    expected = [
        "SMS to Dad (+48 600 100 201): Obiad!",
        "SMS from Mom (+48 600 100 200): Jestem w domu",
        "SMS to Dad (+48 600 100 201) delivered: Obiad!",
    ]
    # The integration's own lines, one per SMS and report, in order ...
    assert [line for line in lines["all"] if " → " not in line] == expected
    # ... and beside them the two sensors enabled by default (issue 23: the
    # product shows the last message and delivery status), one change each.
    assert sorted(line for line in lines["all"] if " → " in line) == [
        "sensor.actio_sms_48732129000_last_delivery_status → delivered",
        "sensor.actio_sms_48732129000_last_received_message → Jestem w domu",
    ]
    # The entry's device page lists our lines too.
    assert [line for line in lines["device"] if " → " not in line] == expected


MOM = "notify.actio_sms_48732129000_mom"
DAD = "notify.actio_sms_48732129000_dad"
DEFAULT = "notify.actio_sms_48732129000_default_recipients"


async def activity(ws: Any, start: datetime) -> list[str]:
    """The logbook's lines since ``start``, as the Activity page reads them."""
    await ws.send_json_auto_id(
        {
            "type": "logbook/get_events",
            "start_time": start.isoformat(),
            "end_time": dt_util.utcnow().isoformat(),
        }
    )
    response = await ws.receive_json()
    assert response["success"]
    return [
        row.get("message") or f"{row['entity_id']} → {row['state']}"
        for row in response["result"]
    ]


async def test_a_reload_writes_no_activity_line(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Recipients' notify entities do not turn unavailable and back ("Sent")."""
    hass.config.components.add("frontend")
    assert await async_setup_component(hass, "logbook", {})
    entry = await setup_entry(
        actio_entry(
            simulator.url,
            recipients=FAMILY,
            options={CONF_DEFAULT_RECIPIENTS: ["48600100299"]},
        )
    )
    # Mom's entity has a time (it sent); Dad's and the default one are unknown.
    await hass.services.async_call(
        "notify", "send_message", {"entity_id": MOM, "message": "Obiad"}, blocking=True
    )
    sent_at = hass.states.get(MOM).state
    ws = await hass_ws_client(hass)
    await async_wait_recording_done(hass)
    start = dt_util.utcnow()

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    assert await activity(ws, start) == []
    # Each came back as it was.
    assert hass.states.get(MOM).state == sent_at
    assert hass.states.get(DAD).state == "unknown"
    assert hass.states.get(DEFAULT).state == "unknown"

    # A send through the entity still has its line.
    await hass.services.async_call(
        "notify",
        "send_message",
        {"entity_id": DAD, "message": "Kolacja"},
        blocking=True,
    )
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    assert "SMS to Dad (+48 600 100 201): Kolacja" in await activity(ws, start)


async def test_a_reload_that_fails_leaves_recipients_unavailable(
    recorder_mock: Recorder, hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    """As at a startup with ACTIO down: unavailable, not gone, until it loads."""
    entry = await setup_entry(actio_entry(simulator.url, recipients=FAMILY))
    simulator.fault("500")
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert hass.states.get(MOM).state == "unavailable"
    assert hass.states.get(DAD).state == "unavailable"
    simulator.fault(None)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(MOM).state == "unknown"
