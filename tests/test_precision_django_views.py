"""A Django view is a function that takes the request first and makes a response; a helper
that takes the request and returns nothing (auth.login) is not an entry point."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from scrutiny import cli

HELPER_AND_VIEW = """
    from django.shortcuts import redirect


    def sign_in(request, user, backend):
        request.session["backend"] = backend


    def remember(request, currency):
        request.session["currency"] = currency
        return redirect("/")
"""


def reviewed(tmp_path: Path, text: str) -> list[dict[str, Any]]:
    path = tmp_path / "shop" / "accounts.py"
    path.parent.mkdir(parents=True)
    path.write_text(textwrap.dedent(text))
    out = tmp_path / "out.json"
    assert cli.main(["review", "--format", "json", "--quiet", "--no-cache", "-o", str(out), str(path)]) in (0, 1)
    return list(json.loads(out.read_text())["findings"])


def test_only_the_function_that_makes_a_response_is_a_view(tmp_path: Path) -> None:
    stored = {(f["line"], f["rule_id"]) for f in reviewed(tmp_path, HELPER_AND_VIEW) if f["rule_id"] == "SCR513"}
    assert stored == {(10, "SCR513")}


REBOUND_CHECK = """
    from django.http import HttpResponseRedirect
    from django.utils.http import url_has_allowed_host_and_scheme


    def after_login(request):
        target = request.GET.get("next", "/")
        safe = True
        safe = safe and url_has_allowed_host_and_scheme(target, allowed_hosts={"shop.example.com"})
        safe = not safe
        return HttpResponseRedirect("/" if safe else target)
"""


def test_a_name_rebound_from_its_own_check_is_read_without_looping(tmp_path: Path) -> None:
    path = tmp_path / "shop" / "views.py"
    path.parent.mkdir(parents=True)
    path.write_text(textwrap.dedent(REBOUND_CHECK))
    out = tmp_path / "out.json"
    assert cli.main(["review", "--format", "json", "--quiet", "--no-cache", "-o", str(out), str(path)]) in (0, 1)
    assert json.loads(out.read_text())["errors"] == []
