"""The seed case: nova's test_bug_1825537.py, reviewed to the conclusions of the example review."""

from __future__ import annotations

import pytest

from helpers import aspect, citations, findings, review_json, seed_path
from scrutiny.report.compose import CLEAN_VERDICT


@pytest.fixture(scope="module")
def seed_review() -> tuple[int, dict]:
    # capsys is function scoped; the review is run once for the module.
    import contextlib
    import io
    import json

    from scrutiny import cli

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = cli.main(["review", "--format", "json", "--quiet", str(seed_path())])
    return code, json.loads(buffer.getvalue())


def test_classified_as_nova_functional_regression_test(seed_review) -> None:
    _, review = seed_review
    (summary,) = review["files"]
    assert summary["kind"] == "test"
    assert summary["frameworks"][0] == "OpenStack nova"
    assert "functional" in summary["subkinds"] and "regression" in summary["subkinds"]
    assert summary["description"] == "OpenStack nova functional regression test"
    assert summary["entry_points"] == []
    assert any("ProviderUsageBaseTestCase" in reason for reason in summary["reasons"])
    assert any("1825537" in reason for reason in summary["reasons"])


def test_input_validation_cites_parameters_api_calls_and_caller(seed_review) -> None:
    _, review = seed_review
    assert citations(review, "input-validation", "parameters") == [(34, 34)]
    assert citations(review, "input-validation", "api-call") == [(38, 38), (43, 43)]
    assert (62, 62) in citations(review, "input-validation", "call-site")
    texts = " ".join(s["text"] for s in aspect(review, "input-validation")["statements"])
    assert "server, dest_host" in texts
    assert "not from an untrusted source" in texts
    assert aspect(review, "input-validation")["status"] == "clean"


def test_error_handling_cites_error_state_assertions(seed_review) -> None:
    _, review = seed_review
    assert citations(review, "error-handling", "error-assertion") == [(47, 47), (50, 51)]
    assert aspect(review, "error-handling")["status"] == "clean"


def test_host_literals_are_informational_in_a_test(seed_review) -> None:
    _, review = seed_review
    hosts = findings(review, "SCR402")
    assert sorted(f["line"] for f in hosts) == [55, 56, 59, 62, 67, 68]
    assert {f["severity"] for f in hosts} == {"info"}
    assert all(f["context_note"] for f in hosts)
    assert {f["default_severity"] for f in hosts} == {"low"}
    assert aspect(review, "hardcoded-values")["status"] == "notes"


def test_resource_cleanup_checks_span_64_to_81(seed_review) -> None:
    _, review = seed_review
    assert citations(review, "resource-cleanup", "cleanup-checks") == [(64, 81)]


def test_commented_out_assertion_is_a_test_quality_note_naming_the_bug(seed_review) -> None:
    _, review = seed_review
    assert citations(review, "disabled-checks", "known-bug") == [(69, 76)]
    bug = next(
        c for s in aspect(review, "disabled-checks")["statements"] for c in s["citations"] if c["role"] == "known-bug"
    )
    assert bug["detail"] == "1825537"
    (disabled,) = findings(review, "SCR603")
    assert (disabled["line"], disabled["end_line"]) == (75, 76)
    assert disabled["severity"] == "info" and disabled["default_severity"] == "low"
    assert "1825537" in disabled["message"]
    assert "test-quality" in disabled["context_note"]


def test_no_logging(seed_review) -> None:
    _, review = seed_review
    assert citations(review, "logging", "log-call") == []
    assert "no logging" in aspect(review, "logging")["statements"][0]["text"]


def test_verdict_is_clean_with_exit_code_0(seed_review) -> None:
    code, review = seed_review
    assert code == 0
    assert review["verdict"]["text"] == CLEAN_VERDICT
    assert review["verdict"]["clean"] is True
    assert review["verdict"]["reasons"]
    assert review["summary"]["defects"] == 0
    assert all(f["severity"] == "info" for f in review["findings"])
    assert {a["status"] for a in review["aspects"]} <= {"clean", "notes"}


def test_text_review_opens_with_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    from scrutiny import cli

    assert cli.main(["review", "--quiet", str(seed_path())]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == "Verdict"
    assert lines[3] == CLEAN_VERDICT
    assert lines[4].startswith("Why: ")


def test_review_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    first = review_json(capsys, str(seed_path()))
    second = review_json(capsys, str(seed_path()))
    assert first == second


TRACED = (
    "Followed through the code, server and dest_host come from the test code, not from an untrusted source, "
    "and reach no sink."
)


def test_input_validation_states_the_engine_traced_server_and_dest_host(seed_review) -> None:
    """The sentence sits in the statement about _resize_and_assert_error (line 34), and rests on the engine's facts."""
    from scrutiny import source
    from scrutiny.context import classify
    from scrutiny.taint.engine import describe

    _, review = seed_review
    statements = aspect(review, "input-validation")["statements"]
    (statement,) = [s for s in statements if TRACED in s["text"]]
    assert any(c["role"] == "parameters" and c["start"] == 34 for c in statement["citations"])
    assert not [f for f in review["findings"] if f["rule_id"].startswith("SCR5")]
    src = source.load(seed_path().read_bytes(), str(seed_path()))
    flow = describe(src, classify(src))
    assert flow.sources == ()
    helper = flow.functions["FinishResizeErrorAllocationCleanupTestCase._resize_and_assert_error"]
    assert (helper.params, helper.to_sinks, helper.untrusted) == (("server", "dest_host"), (), ())


def test_an_untrusted_dest_host_changes_the_sentence(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    """Feeding console input to dest_host at line 62 makes the engine say so; the clean sentence goes."""
    text = (
        seed_path()
        .read_text()
        .replace("self._resize_and_assert_error(server, 'host2')", "self._resize_and_assert_error(server, input())")
    )
    mutated = tmp_path / "test_bug_1825537.py"
    mutated.write_text(text)
    _, review = review_json(capsys, str(mutated))
    texts = " ".join(s["text"] for s in aspect(review, "input-validation")["statements"])
    assert TRACED not in texts
    assert "Untrusted data reaches dest_host, but no sink." in texts
