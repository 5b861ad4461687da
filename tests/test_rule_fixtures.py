"""Every rule's fixture: reported lines must match the ``# expect:`` marks exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixture_expectations import expected_findings
from scrutiny import source, suppress, taint
from scrutiny.config import every_rule
from scrutiny.context import classify
from scrutiny.rules import RuleSet, all_rules, registered

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
FIXTURE_FILES = sorted(FIXTURES.glob("*.py"))


@pytest.mark.parametrize("fixture", FIXTURE_FILES, ids=lambda p: p.stem)
def test_fixture_findings_match_marks_exactly(fixture: Path) -> None:
    src = source.load(fixture.read_bytes(), fixture.name)
    found = RuleSet(all_rules()).run(src)
    # Taint rules (SCR5xx) find nothing in the walk; the engine reports them per file.
    found += taint.summarize(src, classify(src))[1]
    # As in a review: inline suppressions hide findings, and unused ones are reported (SCR605).
    kept, _ = suppress.settle(src, found, every_rule())
    reported = {(f.location.line, f.rule_id) for f in kept}
    expected = expected_findings(fixture)
    assert expected, f"{fixture.name} marks no expected finding"
    missing = sorted(expected - reported)
    extra = sorted(reported - expected)
    assert not missing and not extra, f"missing {missing}, unexpected {extra}"


def test_every_rule_has_a_fixture_that_exercises_it() -> None:
    marked: set[str] = set()
    for fixture in FIXTURE_FILES:
        marked.update(rule_id for _, rule_id in expected_findings(fixture))
    for rule_id in registered():
        assert (FIXTURES / f"{rule_id}.py").exists(), f"{rule_id} has no fixture file"
        assert rule_id in marked, f"no fixture expects {rule_id}"


@pytest.mark.parametrize("rule_id", list(registered()))
def test_rule_metadata_and_docs_are_complete(rule_id: str) -> None:
    rule = registered()[rule_id]
    sections = rule.doc_sections()
    for section in ("What", "Why", "Example", "Fix"):
        assert sections.get(section), f"{rule_id} docstring lacks a {section} section"
    assert rule.name and rule.name == rule.name.lower() and " " not in rule.name
    assert isinstance(rule.cwe, int) and rule.cwe > 0
    assert rule.title() and not rule.title().endswith(".")
