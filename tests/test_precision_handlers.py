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


IN_ONE_FILE = NEXT_URL + """

    def after_login(request: HttpRequest):
        return HttpResponseRedirect(wanted_target(request))
"""


def test_a_flow_within_one_file_past_the_wrapper_of_another_file_is_not_an_open_redirect(capsys, tmp_path) -> None:
    code = IN_ONE_FILE.replace("from django.http import HttpRequest", "from django.http import HttpRequest, HttpResponseRedirect")
    files = {"shop/__init__.py": "", "shop/policy.py": HOST_POLICY, "shop/views.py": code}
    assert located(review_tree(capsys, tmp_path, files), "SCR507") == []


def test_a_flow_within_one_file_the_wrapper_does_not_clear_is_still_an_open_redirect(capsys, tmp_path) -> None:
    code = IN_ONE_FILE.replace("from django.http import HttpRequest", "from django.http import HttpRequest, HttpResponseRedirect")
    either = code.replace("if target and not policy_for(request).accepts(target):",
                          "if not target and not policy_for(request).accepts(target):")  # fmt: skip
    files = {"shop/__init__.py": "", "shop/policy.py": HOST_POLICY, "shop/views.py": either}
    assert located(review_tree(capsys, tmp_path, files), "SCR507") == [("views.py", 15, "medium")]


# SCR601: an assert that the user is logged in, under a check that already admits only them

LOGIN_VIEWS = """
    from django.contrib.auth.decorators import login_required
    from django.http import HttpResponse
    from django.utils.decorators import method_decorator
    from django.views import View


    @method_decorator(login_required, name="dispatch")
    class InboxView(View):
        def get(self, request):
            assert request.user.is_authenticated
            return HttpResponse(request.user.inbox_size())


    @method_decorator(login_required, name="post")
    class OutboxView(View):
        def get(self, request):
            assert request.user.is_authenticated
            return HttpResponse(request.user.outbox_size())


    @login_required
    def badge(request):
        assert not request.user.is_anonymous
        assert request.user.is_staff
        return HttpResponse("staff")


    class SignedInView(View):
        def dispatch(self, request, *args, **kwargs):
            if not request.user.is_authenticated:
                return HttpResponse(status=401)
            return super().dispatch(request, *args, **kwargs)


    class DraftsView(SignedInView):
        def get(self, request):
            assert request.user.is_authenticated
            return HttpResponse(request.user.draft_count())


    def public_counter(request):
        assert request.user.is_authenticated
        return HttpResponse(request.user.visits())
"""


def test_an_assert_that_restates_the_login_check_of_the_view_is_low() -> None:
    found = rule_findings(LOGIN_VIEWS, "SCR601")
    lowered = [(line, severity) for line, severity, message in found if "restates the login check" in message]
    assert lowered == [(11, "low"), (24, "low"), (38, "low")]
    assert "@login_required on InboxView" in found[0][2]
    assert "SignedInView.dispatch, a base of DraftsView" in next(m for line, _, m in found if line == 38)


def test_an_assert_no_check_in_sight_already_makes_stays_medium() -> None:
    found = rule_findings(LOGIN_VIEWS, "SCR601")
    kept = [(line, severity) for line, severity, message in found if "restates the login check" not in message]
    # OutboxView is logged in only for post; is_staff is more than login_required checks.
    assert kept == [(18, "medium"), (25, "medium"), (43, "medium")]


# SCR513: what the session only carries, and what is read back from it -----------------

PREFERENCES = """
    from flask import Flask, abort, request, session

    app = Flask(__name__)


    @app.route("/theme", methods=["POST"])
    def theme():
        session["theme"] = request.form["theme"]
        return "saved"


    @app.route("/team", methods=["POST"])
    def team():
        session["team"] = request.form["team"]
        return "joined"


    @app.route("/board")
    def board():
        if session.get("team") != "ops":
            abort(403)
        return "board"
"""


def test_client_data_the_session_only_carries_is_low(capsys, tmp_path) -> None:
    data = review_tree(capsys, tmp_path, {"prefs.py": PREFERENCES})
    assert [(line, severity) for _, line, severity in located(data, "SCR513")] == [(9, "low"), (15, "medium")]
    [carried] = [f for f in findings(data, "SCR513") if f["line"] == 9]
    assert "no code of this file compares or tests that session key" in carried["message"]


def test_a_session_key_the_file_decides_access_on_stays_medium(capsys, tmp_path) -> None:
    data = review_tree(capsys, tmp_path, {"prefs.py": PREFERENCES.replace('get("team")', 'get("theme")')})
    assert [(line, severity) for _, line, severity in located(data, "SCR513")] == [(9, "medium"), (15, "low")]


RECORDS = """
    from django.http import HttpRequest, JsonResponse


    def visit(request: HttpRequest):
        seen = request.session.get("seen", [])
        request.session["seen"] = [*seen, "home"]
        request.session["label"] = request.GET.get("label", "")
        if request.session.get("label") == "beta":
            return JsonResponse({"beta": True})
        return JsonResponse({"seen": len(seen)})
"""


def test_what_the_session_held_written_back_is_not_client_data(capsys, tmp_path) -> None:
    data = review_tree(capsys, tmp_path, {"shop/__init__.py": "", "shop/visits.py": RECORDS})
    # line 7 stores what line 6 read from the session; line 8 stores the query's label.
    assert located(data, "SCR513") == [("visits.py", 8, "medium")]


# SCR930: a function that takes the request but makes no response is a helper, not a view

LIBRARY_VIEWS = """
    from django.core.exceptions import PermissionDenied
    from django.http import HttpResponse
    from django.shortcuts import get_object_or_404

    from library.models import Shelf


    def rename_shelf(request, shelf_id):
        if not request.user.has_perm("library.change_shelf"):
            raise PermissionDenied
        shelf = get_object_or_404(Shelf, pk=shelf_id)
        shelf.rename(request.POST["name"])
        return HttpResponse("renamed")


    def empty_shelf(request, shelf_id):
        if not request.user.has_perm("library.change_shelf"):
            raise PermissionDenied
        get_object_or_404(Shelf, pk=shelf_id).empty()
        return HttpResponse("emptied")


    def archive_shelf(request, shelf):
        shelf.archive()
        log_change(request, shelf)


    def drop_shelf(request, shelf_id):
        get_object_or_404(Shelf, pk=shelf_id).delete()
        return HttpResponse("dropped")
"""


def test_a_helper_that_takes_the_request_is_not_a_handler() -> None:
    found = rule_findings(LIBRARY_VIEWS, "SCR930", "library/views.py")
    assert all(line != 24 for line, _, _ in found)


def test_a_view_that_makes_a_response_without_the_check_stays_high() -> None:
    found = rule_findings(LIBRARY_VIEWS, "SCR930", "library/views.py")
    assert [(line, severity) for line, severity, _ in found] == [(29, "high")]


# SCR930: a check the route declares or hands to code of another file ------------------

PHOTO_ROUTER = """
    from django.shortcuts import get_object_or_404
    from ninja import Router

    from gallery.auth import TokenAuth, public_or_token
    from gallery.models import Photo
    from gallery.permissions import needs_permission, visible_photos
    from gallery.tasks import job_for

    router = Router(auth=TokenAuth())


    @router.get("/{photo_id}/", auth=public_or_token())
    def show_photo(request, photo_id: int):
        return get_object_or_404(Photo, pk=photo_id)


    @router.get("/{photo_id}/meta/")
    def photo_meta(request, photo_id: int):
        return get_object_or_404(visible_photos(request), pk=photo_id)


    @router.post("/{photo_id}/hide/")
    def hide_photo(request, photo_id: int):
        photo = get_object_or_404(Photo, pk=photo_id)
        job = job_for(photo, "hide")(photo, user=request.user)
        return job.run()


    @router.post("/{photo_id}/rotate/")
    def rotate_photo(request, photo_id: int):
        photo = get_object_or_404(Photo, pk=photo_id)
        photo.rotate(90)
        return photo


    @router.patch("/{photo_id}/")
    @needs_permission(Photo, "change")
    def update_photo(request, photo_id: int):
        return get_object_or_404(Photo, pk=photo_id)


    @router.delete("/{photo_id}/")
    @needs_permission(Photo, "delete")
    def delete_photo(request, photo_id: int):
        get_object_or_404(Photo, pk=photo_id).delete()


    @router.post("/{photo_id}/publish/")
    @needs_permission(Photo, "publish")
    def publish_photo(request, photo_id: int):
        get_object_or_404(Photo, pk=photo_id).publish()


    @router.post("/{photo_id}/unpublish/")
    @needs_permission(Photo, "publish")
    def unpublish_photo(request, photo_id: int):
        get_object_or_404(Photo, pk=photo_id).unpublish()
"""


def test_a_route_whose_check_is_declared_or_handed_on_is_low() -> None:
    found = rule_findings(PHOTO_ROUTER, "SCR930", "gallery/api.py")
    lowered = [(line, severity) for line, severity, _ in found if severity == "low"]
    assert lowered == [(14, "low"), (19, "low"), (24, "low")]
    messages = {line: message for line, _, message in found}
    assert "declares whom it admits (auth=...)" in messages[14]
    assert "looked up in visible_photos(request), a set built" in messages[19]
    assert "goes with the requesting user (request.user)" in messages[24]


def test_a_route_that_changes_the_resource_with_no_check_anywhere_stays_high() -> None:
    found = rule_findings(PHOTO_ROUTER, "SCR930", "gallery/api.py")
    assert [(line, severity) for line, severity, _ in found if severity != "low"] == [(31, "high")]


# SCR508: a response body declared as plain text or JSON is not markup -----------------

ECHO_VIEWS = """
    import json

    from django.http import HttpResponse
    from flask import Flask, Response, request

    app = Flask(__name__)


    def explain(request, spec):
        return HttpResponse("cannot read " + spec, content_type="text/plain; charset=utf-8")


    def explain_page(request, spec):
        return HttpResponse("cannot read " + spec)


    @app.route("/echo")
    def echo():
        return Response(json.dumps({"asked": request.args["q"]}), mimetype="application/json")


    @app.route("/echo.html")
    def echo_page():
        return Response("<p>" + request.args["q"] + "</p>", mimetype="text/html")
"""


def test_a_body_served_as_text_or_json_is_not_cross_site_scripting(capsys, tmp_path) -> None:
    data = review_tree(capsys, tmp_path, {"echo/__init__.py": "", "echo/views.py": ECHO_VIEWS})
    assert all(line not in (11, 20) for _, line, _ in located(data, "SCR508"))


def test_a_body_served_as_html_or_with_the_default_type_stays_high(capsys, tmp_path) -> None:
    data = review_tree(capsys, tmp_path, {"echo/__init__.py": "", "echo/views.py": ECHO_VIEWS})
    assert located(data, "SCR508") == [("views.py", 15, "high"), ("views.py", 25, "high")]


# SCR902: an exempted view that checks a token of each request itself -----------------

EXEMPT_VIEWS = """
    import hmac

    from django.core.exceptions import PermissionDenied
    from django.http import HttpResponse
    from django.views import View
    from django.views.decorators.csrf import csrf_exempt


    class WidgetSignIn(View):
        def post(self, request):
            self.refuse_forged(request)
            return HttpResponse("signed in")

        def refuse_forged(self, request):
            from_cookie = request.COOKIES.get("widget_token", "")
            from_form = request.POST.get("widget_token", "")
            if not from_cookie or not hmac.compare_digest(from_cookie, from_form):
                raise PermissionDenied("token mismatch")


    widget_sign_in = csrf_exempt(WidgetSignIn.as_view())


    @csrf_exempt
    def close_account(request):
        if not request.user.is_staff:
            raise PermissionDenied
        request.user.close()
        return HttpResponse("closed")
"""


def test_an_exempt_view_that_compares_a_token_the_request_sent_is_low() -> None:
    found = rule_findings(EXEMPT_VIEWS, "SCR902", "widgets/views.py")
    assert [(line, severity) for line, severity, _ in found if line == 22] == [(22, "low")]
    assert "line 18 refuses the request" in found[0][2]


def test_an_exempt_view_that_checks_only_who_is_signed_in_stays_medium() -> None:
    found = rule_findings(EXEMPT_VIEWS, "SCR902", "widgets/views.py")
    assert [(line, severity) for line, severity, _ in found] == [(22, "low"), (25, "medium")]
