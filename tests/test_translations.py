"""Every string is translated in en and pl, and everything used has a string."""

from __future__ import annotations

import ast
import json
from pathlib import Path
import re
from typing import Any

import pytest
import yaml

from custom_components.actio_sms.outbox import ERROR_TRANSLATION_KEYS
from homeassistant.helpers import config_validation as cv

COMPONENT = Path(__file__).parent.parent / "custom_components/actio_sms"


def keys(data: Any, prefix: str = "") -> set[str]:
    if isinstance(data, dict):
        return {
            k for key, value in data.items() for k in keys(value, f"{prefix}{key}.")
        }
    return {prefix.rstrip(".")}


def placeholders(data: Any, prefix: str = "") -> dict[str, set[str]]:
    if isinstance(data, dict):
        result: dict[str, set[str]] = {}
        for key, value in data.items():
            result |= placeholders(value, f"{prefix}{key}.")
        return result
    return {prefix.rstrip("."): set(re.findall(r"\{(\w+)\}", data))}


STRINGS = json.loads((COMPONENT / "strings.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("language", ["en", "pl"])
def test_translation_complete(language: str) -> None:
    translation = json.loads(
        (COMPONENT / f"translations/{language}.json").read_text(encoding="utf-8")
    )
    assert keys(translation) == keys(STRINGS)
    assert placeholders(translation) == placeholders(STRINGS)
    assert all(value.strip() for value in _leaves(translation))


def _leaves(data: Any) -> list[str]:
    if isinstance(data, dict):
        return [leaf for value in data.values() for leaf in _leaves(value)]
    return [data]


def test_translation_keys_used_in_code_exist() -> None:
    used: set[str] = set()
    for path in COMPONENT.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "translation_key"
                and isinstance(node.value, ast.Constant)
            ):
                used.add(node.value.value)
    used |= {key for _, key in ERROR_TRANSLATION_KEYS}
    exceptions = set(STRINGS["exceptions"])
    issues = set(STRINGS["issues"])
    entity_keys = {k for platform in STRINGS["entity"].values() for k in platform}
    selectors = set(STRINGS["selector"])
    unknown = used - exceptions - issues - entity_keys - selectors
    assert not unknown
    # Every exception string is raised somewhere.
    assert exceptions <= used


def test_services_yaml_fields_translated() -> None:
    services = yaml.safe_load((COMPONENT / "services.yaml").read_text(encoding="utf-8"))
    for service, spec in services.items():
        assert set(spec["fields"]) == set(STRINGS["services"][service]["fields"])


ICONS = json.loads((COMPONENT / "icons.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("kind", "icon"), [("triggers", "trigger"), ("conditions", "condition")]
)
def test_triggers_and_conditions_yaml_translated(kind: str, icon: str) -> None:
    """Each trigger/condition and field has a name and description, and an icon."""
    described = yaml.safe_load((COMPONENT / f"{kind}.yaml").read_text(encoding="utf-8"))
    assert set(described) == set(STRINGS[kind]) == set(ICONS[kind])
    for name, spec in described.items():
        strings = STRINGS[kind][name]
        assert strings["name"]
        assert strings["description"]
        assert set(spec["fields"]) == set(strings["fields"])
        assert all(f["name"] and f["description"] for f in strings["fields"].values())
        assert ICONS[kind][name][icon].startswith("mdi:")
        for field in spec["fields"].values():
            select = field["selector"].get("select") or {}
            if key := select.get("translation_key"):
                assert set(select["options"]) == set(
                    STRINGS["selector"][key]["options"]
                )


# hassfest's own rules for translation values (script/hassfest/translations.py
# in home-assistant/core); it also runs for HACS's default-list submissions.
HASSFEST_RE_URL = re.compile(
    r"(((ftp|ftps|scp|http|https|mqtt|mqtts|socket|socks5):\/\/|www\.)"
    r"[a-z0-9]+([\-\.]{1}[a-z0-9]+)*\.[a-z]{2,5}(:[0-9]{1,5})?(\/.*)?)",
    re.IGNORECASE,
)
HASSFEST_RE_QUOTED_PLACEHOLDER = re.compile(r"'{\w+}'")
TRANSLATION_FILES = [
    COMPONENT / "strings.json",
    *sorted((COMPONENT / "translations").glob("*.json")),
]


def _items(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(data, dict):
        return [
            item
            for key, value in data.items()
            for item in _items(value, f"{prefix}{key}.")
        ]
    return [(prefix.rstrip("."), data)]


@pytest.mark.parametrize("path", TRANSLATION_FILES, ids=lambda path: path.name)
def test_hassfest_value_rules(path: Path) -> None:
    """No URL, HTML, quoted placeholder or stray spaces in any string."""
    data = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    for key, value in _items(data):
        if HASSFEST_RE_URL.search(value):
            problems.append(f"{key}: URL")
        if HASSFEST_RE_QUOTED_PLACEHOLDER.search(value):
            problems.append(f"{key}: quoted placeholder")
        if value != value.strip():
            problems.append(f"{key}: leading or trailing space")
        try:
            cv.string_with_no_html(value)
        except Exception:  # noqa: BLE001
            problems.append(f"{key}: HTML")
    assert problems == []


def test_hassfest_url_rule_bites() -> None:
    """The copied rule catches what hassfest refused on 0.1."""
    assert HASSFEST_RE_URL.search("the default is https://msg-api.actio.pl.")
    assert not HASSFEST_RE_URL.search("the default is {default_url}.")
