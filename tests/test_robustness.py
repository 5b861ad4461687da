"""scrutiny never falls over: the standard library, generated programs and pathological files.

The CI part reviews a deterministic quarter of the installed standard library (Lib/test
included, plus every file whose name says it is odd) and 200 generated programs; the full
runs (every file, 10,000 programs) are in bench/robustness.py.
"""

from __future__ import annotations

import json
import os
import signal
import sysconfig
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from scrutiny import api, cli
from scrutiny.discover import Input, discover
from scrutiny.findings import FileResult
from scrutiny.report import json_out

# Every way a single file may legitimately fail; "internal" (a scrutiny bug) is not one.
KNOWN_ERRORS = {"syntax", "python2", "encoding", "binary", "newer-python", "too-deep", "too-large", "unreadable"}
ODD_NAMES = ("bad", "coding", "encoding", "tokenizedata", "badsyntax", "nul", "crlf", "bom")
STDLIB = Path(sysconfig.get_paths()["stdlib"])
RULES = api.RuleSet(api.all_rules())
# Old test data and generated programs are full of SyntaxWarnings; they are not failures.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")


def stdlib_files(every: int = 1) -> list[Path]:
    files = sorted(p for p in STDLIB.rglob("*.py") if "site-packages" not in p.parts and not p.is_symlink())
    return [p for n, p in enumerate(files) if n % every == 0 or any(w in str(p.relative_to(STDLIB)) for w in ODD_NAMES)]


def review(item: Input) -> FileResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences in old test data
        return api.review_file(item, RULES)


def review_path(path: Path) -> FileResult:
    return review(Input(str(path), path))


def review_text(data: bytes, name: str = "generated.py") -> FileResult:
    return review(Input(name, data=data))


def test_a_quarter_of_the_standard_library_is_reviewed_without_a_crash() -> None:
    files = stdlib_files(every=4)
    assert len(files) > 300, f"no standard library found under {STDLIB}"
    assert any("test" in p.parts for p in files)
    results = [review_path(path) for path in files]
    failed = {r.path: r.error for r in results if r.error is not None}
    unknown = {path: error for path, error in failed.items() if error.kind not in KNOWN_ERRORS}
    assert unknown == {}, "files that crashed a part of scrutiny"
    assert len(failed) < len(files) // 10
    assert sum(r.lines for r in results) > 100_000


# Generated programs ---------------------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
hypothesmith = pytest.importorskip("hypothesmith")


@hypothesis.settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same 200 programs on every CI run
    suppress_health_check=list(hypothesis.HealthCheck),
    database=None,
)
@hypothesis.given(hypothesmith.from_grammar())
def test_generated_programs_never_crash_and_review_the_same_twice(code: str) -> None:
    data = code.encode("utf-8", "surrogatepass")
    first = review_text(data)
    assert first.error is None or first.error.kind in KNOWN_ERRORS, first.error
    second = review_text(data)
    assert second == first
    assert render([first]) == render([second])


def render(results: list[FileResult]) -> str:
    from scrutiny.report.compose import compose

    return json_out.render(compose(results, [], []))


# Pathological files -----------------------------------------------------------------------

ATTACK = b"import os\nos.system(cmd)\n"


def kinds(results: list[FileResult]) -> dict[str, str | None]:
    return {Path(r.path).name: (r.error.kind if r.error else None) for r in results}


def scan_tree(root: Path, jobs: int = 1) -> list[FileResult]:
    items, errors = discover([str(root)])
    return api.review_all(items, jobs=jobs) + [FileResult(e.path, error=e) for e in errors]


def attack_lines(result: FileResult) -> list[int]:
    return [f.location.line for f in result.findings if f.rule_id == "SCR102"]


def test_a_million_lines_are_reviewed() -> None:
    # Comments, one string spanning 400,000 lines and 100,000 statements: every per-line
    # path (line splitting, comments, string spans, the tree) sees a long file, while the
    # test stays within the CI budget (a million statements take a minute; bench/ has it).
    code = b"# note\n" * 500_000 + b'doc = """\n' + b"text\n" * 399_998 + b'"""\n' + b"x = 1\n" * 99_998
    result = review_text(code + ATTACK, "million.py")
    assert result.error is None
    assert result.lines == 1_000_000
    assert attack_lines(result) == [1_000_000]


@pytest.mark.parametrize(
    "code",
    [
        "x = " + "(" * 1000 + "1" + ")" * 1000,
        "x = " + "[" * 1000 + "]" * 1000,
        "".join(" " * n + "if x:\n" for n in range(1000)) + " " * 1000 + "pass",
        "x = " + "f(" * 1000 + ")" * 1000,
        "x = " + "-" * 1000 + "1",
        "x = " + " + ".join(["1"] * 100_000),
        "x = " + "a." * 1000 + "b",
        "x = " + "lambda: " * 1000 + "1",
    ],
    ids=["parens", "lists", "blocks", "calls", "unary", "long-sum", "attributes", "lambdas"],
)
def test_nesting_a_thousand_deep_is_a_per_file_error_or_a_review(code: str) -> None:
    result = review_text(code.encode() + b"\n", "deep.py")
    assert result.error is None or result.error.kind in {"too-deep", "syntax"}, result.error


def test_a_50_mb_line_is_refused_by_the_size_limit(tmp_path: Path) -> None:
    huge = tmp_path / "huge.py"
    with open(huge, "wb") as out:
        out.write(b"x = '")
        chunk = b"a" * (1 << 20)
        for _ in range(50):
            out.write(chunk)
        out.write(b"'\n")
    result = review_path(huge)
    assert result.error is not None and result.error.kind == "too-large"
    assert "33,554,432" in result.error.message


def test_line_endings_bom_and_cookies_keep_line_numbers(tmp_path: Path) -> None:
    cases = {
        "crlf.py": ATTACK.replace(b"\n", b"\r\n"),
        "lone_cr.py": ATTACK.replace(b"\n", b"\r"),
        "mixed.py": b"import os\r\nx = 1\ros.system(cmd)\n",
        "bom.py": b"\xef\xbb\xbf" + ATTACK,
        "latin1.py": b"# -*- coding: latin-1 -*-\nimport os\nos.system('caf\xe9' + cmd)\n",
    }
    expected = {"crlf.py": [2], "lone_cr.py": [2], "mixed.py": [3], "bom.py": [2], "latin1.py": [3]}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    results = scan_tree(tmp_path)
    assert {Path(r.path).name: attack_lines(r) for r in results} == expected


def test_binary_and_nul_bytes_are_per_file_errors(tmp_path: Path) -> None:
    (tmp_path / "elf.py").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "late_nul.py").write_bytes(b"x = 1\n" * 5000 + b"\0\n")
    (tmp_path / "nul_in_string.py").write_bytes(b"x = '\0'\n")
    (tmp_path / "good.py").write_bytes(ATTACK)
    assert kinds(scan_tree(tmp_path)) == {
        "elf.py": "binary",
        "late_nul.py": "binary",
        "nul_in_string.py": "binary",
        "good.py": None,
    }


def test_a_file_name_that_is_not_utf8_is_reviewed_and_printable(tmp_path: Path) -> None:
    with open(os.path.join(os.fsencode(tmp_path), b"caf\xe9.py"), "wb") as out:
        out.write(ATTACK)
    (result,) = scan_tree(tmp_path)
    assert result.path.endswith("caf\ufffd.py") and attack_lines(result) == [2]
    out = tmp_path / "review.json"
    assert cli.main(["review", "--quiet", "--no-cache", "--format", "json", "-o", str(out), str(tmp_path)]) == 1
    assert json.loads(out.read_text(encoding="utf-8"))["files"][0]["path"].endswith("caf\ufffd.py")


def test_symlink_loops_fifos_and_dangling_links_are_per_file_errors(tmp_path: Path) -> None:
    (tmp_path / "a.py").symlink_to(tmp_path / "b.py")
    (tmp_path / "b.py").symlink_to(tmp_path / "a.py")
    (tmp_path / "self.py").symlink_to(tmp_path / "self.py")
    loop = tmp_path / "pkg"
    loop.mkdir()
    (loop / "again").symlink_to(loop)
    os.mkfifo(tmp_path / "fifo.py")
    (tmp_path / "good.py").write_bytes(ATTACK)
    with _no_hang():
        assert kinds(scan_tree(tmp_path, jobs=2)) == {
            "a.py": "unreadable",
            "b.py": "unreadable",
            "self.py": "unreadable",
            "fifo.py": "unreadable",
            "good.py": None,
        }
        # A FIFO that appears after discovery is refused on open, not read forever.
        fifo = review(Input("late.py", tmp_path / "fifo.py"))
        assert fifo.error is not None and fifo.error.kind == "unreadable"


def test_an_unreadable_file_is_a_per_file_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret.py"
    secret.write_bytes(ATTACK)
    (tmp_path / "good.py").write_bytes(ATTACK)
    if os.geteuid() != 0:
        secret.chmod(0)
    else:
        # root reads mode-000 files, so the refusal is simulated at the one call that opens.
        real_open = os.open

        def refuse(path: object, *args: object, **kwargs: object) -> int:
            if str(path).endswith("secret.py"):
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(api.os, "open", refuse)
    assert kinds(scan_tree(tmp_path)) == {"secret.py": "unreadable", "good.py": None}


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_deleted_mid_run_is_a_per_file_error(tmp_path: Path, jobs: int) -> None:
    for n in range(6):
        (tmp_path / f"m{n}.py").write_bytes(ATTACK)
    items, _ = discover([str(tmp_path)])
    (tmp_path / "m3.py").unlink()
    results = api.review_all(items, jobs=jobs)
    assert kinds(results) == {f"m{n}.py": ("unreadable" if n == 3 else None) for n in range(6)}
    assert "No such file" in str(results[3].error)


class _no_hang:  # noqa: N801  (used as a context manager)
    """Fail the test instead of hanging it if a read blocks (a FIFO opened for reading)."""

    def __enter__(self) -> None:
        signal.signal(signal.SIGALRM, self._timeout)
        signal.alarm(60)

    def __exit__(self, *exc: object) -> None:
        signal.alarm(0)

    @staticmethod
    def _timeout(signum: int, frame: object) -> Iterator[None]:
        raise TimeoutError("a read blocked")
