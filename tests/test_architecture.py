"""The package's shape: imports flow one way, and the wire knows nothing of HA."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "custom_components" / "actio_sms"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__") or "__init__"


def _package_of(module: str, path: Path) -> list[str]:
    """The package a relative import in ``path`` starts from."""
    parts = module.split(".") if module != "__init__" else []
    return parts if path.name == "__init__.py" else parts[:-1]


def imports_of(path: Path, module: str | None = None) -> tuple[set[str], set[str]]:
    """Modules of this package imported by ``path``, and absolute top-level ones.

    Every import counts, those behind ``TYPE_CHECKING`` and inside functions too.
    """
    module = module or _module_name(path)
    base = _package_of(module, path)
    internal: set[str] = set()
    external: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            external.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                external.add((node.module or "").split(".")[0])
                continue
            anchor = base[: len(base) - (node.level - 1)] if node.level > 1 else base
            target = [*anchor, *((node.module or "").split(".") if node.module else [])]
            if node.module is None:
                # "from . import x": each name may be a module.
                for alias in node.names:
                    internal.add(".".join([*anchor, alias.name]))
            else:
                internal.add(".".join(target) or "__init__")
    known = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    return {m for m in internal if m in known and m != module}, external


def graph() -> dict[str, set[str]]:
    """Module → the modules of this package it imports."""
    return {_module_name(p): imports_of(p)[0] for p in PACKAGE.rglob("*.py")}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle() -> None:
    """Data flows downwards: no module imports one that imports it back."""
    assert find_cycle(graph()) is None


def test_the_cycle_finder_finds_cycles() -> None:
    """The check above would see a cycle (TYPE_CHECKING ones included)."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    edges = graph()
    edges["actio.models"] = {*edges["actio.models"], "data"}
    assert find_cycle(edges) is not None


@pytest.mark.parametrize("path", sorted((PACKAGE / "actio").rglob("*.py")), ids=str)
def test_wire_imports_nothing_from_home_assistant(path: Path) -> None:
    """``actio/`` can be lifted into a library of its own unchanged."""
    internal, external = imports_of(path)
    assert not {"homeassistant", "custom_components"} & external
    assert all(module.startswith("actio") for module in internal), internal


def test_the_import_reader_sees_type_checking_imports(tmp_path: Path) -> None:
    """An HA import behind TYPE_CHECKING or in a function still counts."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from homeassistant.core import HomeAssistant\n"
        "def f():\n    from ..data import ActioRuntime\n"
    )
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    internal, external = imports_of(path, "actio.probe")
    assert "homeassistant" in external
    assert "data" in internal
