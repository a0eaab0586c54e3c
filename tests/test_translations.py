"""Every string is translated in en and pl, and everything used has a string."""

from __future__ import annotations

import ast
import json
from pathlib import Path
import re
from typing import Any

import pytest
import yaml

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
