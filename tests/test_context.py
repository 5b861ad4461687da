"""classify(): what kind of file, which framework, where untrusted input enters."""

from __future__ import annotations

import pytest

from scrutiny import source
from scrutiny.context import FileKind, classify

FLASK_APP = """\
from flask import Flask, request

app = Flask(__name__)


@app.route("/items/<item_id>")
def show(item_id):
    return request.args.get("q", item_id)
"""
NOVA_CONTROLLER = """\
from nova.api.openstack import wsgi
from nova.api import validation


class ServersController(wsgi.Controller):
    @wsgi.expected_errors(404)
    def show(self, req, id):
        return {}

    def _helper(self, req):
        return None
"""
DJANGO_VIEWS = """\
from django.http import HttpResponse
from django.views import View


def detail(request, pk):
    return HttpResponse(pk)


class ItemView(View):
    def get(self, request):
        return HttpResponse("ok")
"""
CLI_MAIN = """\
import argparse


def main():
    parser = argparse.ArgumentParser()
    return parser.parse_args()


if __name__ == "__main__":
    main()
"""
PYTEST_FILE = "import pytest\n\n\ndef test_adds():\n    assert 1 + 1 == 2\n"
ALEMBIC = "from alembic import op\n\n\ndef upgrade():\n    op.add_column('t', None)\n"
RPC_MANAGER = """\
import oslo_messaging as messaging


class ComputeManager:
    target = messaging.Target(version="6.0")

    def resize_instance(self, context, instance):
        return instance
"""


def classified(path: str, text: str, in_package: bool = True):
    return classify(source.load(text.encode(), path, in_package=in_package))


@pytest.mark.parametrize(
    ("path", "text", "kind", "subkinds"),
    [
        ("nova/tests/unit/compute/test_api.py", "import unittest\n", FileKind.TEST, ("unit",)),
        ("tests/test_math.py", PYTEST_FILE, FileKind.TEST, ()),
        ("pkg/checks.py", PYTEST_FILE, FileKind.TEST, ()),
        ("nova/tests/fixtures/nova.py", "import fixtures\n", FileKind.TEST, ("fixture",)),
        ("nova/db/main/migrations/versions/abc_add.py", ALEMBIC, FileKind.MIGRATION, ()),
        ("setup.py", "import setuptools\nsetuptools.setup()\n", FileKind.SCRIPT, ("packaging",)),
        ("examples/demo_app.py", FLASK_APP, FileKind.EXAMPLE, ()),
        ("doc/source/conf.py", "extensions = []\n", FileKind.DOCS, ()),
        ("nova/compute/api.py", "import os\n", FileKind.PRODUCTION, ()),
        ("nova/virt/fake.py", "import os\n", FileKind.TEST, ("test double",)),
    ],
)
def test_kinds(path: str, text: str, kind: FileKind, subkinds: tuple[str, ...]) -> None:
    context = classified(path, text)
    assert context.kind is kind, context.reasons
    assert context.subkinds == subkinds
    assert context.reasons


def test_stand_alone_program_is_a_script_but_a_package_module_is_not() -> None:
    assert classified("release.py", CLI_MAIN, in_package=False).kind is FileKind.SCRIPT
    packaged = classified("nova/cmd/manage.py", CLI_MAIN, in_package=True)
    assert packaged.kind is FileKind.PRODUCTION
    assert [(e.kind, e.name) for e in packaged.entry_points] == [("cli-main", "main")]


@pytest.mark.parametrize(
    ("text", "framework", "expected"),
    [
        (FLASK_APP, "Flask", [("route", "show", ("item_id",))]),
        (NOVA_CONTROLLER, "OpenStack nova", [("api-controller", "ServersController.show", ("req", "id"))]),
        (DJANGO_VIEWS, "Django", [("view", "detail", ("request", "pk")), ("view", "ItemView.get", ("request",))]),
        (RPC_MANAGER, "OpenStack oslo", [("rpc-handler", "ComputeManager.resize_instance", ("context", "instance"))]),
    ],
)
def test_frameworks_and_entry_points(
    text: str, framework: str, expected: list[tuple[str, str, tuple[str, ...]]]
) -> None:
    context = classified("service/module.py", text)
    assert context.kind is FileKind.PRODUCTION
    assert framework in context.frameworks
    assert [(e.kind, e.name, e.params) for e in context.entry_points] == expected


def test_test_files_have_no_entry_points() -> None:
    context = classified("app/tests/test_views.py", FLASK_APP)
    assert context.kind is FileKind.TEST
    assert context.entry_points == ()


def test_a_test_like_name_alone_does_not_make_a_test() -> None:
    """server_test.py that binds a socket and has no test, test import or tests/ folder is code."""
    plain = "import socket\n\ns = socket.socket()\ns.bind(('0.0.0.0', 8080))\n"
    assert classify(source.load(plain.encode(), "app/server_test.py")).kind is FileKind.PRODUCTION
    with_test = plain + "\n\ndef test_bind():\n    assert s\n"
    assert classify(source.load(with_test.encode(), "app/server_test.py")).kind is FileKind.TEST
    under_tests = classify(source.load(plain.encode(), "tests/server_test.py"))
    assert under_tests.kind is FileKind.TEST


def test_handlers_anywhere_are_entry_points() -> None:
    """Routes inside a factory, handlers registered by a call, class-based views, responders."""
    text = (
        "import falcon\nfrom flask import Flask\nfrom flask.views import MethodView\n\n"
        "def create_app():\n    app = Flask(__name__)\n\n"
        "    @app.route('/a/<x>')\n    def a(x):\n        return x\n\n"
        "    def b(y):\n        return y\n\n"
        "    app.add_url_rule('/b/<y>', view_func=b)\n    return app\n\n"
        "class Items(MethodView):\n    def get(self, item_id):\n        return item_id\n\n"
        "class Res:\n    def on_get(self, req, resp):\n        pass\n\n"
        "def helper(z):\n    return z\n"
    )
    entries = classify(source.load(text.encode(), "app/views.py")).entry_points
    assert {(e.name, e.kind) for e in entries} == {
        ("create_app.a", "route"), ("create_app.b", "route"), ("Items.get", "view"), ("Res.on_get", "view")
    }


def test_dependencies_resources_and_aliased_decorators_are_entry_points() -> None:
    text = (
        "from fastapi import Depends, FastAPI, Header\nfrom flask import Flask\nfrom flask_restful import Resource\n\n"
        "app = FastAPI()\nweb = Flask(__name__)\nroute = web.route\n\n"
        "def current_user(token: str = Header()):\n    return token\n\n"
        "@app.get('/me')\ndef me(user=Depends(current_user)):\n    return user\n\n"
        "@route('/ping/<host>')\ndef ping(host):\n    return host\n\n"
        "class Item(Resource):\n    def get(self, item_id):\n        return item_id\n\n"
        "def unrelated(x):\n    return x\n"
    )
    entries = classify(source.load(text.encode(), "app/api.py")).entry_points
    assert {e.name for e in entries} == {"current_user", "me", "ping", "Item.get"}


def test_a_web_app_that_runs_itself_is_not_a_script() -> None:
    """A Flask module with app.run() under a __main__ guard serves requests: production code."""
    app = FLASK_APP + "\n\nif __name__ == '__main__':\n    app.run()\n"
    context = classify(source.load(app.encode(), "app.py"))
    assert context.kind is FileKind.PRODUCTION and "web application" in context.reasons[0]
    tool = "import sys\n\n\ndef main():\n    print(sys.argv)\n\n\nif __name__ == '__main__':\n    main()\n"
    assert classify(source.load(tool.encode(), "tool.py")).kind is FileKind.SCRIPT
