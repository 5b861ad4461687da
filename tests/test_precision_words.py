"""Rules and observers decide from what code does, not from the words in it.

Metamorphic tests: a file and the same file with every name it defines renamed (tests/renamer.py)
must get the same review - the same findings (rule and line), the same aspects and the same
cited lines - for the seed file and for the rule fixtures. Pairs show the structural decisions
that replaced word lists: what "checks cleanup" means, when a string is a host, which receiver
is a logger.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import pytest
from renamer import rename

from helpers import SEED, aspect, citations, findings, review_json
from scrutiny import source, suppress, taint
from scrutiny.config import every_rule
from scrutiny.context import classify
from scrutiny.observe import observe
from scrutiny.rules import RuleSet, all_rules

FIXTURES = Path(__file__).parent / "fixtures" / "rules"

# Fixtures whose rule reads a name as its evidence, on purpose: renaming the name removes
# the evidence, so the review may change.
NAME_IS_EVIDENCE = {
    "SCR302": "a random value is a secret because of the name it is stored under (token, password)",
    "SCR305": "as SCR302: the name that holds the random value says it is a secret",
    "SCR401": "a literal is a credential because of the name it is stored under (as CodeQL's heuristics)",
    "SCR403": "a bind-all address is told from a netmask by the setting or parameter it is stored in",
    "SCR405": "debug=True is the evidence, and here the callee is the fixture's own function",
    "SCR452": "a signing key is a key because of the parameter or setting that holds it",
    "SCR870": "a page size is told by the keyword it is passed as (limit=); here the callee is the fixture's own",
    "SCR652": "a skipped test's name is the only statement of what it checks (test_csrf_...)",
    "SCR701": "passwords and tokens reach the log under their names (as CodeQL's cleartext logging)",
    "SCR702": "the logged request object is told by its name where nothing else types it",
    "SCR751": "the secret put into an exception message is told by its name",
    "SCR932": "the role compared with a literal is told by the variable's name",
}
# Fixtures whose rule (or the taint engine behind it) still reads words where the code's
# structure could decide; left for follow-up work, listed so they are not forgotten.
WORD_DEPENDENT = {
    "SCR103": "taint: a parameter named request of an unregistered function is read as the request object",
    "SCR920": "taint: as SCR103, request.headers of a parameter named request is a source",
    "SCR934": "taint: as SCR103, for req.path_info",
    "SCR950": "taint: as SCR103",
    "SCR931": "authorization: a view is recognised by its request parameter's name",
    "SCR105": "SQL: a variable named table, or bound to quote_name, is taken to hold a quoted identifier",
    "SCR301": "severity grading reads the hashed value's name (image_id is not a secret)",
    "SCR861": "data erasure is recognised by the callee's name (wipe_volume)",
    "SCR905": "a test client is recognised by the receiver's name (client.set_cookie)",
    "SCR922": "a session store is recognised by the name of the key (session_id)",
    "SCR935": "host matching is recognised by the names of the split parts (host_parts)",
    "SCR937": "a validator is recognised by its function's name (validate_*)",
    "SCR601": "an assert reads a user's authentication state when the object is named user (user.is_admin)",
}
EXCLUDED = NAME_IS_EVIDENCE | WORD_DEPENDENT
CHECKED = [p for p in sorted(FIXTURES.glob("*.py")) if p.stem not in EXCLUDED]


def seed_file() -> Path:
    """The seed, found as tests/test_seed.py finds it; a plain clone has none."""
    if not SEED.exists():
        pytest.skip(f"the seed file is missing: {SEED}")
    return SEED


def facts(text: str, name: str) -> tuple[list[tuple[int, str, str]], list[tuple[str, str, str, int, int]]]:
    """(findings as (line, rule, severity), observation citations), as a review computes them."""
    src = source.load(text.encode(), name)
    context = classify(src)
    found = RuleSet(all_rules()).run(src) + taint.summarize(src, context)[1]
    kept, _ = suppress.settle(src, found, every_rule())
    reported = sorted((f.location.line, f.rule_id, f.severity.name) for f in kept)
    cited = sorted(
        (o.category.value, o.kind, c.role, c.start, c.end) for o in observe(src, context) for c in o.citations
    )
    return reported, cited


def review_shape(review: dict[str, Any]) -> dict[str, Any]:
    """A review without the names it quotes: findings, aspect statuses and cited lines."""
    return {
        "findings": sorted(
            (f["rule_id"], f["line"], f["end_line"], f["severity"], f["default_severity"]) for f in review["findings"]
        ),
        "aspects": sorted((a["category"], a["status"]) for a in review["aspects"]),
        "citations": sorted(
            (a["category"], c["role"], c["start"], c["end"])
            for a in review["aspects"]
            for s in a["statements"]
            for c in s["citations"]
        ),
        "verdict": (review["verdict"]["clean"], review["verdict"]["text"]),
        "kind": [(f["kind"], f["description"]) for f in review["files"]],
    }


# The renamer -------------------------------------------------------------------------

SAMPLE = '''\
import json
import os.path as osp
from requests import Session


class Store:
    """Keeps records in a file."""

    def __init__(self, folder):
        self.folder = folder
        self.http = Session()

    def save(self, record, *, pretty=False):
        target = osp.join(self.folder, "records.json")
        label = "draft copy"  # a comment stays as it is
        with open(target, "w") as handle:
            json.dump(record, handle, indent=2 if pretty else None)
        return self.http.get(target, timeout=5)


def build(folder):
    store = Store(folder)
    return store.save({"id": 1}, pretty=True)
'''


def test_renamer_renames_what_the_file_defines_and_keeps_its_api() -> None:
    renamed = rename(SAMPLE, seed=3)
    for defined in ("Store", "folder", "record", "pretty", "target", "handle", "label", "build", "store", "save"):
        assert defined in renamed.names, defined
        assert f"{defined}" not in renamed.text.replace("Session", "").replace("records.json", ""), defined
    # Imports, library attributes, external keywords, settings-free literals and dunders stay.
    for kept in (
        "json.dump",
        "osp.join" if "osp" not in renamed.names else "",
        "Session()",
        ".get(",
        "timeout=5",
        "indent=2",
        '"records.json"',
        '"w"',
        "__init__",
        "# a comment stays as it is",
        '{"id": 1}',
    ):
        assert kept in renamed.text, kept
    # Free text: the docstring, and a string held in a variable that goes nowhere else; not
    # the string that a library call receives ('records.json', 'w').
    assert "Keeps records" not in renamed.text and '"draft copy"' not in renamed.text
    assert renamed.text.count("\n") == SAMPLE.count("\n")


def test_renamer_keeps_each_statement_on_its_line_and_is_seeded() -> None:
    import ast

    text = (FIXTURES / "SCR402.py").read_text()
    first, again, other = rename(text, 1), rename(text, 1), rename(text, 2)
    assert first.text == again.text and first.text != other.text
    before = [(type(n).__name__, getattr(n, "lineno", 0)) for n in ast.walk(ast.parse(text))]
    after = [(type(n).__name__, getattr(n, "lineno", 0)) for n in ast.walk(ast.parse(first.text))]
    assert before == after


def test_the_comparison_fails_when_a_rule_reads_names() -> None:
    """The metamorphic check can fail: SCR401 reads names on purpose, and renaming shows it."""
    text = (FIXTURES / "SCR401.py").read_text()
    assert facts(text, "SCR401.py") != facts(rename(text, 1).text, "SCR401.py")


# Metamorphic: the seed and the rule fixtures -------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_renamed_seed_gets_the_same_review(seed: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = seed_file().read_text()
    renamed = rename(text, seed)
    assert "_resize_and_assert_error" in renamed.names and "no_usage" in renamed.names
    original_copy = tmp_path / "original" / SEED.name
    renamed_copy = tmp_path / "renamed" / SEED.name
    for path, body in ((original_copy, text), (renamed_copy, renamed.text)):
        path.parent.mkdir()
        path.write_text(body)
    _, original = review_json(capsys, "--no-cache", str(original_copy))
    _, review = review_json(capsys, "--no-cache", str(renamed_copy))
    assert review_shape(review) == review_shape(original)
    # What the example review says holds under other names too.
    assert citations(review, "resource-cleanup", "cleanup-checks") == [(64, 81)]
    assert citations(review, "error-handling", "error-assertion") == [(47, 47), (50, 51)]
    assert citations(review, "input-validation", "api-call") == [(38, 38), (43, 43)]
    assert sorted(f["line"] for f in findings(review, "SCR402")) == [55, 56, 59, 62, 67, 68]


def test_enough_fixtures_are_checked_and_every_exclusion_exists() -> None:
    assert len(CHECKED) >= 20
    assert all((FIXTURES / f"{stem}.py").exists() for stem in EXCLUDED)


@pytest.mark.parametrize("fixture", CHECKED, ids=lambda p: p.stem)
def test_renamed_fixture_gets_the_same_findings_and_observations(fixture: Path) -> None:
    text = fixture.read_text()
    renamed = rename(text, zlib.crc32(fixture.stem.encode()))
    assert facts(renamed.text, fixture.name) == facts(text, fixture.name)


# Resource cleanup: structure, not nova's vocabulary ------------------------------------

CLI_USAGE = """\
import unittest

from click.testing import CliRunner

from quota.cli import main


class QuotaUsageTest(unittest.TestCase):
    def test_usage_message_names_quota_release_and_allocations(self):
        runner = CliRunner()
        runner.invoke(main, ["reset"])
        result = runner.invoke(main, ["quota", "--help"])
        self.assertEqual(0, result.exit_code)
        self.assertIn("Usage: quota release [OPTIONS] RESERVATION", result.output)
        self.assertIn("leaked allocations of a provider", result.output)
"""

DELETE_THEN_LIST = """\
import unittest


class VolumeTest(unittest.TestCase):
    def test_volume_is_gone_after_delete(self):
        volume = self.client.create_volume(size=1)
        self.client.delete_volume(volume["id"])
        # Read the list back: the volume must be gone.
        remaining = self.client.list_volumes()
        self.assertEqual([], remaining)

    def test_volume_is_renamed(self):
        volume = self.client.create_volume(size=1)
        self.client.rename_volume(volume["id"], "two")
        fetched = self.client.show_volume(volume["id"])
        self.assertEqual("two", fetched["name"])
"""


def _cleanup_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> list[tuple[int, int]]:
    path = tmp_path / "tests" / "unit" / "test_case.py"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    _, review = review_json(capsys, "--no-cache", str(path))
    return citations(review, "resource-cleanup", "cleanup-checks")


def test_cli_test_of_a_usage_message_does_not_check_cleanup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Words about quotas, allocations and releases in a help text are not a cleanup check."""
    assert _cleanup_checks(tmp_path, capsys, CLI_USAGE) == []


def test_delete_then_read_back_empty_checks_cleanup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Create, delete, read back, assert empty: a cleanup check in no project's vocabulary.
    The rename in the same file reads back a value that is not empty: not a cleanup check."""
    assert _cleanup_checks(tmp_path, capsys, DELETE_THEN_LIST) == [(8, 10)]


# Error-state assertions -----------------------------------------------------------------

ERROR_CHECKS = """\
import unittest


class ServerTest(unittest.TestCase):
    def test_boot_fails(self):
        server = self.api.boot()
        self.assertEqual("a", server["name"])

    def test_boot_waits_for_the_error(self):
        server = self.api.boot()
        server = self._wait_for_state_change(server, "ERROR")
        self.assertEqual("a", server["name"])

    def test_boot_raises(self):
        self.assertRaises(ValueError, self.api.boot, "bad")
"""


def test_error_assertions_check_an_error_value_whatever_the_test_is_called(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tests" / "unit" / "test_errors.py"
    path.parent.mkdir(parents=True)
    path.write_text(ERROR_CHECKS)
    _, review = review_json(capsys, "--no-cache", str(path))
    # Not line 7 (a test named "fails" that checks no error value); line 12 reads the
    # server the wait for ERROR returned; line 15 expects a raise.
    assert citations(review, "error-handling", "error-assertion") == [(12, 12), (15, 15)]
    assert citations(review, "error-handling", "error-wait") == [(11, 11)]


# Hosts ----------------------------------------------------------------------------------

GRAPH = """\
import socket


def build(graph):
    graph.add_edge("node1", "node2")
    graph.add_node("node3")


def reach(port):
    return socket.create_connection(("node4", port), timeout=5)
"""


def test_bare_words_are_hosts_only_where_a_host_goes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "topology" / "graph.py"
    path.parent.mkdir()
    path.write_text(GRAPH)
    _, review = review_json(capsys, "--no-cache", str(path))
    assert review["files"][0]["kind"] == "production"
    (host,) = findings(review, "SCR402")
    assert host["line"] == 10 and "create_connection" in host["message"]


# Logging --------------------------------------------------------------------------------

LOGGERS = """\
import logging

audit = logging.getLogger("audit")


class Ledger:
    def info(self, text):
        return text


def record(entry):
    audit.info("recorded %s", entry)
    log = Ledger()
    log.info(entry)
"""


def test_a_logger_is_what_a_logger_factory_returned(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "books" / "ledger.py"
    path.parent.mkdir()
    path.write_text(LOGGERS)
    _, review = review_json(capsys, "--no-cache", str(path))
    assert citations(review, "logging", "log-call") == [(12, 12)]
    assert aspect(review, "logging")["status"] in ("clean", "notes")
