"""Two virtual numbers on one ACTIO account may share one webhook URL."""

from __future__ import annotations

from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.actio_sms.const import (
    EVENT_DELIVERY_STATUS,
    EVENT_MESSAGE_RECEIVED,
)
from homeassistant.core import HomeAssistant

from .conftest import (
    SECOND_SENDER,
    SENDER,
    TOKEN,
    WEBHOOK_ID,
    Setup,
    Sim,
    actio_entry,
    get_messages,
    second_entry,
    send,
    sms,
)

SECOND = SECOND_SENDER
URL = f"/api/webhook/{WEBHOOK_ID}"  # the first entry's webhook


async def two_entries(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> tuple[MockConfigEntry, MockConfigEntry]:
    simulator.state.tokens[TOKEN].senders.append(SECOND)
    first = await setup_entry(actio_entry(simulator.url))
    second = second_entry(simulator.url)
    await setup_entry(second)
    return first, second


async def test_an_sms_goes_to_the_entry_whose_number_it_names(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    first, second = await two_entries(hass, simulator, setup_entry)
    received = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    client = await hass_client_no_auth()
    payload = sms("Do drugiego numeru") | {"to": SECOND}
    assert (await client.post(URL, json=payload)).status == 200
    await hass.async_block_till_done()
    [event] = received
    assert event.data["config_entry_id"] == second.entry_id
    assert "unknown_number" not in event.data
    in_second = await get_messages(hass, config_entry_id=second.entry_id)
    assert [m["body"] for m in in_second] == ["Do drugiego numeru"]
    assert await get_messages(hass, config_entry_id=first.entry_id) == []


async def test_a_report_goes_to_the_entry_that_sent_the_sms(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    _, second = await two_entries(hass, simulator, setup_entry)
    response = await send(
        hass, "600100200", "Z drugiego", config_entry_id=second.entry_id
    )
    message_id = response["messages"][0]["message_id"]
    reports = async_capture_events(hass, EVENT_DELIVERY_STATUS)
    client = await hass_client_no_auth()
    payload = {"type": "NOTIFICATION", "message_id": message_id, "status": "DELIVERED"}
    assert (await client.post(URL, json=payload)).status == 200
    await hass.async_block_till_done()
    [event] = reports
    assert (event.data["config_entry_id"], event.data["recipient"]) == (
        second.entry_id,
        "48600100200",
    )
    [sent] = await get_messages(hass, config_entry_id=second.entry_id)
    assert sent["status"] == "delivered"


async def test_an_sms_to_no_number_of_ours_is_kept_and_flagged(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, hass_client_no_auth
) -> None:
    first, _ = await two_entries(hass, simulator, setup_entry)
    received = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    client = await hass_client_no_auth()
    payload = sms("Pomyłka") | {"to": "48111222333"}
    assert (await client.post(URL, json=payload)).status == 200
    await hass.async_block_till_done()
    [event] = received
    assert event.data["config_entry_id"] == first.entry_id
    assert event.data["unknown_number"] is True
    [kept] = await get_messages(hass, config_entry_id=first.entry_id)
    assert (kept["to"], kept["unknown_number"]) == ("48111222333", True)
    assert kept["to"] != SENDER
