"""Run scrutiny the way users do and read its JSON review."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from scrutiny import cli

# The seed is committed as a fixture (its origin: tests/seed/ORIGIN.md); SCRUTINY_SEED
# may name another copy.
SEED = Path(os.environ.get("SCRUTINY_SEED") or Path(__file__).parent / "seed" / "test_bug_1825537.py")


def seed_path() -> Path:
    if not SEED.exists():
        pytest.fail(f"the seed file is missing: {SEED}")
    return SEED


def review_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = cli.main(["review", "--format", "json", "--quiet", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


def review_snippet(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, code: str) -> dict[str, Any]:
    """The JSON review of ``code`` (dedented) written to ``tmp_path / name``."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    _code, data = review_json(capsys, "--no-cache", str(path))
    return data


def severities(data: dict[str, Any], rule_id: str) -> list[tuple[int, str]]:
    """(line, severity) of each finding of ``rule_id``, in line order."""
    return sorted((f["line"], f["severity"]) for f in findings(data, rule_id))


def aspect(review: dict[str, Any], category: str) -> dict[str, Any]:
    return next(a for a in review["aspects"] if a["category"] == category)


def citations(review: dict[str, Any], category: str, role: str) -> list[tuple[int, int]]:
    return sorted(
        (c["start"], c["end"])
        for s in aspect(review, category)["statements"]
        for c in s["citations"]
        if c["role"] == role
    )


def findings(review: dict[str, Any], rule_id: str | None = None) -> list[dict[str, Any]]:
    return [f for f in review["findings"] if rule_id is None or f["rule_id"] == rule_id]


NOVA = "pypi:nova==34.0.0"
# Network tests share one cache in the checkout, so nova is downloaded once per machine.
SHARED_CACHE = Path(__file__).resolve().parents[1] / ".cache" / "scrutiny"


def fetch_nova() -> Any:
    """The nova 34.0.0 sdist through scrutiny's fetcher (sha256 checked), from the shared
    cache; a skip when SCRUTINY_OFFLINE is set and it is not cached."""
    from scrutiny import pypi

    os.environ.setdefault("SCRUTINY_CACHE_DIR", str(SHARED_CACHE))
    try:
        return pypi.fetch(NOVA)
    except pypi.FetchError as exc:
        if os.environ.get("SCRUTINY_OFFLINE"):
            pytest.skip(f"SCRUTINY_OFFLINE is set and the sdist is not cached: {exc}")
        raise
