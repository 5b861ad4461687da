"""Classes of false or deliberate findings from the fourth tuning set (issue 15), each with a
pair: the case the code settles (lowered, with the reason in the message) and the case it
does not (still reported at its severity)."""

from __future__ import annotations

from helpers import findings, severities
from helpers import review_snippet as review

# SCR403: an all-interfaces address the code shows to be a chosen one ------------------

LISTENERS = """
    import socket
    from wsgiref.simple_server import make_server


    def start(app):
        make_server("0.0.0.0", 8000, app).serve_forever()


    def start_documented(app):
        \"\"\"Serve ``app`` on port 8000 of 0.0.0.0.\"\"\"
        make_server("0.0.0.0", 8000, app).serve_forever()


    def redirect_plain_http(app):
        make_server("0.0.0.0", 80, app).serve_forever()


    if __name__ == "__main__":
        listener = socket.socket()
        listener.bind(("", 9000))
        listener.listen(1)
"""


def test_a_bind_all_in_a_library_function_stays_medium(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "pkg/listeners.py", LISTENERS)
    assert (7, "medium") in severities(data, "SCR403")


def test_a_bind_all_the_docstring_states_the_public_port_or_main_guard_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "pkg/listeners.py", LISTENERS)
    assert severities(data, "SCR403") == [(7, "medium"), (12, "low"), (16, "low"), (21, "low")]
    messages = {f["line"]: f["message"] for f in findings(data, "SCR403")}
    assert "docstring of start_documented() states" in messages[12]
    assert "port 80, a public web port" in messages[16]
    assert "__main__ guard (line 19)" in messages[21]


SETTINGS_ONLY = """
    listen = {"host": "0.0.0.0", "port": 8080}
    workers = 4
"""

SETTINGS_AND_SERVER = """
    from wsgiref.simple_server import make_server

    listen = {"host": "0.0.0.0", "port": 8080}


    def serve(app):
        make_server(listen["host"], listen["port"], app).serve_forever()
"""


def test_an_all_interfaces_setting_in_a_module_that_binds_nothing_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "pkg/settings.py", SETTINGS_ONLY)
    assert severities(data, "SCR403") == [(2, "low")]
    assert "configuration default" in findings(data, "SCR403")[0]["message"]


def test_the_same_setting_in_the_module_that_serves_it_stays_medium(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "pkg/settings.py", SETTINGS_AND_SERVER)
    assert severities(data, "SCR403") == [(4, "medium")]


# SCR203: YAML no untrusted input reaches, and YAML the code holds as a literal ----------

YAML_LOADS = """
    import yaml
    from flask import Flask, request

    app = Flask(__name__)
    BUILT_IN = "retries: 3"


    @app.route("/import", methods=["POST"])
    def received():
        return yaml.load(request.get_data(), Loader=yaml.Loader)


    def from_disk(path):
        with open(path) as handle:
            return yaml.load(handle, Loader=yaml.Loader)


    def built_in():
        return yaml.load(BUILT_IN, Loader=yaml.Loader)


    def inline():
        document = "a: 1"
        return yaml.load(document, Loader=yaml.Loader)
"""


def test_yaml_from_a_request_stays_high(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "pkg/loading.py", YAML_LOADS)
    assert severities(data, "SCR505") == [(11, "high")]
    assert findings(data, "SCR505")[0]["corroborated_by"][0]["rule_id"] == "SCR203"


def test_yaml_no_request_reaches_is_low_and_says_why(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "pkg/loading.py", YAML_LOADS)
    assert severities(data, "SCR203") == [(16, "low"), (20, "low"), (25, "low")]
    shown = {f["line"]: f["message"] + " " + f["context_note"] for f in findings(data, "SCR203")}
    assert "no untrusted input was traced" in shown[16]
    assert "string literal in the code (line 6)" in shown[20]
    assert "string literal in the code (line 24)" in shown[25]


# SCR405/SCR454: settings that draw a new SECRET_KEY at every import ------------------

THROWAWAY_SETTINGS = """
    import os
    from django.core.management.utils import get_random_secret_key

    SECRET_KEY = get_random_secret_key()
    DEBUG = True
    ALLOWED_HOSTS = ["*"]
    ROOT_URLCONF = "site_urls"
"""


def test_debug_and_any_host_in_settings_with_a_fresh_key_per_import_are_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "site/settings.py", THROWAWAY_SETTINGS)
    assert severities(data, "SCR405") == [(6, "low")]
    assert severities(data, "SCR454") == [(7, "low")]
    assert "drawn afresh by get_random_secret_key()" in findings(data, "SCR405")[0]["message"]


def test_the_same_settings_with_a_key_from_the_environment_stay_medium(capsys, tmp_path) -> None:
    code = THROWAWAY_SETTINGS.replace(
        "SECRET_KEY = get_random_secret_key()",
        'SECRET_KEY = os.environ.get("DJANGO_KEY", get_random_secret_key())',
    )
    data = review(capsys, tmp_path, "site/settings.py", code)
    assert severities(data, "SCR405") == [(6, "medium")]
    assert severities(data, "SCR454") == [(7, "medium")]


# SCR920: a pinned certificate fingerprint compared with the presented one's ----------

PINNING = """
    import hmac


    class PinnedClients:
        def __init__(self, pins, shared_key):
            self.pins = pins
            self.shared_key = shared_key

        def verify_peer(self, peer_cert):
            digest = peer_cert.digest("sha256")
            for pin in self.pins:
                if pin["digest"].encode() == digest:
                    return pin["owner"]
            return None

        def verify_signature(self, body, signature):
            digest = hmac.new(self.shared_key, body, "sha256").hexdigest()
            if digest == signature:
                return True
            return False
"""


def test_a_mac_compared_with_a_received_signature_stays_medium(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "pkg/pinning.py", PINNING)
    assert (19, "medium") in severities(data, "SCR920")


def test_a_fingerprint_under_a_named_algorithm_is_not_reported(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "pkg/pinning.py", PINNING)
    assert severities(data, "SCR920") == [(19, "medium")]


# SCR338: a Python application served through wsgiref's CGIHandler --------------------

CGI_ENTRY = """
    import wsgiref.handlers
    from twisted.web import twcgi


    def serve_python_app(app):
        wsgiref.handlers.CGIHandler().run(app)


    def publish_scripts():
        return twcgi.CGIDirectory("/srv/cgi-bin")
"""


def test_cgi_programs_in_any_language_stay_medium(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "pkg/cgi_entry.py", CGI_ENTRY)
    assert (11, "medium") in severities(data, "SCR338")


def test_a_python_app_under_cgihandler_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "pkg/cgi_entry.py", CGI_ENTRY)
    assert severities(data, "SCR338") == [(7, "low"), (11, "medium")]
    assert "CVE-2016-1000110" in findings(data, "SCR338")[0]["message"]
