"""Change review (--diff BASE, --patch FILE) on real git repositories made in temporary directories."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from gitrepo import Repo, needs_git

from scrutiny import cli
from scrutiny.report.compose import CLEAN_VERDICT

pytestmark = needs_git
SCHEMA = Path(cli.__file__).parent / "report" / "review.schema.json"

BASE_APP = """\
import subprocess


def build(name):
    return ["echo", name]


def run(cmd):
    subprocess.run(cmd, check=True)
"""
CHANGED_APP = BASE_APP + "    subprocess.run(cmd, shell=True)\n"
# These tests count what a change introduces, fixes and leaves; the info note on each
# `import subprocess`/`import pickle` (SCR339) would be one more unchanged finding in
# every sample, so it is switched off here (its own fixtures test it).
WITHOUT_IMPORT_NOTES = ["--disable", "SCR339"]


def review(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = cli.main(["review", "--format", "json", "--quiet", "-j", "1", *WITHOUT_IMPORT_NOTES, *args])
    captured = capsys.readouterr()
    assert captured.out, captured.err
    document = json.loads(captured.out)
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(document)
    return code, document


def by_fingerprint(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["fingerprint"]: f for f in document["findings"]}


def introduced(document: dict[str, Any]) -> list[tuple[str, str, int]]:
    findings = by_fingerprint(document)
    return [
        (findings[p]["rule_id"], findings[p]["path"], findings[p]["line"]) for p in document["change"]["introduced"]
    ]


def fixed(document: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(f["rule_id"], f["path"], f["line"]) for f in document["change"]["fixed"]]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    repository = Repo(tmp_path / "repo")
    repository.write("app.py", BASE_APP)
    repository.write("notes.txt", "not python\n")
    repository.commit("base")
    monkeypatch.chdir(repository.root)
    return repository


@pytest.mark.parametrize("how", ["committed", "staged", "unstaged"])
def test_diff_reports_the_added_shell_call_as_introduced_and_nothing_else(
    repo: Repo, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.write("app.py", CHANGED_APP)
    repo.write("notes.txt", "still not python, and changed\n")
    if how == "committed":
        repo.commit("add a shell call")
        base = "HEAD~1"
    else:
        if how == "staged":
            repo.git("add", "app.py")
        base = "HEAD"
    code, document = review(capsys, "--diff", base)
    assert code == 1
    assert introduced(document) == [("SCR101", "app.py", 10)]
    assert fixed(document) == []
    # The old low-severity finding on line 9 is there, but it is not the change's doing.
    assert [by_fingerprint(document)[p]["rule_id"] for p in document["change"]["unchanged"]] == ["SCR130"]
    assert document["change"]["files"] == [{"status": "modified", "old_path": "app.py", "new_path": "app.py"}]
    assert document["verdict"]["text"] == "The change introduces 1 security defect: 1 low."


def test_reverting_the_change_reports_it_fixed_and_stays_honest(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("app.py", CHANGED_APP)
    repo.commit("add a shell call")
    repo.write("app.py", BASE_APP)
    code, document = review(capsys, "--diff", "HEAD")
    assert code == 0
    assert introduced(document) == []
    assert fixed(document) == [("SCR101", "app.py", 10)]
    verdict = document["verdict"]["text"]
    # The low-severity finding remains, so the code is not called clean; the change adds nothing.
    assert verdict != CLEAN_VERDICT and document["verdict"]["clean"] is False
    assert verdict.startswith("The change introduces no security defects, but 1 defect(s)")
    assert any("fixes 1 defect" in reason for reason in document["verdict"]["reasons"])


def test_a_patch_of_the_change_gives_the_same_result_and_leaves_the_tree_alone(
    repo: Repo, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo.write("app.py", CHANGED_APP)
    repo.commit("add a shell call")
    _, by_diff = review(capsys, "--diff", "HEAD~1")
    patch = tmp_path / "change.patch"
    patch.write_text(repo.git("diff", "HEAD~1", "HEAD"))
    repo.git("reset", "-q", "--hard", "HEAD~1")
    before = repo.snapshot()
    code, by_patch = review(capsys, "--patch", str(patch))
    assert code == 1
    assert introduced(by_patch) == introduced(by_diff) == [("SCR101", "app.py", 10)]
    assert by_patch["change"]["introduced"] == by_diff["change"]["introduced"]
    assert by_patch["change"]["unchanged"] == by_diff["change"]["unchanged"]
    assert fixed(by_patch) == []
    assert repo.snapshot() == before


def test_a_plain_diff_from_stdin_applies_too(
    repo: Repo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    plain = "".join(
        difflib.unified_diff(
            BASE_APP.splitlines(keepends=True), CHANGED_APP.splitlines(keepends=True), "old/app.py", "new/app.py"
        )
    )
    assert not plain.startswith("diff --git")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(plain.encode())))
    code, document = review(capsys, "--patch", "-")
    assert code == 1
    assert introduced(document) == [("SCR101", "app.py", 10)]
    assert document["change"]["base"] == "<stdin>"


def test_a_taint_path_through_an_unchanged_module_is_found(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("web/__init__.py", "")
    repo.write(
        "web/params.py",
        'from flask import request\n\n\ndef requested_host():\n    return request.args["host"].strip()\n',
    )
    repo.write("web/views.py", "import subprocess\n\nfrom web.params import requested_host\n")
    repo.commit("helpers")
    repo.write(
        "web/views.py",
        "import subprocess\n\nfrom web.params import requested_host\n\n\n"
        "def ping():\n    subprocess.run('ping -c1 ' + requested_host(), shell=True)\n",
    )
    code, document = review(capsys, "--diff", "HEAD")
    assert code == 1
    assert document["change"]["files"] == [
        {"status": "modified", "old_path": "web/views.py", "new_path": "web/views.py"}
    ]
    assert ("SCR501", "web/views.py", 7) in introduced(document)
    [taint] = [f for f in document["findings"] if f["rule_id"] == "SCR501"]
    assert "web/params.py" in taint["message"]


def test_a_sink_in_an_unchanged_module_reached_from_changed_code_is_found(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.write("store/__init__.py", "")
    repo.write(
        "store/db.py",
        "def find_user(cursor, name):\n"
        '    cursor.execute("SELECT * FROM users WHERE name = \'" + name + "\'")\n'
        "    return cursor.fetchone()\n",
    )
    repo.write("store/views.py", "from flask import request\n")
    repo.commit("db helper")
    _, untouched = review(capsys, "--diff", "HEAD", "store")
    assert untouched["change"]["files"] == [] and untouched["findings"] == []
    repo.write(
        "store/views.py",
        "from flask import request\n\nfrom store.db import find_user\n\n\n"
        "def user(cursor):\n    return find_user(cursor, request.args['name'])\n",
    )
    code, document = review(capsys, "--diff", "HEAD", "store")
    assert code == 1
    assert ("SCR503", "store/db.py", 2) in introduced(document)


def test_a_renamed_file_keeps_the_identity_of_its_findings(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("app.py", CHANGED_APP)
    repo.commit("add a shell call")
    repo.git("mv", "app.py", "tool.py")
    repo.write("tool.py", '"""Tools."""\n\n' + CHANGED_APP)  # lines inserted above every finding
    code, document = review(capsys, "--diff", "HEAD")
    assert code == 0
    assert document["change"]["files"] == [{"status": "renamed", "old_path": "app.py", "new_path": "tool.py"}]
    assert introduced(document) == [] and fixed(document) == []
    assert sorted(by_fingerprint(document)[p]["rule_id"] for p in document["change"]["unchanged"]) == [
        "SCR101",
        "SCR130",
    ]


def test_added_and_deleted_files(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("extra.py", "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n")
    code, document = review(capsys, "--diff", "HEAD")  # untracked, so added
    assert code == 1
    assert [(r, p) for r, p, _ in introduced(document)] == [("SCR201", "extra.py")]
    assert {"status": "added", "old_path": None, "new_path": "extra.py"} in document["change"]["files"]
    repo.commit("extra")
    (repo.root / "app.py").unlink()
    code, document = review(capsys, "--diff", "HEAD")
    assert code == 0
    assert sorted(r for r, _, _ in fixed(document)) == ["SCR130"]
    assert document["change"]["files"] == [{"status": "deleted", "old_path": "app.py", "new_path": None}]


def test_no_python_change_is_nothing_to_review(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("notes.txt", "changed\n")
    code, document = review(capsys, "--diff", "HEAD")
    assert code == 0
    assert document["change"]["files"] == [] and document["findings"] == []
    assert "touches no Python file" in document["verdict"]["text"]


@pytest.mark.parametrize("fmt", ["text", "markdown", "sarif", "html", "gerrit"])
def test_every_format_shows_the_change(repo: Repo, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("app.py", CHANGED_APP)
    repo.commit("add a shell call")
    repo.write("app.py", CHANGED_APP.replace("    subprocess.run(cmd, check=True)\n", ""))
    assert cli.main(["review", "--format", fmt, "--quiet", "-j", "1", *WITHOUT_IMPORT_NOTES, "--diff", "HEAD~1"]) == 1
    out = capsys.readouterr().out
    if fmt == "sarif":
        from test_formats_sarif import validator

        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator().iter_errors(json.loads(out))]
        assert not errors, errors[:10]
        results = json.loads(out)["runs"][0]["results"]
        states = sorted((r["ruleId"], r["baselineState"]) for r in results)
        assert states == [("SCR101", "new"), ("SCR130", "absent")]
    elif fmt == "gerrit":
        document = json.loads(out)
        posted = [
            (c["properties"]["rule_id"], c["line"], c["properties"]["change"])
            for comments in document["robot_comments"].values()
            for c in comments
        ]
        assert posted == [("SCR101", 9, "introduced")]
        assert "Introduced 1, fixed 1, unchanged 0" in document["message"]
    elif fmt == "html":
        assert '<p id="change-counts">Introduced 1, fixed 1, unchanged 0.</p>' in out
        assert out.count('data-change="introduced"') == 1 and out.count('data-change="fixed"') == 1
        assert '<a href="#change">Change</a>' in out
    else:
        assert "Introduced 1, fixed 1, unchanged 0." in out
        assert "introduced" in out.lower() and "fixed" in out.lower()


def _fails_with_nothing_written(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    output = tmp_path / "out" / "review.json"
    output.parent.mkdir(exist_ok=True)
    assert cli.main(["review", "--quiet", "-j", "1", "--format", "json", "-o", str(output), *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert list(output.parent.iterdir()) == []
    return captured.err


def test_outside_a_repository_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "app.py").write_text(BASE_APP)
    monkeypatch.chdir(plain)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    err = _fails_with_nothing_written(["--diff", "HEAD"], tmp_path, capsys)
    assert "not inside a git repository" in err


@pytest.mark.parametrize("revision", ["no-such-branch", "--output=/tmp/x", "HEAD~5"])
def test_a_bad_revision_is_a_usage_error(
    repo: Repo, revision: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _fails_with_nothing_written([f"--diff={revision}"], tmp_path, capsys)
    assert "revision" in err


def test_a_patch_that_does_not_apply_names_the_file_and_hunk(
    repo: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.write("app.py", CHANGED_APP)
    patch = tmp_path / "change.patch"
    patch.write_text(repo.git("diff"))
    repo.write("app.py", BASE_APP.replace("check=True", "check=False"))  # the hunk's context is gone
    err = _fails_with_nothing_written(["--patch", str(patch)], tmp_path, capsys)
    assert "app.py: hunk 1 (@@ -7,3 +7,4 @@" in err and "does not apply" in err
    missing = _fails_with_nothing_written(["--patch", str(tmp_path / "absent.patch")], tmp_path, capsys)
    assert "cannot read the patch" in missing
    (tmp_path / "empty.patch").write_text("just words\n")
    empty = _fails_with_nothing_written(["--patch", str(tmp_path / "empty.patch")], tmp_path, capsys)
    assert "no file changes found" in empty


def test_diff_and_patch_refuse_stdin_and_pypi_targets(
    repo: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _fails_with_nothing_written(["--diff", "HEAD", "pypi:nova"], tmp_path, capsys)
    assert "paths of the working tree" in err


def test_the_patch_applier_handles_offsets_missing_newlines_and_new_and_deleted_files() -> None:
    from scrutiny import patch

    old = "a\nb\nc\nd\n"
    diff = "--- x.py\n+++ x.py\n@@ -2,2 +2,2 @@\n b\n-c\n+C\n"
    [file_patch] = patch.parse(diff)
    assert patch.apply(file_patch, old) == "a\nb\nC\nd\n"
    # Two lines inserted above since the patch was made: the hunk is found further down.
    assert patch.apply(file_patch, "x\ny\n" + old) == "x\ny\na\nb\nC\nd\n"
    no_newline = "--- x.py\n+++ x.py\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n\\ No newline at end of file\n"
    assert patch.apply(patch.parse(no_newline)[0], "a") == "b"
    created, deleted = patch.parse(
        "diff --git a/n.py b/n.py\nnew file mode 100644\n--- /dev/null\n+++ b/n.py\n@@ -0,0 +1,2 @@\n+x = 1\n+y = 2\n"
        "diff --git a/o.py b/o.py\ndeleted file mode 100644\n--- a/o.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-z = 3\n"
    )
    assert (created.old_path, created.new_path, patch.apply(created, "")) == (None, "n.py", "x = 1\ny = 2\n")
    assert (deleted.old_path, deleted.new_path, patch.apply(deleted, "z = 3\n")) == ("o.py", None, "")
    [renamed] = patch.parse("diff --git a/p.py b/q.py\nsimilarity index 100%\nrename from p.py\nrename to q.py\n")
    assert (renamed.old_path, renamed.new_path, renamed.hunks) == ("p.py", "q.py", [])
    with pytest.raises(patch.PatchError, match=r"x.py: hunk 1 \(@@ -2,2 \+2,2 @@, line 3 of the patch\)"):
        patch.apply(file_patch, "a\nb\nX\nd\n")


def test_a_change_that_leaves_no_defect_gets_the_clean_verdict(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("app.py", "def run(values):\n    return sorted(values)\n")
    code, document = review(capsys, "--diff", "HEAD")
    assert code == 0
    assert document["verdict"]["text"] == CLEAN_VERDICT and document["verdict"]["clean"] is True
    assert document["verdict"]["reasons"][0] == "The change introduces no security defects."
    assert sorted(r for r, _, _ in fixed(document)) == ["SCR130"]


def test_github_annotations_cover_only_what_the_change_introduces(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.write("app.py", CHANGED_APP)
    assert cli.main(["review", "--format", "github", "--quiet", "-j", "1", *WITHOUT_IMPORT_NOTES, "app.py"]) == 1
    assert sorted(line.split(" ", 1)[0] for line in capsys.readouterr().out.splitlines()) == ["::notice", "::notice"]
    assert (
        cli.main(["review", "--format", "github", "--quiet", "-j", "1", *WITHOUT_IMPORT_NOTES, "--diff", "HEAD"]) == 1
    )
    out = capsys.readouterr().out
    assert [line.split(" ", 1)[0] for line in out.splitlines()] == ["::notice"] and "SCR101" in out


def test_a_git_patch_applies_from_a_subdirectory_with_new_renamed_and_deleted_files(
    repo: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("pkg/__init__.py", "")
    repo.write("pkg/old.py", "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n")
    repo.write("pkg/gone.py", "import marshal\n\n\ndef load(blob):\n    return marshal.loads(blob)\n")
    repo.commit("package")
    repo.git("mv", "pkg/old.py", "pkg/new.py")
    repo.git("rm", "-q", "pkg/gone.py")
    repo.write("pkg/added.py", "import subprocess\n\n\ndef run(cmd):\n    subprocess.run(cmd, shell=True)\n")
    repo.git("add", "-A")
    patch = tmp_path / "change.patch"
    patch.write_text(repo.git("diff", "--cached", "-M", "HEAD"))
    repo.git("reset", "-q", "--hard", "HEAD")
    monkeypatch.chdir(repo.root / "pkg")
    code, document = review(capsys, "--patch", str(patch))
    assert code == 1
    assert document["change"]["files"] == [
        {"status": "added", "old_path": None, "new_path": "added.py"},
        {"status": "deleted", "old_path": "gone.py", "new_path": None},
        {"status": "renamed", "old_path": "old.py", "new_path": "new.py"},
    ]
    assert [(r, p) for r, p, _ in introduced(document)] == [("SCR101", "added.py")]
    assert [(r, p) for r, p, _ in fixed(document)] == [("SCR202", "gone.py")]
    assert [by_fingerprint(document)[p]["path"] for p in document["change"]["unchanged"]] == ["new.py"]
    assert not (repo.root / "pkg" / "added.py").exists() and (repo.root / "pkg" / "gone.py").exists()
