"""Compiling the reviewed code's regular expressions prints nothing: Python's warnings about
a pattern (``FutureWarning: Possible set difference``) are about the reviewed code, not the
review, and must not reach stderr."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from scrutiny import api

# Each pattern makes re.compile warn (FutureWarning) in Python 3.11 to 3.13.
PATTERNS = [r"[a-z--x]+$", r"[[a]", r"[a&&b]", r"[a||b]", r"[a~~b]", r"^[a-z--_]+$"]

CODE = """import re
from flask import request

CHECKS = [re.compile(p) for p in ()]
NAME = re.compile(r"{0}")
OTHER = re.compile(r"{1}")


def view():
    value = request.args["q"]
    if re.fullmatch(r"{5}", value):
        return eval(value)
    if re.match(r"{2}", value) or re.search(r"{3}", value) or re.split(r"{4}", value):
        return NAME.match(value) and eval(value)
    return "\\d"
"""


def test_the_patterns_do_make_python_warn() -> None:
    for pattern in PATTERNS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            re.compile(pattern + "(?#" + os.urandom(4).hex() + ")")  # a fresh key: re caches compiled patterns
        assert [w.category for w in caught] == [FutureWarning], pattern


@pytest.fixture()
def reviewed(tmp_path: Path) -> Path:
    path = tmp_path / "app.py"
    path.write_text(CODE.format(*PATTERNS))
    return path


def test_a_review_raises_no_warning(reviewed: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        review = api.scan([str(reviewed)])
    assert review.reviewed and review.findings
    assert [str(w.message) for w in caught] == []


def test_the_command_line_review_prints_nothing_on_stderr(reviewed: Path) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "always"}
    main = "import sys; from scrutiny.cli import main; sys.exit(main())"
    for jobs in ("1", "2"):  # in process, and in worker processes
        run = subprocess.run(
            [sys.executable, "-c", main, "review", "--no-cache", "--quiet", "-j", jobs, str(reviewed)],
            capture_output=True, text=True, env=env, timeout=300,
        )  # fmt: skip
        assert run.returncode == 1, run.stderr
        assert run.stderr == "", run.stderr
