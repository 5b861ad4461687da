"""Classes of false findings found by the lead on the second round's tuning projects, each
with a pair: the case the code settles (not reported, or low) and the case it does not."""

from __future__ import annotations

import textwrap

from helpers import findings, review_json, severities
from helpers import review_snippet as review


# SCR604: an emoji spelled as an escape, then its presentation selector ----------------

ESCAPED_EMOJI = """
    BANNER = "<h1>\\U0001f527\ufe0f Tools</h1>"
    HEART = "\\N{HEAVY BLACK HEART}\ufe0f thanks"
    HIDDEN = "admin\ufe0f"
    LITERAL_BACKSLASH = "\\\\u2764\ufe0f"
"""


def test_a_selector_after_an_escaped_emoji_is_ordinary(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "banner.py", ESCAPED_EMOJI)
    # The escape before the selector stands for an emoji: an ordinary emoji sequence. After
    # plain ASCII, or after an escaped backslash, the selector hides in the string.
    assert [line for line, _ in severities(data, "SCR604")] == [4, 5]


# SCR905: a call to the file's own cookie helper, which sets the flags itself ------------

COOKIE_HELPER = """
    class TokenStore:
        def set_cookie(self, handler, token):
            options = {"httponly": True}
            if handler.request.protocol == "https":
                options["secure"] = True
            handler.set_secure_cookie("session-token", token, **options)

        def remember(self, handler, token):
            self.set_cookie(handler, token)


    class Response:
        def set_cookie(self, key, value):
            super().set_cookie(key, value)


    def login(response, token):
        response.set_cookie("session-token", token)
"""


def test_a_call_to_the_files_own_cookie_helper_is_judged_in_the_helper(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "tokens.py", COOKIE_HELPER)
    # remember() calls the helper, which sets secure over HTTPS: nothing to report there.
    # The subclass reaching the framework through super() and the plain framework call
    # still set a session cookie without secure.
    assert severities(data, "SCR905") == [(15, "medium"), (19, "medium")]


# SCR106: signs of HTML are read from the code, not from comments, docstrings or URLs -----

CLAIM_TEMPLATES = '''
    # Licensed under the AGPL: see <https://www.gnu.org/licenses/agpl-3.0.html>.
    """Names for new accounts, rendered from an identity provider's claims.

    See https://openid.net/specs/openid-connect-core-1_0.html#StandardClaims.
    """
    from jinja2 import Environment

    env = Environment()
    DOCS = "https://example.org/mapping.html"


    def localpart(template_text, claims):
        return env.from_string(template_text).render(user=claims).strip()
'''

PAGE_TEMPLATES = CLAIM_TEMPLATES.replace('DOCS = "https://example.org/mapping.html"', 'PAGE = "welcome.html"')


def test_an_environment_whose_file_names_html_only_in_prose_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "mapping.py", CLAIM_TEMPLATES)
    assert severities(data, "SCR106") == [(9, "low")]


def test_an_environment_in_a_file_naming_an_html_template_stays_high(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "pages.py", PAGE_TEMPLATES)
    assert severities(data, "SCR106") == [(9, "high")]


# SCR134: shell=True given to a wrapper rests on what reaches the command ----------------

SHELL_WRAPPER = """
    import subprocess

    from flask import Flask, request

    app = Flask(__name__)


    def run_quietly(command, **options):
        return subprocess.run(command, capture_output=True, **options)


    @app.route("/ping")
    def ping():
        host = request.args["host"]
        return run_quietly(f"ping -c 1 {host}", shell=True).stdout


    def uptime():
        return run_quietly(f"uptime -p {FLAGS}", shell=True).stdout


    FLAGS = "-s"
"""


def test_shell_true_given_to_a_wrapper_is_medium_only_on_a_traced_path(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "pinger.py", SHELL_WRAPPER)
    # The request's host reaches the wrapper's subprocess call through line 16; nothing
    # untrusted reaches line 20.
    assert severities(data, "SCR134") == [(16, "medium"), (20, "low")]
    assert [(f["line"], f["severity"]) for f in findings(data, "SCR501")] == [(10, "high")]


def test_shell_true_given_to_a_wrapper_in_a_hand_run_script_is_a_note(capsys, tmp_path) -> None:
    script = """
        import sys

        from tools import run_quietly


        def main():
            run_quietly(f"git tag {sys.argv[1]}", shell=True)


        if __name__ == "__main__":
            main()
    """
    data = review(capsys, tmp_path, "tag_release.py", script)
    assert data["files"][0]["kind"] == "script"
    assert severities(data, "SCR134") == [(8, "info")]


# SCR337: a private opener whose every caller tests the scheme first ----------------------

DATA_URLS = """
    from urllib.request import urlopen


    def _inline_bytes(url):
        with urlopen(url) as answer:
            return answer.read()


    def preview(url, fetch):
        if url.startswith("data:"):
            return _inline_bytes(url)
        return fetch(url)


    def _any_bytes(url):
        with urlopen(url) as answer:
            return answer.read()


    def load(url):
        return _any_bytes(url)
"""


def test_a_private_opener_whose_callers_test_the_scheme_is_settled(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "previews.py", DATA_URLS)
    # _inline_bytes is only called once the URL is known to be a data: URL; _any_bytes
    # takes whatever load() is given.
    assert [line for line, _ in severities(data, "SCR337")] == [17]


# SCR603: a security call commented out where it was, and made elsewhere -------------------

MOVED_CHECK = """
    class Gate:
        def __init__(self, hub):
            self.hub = hub
            # Made lazily: building it here would import the policy module in a cycle.
            # self._policy = hub.get_policy_checker()
            self._policy = None

        def policy(self):
            if self._policy is None:
                self._policy = self.hub.get_policy_checker()
            return self._policy

        def admit(self, event):
            # self.hub.verify_signature(event)
            return self.policy().allows(event)
"""


def test_a_security_call_moved_elsewhere_in_the_file_is_not_disabled(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "gate.py", MOVED_CHECK)
    # get_policy_checker() still runs (in policy()); verify_signature() runs nowhere.
    assert severities(data, "SCR603") == [(15, "medium")]


# A peer tool's marker on the line: the maintainers reviewed it and kept it ---------------

MARKED = """
    import hashlib
    import subprocess


    def cache_key(password):
        return hashlib.md5(password.encode()).hexdigest()  # nosec B324 - cache key only


    def fingerprint(password):
        return hashlib.md5(password.encode()).hexdigest()  # noqa: S324


    def digest(password):
        return hashlib.md5(password.encode()).hexdigest()


    def other_marker(password):
        return hashlib.md5(password.encode()).hexdigest()  # nosec B602 - shell elsewhere
"""


def test_a_finding_on_a_line_marked_for_its_peer_rule_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "digests.py", MARKED)
    # Lines 7 and 11 carry Bandit's and Ruff's marker for this check; line 15 carries none,
    # and line 19's marker names another check.
    assert severities(data, "SCR301") == [(7, "low"), (11, "low"), (15, "medium"), (19, "medium")]
    noted = {f["line"]: f["context_note"] for f in findings(data, "SCR301")}
    assert "# nosec B324 at line 7" in noted[7] and "# noqa: S324 at line 11" in noted[11]


# SCR905: a literal value under a cookie named at run time -----------------------------------

DOWNLOAD_DONE = """
    from flask import request, send_file


    def export(buffer):
        response = send_file(buffer, mimetype="application/zip")
        if marker := request.args.get("marker"):
            response.set_cookie(marker, "done", max_age=600)
        return response


    def login(response, session_id):
        name = request.args.get("cookie")
        response.set_cookie(name, session_id)
        return response
"""


def test_a_literal_cookie_value_under_a_run_time_name_is_a_preference(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "exports.py", DOWNLOAD_DONE)
    assert severities(data, "SCR905") == [(8, "low"), (14, "medium")]


# SCR231: a Hub repository the code names, or one a caller chooses ----------------------------

HUB_LOADS = """
    from transformers import AutoModel, AutoTokenizer

    DEFAULT_MODEL = "example-org/sentiment-small"


    def load_model(model_name, **options):
        return AutoModel.from_pretrained(model_name)


    def load_default():
        return AutoModel.from_pretrained(DEFAULT_MODEL)


    def load_tokenizer():
        name = "example-org/tokenizer-base"
        return AutoTokenizer.from_pretrained(name)
"""


def test_a_hub_repository_chosen_by_the_caller_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "models.py", HUB_LOADS)
    # load_model passes on the caller's repository; the other two name theirs in the code.
    assert severities(data, "SCR231") == [(8, "low"), (12, "medium"), (17, "medium")]


# SCR504: a relative path without ".." stays under its directory ------------------------------

PATH_SHAPES = """
    import os
    import posixpath

    from flask import Flask, request

    app = Flask(__name__)
    ROOT = "/srv/files"


    def safe_relative(path):
        if ".." in path.split("/") or os.path.isabs(path):
            raise ValueError("bad path")
        return path


    def no_parent_only(path):
        if ".." in path.split("/"):
            raise ValueError("bad path")
        return path


    @app.route("/checked")
    def checked():
        name = safe_relative(request.args["name"])
        with open(posixpath.join(ROOT, name)) as handle:
            return handle.read()


    @app.route("/half")
    def half():
        name = no_parent_only(request.args["name"])
        with open(posixpath.join(ROOT, name)) as handle:
            return handle.read()


    @app.route("/inline")
    def inline():
        name = request.args["name"]
        if name.startswith("/") or ".." in name:
            return "no", 400
        with open(os.path.join(ROOT, name)) as handle:
            return handle.read()


    @app.route("/unchecked")
    def unchecked():
        with open(posixpath.join(ROOT, request.args["name"])) as handle:
            return handle.read()
"""


def test_a_path_checked_for_parent_segments_and_absoluteness_is_contained(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "files.py", PATH_SHAPES)
    # /checked and /inline rule out both ways out of ROOT; /half leaves absolute paths, and
    # /unchecked checks nothing (posixpath.join is os.path.join).
    assert [line for line, _ in severities(data, "SCR504")] == [33, 48]


# SCR751/SCR701: what makes a session id a secret is an authentication use, not a word -------

SESSION_IDS = """
    class AuthError(Exception):
        pass


    class Flows:
        def resume(self, store, session_id):
            store.set_ui_auth_session_data(session_id, "stage", 1)
            raise ValueError("Unknown session ID: %s" % session_id)

        def refuse(self, session_id):
            raise AuthError("session %s is incomplete" % session_id)

        def check(self, signer, session_id):
            signer.verify_session(session_id)
            raise ValueError("bad session %s" % session_id)
"""


def test_a_session_id_is_a_secret_only_where_an_authentication_call_takes_it(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "flows.py", SESSION_IDS)
    # Storing the id under a method that names auth in passing, or building an AuthError
    # with it, is no authentication use: only the name says secret (low). verify_session()
    # authenticates with it.
    assert severities(data, "SCR751") == [(9, "low"), (12, "low"), (16, "medium")]


# SCR401: a field name under a token-named constant ---------------------------------------------

USAGE_KEYS = """
    INPUT_TOKEN_KEY = "input_tokens"
    USAGE_TOKEN_ATTRIBUTE = "gen_ai.usage.output_tokens"
    REFRESH_TOKEN = "r8f2kd93jdk2mx7q"
"""


def test_a_lower_case_identifier_under_a_token_name_is_a_field_name(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "usage.py", USAGE_KEYS)
    # Only its name says REFRESH_TOKEN is a credential: reported, as a lead (low).
    assert severities(data, "SCR401") == [(4, "low")]


# SCR106: a Template whose text comes from another module -----------------------------------------

PROMPT_TEMPLATE = """
    from jinja2 import Template

    from prompts import SUMMARY_PROMPT


    def summary_prompt(records):
        return Template(SUMMARY_PROMPT).render(records=records)
"""


def test_a_template_from_another_module_in_a_file_without_html_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "prompting.py", PROMPT_TEMPLATE)
    assert severities(data, "SCR106") == [(8, "low")]
    page = PROMPT_TEMPLATE.replace("from prompts import SUMMARY_PROMPT", "from pages import SUMMARY_PROMPT\n    PAGE = 'summary.html'")
    data = review(capsys, tmp_path, "page.py", page)
    # With an HTML page named in the file the rule reports the missing escaping, but the
    # sign is a name, so its confidence is low and the review shows it as a lead (low).
    (finding,) = findings(data, "SCR106")
    assert (finding["line"], finding["severity"], finding["default_severity"]) == (9, "low", "medium")
    assert "rendered values are not HTML-escaped" in finding["message"]
    assert "evidence is weak" in finding["context_note"]


# SCR451: a URL with a password shown in a log message ---------------------------------------------

LOGGED_SYNTAX = """
    import logging

    _logger = logging.getLogger(__name__)
    BROKER = "amqp://worker:Zq81mWx02kd@queue.internal:5672/"


    def warn_about_uris():
        _logger.warning(
            "Registry URIs of the form 'registry://scope:prefix@workspace' are deprecated"
        )
"""


def test_a_url_with_a_password_in_a_log_message_is_an_example(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "uris.py", LOGGED_SYNTAX)
    assert [line for line, _ in severities(data, "SCR451")] == [5]


# SCR201: unpickling rests on what reaches it ------------------------------------------------------

PICKLES = """
    import pickle

    from flask import Flask, request

    app = Flask(__name__)


    def load_model(path):
        with open(path, "rb") as handle:
            return pickle.load(handle)


    @app.route("/restore", methods=["POST"])
    def restore():
        return str(pickle.loads(request.get_data()))
"""


def test_unpickling_is_serious_where_untrusted_bytes_reach_it(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "store.py", PICKLES)
    # A model file the caller names is a hint; the request body is the defect (SCR505,
    # with the pattern finding folded under it).
    assert severities(data, "SCR201") == [(11, "low")]
    assert [(f["line"], f["severity"]) for f in findings(data, "SCR505")] == [(16, "high")]


# SCR920: an ORM query expression is compared by the database ----------------------------------------

ORM_QUERIES = """
    from sqlalchemy import and_, select

    from models import ApiKey


    def key_owner(session, presented):
        row = session.query(ApiKey).filter(ApiKey.token == presented).first()
        return row.owner if row else None


    def key_row(session, presented):
        return session.execute(select(ApiKey).where(and_(ApiKey.token == presented, ApiKey.active))).first()


    def check(stored, presented):
        if stored.token == presented:
            return True
        raise PermissionError("bad token")
"""


def test_a_comparison_inside_an_orm_query_is_not_a_timing_leak(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "keys.py", ORM_QUERIES)
    assert [line for line, _ in severities(data, "SCR920")] == [17]


# SCR508: a JSON response made with jsonify is not a page ---------------------------------------------

JSON_VIEWS = """
    from flask import Flask, jsonify, make_response, request

    app = Flask(__name__)


    @app.route("/echo")
    def echo():
        return make_response(jsonify({"name": request.args["name"]}))


    @app.route("/hello")
    def hello():
        return make_response("<p>Hello " + request.args["name"] + "</p>")
"""


def test_a_jsonify_response_is_not_an_html_sink(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "views.py", JSON_VIEWS)
    assert [line for line, _ in severities(data, "SCR508")] == [14]


# SCR507: redirecting to the path of the request being served ----------------------------------------

SAME_PAGE = """
    from django.shortcuts import redirect
    from django.views import View


    class EditView(View):
        def post(self, request):
            if "_again" in request.POST:
                return redirect(request.get_full_path())
            return redirect(request.POST["next"])
"""


def test_redirecting_to_the_served_path_stays_on_the_site(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "views.py", SAME_PAGE)
    assert [line for line, _ in severities(data, "SCR507")] == [10]


# SCR930: a CSRF decorator is not an authorization check ------------------------------------------------

ERROR_VIEWS = """
    from django.http import HttpResponse, HttpResponseNotFound
    from django.template import loader
    from django.views.decorators.csrf import requires_csrf_token


    def not_found(request, exception, template_name="404.html"):
        page = loader.get_template(template_name)
        return HttpResponseNotFound(page.render({"exception": exception}, request))


    @requires_csrf_token
    def server_error(request, template_name="500.html"):
        return HttpResponse(loader.get_template(template_name).render({}, request), status=500)
"""


def test_a_csrf_decorator_on_a_sibling_is_not_an_authorization_check(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "errors.py", ERROR_VIEWS)
    assert findings(data, "SCR930") == []


# Taint: a Django view's request object carries what the server set on it ------------------------------

SERVER_SET = """
    from django.shortcuts import redirect

    from shop.urls import shop_url


    def checkout_done(request, *args, **kwargs):
        request.session["paid"] = True
        return redirect(shop_url(request.event, "thanks"))


    def go(request, *args, **kwargs):
        return redirect(request.GET["next"])
"""


def test_a_value_the_server_set_on_the_request_is_not_client_data(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "views.py", SERVER_SET)
    # request.event comes from the site's middleware; request.GET from the client.
    assert [line for line, _ in severities(data, "SCR507")] == [13]


REVERSED = """
    from django.shortcuts import redirect
    from django.urls import reverse


    def to_detail(request):
        return redirect(reverse(request.GET["view"]))


    def to_next(request):
        return redirect(request.GET["next"])
"""


def test_a_url_reversed_from_a_pattern_stays_on_the_site(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "views.py", REVERSED)
    assert [line for line, _ in severities(data, "SCR507")] == [11]


# Django: helpers the file's views call, signed state, exemption decorators, example settings --------

HELPER_VIEWS = """
    from django.core import signing
    from django.contrib.auth.decorators import login_not_required, login_required
    from django.http import HttpResponseRedirect
    from django.shortcuts import get_object_or_404, redirect

    from .models import Unit


    def finish(request, unit, next_url):
        unit.save()
        return HttpResponseRedirect(next_url)


    @login_required
    def translate(request, pk):
        unit = get_object_or_404(Unit, pk=pk)
        return finish(request, unit, unit.get_absolute_url())


    def resume(request):
        state = signing.loads(request.GET["state"])
        return redirect(state["next"])


    @login_not_required
    def public_page(request, slug):
        unit = get_object_or_404(Unit, slug=slug)
        return redirect(unit.get_absolute_url())


    def jump(request):
        return redirect(request.GET["next"])
"""


def test_helpers_signed_state_and_exemptions_are_read_for_what_they_are(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "views.py", HELPER_VIEWS)
    # finish() is called by translate() with a URL the server built; signing.loads returns
    # what the server signed; only jump() redirects to the client's value.
    assert [line for line, _ in severities(data, "SCR507")] == [33]
    # @login_not_required marks a public view: it is not a check its siblings lack.
    assert findings(data, "SCR930") == []


def test_an_example_settings_module_is_example_code(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "settings_example.py", "DEBUG = True\nALLOWED_HOSTS = ['*']\n")
    assert data["files"][0]["kind"] == "example"
    assert severities(data, "SCR405") == [(1, "info")]


# SCR401: names that describe the shape of secrets --------------------------------------------------------

DETECTOR = """
    AWS_ACCESS_KEY_ID_PREFIXES = "AKIA|ASIA|AROA"
    GITHUB_TOKEN_PATTERN = "ghp_[A-Za-z0-9]{36}"
    DEPLOY_TOKEN = "ghp_8fK2mQ9xLr4Tz7Wc1Nv5Bq3Yh6Jd0Sa2Ep4U"
"""


def test_a_name_for_the_shape_of_a_secret_holds_no_secret(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "detector.py", DETECTOR)
    assert [line for line, _ in severities(data, "SCR401")] == [4]


# SCR920: checksums kept in a container of plain hashers ------------------------------------------------

CHECKSUMS = """
    import hashlib


    class DigestError(Exception):
        pass


    def verify(data, expected_digests):
        hashers = {name: hashlib.new(name) for name in expected_digests}
        for hasher in hashers.values():
            hasher.update(data)
        for algorithm, expected_digest in expected_digests.items():
            actual_digest = hashers[algorithm].hexdigest()
            if expected_digest != actual_digest:
                raise DigestError(algorithm)
"""


def test_a_checksum_from_a_container_of_plain_hashers_is_not_a_secret(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "checksums.py", CHECKSUMS)
    assert findings(data, "SCR920") == []
    keyed = "import hmac\n" + textwrap.dedent(CHECKSUMS).replace("hashlib.new(name)", "hmac.new(KEY, digestmod=name)")
    data = review(capsys, tmp_path, "macs.py", keyed)
    assert [line for line, _ in severities(data, "SCR920")] == [16]


# SCR983: a host-like literal tested in text nothing shows to be a URL ------------------------------------

ANNOTATIONS = """
    import requests


    def skipped(resource):
        annotations = resource.get("metadata", {}).get("annotations", {})
        if "checks.example.io/skip" in annotations:
            return "skipped"
        return "checked"


    def forward(target):
        if "example.com" in target:
            return requests.get(target, timeout=5)
        return None
"""


def test_a_substring_test_of_text_not_shown_to_be_a_url_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "annotations.py", ANNOTATIONS)
    # The annotation key is tested in a mapping read from a document; the second value is
    # handed to requests.get, so it is a URL.
    assert severities(data, "SCR983") == [(7, "low"), (13, "medium")]


# Taint: where "a or b" is false, both are ---------------------------------------------------------------

LANGUAGE_SWITCH = """
    from django.http import HttpResponseRedirect
    from django.utils.http import url_has_allowed_host_and_scheme


    def switch(request):
        next_url = request.POST.get("next")
        if (next_url or request.accepts("text/html")) and not url_has_allowed_host_and_scheme(
            url=next_url, allowed_hosts={request.get_host()}
        ):
            next_url = "/"
        return HttpResponseRedirect(next_url)


    def switch_unchecked(request):
        next_url = request.POST.get("next")
        if next_url or request.accepts("text/html"):
            next_url = next_url.strip()
        return HttpResponseRedirect(next_url)
"""


def test_the_false_branch_of_an_or_then_a_check_is_narrowed(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "i18n.py", LANGUAGE_SWITCH)
    assert [line for line, _ in severities(data, "SCR507")] == [19]


# SCR920 (python-sql where=) and SCR603 (a commented-out definition) ---------------------------------------

WHERE_KEYWORD = """
    from sql import Table

    attempts = Table("login_attempt")


    def count(cursor, device_cookie):
        cursor.execute(*attempts.select(where=(attempts.device_cookie == device_cookie)))
        return cursor.fetchone()
"""

COMMENTED_OVERRIDE = """
    class Wrapped:
        def hash(self, secret):
            return self._hash(secret)

        # def verify(self, secret, hashed):
        #     self.verify_signature(secret, hashed)
        #     return True

        def check(self, secret, hashed):
            # self.verify_signature(secret, hashed)
            return self._hash(secret) == hashed
"""


def test_a_python_sql_where_clause_and_a_commented_definition(capsys, tmp_path) -> None:
    assert findings(review(capsys, tmp_path, "attempts.py", WHERE_KEYWORD), "SCR920") == []
    data = review(capsys, tmp_path, "wrapped.py", COMMENTED_OVERRIDE)
    # The commented-out verify() is a definition kept for reference; the commented call in
    # check() is a check the method no longer makes.
    assert [line for line, _ in severities(data, "SCR603")] == [11]


# A vendored copy of another project inside the reviewed tree ----------------------------------------------

def test_findings_in_a_vendored_copy_are_low_and_a_wrapper_subpackage_is_not_one(capsys, tmp_path) -> None:
    files = {
        "app/__init__.py": "",
        "app/support/__init__.py": "",
        "app/support/hashkit/__init__.py": "__version__ = '1.0'\n",
        "app/support/hashkit/utils.py": "def to_bytes(text):\n    return text.encode()\n",
        "app/support/hashkit/legacy.py": (
            "import hashlib\n\nfrom hashkit.utils import to_bytes\n\n\n"
            "def legacy_hash(password):\n    return hashlib.md5(to_bytes(password)).hexdigest()\n"
        ),
        "app/virt/__init__.py": "",
        "app/virt/libvirt/__init__.py": "",
        "app/virt/libvirt/driver.py": (
            "import hashlib\n\nimport libvirt\n\n\n"
            "def connect(uri, password):\n    libvirt.open(uri)\n    return hashlib.md5(password.encode()).hexdigest()\n"
        ),
        # A flavour named like the library it wraps, with a utils module of its own, calling
        # the library's utils (which the flavour's utils.py does not define).
        "app/flavors/__init__.py": "",
        "app/flavors/sklearn/__init__.py": "",
        "app/flavors/sklearn/utils.py": "def log_model(model):\n    return model\n",
        "app/flavors/sklearn/save.py": (
            "import hashlib\n\nfrom sklearn.utils import check_array\n\n\n"
            "def save(data, password):\n    check_array(data)\n    return hashlib.md5(password.encode()).hexdigest()\n"
        ),
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _code, data = review_json(capsys, "--no-cache", str(tmp_path / "app"))
    by_file = {f["path"].split("app/", 1)[1]: f for f in findings(data, "SCR301")}
    vendored = by_file["support/hashkit/legacy.py"]
    assert vendored["severity"] == "low" and "vendored copy of the hashkit package" in vendored["context_note"]
    # libvirt here is the binding the subpackage wraps (a bare module), not a copy of it.
    assert by_file["virt/libvirt/driver.py"]["severity"] == "medium"
    assert by_file["flavors/sklearn/save.py"]["severity"] == "medium"


# Taint: a check of request.GET.get("next") vouches for the same read where it held ---------------------

CHECKED_READS = """
    from django.shortcuts import redirect
    from django.utils.http import url_has_allowed_host_and_scheme


    def done(request):
        if url_has_allowed_host_and_scheme(request.GET.get("next"), allowed_hosts=None):
            return redirect(request.GET.get("next"))
        return redirect("/")


    def after(request):
        if url_has_allowed_host_and_scheme(request.GET.get("next"), allowed_hosts=None):
            pass
        return redirect(request.GET.get("next"))


    def other_key(request):
        if url_has_allowed_host_and_scheme(request.GET.get("next"), allowed_hosts=None):
            return redirect(request.GET["back"])
        return redirect("/")
"""


def test_a_checked_read_is_clean_where_the_check_held_and_only_there(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "views.py", CHECKED_READS)
    assert [line for line, _ in severities(data, "SCR507")] == [15, 20]


def test_the_projects_own_package_under_a_thin_wrapper_is_not_vendored(capsys, tmp_path) -> None:
    files = {
        "wrapper/__init__.py": "",
        "wrapper/__main__.py": "from core.app import main\n\nmain()\n",
        "wrapper/core/__init__.py": "",
        "wrapper/core/util.py": "def to_bytes(text):\n    return text.encode()\n",
        "wrapper/core/app.py": (
            "import hashlib\n\nfrom core.util import to_bytes\n\n\n"
            "def main(password='x'):\n    return hashlib.md5(to_bytes(password)).hexdigest()\n"
        ),
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _code, data = review_json(capsys, "--no-cache", str(tmp_path / "wrapper"))
    (finding,) = findings(data, "SCR301")
    assert finding["severity"] == "medium" and "vendored" not in (finding.get("context_note") or "")
