"""Logbook lines: one per SMS and per report, with the recipient's name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.actio_sms.const import (
    DOMAIN,
    EVENT_DELIVERY_STATUS,
    EVENT_MESSAGE_RECEIVED,
    EVENT_MESSAGE_SENT,
)
from custom_components.actio_sms.logbook import async_describe_events
from homeassistant.core import Event, HomeAssistant

from .conftest import FAMILY, Sim, actio_entry, entry_data, numbers

Describers = dict[str, Callable[[Event], dict[str, Any]]]


def describers(hass: HomeAssistant) -> Describers:
    described: Describers = {}

    def register(
        domain: str, event_type: str, describe: Callable[[Event], dict[str, Any]]
    ) -> None:
        assert domain == DOMAIN
        described[event_type] = describe

    async_describe_events(hass, register)
    return described


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "SMS from Mom (+48 600 100 200): Jestem w domu",
                "SMS from +48 600 100 299: hi",
                "SMS to Dad (+48 600 100 201) delivered: Obiad!",
                "SMS to +48 600 100 299 not delivered: " + "x" * 79 + "…",
                "An SMS not in the history was not delivered (id def)",
                "An SMS not in the history was delivered (id ghi)",
                "SMS command from Mom (+48 600 100 200): status",
                "SMS to Mom (+48 600 100 200), +48 600 100 299: Obiad!",
                "SMS to 4 recipients: Obiad!",
            ],
        ),
        (
            "pl",
            [
                "SMS od Mom (+48 600 100 200): Jestem w domu",
                "SMS od +48 600 100 299: hi",
                "SMS do Dad (+48 600 100 201) dostarczony: Obiad!",
                "SMS do +48 600 100 299 niedostarczony: " + "x" * 79 + "…",
                "SMS spoza historii niedostarczony (id def)",
                "SMS spoza historii dostarczony (id ghi)",
                "Polecenie SMS od Mom (+48 600 100 200): status",
                "SMS do Mom (+48 600 100 200), +48 600 100 299: Obiad!",
                "SMS do 4 odbiorców: Obiad!",
            ],
        ),
    ],
)
async def test_logbook(
    hass: HomeAssistant, simulator: Sim, language: str, expected: list[str]
) -> None:
    entry = actio_entry(simulator.url, recipients=FAMILY)
    entry.add_to_hass(hass)
    hass.config.language = language
    described = describers(hass)
    # A command's line is its SMS's, marked as one: one line per SMS.
    assert set(described) == {
        EVENT_MESSAGE_RECEIVED,
        EVENT_DELIVERY_STATUS,
        EVENT_MESSAGE_SENT,
    }
    entry_id = {"config_entry_id": entry.entry_id}
    events = [
        Event(
            EVENT_MESSAGE_RECEIVED,
            entry_id | {"from": "48600100200", "body": "Jestem  w domu"},
        ),
        Event(EVENT_MESSAGE_RECEIVED, entry_id | {"from": "48600100299", "body": "hi"}),
        Event(
            EVENT_DELIVERY_STATUS,
            entry_id
            | {
                "message_id": "abc",
                "status": "delivered",
                "recipient": "48600100201",
                "body": "Obiad!",
            },
        ),
        Event(
            EVENT_DELIVERY_STATUS,
            entry_id
            | {
                "message_id": "xyz",
                "status": "error",
                "recipient": "48600100299",
                "body": "x" * 200,
            },
        ),
        Event(
            EVENT_DELIVERY_STATUS, entry_id | {"message_id": "def", "status": "error"}
        ),
        Event(
            EVENT_DELIVERY_STATUS,
            entry_id | {"message_id": "ghi", "status": "delivered"},
        ),
        Event(
            EVENT_MESSAGE_RECEIVED,
            entry_id | {"from": "48600100200", "body": "status", "command": True},
        ),
        Event(
            EVENT_MESSAGE_SENT,
            entry_id
            | {
                "messages": [
                    {"recipient": n, "message_id": "m", "parts": 1}
                    for n in ("48600100200", "48600100299")
                ],
                "body": "Obiad!",
            },
        ),
        Event(
            EVENT_MESSAGE_SENT,
            entry_id
            | {
                "messages": [
                    {"recipient": n, "message_id": "m", "parts": 1} for n in numbers(4)
                ],
                "body": "Obiad!",
            },
        ),
    ]
    rows = [described[event.event_type](event) for event in events]
    assert [r["message"] for r in rows] == expected
    assert {r["name"] for r in rows} == {"ACTIO"}
    assert [r["icon"] for r in rows] == [
        "mdi:message-arrow-left",
        "mdi:message-arrow-left",
        "mdi:message-check",
        "mdi:message-alert",
        "mdi:message-alert",
        "mdi:message-check",
        "mdi:message-cog",
        "mdi:message-arrow-right",
        "mdi:message-arrow-right",
    ]


async def test_lines_name_the_entry_when_there_are_several(
    hass: HomeAssistant, simulator: Sim
) -> None:
    """With two virtual numbers a line says which: its title, or ACTIO + number."""
    first = actio_entry(simulator.url)  # titled with its digits, as 0.1 made it
    first.add_to_hass(hass)
    described = describers(hass)
    received = described[EVENT_MESSAGE_RECEIVED]

    def line_of(entry_id: str) -> dict[str, Any]:
        return received(
            Event(
                EVENT_MESSAGE_RECEIVED,
                {"config_entry_id": entry_id, "from": "48600100200", "body": "hi"},
            )
        )

    # One entry: "ACTIO" says it all.
    assert line_of(first.entry_id)["name"] == "ACTIO"
    second = MockConfigEntry(
        domain=DOMAIN,
        unique_id="48732129005",
        title="Domek",  # renamed by its user
        data=entry_data(simulator.url) | {"sender": "48732129005"},
    )
    second.add_to_hass(hass)
    third = MockConfigEntry(
        domain=DOMAIN,
        unique_id="48732129006",
        title="+48 732 129 006",  # as the config flow titles an entry
        data=entry_data(simulator.url) | {"sender": "48732129006"},
    )
    third.add_to_hass(hass)
    assert line_of(first.entry_id)["name"] == "ACTIO +48 732 129 000"
    assert line_of(second.entry_id)["name"] == "Domek"
    assert line_of(third.entry_id)["name"] == "ACTIO +48 732 129 006"
    # The text itself is unchanged.
    assert line_of(second.entry_id)["message"] == "SMS from +48 600 100 200: hi"
    # An entry removed since: its old lines still read.
    assert line_of("gone")["name"] == "ACTIO"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                (
                    "SMS to Dad (+48 600 100 201) not delivered (absent subscriber): Obiad!",
                    "mdi:message-alert",
                ),
                (
                    "SMS to Dad (+48 600 100 201) expired undelivered: Obiad!",
                    "mdi:message-alert-outline",
                ),
                (
                    "SMS to Dad (+48 600 100 201) refused by the network: Obiad!",
                    "mdi:message-alert",
                ),
                (
                    (
                        "SMS to Dad (+48 600 100 201) unconfirmed (ACTIO's answer was "
                        "lost; it may have gone out): Obiad!"
                    ),
                    "mdi:message-question",
                ),
            ],
        ),
        (
            "pl",
            [
                (
                    "SMS do Dad (+48 600 100 201) niedostarczony (absent subscriber): Obiad!",
                    "mdi:message-alert",
                ),
                (
                    "SMS do Dad (+48 600 100 201) wygasł niedostarczony: Obiad!",
                    "mdi:message-alert-outline",
                ),
                (
                    "SMS do Dad (+48 600 100 201) odrzucony przez sieć: Obiad!",
                    "mdi:message-alert",
                ),
                (
                    (
                        "SMS do Dad (+48 600 100 201) niepotwierdzony (odpowiedź ACTIO "
                        "zaginęła; mógł zostać wysłany): Obiad!"
                    ),
                    "mdi:message-question",
                ),
            ],
        ),
    ],
)
async def test_every_outcome_but_delivered_has_its_own_line(
    hass: HomeAssistant,
    simulator: Sim,
    language: str,
    expected: list[tuple[str, str]],
) -> None:
    """One status vocabulary, in Activity too: each outcome says what happened."""
    entry = actio_entry(simulator.url, recipients=FAMILY)
    entry.add_to_hass(hass)
    hass.config.language = language
    describe = describers(hass)[EVENT_DELIVERY_STATUS]
    rows = [
        describe(
            Event(
                EVENT_DELIVERY_STATUS,
                {
                    "config_entry_id": entry.entry_id,
                    "message_id": None if status == "unconfirmed" else "m1",
                    "status": status,
                    "recipient": "48600100201",
                    "body": "Obiad!",
                    "reason": "absent subscriber" if status == "failed" else None,
                },
            )
        )
        for status in ("failed", "expired", "bounced", "unconfirmed")
    ]
    assert [(r["message"], r["icon"]) for r in rows] == expected
