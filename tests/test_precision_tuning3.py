"""Classes of false or deliberate findings from the third tuning round (issue 15, pyload-ng,
opsdroid, mezzanine, borgbackup, sanic), each with a pair: the case the code settles (not
reported, or low) and the case it does not (still reported at its severity)."""

from __future__ import annotations

from helpers import findings, severities
from helpers import review_snippet as review

# SCR507: a redirect target vetted by Django's is_safe_url, imported under the newer name --

VETTED_NEXT = """\
    from django.shortcuts import redirect

    try:
        from django.utils.http import url_has_allowed_host_and_scheme
    except ImportError:
        from django.utils.http import is_safe_url as url_has_allowed_host_and_scheme


    def target(request):
        wanted = request.GET.get("to", "")
        return wanted if url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}) else None


    def leave(request):
        return redirect(target(request) or "/")


    def jump(request):
        return redirect(request.GET.get("to", "/"))
"""


def test_a_target_checked_by_is_safe_url_is_not_an_open_redirect(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "views.py", VETTED_NEXT)
    assert [line for line, _ in severities(data, "SCR507")] == [19]


def test_an_unchecked_target_is_still_an_open_redirect(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "views.py", VETTED_NEXT)
    assert severities(data, "SCR507") == [(19, "medium")]


# SCR930: a view parameter that only picks the template is not a resource ----------------

TEMPLATE_VIEWS = """\
    from django.contrib.admin.views.decorators import staff_member_required
    from django.template.response import TemplateResponse

    from .models import Entry


    def entry(request, name, layout="entry.html"):
        choices = ["entries/%s.html" % request.GET.get("kind", "plain")]
        choices.append(layout)
        return TemplateResponse(request, choices, {"name": name})


    def listing(request, layout="list.html"):
        return TemplateResponse(request, layout, {"rows": Entry.objects.all()})


    def erase(request, name):
        Entry.objects.filter(name=name).delete()
        return TemplateResponse(request, "done.html", {})


    @staff_member_required
    def rename(request, name):
        Entry.objects.filter(name=name).update(name=request.POST["to"])
        return TemplateResponse(request, "done.html", {})


    @staff_member_required
    def publish(request, name):
        Entry.objects.filter(name=name).update(public=True)
        return TemplateResponse(request, "done.html", {})
"""


def test_a_parameter_that_only_names_the_template_is_not_a_missing_check(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "views.py", TEMPLATE_VIEWS)
    lines = [line for line, _ in severities(data, "SCR930")]
    assert 7 not in lines and 13 not in lines


def test_a_view_acting_on_a_named_record_unchecked_is_still_high(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "views.py", TEMPLATE_VIEWS)
    assert severities(data, "SCR930") == [(17, "high")]
    assert "2 of 2 sibling handlers" in findings(data, "SCR930")[0]["message"]


# SCR301: a password digest sent to a remote API through the project's request helper ----

REMOTE_LOGIN = """\
    import hashlib
    import json


    class Mirror:
        ENDPOINT = "https://files.example.net/api/"

        def fetch(self, address, body=None, query=None):
            raise NotImplementedError

        def call(self, verb, **fields):
            return self.fetch(self.ENDPOINT + verb + "/", body=fields)

        def sign_in(self, user, password):
            body = {"user": user, "pass_md5": hashlib.md5(password.encode()).hexdigest()}
            return json.loads(self.fetch(self.ENDPOINT + "login", body=json.dumps(body)))

        def renew(self, user, password):
            hashed = hashlib.sha1(password.encode()).hexdigest()
            return self.call("renew", user=user, secret=hashed)

        def remember(self, user, password):
            self.saved = {"user": user, "pass_md5": hashlib.md5(password.encode()).hexdigest()}
"""


def test_a_password_digest_sent_to_a_remote_url_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "mirror.py", REMOTE_LOGIN)
    low = {f["line"]: f["message"] for f in findings(data, "SCR301") if f["severity"] == "low"}
    assert sorted(low) == [15, 19]
    assert "the remote API chooses the algorithm" in low[15]
    assert "through call(**fields)" in low[19]


def test_a_password_digest_kept_locally_stays_medium(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "mirror.py", REMOTE_LOGIN)
    assert [(f["line"], f["severity"]) for f in findings(data, "SCR301") if f["severity"] != "low"] == [(23, "medium")]


# SCR453: a request without a timeout in a Django management command ---------------------

PULL_COMMAND = """\
from urllib.request import urlopen

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("url")

    def handle(self, *args, **options):
        body = urlopen(options["url"]).read()
        self.stdout.write(body.decode())
"""


def test_a_request_in_a_management_command_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "shop/management/commands/pull_feed.py", PULL_COMMAND)
    assert severities(data, "SCR453") == [(11, "low")]
    assert "Django management command pull_feed" in findings(data, "SCR453")[0]["message"]


def test_the_same_request_outside_management_commands_stays_medium(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "shop/tasks/pull_feed.py", PULL_COMMAND)
    assert severities(data, "SCR453") == [(11, "medium")]


# SCR701: a masked form of a key (a few characters of it) written to the log -------------

KEY_LOG = """\
import logging

log = logging.getLogger(__name__)


def refuse(api_key, client):
    shown_api_key = f"{api_key[:3]}...{api_key[-3:]}" if len(api_key) > 10 else "***"
    log.warning("rejected key %s from %s", shown_api_key, client)
    log.warning("rejected tail %s", api_key[-4:])


def refuse_loudly(api_key, client):
    shown_api_key = f"{api_key}" if api_key else "***"
    log.warning("rejected key %s from %s", shown_api_key, client)
"""


def test_a_masked_key_in_a_log_is_not_reported(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "keys.py", KEY_LOG)
    lines = [line for line, _ in severities(data, "SCR701")]
    assert 8 not in lines and 9 not in lines


def test_the_whole_key_in_a_log_stays_medium(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "keys.py", KEY_LOG)
    assert severities(data, "SCR701") == [(14, "medium")]


# SCR750: error text returned by a handler behind the file's own 403 gate ----------------

GATED_RELAY = """\
from functools import wraps

import flask

bp = flask.Blueprint("relay", __name__)
TRUSTED = ("127.0.0.1", "::1")


def near_only(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if flask.request.remote_addr in TRUSTED:
            return view(*args, **kwargs)
        return "refused", 403

    return wrapper


def queue(item):
    raise NotImplementedError


@bp.route("/relay/add", methods=["POST"])
@near_only
def add():
    try:
        queue(flask.request.form["item"])
    except Exception as exc:
        return "failed: " + str(exc), 500
    return "ok"


@bp.route("/relay/put", methods=["POST"])
def put():
    try:
        queue(flask.request.form["item"])
    except Exception as exc:
        return "failed: " + str(exc), 500
    return "ok"
"""


def test_error_text_behind_a_refusing_decorator_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "relay.py", GATED_RELAY)
    low = [f for f in findings(data, "SCR750") if f["severity"] == "low"]
    assert [f["line"] for f in low] == [29]
    assert "wrapped by near_only (line 9)" in low[0]["message"]


def test_error_text_from_an_ungated_handler_stays_medium(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "relay.py", GATED_RELAY)
    assert [(line, sev) for line, sev in severities(data, "SCR750") if sev != "low"] == [(38, "medium")]
