"""The per-file time budget: a file whose review runs away becomes a "timeout" error, never a hang."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import pytest

from helpers import review_json
from scrutiny import api
from scrutiny.discover import Input

SHELL = "import subprocess\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n"


def big_function(statements: int) -> str:
    """One function of many statements (branches and loops): seconds of analysis, not milliseconds."""
    body = []
    for i in range(statements):
        body.append(f"    v{i} = value + '{i}'\n    if v{i}:\n        value = v{i}.strip()\n")
        body.append(f"    for item in v{i}.split():\n        os.system(item)\n")
    return "import os\n\n\ndef main(value):\n" + "".join(body) + "    return value\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "big.py").write_text(big_function(6000))
    (tmp_path / "small.py").write_text(SHELL)
    return tmp_path


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_over_budget_is_a_timeout_error_and_the_others_are_reviewed(tree: Path, jobs: int) -> None:
    before = signal.getsignal(signal.SIGALRM)
    started = time.monotonic()
    review = api.scan([str(tree)], api.Config(jobs=jobs, file_timeout=1.0))
    assert time.monotonic() - started < 60
    assert [(e.path.rsplit("/", 1)[-1], e.kind) for e in review.errors] == [("big.py", "timeout")]
    assert "budget of 1 s" in review.errors[0].message
    assert {f.location.path.rsplit("/", 1)[-1] for f in review.findings} == {"small.py"}
    assert "No security defects" not in review.verdict
    assert signal.getsignal(signal.SIGALRM) == before  # the previous handler is back


def test_a_generous_budget_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "small.py").write_text(SHELL)
    with_budget = api.scan([str(tmp_path)], api.Config(jobs=1, file_timeout=60))
    without = api.scan([str(tmp_path)], api.Config(jobs=1, file_timeout=0))
    assert not with_budget.errors
    assert with_budget.findings == without.findings


def test_a_timed_out_file_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRUTINY_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "big.py").write_text(big_function(300))
    first = api.scan([str(tmp_path / "src")], api.Config(jobs=1, cache=True, file_timeout=0.001))
    assert [e.kind for e in first.errors] == ["timeout"]
    second = api.scan([str(tmp_path / "src")], api.Config(jobs=1, cache=True, file_timeout=0))
    assert second.errors == []
    assert second.findings


def test_off_the_main_thread_the_review_runs_without_a_budget() -> None:
    item = Input("big.py", data=big_function(300).encode())
    results: list[api.FileResult] = []
    rules = api.RuleSet(api.all_rules())
    thread = threading.Thread(target=lambda: results.append(api.review_file(item, rules, file_timeout=0.001)))
    thread.start()
    thread.join()
    assert results[0].error is None
    assert results[0].findings


def test_the_flag_and_the_configuration_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "big.py").write_text(big_function(2000))
    (tmp_path / "pyproject.toml").write_text("[tool.scrutiny]\nfile-timeout = 0.02\n")
    code, review = review_json(capsys, "--no-cache", "--jobs", "1", str(tmp_path))
    assert code == 2  # nothing could be reviewed
    assert [(e["kind"], "0.02 s" in e["message"]) for e in review["errors"]] == [("timeout", True)]
    code, review = review_json(capsys, "--no-cache", "--jobs", "1", "--file-timeout", "0.01", str(tmp_path))
    assert [(e["kind"], "0.01 s" in e["message"]) for e in review["errors"]] == [("timeout", True)]


@pytest.mark.parametrize("value", ["-1", '"soon"', "true"])
def test_a_bad_budget_in_the_configuration_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    from scrutiny import cli

    (tmp_path / "small.py").write_text(SHELL)
    (tmp_path / "pyproject.toml").write_text(f"[tool.scrutiny]\nfile-timeout = {value}\n")
    assert cli.main(["review", "--quiet", "--no-cache", str(tmp_path)]) == 2
    assert "file-timeout" in capsys.readouterr().err


def test_a_negative_flag_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scrutiny import cli

    (tmp_path / "small.py").write_text(SHELL)
    assert cli.main(["review", "--quiet", "--no-cache", "--file-timeout", "-3", str(tmp_path)]) == 2
    assert "--file-timeout" in capsys.readouterr().err
