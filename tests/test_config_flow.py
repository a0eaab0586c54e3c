"""Config flow: user, reauth, reconfigure, options and recipient subentries."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import probatio as vol
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.actio_sms.actio import (
    ActioAnswerLostError,
    ActioNoFundsError,
    ActioNotFoundError,
    ActioRateLimitError,
    ActioResponseError,
)
from custom_components.actio_sms.const import (
    CONF_ALLOWED_SOURCES,
    CONF_API_MODE,
    CONF_API_URL,
    CONF_BULK,
    CONF_CLOUDHOOK,
    CONF_COMMAND_AGENT,
    CONF_COMMAND_PIN,
    CONF_COMMAND_REPLY,
    CONF_COMMAND_SENDERS,
    CONF_CONCURRENCY,
    CONF_DAILY_LIMIT,
    CONF_DEFAULT_RECIPIENTS,
    CONF_DUPLICATE_WINDOW,
    CONF_ENCODING,
    CONF_HISTORY_DAYS,
    CONF_HISTORY_SIZE,
    CONF_LLM_TOOLS,
    CONF_MAX_PARTS,
    CONF_NUMBER,
    CONF_PANEL_EVERYONE,
    CONF_PRICE_PER_PART,
    CONF_SENDER,
    CONF_TOKEN,
    DOMAIN,
    SUBENTRY_RECIPIENT,
)
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_NAME, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.helpers.translation import async_get_translations

from .conftest import (
    FAMILY,
    SENDER,
    TCX_TOKEN,
    TOKEN,
    FakeCloud,
    Setup,
    Sim,
    actio_entry,
    entry_data,
    free_port,
)


def user_input(
    url: str, token: str = TOKEN, sender: str = "+48 732 129 000", mode: str = "sms"
) -> dict:
    return {
        CONF_TOKEN: token,
        CONF_SENDER: sender,
        "advanced": {CONF_API_URL: url, CONF_API_MODE: mode},
    }


TYPICAL_OPTIONS: dict[str, Any] = {
    CONF_CONCURRENCY: 4,
    CONF_ENCODING: "ucs2",
    CONF_HISTORY_SIZE: 1000,
    CONF_HISTORY_DAYS: 30,
    CONF_DAILY_LIMIT: 200,
    CONF_DUPLICATE_WINDOW: 60,
    CONF_MAX_PARTS: 10,
}
"""Options a person might pick, across every section of the form."""


async def test_user_flow(hass: HomeAssistant, simulator: Sim) -> None:
    await async_process_ha_core_config(hass, {"external_url": "https://ha.example.com"})
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator.url + "/")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "+48 732 129 000"  # as people write it
    data = result["data"]
    assert data[CONF_SENDER] == SENDER
    assert data[CONF_TOKEN] == TOKEN
    assert data[CONF_API_URL] == simulator.url
    assert data[CONF_API_MODE] == "sms"
    assert data[CONF_CLOUDHOOK] is False
    assert len(data[CONF_WEBHOOK_ID]) == 64
    assert result["result"].unique_id == SENDER
    assert result["description_placeholders"] == {
        "webhook_url": f"https://ha.example.com/api/webhook/{data[CONF_WEBHOOK_ID]}"
    }
    assert result["description"] is None  # reachable: the plain "done" text
    # The credential probe sent nothing.
    assert simulator.outbox == []


async def test_user_flow_without_url(hass: HomeAssistant, simulator: Sim) -> None:
    """Without any URL the dialog still shows the path to use."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    with patch(
        "custom_components.actio_sms.webhook.async_generate_url",
        side_effect=NoURLAvailableError,
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input(simulator.url)
        )
    webhook_id = result["data"][CONF_WEBHOOK_ID]
    assert result["description_placeholders"] == {
        "webhook_url": f"/api/webhook/{webhook_id}"
    }
    assert result["description"] == "unreachable"


async def test_user_flow_with_only_an_internal_url(
    hass: HomeAssistant, simulator: Sim
) -> None:
    """The dialog says plainly that a LAN address is no use to ACTIO."""
    await async_process_ha_core_config(hass, {"internal_url": "http://192.0.2.2:8133"})
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator.url)
    )
    webhook_id = result["data"][CONF_WEBHOOK_ID]
    assert result["description_placeholders"] == {
        "webhook_url": f"http://192.0.2.2:8133/api/webhook/{webhook_id}"
    }
    assert result["description"] == "unreachable"


async def test_user_flow_3cx(hass: HomeAssistant, simulator: Sim) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator.url, TCX_TOKEN, mode="3cx")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_API_MODE] == "3cx"


async def test_user_flow_cloudhook(
    hass: HomeAssistant, simulator: Sim, fake_cloud: FakeCloud
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator.url)
    )
    webhook_id = result["data"][CONF_WEBHOOK_ID]
    assert result["data"][CONF_CLOUDHOOK] is True
    assert result["description_placeholders"] == {
        "webhook_url": f"https://hooks.nabu.casa/{webhook_id[:8]}"
    }
    assert result["description"] is None
    assert fake_cloud.created == [webhook_id]


async def test_user_flow_cloud_inactive(
    hass: HomeAssistant, simulator: Sim, fake_cloud: FakeCloud
) -> None:
    fake_cloud.active = False
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator.url)
    )
    assert result["data"][CONF_CLOUDHOOK] is False
    assert fake_cloud.created == []
    assert result["description"] == "unreachable"


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({CONF_TOKEN: "wrong"}, {"base": "invalid_auth"}),
        ({CONF_SENDER: "48500500500"}, {CONF_SENDER: "invalid_sender"}),
        ({CONF_SENDER: "not a number"}, {CONF_SENDER: "invalid_number"}),
        ({CONF_SENDER: "12345"}, {CONF_SENDER: "invalid_number"}),
    ],
)
async def test_user_flow_errors_then_recover(
    hass: HomeAssistant, simulator: Sim, change: dict, errors: dict
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator.url) | change
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator.url)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def error_text(hass: HomeAssistant, result: Any, field: str = "base") -> str:
    """The words a person reads for a flow's error, as the frontend fills them."""
    translations = await async_get_translations(hass, "en", "config", [DOMAIN])
    text = translations[f"component.{DOMAIN}.config.error.{result['errors'][field]}"]
    return str(text).format(**result["description_placeholders"])


async def test_user_flow_cannot_connect(hass: HomeAssistant, simulator: Sim) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["data_schema"].schema["advanced"].options == {"collapsed": True}
    port = free_port()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(f"http://127.0.0.1:{port}")
    )
    assert result["errors"] == {"base": "cannot_connect"}
    # Words that name the host, not aiohttp's exception; the changed URL stays
    # in sight.
    assert await error_text(hass, result) == (
        f"Cannot connect to 127.0.0.1:{port}: check the API URL and that this "
        "Home Assistant is online."
    )
    assert result["data_schema"].schema["advanced"].options == {"collapsed": False}
    simulator.fault("500", count=1)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator.url)
    )
    assert result["errors"] == {"base": "server_error"}
    host = simulator.url.removeprefix("http://")
    assert await error_text(hass, result) == (
        f"ACTIO's API at {host} has a problem on its side; try again later."
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator.url)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("fault", "field", "error"),
    [
        ("429", "base", "rate_limited"),
        ("402", "base", "no_funds"),
        ("404", "advanced", "wrong_api"),
        ("html", "advanced", "wrong_api"),
        ("timeout", "base", "no_answer"),
    ],
)
async def test_user_flow_errors_are_words(
    hass: HomeAssistant, simulator: Sim, fault: str, field: str, error: str
) -> None:
    """Each way the probe fails is a sentence with the host, never raw text."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    with patch(
        "custom_components.actio_sms.config_flow.ActioClient.check_credentials",
        side_effect={
            "429": ActioRateLimitError(30),
            "402": ActioNoFundsError("No funds left on the ACTIO account"),
            "404": ActioNotFoundError("Endpoint not found", 404),
            "html": ActioResponseError("Answer is not JSON", 200),
            "timeout": ActioAnswerLostError("Timed out waiting for ACTIO", None),
        }[fault],
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input("https://sms.example.com:8443/api")
        )
    assert result["errors"] == {field: error}
    text = await error_text(hass, result, field)
    assert "ACTIO" in text or "sms.example.com:8443" in text
    assert "{" not in text
    for raw in ("Timed out", "Endpoint", "JSON", "retry after", "No funds left"):
        assert raw not in text


async def test_token_is_trimmed_and_an_empty_one_refused(
    hass: HomeAssistant, simulator: Sim
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator.url, token="   ")
    )
    assert result["errors"] == {CONF_TOKEN: "empty_token"}
    assert simulator.requests == []  # ACTIO was not asked with an empty token
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator.url, token=f"  {TOKEN}\n")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_TOKEN] == TOKEN


async def test_url_without_scheme_is_a_form_error(
    hass: HomeAssistant, simulator: Sim
) -> None:
    """ "msg-api.actio.pl/api" is said to need http(s)://, above the section."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input("msg-api.actio.pl/api")
    )
    assert result["errors"] == {"advanced": "invalid_url"}
    assert result["data_schema"].schema["advanced"].options == {"collapsed": False}
    assert await error_text(hass, result, "advanced") == (
        "Not a whole web address: give it with http:// or https:// in front, "
        "like https://msg-api.actio.pl."
    )
    assert simulator.requests == []


async def test_one_number_rule_and_message_for_entry_and_recipient(
    hass: HomeAssistant, simulator: Sim, mock_config_entry: MockConfigEntry
) -> None:
    """The same typed number is refused, or taken, alike by both forms."""
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    config = await async_get_translations(hass, "en", "config", [DOMAIN])
    subentries = await async_get_translations(hass, "en", "config_subentries", [DOMAIN])
    issues = await async_get_translations(hass, "en", "issues", [DOMAIN])
    prefix = f"component.{DOMAIN}"
    message = config[f"{prefix}.config.error.invalid_number"]
    assert subentries[f"{prefix}.config_subentries.recipient.error.invalid_number"] == (
        message
    )
    assert (
        issues[f"{prefix}.issues.invalid_sender.fix_flow.error.invalid_number"]
        == message
    )
    for typed, valid in (
        ("12345", False),
        ("600 100 20", False),
        ("+48 600 100 2000", False),
        ("phone", False),
        ("600 100 200", True),
        ("+49 30 1234567", True),
    ):
        entry_form = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USER}
        )
        entry_form = await hass.config_entries.flow.async_configure(
            entry_form["flow_id"], user_input(simulator.url, sender=typed)
        )
        recipient_form = await hass.config_entries.subentries.async_init(
            (mock_config_entry.entry_id, SUBENTRY_RECIPIENT),
            context={"source": SOURCE_USER},
        )
        recipient_form = await hass.config_entries.subentries.async_configure(
            recipient_form["flow_id"], {CONF_NAME: "Someone", CONF_NUMBER: typed}
        )
        refused = {CONF_SENDER: "invalid_number"}
        assert (entry_form.get("errors") == refused) is not valid, typed
        assert (recipient_form.get("errors") == {CONF_NUMBER: "invalid_number"}) is (
            not valid
        ), typed


async def test_user_flow_unknown(hass: HomeAssistant, simulator: Sim) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    simulator.fault("422")  # a 422 that names neither body nor from
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator.url)
    )
    assert result["errors"] == {"base": "unknown"}
    simulator.fault(None)
    with patch(
        "custom_components.actio_sms.config_flow.ActioClient.check_credentials",
        side_effect=RuntimeError("boom"),
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input(simulator.url)
        )
    assert result["errors"] == {"base": "unknown"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator.url)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_already_configured(
    hass: HomeAssistant, simulator: Sim, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator.url)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize(
    ("fault", "token", "error"),
    [
        (None, "still-wrong", "invalid_auth"),
        ("500", TOKEN, "server_error"),
        ("422", TOKEN, "unknown"),
    ],
)
async def test_reauth(
    hass: HomeAssistant, simulator: Sim, fault: str | None, token: str, error: str
) -> None:
    mock_config_entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=SENDER,
        title=SENDER,
        minor_version=2,
        data=entry_data(simulator.url, token="old"),
    )
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["sender"] == "+48 732 129 000"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: " "}
    )
    assert result["errors"] == {CONF_TOKEN: "empty_token"}
    simulator.fault(fault, count=1)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: token}
    )
    assert result["errors"] == {"base": error}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: f" {TOKEN} "}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert mock_config_entry.data[CONF_TOKEN] == TOKEN
    await hass.async_block_till_done()  # the reload it started
    assert mock_config_entry.state is ConfigEntryState.LOADED


async def test_reconfigure(
    hass: HomeAssistant,
    simulator: Sim,
    mock_config_entry: MockConfigEntry,
    setup_entry: Setup,
) -> None:
    simulator.state.tokens["other"] = type(simulator.state.tokens[TOKEN])(
        senders=["48732129005"]
    )
    await setup_entry(mock_config_entry)
    result = await mock_config_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    # The number as people write it, not the stored digits.
    assert suggested(result["data_schema"], CONF_SENDER) == "+48 732 129 000"
    assert suggested(result["data_schema"], CONF_API_URL) == simulator.url
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_TOKEN: "other", CONF_SENDER: "48732129005", CONF_API_URL: "example"},
    )
    assert result["errors"] == {CONF_API_URL: "invalid_url"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_TOKEN: "other", CONF_SENDER: "48732129000", CONF_API_URL: simulator.url},
    )
    assert result["errors"] == {CONF_SENDER: "invalid_sender"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_TOKEN: " other ",
            CONF_SENDER: "+48 732 129 005",
            CONF_API_URL: simulator.url,
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    # The webhook URL is shown again (issue 27: 5), the same as before.
    webhook_id = mock_config_entry.data[CONF_WEBHOOK_ID]
    shown = result.get("description_placeholders") or {}
    assert list(shown) == ["webhook_url"]
    assert shown["webhook_url"].endswith(f"/api/webhook/{webhook_id}")
    texts = await async_get_translations(hass, "en", "config", [DOMAIN])
    assert (
        "{webhook_url}"
        in texts[f"component.{DOMAIN}.config.abort.reconfigure_successful"]
    )
    await hass.async_block_till_done()
    assert mock_config_entry.unique_id == "48732129005"
    assert mock_config_entry.title == "+48 732 129 005"
    assert mock_config_entry.data[CONF_TOKEN] == "other"
    assert mock_config_entry.data[CONF_WEBHOOK_ID]  # kept


async def test_reconfigure_to_existing_sender(
    hass: HomeAssistant, simulator: Sim, mock_config_entry: MockConfigEntry
) -> None:
    simulator.state.tokens[TOKEN].senders.append("48732129005")
    mock_config_entry.add_to_hass(hass)
    MockConfigEntry(
        domain=DOMAIN, unique_id="48732129005", data=entry_data(simulator.url)
    ).add_to_hass(hass)
    result = await mock_config_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_TOKEN: TOKEN, CONF_SENDER: "48732129005", CONF_API_URL: simulator.url},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


SECTIONS = {
    "sending": [CONF_BULK, CONF_CONCURRENCY, CONF_ENCODING, CONF_DEFAULT_RECIPIENTS],
    "history": [
        CONF_ALLOWED_SOURCES,
        CONF_HISTORY_SIZE,
        CONF_HISTORY_DAYS,
        CONF_PANEL_EVERYONE,
    ],
    "spend_guard": [
        CONF_DAILY_LIMIT,
        CONF_DUPLICATE_WINDOW,
        CONF_MAX_PARTS,
        CONF_PRICE_PER_PART,
    ],
    "commands": [
        CONF_COMMAND_SENDERS,
        CONF_COMMAND_AGENT,
        CONF_COMMAND_PIN,
        CONF_COMMAND_AGENT,
        CONF_COMMAND_REPLY,
    ],
    "assist": [CONF_LLM_TOOLS],
}


def nest(options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Flat options as the options form's sections take them."""
    return {
        name: {key: options[key] for key in keys if key in options}
        for name, keys in SECTIONS.items()
    }


def suggested(schema: Any, key: str, section_name: str | None = None) -> Any:
    """The value a form shows in ``key`` (inside ``section_name``, if given)."""
    if section_name is not None:
        schema = schema.schema[section_name].schema
    [marker] = [marker for marker in schema.schema if marker == key]
    return (marker.description or {}).get("suggested_value")


async def test_options(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["type"] is FlowResultType.FORM
    # The webhook URL, for the admin to check in ACTIO's panel (issue 27: 5).
    webhook_id = init_integration.data[CONF_WEBHOOK_ID]
    shown = result.get("description_placeholders") or {}
    assert shown["webhook_url"].endswith(f"/api/webhook/{webhook_id}")
    options_texts = await async_get_translations(hass, "en", "options", [DOMAIN])
    assert (
        "{webhook_url}"
        in options_texts[f"component.{DOMAIN}.options.step.init.description"]
    )
    schema = result["data_schema"].schema
    # Sections, closed, as the setup form's Advanced.
    assert list(schema) == list(SECTIONS)
    assert all(schema[name].options == {"collapsed": True} for name in SECTIONS)
    assert CONF_BULK in schema["sending"].schema.schema
    options = {
        CONF_BULK: True,
        CONF_CONCURRENCY: 8.0,
        CONF_ENCODING: "gsm7",
        CONF_DEFAULT_RECIPIENTS: ["600 100 200", "bad"],
        CONF_ALLOWED_SOURCES: True,
        CONF_HISTORY_SIZE: 500.0,
        CONF_HISTORY_DAYS: 7.0,
        CONF_DAILY_LIMIT: 50.0,
        CONF_DUPLICATE_WINDOW: 0.0,
        CONF_MAX_PARTS: 4.0,
        CONF_PRICE_PER_PART: 0.09,
        CONF_LLM_TOOLS: True,
        CONF_PANEL_EVERYONE: True,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], nest(options)
    )
    assert result["type"] is FlowResultType.FORM
    # Above the section that holds the field, and that section opens.
    assert result["errors"] == {"sending": "invalid_numbers"}
    assert result["description_placeholders"]["numbers"] == "bad"
    assert result["data_schema"].schema["sending"].options == {"collapsed": False}
    assert result["data_schema"].schema["history"].options == {"collapsed": True}
    options[CONF_DEFAULT_RECIPIENTS] = ["600 100 200", "+48600100200", "600100201"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], nest(options)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    # Stored flat, with the keys of before.
    assert init_integration.options == {
        CONF_BULK: True,
        CONF_CONCURRENCY: 8,
        CONF_ENCODING: "gsm7",
        CONF_DEFAULT_RECIPIENTS: ["48600100200", "48600100201"],
        CONF_ALLOWED_SOURCES: True,
        CONF_HISTORY_SIZE: 500,
        CONF_HISTORY_DAYS: 7,
        CONF_DAILY_LIMIT: 50,
        CONF_DUPLICATE_WINDOW: 0,
        CONF_MAX_PARTS: 4,
        CONF_PRICE_PER_PART: 0.09,
        CONF_COMMAND_SENDERS: [],
        CONF_COMMAND_AGENT: "conversation.home_assistant",
        CONF_COMMAND_REPLY: True,
        CONF_LLM_TOOLS: True,
        CONF_PANEL_EVERYONE: True,
    }
    # The entry reloaded with the new options.
    settings = init_integration.runtime_data.settings
    assert settings.concurrency == 8
    assert (settings.daily_limit, settings.duplicate_window) == (50, 0)
    assert (settings.max_parts, settings.price_per_part) == (4, 0.09)
    assert (
        hass.states.get("notify.actio_sms_48732129000_default_recipients") is not None
    )


async def test_options_of_an_existing_entry_load_into_the_sections(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    """Flat options saved before the sections show in them; saving keeps them."""
    stored = {
        CONF_BULK: False,
        CONF_CONCURRENCY: 2,
        CONF_ENCODING: "ucs2",
        CONF_DEFAULT_RECIPIENTS: ["48600100200"],
        CONF_ALLOWED_SOURCES: True,
        CONF_HISTORY_SIZE: 300,
        CONF_HISTORY_DAYS: 14,
        CONF_DAILY_LIMIT: 20,
        CONF_DUPLICATE_WINDOW: 30,
        CONF_MAX_PARTS: 3,
        CONF_PRICE_PER_PART: 0.12,
        CONF_COMMAND_SENDERS: ["48600100201"],
        CONF_COMMAND_PIN: "4321",
        CONF_COMMAND_REPLY: False,
    }
    entry = await setup_entry(actio_entry(simulator.url, options=stored))
    result = await hass.config_entries.options.async_init(entry.entry_id)
    form = result["data_schema"]
    for name, keys in SECTIONS.items():
        for key in keys:
            assert suggested(form, key, name) == stored.get(key), key
    # No agent chosen reads as Home Assistant's own, not as "None".
    agent = next(
        m for m in form.schema["commands"].schema.schema if m == "command_agent"
    )
    assert isinstance(agent, vol.Required)
    assert agent.default() == "conversation.home_assistant"
    assert (
        next(
            m for m in form.schema["assist"].schema.schema if m == CONF_LLM_TOOLS
        ).default()
        is False
    )
    # What the frontend sends back for that form: every section, defaults filled.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], nest(stored)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == stored | {
        CONF_COMMAND_AGENT: "conversation.home_assistant",
        CONF_LLM_TOOLS: False,
        CONF_PANEL_EVERYONE: False,
    }


async def test_options_3cx_has_no_bulk(hass: HomeAssistant, simulator: Sim) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=SENDER,
        data=entry_data(simulator.url, TCX_TOKEN, "3cx"),
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert CONF_BULK not in result["data_schema"].schema["sending"].schema.schema
    assert result["description_placeholders"]["bulk_note"] == "3cx"


async def test_recipient_subentry(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await hass.config_entries.subentries.async_init(
        (init_integration.entry_id, SUBENTRY_RECIPIENT), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Mom", CONF_NUMBER: "60010020"}
    )
    assert result["errors"] == {CONF_NUMBER: "invalid_number"}
    changes = async_capture_events(hass, "state_changed")
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Mom", CONF_NUMBER: "+48 600 100 200"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    # No reload: the new entity appears, nothing else changes state.
    assert [e.data["entity_id"] for e in changes] == [
        "notify.actio_sms_48732129000_mom"
    ]
    # The dialog names the entity it made.
    assert result["description_placeholders"] == {
        "name": "Mom",
        "number": "+48 600 100 200",
        "entity_id": "notify.actio_sms_48732129000_mom",
    }
    [subentry] = init_integration.subentries.values()
    assert subentry.title == "Mom"
    assert subentry.data == {CONF_NUMBER: "48600100200"}
    assert subentry.unique_id == "48600100200"
    assert hass.states.get("notify.actio_sms_48732129000_mom") is not None

    # The same number again is refused.
    result = await hass.config_entries.subentries.async_init(
        (init_integration.entry_id, SUBENTRY_RECIPIENT), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Mother", CONF_NUMBER: "600100200"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_recipient_subentry_reconfigure(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    entry = actio_entry(simulator.url, recipients=FAMILY)
    await setup_entry(entry)
    mom = next(s for s in entry.subentries.values() if s.title == "Mom")
    result = await entry.start_subentry_reconfigure_flow(hass, mom.subentry_id)
    assert result["step_id"] == "reconfigure"
    assert suggested(result["data_schema"], CONF_NAME) == "Mom"
    assert suggested(result["data_schema"], CONF_NUMBER) == "+48 600 100 200"
    # Dad's number is taken.
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Mom", CONF_NUMBER: "600100201"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"

    result = await entry.start_subentry_reconfigure_flow(hass, mom.subentry_id)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Mum", CONF_NUMBER: "x"}
    )
    assert result["errors"] == {CONF_NUMBER: "invalid_number"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Mum", CONF_NUMBER: "600 100 202"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    mom = entry.subentries[mom.subentry_id]
    assert (mom.title, mom.data[CONF_NUMBER]) == ("Mum", "48600100202")


async def test_removing_a_recipient_removes_its_device(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    """Recipient devices come and go with their subentries (stale-devices)."""
    entry = await setup_entry(actio_entry(simulator.url, recipients=FAMILY))
    devices = dr.async_get(hass)
    assert len(dr.async_entries_for_config_entry(devices, entry.entry_id)) == 3
    mom = next(s for s in entry.subentries.values() if s.title == "Mom")
    assert hass.config_entries.async_remove_subentry(entry, mom.subentry_id)
    await hass.async_block_till_done()
    remaining = dr.async_entries_for_config_entry(devices, entry.entry_id)
    assert sorted(d.name for d in remaining) == [
        "ACTIO SMS +48 732 129 000",
        "Dad (+48 600 100 201)",
    ]
    assert er.async_get(hass).async_get("notify.actio_sms_48732129000_mom") is None
    assert hass.states.get("notify.actio_sms_48732129000_mom") is None


async def test_options_commands(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Command senders are normalised; a PIN too short or with spaces is refused."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    options = {
        **TYPICAL_OPTIONS,
        CONF_BULK: False,
        CONF_ALLOWED_SOURCES: False,
        CONF_COMMAND_SENDERS: ["+48 600 100 200", "bad"],
        CONF_COMMAND_PIN: "4321",
        CONF_COMMAND_REPLY: True,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], nest(options)
    )
    assert result["errors"] == {"commands": "invalid_numbers"}
    options[CONF_COMMAND_SENDERS] = ["+48 600 100 200"]
    for pin in ("123", "12 34"):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], nest(options | {CONF_COMMAND_PIN: pin})
        )
        assert result["errors"] == {"commands": "invalid_pin"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], nest(options)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    settings = init_integration.runtime_data.settings
    assert settings.command_senders == {"48600100200"}
    assert (settings.command_pin, settings.command_reply) == ("4321", True)
    # Home Assistant's own agent, picked by default.
    assert settings.command_agent == "conversation.home_assistant"


async def test_options_offer_recipients_by_name(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    """Number lists pick recipients by name and still take any typed number."""
    entry = await setup_entry(
        actio_entry(
            simulator.url,
            recipients=FAMILY,
            options={CONF_DEFAULT_RECIPIENTS: ["48600100299"]},
        )
    )
    result = await hass.config_entries.options.async_init(entry.entry_id)
    for name, field in (
        ("sending", CONF_DEFAULT_RECIPIENTS),
        ("commands", CONF_COMMAND_SENDERS),
    ):
        config = result["data_schema"].schema[name].schema.schema[field].config
        assert config["multiple"]
        assert config["custom_value"]
        assert config["options"] == [
            {"value": "48600100200", "label": "Mom (+48 600 100 200)"},
            {"value": "48600100201", "label": "Dad (+48 600 100 201)"},
            {"value": "48600100299", "label": "+48 600 100 299"},
        ]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        nest(
            {
                CONF_DEFAULT_RECIPIENTS: ["48600100201", "+48 600 100 202"],
                CONF_COMMAND_SENDERS: ["48600100200"],
                **TYPICAL_OPTIONS,
            }
        ),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_DEFAULT_RECIPIENTS] == ["48600100201", "48600100202"]
    assert entry.options[CONF_COMMAND_SENDERS] == ["48600100200"]


@pytest.mark.parametrize("dialect", ["v1", "live"])
async def test_a_refused_token_reads_the_same_in_both_dialects(
    hass: HomeAssistant, simulator: Sim, dialect: str
) -> None:
    """v1.0's 403 and the live API's 401 are one error: the token."""
    simulator.state.dialect = dialect
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator.url, token="wrong")
    )
    assert simulator.requests[-1]["status"] == {"v1": 403, "live": 401}[dialect]
    assert result["errors"] == {"base": "invalid_auth"}


async def test_max_parts_cannot_be_set_above_10(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """ACTIO's own limit is 10 parts: the form offers no more, and refuses 11."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    form = result["data_schema"]
    assert form is not None
    spend = form.schema["spend_guard"].schema.schema
    [marker] = [marker for marker in spend if marker == CONF_MAX_PARTS]
    assert spend[marker].config["max"] == 10
    options = {**TYPICAL_OPTIONS, CONF_MAX_PARTS: 11}
    with pytest.raises(vol.Invalid):
        await hass.config_entries.options.async_configure(
            result["flow_id"], nest(options)
        )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], nest(options | {CONF_MAX_PARTS: 10})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options[CONF_MAX_PARTS] == 10
