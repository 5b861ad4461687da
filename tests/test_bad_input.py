"""Bad input gets a clear per-file error; every other file is still reviewed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import review_json
from scrutiny import cli

GOOD = "import os\n\ndef run(cmd):\n    os.system(cmd)\n"


@pytest.fixture()
def messy_tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "good.py").write_text(GOOD)
    (root / "syntax.py").write_text("def broken(:\n    pass\n")
    (root / "binary.py").write_bytes(b"\x7fELF\x00\x01\x02 not python")
    (root / "latin1_without_cookie.py").write_bytes(b"name = '\xe9t\xe9'\n")
    (root / "latin1_with_cookie.py").write_bytes(b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n")
    (root / "bom.py").write_bytes(b"\xef\xbb\xbfx = 1\r\ny = 2\r\n")
    (root / "lone_cr.py").write_bytes(b"x = 1\ry = 2\r")
    (root / "bad_cookie.py").write_bytes(b"# -*- coding: no-such-codec -*-\nx = 1\n")
    (root / "deep.py").write_text("x = " + "(" * 1000 + "1" + ")" * 1000 + "\n")
    (root / "deep_unary.py").write_text("x = " + "-" * 100000 + "1\n")
    (root / "empty.py").write_text("")
    (root / "dangling.py").symlink_to(root / "missing-target.py")
    os.mkfifo(root / "fifo.py")
    loop = root / "loop"
    loop.mkdir()
    (loop / "again").symlink_to(loop)
    return root


def test_each_bad_file_gets_its_own_error_and_the_rest_is_reviewed(
    messy_tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, review = review_json(capsys, str(messy_tree))
    errors = {Path(e["path"]).name: e["kind"] for e in review["errors"]}
    assert errors == {
        "syntax.py": "syntax",
        "binary.py": "binary",
        "latin1_without_cookie.py": "encoding",
        "bad_cookie.py": "encoding",
        "deep.py": "too-deep",
        "deep_unary.py": "too-deep",
        "dangling.py": "unreadable",
        "fifo.py": "unreadable",
    }
    reviewed = {Path(f["path"]).name for f in review["files"] if f["error"] is None}
    assert reviewed == {"good.py", "latin1_with_cookie.py", "bom.py", "lone_cr.py", "empty.py"}
    assert [f["line"] for f in review["findings"] if f["rule_id"] == "SCR102"] == [4]
    assert code == 1
    for error in review["errors"]:
        assert error["message"], error


def test_errors_keep_the_verdict_from_calling_the_review_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "fine.py").write_text("x = 1\n")
    (tmp_path / "broken.py").write_text("def (\n")
    code, review = review_json(capsys, str(tmp_path))
    assert code == 0
    assert review["verdict"]["clean"] is False
    assert "could not be reviewed" in review["verdict"]["text"]
    assert "No security defects are detected in the code." != review["verdict"]["text"]


def test_nothing_reviewable_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "broken.py").write_text("def (\n")
    code, review = review_json(capsys, str(tmp_path / "broken.py"), str(tmp_path / "absent.py"))
    assert code == 2
    assert {e["kind"] for e in review["errors"]} == {"syntax", "not-found"}
    assert review["verdict"]["text"].startswith("Nothing could be reviewed")


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the running parser accepts PEP 701 f-strings")
def test_code_for_a_newer_python_names_the_version_it_needs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "new.py").write_text('names = ["a"]\nprint(f"{", ".join(names)}")\n')
    (tmp_path / "generic.py").write_text("def first[T](items: list[T]) -> T:\n    return items[0]\n")
    code, review = review_json(capsys, str(tmp_path))
    assert code == 2
    kinds = {Path(e["path"]).name: e for e in review["errors"]}
    assert kinds["new.py"]["kind"] == "newer-python" and "3.12" in kinds["new.py"]["message"]
    assert kinds["generic.py"]["kind"] == "newer-python" and "3.12" in kinds["generic.py"]["message"]


@pytest.mark.skipif(sys.version_info < (3, 12), reason="needs a parser that accepts PEP 701 f-strings")
def test_pep_701_f_strings_are_reviewed_on_newer_pythons(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "new.py").write_text('import os\nnames = ["a"]\nos.system(f"ls {", ".join(names)}")\n')
    code, review = review_json(capsys, str(tmp_path))
    assert review["errors"] == []
    assert [f["rule_id"] for f in review["findings"]] == ["SCR102"]
    assert code == 1


def test_huge_file_is_refused_by_size_not_by_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scrutiny import api, discover

    big = tmp_path / "big.py"
    big.write_text("x = 1\n" * 1000)
    (item,), _ = discover.discover([str(big)])
    result = api.review_file(item, api.RuleSet(api.all_rules()), max_bytes=100)
    assert result.error is not None and result.error.kind == "too-large"


def test_output_file_is_written_whole_or_not_at_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "code.py"
    target.write_text(GOOD)
    out = tmp_path / "review.json"
    assert cli.main(["review", "--quiet", "--format", "json", "-o", str(out), str(target)]) == 1
    assert out.read_text().rstrip().endswith("}")
    assert {p.name for p in tmp_path.iterdir()} == {"code.py", "review.json"}, "a temporary file was left behind"
    missing_dir = tmp_path / "no" / "such" / "dir" / "review.json"
    assert cli.main(["review", "--quiet", "-o", str(missing_dir), str(target)]) == 2
    assert not missing_dir.parent.exists()


def test_stdin_is_reviewed_under_the_given_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    class FakeStdin:
        buffer = io.BytesIO(GOOD.encode())

    monkeypatch.setattr(sys, "stdin", FakeStdin())
    code, review = review_json(capsys, "-", "--stdin-name", "service/app.py")
    assert code == 1
    assert review["files"][0]["path"] == "service/app.py"
    assert review["findings"][0]["path"] == "service/app.py"


def test_compiler_warnings_about_the_reviewed_code_stay_off_the_terminal(tmp_path: Path) -> None:
    # A comment run tried as code ("1if"), an invalid escape and an "is" on a literal:
    # the compiler warns about each; a review must print none of it.
    (tmp_path / "m.py").write_text('# y = 1if z else 2\nx = "\\d"\nok = x is "a"\nimport os\nos.system(x)\n')
    done = subprocess.run(
        [sys.executable, "-W", "default", "-m", "scrutiny", "review", "-q", "--no-cache", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and "SCR102" in done.stdout
    assert done.stderr == ""
