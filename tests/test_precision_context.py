"""Precision of a file's kind and of what findings say about it: the strongest signal
decides the kind and every signal weighed is a reason; receivers are typed from the code."""

from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path
from typing import Any

from scrutiny import cli, source
from scrutiny.context import FileKind, classify
from scrutiny.findings import Severity
from scrutiny.rules import RuleSet, all_rules


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
    program = "a command-line program (argparse, __main__ guard at line 16) under packaging/"
    assert f"{program} (firm script signal, agrees)" in reasons
    # With a test framework imported, a test_ function is a test.
    kind, reasons = kind_of("packaging/release.py", "import pytest\n" + textwrap.dedent(RELEASE_TOOL), in_package=False)
    assert kind is FileKind.TEST
    assert reasons[0].startswith("module-level test function test_built_artifact (line 7) with pytest imported")


def test_a_command_line_program_in_a_tools_folder_is_a_script_even_inside_a_package() -> None:
    assert kind_of("tools/release.py", RELEASE_TOOL, in_package=False)[0] is FileKind.SCRIPT
    kind, reasons = kind_of("tools/release.py", RELEASE_TOOL, in_package=True)
    assert kind is FileKind.SCRIPT
    program = "a command-line program (argparse, __main__ guard at line 16) under tools/"
    assert reasons[0] == f"{program} (firm script signal, decides)"
    assert (
        "a module of an importable package (an __init__.py sits beside it) that can also run as a program "
        "(__main__ guard at line 16) (weak production signal, outweighed)"
    ) in reasons
    # Outside a script folder, a package's command module is installed code (nova-manage).
    command = RELEASE_TOOL.replace("test_built_artifact", "install")
    assert kind_of("proj/cmd/manage.py", command, in_package=True)[0] is FileKind.PRODUCTION
    # A library module in tools/ is production.
    assert kind_of("proj/tools/helpers.py", LIBRARY_MODULE, in_package=True)[0] is FileKind.PRODUCTION


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
    assert reasons[0] == "makes a web application object with flask.Flask() at line 4 (firm production signal, decides)"
    assert "a web application (route run, line 8) (firm production signal, agrees)" in reasons
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
    out = tmp_path / "out.json"
    code = cli.main(["review", "--format", "json", "--quiet", "--no-cache", "-o", str(out), str(path)])
    assert code in (0, 1)
    return list(json.loads(out.read_text())["findings"])


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


def rule_severities(path: str, code: str, rule_id: str) -> list[tuple[int, Severity, str]]:
    """The findings one rule makes on a file, before the composer weighs them."""
    src = source.load(textwrap.dedent(code).encode(), path)
    return [(f.location.line, f.severity, f.message) for f in RuleSet(all_rules()).run(src) if f.rule_id == rule_id]


def test_setup_py_running_its_own_version_file_is_low_and_other_files_are_not() -> None:
    setup = """
        import os
        import sys
        import urllib.request

        here = os.path.abspath(os.path.dirname(__file__))
        about = {}
        with open(os.path.join(here, "src", "pkg", "__version__.py")) as f:
            exec(f.read(), about)
        exec(compile(open(os.path.join(here, "pkg", "_version.py")).read(), "_version.py", "exec"), about)
        exec(open(sys.argv[1]).read(), about)
        exec(urllib.request.urlopen("https://example.org/bootstrap.py").read(), about)
    """
    found = rule_severities("setup.py", setup, "SCR104")
    assert [(line, severity) for line, severity, _ in found] == [
        (9, Severity.LOW), (10, Severity.LOW), (11, Severity.HIGH), (12, Severity.HIGH)
    ]
    assert found[0][2].startswith("setup script runs the project's own file src/pkg/__version__.py")
    assert found[1][2].startswith("setup script runs the project's own file pkg/_version.py")


def test_a_file_path_a_function_receives_is_not_the_project_own_file() -> None:
    code = """
        import os
        import pathlib

        PLUGIN = os.path.join(os.path.dirname(__file__), "plugin.py")


        def load_plugin():
            exec(pathlib.Path(PLUGIN).read_text())


        def load(path):
            exec(open(path).read())


        def load_each(paths):
            for path in paths:
                exec(open(path).read())
    """
    found = rule_severities("pkg/loader.py", code, "SCR104")
    assert [(line, severity) for line, severity, _ in found] == [
        (9, Severity.LOW), (13, Severity.HIGH), (18, Severity.HIGH)
    ]
    assert found[0][2].startswith("exec() runs the project's own file plugin.py")


def test_a_local_requests_session_is_not_taken_for_flask_session() -> None:
    code = """
        import requests
        from flask import session


        def check_version():
            session = requests.Session()
            session.verify = False
            return session.post("https://example.org/v", verify=False)


        def configure(client):
            client.verify = False


        session.verify = False
    """
    src = source.load(textwrap.dedent(code).encode(), "app.py")
    found = sorted((f.location.line, f.confidence.label, f.message) for f in RuleSet(all_rules()).run(src)
                   if f.rule_id == "SCR303")  # fmt: skip
    assert found == [
        (8, "high", "session.verify = False turns off certificate checks "
                    "(session is the requests.Session() made at line 7)"),
        (9, "high", "session.post is called with verify=False (session is the requests.Session() made at line 7)"),
        (13, "medium", "client.verify = False turns off certificate checks (the type of client is not known from the code)"),
        (16, "high", "session.verify = False turns off certificate checks (session is flask.session, as imported)"),
    ]  # fmt: skip


def test_a_local_name_hides_an_import_of_the_same_name() -> None:
    code = "from flask import session\n\ndef f():\n    session = make()\n    return session.get\n\ng = session.get\n"
    src = source.load(code.encode(), "app.py")
    uses = [n for n in src.index.of_type(ast.Attribute) if isinstance(n, ast.Attribute) and n.attr == "get"]
    assert [src.qualname(n) for n in uses] == ["session.get", "flask.session.get"]


TLS_TESTS = """
    import requests

    from tests.testserver.server import TLSServer


    def test_own_server():
        s = requests.Session()
        server = TLSServer(requests_to_handle=1)
        with server as (host, port):
            url = f"https://{host}:{port}"
            assert s.get(url, verify=False)


    def test_fixture(httpbin_secure):
        requests.Session().get(httpbin_secure("get"), verify=False)


    def test_loopback():
        requests.get("https://127.0.0.1:8443/", verify=False)


    def test_remote():
        requests.get("https://example.com/", verify=False)
"""


def test_a_test_turning_tls_checks_off_against_its_own_server_is_low(tmp_path: Path) -> None:
    found = [f for f in reviewed(tmp_path, "tests/test_tls.py", TLS_TESTS) if f["rule_id"] == "SCR303"]
    own = "a test turning certificate checks off against its own server (a fixture or a server it starts)"
    assert [(f["line"], f["severity"], f["context_note"]) for f in found] == [
        (12, "low", own), (16, "low", own), (20, "low", ""), (24, "medium", "in test code, which does not run in production")
    ]  # fmt: skip
    assert "comes from the with block on server (line 10)" in found[0]["message"]
    assert "built from the parameter httpbin_secure" in found[1]["message"]
    assert "names this machine (127.0.0.1)" in found[2]["message"]


def test_a_url_from_a_parameter_is_no_evidence_outside_tests(tmp_path: Path) -> None:
    code = """
        import requests


        def fetch(url):
            return requests.get(url, verify=False, timeout=5)


        def health():
            return requests.get("https://localhost:8443/health", verify=False, timeout=5)
    """
    found = [f for f in reviewed(tmp_path, "service/client.py", code) if f["rule_id"] == "SCR303"]
    assert [(f["line"], f["severity"]) for f in found] == [(6, "high"), (10, "low")]


def test_the_file_shown_is_the_one_the_with_block_around_exec_opened() -> None:
    code = """
        with open("pkg/__version__.py") as f:
            exec(f.read(), about)

        with open("README.md") as f:
            readme = f.read()
    """
    found = rule_severities("setup.py", code, "SCR104")
    assert [(line, severity) for line, severity, _ in found] == [(3, Severity.LOW)]
    assert found[0][2].startswith("setup script runs the project's own file pkg/__version__.py:")


def test_a_module_making_a_web_app_object_is_production_even_without_routes() -> None:
    app = "from flask import Flask\n\napp = Flask(__name__)\n\nif __name__ == '__main__':\n    app.run()\n"
    kind, reasons = kind_of("serve.py", app, in_package=False)
    assert kind is FileKind.PRODUCTION
    assert reasons[0] == "makes a web application object with flask.Flask() at line 3 (firm production signal, decides)"
    runner = "import sys\n\nif __name__ == '__main__':\n    print(sys.argv)\n"
    assert kind_of("serve.py", runner, in_package=False)[0] is FileKind.SCRIPT
