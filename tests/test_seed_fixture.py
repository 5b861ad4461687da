"""The seed file is committed with the tests, so they run from a plain clone."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import helpers

ROOT = Path(__file__).resolve().parents[1]
SEED_DIR = ROOT / "tests" / "seed"


def test_the_committed_seed_is_the_file_its_origin_note_names() -> None:
    note = (SEED_DIR / "ORIGIN.md").read_text(encoding="utf-8")
    digest = re.search(r"sha256: ([0-9a-f]{64})", note)
    assert digest is not None
    data = (SEED_DIR / "test_bug_1825537.py").read_bytes()
    assert hashlib.sha256(data).hexdigest() == digest.group(1)
    assert "f4bb67210602914e1b9a678419cf22cfbeaf1431" in note
    lines = data.decode("utf-8").splitlines()
    assert "Apache License, Version 2.0" in lines[0]
    assert lines[74].strip() == "# self.assertFlavorMatchesAllocation("


def test_helpers_default_to_the_committed_seed() -> None:
    # Run in a fresh interpreter without SCRUTINY_SEED, as in a plain clone.
    env = {key: value for key, value in os.environ.items() if key != "SCRUTINY_SEED"}
    shown = subprocess.run(
        [sys.executable, "-c", "import helpers; print(helpers.SEED)"],
        cwd=ROOT / "tests", env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert Path(shown.stdout.strip()) == SEED_DIR / "test_bug_1825537.py"
    assert helpers.seed_path().is_file()


def test_no_test_or_benchmark_reads_the_shared_folder_beside_the_checkout() -> None:
    # bench/generalization.py reads a labelled corpus from ../shared/corpora by design (and
    # takes --corpus); no test may.
    offenders = [
        path.relative_to(ROOT)
        for path in sorted((ROOT / "tests").glob("*.py"))
        if re.search(r"""["']shared["']|\.\./shared""", path.read_text(encoding="utf-8"))
        and path.name != Path(__file__).name
    ]
    assert offenders == []


def test_pytest_does_not_collect_the_fixtures() -> None:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only"]
    listed = subprocess.run([*command, "tests/seed", "tests/fixtures"], cwd=ROOT, capture_output=True, text=True)
    assert "test_bug_1825537" not in listed.stdout
    assert listed.returncode == 5, listed.stdout  # 5: no test collected
