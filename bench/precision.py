"""Findings of scrutiny and Bandit on real code, by severity and file kind, with a sample to judge.

Run from the repository root with the project's virtualenv:

    .venv/bin/python bench/precision.py [--sample 30] [--seed 4] [--lost]

Fetches the nova 34.0.0 and Django 5.1.4 sdists (pinned, so figures compare across runs) from PyPI into the git-ignored
bench/cache/ (scrutiny's own sdist fetcher: PEP 691 JSON API, sha256 checked), runs
scrutiny (``--format json``) and Bandit 1.9.4 (``-f json``, from the bench-only
virtualenv that bench/bandit_agreement.py creates) on each tree, and prints:

- counts by severity for both tools, split by scrutiny's file-kind classification
  (production, test, other = script/migration/example/docs); Bandit's findings are
  placed by the kind scrutiny gave their file, so both tools are split the same way;
- a seeded random sample of scrutiny's high and medium findings (file:line, rule,
  message), to be judged by reading the code (bench/PRECISION.md holds the verdicts);
- with ``--lost``: Bandit's high/medium findings in production code on lines where
  scrutiny reports nothing, by Bandit test id, to check that no real finding is lost.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess  # noqa: S404  (runs Bandit and scrutiny with fixed argument lists)
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / "cache"
TREES = ("nova==34.0.0", "django==5.1.4")
SEVERITIES = ("high", "medium", "low", "info")
PRODUCTION_KINDS = ("production",)
TEST_KINDS = ("test",)

sys.path.insert(0, str(ROOT / "bench"))
from bandit_agreement import bandit_executable  # noqa: E402


def fetch(spec: str) -> tuple[str, Path]:
    os.environ["SCRUTINY_CACHE_DIR"] = str(CACHE / "sdists")
    sys.path.insert(0, str(ROOT / "src"))
    from scrutiny import pypi

    fetched = pypi.fetch(f"pypi:{spec}")
    return f"{fetched.name}-{fetched.version}", fetched.root


def run_scrutiny(label: str, root: Path) -> dict[str, object]:
    output = CACHE / f"precision-scrutiny-{label}.json"
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "scrutiny", "review", "-q", "--format", "json", "-o", str(output), str(root)],
        check=False,
        cwd=ROOT,
    )
    data: dict[str, object] = json.loads(output.read_text())
    return data


def run_bandit(label: str, root: Path) -> list[dict[str, object]]:
    output = CACHE / f"precision-bandit-{label}.json"
    if not output.exists():
        subprocess.run(  # noqa: S603
            [str(bandit_executable()), "-r", "-q", "-f", "json", "-o", str(output), str(root)],
            check=False,
        )
    results: list[dict[str, object]] = json.loads(output.read_text())["results"]
    return results


def kind_group(kind: str) -> str:
    if kind in PRODUCTION_KINDS:
        return "production"
    if kind in TEST_KINDS:
        return "test"
    return "other"


def relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return path


def report(spec: str, sample_size: int, seed: int, lost: bool) -> None:
    label, root = fetch(spec)
    review = run_scrutiny(label, root)
    bandit = run_bandit(label, root)
    files = review["files"]
    assert isinstance(files, list)
    kinds = {relative(str(f["path"]), root): str(f.get("kind", "production")) for f in files}
    findings = review["findings"]
    assert isinstance(findings, list)

    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    scrutiny_lines: set[tuple[str, int]] = set()
    for f in findings:
        path = relative(str(f["path"]), root)
        group = kind_group(kinds.get(path, "production"))
        counts[("scrutiny", group)][str(f["severity"])] += 1
        scrutiny_lines.update((path, line) for line in range(int(f["line"]), int(f["end_line"]) + 1))
    for r in bandit:
        path = relative(str(r["filename"]), root)
        group = kind_group(kinds.get(path, "production"))
        counts[("bandit", group)][str(r["issue_severity"]).lower()] += 1

    print(f"\n## {label}: {len(kinds)} files reviewed by scrutiny, {len(bandit)} Bandit findings\n")
    print("| tool | code | high | medium | low | info | high+medium |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for tool in ("scrutiny", "bandit"):
        for group in ("production", "test", "other"):
            c = counts[(tool, group)]
            cells = " | ".join(str(c[s]) if s != "info" or tool == "scrutiny" else "-" for s in SEVERITIES)
            print(f"| {tool} | {group} | {cells} | {c['high'] + c['medium']} |")

    serious = [f for f in findings if f["severity"] in ("high", "medium")]
    serious.sort(key=lambda f: (str(f["path"]), int(f["line"]), str(f["rule_id"])))
    picked = random.Random(seed).sample(serious, min(sample_size, len(serious)))  # noqa: S311  (reproducible sample)
    print(f"\nSample of {len(picked)} of {len(serious)} high/medium scrutiny findings (seed {seed}):\n")
    for n, f in enumerate(sorted(picked, key=lambda f: (str(f["path"]), int(f["line"]))), 1):
        path = relative(str(f["path"]), root)
        print(f"{n:2}. {path}:{f['line']} {f['rule_id']} {f['severity']} [{kind_group(kinds.get(path, ''))}] "
              f"{f['message']}")  # fmt: skip

    if lost:
        missed: dict[str, list[str]] = defaultdict(list)
        for r in bandit:
            path = relative(str(r["filename"]), root)
            if kind_group(kinds.get(path, "production")) != "production":
                continue
            if str(r["issue_severity"]).lower() not in ("high", "medium"):
                continue
            if (path, int(r["line_number"])) not in scrutiny_lines:
                missed[str(r["test_id"])].append(f"{path}:{r['line_number']}")
        total = sum(len(v) for v in missed.values())
        print(f"\nBandit high/medium production findings on lines scrutiny does not report: {total}")
        for test_id, where in sorted(missed.items()):
            print(f"  {test_id} {len(where)}: {', '.join(where)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sample", type=int, default=30, help="findings sampled per tree (default 30)")
    parser.add_argument("--seed", type=int, default=4, help="random seed of the sample (default 4)")
    parser.add_argument("--lost", action="store_true", help="list Bandit's production high/medium findings missed")
    args = parser.parse_args()
    for spec in TREES:
        report(spec, args.sample, args.seed, args.lost)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
