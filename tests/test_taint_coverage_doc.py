"""docs/taint-coverage.md cannot drift: the cases, rules, model files and sink kinds it names exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import taint_cases

from scrutiny.rules import registered
from scrutiny.taint.models import SINK_KINDS, model_files

DOC = Path(__file__).resolve().parents[1] / "docs" / "taint-coverage.md"
STATUSES = {"yes", "partial", "no"}


def _rows() -> list[dict[str, str]]:
    """Every row of the doc's tables, keyed by its table's header names."""
    rows: list[dict[str, str]] = []
    header: list[str] = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = []
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not header:
            header = cells
        elif not all(set(c) <= {"-"} for c in cells):
            assert len(cells) == len(header), f"row with {len(cells)} cells under {len(header)} headers: {line}"
            rows.append(dict(zip(header, cells, strict=True)))
    return rows


ROWS = _rows()
CASES, PROBLEMS = taint_cases.read_cases()


def test_the_doc_has_its_tables() -> None:
    assert len(ROWS) >= 40
    names = {row.get("CodeQL concept", row.get("Framework", "")) for row in ROWS}
    assert {"SystemCommandExecution", "Http::Client::Request", "Flask (Werkzeug)", "http.server"} <= names
    assert all(row["Status"] in STATUSES for row in ROWS), [r["Status"] for r in ROWS if r["Status"] not in STATUSES]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: next(iter(r.values()))[:40])
def test_every_named_case_exists_and_belongs_to_the_row(row: dict[str, str]) -> None:
    cases = CASES
    assert not PROBLEMS
    named = re.findall(r"`([\w-]+)`", row["Case pairs"])
    if row["Status"] in ("yes", "partial"):
        assert named, f"a {row['Status']!r} row names no case pair"
    unknown = [name for name in named if name not in cases]
    assert not unknown, f"no such case: {unknown}"
    rules = set(re.findall(r"SCR\d{3}", row.get("Rules", "")))
    if rules:
        wrong = [name for name in named if cases[name].rule_id not in rules]
        assert not wrong, f"cases of other rules than {sorted(rules)}: {wrong}"


@pytest.mark.parametrize("row", ROWS, ids=lambda r: next(iter(r.values()))[:40])
def test_named_rules_and_model_files_exist(row: dict[str, str]) -> None:
    files = {path.name for path in model_files()}
    named_files = set(re.findall(r"[\w-]+\.toml", row["Models"]))
    assert named_files <= files, sorted(named_files - files)
    text = " ".join(row.values())
    assert set(re.findall(r"SCR\d{3}", text)) <= set(registered()), text


def test_every_sink_kind_is_in_the_doc() -> None:
    shown = {kind for row in ROWS if "Scrutiny" in row for kind in re.findall(r"`(\w+)`", row["Scrutiny"])}
    assert SINK_KINDS - shown == set(), f"sink kinds the doc does not place: {sorted(SINK_KINDS - shown)}"
