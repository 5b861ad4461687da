"""Findings graded by what a value is, not by the shape of the code around it.

The fixture pairs live in tests/fixtures/rules (SCR905, SCR701, SCR870, SCR983); these
tests assert the severities the fixtures cannot: a finding lowered is still reported.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from scrutiny import source
from scrutiny.findings import Confidence, Finding, Severity
from scrutiny.rules import RuleSet, all_rules

FIXTURES = Path(__file__).parent / "fixtures" / "rules"


def review(code: str, rule_id: str, path: str = "service.py") -> list[Finding]:
    src = source.load(textwrap.dedent(code).encode(), path)
    return [f for f in RuleSet(all_rules()).run(src) if f.rule_id == rule_id]


def fixture_grades(rule_id: str) -> dict[str, tuple[Severity, Confidence]]:
    """Severity and confidence of each finding of the rule's fixture, by the line's text."""
    text = (FIXTURES / f"{rule_id}.py").read_text()
    lines = text.splitlines()
    # Reviewed under a production file name: the fixture folder would mark it test code.
    return {lines[f.location.line - 1].split("#")[0].strip(): (f.severity, f.confidence) for f in review(text, rule_id)}


def test_cookie_holding_a_preference_is_low_and_a_session_stays_medium() -> None:
    grades = fixture_grades("SCR905")
    low = [line for line, (severity, _) in grades.items() if severity == Severity.LOW]
    medium = [line for line, (severity, _) in grades.items() if severity == Severity.MEDIUM]
    assert sorted(low) == sorted([
        'response.set_cookie("sort", request.args.get("sort"), httponly=True, samesite="Lax")',
        'response.set_cookie("order", order, httponly=True, samesite="Lax")',
        'response.set_cookie("theme", "dark", httponly=True, samesite="Lax")',
    ])  # fmt: skip
    assert 'response.set_cookie("sid", session_id, httponly=True, samesite="Lax")' in medium
    # A literal the module tests when it reads the cookie back is trusted: medium.
    assert 'response.set_cookie("role", "staff", httponly=True, samesite="Lax")' in medium
    assert 'response.set_cookie("session", token, httponly=True, samesite="Lax")' in medium


def test_cookie_messages_say_what_the_value_is() -> None:
    (echoed,) = review(
        """
        from flask import request
        def view(resp):
            resp.set_cookie("order", request.args["order"])
        """,
        "SCR905",
    )
    assert "request data echoed back" in echoed.message and echoed.severity == Severity.LOW
    (trusted,) = review(
        """
        from flask import request
        def view(resp):
            resp.set_cookie("admin", "1")
        def guard():
            flag = request.cookies.get("admin")
            if flag:
                return True
        """,
        "SCR905",
    )
    assert trusted.severity == Severity.MEDIUM and "reads back (line 7)" in trusted.message


def test_log_of_a_value_named_like_a_secret_needs_evidence_for_medium() -> None:
    grades = fixture_grades("SCR701")
    weak = (Severity.LOW, Confidence.LOW)
    assert grades['LOG.debug("opened lock session %s", session_id)'] == weak
    assert grades["LOG.warning(message)"] == weak
    assert grades['LOG.info("reset token %s for %s", token, user)'][0] == Severity.MEDIUM
    assert grades['LOG.debug("calling %s with %s", url, token)'][0] == Severity.MEDIUM
    # Names only secrets wear, and a token parameter of a login function, stay medium.
    assert grades['LOG.debug("login with %s/%s", user, password)'][0] == Severity.MEDIUM
    assert grades['logger.info(f"issued token {token}")'][0] == Severity.MEDIUM


def test_log_messages_say_what_the_grade_rests_on() -> None:
    (weak,) = review(
        """
        import logging
        LOG = logging.getLogger(__name__)
        def page(cursor_token):
            LOG.info("next page %s", cursor_token)
        """,
        "SCR701",
    )
    assert "only the name suggests a secret" in weak.message
    (strong,) = review(
        """
        import logging, os
        LOG = logging.getLogger(__name__)
        def connect():
            token = os.environ["SERVICE_TOKEN"]
            LOG.info("using %s", token)
        """,
        "SCR701",
    )
    assert strong.severity == Severity.MEDIUM and "SERVICE_TOKEN" in strong.message
    (header,) = review(
        """
        import logging
        LOG = logging.getLogger(__name__)
        def view(request):
            LOG.info("caller %s", request.headers["X-Auth-Token"])
        """,
        "SCR701",
    )
    assert header.severity == Severity.MEDIUM


def test_log_format_naming_only_a_token_is_low() -> None:
    code = """
        import logging
        LOG = logging.getLogger(__name__)
        def show(value, other):
            LOG.info("token: %s", value)
            LOG.info("password: %s", other)
    """
    assert [f.severity for f in review(code, "SCR701")] == [Severity.LOW, Severity.MEDIUM]


PAGED = """
    from flask import request
    {imports}

    def view():
        limit = request.args.get("limit", type=int)
        return {call}(limit=limit)
"""


def test_page_size_passed_to_the_projects_own_code_elsewhere_is_low() -> None:
    for imports, call in (
        ("from .store import Store", "Store().page"),
        ("from shop.store import Store; store = Store()", "store.page"),
    ):
        (finding,) = review(PAGED.format(imports=imports, call=call), "SCR870", "src/shop/views.py")
        assert (finding.severity, finding.confidence) == (Severity.LOW, Confidence.LOW)
        assert "not visible here" in finding.message


def test_page_size_passed_to_a_library_or_an_unknown_object_stays_medium() -> None:
    for imports, call in (("import pymongo", "pymongo.MongoClient().db.items.find"), ("", "db.find")):
        (finding,) = review(PAGED.format(imports=imports, call=call), "SCR870", "src/shop/views.py")
        assert finding.severity == Severity.MEDIUM


def test_url_substring_check_is_reported_only_where_it_decides_trust() -> None:
    def lines(code: str) -> list[int]:
        return [f.location.line for f in review(code, "SCR983")]

    relabel = """
        def spell(url):
            if "github.com" in url and not url.startswith("git+"):
                url = "git+" + url
            kind = "github" if "github.com" in url else "other"
            return url, kind
    """
    assert lines(relabel) == []
    decides = """
        def allowed(url):
            return "example.com" in url
        def guard(url):
            if "example.com" not in url:
                raise ValueError(url)
        def flag(url):
            trusted = False
            if url.endswith("example.com"):
                trusted = True
            return trusted
    """
    assert sorted(lines(decides)) == [3, 5, 9]
