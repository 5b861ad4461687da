"""Injection rules (1xx): shell commands, code evaluation, SQL and templates."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import CallRule, Walk, argument, is_constant_string, is_true, keyword

SUBPROCESS_CALLS = (
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.Popen",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
)


class SubprocessShellTrue(CallRule):
    """Command run through a shell by subprocess.

    What: a subprocess call with shell=True (getoutput and getstatusoutput always use a shell).
    Why: the shell parses the whole command string, so any part built from data can add
    commands with ;, |, $() or backticks (OS command injection).
    Example:
        subprocess.run(f"tar xf {name}", shell=True)
    Fix: pass an argument list without a shell: subprocess.run(["tar", "xf", name]);
    if a shell is unavoidable, quote each value with shlex.quote.
    """

    id = "SCR101"
    name = "subprocess-shell-true"
    category = Category.INJECTION
    cwe = 78
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    calls = SUBPROCESS_CALLS
    bandit = ("B602", "B604")
    ruff = ("S602", "S604")

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        always_shell = name.endswith(("getoutput", "getstatusoutput"))
        if not always_shell and not is_true(keyword(call, "shell")):
            return
        command = argument(call, "args", 0) if not always_shell else argument(call, "cmd", 0)
        if command is not None and is_constant_string(command):
            yield self.finding(
                call,
                f"{name} runs a fixed command through a shell",
                walk.src,
                scope=walk.scope_name,
                severity=Severity.LOW,
                confidence=Confidence.HIGH,
            )
            return
        yield self.finding(
            call,
            f"{name} runs a command built at run time through a shell",
            walk.src,
            scope=walk.scope_name,
        )
