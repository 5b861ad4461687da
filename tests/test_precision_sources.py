"""Taint sources on bare names need evidence, sandboxed templates are not SSTI sinks, and
building a pathlib path is not opening it.

The pairs themselves (each reported case with its unreported twin) are taint fixture cases
(tests/fixtures/taint/request_objects/, sandboxed_templates.py, pathlib_paths.py), checked
exactly by test_taint.py; these tests check what the findings say and the model schema.
"""

from __future__ import annotations

import contextlib
import textwrap
from pathlib import Path

import pytest

from scrutiny import api
from scrutiny.findings import Finding
from scrutiny.taint.models import ModelError, load, parse_model

FIXTURES = Path(__file__).parent / "fixtures" / "taint"


def _taint_findings(folder: Path) -> dict[tuple[str, int], Finding]:
    with contextlib.chdir(folder):
        review = api.scan(["."])
    return {
        (f.location.path.removeprefix("./"), f.location.line): f
        for f in review.findings
        if f.rule_id.startswith("SCR5")
    }


def _review(tmp_path: Path, files: dict[str, str]) -> dict[tuple[str, int], Finding]:
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return _taint_findings(tmp_path)


@pytest.fixture(scope="module")
def request_objects() -> dict[tuple[str, int], Finding]:
    return _taint_findings(FIXTURES / "request_objects")


@pytest.mark.parametrize(
    "where, evidence",
    [
        (("starlette_files.py", 19), "Starlette request.url (request is annotated starlette.requests.Request)"),
        (("django_helpers.py", 8), "(the file imports django)"),
        (("http_handlers.py", 18), "(self is a FileHandler, which derives from http.server.BaseHTTPRequestHandler)"),
    ],
)
def test_a_source_on_a_bare_name_says_what_shows_the_object(
    request_objects: dict[tuple[str, int], Finding], where: tuple[str, int], evidence: str
) -> None:
    finding = request_objects[where]
    assert evidence in finding.message
    assert evidence in finding.trace[0].message


def test_the_same_name_in_files_without_evidence_is_not_a_source(
    request_objects: dict[tuple[str, int], Finding],
) -> None:
    assert sorted(request_objects) == [
        ("django_helpers.py", 8),
        ("http_handlers.py", 18),
        ("starlette_files.py", 19),
    ]


def test_a_view_parameter_is_the_strongest_untyped_evidence_and_picks_the_framework(tmp_path: Path) -> None:
    # request.headers is spelt the same in Django and Starlette: the view decides which.
    found = _review(
        tmp_path,
        {
            "views.py": """
            import subprocess

            from django.http import HttpResponse


            def ping(request):
                subprocess.run("ping -c1 " + request.headers["X-Host"], shell=True)
                return HttpResponse("ok")
            """
        },
    )
    (finding,) = found.values()
    assert finding.message.startswith("Django request.headers (request is a parameter of view ping)")


def test_a_constructor_of_another_class_rules_the_name_out_in_a_framework_file(tmp_path: Path) -> None:
    found = _review(
        tmp_path,
        {
            "fetch.py": """
            import subprocess

            from django.http import HttpResponse
            from crawler.http import Request


            def mirror(url):
                request = Request(url)
                subprocess.run("wget " + request.GET["u"], shell=True)
                return HttpResponse("ok")


            def mirror_incoming(payload, request):
                subprocess.run("wget " + request.GET["u"], shell=True)
                return HttpResponse("ok")
            """
        },
    )
    assert sorted(found) == [("fetch.py", 15)]


def test_the_final_component_clears_only_a_pathlib_path(tmp_path: Path) -> None:
    # An uploaded file's .name is whatever the client sent; a Path's .name has no separator.
    found = _review(
        tmp_path,
        {
            "upload.py": """
            import os
            from pathlib import Path

            from flask import Flask, request

            app = Flask(__name__)


            @app.route("/a", methods=["POST"])
            def keep_name():
                upload = request.files["file"]
                return open(os.path.join("/srv", upload.name), "wb")


            @app.route("/b", methods=["POST"])
            def keep_path_name():
                upload = request.files["file"]
                return open(os.path.join("/srv", Path(upload.filename).name), "wb")
            """
        },
    )
    assert sorted(found) == [("upload.py", 13)]


def test_a_method_other_types_share_is_a_path_sink_only_on_a_pathlib_path(tmp_path: Path) -> None:
    found = _review(
        tmp_path,
        {
            "rename.py": """
            from pathlib import Path

            from flask import Flask, request

            app = Flask(__name__)


            @app.route("/a", methods=["POST"])
            def move():
                Path("/srv/inbox/new").rename(request.form["to"])
                return request.form["to"].replace("/", "-")
            """
        },
    )
    assert sorted(found) == [("rename.py", 11)]


@pytest.mark.parametrize(
    "text, complaint",
    [
        ('[[source]]\nkind = "remote"\nattr = "request.GET"\nwithin = "nowhere"\n', "within names no"),
        ('[[object]]\nname = "x"\nentries = ["controller"]\n', "unknown entry kind"),
        ('[[object]]\nname = "x"\n', "needs classes, entries or modules"),
        ('[[sink]]\nkind = "template"\ncall = "t.render"\nsafe_on = ["t.Sandbox()"]\n', "safe_on applies"),
        ('[[sanitizer]]\ncall = "x"\nclears = ["path"]\nrequires = "path-object"\n', "requires applies"),
    ],
)
def test_bad_object_models_are_rejected(text: str, complaint: str) -> None:
    with pytest.raises(ModelError, match=complaint):
        parse_model(text, "user.toml")


def test_every_source_on_a_bare_name_names_an_object() -> None:
    models = load()
    # A source whose root is no package the models know must say which object the name is.
    roots = {"request", "req", "self"}
    assert not [attr for attr in models.source_attrs if attr.partition(".")[0] in roots]
    assert all(s.within in models.objects for sources in models.object_attrs.values() for s in sources)


def test_a_parameter_typed_as_the_request_class_is_read_whatever_its_name(tmp_path: Path) -> None:
    found = _review(
        tmp_path,
        {
            "typed.py": """
            import os

            from starlette.requests import Request


            async def typed(req: Request):
                return open(os.path.join("/srv", req.url.path))


            def untyped(req):
                return open(os.path.join("/srv", req.url.path))
            """
        },
    )
    assert sorted(found) == [("typed.py", 8)]
    assert "(req is annotated starlette.requests.Request)" in found[("typed.py", 8)].message


def test_a_name_annotated_as_the_request_class_reads_its_sources_whatever_the_name(tmp_path: Path) -> None:
    found = _review(
        tmp_path,
        {
            "views.py": """
            import subprocess

            from django.http import HttpRequest
            from crawler.http import Page


            def helper(r: HttpRequest):
                subprocess.run("ping " + r.GET["host"], shell=True)


            def other(r: Page):
                subprocess.run("ping " + r.GET["host"], shell=True)
            """
        },
    )
    assert sorted(found) == [("views.py", 9)]
    assert found[("views.py", 9)].message.startswith("Django request.GET (r is annotated django.http.HttpRequest)")
