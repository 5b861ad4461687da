"""The fixed seed file from the nova 34.0.0 sdist, fetched from PyPI into a git-ignored cache."""

from __future__ import annotations

import pytest

from helpers import NOVA, aspect, citations, fetch_nova, findings, review_json
from scrutiny import pypi
from scrutiny.report.compose import CLEAN_VERDICT

NOVA_SHA256 = "919eef77cda4ce0cc4746a5853b5d9341ebd0ae37bc8b1939eb77d17727c00df"
FIXED_SEED = "nova/tests/functional/regressions/test_bug_1825537.py"

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def nova() -> pypi.Fetched:
    return fetch_nova()


def test_sdist_is_the_published_one(nova: pypi.Fetched) -> None:
    assert nova.filename == "nova-34.0.0.tar.gz"
    assert nova.sha256 == NOVA_SHA256
    assert nova.root.name == "nova-34.0.0"


def test_fixed_seed_is_clean_with_no_disabled_check(nova: pypi.Fetched, capsys: pytest.CaptureFixture[str]) -> None:
    fixed = nova.root / FIXED_SEED
    code, review = review_json(capsys, str(fixed))
    assert review["files"][0]["lines"] == 74
    assert review["files"][0]["kind"] == "test"
    assert code == 0
    assert review["verdict"]["text"] == CLEAN_VERDICT
    assert findings(review, "SCR603") == []
    assert citations(review, "disabled-checks", "known-bug") == []
    assert aspect(review, "disabled-checks")["status"] == "clean"
    assert {f["severity"] for f in review["findings"]} <= {"info"}


def test_whole_nova_tree_is_reviewed_without_errors(nova: pypi.Fetched, capsys: pytest.CaptureFixture[str]) -> None:
    code, review = review_json(capsys, NOVA)
    assert review["inputs"] == [
        {"target": NOVA, "kind": "pypi", "archive": "nova-34.0.0.tar.gz", "sha256": NOVA_SHA256}
    ]
    assert review["summary"]["files_reviewed"] == 1518
    assert review["errors"] == []
    assert all(f["path"].startswith("nova-34.0.0/") for f in review["findings"])
    assert code in (0, 1)
