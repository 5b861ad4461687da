"""A finding its own rule calls weakly evidenced (confidence low) is shown as low.

Medium and high are for findings a maintainer would agree with. A pattern finding that
rests on a name or the wording of a string is a lead, so the review lowers it and says
why; a taint report keeps its severity at any confidence, since its path is evidence of
what the code does (tests/test_taint.py covers that side).
"""

from __future__ import annotations

from helpers import findings
from helpers import review_snippet as review

LOGS = """
    import logging

    logger = logging.getLogger(__name__)


    def relink(old_key_file):
        logger.debug("Pointing the link at the old private key, %s.", old_key_file)


    def login(user, password):
        logger.info("login attempt for %s with password %s", user, password)
"""


def test_a_weakly_evidenced_pattern_finding_is_low_with_the_reason(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "keys.py", LOGS)
    shown = {f["line"]: f for f in findings(data, "SCR701")}
    # Line 8: only the words before the placeholder say a key is logged (it is a file name).
    weak = shown[8]
    assert (weak["severity"], weak["default_severity"], weak["confidence"]) == ("low", "medium", "low")
    assert "evidence is weak" in weak["context_note"]
    # Line 12: the logged value is the password parameter itself: kept at medium.
    strong = shown[12]
    assert (strong["severity"], strong["confidence"]) == ("medium", "medium")
    assert strong["context_note"] == ""


# SCR401: the use of a literal, not only its name, makes it a credential ----------------------

CREDENTIALS = """
    SERVICE_PASSWORD = "Zq81mWx02kd"
    DB_PASSWORD = "Lp20xNq73vb"
    SECRET_KEY = "k2-9xQ0vZ7mWd81"


    def open_db(connect):
        return connect(user="svc", password=DB_PASSWORD)


    def backdoor(user, password):
        if password == "letmein-2291":
            return True
        return False


    def check_config(config):
        assert config.admin_password == "Rt55-kq0Zm"
"""


def test_a_named_password_is_low_and_a_used_one_medium(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "creds.py", CREDENTIALS)
    assert [(f["line"], f["severity"]) for f in findings(data, "SCR401")] == [
        (2, "low"),  # named only
        (3, "medium"),  # passed as password= on line 8
        (4, "medium"),  # the framework's signing key
        (12, "medium"),  # decides access
        (18, "low"),  # an assert checks a value the code set
    ]
    named = next(f for f in findings(data, "SCR401") if f["line"] == 2)
    assert "only its name says it is a credential" in named["message"]
