"""Line-level agreement between Bandit and scrutiny on Bandit's own examples/ corpus.

Run from the repository root with the project's virtualenv:

    .venv/bin/python bench/bandit_agreement.py [--details]

The Bandit sdist (pinned below) is fetched from PyPI into the git-ignored bench/cache/
with scrutiny's own sdist fetcher (sha256 checked, unpacked with the tarfile data
filter); Bandit itself is installed with pip into a bench-only virtualenv under
bench/cache/. Nothing here is part of the test suite or of scrutiny's dependencies.

A Bandit finding counts as shared when scrutiny reports, in the same file, a finding
whose line range covers Bandit's line and whose rule lists that Bandit test id among its
equivalents (the ``bandit`` tuple on the rule class). scrutiny findings hidden by the
file-kind policy (every file here is example code) still count as found: they are in the
JSON review's ``suppressed`` list with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess  # noqa: S404  (runs pip, Bandit and scrutiny with fixed argument lists)
import sys
import venv
from collections import Counter, defaultdict
from pathlib import Path

BANDIT_VERSION = "1.9.4"
ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / "cache"
TARGET = 0.95
# Why scrutiny leaves out the Bandit findings of these test ids on purpose; the full
# reasons are the "narrower" rows of docs/peer-parity.md.
DELIBERATE = {
    "B103": "group bits and o+x/o+r are not world-writable",
    "B105": "placeholder values (the name itself, 'secret', 'pass', '', prose)",
    "B202": "a members= filter function counts as the check",
    "B308": "mark_safe on a literal",
    "B324": "crypt.METHOD_BLOWFISH (bcrypt) is not weak",
    "B404": "relative import of a local module that happens to be named subprocess",
    "B502": "SSLv23_METHOD negotiates the best version",
    "B503": "SSLv23_METHOD negotiates the best version",
    "B601": "fixed command string",
    "B603": "no program (an empty argument list)",
    "B701": "autoescape= chosen at run time",
    "B704": "Markup(bleach.clean(...)): sanitised",
}


def fetch_sdist() -> Path:
    """Unpacked Bandit sdist; reuses scrutiny's checked, filter-unpacking fetcher."""
    os.environ["SCRUTINY_CACHE_DIR"] = str(CACHE / "sdists")
    sys.path.insert(0, str(ROOT / "src"))
    from scrutiny import pypi

    fetched = pypi.fetch(f"pypi:bandit=={BANDIT_VERSION}")
    return fetched.root


def bandit_executable() -> Path:
    env = CACHE / f"bandit-{BANDIT_VERSION}-venv"
    exe = env / "bin" / "bandit"
    if not exe.exists():
        venv.create(env, with_pip=True)
        subprocess.run(  # noqa: S603
            [str(env / "bin" / "python"), "-m", "pip", "install", "-q", f"bandit=={BANDIT_VERSION}"], check=True
        )
    return exe


def run_bandit(exe: Path, examples: Path) -> list[tuple[str, int, str]]:
    out = subprocess.run(  # noqa: S603
        [str(exe), "-r", "-q", "-f", "json", str(examples)], capture_output=True, text=True, check=False
    )
    data = json.loads(out.stdout)
    return [(Path(r["filename"]).name, int(r["line_number"]), r["test_id"]) for r in data["results"]]


def run_scrutiny(examples: Path) -> list[tuple[str, int, int, str]]:
    output = CACHE / "scrutiny-examples.json"
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "scrutiny", "review", "-q", "--format", "json", "-o", str(output), str(examples)],
        check=False,
        cwd=ROOT,
    )
    data = json.loads(output.read_text())
    found = [*data["findings"], *data["suppressed"]]
    return [(Path(f["path"]).name, int(f["line"]), int(f["end_line"]), f["rule_id"]) for f in found]


def rule_equivalents() -> dict[str, set[str]]:
    from scrutiny.rules import registered

    return {rule_id: set(cls.bandit) for rule_id, cls in registered().items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--details", action="store_true", help="list every Bandit-only and scrutiny-only finding")
    args = parser.parse_args()

    examples = fetch_sdist() / "examples"
    bandit = run_bandit(bandit_executable(), examples)
    scrutiny = run_scrutiny(examples)
    equivalents = rule_equivalents()

    by_file: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for name, line, end, rule_id in scrutiny:
        by_file[name].append((line, end, rule_id))

    both: list[tuple[str, int, str, str]] = []
    bandit_only: list[tuple[str, int, str]] = []
    matched: set[tuple[str, int, int, str]] = set()
    for name, line, test_id in bandit:
        hits = [
            (start, end, rule_id)
            for start, end, rule_id in by_file[name]
            if start <= line <= end and test_id in equivalents.get(rule_id, ())
        ]
        if hits:
            both.append((name, line, test_id, hits[0][2]))
            matched.update((name, start, end, rule_id) for start, end, rule_id in hits)
        else:
            bandit_only.append((name, line, test_id))
    scrutiny_only = [f for f in scrutiny if f not in matched]

    share = len(both) / len(bandit) if bandit else 1.0
    print(f"Bandit {BANDIT_VERSION} examples/: {len(bandit)} Bandit findings, {len(scrutiny)} scrutiny findings")
    print(f"  both report:    {len(both)}")
    print(f"  Bandit only:    {len(bandit_only)}")
    print(f"  scrutiny only:  {len(scrutiny_only)}")
    print(f"  agreement:      {share:.1%} of Bandit's findings are also reported by scrutiny (target {TARGET:.0%})")
    missed = Counter(test_id for _, _, test_id in bandit_only)
    if missed:
        print("  Bandit-only by test id: " + ", ".join(f"{k} {v}" for k, v in sorted(missed.items())))
        unexplained = sum(v for k, v in missed.items() if k not in DELIBERATE)
        print(f"  Bandit-only not covered by a documented difference: {unexplained}")
        for test_id, count in sorted(missed.items()):
            print(f"    {test_id} {count:3}  {DELIBERATE.get(test_id, 'NOT EXPLAINED')}")
    extra = Counter(rule_id for *_, rule_id in scrutiny_only)
    if extra:
        print("  scrutiny-only by rule:  " + ", ".join(f"{k} {v}" for k, v in sorted(extra.items())))
    if args.details:
        for name, line, test_id in sorted(bandit_only):
            print(f"bandit-only   {name}:{line} {test_id}")
        for name, line, _, rule_id in sorted(scrutiny_only):
            print(f"scrutiny-only {name}:{line} {rule_id}")
    return 0 if share >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
