"""A certificate check turned off only on a branch the caller chooses (if verify is False:)
is the caller's choice: reported low, with the branch named; turned off unconditionally it
stays high."""

from __future__ import annotations

import textwrap

from scrutiny import source
from scrutiny.findings import Severity
from scrutiny.rules import RuleSet, all_rules

CODE = """
    import ssl

    import requests


    def make_context(verify=True):
        ctx = ssl.create_default_context()
        if verify is False:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx


    def always_open():
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        return ctx


    def fetch(url, insecure=False):
        if insecure:
            return requests.get(url, verify=False, timeout=5)
        return requests.get(url, verify=False, timeout=5)
"""


def test_a_check_turned_off_on_the_callers_branch_is_low() -> None:
    src = source.load(textwrap.dedent(CODE).encode(), "lib/net.py", in_package=True)
    found = {
        (f.location.line, f.rule_id): f
        for f in RuleSet(all_rules()).run(src)
        if f.rule_id in ("SCR303", "SCR304")
    }
    assert {key: f.severity for key, f in found.items()} == {
        (10, "SCR304"): Severity.LOW,
        (11, "SCR304"): Severity.LOW,
        (17, "SCR304"): Severity.HIGH,
        (23, "SCR303"): Severity.LOW,
        (24, "SCR303"): Severity.HIGH,
    }
    assert "(verify is False)" in found[(10, "SCR304")].message
