"""Smoke test (temporary while building)."""

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant


async def test_loads(
    hass: HomeAssistant, init_integration, hass_client_no_auth
) -> None:
    assert init_integration.state is ConfigEntryState.LOADED
    client = await hass_client_no_auth()
    resp = await client.post(
        f"/api/webhook/{init_integration.data['webhook_id']}",
        json={
            "type": "MESSAGE",
            "from": "48600100200",
            "to": "48732129000",
            "body": "Zażółć 🎉",
        },
    )
    assert resp.status == 200
    await hass.async_block_till_done()
    print(sorted(hass.states.async_entity_ids()))
    state = hass.states.get("sensor.actio_sms_48732129000_last_received_message")
    assert state.state == "Zażółć 🎉"
    response = await hass.services.async_call(
        "actio_sms",
        "send_message",
        {"message": "hi", "recipients": ["600 100 200"]},
        blocking=True,
        return_response=True,
    )
    print(response)
    await hass.services.async_call(
        "notify", "actio_sms", {"message": "x", "target": "600100201"}, blocking=True
    )
