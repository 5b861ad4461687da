"""Precision of scrutiny's high and medium findings on code nobody here tuned on.

Run from the repository root with the project's virtualenv. Three steps:

    .venv/bin/python bench/precision.py sheet first     # review, sample, write the judging sheet
    (read the code at every sampled line; fill in verdict and reason in the sheet)
    .venv/bin/python bench/precision.py score first     # figures from the judged sheet
    .venv/bin/python bench/precision.py counts          # nova and Django, scrutiny and Bandit side by side

``sheet SET`` fetches the pinned sdists of SET (bench/precision/sets.toml) from PyPI into
the git-ignored bench/cache/ with scrutiny's own fetcher (sha256 checked, nothing built
or run), reviews each tree (``--format json``), pools the high and medium findings of all
trees and draws a random sample with the set's fixed seed. It writes
bench/precision/SET.csv, one row per sampled finding with empty ``verdict`` and
``reason`` columns, and never overwrites a sheet that already holds verdicts.

Verdicts are ``tp`` (a defect a maintainer would agree to fix), ``deliberate`` (a risky
pattern used on purpose: documented, opt-in or the point of the code) and ``fp`` (not
a defect: a misreading of the code). The judged sheet is data in the repository.

``score SET`` prints the figures from the judged sheet: true, true or deliberate, by
rule. It also reviews the trees again with the current code and says, per verdict, how
many of the judged findings are still reported, so a fix by class shows what it removed
(false findings) and what it kept (true ones).

``counts`` is the older side-by-side table of scrutiny and Bandit on nova 34.0.0 and
Django 5.1.4, by severity and by the kind of file scrutiny gives each path.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess  # noqa: S404  (runs Bandit and scrutiny with fixed argument lists)
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / "cache"
SHEETS = ROOT / "bench" / "precision"
COUNT_TREES = ("nova==34.0.0", "django==5.1.4")
SEVERITIES = ("high", "medium", "low", "info")
SERIOUS = ("high", "medium")
VERDICTS = ("tp", "deliberate", "fp")
COLUMNS = ("n", "package", "path", "line", "rule", "severity", "kind", "verdict", "reason", "message")


def fetch(spec: str) -> tuple[str, Path]:
    os.environ["SCRUTINY_CACHE_DIR"] = str(CACHE / "sdists")
    sys.path.insert(0, str(ROOT / "src"))
    from scrutiny import pypi

    fetched = pypi.fetch(f"pypi:{spec}")
    return f"{fetched.name}-{fetched.version}", fetched.root


def review(label: str, root: Path, *, source: Path | None = None) -> dict[str, object]:
    """Review ROOT with this checkout's scrutiny (or the one under SOURCE) into a cached JSON file."""
    tag = "" if source is None else "-" + source.resolve().parent.name
    output = CACHE / f"precision-scrutiny-{label}{tag}.json"
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source)
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "scrutiny", "review", "-q", "--no-cache", "--format", "json", "-o", str(output),
         str(root)],
        check=False,
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    data: dict[str, object] = json.loads(output.read_text())
    return data


def relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return path


def serious_findings(spec: str, *, source: Path | None = None) -> list[dict[str, str]]:
    """High and medium findings of one tree as sheet rows (without verdicts), in a stable order."""
    label, root = fetch(spec)
    data = review(label, root, source=source)
    kinds = {relative(str(f["path"]), root): str(f.get("kind", "")) for f in data["files"]}  # type: ignore[attr-defined]
    rows = []
    for f in data["findings"]:  # type: ignore[attr-defined]
        if f["severity"] not in SERIOUS:
            continue
        path = relative(str(f["path"]), root)
        rows.append({
            "package": spec, "path": path, "line": str(f["line"]), "rule": str(f["rule_id"]),
            "severity": str(f["severity"]), "kind": kinds.get(path, ""), "verdict": "", "reason": "",
            "message": " ".join(str(f["message"]).split()),
        })  # fmt: skip
    rows.sort(key=lambda r: (r["path"], int(r["line"]), r["rule"], r["message"]))
    return rows


def load_set(name: str) -> dict[str, object]:
    sets = tomllib.loads((SHEETS / "sets.toml").read_text())
    if name not in sets:
        raise SystemExit(f"no set {name!r} in bench/precision/sets.toml (have: {', '.join(sets)})")
    chosen: dict[str, object] = sets[name]
    return chosen


def read_sheet(name: str) -> list[dict[str, str]]:
    path = SHEETS / f"{name}.csv"
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def write_sheet(name: str, rows: list[dict[str, str]]) -> Path:
    path = SHEETS / f"{name}.csv"
    partial = path.with_suffix(".csv.partial")
    with partial.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    partial.replace(path)
    return path


def make_sheet(name: str, force: bool) -> int:
    chosen = load_set(name)
    existing = read_sheet(name)
    if any(r.get("verdict") for r in existing) and not force:
        print(f"bench/precision/{name}.csv already holds verdicts; use --force to draw a new sample", file=sys.stderr)
        return 2
    population: list[dict[str, str]] = []
    for spec in chosen["packages"]:  # type: ignore[attr-defined]
        rows = serious_findings(str(spec))
        print(f"{spec}: {len(rows)} high/medium findings", file=sys.stderr)
        population.extend(rows)
    size = min(int(chosen["size"]), len(population))  # type: ignore[call-overload]
    picked = random.Random(int(chosen["seed"])).sample(population, size)  # type: ignore[call-overload]  # noqa: S311
    picked.sort(key=lambda r: (r["package"], r["path"], int(r["line"])))
    for n, row in enumerate(picked, 1):
        row["n"] = str(n)
    path = write_sheet(name, picked)
    print(f"{len(population)} high/medium findings in {len(chosen['packages'])} trees; "  # type: ignore[arg-type]
          f"sampled {size} with seed {chosen['seed']} into {path.relative_to(ROOT)}")  # fmt: skip
    return 0


def figures(rows: list[dict[str, str]]) -> str:
    verdicts = Counter(r["verdict"] for r in rows)
    total = len(rows)
    if not total:
        return "no findings"
    tp, deliberate, fp = verdicts["tp"], verdicts["deliberate"], verdicts["fp"]
    return (f"{total} judged: {tp} true, {deliberate} deliberate, {fp} false; "
            f"precision {tp / total:.0%} true, {(tp + deliberate) / total:.0%} true or deliberate")  # fmt: skip


def score(name: str, source: Path | None, rescan: bool) -> int:
    rows = read_sheet(name)
    unjudged = [r["n"] for r in rows if r.get("verdict") not in VERDICTS]
    if not rows or unjudged:
        print(f"bench/precision/{name}.csv: {len(unjudged)} of {len(rows)} rows lack a verdict "
              f"(tp, deliberate or fp): {', '.join(unjudged[:10])}", file=sys.stderr)  # fmt: skip
        return 2
    print(f"## set {name}: {figures(rows)}\n")
    by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        by_rule[r["rule"]][r["verdict"]] += 1
    print("| rule | tp | deliberate | fp |\n| --- | --- | --- | --- |")
    for rule, c in sorted(by_rule.items(), key=lambda item: (-item[1]["fp"], item[0])):
        print(f"| {rule} | {c['tp']} | {c['deliberate']} | {c['fp']} |")
    if not rescan:
        return 0
    now: set[tuple[str, str, str, str]] = set()
    for spec in sorted({r["package"] for r in rows}):
        now.update((r["package"], r["path"], r["line"], r["rule"]) for r in serious_findings(spec, source=source))
    kept = [r for r in rows if (r["package"], r["path"], r["line"], r["rule"]) in now]
    print("\nStill reported at high or medium by the current code:\n")
    print("| verdict | judged | still reported |\n| --- | --- | --- |")
    for verdict in VERDICTS:
        print(f"| {verdict} | {sum(r['verdict'] == verdict for r in rows)} | "
              f"{sum(r['verdict'] == verdict for r in kept)} |")  # fmt: skip
    print(f"\nThe judged sample as the current code reports it: {figures(kept)}")
    return 0


# --- counts: scrutiny and Bandit on nova and Django ------------------------------------------


def run_bandit(label: str, root: Path) -> list[dict[str, object]]:
    sys.path.insert(0, str(ROOT / "bench"))
    from bandit_agreement import bandit_executable

    output = CACHE / f"precision-bandit-{label}.json"
    if not output.exists():
        subprocess.run(  # noqa: S603
            [str(bandit_executable()), "-r", "-q", "-f", "json", "-o", str(output), str(root)],
            check=False,
        )
    results: list[dict[str, object]] = json.loads(output.read_text())["results"]
    return results


def kind_group(kind: str) -> str:
    return kind if kind in ("production", "test") else "other"


def counts(spec: str, with_bandit: bool) -> None:
    label, root = fetch(spec)
    data = review(label, root)
    kinds = {relative(str(f["path"]), root): str(f.get("kind", "production")) for f in data["files"]}  # type: ignore[attr-defined]
    table: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for f in data["findings"]:  # type: ignore[attr-defined]
        group = kind_group(kinds.get(relative(str(f["path"]), root), "production"))
        table[("scrutiny", group)][str(f["severity"])] += 1
    tools = ["scrutiny"]
    if with_bandit:
        tools.append("bandit")
        for r in run_bandit(label, root):
            group = kind_group(kinds.get(relative(str(r["filename"]), root), "production"))
            table[("bandit", group)][str(r["issue_severity"]).lower()] += 1
    print(f"\n## {label}: {len(kinds)} files\n")
    print("| tool | code | high | medium | low | info | high+medium |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for tool in tools:
        for group in ("production", "test", "other"):
            c = table[(tool, group)]
            cells = " | ".join(str(c[s]) if s != "info" or tool == "scrutiny" else "-" for s in SEVERITIES)
            print(f"| {tool} | {group} | {cells} | {c['high'] + c['medium']} |")
    print("\nscrutiny's high and medium findings:\n")
    for row in serious_findings(spec):
        print(f"- {row['path']}:{row['line']} {row['rule']} {row['severity']} [{row['kind']}] {row['message']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sheet_cmd = commands.add_parser("sheet", help="review a set's trees and write its judging sheet")
    sheet_cmd.add_argument("set", help="a set of bench/precision/sets.toml")
    sheet_cmd.add_argument("--force", action="store_true", help="draw a new sample over a judged sheet")
    score_cmd = commands.add_parser("score", help="figures from a judged sheet")
    score_cmd.add_argument("set", help="a set of bench/precision/sets.toml")
    score_cmd.add_argument("--no-rescan", action="store_true", help="do not review the trees again")
    score_cmd.add_argument("--source", type=Path, help="review with the scrutiny package under SOURCE (a src/ dir)")
    counts_cmd = commands.add_parser("counts", help="nova and Django by severity and file kind")
    counts_cmd.add_argument("--bandit", action="store_true", help="add Bandit 1.9.4 side by side")
    args = parser.parse_args()
    if args.command == "sheet":
        return make_sheet(args.set, args.force)
    if args.command == "score":
        return score(args.set, args.source, not args.no_rescan)
    for spec in COUNT_TREES:
        counts(spec, args.bandit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
