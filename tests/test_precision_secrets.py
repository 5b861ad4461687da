"""Values that are not secrets are not reported as secrets (SCR401, SCR451, SCR920)."""

from __future__ import annotations

import textwrap

from scrutiny import source
from scrutiny.findings import Finding, Severity
from scrutiny.rules import RuleSet, all_rules


def findings(code: str, rule_id: str, name: str = "service.py") -> list[Finding]:
    src = source.load(textwrap.dedent(code).encode(), name)
    return [f for f in RuleSet(all_rules()).run(src) if f.rule_id == rule_id]


def test_url_whose_password_is_its_user_name_is_low() -> None:
    code = """
        BROKER = "amqp://guest:guest@broker.internal:5672//"
        CACHE = "redis://app:Zq8rT4mWx2Lp@cache.internal:6379/0"
    """
    found = [(f.location.line, f.severity) for f in findings(code, "SCR451")]
    assert found == [(2, Severity.LOW), (3, Severity.MEDIUM)]
    assert "password is its user name" in findings(code, "SCR451")[0].message


def test_url_in_a_docstring_or_bare_string_is_prose() -> None:
    code = '''
        """Module docs: postgresql://app:Zq8rT4mWx2Lp@db.internal/app"""

        class Client:
            """Connects to https://jo:Zq8rT4mWx2Lp@api.internal/."""

            def url(self):
                f"prose {self} https://jo:Zq8rT4mWx2Lp@api.internal/"
                return "https://jo:Zq8rT4mWx2Lp@api.internal/"
    '''
    assert [f.location.line for f in findings(code, "SCR451")] == [9]


def test_token_of_an_issuer_format_is_reported_in_a_docstring_too() -> None:
    code = '''
        def deploy():
            """Uses ghp_4fR9kLm2Qx7Vb1Nc8Zt5Yw3Ha6Jd0Es2Pu9K to push."""
    '''
    assert [f.severity for f in findings(code, "SCR451")] == [Severity.HIGH]


def test_mode_word_is_judged_per_name() -> None:
    # "always" is a mode of update_password (compared with two words), but that says
    # nothing about admin_password, compared with a single literal.
    code = """
        def apply(module):
            if module.update_password == "always" or module.update_password == "on_create":
                return 1
            if module.admin_password == "always":
                return 2
    """
    assert [f.location.line for f in findings(code, "SCR401")] == [5]


def test_timing_message_names_the_access_evidence() -> None:
    code = """
        def feed(datastore, request):
            stored = datastore.get("feed_access_token")
            feed_token = request.args.get("token")
            if feed_token != stored:
                return False
            return True
    """
    [finding] = findings(code, "SCR920")
    assert "feed_token" in finding.message and "request" in finding.message


def test_self_attribute_assigned_only_numbers_is_not_compared_byte_by_byte() -> None:
    code = """
        class Session:
            def __init__(self):
                self.token = 0

            def verify(self, other):
                return self.token == other.token
    """
    assert findings(code, "SCR920") == []


def test_word_in_an_argv_list_is_not_a_choice() -> None:
    code = """
        import subprocess
        DB_PASSWORD = "letmein"
        subprocess.run(["mysql", "--password", "letmein"])
    """
    assert [f.location.line for f in findings(code, "SCR401")] == [3]
