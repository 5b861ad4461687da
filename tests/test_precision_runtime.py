"""Classes of findings whose severity depends on what decides at run time (issue 15):
a check turned off only on a branch the operator's configuration chooses, a digest of a
guess compared with a stored digest, a salt sent next to the digest it salts, a request
without a timeout in a command a person runs. Each with a pair: the case the code settles
(lower, with the reason in the message) and the one it does not (kept at its severity)."""

from __future__ import annotations

from helpers import findings, severities
from helpers import review_snippet as review

# SCR304/SCR335: a check turned off on a branch the configuration chooses ---------------

CONFIGURED_TLS = """
    import ssl

    import paramiko
    from django.conf import settings


    class Relay:
        def __init__(self, mode):
            self.mode = mode

        def context(self):
            ctx = ssl.create_default_context()
            if self.mode == "strict":
                ctx.verify_mode = ssl.CERT_REQUIRED
            else:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            return ctx


    def open_ssh(client):
        if getattr(settings, "SKIP_HOST_KEYS", False):
            client.set_missing_host_key_policy(paramiko.WarningPolicy())
"""

UNCONFIGURED_TLS = """
    import ssl
    from urllib.parse import urlsplit

    import paramiko


    def context(url):
        parts = urlsplit(url)
        ctx = ssl.create_default_context()
        if parts.scheme == "https":
            ctx.check_hostname = False
        return ctx


    def handler(request):
        ctx = ssl.create_default_context()
        if request.args.get("insecure"):
            ctx.verify_mode = ssl.CERT_NONE
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        return ctx, client
"""


def test_a_check_turned_off_on_a_configured_branch_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "relay/tls.py", CONFIGURED_TLS)
    assert severities(data, "SCR304") == [(17, "low"), (18, "low")]
    assert severities(data, "SCR335") == [(24, "low")]
    messages = {f["line"]: f["message"] for f in findings(data)}
    assert "the run-time configuration chooses" in messages[17]
    assert "(the else of self.mode == 'strict')" in messages[18]
    assert "(getattr(settings, 'SKIP_HOST_KEYS', False))" in messages[24]


def test_a_check_turned_off_unconditionally_or_by_request_data_stays_high(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "relay/tls.py", UNCONFIGURED_TLS)
    assert severities(data, "SCR304") == [(12, "high"), (19, "high")]
    assert severities(data, "SCR335") == [(21, "high")]


# SCR920: a digest of the guess, or two values the object holds, compared with == --------

DIGEST_LOGIN = """
    import hashlib

    from .compat import sha256


    class Gate:
        def _fingerprint(self, user, password, salt):
            h = hashlib.sha3_256()
            h.update(salt + user + password)
            return str(h.digest())

        def login(self, user, password):
            stored_digest, salt = self.remembered[user]
            digest = self._fingerprint(user, password, salt)
            if digest == stored_digest:
                return True
            return False

        def authorize(self, user, password):
            stored_password = self.passwords[user]
            if stored_password.startswith("{SHA256}"):
                password_hash = sha256(password.encode()).hexdigest()
                return stored_password[8:] == password_hash
            return stored_password == password
"""


def test_a_digest_of_the_guess_compared_with_a_stored_one_is_not_reported(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "gate/auth.py", DIGEST_LOGIN)
    # Lines 16 (a method returning str(h.digest())) and 24 (sha256 re-exported by a
    # compat module) compare digests; line 25 compares the stored plaintext password.
    assert severities(data, "SCR920") == [(25, "medium")]


OWNER_CHECK = """
    class Handle:
        def current_session_id(self):
            return self.runtime.session_id

        def verify_session(self):
            if self.current_session_id() != self._owner_session_id:
                raise PermissionError("wrong session")

        def verify_session_of(self, session_id):
            if session_id != self._owner_session_id:
                raise PermissionError("wrong session")
"""


def test_two_values_of_the_objects_own_state_compared_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "gate/handle.py", OWNER_CHECK)
    assert severities(data, "SCR920") == [(7, "low"), (11, "medium")]
    low = next(f for f in findings(data, "SCR920") if f["line"] == 7)
    assert "both sides are the object's own state" in low["message"]


# SCR302: a salt or nonce sent or stored in the clear next to what it salts --------------

CLEAR_SALTS = """
    import crypt
    import hashlib
    import random
    import string


    def signed_query(secret):
        nonce = "".join(random.choice(string.hexdigits) for _ in range(8))
        payload = f"{secret}:{nonce}"
        signature = hashlib.sha256(payload.encode()).hexdigest()
        return {"n": nonce, "sig": signature}


    def _new_salt():
        return "".join(random.choice(string.ascii_letters) for _ in range(8))


    def shadow_entry(password):
        salt = _new_salt()
        return crypt.crypt(password, "$6$" + salt)
"""

HIDDEN_SALTS = """
    import hashlib
    import random
    import string


    def opaque_nonce():
        nonce = "%f" % random.random()
        return hashlib.md5(nonce.encode()).hexdigest()


    def reset_code(user):
        salt = "".join(random.choice(string.digits) for _ in range(6))
        user.reset_salt = salt
        return salt
"""


def test_a_salt_shown_next_to_its_digest_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "client/sign.py", CLEAR_SALTS)
    assert severities(data, "SCR302") == [(9, "low"), (16, "low")]
    messages = {f["line"]: f["message"] for f in findings(data, "SCR302")}
    assert "nonce is returned next to the digest made from it (line 12)" in messages[9]
    assert "salt is the salt of crypt.crypt() (line 21)" in messages[16]


def test_a_nonce_kept_hidden_or_a_salt_without_its_digest_stays_medium(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "client/sign.py", HIDDEN_SALTS)
    assert severities(data, "SCR302") == [(8, "medium"), (13, "medium")]


# SCR453: a request without a timeout on the way from a command line -------------------

EXPORT_TOOL = """
    import argparse

    import requests


    def _fetch_page(site, page):
        return requests.get(f"https://{site}/api/pages/{page}").json()


    def export_pages(site):
        return [_fetch_page(site, n) for n in range(3)]


    def main():
        parser = argparse.ArgumentParser()
        parser.add_argument("site")
        args = parser.parse_args()
        print(export_pages(args.site))


    if __name__ == "__main__":
        def refresh_fixture():
            return requests.get("https://example.org/fixture.json").text

        main()
"""

SHARED_FETCH = """
    import argparse

    import requests


    def _fetch_page(site, page):
        return requests.get(f"https://{site}/api/pages/{page}").json()


    def sync_worker(queue):
        while True:
            site, page = queue.get()
            _fetch_page(site, page)


    def public_client(site):
        return requests.get(f"https://{site}/api/status").json()


    def main():
        parser = argparse.ArgumentParser()
        parser.add_argument("site")
        print(_fetch_page(parser.parse_args().site, 1))
"""


def _package(tmp_path):
    (tmp_path / "tool").mkdir(exist_ok=True)
    (tmp_path / "tool" / "__init__.py").write_text("")


def test_a_request_reached_only_from_the_command_line_is_low(capsys, tmp_path) -> None:
    _package(tmp_path)
    data = review(capsys, tmp_path, "tool/export.py", EXPORT_TOOL)
    assert data["files"][0]["kind"] == "production"
    assert severities(data, "SCR453") == [(8, "low"), (24, "low")]
    messages = {f["line"]: f["message"] for f in findings(data, "SCR453")}
    assert "(_fetch_page() <- export_pages() <- main(), which parses the command line (line 18))" in messages[8]
    assert "under the module's __main__ guard (line 22)" in messages[24]


def test_a_request_also_reached_from_a_worker_or_from_no_caller_stays_medium(capsys, tmp_path) -> None:
    _package(tmp_path)
    data = review(capsys, tmp_path, "tool/sync.py", SHARED_FETCH)
    assert severities(data, "SCR453") == [(8, "medium"), (18, "medium")]
