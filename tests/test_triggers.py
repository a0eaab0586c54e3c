"""Integration triggers, the condition, Assist's LLM tools and the blueprints.

Everything is driven as a user has it: automations set up from YAML, real
webhook posts (ACTIO's v1.0 payloads and the Telnyx-style envelope), real
sends to the simulator over HTTP.
"""

from __future__ import annotations

from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
)

from custom_components.actio_sms.const import (
    CONF_COMMAND_PIN,
    CONF_COMMAND_SENDERS,
    CONF_DAILY_LIMIT,
    CONF_DEFAULT_RECIPIENTS,
    CONF_MAX_PARTS,
    DOMAIN,
    EVENT_DELIVERY_STATUS,
)
from custom_components.actio_sms.llm import Recipient, SendSmsTool
from custom_components.actio_sms.phone import mask_number
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Context, HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr, llm
from homeassistant.setup import async_setup_component

from .conftest import FAMILY, SENDER, WEBHOOK_ID, Setup, Sim, actio_entry, send, sms

URL = f"/api/webhook/{WEBHOOK_ID}"
MOM, DAD = FAMILY["Mom"], FAMILY["Dad"]
STRANGER = "48600100299"
RECEIVED = "actio_sms.message_received"
DELIVERY = "actio_sms.delivery_status"
BLUEPRINTS = Path(__file__).parent.parent / "blueprints" / "automation" / "actio_sms"


# --- helpers ---------------------------------------------------------------


def rule(
    alias: str,
    trigger: dict[str, Any],
    conditions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An automation that records its trigger variables (test.record)."""
    return {
        "id": alias,
        "alias": alias,
        "triggers": [trigger],
        "conditions": conditions or [],
        "actions": [
            {
                "action": "test.record",
                "data": {"automation": alias, "trigger": "{{ trigger }}"},
            }
        ],
    }


async def automate(hass: HomeAssistant, *rules: dict[str, Any]) -> list[ServiceCall]:
    """Set the automations up; return the calls they will make."""
    calls = async_mock_service(hass, "test", "record")
    assert await async_setup_component(hass, "automation", {"automation": list(rules)})
    await hass.async_block_till_done()
    return calls


def fired(calls: list[ServiceCall], alias: str) -> list[dict[str, Any]]:
    """The trigger variables of each run of ``alias``."""
    return [dict(c.data["trigger"]) for c in calls if c.data["automation"] == alias]


async def post(client: Any, hass: HomeAssistant, payload: dict[str, Any]) -> None:
    """One webhook POST as ACTIO makes it; wait for what it sets off."""
    resp = await client.post(URL, json=payload)
    assert resp.status == 200
    await hass.async_block_till_done()


def report(message_id: str, status: str = "ERROR") -> dict[str, Any]:
    """A v1.0 delivery report."""
    return {"type": "NOTIFICATION", "message_id": message_id, "status": status}


def telnyx_sms(text: str, sender: str) -> dict[str, Any]:
    """An inbound SMS in the Telnyx-style envelope (the other dialect)."""
    return {
        "data": {
            "event_type": "message.received",
            "id": "b301ed3f-1490-491f-995f-6e64e69674d4",
            "payload": {
                "text": text,
                "from": {"phone_number": f"+{sender}"},
                "to": [{"phone_number": f"+{SENDER}"}],
                "received_at": "2026-11-27T11:00:00.000+01:00",
            },
        }
    }


class LazyClient:
    """A test client made at the first post: once made, no view can register."""

    def __init__(self, factory: Any) -> None:
        self._factory = factory
        self._client: Any = None

    async def post(self, url: str, json: dict[str, Any]) -> Any:
        if self._client is None:
            self._client = await self._factory()
        return await self._client.post(url, json=json)


@pytest.fixture
def client(hass_client_no_auth: Any) -> LazyClient:
    return LazyClient(hass_client_no_auth)


async def family_entry(
    setup_entry: Setup, simulator: Sim, **options: Any
) -> MockConfigEntry:
    return await setup_entry(
        actio_entry(simulator.url, recipients=FAMILY, options=options)
    )


# --- actio_sms.message_received ----------------------------------------------


async def test_received_variables_v1_and_envelope(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    client: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2026-11-27T10:15:00+00:00")
    entry = await family_entry(setup_entry, simulator)
    calls = await automate(hass, rule("any", {"trigger": RECEIVED}))

    await post(client, hass, sms("Zażółć gęślą jaźń 🎉", MOM))
    await post(client, hass, telnyx_sms("Hello", STRANGER))
    # The live API's inbound SMS (its format as the integration reads it).
    await post(
        client,
        hass,
        {"event": "sms.received", "from": f"+{DAD}", "to": SENDER, "text": "Hej"},
    )

    assert fired(calls, "any") == [
        {
            "id": "0",
            "idx": "0",
            "alias": None,
            "platform": RECEIVED,
            "description": "SMS from Mom",
            "from": MOM,
            "to": SENDER,
            "body": "Zażółć gęślą jaźń 🎉",
            "received_at": "2026-11-27T10:15:00.000+00:00",
            "config_entry_id": entry.entry_id,
            "name": "Mom",
            "from_label": "Mom",
        },
        {
            "id": "0",
            "idx": "0",
            "alias": None,
            "platform": RECEIVED,
            # The number as people write it, for titles and messages.
            "description": "SMS from +48 600 100 299",
            "from": STRANGER,
            "to": SENDER,
            "body": "Hello",
            "received_at": "2026-11-27T10:00:00.000+00:00",  # 11:00 at +01:00
            "config_entry_id": entry.entry_id,
            "name": None,
            "from_label": "+48 600 100 299",
        },
        {
            "id": "0",
            "idx": "0",
            "alias": None,
            "platform": RECEIVED,
            "description": "SMS from Dad",
            "from": DAD,
            "to": SENDER,
            "body": "Hej",
            "received_at": "2026-11-27T10:15:00.000+00:00",
            "config_entry_id": entry.entry_id,
            "name": "Dad",
            "from_label": "Dad",
        },
    ]


async def test_from_in_any_spelling_and_picked_recipients(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, client: Any
) -> None:
    entry = await family_entry(setup_entry, simulator)
    dad_device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_recipient_dad"), entry.entry_id
    )
    assert dad_device is not None
    calls = await automate(
        hass,
        rule("plus", {"trigger": RECEIVED, "options": {"from": ["+48 600 100 200"]}}),
        rule("national", {"trigger": RECEIVED, "options": {"from": "600100200"}}),
        rule("zeros", {"trigger": RECEIVED, "options": {"from": ["0048600100200"]}}),
        rule(
            "picked", {"trigger": RECEIVED, "options": {"recipients": [dad_device.id]}}
        ),
        rule(
            "either",
            {
                "trigger": RECEIVED,
                "options": {"from": ["600 100 299"], "recipients": [dad_device.id]},
            },
        ),
        rule("bank", {"trigger": RECEIVED, "options": {"from": ["actio bank"]}}),
        rule("gone", {"trigger": RECEIVED, "options": {"recipients": ["removed"]}}),
        rule("empty", {"trigger": RECEIVED, "options": {"from": [], "contains": ""}}),
    )

    await post(client, hass, sms("one", MOM))
    await post(client, hass, sms("two", DAD))
    await post(client, hass, sms("three", STRANGER))
    await post(client, hass, sms("four", "ACTIO Bank"))

    bodies = {
        alias: [t["body"] for t in fired(calls, alias)]
        for alias in (
            "plus",
            "national",
            "zeros",
            "picked",
            "either",
            "bank",
            "gone",
            "empty",
        )
    }
    assert bodies == {
        "plus": ["one"],
        "national": ["one"],
        "zeros": ["one"],
        "picked": ["two"],
        "either": ["two", "three"],
        "bank": ["four"],
        "gone": [],  # a recipient removed since: nobody
        "empty": ["one", "two", "three", "four"],
    }
    assert [t["name"] for t in fired(calls, "picked")] == ["Dad"]


async def test_invalid_number_makes_the_automation_unavailable(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    await family_entry(setup_entry, simulator)
    await automate(
        hass,
        rule("bad", {"trigger": RECEIVED, "options": {"from": ["12"]}}),
        rule("bad_status", {"trigger": DELIVERY, "options": {"status": ["read"]}}),
        rule("bad_recipient", {"trigger": DELIVERY, "options": {"recipient": "x1"}}),
    )
    for alias in ("bad", "bad_status", "bad_recipient"):
        assert hass.states.get(f"automation.{alias}").state == "unavailable"


async def test_contains_ignores_letter_case(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, client: Any
) -> None:
    await family_entry(setup_entry, simulator)
    calls = await automate(
        hass,
        rule("alarm", {"trigger": RECEIVED, "options": {"contains": "ALARM"}}),
        rule("turtle", {"trigger": RECEIVED, "options": {"contains": "żółw"}}),
    )
    await post(client, hass, sms("Alarm w garażu", MOM))
    await post(client, hass, sms("all quiet", MOM))
    await post(client, hass, sms("ŻÓŁW uciekł", MOM))

    assert [t["body"] for t in fired(calls, "alarm")] == ["Alarm w garażu"]
    assert [t["body"] for t in fired(calls, "turtle")] == ["ŻÓŁW uciekł"]


async def test_sms_command_never_triggers(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, client: Any
) -> None:
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    pin = "k7#Qz9"
    await family_entry(
        setup_entry, simulator, **{CONF_COMMAND_SENDERS: [MOM], CONF_COMMAND_PIN: pin}
    )
    calls = await automate(
        hass,
        rule("any", {"trigger": RECEIVED}),
        rule("mom", {"trigger": RECEIVED, "options": {"from": [MOM]}}),
    )
    await post(client, hass, sms(f"{pin} what time is it", MOM))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert calls == []

    await post(client, hass, sms("just saying hi", MOM))  # no PIN: an ordinary SMS
    assert [t["body"] for t in fired(calls, "any")] == ["just saying hi"]
    assert [t["body"] for t in fired(calls, "mom")] == ["just saying hi"]


async def test_entry_option_and_reload(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, client: Any
) -> None:
    entry = await family_entry(setup_entry, simulator)
    calls = await automate(
        hass,
        rule(
            "ours",
            {"trigger": RECEIVED, "options": {"config_entry_id": entry.entry_id}},
        ),
        rule("other", {"trigger": RECEIVED, "options": {"config_entry_id": "other"}}),
    )
    await post(client, hass, sms("before", MOM))
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    await post(client, hass, sms("after", MOM))

    assert [t["body"] for t in fired(calls, "ours")] == ["before", "after"]
    assert fired(calls, "other") == []


# --- actio_sms.delivery_status -----------------------------------------------


async def test_delivery_status_variables_once_per_report_and_after_reload(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, client: Any
) -> None:
    entry = await family_entry(setup_entry, simulator)
    calls = await automate(
        hass,
        rule("any", {"trigger": DELIVERY}),
        rule("failed", {"trigger": DELIVERY, "options": {"status": ["failed"]}}),
        rule("delivered", {"trigger": DELIVERY, "options": {"status": "delivered"}}),
        rule("dad", {"trigger": DELIVERY, "options": {"recipient": "600 100 201"}}),
    )
    response = await send(hass, [MOM], "Paczka czeka")
    [sent] = response["messages"]
    message_id = sent["message_id"]

    await post(client, hass, report(message_id, "ERROR"))
    await post(client, hass, report(message_id, "ERROR"))  # ACTIO said it twice

    [failure] = fired(calls, "any")
    assert failure == {
        "id": "0",
        "idx": "0",
        "alias": None,
        "platform": DELIVERY,
        "description": f"SMS {message_id} failed",
        "message_id": message_id,
        "status": "failed",  # v1.0 says ERROR; the trigger speaks the new words
        "recipient": MOM,
        "recipient_label": "Mom",
        "body": "Paczka czeka",
        "reason": None,
        "sent_at": failure["sent_at"],
        "config_entry_id": entry.entry_id,
    }
    assert failure["sent_at"].endswith("+00:00")
    assert len(fired(calls, "failed")) == 1

    # A retry that worked, reported after a reload of the entry.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await post(client, hass, report(message_id, "DELIVERED"))
    await post(client, hass, report(message_id, "DELIVERED"))

    assert [t["status"] for t in fired(calls, "any")] == ["failed", "delivered"]
    assert [t["message_id"] for t in fired(calls, "delivered")] == [message_id]
    assert fired(calls, "dad") == []

    [to_dad] = (await send(hass, ["+48 600 100 201"], "Hej"))["messages"]
    await post(client, hass, report(to_dad["message_id"], "DELIVERED"))
    assert [t["recipient"] for t in fired(calls, "dad")] == [DAD]


async def test_unknown_message_id_has_no_context(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, client: Any
) -> None:
    await family_entry(setup_entry, simulator)
    calls = await automate(hass, rule("any", {"trigger": DELIVERY}))
    await post(client, hass, report("a906cff7719bd889", "DELIVERED"))
    [only] = fired(calls, "any")
    assert (only["status"], only["recipient"], only["body"]) == (
        "delivered",
        None,
        None,
    )


async def test_status_filter_on_every_outcome(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    """Outcomes the v1.0 webhook cannot express yet, as the hub fires them."""
    entry = await family_entry(setup_entry, simulator)
    calls = await automate(
        hass,
        rule(
            "not_delivered",
            {
                "trigger": DELIVERY,
                "options": {"status": ["failed", "expired", "bounced", "unconfirmed"]},
            },
        ),
        rule("bounced", {"trigger": DELIVERY, "options": {"status": ["bounced"]}}),
    )
    for status in ("delivered", "failed", "expired", "bounced", "unconfirmed", "error"):
        hass.bus.async_fire(
            EVENT_DELIVERY_STATUS,
            {
                "config_entry_id": entry.entry_id,
                "message_id": f"id-{status}",
                "status": status,
                "reason": "absent subscriber" if status == "bounced" else None,
            },
        )
    await hass.async_block_till_done()

    assert [t["status"] for t in fired(calls, "not_delivered")] == [
        "failed",
        "expired",
        "bounced",
        "unconfirmed",
        "failed",
    ]
    [bounced] = fired(calls, "bounced")
    assert bounced["reason"] == "absent subscriber"


async def test_delivery_status_from_live_api_webhooks(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, client: LazyClient
) -> None:
    """The live API's ``event`` reports, through the webhook, with ACTIO's reason."""
    simulator.state.dialect = "live"
    await family_entry(setup_entry, simulator)
    calls = await automate(
        hass,
        rule(
            "not_delivered",
            {
                "trigger": DELIVERY,
                "options": {"status": ["failed", "expired", "bounced"]},
            },
        ),
    )
    response = await hass.services.async_call(
        DOMAIN,
        "send_message",
        {"message": "Obiad", "recipients": [FAMILY["Mom"], FAMILY["Dad"]]},
        blocking=True,
        return_response=True,
    )
    mom, dad = response["messages"]
    await post(
        client,
        hass,
        {"event": "sms.bounced", "message_id": mom["message_id"], "reason": "blocked"},
    )
    await post(
        client,
        hass,
        {"event": "sms.delivered", "message_id": dad["message_id"], "segments": 1},
    )
    [run] = fired(calls, "not_delivered")
    assert (run["message_id"], run["status"], run["recipient"], run["body"]) == (
        mom["message_id"],
        "bounced",
        FAMILY["Mom"],
        "Obiad",
    )
    assert run["reason"] == "blocked"


# --- actio_sms.sent_today_below ----------------------------------------------


async def test_sent_today_below_truth_table(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = await family_entry(setup_entry, simulator)
    below = {"condition": "actio_sms.sent_today_below", "options": {"parts": 3}}
    calls = await automate(
        hass,
        rule("all", {"trigger": "event", "event_type": "go"}, [below]),
        rule(
            "entry",
            {"trigger": "event", "event_type": "go"},
            [{**below, "options": {"parts": 3, "config_entry_id": entry.entry_id}}],
        ),
    )

    async def passes() -> list[str]:
        calls.clear()
        hass.bus.async_fire("go")
        await hass.async_block_till_done()
        return sorted(c.data["automation"] for c in calls)

    assert await passes() == ["all", "entry"]  # 0 parts
    await send(hass, [MOM], "a")
    await send(hass, [DAD], "b")
    assert await passes() == ["all", "entry"]  # 2 = N-1 parts
    await send(hass, [MOM], "c")
    assert await passes() == []  # 3 = N
    await send(hass, [DAD], "d")
    assert await passes() == []  # 4 = N+1

    # A two-part message counts two: 61 characters in UCS-2.
    assert (await send(hass, [MOM], "x" * 61))["messages"][0]["parts"] == 2

    await hass.config_entries.async_unload(entry.entry_id)
    assert await passes() == []
    assert "is not loaded" in caplog.text
    assert "no ACTIO SMS entry is loaded" in caplog.text


async def test_sent_today_below_for_an_unknown_entry(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await family_entry(setup_entry, simulator)
    calls = await automate(
        hass,
        rule(
            "unknown",
            {"trigger": "event", "event_type": "go"},
            [
                {
                    "condition": "actio_sms.sent_today_below",
                    "options": {"parts": 5, "config_entry_id": "no_such_entry"},
                }
            ],
        ),
    )
    hass.bus.async_fire("go")
    await hass.async_block_till_done()
    assert calls == []
    assert "no ACTIO SMS entry no_such_entry" in caplog.text


async def test_sent_today_below_passes_again_tomorrow(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2026-11-27T12:00:00+00:00")
    await family_entry(setup_entry, simulator)
    calls = await automate(
        hass,
        rule(
            "below",
            {"trigger": "event", "event_type": "go"},
            [{"condition": "actio_sms.sent_today_below", "options": {"parts": 1}}],
        ),
    )
    await send(hass, [MOM], "a")
    hass.bus.async_fire("go")
    await hass.async_block_till_done()
    assert calls == []
    freezer.move_to("2026-11-28T12:00:00+00:00")
    hass.bus.async_fire("go")
    await hass.async_block_till_done()
    assert len(calls) == 1


# --- LLM tools ---------------------------------------------------------------


LLM_CONTEXT = llm.LLMContext(
    platform="test",
    context=Context(),
    language="en",
    assistant="conversation",
    device_id=None,
)


async def assist(hass: HomeAssistant) -> Any:
    assert await async_setup_component(hass, "llm", {})
    return await llm.async_get_api(hass, llm.LLM_API_ASSIST, LLM_CONTEXT)


async def call(api: Any, name: str, **args: Any) -> tuple[dict[str, Any], bool]:
    """A tool's answer and whether it is an error (ToolResult from 2026.10)."""
    result = await api.async_call_tool(llm.ToolInput(name, args))
    if hasattr(result, "data"):
        return dict(result.data), bool(result.error)
    return dict(result), "error" in result  # Home Assistant 2026.9


def ours(api: Any) -> dict[str, Any]:
    return {t.name: t for t in api.tools if t.name.startswith("actio_sms__")}


async def test_llm_tools_off_by_default(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    await family_entry(setup_entry, simulator)
    assert ours(await assist(hass)) == {}


async def test_llm_send_only_to_configured_recipients(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    await family_entry(setup_entry, simulator, llm_tools=True)
    api = await assist(hass)
    tools = ours(api)
    assert set(tools) == {"actio_sms__send_sms", "actio_sms__read_messages"}
    send_tool = tools["actio_sms__send_sms"]
    if hasattr(send_tool, "annotations"):  # 2026.10 declares how a tool behaves
        assert send_tool.annotations.destructive
        assert not send_tool.annotations.idempotent
        assert not send_tool.annotations.read_only
        assert tools["actio_sms__read_messages"].annotations.read_only

    answer, error = await call(
        api, "actio_sms__send_sms", recipient="mom", message="Hej"
    )
    assert (answer, error) == ({"success": True, "recipient": "Mom", "parts": 1}, False)
    assert [(m.recipient, m.body) for m in simulator.outbox] == [(MOM, "Hej")]

    refusals = [
        await call(api, "actio_sms__send_sms", recipient="Grandma", message="Hej"),
        await call(
            api, "actio_sms__send_sms", recipient="+48 600 100 299", message="Hej"
        ),
        await call(api, "actio_sms__send_sms", recipient="Dad", message="  "),
        await call(api, "actio_sms__send_sms", message="Hej"),
        await call(api, "actio_sms__send_sms", recipient=["Dad"], message="Hej"),
    ]
    assert all(error for _, error in refusals)
    assert refusals[0][0] == {
        "error": "Grandma is not a configured SMS recipient; only these are: "
        "Dad, Mom. Recipients are added in the ACTIO SMS integration."
    }
    assert "no text" in refusals[2][0]["error"]
    assert len(simulator.outbox) == 1  # nothing more went out

    # The same text again within the duplicate window: skipped, said so.
    answer, error = await call(
        api, "actio_sms__send_sms", recipient="Mom", message="Hej"
    )
    assert error
    assert "moment ago" in answer["error"]
    assert len(simulator.outbox) == 1


async def test_llm_send_respects_the_daily_limit(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    await family_entry(setup_entry, simulator, llm_tools=True, **{CONF_DAILY_LIMIT: 2})
    api = await assist(hass)
    assert (await call(api, "actio_sms__send_sms", recipient="Mom", message="1"))[
        1
    ] is False
    assert (await call(api, "actio_sms__send_sms", recipient="Dad", message="2"))[
        1
    ] is False
    answer, error = await call(api, "actio_sms__send_sms", recipient="Mom", message="3")
    assert error
    assert answer["error"].startswith(
        "The SMS to Mom was not sent: the daily limit is 2 SMS parts"
    )
    assert "today's count is 2" in answer["error"]
    assert len(simulator.outbox) == 2


async def test_llm_send_respects_max_parts(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    await family_entry(setup_entry, simulator, llm_tools=True, **{CONF_MAX_PARTS: 1})
    api = await assist(hass)
    answer, error = await call(
        api, "actio_sms__send_sms", recipient="Mom", message="x" * 61
    )
    assert error
    assert answer["error"].startswith(
        "The SMS to Mom was not sent: the message is 2 SMS parts long "
        "and the limit is 1."
    )
    assert simulator.outbox == []


async def test_llm_read_is_bounded(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, client: Any
) -> None:
    await family_entry(setup_entry, simulator, llm_tools=True)
    for n in range(12):
        await post(client, hass, sms(f"SMS {n}", MOM))
    api = await assist(hass)

    answer, _ = await call(api, "actio_sms__read_messages")
    assert len(answer["messages"]) == 5  # the default
    for args in ({"limit": 50}, {"limit": 50, "recipient": "Mom"}):
        answer, error = await call(api, "actio_sms__read_messages", **args)
        assert not error
        assert len(answer["messages"]) == 10  # never more, whatever was asked


async def test_llm_read_masks_unknown_numbers(
    hass: HomeAssistant,
    simulator: Sim,
    setup_entry: Setup,
    client: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2026-11-27T10:15:00+00:00")
    await hass.config.async_set_time_zone("Europe/Warsaw")
    await family_entry(setup_entry, simulator, llm_tools=True)
    await post(client, hass, sms("Twój kod to 4711", STRANGER))
    await post(client, hass, sms("Hej " + "ą" * 200, MOM))
    await send(hass, [DAD], "Obiad o 18")
    await post(client, hass, sms("from the bank", "ACTIO Bank"))
    api = await assist(hass)

    answer, error = await call(api, "actio_sms__read_messages")
    assert not error
    assert answer == {
        "messages": [
            {
                "direction": "received",
                "from": "ACTIO Bank",
                "time": "2026-11-27T11:15+01:00",
                "text": "from the bank",
            },
            {
                "direction": "sent",
                "to": "Dad (+48 600 100 201)",
                "time": "2026-11-27T11:15+01:00",
                "text": "Obiad o 18",
                "status": "pending",
            },
            {
                "direction": "received",
                "from": "Mom (+48 600 100 200)",
                "time": "2026-11-27T11:15+01:00",
                "text": "Hej " + "ą" * 155 + "…",
            },
            {
                "direction": "received",
                "from": "+48 600 *** *99",
                "time": "2026-11-27T11:15+01:00",
                "text": "Twój kod to 4711",
            },
        ]
    }
    answer, _ = await call(api, "actio_sms__read_messages", recipient="MOM", limit=10)
    assert [m["from"] for m in answer["messages"]] == ["Mom (+48 600 100 200)"]
    answer, _ = await call(api, "actio_sms__read_messages", limit=2)
    assert len(answer["messages"]) == 2

    for bad in ({"limit": 0}, {"limit": "all"}, {"recipient": "Grandma"}):
        answer, error = await call(api, "actio_sms__read_messages", **bad)
        assert error
        assert answer["error"]


def test_mask_number() -> None:
    assert mask_number("48600100299") == "+48 600 *** *99"
    assert mask_number("447700900123") == "+44 770* ****23"
    assert mask_number("InPost") == "InPost"
    assert mask_number("999123456") == "+999****56"  # no country code known


def test_recipient_names_must_be_unambiguous_and_loaded() -> None:
    first, second = MockConfigEntry(domain=DOMAIN), MockConfigEntry(domain=DOMAIN)
    tool = SendSmsTool(
        [first, second],
        [Recipient(first, "Mom", MOM), Recipient(second, "mom", DAD)],
    )
    assert tool._find("MOM") == ("Several recipients are called MOM; rename one first.")
    tool = SendSmsTool([first], [Recipient(first, "Mom", MOM)])
    assert tool._find("Mom") == "The SMS gateway is not available right now."


async def test_llm_tools_without_recipients_read_only(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    await setup_entry(actio_entry(simulator.url, options={"llm_tools": True}))
    api = await assist(hass)
    assert set(ours(api)) == {"actio_sms__read_messages"}
    assert await call(api, "actio_sms__read_messages") == ({"messages": []}, False)


# --- blueprints --------------------------------------------------------------


FORWARD_TO = "48600100207"
DEFAULT_NOTIFY = "notify.actio_sms_48732129000_default_recipients"


async def use_blueprints(hass: HomeAssistant, *rules: dict[str, Any]) -> None:
    target = Path(hass.config.path("blueprints/automation/actio_sms"))

    def copy() -> None:
        target.mkdir(parents=True, exist_ok=True)
        for blueprint in BLUEPRINTS.glob("*.yaml"):
            shutil.copy(blueprint, target / blueprint.name)

    await hass.async_add_executor_job(copy)
    assert await async_setup_component(hass, "automation", {"automation": list(rules)})
    await hass.async_block_till_done()


async def test_blueprints_forward_and_resend_at_most_once(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup, client: Any
) -> None:
    await family_entry(
        setup_entry, simulator, **{CONF_DEFAULT_RECIPIENTS: [FORWARD_TO]}
    )
    await use_blueprints(
        hass,
        {
            "alias": "forward",
            "use_blueprint": {
                "path": "actio_sms/forward_sms.yaml",
                "input": {"notify_entity": DEFAULT_NOTIFY, "senders": ["600 100 208"]},
            },
        },
        {
            "alias": "failed",
            "use_blueprint": {
                "path": "actio_sms/delivery_failed.yaml",
                "input": {"notify_entity": DEFAULT_NOTIFY, "send_again": True},
            },
        },
    )
    assert hass.states.get("automation.forward").state == "on"
    assert hass.states.get("automation.failed").state == "on"

    def texts_to(number: str) -> list[str]:
        return [m.body for m in simulator.outbox if m.recipient == number]

    await post(client, hass, sms("Not this", "48600100209"))
    await post(client, hass, sms("Forward me", "48600100208"))
    await hass.async_block_till_done()
    assert texts_to(FORWARD_TO) == ["SMS from +48 600 100 208\nForward me"]

    [first] = (await send(hass, ["600100210"], "Paczka czeka"))["messages"]
    await post(client, hass, report(first["message_id"]))
    await hass.async_block_till_done()
    assert texts_to(FORWARD_TO)[1:] == [
        "SMS not delivered\nThe SMS to +48 600 100 210 was not delivered: Paczka czeka"
    ]
    assert texts_to("48600100210") == ["Paczka czeka", "Paczka czeka"]

    # The resend fails too: not sent a third time (the second note to
    # FORWARD_TO, the same text within a minute, is the guard's to skip).
    second = next(
        m.message_id
        for m in simulator.outbox
        if m.recipient == "48600100210" and m.message_id != first["message_id"]
    )
    await post(client, hass, report(second))
    await hass.async_block_till_done()
    assert texts_to("48600100210") == ["Paczka czeka", "Paczka czeka"]

    # Another day's SMS with the same text, after a resend that worked: resent.
    await post(client, hass, report(second, "DELIVERED"))
    [third] = (await send(hass, ["600100210"], "Paczka czeka"))["messages"]
    await post(client, hass, report(third["message_id"]))
    await hass.async_block_till_done()
    assert len(texts_to("48600100210")) == 4


async def test_the_not_delivered_blueprint_fires_on_every_outcome_but_delivered(
    hass: HomeAssistant, simulator: Sim, setup_entry: Setup
) -> None:
    """failed, expired, bounced and unconfirmed, whichever API reported them."""
    entry = await family_entry(
        setup_entry, simulator, **{CONF_DEFAULT_RECIPIENTS: [FORWARD_TO]}
    )
    await use_blueprints(
        hass,
        {
            "alias": "failed",
            "use_blueprint": {
                "path": "actio_sms/delivery_failed.yaml",
                "input": {"notify_entity": DEFAULT_NOTIFY},
            },
        },
    )
    for status in (
        "delivered",
        "pending",
        "failed",
        "expired",
        "bounced",
        "unconfirmed",
    ):
        hass.bus.async_fire(
            EVENT_DELIVERY_STATUS,
            {
                "config_entry_id": entry.entry_id,
                "message_id": None if status == "unconfirmed" else f"id-{status}",
                "status": status,
                "recipient": "48600100210",
                "body": f"SMS {status}",
            },
        )
        await hass.async_block_till_done()
    assert [m.body for m in simulator.outbox if m.recipient == FORWARD_TO] == [
        f"SMS not delivered\nThe SMS to +48 600 100 210 was not delivered: SMS {status}"
        for status in ("failed", "expired", "bounced", "unconfirmed")
    ]
