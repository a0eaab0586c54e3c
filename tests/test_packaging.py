"""What HACS and hassfest check that no runtime test would notice."""

from __future__ import annotations

import json
from pathlib import Path
import re

from devtools.mutation import GROUPS, REPORT, UNEXPLAINED, readme_table, rows_of_report

ROOT = Path(__file__).parent.parent
COMPONENT = ROOT / "custom_components/actio_sms"


def test_license_is_mit_and_named_in_the_readme() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text
    assert "[MIT](LICENSE)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_minimum_home_assistant_is_stated_once_and_tested() -> None:
    """hacs.json, the README and scripts/test-min-ha's pin agree."""
    minimum = json.loads((ROOT / "hacs.json").read_text())["homeassistant"]
    assert re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", minimum)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"Requires Home Assistant {minimum} or newer" in readme
    pins = (ROOT / "requirements_min_ha.txt").read_text(encoding="utf-8")
    assert f"pins homeassistant=={minimum}." in pins


def test_hacs_and_manifest_basics() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert hacs["name"] == "ACTIO SMS"
    manifest = json.loads((COMPONENT / "manifest.json").read_text())
    for key in ("domain", "name", "codeowners", "documentation", "issue_tracker"):
        assert manifest[key]
    assert manifest["domain"] == COMPONENT.name
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    # HACS's brand check: the integration ships its own icon.
    assert (COMPONENT / "brand/icon.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_readme_mutation_table_is_the_reports() -> None:
    """README's table carries benchmarks/mutation.md's numbers, every group in it,
    and the report leaves no survivor without a test or a reason."""
    report = REPORT.read_text(encoding="utf-8")
    rows = rows_of_report(report)
    assert {row.group for row in rows} == set(GROUPS)
    assert readme_table(rows) in (ROOT / "README.md").read_text(encoding="utf-8")
    assert UNEXPLAINED not in report
