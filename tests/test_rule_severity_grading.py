"""Rules that grade a finding down when the code shows the risk is smaller (precision on real code)."""

from __future__ import annotations

import textwrap

import pytest

from scrutiny import source
from scrutiny.findings import Severity
from scrutiny.rules import RuleSet, all_rules


def severities(code: str, rule_id: str, name: str = "service.py") -> list[tuple[int, Severity]]:
    src = source.load(textwrap.dedent(code).encode(), name)
    return [(f.location.line, f.severity) for f in RuleSet(all_rules()).run(src) if f.rule_id == rule_id]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import hashlib\ndef sign(data, secret):\n    return hashlib.sha1(secret + data).digest()\n", Severity.MEDIUM),
        # A function's name is no evidence of a protection: no key goes in, so this signs nothing.
        ("import hashlib\ndef sign(data):\n    return hashlib.sha1(data).hexdigest()\n", Severity.LOW),
        ("import hashlib\ndef get_cache_fname(i):\n    return hashlib.sha1(i).hexdigest()\n", Severity.LOW),
        ("import hashlib\nfingerprint = hashlib.md5(key).hexdigest()\n", Severity.LOW),
        ("import hashlib\nWIDTH = hashlib.sha1().digest_size\n", Severity.LOW),
        ("import hashlib\ndef generate_hash(values):\n    return hashlib.sha1(values).hexdigest()\n", Severity.LOW),
        ("import hashlib\ndef hash_password(pw):\n    return hashlib.sha1(pw).hexdigest()\n", Severity.MEDIUM),
        ("from cryptography.hazmat.primitives import hashes\nfp = cert.fingerprint(hashes.SHA1())\n", Severity.LOW),
    ],
)
def test_weak_hash_used_as_a_name_is_low(code: str, expected: Severity) -> None:
    assert [s for _, s in severities(code, "SCR301")] == [expected]


def test_check_hostname_off_with_a_dedicated_ca_is_low() -> None:
    code = """
        import ssl
        def private(ca):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(cafile=ca)
            ctx.check_hostname = False
        def public():
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
    """
    assert severities(code, "SCR304") == [(6, Severity.LOW), (9, Severity.HIGH)]


def test_jinja2_without_autoescape_is_high_only_where_html_is_rendered() -> None:
    text_only = "import jinja2\nenv = jinja2.Environment(loader=jinja2.FileSystemLoader(path))\n"
    html = text_only + 'page = env.get_template("index.html")\n'
    assert severities(text_only, "SCR106") == [(2, Severity.LOW)]
    assert severities(html, "SCR106") == [(2, Severity.HIGH)]


def test_temp_path_is_medium_only_when_a_file_is_created_there() -> None:
    code = 'import os\nopen("/tmp/out.txt", "w")\nLOG = "/tmp/app.log"\nos.path.join("/tmp", name)\n'
    assert severities(code, "SCR407") == [(2, Severity.MEDIUM), (3, Severity.LOW)]


def test_markup_on_a_variable_is_low_and_on_a_built_string_medium() -> None:
    code = 'from markupsafe import Markup\nMarkup(html)\nMarkup(f"<b>{name}</b>")\nMarkup("<b>{}</b>").format(x)\n'
    assert severities(code, "SCR908") == [(2, Severity.LOW), (3, Severity.MEDIUM)]


def test_weak_hash_in_a_function_named_after_it_is_low_unless_it_protects_something() -> None:
    code = """
        import hashlib
        def _sqlite_sha1(text):
            return hashlib.sha1(text.encode()).hexdigest()
        def hash_password_md5(password):
            return hashlib.md5(password.encode()).hexdigest()
    """
    assert severities(code, "SCR301") == [(4, Severity.LOW), (6, Severity.MEDIUM)]


def test_sql_with_only_quoted_identifiers_is_not_reported() -> None:
    code = """
        def count(connection, cursor, name, key):
            table = connection.ops.quote_name(name)
            cursor.execute("SELECT COUNT(*) FROM %s" % table)
            cursor.execute("SELECT * FROM %s WHERE k = '%s'" % (table, key))
    """
    assert [line for line, _ in severities(code, "SCR105")] == [5]


def test_direction_mark_in_a_string_is_low_and_an_override_high() -> None:
    code = 'SHORT_DATE_FORMAT = "d\\u200f/m\\u200f/Y"\nTEXT = "abc\\u202edef"\n'
    raw = code.encode().decode("unicode_escape")
    assert severities(raw, "SCR604") == [(1, Severity.LOW), (2, Severity.HIGH)]


def test_sql_with_names_pasted_is_low_and_with_data_pasted_medium() -> None:
    code = """
        def copy(cursor, table, columns, name, limit):
            cursor.execute("INSERT INTO %s (%s) SELECT %s FROM old" % (table, columns, columns))
            cursor.execute(f"SELECT * FROM users WHERE name = '{name}'")
            cursor.execute("SELECT %s FROM t LIMIT %s" % (columns, limit))
    """
    assert severities(code, "SCR105") == [(3, Severity.LOW), (4, Severity.MEDIUM), (5, Severity.MEDIUM)]


def test_code_the_operator_supplies_is_low_and_other_code_stays_high() -> None:
    code = """
        import os
        import sys

        class Command(BaseCommand):
            def handle(self, **options):
                if options["command"]:
                    exec(options["command"], globals())
                exec(sys.stdin.read(), globals())
                for startup in [os.environ.get("PYTHONSTARTUP"), "~/.pythonrc.py"]:
                    with open(startup) as handle:
                        source = handle.read()
                    exec(compile(source, startup, "exec"), {})

        def ask():
            code = input()
            return eval(code, {}, {})

        def run(request):
            return eval(request.body)

        class Handler:
            def handle(self, **options):
                return eval(options["expr"])
    """
    found = severities(code, "SCR104") + severities(code, "SCR103")
    assert found == [
        (8, Severity.LOW),
        (9, Severity.LOW),
        (13, Severity.LOW),
        (17, Severity.LOW),
        (20, Severity.HIGH),
        (24, Severity.HIGH),
    ]


def test_a_pickle_round_trip_through_an_in_memory_dict_is_a_note() -> None:
    code = """
        import pickle
        _stores = {}
        class MemoryCache:
            def __init__(self, name):
                self._store = _stores.setdefault(name, {})
            def set(self, key, value):
                self._store[key] = pickle.dumps(value)
            def get(self, key):
                blob = self._store[key]
                return pickle.loads(blob)
            def incr(self, key):
                blob = self._store[key]
                value = pickle.loads(blob) + 1
                blob = pickle.dumps(value)
                self._store[key] = blob
        class SharedCache:
            def __init__(self, client):
                self._store = client.connect()
            def set(self, key, value):
                self._store[key] = pickle.dumps(value)
            def get(self, key):
                return pickle.loads(self._store[key])
        class NeverPickles:
            def __init__(self):
                self._store = {}
            def get(self, key):
                return pickle.loads(self._store[key])
    """
    assert severities(code, "SCR201") == [
        (11, Severity.INFO),
        (14, Severity.INFO),
        (23, Severity.LOW),  # a store of its own (the class pickles into it): low, with who can write it
        (28, Severity.MEDIUM),  # bytes this class never wrote
    ]


def test_an_assert_on_a_length_is_not_an_access_decision() -> None:
    code = """
        def compare(token, secret, user):
            assert len(token) == SECRET_LENGTH
            assert token == secret
            assert user.is_authenticated
    """
    # token == secret compares two parameters: only their names say it decides access.
    assert severities(code, "SCR601") == [(3, Severity.LOW), (4, Severity.LOW), (5, Severity.MEDIUM)]
