"""The taint engine: models validate, and every fixture case is found exactly.

Cases (a vulnerable program and its safe twin each) are read by taint_cases.py: single files
under tests/fixtures/taint/ and tests/fixtures/rules/SCR5nn.py, and directories under
tests/fixtures/taint/ reviewed as one tree.
"""

from __future__ import annotations

import ast
import contextlib
import json
import pickle
import re
from pathlib import Path

import pytest
import taint_cases

from scrutiny import api, source, taint
from scrutiny.context import classify
from scrutiny.findings import Finding
from scrutiny.rules.taint import LogInjection as LogInjectionRule
from scrutiny.rules.taint import TaintRule
from scrutiny.taint import models as taint_models
from scrutiny.taint.models import ModelError, load, model_files, parse_model

CASES = Path(__file__).parent / "fixtures" / "taint"
SOURCE_FAMILIES = {
    # family: what the source step of its path says (the label the models give the source)
    "input": r"^source: console input",
    "argv": r"^source: command-line arguments|parameter \w+ of cli-main",
    "environ": r"^source: the environment",
    "argparse": r"^source: parsed command-line arguments",
    "socket": r"^source: data read from a socket",
    "http.server": r"\(http\.server\)",
    "file": r"^source: ",  # any source naming a path; the path must then pass through open()
    "flask": r"^source: (Flask request|the Flask request|parameter \w+ of route)",
    "django": r"^source: (Django request|Django URL parameters|parameter \w+ of view)",
    "fastapi": r"^source: (parameter \w+ of route|Starlette|request\.\w+ \(Starlette/FastAPI\))",
    "aiohttp": r"^source: aiohttp",
    "webob": r"^source: (webob|parameter \w+ of api-controller)",
    "pecan": r"^source: (pecan|parameter \w+ of api-controller)",
    "handler": r"^source: parameter \w+ of (route|view|http-handler)",
}
SINK_KINDS = taint_models.SINK_KINDS
NAMED_SINKS = ("sqlalchemy.text", ".raw", ".extra", "cursor.execute", "send_file", "shutil.", "requests.", "httpx.")
NAMED_SINKS += ("urllib.request.", "subprocess.", "os.system", "eval", "yaml.load", "jinja2.Template", "mark_safe")


def _reported(unit: Path) -> dict[tuple[str, int, str], list[Finding]]:
    """SCR5 findings by (path in the case, line, rule), paths shown as in a tree of their own.

    The case is reviewed from its own directory, so its files are not taken for tests
    (under tests/) and their entry points (routes, views, handlers) count as sources.
    """
    with contextlib.chdir(unit if unit.is_dir() else unit.parent):
        review = api.scan(["." if unit.is_dir() else unit.name])
    out: dict[tuple[str, int, str], list[Finding]] = {}
    for finding in [*review.findings, *(s.finding for s in review.suppressed)]:
        if finding.rule_id.startswith("SCR5"):
            path = finding.location.path.removeprefix("./")
            out.setdefault((path, finding.location.line, finding.rule_id), []).append(finding)
    return out


@pytest.fixture(scope="module")
def reviewed() -> dict[Path, dict[tuple[str, int, str], list[Finding]]]:
    return {unit: _reported(unit) for unit in taint_cases.units()}


def test_every_case_is_found_exactly_from_its_source(reviewed) -> None:  # type: ignore[no-untyped-def]
    """Each vulnerable line is reported from its source line, and nothing else is (safe twins stay clean)."""
    cases, problems = taint_cases.read_cases()
    assert not problems, problems
    for unit, reported in reviewed.items():
        expected = {(c.path, c.line, c.rule_id): c for c in cases.values() if c.unit == unit}
        assert set(reported) == set(expected), (
            f"{unit.name}: missing {sorted(set(expected) - set(reported))}, "
            f"unexpected {sorted(set(reported) - set(expected))}"
        )
        for key, case in expected.items():
            sources = set()
            for finding in reported[key]:
                assert finding.trace, "a taint finding carries its path"
                first = finding.trace[0]
                sources.add((first.path.removeprefix("./"), first.line))
            assert case.source in sources, f"{case.name}: {key} reported from {sorted(sources)}, not {case.source}"


def test_safe_twins_use_the_same_kind_of_sink() -> None:
    cases, _ = taint_cases.read_cases()
    for case in cases.values():
        for path, line in case.safe:
            file = case.unit / path if case.unit.is_dir() else case.unit
            assert taint_cases.sink_calls_on(file, line), f"safe twin of {case.name} at {path}:{line} calls no sink"


def test_cases_cover_every_sink_source_module_class_and_feature(reviewed) -> None:  # type: ignore[no-untyped-def]
    cases, _ = taint_cases.read_cases()
    assert len(cases) >= 80
    kinds, callees, families, crossing, methods, features = set(), set(), set(), [], [], set()
    for case in cases.values():
        base = case.unit if case.unit.is_dir() else case.unit.parent
        (finding, *_) = reviewed[case.unit][(case.path, case.line, case.rule_id)]
        steps = [(s.path.removeprefix("./"), s.line) for s in finding.trace]
        trees = {p: ast.parse((base / p).read_text()) for p in {p for p, _ in steps}}
        sink = re.match(r"sink: (\S+) \((\w+)\), missing sanitizer: .+", finding.trace[-1].message)
        assert sink, finding.trace[-1].message
        callees.add(sink.group(1))
        kinds.add(sink.group(2))
        assert case.family in SOURCE_FAMILIES, f"{case.name}: unknown family {case.family}"
        assert re.search(SOURCE_FAMILIES[case.family], finding.trace[0].message), (case.name, finding.trace[0].message)
        if case.family == "file":
            assert any("open(" in (base / p).read_text().splitlines()[n - 1] for p, n in steps[1:]), case.name
        families.add(case.family)
        if len({p for p, _ in steps}) > 1:
            crossing.append(case.name)
        for feature in case.features:
            if feature == "class":
                assert taint_cases.in_method(trees, steps), f"{case.name}: the path passes through no method"
                methods.append(case.name)
            else:
                assert taint_cases.feature_seen(feature, trees, steps), f"{case.name}: no {feature} on the path"
            features.add(feature)
    assert kinds == SINK_KINDS
    assert all(any(named in callee for callee in callees) for named in NAMED_SINKS), sorted(callees)
    assert families == set(SOURCE_FAMILIES)
    assert len(crossing) >= 15, crossing
    assert len(methods) >= 10, methods
    assert features >= {*taint_cases.FEATURES, "recursion", "class", "guard"}, sorted(features)


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
        ('[[sanitizer]]\ndecorator = "validation.schema"\nclears = ["log"]\n', "decorator and params go together"),
        ('[[sink]]\nkind = "deserialize"\ncall = "yaml.load"\nsafe_keyword = "Loader"\n', "safe_values go together"),
        (
            '[[guard]]\ncall = "x.check"\nmembership = true\nraises = true\nclears = ["all"]\n',
            "raises is true or false",
        ),
        ('[[sink]]\nkind = "header"\ncall = "h.add"\non = ["werkzeug.Headers()"]\n', "on applies to method sinks"),
        ('[[sink]]\nkind = "header"\nmethod = "add"\nmapping_keys = 1\n', "must be true or false"),
        ('[[sink]]\nkind = "header"\nmethod = "add"\nmapping_keys = true\nlist_first = true\n', "at most one"),
        ('[[sink]]\nkind = "sql"\nmethod = "find"\nscript_keys = ["$where"]\n', "script_keys applies"),
        ('[[propagator]]\ncall = "json.loads"\nmarks = "structured"\n', "list of strings"),
        ('[[sanitizer]]\ncall = "str"\nremoves = "x"\nclears = ["all"]\n', "removes applies"),
    ],
)
def test_bad_models_are_rejected(text: str, complaint: str) -> None:
    with pytest.raises(ModelError, match=complaint):
        parse_model(text, "user.toml")


def test_a_method_sink_on_receivers_becomes_one_call_model_per_receiver() -> None:
    text = '[[sink]]\nkind = "header"\nmethod = "add"\non = ["a.Headers()", "b.Response().headers"]\nargs = [0]\n'
    models = parse_model(text, "user.toml")
    assert sorted(models.sink_calls) == ["a.Headers().add", "b.Response().headers.add"]
    assert not models.sink_methods  # not a sink on any receiver's .add()
    assert models.sink_calls["a.Headers().add"][0].args == (0,)


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
        "Followed through the code, server and dest_host come from the test code, not from an untrusted source, "
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


def test_a_cross_module_path_shows_in_text_json_and_sarif_code_flows() -> None:
    """Source (file:line), each step, sink (file:line) and the missing sanitizer, in every format."""

    import jsonschema

    from scrutiny.report import json_out, prose, sarif

    with contextlib.chdir(CASES / "dotted_chain"):
        review = api.scan(["svc"])
    (finding,) = [f for f in review.findings if f.rule_id == "SCR509"]
    trace = [(s.path, s.line, s.message) for s in finding.trace]
    assert trace[0][:2] == ("svc/handlers.py", 8) and trace[0][2].startswith("source: HTTP request headers")
    assert trace[-1] == ("svc/data/dao.py", 7, "sink: LOG.info (log), missing sanitizer: " + LogInjectionRule.missing)
    assert {"svc/handlers.py", "svc/service.py", "svc/data/dao.py"} <= {p for p, _, _ in trace}
    assert any(m == "calls handle()" for _, _, m in trace) and any(m == "calls record()" for _, _, m in trace)

    document = json_out.to_dict(review)
    schema = json.loads((Path(json_out.__file__).parent / "review.schema.json").read_text())
    jsonschema.validate(document, schema)
    (entry,) = [f for f in document["findings"] if f["rule_id"] == "SCR509"]
    assert [(s["path"], s["line"], s["message"]) for s in entry["trace"]] == trace

    text = prose.render(review)
    assert "     Path:" in text
    assert "1. svc/handlers.py:8 source: HTTP request headers" in text
    assert f"{len(trace)}. svc/data/dao.py:7 sink: LOG.info (log), missing sanitizer:" in text

    (result,) = [r for r in sarif.to_dict(review)["runs"][0]["results"] if r["ruleId"] == "SCR509"]
    locations = result["codeFlows"][0]["threadFlows"][0]["locations"]
    uris = [loc["location"]["physicalLocation"]["artifactLocation"]["uri"] for loc in locations]
    assert uris[0].endswith("svc/handlers.py") and uris[-1].endswith("svc/data/dao.py") and len(set(uris)) == 3
    assert [loc["location"]["message"]["text"] for loc in locations] == [m for _, _, m in trace]


def test_two_sources_at_one_sink_are_ordered_whatever_the_hash_seed(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "handler.py").write_text(
        "import logging\n\nimport webob\nLOG = logging.getLogger(__name__)\n\n\n"
        "def handle(req: webob.Request):\n    a = req.headers.get('A')\n    b = req.headers.get('B')\n"
        "    LOG.error('bad %s %s' % (a, b))\n"
    )
    outputs = set()
    for seed in ("1", "2", "3", "4"):
        done = subprocess.run(
            [sys.executable, "-m", "scrutiny", "review", "--no-cache", "--format", "json", "handler.py"],
            cwd=tmp_path,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=False,
        )
        (finding,) = [f for f in json.loads(done.stdout)["findings"] if f["rule_id"] == "SCR509"]
        # One defect: the second source is listed with the first.
        assert [finding["trace"][0]["line"]] + [c["source"]["line"] for c in finding["corroborated_by"]] == [8, 9]
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_what_a_finding_rests_on_is_said_and_weighed(reviewed) -> None:  # type: ignore[no-untyped-def]
    """A path through a call without a model, or past a check that cannot be read, claims less."""
    found = reviewed[CASES / "checks_by_evidence.py"]
    (through_helper,) = found[("checks_by_evidence.py", 62, "SCR501")]
    assert "assumes textwrap.dedent() passes the data on" in through_helper.message
    assert through_helper.confidence.label == "low"
    assert any("which has no model" in step.message for step in through_helper.trace)
    (unread,) = found[("checks_by_evidence.py", 76, "SCR501")]
    assert "known_sku(), a check scrutiny cannot read" in unread.message
    assert unread.severity.label == "high" and unread.confidence.label == "low"
    (by_name,) = found[("checks_by_evidence.py", 36, "SCR501")]
    assert by_name.severity.label == "high" and by_name.confidence.label == "medium"


@pytest.mark.parametrize("layered_from,layer_limit", [(0, 0), (0, 2), (3, 5)])
def test_a_layered_environment_behaves_as_the_dict_it_stands_for(
    monkeypatch: pytest.MonkeyPatch, layered_from: int, layer_limit: int
) -> None:
    """Copies, writes, deletions, joins and comparisons give the same environments whether
    they are plain dicts or Layered ones (forced here from the first name, folding often)."""
    import random

    from scrutiny.taint import values

    monkeypatch.setattr(values, "LAYERED_FROM", layered_from)
    monkeypatch.setattr(values, "LAYER_LIMIT", layer_limit)
    for seed in range(150):
        rng = random.Random(seed)
        names = [f"n{i}" for i in range(10)]
        pool = [{(("p", i), frozenset()): ((i, 0, "x"),)} for i in range(5)]
        start = {n: rng.choice(pool) for n in names if rng.random() < 0.6}
        plain: list[dict] = [start]  # type: ignore[type-arg]
        layered: list[object] = [dict(start)]
        for _ in range(50):
            i = rng.randrange(len(plain))
            p, lay = plain[i], layered[i]
            roll, name = rng.random(), rng.choice(names)
            if roll < 0.25:
                plain.append(dict(p))
                layered.append(values.copy_env(lay))  # type: ignore[arg-type]
            elif roll < 0.55:
                taint = rng.choice([*pool, {(("s", seed), frozenset()): ((seed, 1, "y"),)}])
                p[name] = taint
                lay[name] = taint  # type: ignore[index]
            elif roll < 0.7:
                assert p.pop(name, None) == lay.pop(name, None)  # type: ignore[attr-defined]
            else:
                j = rng.randrange(len(plain))
                assert values.same(p, plain[j]) == values.same(lay, layered[j])  # type: ignore[arg-type]
                plain.append(values.join_env(p, plain[j]))  # type: ignore[arg-type]
                layered.append(values.join_env(lay, layered[j]))  # type: ignore[arg-type]
            for want, got in zip(plain, layered, strict=True):
                assert len(want) == len(got) and bool(want) == bool(got)  # type: ignore[arg-type]
                assert dict(want) == (got if type(got) is dict else got.flat())  # type: ignore[attr-defined]
                for n in names:
                    assert (n in want) == (n in got) and want.get(n) == got.get(n)  # type: ignore[operator]
