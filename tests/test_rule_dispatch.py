"""The walk's cheap filters (Rule.call_filter, keyword_filter, name_filter) only save work:
with every filter switched off, every fixture gets exactly the same findings, in the same order."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from scrutiny import source
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules import RuleSet, all_rules
from scrutiny.rules.base import Rule, Walk, exactly, registered, tails

FIXTURES = Path(__file__).parent / "fixtures"
FILTERED = [rule for rule in registered().values() if rule.call_filter or rule.keyword_filter or rule.name_filter]


def test_the_rules_that_take_every_call_mostly_filter_them() -> None:
    assert len(FILTERED) >= 20


def test_filters_change_no_finding_on_any_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    files = sorted(FIXTURES.rglob("*.py"))
    assert len(files) > 100
    sources = [source.load(path.read_bytes(), path.name) for path in files]
    filtered = [[(f.rule_id, f.location, f.message) for f in RuleSet(all_rules()).run(src)] for src in sources]
    for rule in FILTERED:
        for attribute in ("call_filter", "keyword_filter", "name_filter"):
            monkeypatch.setattr(rule, attribute, None)
    unfiltered = [[(f.rule_id, f.location, f.message) for f in RuleSet(all_rules()).run(src)] for src in sources]
    assert sum(map(len, filtered)) > 500
    assert filtered == unfiltered


class _Seen(Rule):
    """Records the nodes it is offered (not registered: no id)."""

    category = Category.CONFIGURATION
    cwe = 1
    severity = Severity.LOW
    confidence = Confidence.LOW
    node_types = (ast.Call, ast.Name)

    def __init__(self) -> None:
        self.seen: list[str] = []

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        self.seen.append(ast.unparse(node))
        return iter(())


def _offered(rule: _Seen, code: str) -> list[str]:
    RuleSet([rule]).run(source.load(code.encode(), "m.py"))
    return rule.seen


CODE = "import x.run as go\nrun(a)\nobj.run(b)\ngo()\nother(shell=True)\nplain()\n"


def test_a_call_filter_sees_the_written_and_the_imported_last_name() -> None:
    rule = _Seen()
    rule.call_filter = exactly("run")
    assert [s for s in _offered(rule, CODE) if "(" in s] == ["run(a)", "obj.run(b)", "go()"]


def test_a_keyword_filter_adds_calls_that_pass_the_keyword() -> None:
    rule = _Seen()
    rule.call_filter = exactly("plain")
    rule.keyword_filter = exactly("shell")
    assert [s for s in _offered(rule, CODE) if "(" in s] == ["other(shell=True)", "plain()"]
    only_keyword = _Seen()
    only_keyword.keyword_filter = re.compile(".")
    assert [s for s in _offered(only_keyword, CODE) if "(" in s] == ["other(shell=True)"]


def test_a_name_filter_applies_to_names_and_no_filter_offers_everything() -> None:
    rule = _Seen()
    rule.name_filter = exactly("obj", "a")
    assert [s for s in _offered(rule, CODE) if "(" not in s] == ["a", "obj"]
    everything = _Seen()
    assert len([s for s in _offered(everything, CODE) if "(" in s]) == 5


def test_helpers_build_exact_patterns() -> None:
    pattern = exactly("a.b", ["run"], tails(["django.db.RawSQL"]))
    assert pattern.search("a.b") and pattern.search("run") and pattern.search("RawSQL")
    assert not pattern.search("axb") and not pattern.search("rerun") and not pattern.search("running")


def test_every_secret_format_match_contains_its_anchor() -> None:
    from scrutiny.rules.secret_formats import ANY_FORMAT, FORMATS

    body = "aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0zA" * 3
    samples = {
        "AWS access key id": "AKIA" + "QWERTYUIOP123456",
        "GitHub token": "ghp_" + body[:36],
        "GitHub fine-grained token": "github_pat_" + body[:60],
        "GitLab token": "glpat-" + body[:20],
        "Slack token": "xoxb-" + body[:10],
        "Slack webhook URL": "https://hooks.slack.com/services/T0001/B0001/" + body[:16],
        "Stripe live key": "sk_live_" + body[:16],
        "Stripe test key": "rk_test_" + body[:16],
        "Twilio API key": "SK" + "0123456789abcdef" * 2,
        "Google API key": "AIza" + body[:35],
        "Google OAuth client secret": "GOCSPX-" + body[:28],
        "SendGrid API key": "SG." + body[:22] + "." + body[:43],
        "npm token": "npm_" + body[:36],
        "PyPI upload token": "pypi-AgEIcHlwaS5vcmc" + body[:50],
        "private key block": "-----BEGIN RSA PRIVATE KEY-----\n" + body[:64],
        "JSON Web Token": "eyJ" + body[:10] + ".eyJ" + body[:10] + "." + body[:16],
    }
    assert set(samples) == {fmt.what for fmt in FORMATS}
    for fmt in FORMATS:
        match = fmt.pattern.search("x = '" + samples[fmt.what] + "'")
        assert match is not None, fmt.what
        assert re.search(fmt.anchor, match.group(0)), fmt.what
        assert ANY_FORMAT.search(match.group(0))
