"""Message texts are not written into the recorder's database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.history import get_significant_states
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .conftest import SENDER, WEBHOOK_ID, Setup, Sim, actio_entry


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder first: its database must exist before hass starts."""


EVENT_RECEIVED = "event.actio_sms_48732129000_message_received"
LAST_RECEIVED = "sensor.actio_sms_48732129000_last_received_message"


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
