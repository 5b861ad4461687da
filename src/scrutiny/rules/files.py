"""Filesystem rules (4xx): temporary files created unsafely."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import CallRule, Walk


class TempfileMktemp(CallRule):
    """Temporary file name chosen before the file exists

    What: tempfile.mktemp, os.tempnam or os.tmpnam, which return a free path without
    creating the file.
    Why: between the name being chosen and the file being opened, another local process
    can create that path, often as a symlink to a file the program will then overwrite or
    read (a time-of-check/time-of-use race in a shared directory such as /tmp).
    Example:
        path = tempfile.mktemp(suffix=".json")
        with open(path, "w") as out: ...
    Fix: let the library create the file atomically: tempfile.NamedTemporaryFile,
    tempfile.mkstemp, or tempfile.TemporaryDirectory/mkdtemp for a private directory.
    """

    id = "SCR406"
    name = "tempfile-mktemp"
    category = Category.FILESYSTEM
    cwe = 377
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    calls = ("tempfile.mktemp", "os.tempnam", "os.tmpnam")
    bandit = ("B306",)
    ruff = ("S306",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        yield self.finding(
            call, f"{name} returns a file name without creating the file (race)", walk.src, scope=walk.scope_name
        )
