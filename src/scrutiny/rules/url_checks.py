"""URL checks by substring that a crafted URL passes (incomplete URL sanitization)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk

# A host name as a literal: labels of letters, digits and hyphens, ending in an alphabetic
# top-level label (example.com, api.example.co.uk), optionally after a scheme.
HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})(:\d+)?(/.*)?$", re.I)
# Top-level domains common enough in host checks: a dotted literal ending in anything else
# is taken for a module path or a file name (django.contrib.sessions, disk.local, app.py).
TLDS = frozenset({
    "com", "org", "net", "edu", "gov", "mil", "int", "io", "co", "ai", "app", "dev", "cloud", "info", "biz", "me",
    "tv", "xyz", "online", "site", "tech", "example", "test", "invalid", "localhost", "internal", "corp",
    "uk", "de", "fr", "jp", "cn", "ru", "br", "in", "au", "ca", "us", "eu", "nl", "ch", "se", "no", "es", "it", "pl",
    "be", "at", "dk", "fi", "cz", "kr", "tw", "hk", "sg", "nz", "za", "mx", "ar", "ie", "il", "tr", "ua", "gr",
})  # fmt: skip


def _host_literal(node: ast.AST) -> tuple[str, str] | None:
    """(text, host) of a string literal that names a host, or None."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return None
    match = HOST.match(node.value)
    if match is None:
        return None
    host = match.group(1)
    if host.rsplit(".", 1)[-1].lower() not in TLDS:
        return None
    return node.value, host


class IncompleteUrlCheck(Rule):
    """URL checked by a substring a crafted URL also contains

    What: a string is tested against a host name literal in a way that other hosts also
    pass: "example.com" in url (any position: https://evil.test/?example.com), or
    url.endswith("example.com") (also evilexample.com), or url.startswith("https://example.com")
    with nothing after the host (https://example.com.evil.test/).
    Why: such tests are how redirects, callbacks and fetches are restricted to trusted
    hosts; an attacker picks a URL that contains the expected text and points elsewhere
    (open redirect, SSRF, token leak).
    Example:
        if "example.com" in target:
            return redirect(target)
    Fix: parse the URL (urllib.parse.urlsplit) and compare its hostname with an allow-list,
    or require a dot before a parent domain (host == "example.com" or
    host.endswith(".example.com")); a URL prefix must end with the "/" after the host.
    """

    id = "SCR983"
    name = "incomplete-url-substring-check"
    category = Category.INPUT_VALIDATION
    cwe = 20
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.Compare, ast.Call)
    bandit = ()
    ruff = ()

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        src = walk.src
        if isinstance(node, ast.Compare):
            if len(node.ops) == 1 and isinstance(node.ops[0], ast.In | ast.NotIn):
                found = _host_literal(node.left)
                if found is not None and "://" not in found[0] and not isinstance(node.comparators[0], ast.List | ast.Tuple | ast.Set | ast.Dict):
                    text = found[0]
                    yield self.finding(node, f'"{text}" in ... is true for any URL that has this text anywhere, '
                                       f"such as https://attacker.example/?{text}", src, scope=walk.scope_name)  # fmt: skip
            return
        assert isinstance(node, ast.Call)
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr in ("endswith", "startswith") and len(node.args) == 1):
            return
        found = _host_literal(node.args[0])
        if found is None:
            return
        text, host = found
        if func.attr == "endswith" and not text.startswith((".", "/", "@")) and "://" not in text and "/" not in text:
            yield self.finding(node, f'.endswith("{text}") is also true for another host ending in it, such as '
                               f"attacker{host}", src, scope=walk.scope_name)  # fmt: skip
        elif func.attr == "startswith" and "://" in text and text.rstrip("/") == text and HOST.match(text).group(3) is None:  # type: ignore[union-attr]
            yield self.finding(node, f'.startswith("{text}") is also true for {text}.attacker.example: '
                               "a URL prefix must end with the / after the host", src, scope=walk.scope_name)  # fmt: skip
