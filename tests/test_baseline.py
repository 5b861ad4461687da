"""Baselines: `scrutiny baseline create` and `scrutiny review --baseline`, on a real git repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo, needs_git

from scrutiny import cli
from scrutiny.baseline import VERSION
from scrutiny.report.compose import CLEAN_VERDICT

pytestmark = needs_git

APP = """\
import subprocess

DB_PASSWORD = "s3cr3t-Pa55-hunter2"


def run(cmd):
    subprocess.run(cmd, shell=True)
"""


def review(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = cli.main(["review", "--format", "json", "--quiet", "-j", "1", *args])
    return code, json.loads(capsys.readouterr().out)


def rules(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["rule_id"], f["path"]) for f in document["findings"] if f["severity"] != "info"]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Repo:
    repository = Repo(tmp_path / "repo")
    repository.write("pkg/__init__.py", "")
    repository.write("pkg/app.py", APP)
    repository.commit("base")
    monkeypatch.chdir(repository.root)
    assert cli.main(["baseline", "create", "-o", "baseline.json", "pkg"]) == 0
    assert "written to baseline.json" in capsys.readouterr().err
    return repository


def test_the_baseline_file_is_versioned_and_holds_no_code(repo: Repo) -> None:
    document = json.loads((repo.root / "baseline.json").read_text())
    assert document["format"] == "scrutiny-baseline" and document["version"] == VERSION
    # SCR339 is the info note on `import subprocess`; a baseline accepts notes too.
    assert sorted(e["rule_id"] for e in document["entries"]) == ["SCR101", "SCR339", "SCR401"]
    assert all(e["path"] == "pkg/app.py" for e in document["entries"])
    assert "hunter2" not in (repo.root / "baseline.json").read_text()


def test_a_baseline_hides_what_it_accepts_and_says_so(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    code, plain = review(capsys, "pkg")
    assert code == 1 and sorted(rules(plain)) == [("SCR101", "pkg/app.py"), ("SCR401", "pkg/app.py")]
    code, document = review(capsys, "--baseline", "baseline.json", "pkg")
    assert code == 0
    assert rules(document) == []
    accepted = len(json.loads((repo.root / "baseline.json").read_text())["entries"])
    assert document["baseline"] == {"path": "baseline.json", "entries": accepted, "hidden": accepted}
    assert document["summary"]["hidden_by"]["baseline"] == accepted
    # Defects remain in the code, so the verdict does not call it free of them.
    assert document["verdict"]["text"] != CLEAN_VERDICT and document["verdict"]["clean"] is False
    assert "accepted in the baseline baseline.json" in document["verdict"]["text"]
    assert cli.main(["review", "--quiet", "-j", "1", "--baseline", "baseline.json", "pkg"]) == 0
    text = capsys.readouterr().out
    assert f"{accepted} findings are accepted in the baseline baseline.json and hidden" in text
    # The baseline hid them, not file context or an inline suppression (issue 16).
    assert "by the baseline" in text and "by context or inline suppression" not in text


def test_matching_survives_inserted_lines_and_a_rename(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.git("mv", "pkg/app.py", "pkg/tools.py")
    repo.write("pkg/tools.py", '"""Tools."""\n\nimport os\n\n' + APP)
    code, document = review(capsys, "--baseline", "baseline.json", "pkg")
    assert code == 0, rules(document)
    assert rules(document) == []
    # A genuinely new finding is still reported, and only it.
    repo.write(
        "pkg/tools.py",
        '"""Tools."""\n\nimport os\n\n'
        + APP
        + "\n\ndef load(blob):\n    import pickle\n\n    return pickle.loads(blob)\n",
    )
    code, document = review(capsys, "--baseline", "baseline.json", "pkg")
    assert code == 1
    assert rules(document) == [("SCR201", "pkg/tools.py")]


def test_a_second_copy_of_an_accepted_line_is_reported(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("pkg/app.py", APP + "    subprocess.run(cmd, shell=True)\n")
    code, document = review(capsys, "--baseline", "baseline.json", "pkg")
    assert code == 1
    assert rules(document) == [("SCR101", "pkg/app.py")]
    assert document["baseline"]["hidden"] == 3  # SCR101, SCR401 and the SCR339 note


def test_a_baseline_applies_to_a_change_review_too(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.commit("baseline")
    repo.write("pkg/app.py", "# a comment\n" + APP)
    code, document = review(capsys, "--diff", "HEAD", "--baseline", "baseline.json", "pkg")
    assert code == 0
    assert rules(document) == []
    assert document["baseline"]["hidden"] == 3  # SCR101, SCR401 and the SCR339 note
    assert document["change"]["counts"]["introduced"] == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ('{"format": "other"}', "is not a scrutiny baseline"),
        ('{"format": "scrutiny-baseline", "version": 99, "entries": []}', "has version 99"),
        ('{"format": "scrutiny-baseline", "version": 1, "entries": [{"rule_id": 1}]}', "entry 1 needs"),
    ],
)
def test_a_bad_baseline_stops_before_any_output(
    repo: Repo, content: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    out = tmp_path / "out"
    out.mkdir()
    argv = ["review", "--quiet", "-j", "1", "--baseline", str(bad), "-o", str(out / "review.txt"), "pkg"]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err
    assert list(out.iterdir()) == []


def test_a_missing_baseline_and_an_unwritable_output_are_usage_errors(
    repo: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["review", "--quiet", "--baseline", str(tmp_path / "absent.json"), "pkg"]) == 2
    assert "cannot read baseline" in capsys.readouterr().err
    assert cli.main(["baseline", "create", "-o", str(tmp_path / "no" / "such" / "dir.json"), "pkg"]) == 2
    assert "cannot write" in capsys.readouterr().err
    assert cli.main(["baseline", "create", "-o", str(tmp_path / "b.json"), str(tmp_path / "absent")]) == 2
    assert not (tmp_path / "b.json").exists()
