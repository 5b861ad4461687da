"""Recall and false alarms on a labelled corpus nobody here tuned scrutiny to.

Run from the repository root with the project's virtualenv:

    .venv/bin/python bench/generalization.py [--corpus DIR] [--source SRC] [--json OUT]

The corpus is half of the Python security query tests of CodeQL (MIT license), with a
``labels.json`` of vulnerable, safe and source lines per file, and its scorer
``score_codeql.py`` beside it. Neither is part of this repository: by default both are read
from ``../shared/corpora/`` next to the checkout; ``--corpus`` names another copy (for
example one placed in the git-ignored bench/cache/). The other half of the corpus is kept
apart by whoever holds it and is scored the same way.

The bench reviews the corpus folder with ``python -m scrutiny review DIR --format json``
(no cache) and prints the scorer's table: per CWE folder the vulnerable lines, how many a
finding of severity low or above overlaps ("found", any CWE) and how many with a CWE of the
label's family ("fam"), the safe-labelled lines and the findings on them. ``--source SRC``
runs the scrutiny package found in SRC (a ``src`` folder of another checkout, such as a
worktree of an earlier commit) to measure before and after a change in one run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess  # noqa: S404  (runs scrutiny with a fixed argument list)
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "codeql-security-dev"


def load_scorer(corpus: Path) -> ModuleType:
    """The corpus's own scorer (score_codeql.py, beside the corpus folder)."""
    path = corpus.parent / "score_codeql.py"
    if not path.is_file():
        raise SystemExit(f"generalization: no scorer at {path}; the corpus comes with score_codeql.py beside it")
    spec = importlib.util.spec_from_file_location("score_codeql", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def review(corpus: Path, source: Path | None, out: Path) -> float:
    """Review the corpus into ``out`` (JSON); the wall time in seconds."""
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source.resolve())
    command = [sys.executable, "-m", "scrutiny", "review", ".", "--no-cache", "-q", "--format", "json", "-o", str(out)]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=corpus, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1) or not out.is_file():  # 1: defects found
        raise SystemExit(f"generalization: scrutiny failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the labelled corpus folder")
    parser.add_argument("--source", type=Path, help="run the scrutiny package of this src folder instead")
    parser.add_argument("--json", type=Path, help="also write the score as JSON here")
    args = parser.parse_args(argv)
    corpus = args.corpus.resolve()
    if not (corpus / "labels.json").is_file():
        raise SystemExit(f"generalization: {corpus} holds no labels.json (see --corpus)")
    scorer = load_scorer(corpus)
    with tempfile.TemporaryDirectory() as scratch:
        findings = Path(scratch) / "review.json"
        elapsed = review(corpus, args.source, findings)
        result = scorer.score(str(corpus), scorer.load_findings(str(findings)))
    scorer.print_table(result)
    totals = result["totals"]
    print(
        f"scrutiny from {args.source or 'this checkout'}: recall(any) {totals['found_any']}/{totals['vulnerable']}"
        f" = {totals['recall_any']:.1%}, recall(family) {totals['found_family']}/{totals['vulnerable']}"
        f" = {totals['recall_family']:.1%}, safe lines flagged {totals['safe_lines_hit']}/{totals['safe']}"
        f" = {totals['safe_lines_flagged_rate']:.1%}; review took {elapsed:.1f} s"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=sorted), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
