"""The repair issue for a webhook ACTIO cannot reach."""

from __future__ import annotations

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.actio_sms.const import DOMAIN, ISSUE_WEBHOOK_UNREACHABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .conftest import FakeCloud


async def test_issue_appears_and_clears(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    issue_id = f"{ISSUE_WEBHOOK_UNREACHABLE}_{init_integration.entry_id}"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == ISSUE_WEBHOOK_UNREACHABLE
    assert issue.translation_placeholders == {"title": init_integration.title}

    await hass.config.async_update(external_url="https://ha.example.com")
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None

    await hass.config.async_update(external_url=None)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None


async def test_no_issue_with_cloud(
    hass: HomeAssistant,
    fake_cloud: FakeCloud,
    init_integration: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    assert (
        issue_registry.async_get_issue(
            DOMAIN, f"{ISSUE_WEBHOOK_UNREACHABLE}_{init_integration.entry_id}"
        )
        is None
    )
