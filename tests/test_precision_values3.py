"""Classes of false or deliberate-but-loud findings from the judged blind sheets
(bench/precision/blind.csv, blind2.csv), each with a pair: the case the code settles
(not reported, or lower) and the case it does not (still reported at its severity)."""

from __future__ import annotations

from helpers import review_snippet as review
from helpers import severities

# SCR905: a cookie whose value the code shows to be a boolean, and a set_cookie helper --

LAYOUT_VIEW = """
    from django.http import HttpResponse


    def wants_compact(request):
        if request.GET.get("expand"):
            return False
        if "compact" in request.COOKIES:
            return request.COOKIES["compact"] == "yes"
        return True


    class Page:
        def get(self, request):
            self.compact = wants_compact(request)
            return self.render(request)

        def render(self, request):
            response = HttpResponse("ok")
            response.set_cookie("compact", self.compact)
            return response

        def login(self, request, user):
            self.token = user.make_token()
            response = HttpResponse("ok")
            response.set_cookie("auth", self.token)
            return response
"""


def test_a_boolean_cookie_carried_over_is_low_and_a_token_stays_medium(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "app/views.py", LAYOUT_VIEW)
    assert severities(data, "SCR905") == [(20, "low"), (26, "medium")]
    low = next(f for f in data["findings"] if f["rule_id"] == "SCR905" and f["line"] == 20)
    assert "its value is a boolean" in low["message"]
    assert "reads back only at line 9" in low["message"]


COOKIE_HELPER = """
    from http.cookies import SimpleCookie


    class Reply:
        def put_cookie(self, name, value, secure=False, httponly=False):
            jar = SimpleCookie()
            jar[name] = value
            for flag, on in (("secure", secure), ("httponly", httponly)):
                if on:
                    jar[name][flag] = True
            self.headers.append(jar.output(header="").strip())

        def put_plain(self, name, value):
            jar = SimpleCookie()
            jar[name] = value
            self.headers.append(jar.output(header="").strip())
"""


def test_a_morsel_helper_taking_secure_from_its_caller_is_not_reported(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "app/reply.py", COOKIE_HELPER)
    assert severities(data, "SCR905") == [(16, "medium")]


# SCR401: test files, task-runner files and __main__ blocks seen as production ----------


def test_a_py_test_module_under_an_underscored_tests_folder_is_a_test(capsys, tmp_path) -> None:
    code = """
        import py.test

        from pkg import login


        class TestLogin:
            def testGoodPassword(self):
                user = login(name="alice", password="alice-pw-9")
                assert user is not None
    """
    data = review(capsys, tmp_path, "pkg/_tests/test_login.py", code)
    assert data["files"][0]["kind"] == "test"
    assert severities(data, "SCR401") == [(9, "info")]


def test_the_same_login_in_a_plain_module_stays_medium(capsys, tmp_path) -> None:
    code = """
        from pkg import login


        class Account:
            def sign_in(self):
                return login(name="alice", password="alice-pw-9")
    """
    data = review(capsys, tmp_path, "pkg/_support/account.py", code)
    assert severities(data, "SCR401") == [(7, "medium")]


def test_a_module_checking_with_pytest_raises_is_a_test(capsys, tmp_path) -> None:
    code = """
        from pytest import raises

        from pkg import Client


        class Client_:
            def setup(self):
                self.client = Client(password="Zq7-trove-81")

            def rejects_bad_host(self):
                with raises(ValueError):
                    self.client.open("nowhere")
    """
    data = review(capsys, tmp_path, "integration/server.py", code)
    assert data["files"][0]["kind"] == "test"
    assert severities(data, "SCR401") == [(9, "info")]


TASKS = """
    from invoke import task


    @task
    def check_copy(c):
        cfg = {}
        cfg["password"] = "xyzzy-42"
        copied = dict(cfg)
        assert copied["password"] == "xyzzy-42"


    @task
    def deploy(c):
        db_password = "Pr0d-s3cret-9"
        c.run(f"psql {db_password}")
"""


def test_a_password_asserted_back_is_low_and_a_task_file_is_a_script(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "tasks.py", TASKS)
    assert data["files"][0]["kind"] == "script"
    assert severities(data, "SCR401") == [(8, "low"), (10, "low"), (15, "medium")]
    assert "asserts this value back (line 10)" in next(
        f["message"] for f in data["findings"] if f["rule_id"] == "SCR401" and f["line"] == 8)


CLIENT = """
    import xmlrpc.client


    def push(url, user, password):
        proxy = xmlrpc.client.ServerProxy(url)
        return proxy.login(user, password)


    def push_default(url):
        password = "Wk4-lantern-36"
        return push(url, "svc", password)


    if __name__ == "__main__":
        password = "change-me-77"
        push("https://wiki.invalid/rpc", "me", password)
"""


def test_a_password_in_the_main_block_is_low_and_one_in_a_function_stays_medium(capsys, tmp_path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    data = review(capsys, tmp_path, "pkg/client.py", CLIENT)
    assert severities(data, "SCR401") == [(11, "medium"), (16, "low")]
    assert "__main__ block (line 15)" in next(
        f["message"] for f in data["findings"] if f["rule_id"] == "SCR401" and f["line"] == 16)


# SCR337: a URL returned by the file's own function, and a download helper's parameter --

FETCHERS = """
    import urllib.request

    from flask import request

    UPDATES = "https://updates.invalid/register?%(data)s"


    def register_url(data):
        return UPDATES % {"data": data}


    def register():
        url = register_url("x")
        return urllib.request.urlopen(url, timeout=5).read()


    def fetch_bytes(url):
        req = urllib.request.Request(url, headers={"User-Agent": "tool/1"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.read()


    class Mirror:
        def pull(self, source):
            with urllib.request.urlopen(source, timeout=5) as resp:
                return resp.read()

        def pull_latest(self):
            return self.pull(request.args["source"])


    def _read(location):
        return urllib.request.urlopen(location, timeout=5).read()


    def read_configured(settings):
        return _read(settings["feed"])
"""


def test_url_schemes_of_own_constants_and_helpers(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "svc/fetchers.py", FETCHERS)
    # register(): the file's own function returns a fixed https URL, not reported;
    # fetch_bytes(): a helper's parameter, low; pull(): a caller passes request data (the
    # SSRF rule reports it); _read(): private, its caller passes a value the file does not
    # settle (the rule's confidence is low there, so the review shows it as low).
    assert severities(data, "SCR337") == [(20, "low"), (34, "low")]
    assert severities(data, "SCR506") == [(26, "high")]
    low = next(f for f in data["findings"] if f["rule_id"] == "SCR337" and f["line"] == 20)
    assert "the parameter url of fetch_bytes(), so its scheme is the caller's choice" in low["message"]


# SCR750 / SCR751: errors about the client's own input, and a secret that only decides --

BATCH_VIEW = """
    import json

    from django.http import JsonResponse


    def batch(request):
        data = request.POST
        raw = data.get("batch")
        try:
            items = json.loads(raw)
        except Exception as e:
            return JsonResponse({"error": "Could not parse batch: %s" % e}, status=400)
        try:
            saved = store(items)
        except Exception as e:
            return JsonResponse({"error": "Could not save: %s" % e}, status=500)
        return JsonResponse({"saved": saved})
"""


def test_a_parse_error_of_the_clients_own_field_is_low_and_a_save_error_stays_medium(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "svc/batch.py", BATCH_VIEW)
    assert severities(data, "SCR750") == [(13, "low"), (17, "medium")]
    low = next(f for f in data["findings"] if f["rule_id"] == "SCR750" and f["line"] == 13)
    assert "only parses the client's own input (json.loads(raw))" in low["message"]


TOKEN_CHECK = """
    import hmac


    class MismatchError(Exception):
        pass


    def check_tokens(sent_token, stored_token):
        if not hmac.compare_digest(sent_token, stored_token):
            raise MismatchError(
                "token from cookie and form differ",
                code="mismatch" if stored_token else "missing",
            )


    def check_again(sent_token, stored_token):
        if not hmac.compare_digest(sent_token, stored_token):
            raise MismatchError(f"token differs from {stored_token}")
"""


def test_a_secret_that_only_picks_the_error_code_is_not_in_the_message(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "svc/tokens.py", TOKEN_CHECK)
    assert severities(data, "SCR751") == [(19, "medium")]


# SCR407: a fixed /tmp path in a script run by hand -----------------------------------

REPORT = """
    import sys


    def main(count):
        report = open("/tmp/loop-report", "w")
        for i in range(count):
            report.write(str(i))
        report.close()


    if __name__ == "__main__":
        main(int(sys.argv[1]))
"""


def test_a_fixed_tmp_path_in_a_hand_run_script_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "bench/loop_report.py", REPORT)
    assert data["files"][0]["kind"] == "script"
    assert severities(data, "SCR407") == [(6, "low")]


def test_the_same_path_in_a_package_module_stays_medium(capsys, tmp_path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    data = review(capsys, tmp_path, "pkg/loop_report.py", REPORT.split("\n\n\n    if __name__")[0])
    assert severities(data, "SCR407") == [(6, "medium")]
