"""Diagnostics are useful and redacted."""

from __future__ import annotations

import json

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.actio_sms.const import CONF_DEFAULT_RECIPIENTS, DOMAIN
from homeassistant.core import HomeAssistant

from .conftest import TOKEN, WEBHOOK_ID


@pytest.mark.parametrize("entry_options", [{CONF_DEFAULT_RECIPIENTS: ["48600100299"]}])
async def test_diagnostics(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_client,
    snapshot: SnapshotAssertion,
) -> None:
    await hass.services.async_call(
        DOMAIN,
        "send_message",
        {"message": "secret text", "recipients": "600100200"},
        blocking=True,
    )
    result = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    dumped = json.dumps(result)
    for secret in (TOKEN, WEBHOOK_ID, "48600100299", "secret text", "48600100200"):
        assert secret not in dumped
    api_url = result["entry"]["data"].pop("api_url")
    assert api_url.startswith("http://127.0.0.1:")
    assert result == snapshot
