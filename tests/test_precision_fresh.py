"""Classes of false findings from the judged fresh sample (bench/precision/fresh.csv),
each with a pair: the case the code settles (not reported, or low) and the case it does
not (still reported at its severity)."""

from __future__ import annotations

import textwrap

from helpers import severities
from helpers import review_snippet as review


# SCR453: a request without a timeout in a command someone runs by hand ---------------

GRAPH_TOOL = """
    import argparse
    from urllib.request import urlopen


    def fetch(host):
        return urlopen("http://%s:8082/api/graph" % host).read()


    if __name__ == "__main__":
        parser = argparse.ArgumentParser()
        parser.add_argument("host")
        print(fetch(parser.parse_args().host))
"""


def test_a_stalled_request_in_a_hand_run_script_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "graph_tool.py", GRAPH_TOOL)
    assert data["files"][0]["kind"] == "script"
    assert severities(data, "SCR453") == [(7, "low")]


def test_the_same_request_in_a_package_module_stays_medium(capsys, tmp_path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    code = GRAPH_TOOL.split("\n\n\n    if __name__")[0]
    data = review(capsys, tmp_path, "pkg/graph.py", code)
    assert severities(data, "SCR453") == [(7, "medium")]


def rule_findings(code: str, rule_id: str, name: str = "service/module.py") -> list[tuple[int, str, str]]:
    from scrutiny import source
    from scrutiny.rules import RuleSet, all_rules

    src = source.load(textwrap.dedent(code).encode(), name)
    return sorted((f.location.line, f.severity.name.lower(), f.message) for f in RuleSet(all_rules()).run(src)
                  if f.rule_id == rule_id)  # fmt: skip


# SCR406: a temporary name claimed by a call that fails if the path exists -------------

SOCKET_PAIR = """
    import socket
    import tempfile


    def serve_once(handler):
        path = tempfile.mktemp()
        server = socket.socket(socket.AF_UNIX)
        server.bind(path)
        client = socket.socket(socket.AF_UNIX)
        client.connect(path)
        return server, client
"""


def test_mktemp_claimed_by_binding_a_unix_socket_is_low() -> None:
    [(line, severity, message)] = rule_findings(SOCKET_PAIR, "SCR406")
    assert (line, severity) == (7, "low")
    assert "path is first used by server.bind on line 9" in message


def test_mktemp_opened_after_the_socket_is_still_a_race() -> None:
    code = SOCKET_PAIR.replace("        client = socket", "        open(path).close()\n        client = socket")
    assert [(line, severity) for line, severity, _ in rule_findings(code, "SCR406")] == [(7, "medium")]
    opened_first = SOCKET_PAIR.replace("        server.bind(path)", "        open(path, 'w').close()\n        server.bind(path)")
    assert [(line, severity) for line, severity, _ in rule_findings(opened_first, "SCR406")] == [(7, "medium")]


# SCR751: a name whose last word is not the secret -------------------------------------

CHECKER_ERROR = """
    class UnsupportedInterfaces(Exception):
        pass


    def add_checker(checker, supported):
        if not set(checker.credentialInterfaces) & supported:
            raise UnsupportedInterfaces(checker.credentialInterfaces)
"""


def test_an_exception_naming_a_credential_adjacent_object_is_low() -> None:
    [(line, severity, message)] = rule_findings(CHECKER_ERROR, "SCR751")
    assert (line, severity) == (8, "low")
    assert "only the name suggests a secret" in message


def test_an_exception_carrying_a_password_stays_medium() -> None:
    code = """
        class LoginError(Exception):
            pass


        def login(user, password):
            raise LoginError(f"login failed for {user} with {password}")
    """
    assert [(line, severity) for line, severity, _ in rule_findings(code, "SCR751")] == [(7, "medium")]


# SCR352: an old protocol constant handed to a stand-in of the same file ----------------

FAKE_CONTEXT = """
    from OpenSSL import SSL


    class FakeContext:
        def __init__(self, method):
            self.method = method
            self.paths_loaded = False

        def set_default_verify_paths(self):
            self.paths_loaded = True


    def make_context():
        return FakeContext(SSL.TLSv1_METHOD)
"""


def test_an_old_protocol_given_to_a_fake_of_the_file_is_low() -> None:
    [(line, severity, message)] = rule_findings(FAKE_CONTEXT, "SCR352")
    assert (line, severity) == (15, "low")
    assert "passed to FakeContext (line 5), defined in this file" in message


def test_an_old_protocol_given_to_a_wrapper_that_makes_a_context_stays_high() -> None:
    code = FAKE_CONTEXT.replace("self.method = method", "self.context = SSL.Context(method)")
    assert [(line, severity) for line, severity, _ in rule_findings(code, "SCR352")] == [(15, "high")]


# SCR401: the stock login of a local development server --------------------------------

LOCAL_CLIENT = """
    class VectorStoreUser:
        def __init__(self, uri="http://localhost:19530", token="root:Milvus", timeout=60):
            self.uri, self.token, self.timeout = uri, token, timeout
"""


def test_a_default_login_beside_a_loopback_default_address_is_low() -> None:
    [(line, severity, message)] = rule_findings(LOCAL_CLIENT, "SCR401")
    assert (line, severity) == (3, "low")
    assert "defaults to http://localhost:19530, a local development instance" in message


def test_the_same_default_login_beside_a_remote_address_stays_medium() -> None:
    code = LOCAL_CLIENT.replace("http://localhost:19530", "https://vectors.example.com")
    assert [(line, severity) for line, severity, _ in rule_findings(code, "SCR401")] == [(3, "medium")]


# SCR304, SCR335: a test client that does not check its own fixture's certificate or key

PEER_CHECKS_OFF = """
    import ssl

    import paramiko


    def make_client():
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        ssh = paramiko.SSHClient()
        ssh.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        return context, ssh
"""


def test_peer_checks_turned_off_in_a_test_are_low(capsys, tmp_path) -> None:
    code = PEER_CHECKS_OFF.replace("def make_client", "def test_client")
    data = review(capsys, tmp_path, "tests/test_client.py", code)
    assert data["files"][0]["kind"] == "test"
    assert severities(data, "SCR304") == [(9, "low"), (10, "low")]
    assert severities(data, "SCR335") == [(12, "low")]


def test_the_same_settings_in_production_code_stay_high(capsys, tmp_path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    data = review(capsys, tmp_path, "pkg/client.py", PEER_CHECKS_OFF)
    assert severities(data, "SCR304") == [(9, "high"), (10, "high")]
    assert severities(data, "SCR335") == [(12, "high")]


# SCR750: tornado logs an HTTPError's log_message; the client sees the status and reason

TORNADO_HANDLER = """
    from tornado import web


    class FileHandler(web.RequestHandler):
        def get(self, path):
            try:
                data = open(path).read()
            except OSError as e:
                raise web.HTTPError(500, "could not read %s: %s" % (path, e))
            self.write(data)
"""


def test_an_error_text_only_in_tornados_log_message_is_low() -> None:
    [(line, severity, message)] = rule_findings(TORNADO_HANDLER, "SCR750")
    assert (line, severity) == (10, "low")
    assert "which tornado logs and does not send to the client" in message


def test_the_text_in_the_reason_or_with_a_write_error_that_shows_it_stays_medium() -> None:
    reason = TORNADO_HANDLER.replace('"could not read %s: %s" % (path, e))', 'reason=str(e))')
    assert [(line, severity) for line, severity, _ in rule_findings(reason, "SCR750")] == [(10, "medium")]
    shown = TORNADO_HANDLER + """
        def write_error(self, status_code, **kwargs):
            self.finish(kwargs["exc_info"][1].log_message)
    """
    [(line, severity, message)] = rule_findings(shown, "SCR750")
    assert (line, severity) == (10, "medium") and "as this file's does (line 13)" in message


# SCR601: facts about a digest and flags of the object's own class decide no access ---

def test_an_assert_on_a_digest_size_or_an_own_flag_is_the_generic_low_finding() -> None:
    code = """
        from hashlib import sha1


        class Name:
            def __init__(self, salt, anonymous):
                assert len(salt) == sha1().digest_size
                self.is_anonymous = anonymous

            def describe(self):
                assert not self.is_anonymous
                return "named"
    """
    found = rule_findings(code, "SCR601")
    assert [(line, severity) for line, severity, _ in found] == [(7, "low"), (11, "low")]


def test_an_assert_comparing_a_digest_or_a_users_state_stays_medium() -> None:
    code = """
        import hmac


        def check(request, key, body, signature):
            assert hmac.new(key, body, "sha256").hexdigest() == signature
            assert request.user.is_authenticated
    """
    found = rule_findings(code, "SCR601")
    assert [(line, severity) for line, severity, _ in found] == [(6, "medium"), (7, "medium")]


# SCR604: an invisible character that is the whole of its literal names itself ---------

def test_an_invisible_character_alone_in_its_literal_is_low() -> None:
    code = 'REPLACEMENTS = [\n    ("\\u2713", "check"),\n    ("\ufeff", ""),\n]\n'
    [(line, severity, message)] = rule_findings(code, "SCR604")
    assert (line, severity) == (3, "low") and "holds only that character" in message


def test_an_invisible_character_inside_other_text_stays_medium() -> None:
    code = 'def is_admin(level):\n    return level == "admin\u200b"\n'
    assert [(line, severity) for line, severity, _ in rule_findings(code, "SCR604")] == [(2, "medium")]


# SCR603: a prose sentence that runs onto a line reading like a call --------------------

def test_a_sentence_finished_by_a_dotted_name_is_not_commented_out_code() -> None:
    code = """
        # TODO: this table should be renamed because its only use is in
        #       writers.latex.Translator.escape()
        TABLE = {}
    """
    assert rule_findings(code, "SCR603") == []
    disabled = """
        def render(value):
            # FIXME: bug 4242, re-enable when fixed
            # value = html.escape(value)
            return value
    """
    assert [(line, severity) for line, severity, _ in rule_findings(disabled, "SCR603")] == [(4, "medium")]


# SCR403: an all-interfaces address recorded, not listened on --------------------------

TICKET = """
    import socket


    def identify(request, secret, include_ip):
        if include_ip:
            remote_addr = request.environ["REMOTE_ADDR"]
        else:
            remote_addr = "0.0.0.0"
        return parse_ticket(secret, request.cookies["auth"], remote_addr)
"""


def test_an_all_interfaces_address_only_recorded_is_not_reported() -> None:
    assert rule_findings(TICKET, "SCR403") == []


def test_an_all_interfaces_address_that_reaches_bind_is_reported() -> None:
    code = TICKET.replace('return parse_ticket(secret, request.cookies["auth"], remote_addr)',
                          "socket.socket().bind((remote_addr, 8080))")
    assert [(line, severity) for line, severity, _ in rule_findings(code, "SCR403")] == [(9, "medium")]


# SCR920: a comparison that refuses nothing -------------------------------------------

JAR = """
    def update(self, request, key, name):
        cookie = request.cookies[name]
        if self.cookies[key].get(name) != cookie:
            self.cookies[key][name] = cookie
            self.cache[key].pop(name, None)
"""


def test_a_comparison_that_only_refreshes_state_is_not_reported() -> None:
    assert rule_findings(JAR, "SCR920") == []


def test_the_same_comparison_guarding_a_refusal_is_reported() -> None:
    for granted in ("raise PermissionError(name)", "authenticated = True", "login(request, name)"):
        code = JAR.replace("self.cache[key].pop(name, None)", granted)
        assert [(line, severity) for line, severity, _ in rule_findings(code, "SCR920")] == [(4, "medium")], granted


# SCR133: a wrapper that runs the command its caller passes -----------------------------

WRAPPER = """
    import paramiko


    class Client:
        def run(self, command, timeout=None):
            channel = self.transport.open_session(timeout=timeout)
            channel.exec_command(command)
            return channel
"""


def test_a_command_forwarded_from_the_callers_parameter_is_low() -> None:
    [(line, severity, message)] = rule_findings(WRAPPER, "SCR133")
    assert (line, severity) == (8, "low") and "parameter command of run()" in message


def test_a_command_the_function_chooses_itself_stays_medium() -> None:
    code = WRAPPER.replace("channel.exec_command(command)", "command = self.pending.pop()\n            channel.exec_command(command)")
    assert [(line, severity) for line, severity, _ in rule_findings(code, "SCR133")] == [(9, "medium")]


# SCR201: a function that reads back what its own nested worker pickled -----------------

PARALLEL = """
    import pickle


    def read_parallel(self, docs, tasks):
        def read_process(docs):
            return pickle.dumps(self.env, pickle.HIGHEST_PROTOCOL)

        def merge(docs, otherenv):
            env = pickle.loads(otherenv)
            self.env.merge(env)

        tasks.add_task(read_process, docs, merge)
"""


def test_a_load_of_what_the_enclosing_function_pickles_is_low() -> None:
    [(line, severity, message)] = rule_findings(PARALLEL, "SCR201")
    assert (line, severity) == (10, "low")
    assert "reads back what function read_parallel writes with pickle at line 7" in message


def test_a_load_with_no_writer_in_sight_stays_medium() -> None:
    code = PARALLEL.replace("return pickle.dumps(self.env, pickle.HIGHEST_PROTOCOL)", "return self.env")
    assert [(line, severity) for line, severity, _ in rule_findings(code, "SCR201")] == [(10, "medium")]


def test_a_keycap_emoji_and_a_stray_character_in_a_docstring_are_not_medium() -> None:
    keycaps = 'EMOJI = {"keycap_1": "1\ufe0f\u20e3", "keycap_hash": "#\ufe0f\u20e3"}\n'
    assert rule_findings(keycaps, "SCR604") == []
    docstring = 'def path(self):\n    """The name; without one, such \ufeffattributes are not valid."""\n'
    [(line, severity, message)] = rule_findings(docstring, "SCR604")
    assert (line, severity) == (2, "low") and "a docstring" in message
    selector_after_ascii = 'LABEL = "admin\ufe0f"\n'
    assert [(line, severity) for line, severity, _ in rule_findings(selector_after_ascii, "SCR604")] == [(1, "medium")]


# SCR304: a context look-alike's own attribute ------------------------------------------

LOOK_ALIKE = """
    import ssl


    class WrappedContext:
        def __init__(self, protocol):
            self._ctx = make_context(protocol)
            self.check_hostname = False


    class StrictContext(ssl.SSLContext):
        def relax(self):
            self.check_hostname = False
"""


def test_a_setting_of_a_look_alike_class_is_low_and_of_a_real_context_high() -> None:
    found = [(line, severity) for line, severity, _ in rule_findings(LOOK_ALIKE, "SCR304")]
    assert found == [(8, "low"), (13, "high")]


# SCR920: a stored hash compared with the hash of a guess -------------------------------

HASHED_LOGIN = """
    from hashlib import sha1


    class Authorizer:
        def authorize(self, username, password):
            stored_password = self.users[username]
            password_hash = sha1(password.encode()).hexdigest()
            return stored_password == password_hash
"""


def test_a_plain_hash_of_the_guess_against_a_stored_hash_is_not_reported() -> None:
    assert rule_findings(HASHED_LOGIN, "SCR920") == []
    through_method = HASHED_LOGIN.replace(
        "password_hash = sha1(password.encode()).hexdigest()", "password_hash = self._digest(password)"
    ) + """
        def _digest(self, password):
            return sha1(password.encode()).hexdigest()
    """
    assert rule_findings(through_method, "SCR920") == []


def test_a_plaintext_or_hmac_comparison_stays_reported() -> None:
    plain = HASHED_LOGIN.replace("return stored_password == password_hash", "return stored_password == password")
    assert [(line, severity) for line, severity, _ in rule_findings(plain, "SCR920")] == [(9, "medium")]
    keyed = """
        import hmac


        def verify(request, key):
            if hmac.new(key, request.body, "sha256").hexdigest() != request.headers["X-Signature"]:
                raise PermissionError("bad signature")
    """
    assert [(line, severity) for line, severity, _ in rule_findings(keyed, "SCR920")] == [(6, "medium")]


def test_a_message_about_a_password_is_not_a_password() -> None:
    code = """
        class AuthenticationFailed(Exception):
            pass


        class Authorizer:
            msg_wrong_password = "Authentication failed."

            def validate(self, username, password):
                if self.users[username] != password:
                    raise AuthenticationFailed(self.msg_wrong_password)
    """
    assert rule_findings(code, "SCR751") == []


# SCR982: a wide range in a pattern that only rewrites or extracts text -----------------

def test_a_wide_range_in_a_rewriting_or_extracting_pattern_is_low() -> None:
    code = """
        import re

        LINKS = re.compile(r"https?://(?:[a-zA-Z0-9]|[$-_@.&+])+")


        def convert(structure, text):
            links = LINKS.findall(text)
            return re.sub(r"(%[A-z])", r"{date:\\\\g<1>}", structure), links
    """
    found = rule_findings(code, "SCR982")
    assert [(line, severity) for line, severity, _ in found] == [(4, "low"), (9, "low")]
    assert "only extracts text" in found[0][2] and "only rewrites text" in found[1][2]


def test_a_wide_range_in_a_validating_pattern_stays_medium() -> None:
    code = """
        import re

        USERNAME = re.compile(r"^[A-z0-9_]+$")


        def valid(name):
            return USERNAME.match(name) is not None
    """
    assert [(line, severity) for line, severity, _ in rule_findings(code, "SCR982")] == [(4, "medium")]


def test_a_server_side_wrap_socket_is_low_and_a_client_one_medium() -> None:
    code = """
        import ssl


        def serve(sock, key, cert):
            return ssl.wrap_socket(sock, keyfile=key, certfile=cert, server_side=True)


        def connect(sock):
            return ssl.wrap_socket(sock)
    """
    found = rule_findings(code, "SCR354")
    assert [(line, severity) for line, severity, _ in found] == [(6, "low"), (10, "medium")]
