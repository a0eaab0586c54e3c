"""Diagnostics are useful and leak no number, token, webhook id or text."""

from __future__ import annotations

import json
import re

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.actio_sms.const import CONF_DEFAULT_RECIPIENTS, DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component

from .conftest import FAMILY, SENDER, TOKEN, WEBHOOK_ID, Setup, Sim, actio_entry

DEFAULT = "48600100299"
INBOUND_FROM = "48511222333"
LANDLINE = "48221234567"


def _digits_variants(number: str) -> set[str]:
    """How a number may be written: digits, +digits, national, grouped."""
    national = number[2:]
    return {
        number,
        f"+{number}",
        national,
        f"{national[:3]} {national[3:6]} {national[6:]}",
        f"+48 {national[:3]} {national[3:6]} {national[6:]}",
    }


async def test_diagnostics_redact_every_number(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    hass_client,
    hass_client_no_auth,
    snapshot: SnapshotAssertion,
) -> None:
    # Before any test client: a client freezes HA's router.
    assert await async_setup_component(hass, "diagnostics", {})
    entry = await setup_entry(
        actio_entry(
            simulator.url,
            recipients=FAMILY,
            options={CONF_DEFAULT_RECIPIENTS: [DEFAULT]},
            title=f"ACTIO {SENDER}",
        )
    )
    # Sent, delivered, received, and an error naming a number.
    await hass.services.async_call(
        DOMAIN,
        "send_message",
        {"message": "secret text", "recipients": list(FAMILY.values())},
        blocking=True,
    )
    delivered = simulator.outbox[0].message_id
    webhook = await hass_client_no_auth()
    for payload in (
        {"type": "NOTIFICATION", "message_id": delivered, "status": "DELIVERED"},
        {"type": "MESSAGE", "from": INBOUND_FROM, "to": SENDER, "body": "inbound"},
    ):
        assert (
            await webhook.post(f"/api/webhook/{WEBHOOK_ID}", json=payload)
        ).status == 200
    simulator.state.fault = "422"
    simulator.state.fault_errors = {"to": [f"Number {LANDLINE} is not mobile"]}
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            DOMAIN,
            "send_message",
            {"message": "x", "recipients": LANDLINE},
            blocking=True,
        )
    assert LANDLINE in entry.runtime_data.last_error  # the test data is there

    result = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    dumped = json.dumps(result, ensure_ascii=False)
    numbers = [SENDER, DEFAULT, INBOUND_FROM, LANDLINE, *FAMILY.values()]
    leaks = [
        variant
        for number in numbers
        for variant in _digits_variants(number)
        if variant in dumped
    ]
    assert leaks == []
    for secret in (TOKEN, WEBHOOK_ID, "secret text", "inbound", "Mom", "Dad"):
        assert secret not in dumped
    # Nothing with 7 or more digits in a row survives, whatever it is.
    assert re.findall(r"\d{7,}", dumped) == []
    assert result["counters"] == {
        "received": 1,
        "sent": 2,
        "delivered": 1,
        "failed": 0,
    }
    api_url = result["entry"]["data"].pop("api_url")
    assert api_url.startswith("http://127.0.0.1:")
    assert result == snapshot


async def test_diagnostics_of_a_fresh_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_client
) -> None:
    result = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert result["entry"]["subentries"] == []
    assert result["last_error"] is None
    assert result["history"]["records"] == 0
