"""Classes of false or deliberate findings from protocol libraries (issue 15, helper P6),
each with a pair: the case the code settles (low) and the case it does not (still reported
at its severity). The snippets are written for these tests."""

from __future__ import annotations

import textwrap


def rule_findings(code: str, rule_id: str, name: str = "service/module.py") -> list[tuple[int, str]]:
    from scrutiny import source
    from scrutiny.rules import RuleSet, all_rules

    src = source.load(textwrap.dedent(code).encode(), name)
    return sorted((f.location.line, f.severity.name.lower()) for f in RuleSet(all_rules()).run(src)
                  if f.rule_id == rule_id)  # fmt: skip


def rule_messages(code: str, rule_id: str) -> list[str]:
    from scrutiny import source
    from scrutiny.rules import RuleSet, all_rules

    src = source.load(textwrap.dedent(code).encode(), "service/module.py")
    return [f.message for f in RuleSet(all_rules()).run(src) if f.rule_id == rule_id]


# SCR603: a security call removed and the line rewritten without it ----------------------

REWRITTEN = """
    def render(values):
        # return [sanitize(value) for value in values]
        return [value for value in values]
"""

SWITCHED_OFF = """
    def render(values):
        # values = sanitize(values)
        return [value for value in values]
"""


def test_a_security_call_removed_in_a_rewritten_line_is_low() -> None:
    assert rule_findings(REWRITTEN, "SCR603") == [(3, "low")]
    assert "same statement without the call" in rule_messages(REWRITTEN, "SCR603")[0]


def test_a_security_call_simply_commented_out_stays_medium() -> None:
    assert rule_findings(SWITCHED_OFF, "SCR603") == [(3, "medium")]


# SCR301: MD5/SHA-1 inside an HMAC written out by hand (RFC 2104) ------------------------

HAND_HMAC = """
    import hashlib

    INNER = bytes([0x36] * 64)
    OUTER = bytes([0x5C] * 64)


    def check_tag(key, payload, tag):
        ki = bytes(a ^ b for a, b in zip(key, INNER))
        ko = bytes(a ^ b for a, b in zip(key, OUTER))
        step = hashlib.sha1(ki + payload).digest()
        mac = hashlib.sha1(ko + step).digest()[:12]
        if mac != tag:
            raise PermissionError("tag mismatch")
"""

DOUBLE_HASH = """
    import hashlib


    def check_tag(key, payload, tag):
        step = hashlib.sha1(key + payload).digest()
        mac = hashlib.sha1(key + step).digest()[:12]
        if mac != tag:
            raise PermissionError("tag mismatch")
"""


def test_a_weak_hash_inside_a_hand_made_hmac_is_low() -> None:
    assert rule_findings(HAND_HMAC, "SCR301") == [(11, "low"), (12, "low")]
    assert all("HMAC built by hand" in m for m in rule_messages(HAND_HMAC, "SCR301"))


def test_a_nested_weak_hash_without_xor_pads_stays_medium() -> None:
    assert rule_findings(DOUBLE_HASH, "SCR301") == [(6, "medium"), (7, "medium")]


# SCR354: ssl.wrap_socket whose cert_reqs is a setting passed in --------------------------

CONFIGURED = """
    import ssl


    def connect(sock, mode):
        return ssl.wrap_socket(sock, cert_reqs=mode)
"""

DEFAULTED = """
    import ssl


    def connect(sock):
        return ssl.wrap_socket(sock)
"""


def test_wrap_socket_with_a_configured_cert_reqs_is_low() -> None:
    assert rule_findings(CONFIGURED, "SCR354") == [(6, "low")]
    assert "a setting passed in" in rule_messages(CONFIGURED, "SCR354")[0]


def test_wrap_socket_with_the_default_cert_reqs_stays_medium() -> None:
    assert rule_findings(DEFAULTED, "SCR354") == [(6, "medium")]


# SCR301: MD4 over UTF-16LE text is the NT hash NTLM defines ------------------------------

NT_HASH = """
    import hashlib


    def nt_owf(password):
        return hashlib.new("md4", password.encode("utf-16-le")).digest()
"""

MD4_PASSWORD = """
    import hashlib


    def store(password):
        return hashlib.new("md4", password.encode("utf-8")).hexdigest()
"""


def test_md4_over_utf16le_text_is_the_protocols_choice() -> None:
    assert rule_findings(NT_HASH, "SCR301") == [(6, "low")]
    assert "NT hash" in rule_messages(NT_HASH, "SCR301")[0]


def test_md4_of_a_utf8_password_stays_medium() -> None:
    assert rule_findings(MD4_PASSWORD, "SCR301") == [(6, "medium")]


# SCR302: a random value under a secret-sounding name that is only ever logged -----------

LOGGED_LABEL = """
    import logging
    import random

    log = logging.getLogger(__name__)


    def open_channel(channel):
        channel.session_id = random.randint(1000, 9999)
        log.debug("opened channel %s", channel.session_id)
        return channel


    def close_channel(channel):
        log.info("closing channel %s", channel.session_id)
"""

SENT_ID = """
    import logging
    import random

    log = logging.getLogger(__name__)


    def open_channel(channel, response):
        channel.session_id = random.randint(1000, 9999)
        log.debug("opened channel %s", channel.session_id)
        response.set_cookie("sid", str(channel.session_id))
        return channel
"""


def test_a_random_id_only_read_by_logging_calls_is_low() -> None:
    assert rule_findings(LOGGED_LABEL, "SCR302") == [(9, "low")]
    assert "logging call" in rule_messages(LOGGED_LABEL, "SCR302")[0]


def test_a_random_id_also_used_outside_logging_stays_medium() -> None:
    assert rule_findings(SENT_ID, "SCR302") == [(9, "medium")]


# SCR202: marshal data no untrusted input is traced to ------------------------------------

COMPILED_CACHE = """
    import marshal
    import os


    def load_compiled(directory, stem):
        with open(os.path.join(directory, stem + ".pyc"), "rb") as handle:
            handle.read(16)
            return marshal.loads(handle.read())
"""

UPLOADED_CODE = """
    import marshal

    from flask import Flask, request

    app = Flask(__name__)


    @app.route("/run", methods=["POST"])
    def run():
        code = marshal.loads(request.get_data())
        return str(code)
"""


def test_marshal_data_read_from_a_local_file_is_a_low_hint(capsys, tmp_path) -> None:
    from helpers import review_snippet, severities

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    data = review_snippet(capsys, tmp_path, "pkg/loader.py", COMPILED_CACHE)
    assert severities(data, "SCR202") == [(9, "low")]


def test_marshal_data_from_a_request_stays_reported(capsys, tmp_path) -> None:
    from helpers import review_snippet, severities

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    data = review_snippet(capsys, tmp_path, "pkg/views.py", UPLOADED_CODE)
    found = [(f["rule_id"], f["line"], f["severity"]) for f in data["findings"] if f["line"] == 11]
    assert ("SCR505", 11, "high") in found


# SCR751: the value in the message is one a type check just rejected ---------------------

TYPE_REJECTED = """
    class Credentials:
        pass


    class Account:
        def __init__(self, credentials):
            if not isinstance(credentials, (Credentials, type(None))):
                raise TypeError("credentials %r must be a %s" % (credentials, Credentials))
            self.credentials = credentials
"""

TYPE_ACCEPTED = """
    class Credentials:
        pass


    class Account:
        def __init__(self, credentials):
            if isinstance(credentials, Credentials):
                raise ValueError("credentials %r are not accepted here" % (credentials,))
            self.credentials = credentials
"""


def test_a_wrong_typed_value_in_a_type_error_is_low() -> None:
    assert rule_findings(TYPE_REJECTED, "SCR751") == [(9, "low")]
    assert "not an instance of" in rule_messages(TYPE_REJECTED, "SCR751")[0]


def test_credentials_of_the_right_type_in_a_message_stay_medium() -> None:
    assert rule_findings(TYPE_ACCEPTED, "SCR751") == [(9, "medium")]
