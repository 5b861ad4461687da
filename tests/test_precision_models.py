"""Library semantics the taint models must know: calls that end the request."""

from __future__ import annotations

from helpers import findings
from helpers import review_snippet as review

REST_ABORT = """
    from flask import Flask, send_from_directory
    from flask_restful import abort

    app = Flask(__name__)


    @app.route("/flags/<path:flag_path>")
    def flags(flag_path):
        subdir = flag_path.split("/")[0]
        if subdir not in ["1x1", "4x3"]:
            abort(404)
        return send_from_directory(f"static/flags/{subdir}", "flag.svg")


    @app.route("/icons/<path:icon_path>")
    def icons(icon_path):
        subdir = icon_path.split("/")[0]
        if subdir not in ["16", "32"]:
            print("unknown size")
        return send_from_directory(f"static/icons/{subdir}", "icon.svg")
"""


def test_flask_restful_abort_ends_the_request_like_flask_abort(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "flags.py", REST_ABORT)
    # Line 13 is reached only when the allow-list held: flask_restful.abort raises.
    # Line 21 is reached either way.
    assert [(f["line"], f["severity"]) for f in findings(data, "SCR504")] == [(21, "high")]


# SCR930: a decorator that answers 403 when its requirement fails is a check ------------------

PERMISSION_ROUTES = """
    from flask import Blueprint, abort, jsonify

    from .access import Permissions, current_user, groups

    api = Blueprint("api", __name__)


    @api.route("/groups/<key>", methods=["DELETE"])
    def remove_group(key):
        if not current_user.is_admin:
            abort(403)
        groups.remove(key)
        return jsonify(ok=True)


    @api.route("/groups/<key>", methods=["PUT"])
    @Permissions.ADMIN.require(403)
    def update_group(key):
        groups.update(key)
        return jsonify(ok=True)


    @api.route("/groups/<key>/rename", methods=["POST"])
    @Permissions.ADMIN.describe("rename")
    def rename_group(key):
        groups.rename(key)
        return jsonify(ok=True)
"""


def test_a_decorator_given_the_denial_status_is_an_access_check(capsys, tmp_path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "__init__.py").write_text("")
    data = review(capsys, tmp_path, "svc/routes.py", PERMISSION_ROUTES)
    # update_group's decorator answers 403: checked. rename_group's says nothing of access.
    assert [f["line"] for f in findings(data, "SCR930")] == [26]


# SCR932: a role the request names, verified against the signed-in user ----------------------

ROLE_ROUTES = """
    from flask import Flask, redirect, request

    from .auth import current_user, has_permissions

    app = Flask(__name__)


    @app.route("/login")
    def login():
        permissions = request.args.get("permissions", "").split(",")
        if has_permissions(*permissions):
            return redirect("/")
        return "login form"


    @app.route("/panel")
    def panel():
        role = request.args.get("role")
        if role == "admin":
            return "admin panel"
        return "user panel"
"""


def test_a_requested_role_the_server_checks_is_not_the_callers_word(capsys, tmp_path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "__init__.py").write_text("")
    data = review(capsys, tmp_path, "svc/views.py", ROLE_ROUTES)
    assert [f["line"] for f in findings(data, "SCR932")] == [20]


# SCR406: a mktemp name used only as the new path of a link ------------------------------------

LINK_PROBES = """
    import os
    import tempfile


    def supports_symlinks(directory):
        name = tempfile.mktemp(dir=directory, prefix="probe-")
        name = os.fsencode(name)
        try:
            os.symlink(b"target", name)
            os.unlink(name)
            return True
        except OSError:
            return False


    def link_to_scratch(directory):
        scratch = tempfile.mktemp(dir=directory)
        os.symlink(scratch, os.path.join(directory, "latest"))
        return scratch
"""


def test_a_mktemp_name_created_by_symlink_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "probes.py", LINK_PROBES)
    # Line 7: os.symlink makes the path and fails if it exists. Line 18: the name is the
    # link's target, a path nothing has created.
    assert [(f["line"], f["severity"]) for f in findings(data, "SCR406")] == [(7, "low"), (18, "medium")]


# SCR106: an environment that never renders ---------------------------------------------------

TEMPLATE_CHECKS = """
    import jinja2
    from flask import Flask

    app = Flask(__name__)


    def check_syntax(paths, folder):
        lookup = jinja2.Environment()
        lookup.loader = jinja2.FileSystemLoader([folder])
        for path in paths:
            source = lookup.loader.get_source(lookup, path)[0]
            lookup.parse(source)


    def render_page(folder, name, values):
        pages = jinja2.Environment(loader=jinja2.FileSystemLoader([folder]))
        return pages.get_template(name).render(**values)
"""


def test_an_environment_that_only_parses_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "templates.py", TEMPLATE_CHECKS)
    assert [(f["line"], f["severity"]) for f in findings(data, "SCR106")] == [(9, "low"), (17, "high")]


# SCR905: a cookie that echoes a form's cleaned value ----------------------------------------

THEME_VIEWS = """
    from django.views.generic import FormView

    from .forms import ThemeForm


    class ThemeView(FormView):
        form_class = ThemeForm

        def form_valid(self, form):
            response = super().form_valid(form)
            response.set_cookie("theme", form.cleaned_data["theme"], samesite="Lax")
            return response

        def remember(self, response, session):
            response.set_cookie("sid", session.session_key, samesite="Lax")
            return response
"""


def test_a_cookie_echoing_a_forms_cleaned_value_is_a_preference(capsys, tmp_path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    data = review(capsys, tmp_path, "app/views.py", THEME_VIEWS)
    assert [(f["line"], f["severity"]) for f in findings(data, "SCR905")] == [(12, "low"), (16, "medium")]
