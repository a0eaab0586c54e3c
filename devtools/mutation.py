"""scripts/mutation: mutmut, one module group at a time, each with its own tests.

mutmut runs, for every mutant, the tests of its selection that reached the
mutated function. With one selection for everything, a store mutant ran
every webhook and send test (about 10 mutants a minute); each group below
lists the tests that exercise its modules, so a group finishes in minutes.
Hypothesis's test_fuzz is left out: hundreds of examples per mutant, and
test_api's parse tables check exactly what it samples.
Every group runs in its own copy of the repository under `mutants-work/`,
with pyproject.toml's `[tool.mutmut]` narrowed to that group.
"""

from __future__ import annotations

import argparse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatch
from importlib.metadata import version
import json
import os
from pathlib import Path
import platform
import re
import shutil
import subprocess
import sys
import time
import tomllib

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "mutants-work"
REPORT = ROOT / "benchmarks" / "mutation.md"
PACKAGE = "custom_components/actio_sms/"
PACKAGE_MODULE = "custom_components.actio_sms."
VENV_BIN = ROOT / ".venv" / "bin"


@dataclass(frozen=True, slots=True)
class Group:
    """Modules mutated together and the tests that exercise them."""

    modules: tuple[str, ...]
    tests: tuple[str, ...]
    mutants: tuple[str, ...] = ()
    """Only the mutants these patterns name (fnmatch); default: every one."""


GROUPS: dict[str, Group] = {
    # The wire, in two halves (over 20 minutes together): what goes out and
    # its answers, and what ACTIO posts.
    "actio-client": Group(
        ("actio/client.py", "actio/errors.py", "actio/models.py"),
        # The client through every surface that sends (and the setup form's
        # token check); models' text rules through the store and numbers.
        (
            "test_api",
            "test_live_api",
            "test_send",
            "test_config_flow",
            "test_store",
            "test_phone",
        ),
    ),
    "actio-inbound": Group(
        ("actio/inbound.py",),
        ("test_api", "test_live_api", "test_webhook"),
    ),
    "phone": Group(("phone.py",), ("test_phone", "test_send")),
    # store.py is two halves (over 20 minutes together): the database side
    # (Database and the module's helpers) and the loop's side (MessageStore).
    "store-db": Group(
        ("store.py",),
        ("test_database", "test_store", "test_journal", "test_guarantees"),
        ("*.store.x_*", "*.store.xǁDatabaseǁ*"),
    ),
    # The loop's side in two, by method name (each under 20 minutes).
    **{
        f"store-queue-{half}": Group(
            ("store.py",),
            (
                "test_store",
                "test_journal",
                "test_guarantees",
                "test_history",
                "test_websocket",
            ),
            patterns,
        )
        for half, patterns in (
            (1, ("*.store.xǁMessageStoreǁ__*", "*.store.xǁMessageStoreǁ_[a-l]*")),
            (2, ("*.store.xǁMessageStoreǁ_[m-z]*", "*.store.xǁMessageStoreǁ[a-z]*")),
        )
    },
    "outbox": Group(
        ("outbox.py",),
        ("test_send", "test_guard", "test_live_api", "test_mutants"),
    ),
    "commands": Group(
        ("commands.py",), ("test_commands", "test_trust", "test_mutants")
    ),
    "webhook": Group(
        ("webhook.py", "inbox.py"),
        (
            "test_webhook",
            "test_receiving",
            "test_routing",
            "test_trust",
            "test_journal",
            "test_live_api",
            "test_mutants",
        ),
    ),
}

# mutmut's exit codes (mutmut/stats.py). A type-check catch is a kill: CI
# runs mypy --strict. A timeout is a kill too (the mutant hung the tests).
KILLED = {1, 3, 37, -11}  # -11: the tests crashed (SIGSEGV): they did not pass
TIMEOUT = {24, 36, 152, 255, -24}
SURVIVED = {0}
NO_TESTS = {5, 33}

# Survivors that no test can kill: the reason, and the mutants it explains.
# mutmut numbers mutants per function, so names move when code changes:
# rerun the group and check the list after editing a listed function.
_BY_REASON: dict[str, tuple[str, ...]] = {
    "`setdefault(key)` is `setdefault(key, None)`: the dict only keeps order": (
        "phone.x_normalize_numbers__mutmut_5",
    ),
    "every number of a chunk has the chunk's one key, so `keys[chunk[1]]` is `keys[chunk[0]]`": (
        "outbox.xǁSendBatchǁ_async_send_chunk__mutmut_17",
    ),
    "a missing number reads as no digits whatever the default's text (`''`, `None` and `'XXXX'` have none)": (
        "actio.client.xǁActioClientǁ_parse_multi__mutmut_25",
        "actio.client.xǁActioClientǁ_parse_multi__mutmut_27",
        "actio.client.xǁActioClientǁ_parse_multi__mutmut_30",
    ),
    "a missing day or month reads as no date whatever the default's text (`''`, `'None'`, `'XXXX'`): today's parts start from 0 all the same": (
        "store.xǁMessageStoreǁ_usage_of__mutmut_5",
        "store.xǁMessageStoreǁ_usage_of__mutmut_7",
        "store.xǁMessageStoreǁ_usage_of__mutmut_10",
        "store.xǁMessageStoreǁ_usage_of__mutmut_25",
        "store.xǁMessageStoreǁ_usage_of__mutmut_27",
        "store.xǁMessageStoreǁ_usage_of__mutmut_30",
    ),
    "the count only goes into an info log line": (
        "store.xǁMessageStoreǁ_migrate__mutmut_180",
        "store.xǁMessageStoreǁ_migrate__mutmut_182",
        "store.xǁMessageStoreǁ_migrate__mutmut_183",
        "store.xǁMessageStoreǁ_migrate__mutmut_184",
    ),
    "the migration writes into an empty database: the count before its rows is 0, so `=` and `+=` agree": (
        "store.xǁDatabaseǁinsert_legacy__mutmut_18",
    ),
    "the return value is not used": ("store.xǁDatabaseǁinsert_legacy__mutmut_20",),
    "the unary `+` only keeps SQLite from using the index on `sent`: the same rows either way": (
        "store.xǁDatabaseǁquery__mutmut_25",
        "store.xǁDatabaseǁquery__mutmut_26",
    ),
    "one result per write and per read, always: `strict` only guards that": (
        "store.xǁMessageStoreǁ_settle__mutmut_10",
        "store.xǁMessageStoreǁ_settle__mutmut_11",
        "store.xǁMessageStoreǁ_settle__mutmut_32",
        "store.xǁMessageStoreǁ_settle__mutmut_33",
    ),
    "an empty usage names no day or month: its parts are never read (today's and this month's read 0) and the first count resets them": (
        "store.x__empty_usage__mutmut_3",
        "store.x__empty_usage__mutmut_6",
        "store.x__empty_usage__mutmut_9",
        "store.x__empty_usage__mutmut_12",
    ),
    "every error SQLite raises carries `sqlite_errorcode`; a default of 1 (SQLITE_ERROR) is no damage code either": (
        "store.x__is_corrupt__mutmut_11",
    ),
    "0.2/0.3's store file is only read and removed, never written: `private` and `atomic_writes` only shape writes": (
        "store.x__legacy_store__mutmut_9",
        "store.x__legacy_store__mutmut_10",
        "store.x__legacy_store__mutmut_12",
        "store.x__legacy_store__mutmut_13",
    ),
    "the count only sets how many warning lines are logged": (
        "store.x__read_journal__mutmut_2",
        "store.x__read_journal__mutmut_6",
        "store.x__read_journal__mutmut_9",
        "store.x__read_journal__mutmut_11",
    ),
    "a missing journal read as an empty one: the move has nothing to move, and a database that has moved once (`legacy` in meta) never moves again": (
        "store.x__read_journal__mutmut_3",
    ),
    "the file was just listed by `glob`: it exists": (
        "store.x__remove_files__mutmut_6",
    ),
    "the error's text is never shown: the record is skipped whatever it says": (
        "store.x_row_of__mutmut_55",
        "store.x_row_of__mutmut_56",
        "store.x_row_of__mutmut_57",
        "store.xǁMessageStoreǁ_replay__mutmut_56",
        "store.xǁMessageStoreǁ_replay__mutmut_112",
        "store.xǁMessageStoreǁ_replay__mutmut_113",
        "store.xǁMessageStoreǁ_replay__mutmut_114",
        "store.xǁMessageStoreǁ_async_load__mutmut_44",
        "store.xǁMessageStoreǁ_async_load__mutmut_45",
        "store.xǁMessageStoreǁ_async_load__mutmut_46",
    ),
    "an unknown journal entry is skipped either way (raising only adds a warning line)": (
        "store.xǁMessageStoreǁ_replay__mutmut_5",
    ),
    "every write is inside an explicit BEGIN IMMEDIATE ... COMMIT: Python's implicit transactions never start one": (
        "store.xǁDatabaseǁ_connect__mutmut_20",
    ),
    "ids start at 1: a bound of 0 or 1 both mean nothing was pruned (`id < bound` is false for every row)": (
        "store.xǁDatabaseǁ_read__mutmut_80",
        "store.xǁDatabaseǁ_read__mutmut_96",
    ),
    "a bound equal to the lowest id deletes nothing; `pruned_below` then rises only to that lowest id, below which no row is left": (
        "store.xǁDatabaseǁ_retain__mutmut_39",
    ),
    "the `rows` line copied over is rewritten by `_write_rows` in the same transaction (its count is now 0), or already held that value": (
        "store.xǁDatabaseǁ_set_aside__mutmut_42",
        "store.xǁDatabaseǁ_set_aside__mutmut_43",
    ),
    "the `rows` line rewritten at every commit instead of only when it changed: the same value": (
        "store.xǁDatabaseǁ_write_rows__mutmut_5",
        "store.xǁDatabaseǁ_write_rows__mutmut_6",
        "store.xǁDatabaseǁ_write_rows__mutmut_15",
        "store.xǁDatabaseǁ_write_rows__mutmut_16",
    ),
    "savepoints from the first attempt: the same changes commit, only slower": (
        "store.xǁDatabaseǁ_write__mutmut_2",
    ),
    "a fourth attempt is never reached: by the third the batch is isolated (no record can fail it) and damage was set aside once": (
        "store.xǁDatabaseǁ_write__mutmut_4",
    ),
    "when `last_id` equals the floor its row is visible and the newest: the query finds that same row": (
        "store.xǁDatabaseǁconversations__mutmut_81",
    ),
    "one row more is fetched than needed: the page and its cursor are cut from the same first rows": (
        "store.xǁDatabaseǁmessages__mutmut_20",
    ),
    "the `legacy` line's presence stops a second move; its value is never read (only the move writes it)": (
        "store.xǁMessageStoreǁ_apply__mutmut_40",
        "store.xǁMessageStoreǁ_apply__mutmut_42",
        "store.xǁMessageStoreǁ_apply__mutmut_43",
        "store.xǁMessageStoreǁ_migrate__mutmut_185",
    ),
    "the list is filtered again where it is read (`message_id is None and status is UNCONFIRMED`)": (
        "store.xǁMessageStoreǁ_apply__mutmut_49",
    ),
    "an empty patch: the row's extra becomes `{}`, read back as no extra keys": (
        "store.xǁMessageStoreǁ_apply_delivery__mutmut_27",
    ),
    "an intent is written before its send: its outcomes carry no id": (
        "store.xǁMessageStoreǁ_async_load__mutmut_32",
    ),
    "`row_of` ignores `unread` for a sent record: a sent SMS is never unread": (
        "store.xǁMessageStoreǁ_add_sent__mutmut_50",
    ),
    "the text of the error a write queued during a close gets: its caller answers by the type (503), the text is only logged": (
        "store.xǁMessageStoreǁ_async_shut__mutmut_13",
        "store.xǁMessageStoreǁ_async_shut__mutmut_14",
        "store.xǁMessageStoreǁ_async_shut__mutmut_15",
    ),
    "at exactly the window's length `del unconfirmed[:-WINDOW]` deletes nothing": (
        "store.xǁMessageStoreǁ_trim_sent__mutmut_11",
    ),
    "a no-op waits for the queue the same as a read or as a write": (
        "store.xǁMessageStoreǁ_async_load__mutmut_68",
        "store.xǁMessageStoreǁasync_flush__mutmut_11",
    ),
    "`_check` is only set together with `_retain` (at a load), which starts the job on its own": (
        "store.xǁMessageStoreǁ_async_work__mutmut_2",
    ),
    "age retention at every job instead of hourly: the same rows go, only sooner": (
        "store.xǁMessageStoreǁ_async_work__mutmut_14",
    ),
    "a failed job's result leaves `pruned_below` as it was (`max` with the kept value)": (
        "store.xǁMessageStoreǁ_async_work__mutmut_61",
    ),
    "a second record beyond a size of 1 is hidden at once (the floor) and deleted by the load's retention": (
        "store.xǁMessageStoreǁ_migrate__mutmut_84",
    ),
    "sends beyond the newest kept are trimmed right after the move (the ones a journal report names are remembered either way)": (
        "store.xǁMessageStoreǁ_migrate__mutmut_116",
    ),
    "nothing in building a `_Sent` from a mapping raises TypeError (`str()` takes anything; a status is looked up by its text)": (
        "store.xǁMessageStoreǁ_migrate__mutmut_134",
    ),
    "a time difference exactly equal to the TTL in `time.monotonic()` floats: the only input that tells them apart": (
        "store.xǁMessageStoreǁ_park__mutmut_14",
        "store.xǁMessageStoreǁ_parked_status__mutmut_5",
    ),
    "queued reads or writes mean the worker is scheduled (`not _idle`): the flush waits either way": (
        "store.xǁMessageStoreǁasync_flush__mutmut_3",
        "store.xǁMessageStoreǁasync_flush__mutmut_4",
    ),
    "the key only names the field in an error `_optional_number` swallows": (
        "actio.inbound.x__optional_number__mutmut_5",
        "actio.inbound.x__optional_number__mutmut_6",
    ),
    "a JSON object's keys are strings: sorting by `str` or by themselves is the same": (
        "actio.inbound.x_shape_of__mutmut_11",
        "actio.inbound.x_shape_of__mutmut_13",
    ),
    "past depth 8 the prefix is never empty (each level adds a key or `[]`)": (
        "actio.inbound.x_shape_of__mutmut_6",
    ),
    "a datetime parsed from its own `str()` is the same datetime": (
        "outbox.x_send_options__mutmut_30",
    ),
    "media types are case-insensitive (RFC 9110); aiohttp sends it as given": (
        "webhook.x__error__mutmut_11",
    ),
    "HTTP header names are case-insensitive (RFC 9110 §5.1): `authorization` and `ACCEPT` are the same headers": (
        "actio.client.xǁActioClientǁ_attempt__mutmut_4",
        "actio.client.xǁActioClientǁ_attempt__mutmut_5",
        "actio.client.xǁActioClientǁ_attempt__mutmut_7",
        "actio.client.xǁActioClientǁ_attempt__mutmut_8",
    ),
    "the flag is only tested for truth: `None` and `False` are both false": (
        "actio.client.xǁActioClientǁ_request__mutmut_7",
    ),
    "a fast path only: text with no lone surrogate survives the UTF-16 round trip unchanged, ASCII or not": (
        "actio.models.x_storable__mutmut_1",
    ),
    "Python's codec names are case-insensitive: `UTF-16-LE` is `utf-16-le`": (
        "actio.models.x_storable__mutmut_13",
        "actio.models.x_storable__mutmut_17",
    ),
    "`quarantine.last` is never None after `async_keep`: the first post is always kept (the webhook's 64 KiB limit is below the quarantine's 128)": (
        "inbox.x_async_keep_aside__mutmut_15",
    ),
}
EQUIVALENT: dict[str, str] = {
    PACKAGE_MODULE + name: reason
    for reason, names in _BY_REASON.items()
    for name in names
}


def toml_section(values: dict[str, object]) -> str:
    """`[tool.mutmut]` as TOML (JSON arrays and strings are valid TOML)."""
    lines = ["[tool.mutmut]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def narrowed_pyproject(group: Group) -> str:
    """pyproject.toml with `[tool.mutmut]` limited to one group."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    settings = dict(tomllib.loads(text)["tool"]["mutmut"])
    settings["only_mutate"] = [PACKAGE + module for module in group.modules]
    settings["pytest_add_cli_args_test_selection"] = [
        f"tests/{name}.py" for name in group.tests
    ]
    # A hung mutant is stopped after 4x its tests' time (mutmut's default,
    # 15x, made each of a store run's timeouts cost minutes).
    settings["timeout_multiplier"] = 4.0
    # A mutant mypy --strict rejects is caught by CI's lint step: no test run.
    settings["type_check_command"] = [
        str(VENV_BIN / "python"),
        "-m",
        "mypy",
        # mutmut's own scaffolding carries ignores that mypy may find unused.
        "--no-warn-unused-ignores",
        "--output",
        "json",
        *(PACKAGE + module.removesuffix("/*.py") for module in group.modules),
    ]
    head, _, tail = text.partition("[tool.mutmut]\n")
    rest = tail.split("\n[", 1)
    after = "\n[" + rest[1] if len(rest) == 2 else ""
    return head + toml_section(settings) + after


def prepare(name: str) -> Path:
    """A fresh copy of the repository for one group."""
    work = WORK / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "artifacts", "node_modules")
    # What mutmut copies beside the mutated code, and the tests.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for item in ["tests", *pyproject["tool"]["mutmut"]["also_copy"]]:
        source = ROOT / item.rstrip("/")
        if source.is_dir():
            shutil.copytree(source, work / source.name, ignore=ignore)
        else:
            shutil.copy2(source, work / source.name)
    (work / "pyproject.toml").write_text(
        narrowed_pyproject(GROUPS[name]), encoding="utf-8"
    )
    return work


def run(name: str, jobs: int) -> float:
    """Run mutmut for one group; the seconds it took."""
    work = prepare(name)
    started = time.monotonic()
    with (work / "mutmut.log").open("wb") as log:
        subprocess.run(
            [
                str(VENV_BIN / "mutmut"),
                "run",
                "--max-children",
                str(jobs),
                *GROUPS[name].mutants,
            ],
            cwd=work,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    seconds = time.monotonic() - started
    (work / "seconds").write_text(f"{seconds:.0f}\n", encoding="utf-8")
    return seconds


def results(name: str) -> dict[str, dict[str, int]]:
    """Module → mutant name → exit code, from one group's run."""
    found: dict[str, dict[str, int]] = {}
    root = WORK / name / "mutants"
    for meta in sorted(root.glob("**/*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        if patterns := GROUPS[name].mutants:
            codes = {
                key: code
                for key, code in codes.items()
                if any(fnmatch(key, pattern) for pattern in patterns)
            }
        module = str(meta.relative_to(root)).removesuffix(".meta")
        found[module.removeprefix(PACKAGE)] = codes
    return found


def tally(codes: dict[str, int]) -> Counter[str]:
    """Killed / timeout / survived / no tests / other for one module."""
    counts: Counter[str] = Counter()
    for code in codes.values():
        if code in KILLED:
            counts["killed"] += 1
        elif code in TIMEOUT:
            counts["timeout"] += 1
        elif code in SURVIVED:
            counts["survived"] += 1
        elif code in NO_TESTS:
            counts["no tests"] += 1
        else:
            counts["other"] += 1
    return counts


def score(counts: Counter[str], equivalent: int = 0) -> float:
    """Killed (timeouts included) among the mutants a test reached (and could tell apart)."""
    killed = counts["killed"] + counts["timeout"]
    reached = killed + counts["survived"] - equivalent
    return 100 * killed / reached if reached else 100.0


def diff(name: str, mutant: str) -> str:
    """`mutmut show` for one mutant, the changed lines only."""
    shown = subprocess.run(
        [str(VENV_BIN / "mutmut"), "show", mutant],
        cwd=WORK / name,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return "\n".join(
        line
        for line in shown.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    )


SQL = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|FROM|WHERE|ORDER BY|GROUP BY|BEGIN|COMMIT|"
    r"ROLLBACK|SAVEPOINT|RELEASE|VALUES|PRAGMA|CREATE|JOIN|LIMIT|ESCAPE|LIKE|AND|SET|"
    r"DESC|ASC)\b",
    re.IGNORECASE,
)
LITERAL = re.compile(r"'[^']*'")
UNEXPLAINED = "**not explained**"


def sql_case_only(changes: str) -> bool:
    """Whether a mutant only changed the letter case of SQL text.

    SQLite's keywords and identifiers are case-insensitive; its string
    literals are not, so those must be unchanged.
    """
    lines = changes.splitlines()
    removed = [line[1:] for line in lines if line.startswith("-")]
    added = [line[1:] for line in lines if line.startswith("+")]
    if not removed or len(removed) != len(added):
        return False
    return all(
        old == new
        or (
            old.lower() == new.lower()
            and SQL.search(old) is not None
            and LITERAL.findall(old) == LITERAL.findall(new)
        )
        for old, new in zip(removed, added, strict=True)
    )


def explain(mutant: str, changes: str) -> str:
    """Why a survivor is equivalent, or that it is not explained."""
    if mutant in EQUIVALENT:
        return EQUIVALENT[mutant]
    if sql_case_only(changes):
        return "SQL keywords and identifiers are case-insensitive"
    return UNEXPLAINED


@dataclass(frozen=True, slots=True)
class Row:
    """One module's tally in one group's run."""

    module: str
    group: str
    mutants: int
    counts: Counter[str]
    equivalent: int
    seconds: str


def tallies(names: list[str]) -> tuple[list[Row], list[str]]:
    """Each module's row, and each survivor's entry (diff and reason)."""
    rows: list[Row] = []
    survivors: list[str] = []
    for name in names:
        seconds = (WORK / name / "seconds").read_text(encoding="utf-8").strip()
        for module, codes in results(name).items():
            alive = sorted(m for m, code in codes.items() if code in SURVIVED)
            with ThreadPoolExecutor(4) as pool:
                changes = list(pool.map(lambda m, n=name: diff(n, m), alive))
            equivalent = 0
            for mutant, change in zip(alive, changes, strict=True):
                reason = explain(mutant, change)
                equivalent += reason != UNEXPLAINED
                indented = change.replace("\n", "\n  ")
                survivors.append(
                    f"- `{mutant}`: {reason}\n\n  ```diff\n  {indented}\n  ```"
                )
            rows.append(
                Row(module, name, len(codes), tally(codes), equivalent, seconds)
            )
    return rows, survivors


def report(names: list[str], rows: list[Row], survivors: list[str]) -> str:
    """benchmarks/mutation.md from the groups' last runs."""
    total = sum(
        int(seconds) for seconds in {row.group: row.seconds for row in rows}.values()
    )
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    groups = ", ".join(f"`{name}`: {', '.join(GROUPS[name].tests)}" for name in names)
    return "\n".join(
        [
            "# Mutation testing",
            "",
            (
                f"Run {when} on {platform.machine()}, {os.cpu_count()} cores, Python "
                f"{platform.python_version()}, mutmut {version('mutmut')}: `scripts/mutation` "
                f"({total} s for these groups, two workers). Log statements are not "
                "mutated (`do_not_mutate_patterns`); that logs mask numbers and "
                "never show the PIN is tested directly."
            ),
            "",
            (
                "Score: killed (timeouts and type-check catches included) among the "
                "mutants some test reached; the last score sets aside the survivors "
                "explained below as equivalent (no test can tell them apart)."
            ),
            "",
            (
                "| module | group | mutants | killed | timeout | survived "
                "| of them equivalent | no test | other | score "
                "| score without equivalents | group s |"
            ),
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
            *(
                f"| `{row.module}` | {row.group} | {row.mutants} "
                f"| {row.counts['killed']} | {row.counts['timeout']} "
                f"| {row.counts['survived']} | {row.equivalent} "
                f"| {row.counts['no tests']} | {row.counts['other']} "
                f"| {score(row.counts):.1f} % "
                f"| **{score(row.counts, row.equivalent):.1f} %** | {row.seconds} |"
                for row in rows
            ),
            "",
            f"Tests per group: {groups}.",
            "",
            "## Survivors",
            "",
            *(survivors or ["None."]),
            "",
        ]
    )


README = ROOT / "README.md"
README_TABLE = re.compile(
    r"(<!-- mutation table: written by scripts/mutation -->\n\n).*?"
    r"(\n\n<!-- /mutation table -->)",
    re.DOTALL,
)


def readme_table(rows: list[Row]) -> str:
    """README's summary of the report: the same numbers, fewer columns."""
    return "\n".join(
        [
            (
                "| module | group | mutants | killed (by a test, mypy or a timeout) "
                "| survived | of them equivalent | no test | raw score "
                "| score (equivalents set aside) | group s |"
            ),
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *(
                f"| `{row.module}` | {row.group} | {row.mutants} "
                f"| {row.counts['killed'] + row.counts['timeout']} "
                f"| {row.counts['survived']} | {row.equivalent} "
                f"| {row.counts['no tests']} | {score(row.counts):.1f} % "
                f"| **{score(row.counts, row.equivalent):.1f} %** | {row.seconds} |"
                for row in rows
            ),
        ]
    )


REPORT_ROW = re.compile(
    r"^\| `(?P<module>[^`]+)` \| (?P<group>[\w-]+) \| (?P<mutants>\d+) "
    r"\| (?P<killed>\d+) \| (?P<timeout>\d+) \| (?P<survived>\d+) "
    r"\| (?P<equivalent>\d+) \| (?P<no_tests>\d+) \| (?P<other>\d+) "
    r"\| [\d.]+ % \| \*\*[\d.]+ %\*\* \| (?P<seconds>\d+) \|$",
    re.MULTILINE,
)


def rows_of_report(text: str) -> list[Row]:
    """The rows of a written report (benchmarks/mutation.md)."""
    return [
        Row(
            match["module"],
            match["group"],
            int(match["mutants"]),
            Counter(
                {
                    "killed": int(match["killed"]),
                    "timeout": int(match["timeout"]),
                    "survived": int(match["survived"]),
                    "no tests": int(match["no_tests"]),
                    "other": int(match["other"]),
                }
            ),
            int(match["equivalent"]),
            match["seconds"],
        )
        for match in REPORT_ROW.finditer(text)
    ]


def write_readme_table(rows: list[Row]) -> None:
    """Put the report's table in README.md between its markers."""
    text = README.read_text(encoding="utf-8")
    new, found = README_TABLE.subn(
        lambda match: match[1] + readme_table(rows) + match[2], text
    )
    if found != 1:
        msg = "README.md has no mutation table markers"
        raise SystemExit(msg)
    README.write_text(new, encoding="utf-8")


def main() -> None:
    """Run the chosen groups (default: all), then write the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--module",
        action="append",
        choices=sorted(GROUPS),
        help="a group to run (repeatable; default: every group)",
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="write the report from the groups' last runs",
    )
    args = parser.parse_args()
    names = args.module or list(GROUPS)
    if not args.report_only:
        for name in names:
            print(f"{name}: mutating", flush=True)
            seconds = run(name, args.jobs)
            print(f"{name}: {seconds:.0f} s", flush=True)
    ran = [name for name in GROUPS if (WORK / name / "seconds").exists()]
    rows, survivors = tallies(ran)
    text = report(ran, rows, survivors)
    # A single group's run is printed only: the files hold full runs.
    if set(ran) == set(GROUPS) and (args.report_only or not args.module):
        REPORT.write_text(text, encoding="utf-8")
        write_readme_table(rows)
        print(f"wrote {REPORT.relative_to(ROOT)} and README.md's table")
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
