"""Reads the ``# expect: SCR101`` marks in fixture files, with tokenize."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

EXPECT = re.compile(r"#\s*expect:\s*((?:SCR\d{3}[\s,]*)+)")


def expected_findings(path: Path) -> set[tuple[int, str]]:
    """(line, rule id) pairs marked in the file; unmarked lines must stay clean."""
    expected: set[tuple[int, str]] = set()
    with path.open("rb") as handle:
        tokens = tokenize.tokenize(handle.readline)
        for token in tokens:
            if token.type == tokenize.COMMENT:
                match = EXPECT.search(token.string)
                if match:
                    for rule_id in re.findall(r"SCR\d{3}", match.group(1)):
                        expected.add((token.start[0], rule_id))
    return expected


def expected_from_text(text: str) -> set[tuple[int, str]]:
    expected: set[tuple[int, str]] = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT and (match := EXPECT.search(token.string)):
            expected.update((token.start[0], rid) for rid in re.findall(r"SCR\d{3}", match.group(1)))
    return expected
