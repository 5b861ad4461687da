"""One finding per defect: the reports of one defect at one place fold into one finding.

Three shapes gave several findings for one defect: a taint rule once per source of the
data, a pattern rule and a taint rule on the same SQL line, one rule once per call of a
line. Each is checked with its pair (reports that stay apart), then suppression by any of
the folded rule ids, the fingerprint and the change review.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo, needs_git

from helpers import review_json
from scrutiny import baseline
from scrutiny.findings import Category, Confidence, Finding, Location, Severity, TraceStep
from scrutiny.report import corroboration

RENDER = """\
import jinja2


def render(template_text):
    return jinja2.Environment().from_string(template_text).render()


def render_page(template_text):
    return jinja2.Environment().from_string(template_text).render()
"""

ROUTE_ARGS = """

@app.route("/page")
def page():
    return render(request.args["t"])
"""
ROUTE_FORM = """

@app.route("/mail", methods=["POST"])
def mail():
    return render(request.form["body"])
"""
ROUTE_JSON = """

@app.route("/hook", methods=["POST"])
def hook():
    return render(request.json["body"])
"""
# The pair: another sink (render_page, line 9) reached from one source is its own defect.
ROUTE_OTHER_SINK = """

@app.route("/other")
def other():
    return render_page(request.args["p"])
"""
VIEWS_HEAD = """\
from flask import Flask, request

from site.render import render, render_page

app = Flask(__name__)
"""

SQL = """\
import sqlite3

from flask import Flask, request

app = Flask(__name__)


@app.route("/a")
def a():
    db = sqlite3.connect("x")
    name = request.args["n"]
    db.execute("SELECT * FROM t WHERE n = '" + name + "'"){mark}


def b(db, name):
    db.execute("SELECT * FROM t WHERE n = '" + name + "'")
"""
SQL_LINE, SQL_UNTRACED_LINE = 12, 16

PICKLE = """\
import pickle

from flask import Flask, make_response, request

app = Flask(__name__)


@app.route("/load", methods=["POST"])
def load():
    head, body = pickle.loads(request.files["a"].read()), pickle.loads(request.get_data()){mark}
    return str((head, body))


@app.route("/load2", methods=["POST"])
def load2():
    head = pickle.loads(request.files["a"].read())
    body = pickle.loads(request.get_data())
    return str((head, body))


@app.route("/fetch")
def fetch():
    import requests
    answer = requests.get(request.args["url"], verify=False, timeout=10)
    return answer.text
"""


def _package(root: Path, *routes: str) -> Path:
    site = root / "site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "__init__.py").write_text("")
    (site / "render.py").write_text(RENDER)
    (site / "views.py").write_text(VIEWS_HEAD + "".join(routes))
    return root


def _shown(review: dict[str, Any], rule_prefix: str = "SCR5") -> list[dict[str, Any]]:
    return [f for f in review["findings"] if f["rule_id"].startswith(rule_prefix)]


def _where(finding: dict[str, Any]) -> tuple[str, str, int]:
    return finding["rule_id"], Path(finding["path"]).name, finding["line"]


def _corroborating(finding: dict[str, Any]) -> list[tuple[str, int, int | None]]:
    return [(c["rule_id"], c["line"], c["source"] and c["source"]["line"]) for c in finding["corroborated_by"]]


# Shape 1: one sink, several sources ---------------------------------------------------


def test_a_sink_reached_from_several_sources_is_one_finding_that_lists_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _package(tmp_path, ROUTE_ARGS, ROUTE_FORM, ROUTE_JSON, ROUTE_OTHER_SINK)
    _, review = review_json(capsys, str(root))
    shown = sorted(_where(f) for f in _shown(review))
    assert shown == [("SCR508", "render.py", 5), ("SCR508", "render.py", 9)]
    (sink,) = [f for f in _shown(review) if f["line"] == 5]
    # All three sources are equally severe: the file, then the kind of source orders them.
    assert sink["trace"][0]["message"] == "source: Flask request.args (flask.request.args)"
    assert [(c["rule_id"], c["source"]["message"]) for c in sink["corroborated_by"]] == [
        ("SCR508", "source: Flask request.form (flask.request.form)"),
        ("SCR508", "source: Flask request.json (flask.request.json)"),
    ]
    (other,) = [f for f in _shown(review) if f["line"] == 9]
    assert other["corroborated_by"] == []
    # The summary and the verdict count defects.
    assert review["summary"]["findings"]["high"] == 2
    assert review["summary"]["hidden_by"]["duplicate"] == 2
    (injection,) = [a for a in review["aspects"] if a["category"] == "injection"]
    assert "2 more report(s) of these defects" in " ".join(s["text"] for s in injection["statements"])
    assert review["verdict"]["text"] == "4 security defects found: 2 high, 2 low."  # and SCR106 on each sink
    text = review_text(capsys, str(root))
    assert "2 more sources: Flask request.form (flask.request.form) at " in text


def review_text(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    from scrutiny import cli

    cli.main(["review", "--quiet", *args])
    return " ".join(capsys.readouterr().out.split())  # as one line: the text wraps at 100 columns


def test_moving_the_sources_keeps_the_finding_and_its_fingerprint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, first = review_json(capsys, str(_package(tmp_path, ROUTE_ARGS, ROUTE_FORM, ROUTE_JSON)))
    _, moved = review_json(capsys, str(_package(tmp_path, ROUTE_JSON, ROUTE_FORM, ROUTE_ARGS)))
    (before,), (after,) = _shown(first), _shown(moved)
    assert before["fingerprint"] == after["fingerprint"]
    assert before["trace"][0]["message"] == after["trace"][0]["message"]
    assert [c["fingerprint"] for c in before["corroborated_by"]] == [c["fingerprint"] for c in after["corroborated_by"]]


# Shape 2: a pattern rule and a taint rule on one line ----------------------------------


def test_the_pattern_and_taint_reports_of_one_sql_line_are_one_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "app.py"
    target.write_text(SQL.format(mark=""))
    _, review = review_json(capsys, "--min-severity", "low", str(target))
    sql = ("SCR105", "SCR503")
    shown = [(f["rule_id"], f["line"], f["severity"]) for f in review["findings"] if f["rule_id"] in sql]
    # The pair: SQL built from a parameter nothing untrusted reaches stays a low hint of its own.
    assert shown == [("SCR503", SQL_LINE, "high"), ("SCR105", SQL_UNTRACED_LINE, "low")]
    (sql,) = [f for f in review["findings"] if f["rule_id"] == "SCR503"]
    assert _corroborating(sql) == [("SCR105", SQL_LINE, None)]
    (duplicate,) = [s for s in review["suppressed"] if s["hidden_by"] == "duplicate"]
    assert duplicate["rule_id"] == "SCR105" and "SCR503" in duplicate["reason"]
    assert "also: SCR105 (line 12, medium) db.execute gets SQL built from run-time values" in review_text(
        capsys, str(target)
    )


def test_every_format_carries_the_other_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_formats_sarif import valid_sarif

    from scrutiny.api import scan
    from scrutiny.report import FORMATS

    (tmp_path / "app.py").write_text(SQL.format(mark=""))
    monkeypatch.chdir(tmp_path)
    (result,) = [r for r in valid_sarif("app.py")["runs"][0]["results"] if r["ruleId"] == "SCR503"]
    (related,) = result["relatedLocations"]
    assert related["message"]["text"].startswith("also SCR105 (medium): ")
    assert related["physicalLocation"]["region"] == {"startLine": SQL_LINE}
    assert [c["ruleId"] for c in result["properties"]["corroboratedBy"]] == ["SCR105"]
    review = scan(["app.py"])
    also = "also: SCR105 (line 12, medium) db.execute gets SQL built from run-time values"
    for name in ("text", "markdown", "html"):
        shown = re.sub(r"\\(.)", r"\1", " ".join(FORMATS[name](review).split()))  # unescaped, unwrapped
        assert also in shown, name


def test_weaknesses_of_one_call_that_differ_stay_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A URL from the request (server-side request forgery) and certificate checks turned
    off on the same call are other defects."""
    target = tmp_path / "app.py"
    target.write_text(PICKLE.format(mark=""))
    _, review = review_json(capsys, "--min-severity", "low", str(target))
    fetched = [f for f in review["findings"] if f["line"] == 24]
    assert sorted(f["rule_id"] for f in fetched) == ["SCR303", "SCR506"]
    assert all(f["corroborated_by"] == [] for f in fetched)


# Shape 3: one rule on two calls of a line ----------------------------------------------


def test_one_rule_on_two_calls_of_a_line_is_one_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "app.py"
    target.write_text(PICKLE.format(mark=""))
    _, review = review_json(capsys, str(target))
    shown = [(f["rule_id"], f["line"]) for f in review["findings"] if f["rule_id"] in ("SCR201", "SCR505")]
    # The pair: the same two calls on two lines are two defects.
    assert shown == [("SCR505", 10), ("SCR505", 16), ("SCR505", 17)]
    one_line = review["findings"][[f["line"] for f in review["findings"]].index(10)]
    assert sorted(_corroborating(one_line)) == [("SCR201", 10, None), ("SCR201", 10, None), ("SCR505", 10, 10)]
    for line in (16, 17):
        (finding,) = [f for f in review["findings"] if f["line"] == line]
        assert _corroborating(finding) == [("SCR201", line, None)]


# Suppression by any of the folded ids ----------------------------------------------------


@pytest.mark.parametrize("rule_id", ["SCR105", "SCR503"])
def test_an_inline_suppression_of_either_rule_hides_the_sql_defect(
    rule_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "app.py"
    target.write_text(SQL.format(mark=f"  # scrutiny: ignore[{rule_id}] admin-only tool"))
    _, review = review_json(capsys, "--min-severity", "low", str(target))
    assert [(f["rule_id"], f["line"]) for f in _shown(review, "SCR")] == [("SCR105", SQL_UNTRACED_LINE)]
    (hidden,) = [s for s in review["suppressed"] if s["hidden_by"] == "inline"]
    assert hidden["rule_id"] == "SCR503" and "admin-only tool" in hidden["reason"]
    assert _corroborating(hidden) == [("SCR105", SQL_LINE, None)]
    assert review["summary"]["hidden_by"]["inline"] == 1
    # The suppression is used, whichever id it names: no SCR605 for it.
    assert not [f for f in review["findings"] if f["rule_id"] == "SCR605"]


def test_an_inline_suppression_of_the_pattern_rule_hides_both_calls_of_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "app.py"
    target.write_text(PICKLE.format(mark="  # scrutiny: ignore[SCR201] signed by our own service"))
    _, review = review_json(capsys, str(target))
    assert not [f for f in review["findings"] if f["line"] == 10]
    assert [(s["rule_id"], s["line"]) for s in review["suppressed"] if s["hidden_by"] == "inline"] == [("SCR505", 10)]


def test_nosec_naming_the_pattern_rule_hides_the_sql_defect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "app.py"
    target.write_text(SQL.format(mark="  # nosec B608 admin-only tool"))
    _, review = review_json(capsys, "--honor-nosec", str(target))
    assert not [f for f in review["findings"] if f["line"] == SQL_LINE]
    (hidden,) = [s for s in review["suppressed"] if s["hidden_by"] == "nosec"]
    assert hidden["rule_id"] == "SCR503" and hidden["line"] == SQL_LINE


def test_a_baseline_entry_for_the_pattern_rule_hides_the_sql_defect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A baseline written before the taint rule traced the line names SCR105 only."""
    target = tmp_path / "app.py"
    target.write_text(SQL.format(mark=""))
    code = """    db.execute("SELECT * FROM t WHERE n = '" + name + "'")"""
    entry = {"rule_id": "SCR105", "path": str(target), "scope": "a", "code": baseline.code_hash(code)}
    accepted = tmp_path / "baseline.json"
    accepted.write_text(json.dumps({"format": baseline.FORMAT, "version": baseline.VERSION, "entries": [entry]}))
    _, review = review_json(capsys, "--baseline", str(accepted), str(target))
    assert not [f for f in review["findings"] if f["line"] == SQL_LINE]
    (hidden,) = [s for s in review["suppressed"] if s["hidden_by"] == "baseline"]
    assert hidden["rule_id"] == "SCR503" and "(reported as SCR105)" in hidden["reason"]
    assert review["baseline"]["hidden"] == 1


# The fold itself -------------------------------------------------------------------------


def _report(rule_id: str, source_line: int, severity: Severity, kind: str = "Flask request.args") -> Finding:
    source = TraceStep("views.py", source_line, 4, f"source: {kind}")
    return Finding(
        rule_id, "tainted-html", Category.INJECTION, 79, severity, Confidence.MEDIUM,
        Location("render.py", 5, 11, 5, 60), f"{kind} (views.py:{source_line}) reaches from_string", "",
        trace=(source, TraceStep("render.py", 5, 11, "sink")),
    )  # fmt: skip


def test_the_most_severe_source_is_shown_and_the_rest_follow_by_severity_then_place() -> None:
    reports = [
        _report("SCR508", 30, Severity.LOW, "command-line arguments"),
        _report("SCR508", 20, Severity.HIGH, "Flask request.form"),
        _report("SCR508", 10, Severity.HIGH),
    ]
    for order in (reports, reports[::-1]):
        (shown,), hidden = corroboration.fold(list(order), [])
        assert shown.trace[0].line == 10
        assert [c.source.line for c in shown.corroborated_by if c.source] == [20, 30]
        assert sorted(s.by for s in hidden) == ["duplicate", "duplicate"]
    assert corroboration.summary(shown) == (
        "2 more sources: Flask request.form at views.py:20 (high), command-line arguments at views.py:30 (low)"
    )


def test_pickle_loading_defers_to_data_flow_like_a_shell_call() -> None:
    """pickle.loads rests on what feeds it, as a shell command does: where the taint rule
    traced a source to the line, its report is the defect (at that source's severity) and
    the pattern finding corroborates it."""
    pattern = replace(
        _report("SCR201", 0, Severity.MEDIUM), rule_name="pickle-load", cwe=502, trace=(), message="pickle.loads"
    )
    low = replace(_report("SCR505", 10, Severity.LOW, "standard input"), cwe=502)
    (shown,), _ = corroboration.fold([low, pattern], [])
    assert (shown.rule_id, shown.severity) == ("SCR505", Severity.LOW)
    assert [(c.rule_id, c.severity) for c in shown.corroborated_by] == [("SCR201", Severity.MEDIUM)]
    high = replace(low, severity=Severity.HIGH)
    (shown,), _ = corroboration.fold([pattern, high], [])
    assert (shown.rule_id, shown.severity) == ("SCR505", Severity.HIGH)


# The change review ----------------------------------------------------------------------

APP = """\
import sys

import jinja2
from flask import Flask, request

app = Flask(__name__)


def render(template_text):
    return jinja2.Environment().from_string(template_text).render()
"""
CLI_MAIN = """

def main():
    return render(sys.argv[1])
"""
SINK = ("SCR508", "app.py", 10)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    repository = Repo(tmp_path / "repo")
    monkeypatch.chdir(repository.root)
    return repository


def _change(repo: Repo, capsys: pytest.CaptureFixture[str], *versions: tuple[str, ...]) -> dict[str, list[Any]]:
    """The change from the first version of app.py (its routes) to the second."""
    for number, routes in enumerate(versions):
        repo.write("app.py", APP + "".join(routes))
        repo.commit(f"version {number}")
    _, review = review_json(capsys, "--diff", "HEAD~1", ".")
    by_print = {f["fingerprint"]: f for f in review["findings"]}
    change = review["change"]
    taint = [p for p in change["introduced"] + change["unchanged"] if by_print[p]["rule_id"].startswith("SCR5")]
    return {
        "introduced": [_where(by_print[p]) for p in change["introduced"] if p in taint],
        "unchanged": [_where(by_print[p]) for p in change["unchanged"] if p in taint],
        "fixed": [_where(f) for f in change["fixed"] if f["rule_id"].startswith("SCR5")],
    }


@needs_git
def test_a_source_added_to_a_reported_sink_introduces_nothing(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    # request.args sorts first, so the finding shows another report after the change.
    change = _change(repo, capsys, (ROUTE_FORM,), (ROUTE_FORM, ROUTE_ARGS))
    assert change == {"introduced": [], "unchanged": [SINK], "fixed": []}


@needs_git
def test_a_source_removed_from_a_sink_another_still_reaches_fixes_nothing(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    change = _change(repo, capsys, (ROUTE_ARGS, ROUTE_FORM), (ROUTE_FORM,))
    assert change == {"introduced": [], "unchanged": [SINK], "fixed": []}


@needs_git
def test_the_first_source_of_a_sink_is_introduced_and_the_last_removed_fixed(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _change(repo, capsys, (), (ROUTE_ARGS, ROUTE_FORM)) == {"introduced": [SINK], "unchanged": [], "fixed": []}
    assert _change(repo, capsys, (ROUTE_FORM,)) == {"introduced": [], "unchanged": [SINK], "fixed": []}
    assert _change(repo, capsys, ()) == {"introduced": [], "unchanged": [], "fixed": [SINK]}


@needs_git
def test_a_more_severe_source_added_to_a_sink_is_introduced(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    change = _change(repo, capsys, (CLI_MAIN,), (CLI_MAIN, ROUTE_ARGS))
    assert change == {"introduced": [SINK], "unchanged": [], "fixed": []}
