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
