"""Precision of a file's kind and of what findings say about it: the strongest signal
decides the kind and every signal weighed is a reason; receivers are typed from the code."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from scrutiny import cli, source
from scrutiny.context import FileKind, classify


def kind_of(path: str, text: str, in_package: bool) -> tuple[FileKind, tuple[str, ...]]:
    context = classify(source.load(textwrap.dedent(text).encode(), path, in_package=in_package))
    return context.kind, context.reasons


LIBRARY_MODULE = """
    from django.db import models


    class Entry(models.Model):
        title = models.CharField(max_length=100)


    def recent(limit):
        return Entry.objects.order_by("-id")[:limit]
"""

RELEASE_TOOL = """
    import argparse
    import subprocess


    def test_built_artifact(path):
        subprocess.run(["pip", "install", path], check=True)


    def main():
        parser = argparse.ArgumentParser()
        parser.add_argument("path")
        test_built_artifact(parser.parse_args().path)


    if __name__ == "__main__":
        main()
"""


def test_a_script_folder_word_alone_does_not_outweigh_a_package_module() -> None:
    """contrib/, tools/ and bin/ hold library subpackages as often as scripts."""
    kind, reasons = kind_of("proj/contrib/admin/models.py", LIBRARY_MODULE, in_package=True)
    assert kind is FileKind.PRODUCTION
    assert reasons[0].startswith("a module of an importable package") and reasons[0].endswith("decides)")
    assert "under a contrib/ directory (weak script signal, outweighed)" in reasons
    # The same folder word with nothing against it still makes a script.
    kind, reasons = kind_of("proj/contrib/cleanup.py", RELEASE_TOOL, in_package=False)
    assert kind is FileKind.SCRIPT
    assert "under a contrib/ directory (weak script signal, agrees)" in reasons


def test_a_release_tool_with_test_named_functions_is_a_script_not_a_test() -> None:
    kind, reasons = kind_of("packaging/release.py", RELEASE_TOOL, in_package=False)
    assert kind is FileKind.SCRIPT
    assert reasons[0] == "runs as a program (__main__ guard at line 16) outside a package (firm script signal, decides)"
    assert "module-level test function test_built_artifact (line 6) (weak test signal, outweighed)" in reasons
    assert "parses its command line with argparse (noted)" in reasons
    # With a test framework imported, a test_ function is a test.
    kind, reasons = kind_of("packaging/release.py", "import pytest\n" + textwrap.dedent(RELEASE_TOOL), in_package=False)
    assert kind is FileKind.TEST
    assert reasons[0].startswith("module-level test function test_built_artifact (line 7) with pytest imported")


def test_a_tools_program_is_a_script_alone_and_production_inside_a_package() -> None:
    assert kind_of("tools/release.py", RELEASE_TOOL, in_package=False)[0] is FileKind.SCRIPT
    kind, reasons = kind_of("tools/release.py", RELEASE_TOOL, in_package=True)
    assert kind is FileKind.PRODUCTION
    assert "can also run as a program (__main__ guard at line 16) (noted)" in reasons


def test_a_web_app_in_a_scripts_folder_is_production() -> None:
    app = """
        from flask import Flask, request

        app = Flask(__name__)


        @app.route("/run")
        def run():
            return request.args["q"]


        if __name__ == "__main__":
            app.run()
    """
    kind, reasons = kind_of("scripts/server.py", app, in_package=False)
    assert kind is FileKind.PRODUCTION
    assert reasons[0] == "a web application (route run, line 8) (firm production signal, decides)"
    assert "runs as a program (__main__ guard at line 12) outside a package (firm script signal, outweighed)" in reasons
    assert "under a scripts/ directory (weak script signal, outweighed)" in reasons


def test_setup_py_is_packaging_by_its_setup_call_not_its_name() -> None:
    setup = "from setuptools import setup\n\nsetup(name='proj')\n"
    context = classify(source.load(setup.encode(), "setup.py", in_package=False))
    assert context.kind is FileKind.SCRIPT and context.description == "packaging script"
    assert context.reasons[0] == "calls setuptools.setup() at line 3 to build the package (firm script signal, decides)"
    # A package module that happens to be called setup.py (it sets a host up) is code.
    module = "def main():\n    return {}\n\n\nif __name__ == '__main__':\n    main()\n"
    assert kind_of("proj/modules/setup.py", module, in_package=True)[0] is FileKind.PRODUCTION


def test_migrations_and_setup_scripts_under_tests_stay_tests() -> None:
    migration = """
        from django.db import migrations


        class Migration(migrations.Migration):
            operations = []
    """
    kind, reasons = kind_of("tests/app/migrations/0001_initial.py", migration, in_package=True)
    assert kind is FileKind.TEST
    assert any("derives from migrations.Migration (firm migration signal, outweighed)" in r for r in reasons)
    assert kind_of("app/migrations/0001_initial.py", migration, in_package=True)[0] is FileKind.MIGRATION


def test_a_pytest_style_test_class_backs_a_test_file_name() -> None:
    tests = "class test_Thing:\n    def test_works(self):\n        assert True\n"
    assert kind_of("t/unit/contrib/test_thing.py", tests, in_package=True)[0] is FileKind.TEST
    helper = "class Client:\n    def test_connection(self):\n        return True\n"
    assert kind_of("proj/contrib/client.py", helper, in_package=True)[0] is FileKind.PRODUCTION


def reviewed(tmp_path: Path, relative: str, text: str) -> list[dict[str, Any]]:
    """The shown findings of a review of one file written at ``relative`` (no __init__.py)."""
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    code = cli.main(["review", "--format", "json", "--quiet", "--no-cache", "-o", str(tmp_path / "out.json"), str(path)])
    assert code in (0, 1)
    return list(json.loads((tmp_path / "out.json").read_text())["findings"])


def test_remote_input_in_a_script_is_never_said_to_come_from_the_person_running_it(tmp_path: Path) -> None:
    script = """
        import os
        import socket
        import sys


        def serve(conn):
            os.system("echo " + conn.recv(1024).decode())


        def local():
            os.system("echo " + sys.argv[1])


        if __name__ == "__main__":
            serve(socket.create_connection(("example.org", 7)))
    """
    findings = [f for f in reviewed(tmp_path, "tool.py", script) if f["rule_id"] == "SCR501"]
    by_line = {f["line"]: f for f in findings}
    assert by_line[8]["severity"] == "high" and "socket" in by_line[8]["message"]
    assert by_line[12]["severity"] == "low"
    assert not any("person running" in f["context_note"] for f in findings)


def test_a_flask_app_that_runs_itself_keeps_its_request_findings_high(tmp_path: Path) -> None:
    app = """
        import os
        from flask import Flask, request

        app = Flask(__name__)


        @app.route("/ping")
        def ping():
            os.system("ping -c1 " + request.args["host"])
            return "ok"


        if __name__ == "__main__":
            app.run()
    """
    findings = [f for f in reviewed(tmp_path, "scripts/app.py", app) if f["rule_id"] == "SCR501"]
    assert [(f["line"], f["severity"], f["context_note"]) for f in findings] == [(10, "high", "")]
