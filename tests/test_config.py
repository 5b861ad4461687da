"""Configuration: where it is found, what each key does, what wins, and every way it can be wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scrutiny import api, cli, config
from scrutiny.taint import models

WEAK_HASH = "import hashlib\n\n\ndef key(data):\n    return hashlib.md5(data).hexdigest()\n"
SHELL = "import os\n\n\ndef run(cmd):\n    os.system(cmd)\n"


@pytest.fixture(autouse=True)
def _no_leftover_models() -> Iterator[None]:
    yield
    models.use_extra(())


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def review(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = cli.main(["review", "--format", "json", "--quiet", "--no-cache", *args])
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    return code, json.loads(captured.out)


def rule_ids(result: dict[str, Any], path_part: str = "") -> list[str]:
    return sorted(f["rule_id"] for f in result["findings"] if path_part in f["path"])


# Finding the file ------------------------------------------------------------------------


def test_pyproject_is_found_from_the_first_target_upward(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = write(tmp_path / "repo", {"src/pkg/hashing.py": WEAK_HASH})
    (repo / ".git").mkdir()
    _, before = review(capsys, str(repo / "src" / "pkg"))
    assert "SCR301" in rule_ids(before)
    write(repo, {"pyproject.toml": '[project]\nname = "x"\n\n[tool.scrutiny]\ndisable = ["SCR301"]\n'})
    _, after = review(capsys, str(repo / "src" / "pkg"))
    assert "SCR301" not in rule_ids(after)


def test_the_search_stops_at_the_repository_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.scrutiny]\ndisable = ["SCR301"]\n'})
    repo = write(tmp_path / "repo", {"hashing.py": WEAK_HASH, "pyproject.toml": '[project]\nname = "x"\n'})
    (repo / ".git").mkdir()
    assert config.find(repo) is None
    _, result = review(capsys, str(repo))
    assert "SCR301" in rule_ids(result)
    # Without the .git marker the search goes on past a pyproject.toml with no [tool.scrutiny].
    (repo / ".git").rmdir()
    assert config.find(repo) == tmp_path / "pyproject.toml"


def test_config_file_with_top_level_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"a.py": WEAK_HASH + SHELL, "scrutiny.toml": 'enable = ["SCR3"]\n'})
    _, result = review(capsys, "--config", str(tmp_path / "scrutiny.toml"), str(tmp_path / "a.py"))
    assert rule_ids(result) == ["SCR301"]
    checked = {rule for aspect in result["aspects"] for rule in aspect["checked_rules"]}
    assert checked and all(rule.startswith("SCR3") for rule in checked)


def test_enable_and_disable_take_prefixes_and_disable_wins(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"a.py": WEAK_HASH + SHELL, "s.toml": 'enable = ["SCR1", "SCR3"]\ndisable = ["SCR102"]\n'})
    _, result = review(capsys, "--config", str(tmp_path / "s.toml"), str(tmp_path / "a.py"))
    assert rule_ids(result) == ["SCR301"]


def test_command_line_flags_win_over_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = 'min-severity = "high"\ndisable = ["SCR102"]\njobs = 1\n'
    write(tmp_path, {"a.py": WEAK_HASH + SHELL, "s.toml": settings})
    _, from_file = review(capsys, "--config", str(tmp_path / "s.toml"), str(tmp_path / "a.py"))
    assert rule_ids(from_file) == [] and from_file["summary"]["min_severity"] == "high"
    _, flags = review(
        capsys, "--config", str(tmp_path / "s.toml"), "--min-severity", "info", "--disable", "SCR3", str(tmp_path)
    )
    assert rule_ids(flags) == ["SCR102"] and flags["summary"]["min_severity"] == "info"
    # --disable replaces the file's disable list, so SCR102 is back; --enable narrows to SCR1xx.
    flags = ["--min-severity", "low", "--enable", "SCR1", "--disable", "SCR130"]
    _, narrowed = review(capsys, "--config", str(tmp_path / "s.toml"), *flags, str(tmp_path / "a.py"))
    assert rule_ids(narrowed) == ["SCR102"]


def test_include_narrows_the_walk_but_not_named_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {"src/a.py": WEAK_HASH, "tools/b.py": WEAK_HASH, "s.toml": 'include = ["src/*"]\n'}
    write(tmp_path, files)
    cfg = str(tmp_path / "s.toml")
    _, walked = review(capsys, "--config", cfg, str(tmp_path))
    assert [f["path"] for f in walked["files"]] == [str(tmp_path / "src" / "a.py")]
    _, named = review(capsys, "--config", cfg, str(tmp_path / "tools" / "b.py"))
    assert named["summary"]["files_reviewed"] == 1


def test_exclude_from_the_file_and_its_replacement_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {"src/a.py": WEAK_HASH, "legacy/b.py": WEAK_HASH, "s.toml": 'exclude = ["legacy"]\n'})
    cfg = str(tmp_path / "s.toml")
    _, excluded = review(capsys, "--config", cfg, str(tmp_path))
    assert [Path(f["path"]).parent.name for f in excluded["files"]] == ["src"]
    _, replaced = review(capsys, "--config", cfg, "--exclude", "src", str(tmp_path))
    assert [Path(f["path"]).parent.name for f in replaced["files"]] == ["legacy"]


def test_globs_are_relative_to_the_configuration_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = 'exclude = ["src/gen/*"]\n\n[[overrides]]\npaths = ["tests"]\ndisable = ["SCR301"]\n'
    files = {"src/gen/a.py": WEAK_HASH, "src/b.py": WEAK_HASH, "src/pkg/tests/test_c.py": WEAK_HASH}
    write(tmp_path, {**files, "s.toml": settings})
    # The walk starts at src/, but "src/gen/*" is read from the configuration's directory.
    _, result = review(capsys, "--config", str(tmp_path / "s.toml"), str(tmp_path / "src"))
    assert sorted(Path(f["path"]).name for f in result["files"]) == ["b.py", "test_c.py"]
    assert rule_ids(result, "/tests/") == [] and rule_ids(result, "b.py") == ["SCR301"]


def test_overrides_apply_to_matching_files_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = """
disable = ["SCR102"]

[[overrides]]
paths = ["tools/*"]
disable = ["SCR301"]
enable = ["SCR102"]

[[overrides]]
paths = ["legacy"]
min-severity = "high"
"""
    code = WEAK_HASH + SHELL
    write(tmp_path, {"src/a.py": code, "tools/b.py": code, "legacy/c.py": code, "s.toml": settings})
    _, result = review(capsys, "--config", str(tmp_path / "s.toml"), str(tmp_path))
    assert rule_ids(result, "/src/") == ["SCR301"]
    assert rule_ids(result, "/tools/") == ["SCR102"]
    assert rule_ids(result, "/legacy/") == []
    below = [s for s in result["suppressed"] if "/legacy/" in s["path"]]
    assert [s["hidden_by"] for s in below] == ["min-severity"] and "set for this file" in below[0]["reason"]


def test_honor_nosec_from_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = "import hashlib\nhashlib.md5(b'')  # nosec B324 - cache key only\n"
    write(tmp_path, {"a.py": code, "s.toml": "honor-nosec = true\n"})
    _, ignored = review(capsys, str(tmp_path / "a.py"))
    assert rule_ids(ignored) == ["SCR301"]
    _, honoured = review(capsys, "--config", str(tmp_path / "s.toml"), str(tmp_path / "a.py"))
    assert rule_ids(honoured) == [] and honoured["summary"]["hidden_by"]["nosec"] == 1
    _, flag_off = review(capsys, "--config", str(tmp_path / "s.toml"), "--no-honor-nosec", str(tmp_path / "a.py"))
    assert rule_ids(flag_off) == ["SCR301"]


# Taint models from the project -----------------------------------------------------------

PROJECT_FLOW = """\
from acme.gateway import incoming
from acme.remote import execute_on_host


def handle():
    order = incoming()
    execute_on_host(order)
"""
PROJECT_MODEL = """\
description = "Acme's message gateway and remote runner"

[[source]]
kind = "remote"
label = "gateway message"
call = "acme.gateway.incoming"

[[sink]]
kind = "shell"
call = "acme.remote.execute_on_host"
args = [0]
"""


def test_project_taint_models_add_sources_and_sinks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"app.py": PROJECT_FLOW, "conf/models/acme.toml": PROJECT_MODEL})
    write(tmp_path, {"conf/scrutiny.toml": 'taint-models = ["models/acme.toml"]\n'})
    _, without = review(capsys, str(tmp_path / "app.py"))
    assert "SCR501" not in rule_ids(without)
    _, with_models = review(capsys, "--config", str(tmp_path / "conf" / "scrutiny.toml"), str(tmp_path / "app.py"))
    (finding,) = [f for f in with_models["findings"] if f["rule_id"] == "SCR501"]
    assert finding["line"] == 7 and "gateway message" in finding["message"], finding["message"]
    _, after = review(capsys, str(tmp_path / "app.py"))
    assert "SCR501" not in rule_ids(after), "models of one run leaked into the next"


def test_models_load_takes_extra_files(tmp_path: Path) -> None:
    model = write(tmp_path, {"acme.toml": PROJECT_MODEL}) / "acme.toml"
    assert "acme.remote.execute_on_host" not in models.load().sink_calls
    extended = models.load((model,))
    assert "acme.remote.execute_on_host" in extended.sink_calls
    assert str(model) in extended.files and set(models.load().files) < set(extended.files)


# The result cache ------------------------------------------------------------------------


def test_changing_the_configuration_invalidates_cached_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCRUTINY_CACHE_DIR", str(tmp_path / "cache"))
    write(tmp_path, {"app.py": PROJECT_FLOW + WEAK_HASH})
    cfg = tmp_path / "s.toml"

    def run(settings: str) -> list[str]:
        cfg.write_text(settings)
        code = cli.main(["review", "--format", "json", "--quiet", "--config", str(cfg), str(tmp_path / "app.py")])
        out = capsys.readouterr().out
        assert code in (0, 1)
        return rule_ids(json.loads(out))

    assert "SCR301" in run("")
    assert "SCR301" not in run('disable = ["SCR301"]\n'), "rule set"
    assert "SCR301" not in run('[[overrides]]\npaths = ["app.py"]\ndisable = ["SCR301"]\n'), "overrides"
    write(tmp_path, {"m.toml": PROJECT_MODEL.replace("execute_on_host", "nothing_here")})
    assert "SCR501" not in run('taint-models = ["m.toml"]\n')
    write(tmp_path, {"m.toml": PROJECT_MODEL})
    assert "SCR501" in run('taint-models = ["m.toml"]\n'), "model file content"
    assert "SCR501" not in run(""), "models dropped"


def test_the_settings_fingerprint_follows_what_changes_results(tmp_path: Path) -> None:
    model = write(tmp_path, {"m.toml": PROJECT_MODEL}) / "m.toml"
    base = config.Settings(root=tmp_path)
    same = config.Settings(root=tmp_path, min_severity=config.Severity.HIGH, jobs=3, exclude=("x",))
    assert base.fingerprint() == same.fingerprint(), "settings applied after the per-file review"
    changed = [
        config.Settings(root=tmp_path, disable=("SCR3",)),
        config.Settings(root=tmp_path, enable=("SCR3",)),
        config.Settings(root=tmp_path, honor_nosec=True),
        config.Settings(root=tmp_path, overrides=(config.Override(("a",), disable=("SCR1",)),)),
        config.Settings(root=tmp_path, taint_models=(model,)),
    ]
    assert len({base.fingerprint(), *(s.fingerprint() for s in changed)}) == 1 + len(changed)
    before = changed[-1].fingerprint()
    model.write_text(PROJECT_MODEL + "\n[[exit]]\ncall = 'acme.stop'\n")
    assert changed[-1].fingerprint() != before


# Errors ----------------------------------------------------------------------------------

BAD_MODEL = '[[sink]]\nkind = "shell"\ncall = "x.run"\nargz = [0]\n'
ERRORS = {
    "toml-syntax": ("exclude = [\n", "not valid TOML", 0),
    "unknown-key": ('jobs = 2\nmin_severity = "low"\n', "min_severity: unknown key", 2),
    "wrong-type-list": ('exclude = "build"\n', "exclude: must be a list", 1),
    "wrong-type-severity": ("min-severity = 3\n", "min-severity: must be a string", 1),
    "unknown-rule": ('\n\ndisable = ["SCR999"]\n', "disable: 'SCR999' is not a rule id", 3),
    "unknown-prefix": ('enable = ["XYZ"]\n', "enable: 'XYZ' is not a rule id", 1),
    "unknown-severity": ('min-severity = "urgent"\n', "min-severity: unknown severity 'urgent'", 1),
    "honor-nosec-type": ('honor-nosec = "yes"\n', "honor-nosec: must be true or false", 1),
    "jobs-negative": ("jobs = -1\n", "jobs: must be a whole number", 1),
    "jobs-bool": ("jobs = true\n", "jobs: must be a whole number", 1),
    "missing-model": (
        'taint-models = ["models/none.toml"]\n',
        "taint-models: model file models/none.toml not found",
        1,
    ),
    "invalid-model": ('taint-models = ["bad.toml"]\n', "taint-models: model file bad.toml: sink #1: unknown key", 1),
    "overrides-type": ('overrides = "tests"\n', "overrides: must be an array of tables", 1),
    "override-no-paths": ('[[overrides]]\ndisable = ["SCR3"]\n', "overrides: [[overrides]] #1 has no paths", 1),
    "override-unknown-key": (
        '[[overrides]]\npaths = ["a"]\n\n[[overrides]]\npaths = ["b"]\nignore = ["SCR3"]\n',
        "ignore: unknown key in [[overrides]] #2",
        6,
    ),
    "override-bad-rule": ('[[overrides]]\npaths = ["a"]\nenable = ["SCR000"]\n', "enable: 'SCR000'", 3),
    "override-bad-severity": ('[[overrides]]\npaths = ["a"]\nmin-severity = "x"\n', "min-severity: unknown", 3),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_bad_configuration_exits_2_naming_file_key_and_line_before_writing(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, expected, line = ERRORS[case]
    write(tmp_path, {"a.py": WEAK_HASH, "scrutiny.toml": text, "bad.toml": BAD_MODEL})
    output = tmp_path / "review.json"
    cfg = tmp_path / "scrutiny.toml"
    code = cli.main(["review", "--config", str(cfg), "-o", str(output), str(tmp_path / "a.py")])
    err = capsys.readouterr().err
    assert code == 2 and not output.exists()
    assert err.startswith(f"scrutiny: error: {cfg}{f':{line}' if line else ''}: "), err
    assert expected in err


def test_errors_in_pyproject_name_the_line_inside_tool_scrutiny(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = '[project]\nname = "x"\njobs = 1\n\n[tool.scrutiny]\nexclude = ["a"]\njobs = "four"\n'
    write(tmp_path, {"pyproject.toml": text, "a.py": WEAK_HASH})
    output = tmp_path / "out.txt"
    assert cli.main(["review", "-o", str(output), str(tmp_path / "a.py")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'pyproject.toml'}:7: jobs: must be a whole number" in err and not output.exists()


def test_pyproject_errors_in_overrides_and_broken_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = '[tool.scrutiny]\n\n[[tool.scrutiny.overrides]]\npaths = ["a"]\n\n[[tool.scrutiny.overrides]]\npaths = 3\n'
    write(tmp_path, {"pyproject.toml": text, "a.py": WEAK_HASH})
    assert cli.main(["review", str(tmp_path / "a.py")]) == 2
    assert f"{tmp_path / 'pyproject.toml'}:7: paths: must be a list" in capsys.readouterr().err
    # A discovered pyproject.toml that mentions [tool.scrutiny] but does not parse is an error...
    (tmp_path / "pyproject.toml").write_text("[tool.scrutiny]\nexclude = [\n")
    assert cli.main(["review", str(tmp_path / "a.py")]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    # ...one that never mentions scrutiny is someone else's problem.
    (tmp_path / "pyproject.toml").write_text("[project\n")
    assert cli.main(["review", "--quiet", "--format", "json", str(tmp_path / "a.py")]) == 1
    capsys.readouterr()
    (tmp_path / "bad.toml").write_bytes(b"exclude = ['\xff']\n")
    assert cli.main(["review", "--config", str(tmp_path / "bad.toml"), str(tmp_path / "a.py")]) == 2
    assert "bad.toml: cannot read" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("files", "args", "expected"),
    [
        ({}, ["--config", "{tmp}/missing.toml"], "missing.toml: --config: no such file"),
        ({"pyproject.toml": '[project]\nname = "x"\n'}, ["--config", "{tmp}/pyproject.toml"], "no [tool.scrutiny]"),
        ({}, ["--disable", "SCR301,SCR0"], "--disable: 'SCR0' is not a rule id"),
        ({}, ["--enable", "nope"], "--enable: 'NOPE' is not a rule id"),
        ({}, ["--min-severity", "severe"], "--min-severity: unknown severity"),
        ({}, ["--jobs", "-2"], "--jobs: must be 0"),
    ],
    ids=["missing-file", "pyproject-without-table", "bad-disable", "bad-enable", "bad-severity", "bad-jobs"],
)
def test_bad_flags_and_config_files_exit_2_without_output(
    files: dict[str, str], args: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {"a.py": WEAK_HASH, **files})
    output = tmp_path / "review.json"
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code = cli.main(["review", *argv, "-o", str(output), str(tmp_path / "a.py")])
    err = capsys.readouterr().err
    assert code == 2 and not output.exists() and expected in err, err


def test_scan_without_configuration_runs_every_rule() -> None:
    plan = config.Plan()
    assert plan.enabled == config.every_rule().enabled and not plan.settings.honor_nosec
    assert api.Config().settings is None
