"""Summarise a mutmut run (mutants/*.meta): score per module, survivors listed."""

from __future__ import annotations

import argparse
from collections import Counter
import json
from pathlib import Path

# mutmut's exit codes (mutmut/stats.py): 1 and 3 kill, 0 survives, 5 and 33
# mean no test reached the mutant, 24/36/152/255 are timeouts (count as kills).
KILLED = {1, 3, 24, 36, 152, 255, -24}
SURVIVED = {0}
NO_TESTS = {5, 33}


def summarise(root: Path) -> dict[str, Counter[str]]:
    """Module path → counts of killed / survived / no tests / other."""
    result: dict[str, Counter[str]] = {}
    for meta in sorted(root.glob("mutants/**/*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        counts: Counter[str] = Counter()
        for code in codes.values():
            if code in KILLED:
                counts["killed"] += 1
            elif code in SURVIVED:
                counts["survived"] += 1
            elif code in NO_TESTS:
                counts["no_tests"] += 1
            else:
                counts["other"] += 1
        name = str(meta.relative_to(root / "mutants")).removesuffix(".meta")
        result[name] = counts
    return result


def survivors(root: Path) -> list[str]:
    """The mutant names that survived (see them with `mutmut show NAME`)."""
    names: list[str] = []
    for meta in sorted(root.glob("mutants/**/*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        names += [name for name, code in codes.items() if code in SURVIVED]
    return names


def main() -> None:
    """Print a markdown table (and the survivors with --survivors)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", nargs="?", default=".", type=Path)
    parser.add_argument("--survivors", action="store_true")
    args = parser.parse_args()
    print("| module | mutants | killed | survived | no test | score |")
    print("|---|---|---|---|---|---|")
    for module, counts in summarise(args.root).items():
        tested = counts["killed"] + counts["survived"]
        score = 100 * counts["killed"] / tested if tested else 0.0
        print(
            f"| `{Path(module).name}` | {counts.total()} | {counts['killed']} "
            f"| {counts['survived']} | {counts['no_tests']} | {score:.1f} % |"
        )
    if args.survivors:
        print()
        for name in survivors(args.root):
            print(name)


if __name__ == "__main__":
    main()
