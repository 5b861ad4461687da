"""Classes of false or deliberate findings in web handlers and their data flow (issue 15,
helper P2), each with a pair: the case the code settles (not reported, or lower) and the
case it does not (still reported at its severity)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from helpers import findings, review_json


def review_tree(capsys: pytest.CaptureFixture[str], tmp_path: Path, files: dict[str, str]) -> dict[str, Any]:
    for name, code in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code))
    _code, data = review_json(capsys, "--no-cache", str(tmp_path))
    return data


def located(data: dict[str, Any], rule_id: str) -> list[tuple[str, int, str]]:
    return sorted((Path(f["path"]).name, f["line"], f["severity"]) for f in findings(data, rule_id))


def rule_findings(code: str, rule_id: str, name: str = "shop/views.py") -> list[tuple[int, str, str]]:
    from scrutiny import source
    from scrutiny.rules import RuleSet, all_rules

    src = source.load(textwrap.dedent(code).encode(), name)
    return sorted((f.location.line, f.severity.name.lower(), f.message) for f in RuleSet(all_rules()).run(src)
                  if f.rule_id == rule_id)  # fmt: skip


# SCR507: a next URL dropped unless the project's wrapper of Django's host check passes --

HOST_POLICY = """
    from django.conf import settings
    from django.utils.http import url_has_allowed_host_and_scheme


    class HostPolicy:
        def __init__(self, request):
            self.request = request

        def accepts(self, url):
            hosts = {self.request.get_host(), *settings.EXTRA_HOSTS}
            return url_has_allowed_host_and_scheme(url, allowed_hosts=hosts)
"""

NEXT_URL = """
    from django.http import HttpRequest

    from shop.policy import policy_for


    def wanted_target(request: HttpRequest):
        target = request.GET.get("then")
        if target and not policy_for(request).accepts(target):
            target = None
        return target or "/"
"""

LOGIN_VIEW = """
    from django.http import HttpResponseRedirect

    from shop.nexturl import wanted_target


    def after_login(request):
        return HttpResponseRedirect(wanted_target(request))
"""


def test_a_target_kept_only_when_the_projects_host_check_passes_is_not_an_open_redirect(capsys, tmp_path) -> None:
    files = {"shop/__init__.py": "", "shop/policy.py": HOST_POLICY, "shop/nexturl.py": NEXT_URL,
             "shop/views.py": LOGIN_VIEW}  # fmt: skip
    assert located(review_tree(capsys, tmp_path, files), "SCR507") == []


def test_a_target_the_wrapper_never_sees_is_still_an_open_redirect(capsys, tmp_path) -> None:
    unchecked = NEXT_URL.replace("if target and not policy_for(request).accepts(target):", "if target == \"-\":")
    files = {"shop/__init__.py": "", "shop/policy.py": HOST_POLICY, "shop/nexturl.py": unchecked,
             "shop/views.py": LOGIN_VIEW}  # fmt: skip
    assert located(review_tree(capsys, tmp_path, files), "SCR507") == [("views.py", 8, "medium")]


def test_a_target_that_passes_only_when_empty_is_still_an_open_redirect(capsys, tmp_path) -> None:
    # The false branch of `not target and not ok(target)` holds for any non-empty target,
    # which ok never saw.
    either = NEXT_URL.replace("if target and not policy_for(request).accepts(target):",
                              "if not target and not policy_for(request).accepts(target):")  # fmt: skip
    files = {"shop/__init__.py": "", "shop/policy.py": HOST_POLICY, "shop/nexturl.py": either,
             "shop/views.py": LOGIN_VIEW}  # fmt: skip
    assert located(review_tree(capsys, tmp_path, files), "SCR507") == [("views.py", 8, "medium")]
