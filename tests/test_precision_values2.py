"""Classes of false or deliberate findings about values (secrets, logged values, settings,
loaders, shelves, bind addresses, random keys), each with a pair: the case the code
settles (not reported, or lower) and the case it does not (still reported at its
severity). The snippets are written for these tests."""

from __future__ import annotations

from pathlib import Path

from helpers import findings, severities
from helpers import review_snippet as review


def package(tmp_path: Path, *parts: str) -> None:
    """Make tmp_path/parts... a package, so the module in it is production code."""
    folder = tmp_path
    for part in parts:
        folder = folder / part
        folder.mkdir(exist_ok=True)
        (folder / "__init__.py").write_text("")


# SCR351: a test reads the claims of a token the code under test issued ---------------

CLAIMS_CHECK = """
    import jwt


    def {name}(client):
        response = client.post("/token", data={{"user": "ann"}})
        claims = jwt.decode(response.json()["access"], options={{"verify_signature": False}})
        assert claims["sub"] == "ann"
"""


def test_a_test_reading_issued_claims_without_the_key_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "tests/test_tokens.py", CLAIMS_CHECK.format(name="test_token_names_user"))
    assert severities(data, "SCR351") == [(7, "low")]


def test_unverified_claims_in_a_package_module_stay_high(capsys, tmp_path) -> None:
    package(tmp_path, "svc")
    data = review(capsys, tmp_path, "svc/claims.py", CLAIMS_CHECK.format(name="user_of"))
    assert severities(data, "SCR351") == [(7, "high")]


# SCR203: ruamel.yaml's YAML(typ=...).load is not PyYAML's yaml.load ----------------

RUAMEL_READER = """
    from ruamel.yaml import YAML


    def read_api(path):
        yaml = YAML(typ="safe")
        with open(path) as f:
            return yaml.load(f)


    def read_tree(path):
        yaml = YAML()
        with open(path) as f:
            return yaml.load(f)


    def read_objects(path):
        yaml = YAML(typ="unsafe")
        with open(path) as f:
            return yaml.load(f)
"""

PYYAML_READER = """
    import yaml


    def read_settings(path):
        with open(path) as f:
            return yaml.load(f)
"""


def test_ruamel_safe_and_round_trip_loads_are_not_reported(capsys, tmp_path) -> None:
    package(tmp_path, "svc")
    data = review(capsys, tmp_path, "svc/api_spec.py", RUAMEL_READER)
    # Only typ="unsafe" is reported; no untrusted input is traced to it, so it is low.
    assert severities(data, "SCR203") == [(20, "low")]


def test_pyyaml_load_without_a_loader_is_reported(capsys, tmp_path) -> None:
    package(tmp_path, "svc")
    data = review(capsys, tmp_path, "svc/settings_io.py", PYYAML_READER)
    # Reported (a file a caller names), low while no untrusted input is traced to it.
    assert severities(data, "SCR203") == [(7, "low")]


# SCR201: a shelf the class writes itself is its own state file ----------------------

OWN_SHELF = """
    import shelve


    class Tally:
        def __init__(self, path):
            self.path = path
            self.counts = {}

        def restore(self):
            with shelve.open(self.path) as shelf:
                self.counts = dict(shelf.get("counts", {}))

        def persist(self):
            with shelve.open(self.path + ".new", flag="n") as shelf:
                shelf["counts"] = self.counts
"""

FOREIGN_SHELF = """
    import shelve


    class Reader:
        def restore(self, path):
            with shelve.open(path) as shelf:
                return dict(shelf)
"""


def test_a_shelf_the_class_stores_into_is_low_and_a_new_shelf_is_info(capsys, tmp_path) -> None:
    package(tmp_path, "svc")
    data = review(capsys, tmp_path, "svc/tally.py", OWN_SHELF)
    assert severities(data, "SCR201") == [(11, "low"), (15, "info")]


def test_a_shelf_only_read_is_weighed_by_what_reaches_it(capsys, tmp_path) -> None:
    # A shelf at a path its caller names: no untrusted input is traced there, so it is a
    # low hint (as pickle.load of such a path is), not the own-state low of the case above.
    package(tmp_path, "svc")
    data = review(capsys, tmp_path, "svc/reader.py", FOREIGN_SHELF)
    assert severities(data, "SCR201") == [(7, "low")]
    (finding,) = findings(data, "SCR201")
    assert "no untrusted input was traced" in finding["context_note"]


# SCR405, SCR454: the development layer of a split settings package -----------------

SETTINGS_LAYER = """
    from .common import *

    DEBUG = True

    ALLOWED_HOSTS = ["*"]

    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
"""


def test_debug_and_any_host_in_the_development_layer_are_low(capsys, tmp_path) -> None:
    package(tmp_path, "site", "settings")
    data = review(capsys, tmp_path, "site/settings/dev.py", SETTINGS_LAYER)
    assert severities(data, "SCR405") == [(4, "low")]
    assert severities(data, "SCR454") == [(6, "low")]


def test_the_same_values_in_the_production_layer_stay_medium(capsys, tmp_path) -> None:
    package(tmp_path, "site", "settings")
    data = review(capsys, tmp_path, "site/settings/production.py", SETTINGS_LAYER)
    assert severities(data, "SCR405") == [(4, "medium")]
    assert severities(data, "SCR454") == [(6, "medium")]


# SCR401: labels, words, markers and table entries under secret-looking names ------------

SECRET_LABELS = """
    import os


    def load_signing_key(configured, path):
        key = configured
        secret_origin = "settings"
        if not key and os.environ.get("SIGNING_KEY"):
            secret_origin = "environment"
            key = os.environ["SIGNING_KEY"]
        if not key:
            secret_origin = "disk"
            key = open(path).read()
        return key, secret_origin


    def fallback_key():
        secret_value = "Qx7-fallback-2291"
        return secret_value
"""


def test_plain_words_one_function_assigns_as_labels_are_not_secrets(capsys, tmp_path) -> None:
    package(tmp_path, "svc")
    data = review(capsys, tmp_path, "svc/keys.py", SECRET_LABELS)
    assert severities(data, "SCR401") == [(18, "low")]  # only the real fallback key (named, never used)


TOKEN_WORDS = """
    def sample_spans():
        return [{"token": "The", "tag": None}, {"token": "river", "tag": "noun"}]


    def claims(now):
        return {"iat": now, "token_use": "refresh"}


    SPACE_TOKEN = "!SPACE!"

    SERVICE_TOKEN = "x9Kq2LmZ81vT"

    SERVICE_PASSWORD = "opensesame"
"""


def test_words_and_markers_under_token_names_are_not_secrets(capsys, tmp_path) -> None:
    package(tmp_path, "svc")
    data = review(capsys, tmp_path, "svc/spans.py", TOKEN_WORDS)
    # The random-looking token and the plain-word password are still reported.
    assert severities(data, "SCR401") == [(12, "low"), (14, "low")]


RATE_TABLE = """
    def rate_limits():
        return {
            "reset_password": "6/h/ip,2/h/key",
            "change_password": "4/m/user",
            "signup": "15/m/ip",
            "search": "120/m/user",
        }


    def accounts():
        return {
            "owner": "ops-team",
            "region": "eu-west",
            "password": "blue-lagoon",
        }
"""


def test_a_value_shaped_like_its_non_secret_siblings_is_a_setting(capsys, tmp_path) -> None:
    package(tmp_path, "svc")
    data = review(capsys, tmp_path, "svc/limits.py", RATE_TABLE)
    # A bare a-a shape (blue-lagoon) is still reported though its siblings share it:
    # the siblings' shape must be structured, and words joined by a dash are what
    # passwords look like.
    assert severities(data, "SCR401") == [(15, "low")]


# SCR701: a size of a secret, and a value passed to a method of an object named auth ------

SECRET_SIZE = """
    import logging

    log = logging.getLogger(__name__)
    SESSION_SECRET_BYTES = 32


    def check_secret(session_secret):
        if len(session_secret) != SESSION_SECRET_BYTES:
            log.warning("secret is %i bytes, expected %i", len(session_secret), SESSION_SECRET_BYTES)


    def show_secret(session_secret):
        log.debug("secret in use: %s", session_secret)
"""


def test_a_number_constant_named_for_a_secret_is_not_logged_secret(capsys, tmp_path) -> None:
    package(tmp_path, "svc")
    data = review(capsys, tmp_path, "svc/secret_check.py", SECRET_SIZE)
    assert severities(data, "SCR701") == [(14, "medium")]


STATE_LOG = """
    import logging

    log = logging.getLogger(__name__)


    def finish(handler, expected_state):
        cookie_state = handler.get_signed_cookie("login-state")
        if cookie_state != expected_state:
            log.warning("state %r does not match %r", expected_state, cookie_state)
        return handler.site_auth.next_url(cookie_state)


    def present(handler, session_cookie):
        log.info("presenting %s", session_cookie)
        return handler.site_auth.login(session_cookie)
"""


def test_a_method_of_an_auth_named_object_is_not_evidence_of_a_secret(capsys, tmp_path) -> None:
    package(tmp_path, "svc")
    data = review(capsys, tmp_path, "svc/state.py", STATE_LOG)
    # next_url() says nothing about the value: low on the name only; login() is an
    # authentication use, so the cookie logged before it stays medium.
    assert severities(data, "SCR701") == [(10, "low"), (15, "medium")]


# SCR403: defaults, fallbacks, probes and fields that are not hard-wired binds ----------

BIND_CHOICES = """
    import socket


    def free_port():
        probe = socket.socket()
        probe.bind(("", 0))
        port = probe.getsockname()[1]
        probe.close()
        return port


    def announce(sock, name, reply_addr="0.0.0.0"):
        sock.sendto(name.encode() + socket.inet_aton(reply_addr), ("255.255.255.255", 137))


    def serve(handler, listen_address="0.0.0.0", port=8025):
        server = socket.create_server((listen_address, port))
        return server


    class Relay:
        def __init__(self, bind_address=None):
            self.bind_address = bind_address
            if self.bind_address is None:
                self.bind_address = "0.0.0.0"


    class Query:
        group_addr = "::"


    def serve_always(port):
        server = socket.create_server(("0.0.0.0", port))
        server.listen()
        return server
"""


def test_only_hard_wired_binds_stay_medium(capsys, tmp_path) -> None:
    package(tmp_path, "svc")
    data = review(capsys, tmp_path, "svc/listen.py", BIND_CHOICES)
    # free_port (7), announce's packet field (13) and the class field (30) are not
    # reported; serve's default (17) and Relay's fallback (26) are low; serve_always (34)
    # stays medium.
    assert severities(data, "SCR403") == [(17, "low"), (26, "low"), (34, "medium")]


# SCR302: a random value stored under the bare name key ----------------------------------

RANDOM_KEYS = """
    import hmac
    import random
    import string

    LETTERS = string.ascii_lowercase + string.digits


    def random_map(size):
        table = {}
        for _ in range(size):
            key = "".join(random.choice(LETTERS) for _ in range(6))
            table[key] = size
        return table


    class Block:
        def __init__(self, key=None):
            self.key = key if key is not None else "".join(random.choice(LETTERS) for _ in range(5))

        def as_dict(self):
            return {"key": self.key, "text": ""}


    def sign(message):
        key = "".join(random.choice(LETTERS) for _ in range(32))
        return hmac.new(key.encode(), message, "sha256").hexdigest()
"""


def test_a_bare_key_is_judged_by_where_it_goes(capsys, tmp_path) -> None:
    package(tmp_path, "svc")
    data = review(capsys, tmp_path, "svc/keys.py", RANDOM_KEYS)
    # The mapping key (12) is only the SCR305 note; the block identifier (19) is low;
    # the key hmac signs with (26) stays medium.
    assert severities(data, "SCR302") == [(19, "low"), (26, "medium")]
    assert (12, "info") in severities(data, "SCR305")
