"""The taint engine: models validate, and every fixture case is found exactly.

Single-file cases live in tests/fixtures/rules/SCR5nn.py (checked by test_rule_fixtures);
cases across modules are directories under tests/fixtures/taint/, each reviewed with
api.scan; `# expect: SCR5nn from=LINE` marks the sink line, the rule and the source line.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from scrutiny import api, source, taint
from scrutiny.context import classify
from scrutiny.rules.taint import TaintRule
from scrutiny.taint.models import ModelError, load, model_files, parse_model

CASES = Path(__file__).parent / "fixtures" / "taint"
MARK = re.compile(r"#\s*expect:\s*((?:SCR5\d\d\s*)+)(?:from=(\d+))?")


def _expected(case: Path) -> set[tuple[str, int, str, int | None]]:
    found = set()
    for path in sorted(case.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if match := MARK.search(line):
                source_line = int(match.group(2)) if match.group(2) else None
                for rule_id in match.group(1).split():
                    found.add((path.relative_to(case).as_posix(), number, rule_id, source_line))
    return found


@pytest.mark.parametrize("case", sorted(p for p in CASES.iterdir() if p.is_dir()), ids=lambda p: p.name)
def test_case_findings_match_marks_exactly(case: Path) -> None:
    review = api.scan([str(case)])
    prefix = str(case) + "/"
    reported = set()
    for finding in [*review.findings, *(s.finding for s in review.suppressed)]:
        if finding.rule_id.startswith("SCR5"):
            assert finding.trace, "a taint finding carries its path"
            reported.add(
                (
                    finding.location.path.removeprefix(prefix),
                    finding.location.line,
                    finding.rule_id,
                    finding.trace[0].line,
                )
            )
    expected = _expected(case)
    assert expected, f"{case.name} marks no expected finding"
    loose = {(p, n, r) for p, n, r, _ in reported}
    for path, line, rule_id, source_line in expected:
        assert (path, line, rule_id) in loose, f"missing {rule_id} at {path}:{line}"
        if source_line is not None:
            assert (path, line, rule_id, source_line) in reported, (
                f"{rule_id} at {path}:{line} not from line {source_line}"
            )
    assert loose == {(p, n, r) for p, n, r, _ in expected}, f"unexpected {sorted(loose - {e[:3] for e in expected})}"


def test_every_model_file_follows_the_schema() -> None:
    files = model_files()
    assert len(files) >= 10
    for path in files:
        models = parse_model(path.read_text(encoding="utf-8"), path.name)
        assert models.files == [path.name]
    merged = load()
    assert "subprocess.run" in merged.sink_calls and "shlex.quote" in merged.sanitizer_calls
    assert "flask.request.args" in merged.source_attrs


@pytest.mark.parametrize(
    "text, complaint",
    [
        ('[[sink]]\nkind = "shell"\ncall = "os.system"\nargz = [0]\n', "unknown key"),
        ('[[sink]]\nkind = "shel"\ncall = "os.system"\n', "unknown sink kind"),
        ('[[sanitizer]]\ncall = "x"\nclears = ["sqll"]\n', "unknown sink kind"),
        ('[[source]]\nkind = "remote"\n', "exactly one of"),
        ('[[sources]]\nkind = "remote"\n', "unknown key"),
        ('[[source]]\nkind = "evil"\ncall = "x"\n', "source kind"),
        ("[[sink\n", "not valid TOML"),
    ],
)
def test_bad_models_are_rejected(text: str, complaint: str) -> None:
    with pytest.raises(ModelError, match=complaint):
        parse_model(text, "user.toml")


def test_every_sink_kind_has_a_rule() -> None:
    from scrutiny.rules.taint import rule_for

    kinds = {sink.kind for sinks in [*load().sink_calls.values(), *load().sink_methods.values()] for sink in sinks}
    assert all(rule_for(kind) is not None for kind in kinds)
    assert all(issubclass(type(rule_for(kind)), TaintRule) for kind in kinds)


def test_summary_is_small_picklable_and_deterministic() -> None:
    path = CASES / "sink_in_helper" / "app" / "db.py"
    first = taint.summarize(source.load(path.read_bytes(), "app/db.py"), _context(path))[0]
    second = taint.summarize(source.load(path.read_bytes(), "app/db.py"), _context(path))[0]
    assert first is not None and first == second
    assert pickle.loads(pickle.dumps(first)) == first  # noqa: S301  (our own summary, round-tripped)
    assert len(pickle.dumps(first)) < 4000


def _context(path: Path):  # type: ignore[no-untyped-def]
    return classify(source.load(path.read_bytes(), path.name))


def test_message_and_trace_show_the_path() -> None:
    review = api.scan([str(CASES / "sink_in_helper")])
    (finding,) = [f for f in review.findings if f.rule_id == "SCR503"]
    assert "through find_user" in finding.message and "views.py:11" in finding.message
    assert [s.path.rsplit("/", 1)[-1] for s in finding.trace] == ["views.py", "views.py", "db.py"]
    assert finding.trace[-1].message.startswith("sink: ")


def test_seed_input_validation_rests_on_the_engine(capsys: pytest.CaptureFixture[str]) -> None:
    from helpers import aspect, review_json, seed_path

    _, review = review_json(capsys, str(seed_path()))
    texts = [s["text"] for s in aspect(review, "input-validation")["statements"]]
    assert any(
        "The taint engine traced server, dest_host: they come from test code, not from an untrusted source, "
        "and reach no sink." in text
        for text in texts
    )
    assert not [f for f in review["findings"] if f["rule_id"].startswith("SCR5")]


def test_engine_sees_a_parameter_reaching_a_sink_in_the_seed_shape(tmp_path: Path) -> None:
    """Mutating the seed's helper so a parameter reaches os.system changes the sentence."""
    from scrutiny.taint.engine import describe

    text = "import os\n\n\nclass T:\n    def _helper(self, server, dest_host):\n        os.system('ssh ' + dest_host)\n"
    src = source.load(text.encode(), "tests/test_x.py")
    flow = describe(src, classify(src))
    assert flow.functions["T._helper"].to_sinks == (("dest_host", "shell", 6),)
    assert flow.functions["T._helper"].untrusted == ()
