"""Time scrutiny against its peers and the parse floor on pinned sdists; write bench/RESULTS.md.

Run from the repository root with the project's virtualenv (one command does everything):

    .venv/bin/python bench/run.py [--runs 3] [--trees nova,django,sympy]

It installs the pinned peers (Bandit, Ruff) with pip into a bench-only virtualenv under
the git-ignored bench/cache/, fetches the pinned sdists with scrutiny's own fetcher
(sha256 checked, never built) into bench/cache/sdists/, then for every tree times, in
this one run, round by round (each command once per round, so load changes on a shared
machine fall on every command alike): scrutiny cold (empty result cache, one process per
core), warm (unchanged tree, cache filled), ``--jobs 1 --no-cache``, a one-file review (the tree's median-sized
file, ``--no-cache``), Bandit, Ruff's S rules, and the floor (read + ast.parse, and read +
parse + ast.walk, on one core). Each command runs inside a small wrapper process, so
``getrusage(RUSAGE_CHILDREN)`` of that wrapper gives the command's own CPU time and peak
RSS (the largest single process, workers included).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import statistics
import subprocess  # noqa: S404  (runs pip, the peers and scrutiny with fixed argument lists)
import sys
import tempfile
import time
import venv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CACHE = BENCH / "cache"
PEERS = ("bandit==1.9.4", "ruff==0.17.6")
TREES = {"nova": "34.0.0", "django": "5.1.4", "sympy": "1.13.3"}
MEASURE = """\
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps([code, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss]))
"""


@dataclass
class Row:
    name: str
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    rss_kib: int = 0
    codes: set[int] = field(default_factory=set)

    @property
    def median(self) -> float:
        return statistics.median(self.walls)


def peers_venv() -> Path:
    """A bench-only virtualenv with the pinned peers; reinstalled when the pins change."""
    home = CACHE / "peers-venv"
    marker = home / "pins.txt"
    if marker.exists() and marker.read_text() == "\n".join(PEERS):
        return home
    shutil.rmtree(home, ignore_errors=True)
    venv.create(home, with_pip=True)
    subprocess.run([str(home / "bin" / "python"), "-m", "pip", "install", "-q", *PEERS], check=True)  # noqa: S603
    marker.write_text("\n".join(PEERS))
    return home


def fetch(name: str, version: str) -> Path:
    os.environ["SCRUTINY_CACHE_DIR"] = str(CACHE / "sdists")
    from scrutiny import pypi

    fetched = pypi.fetch(f"pypi:{name}=={version}")
    print(f"bench: {name}=={version}: {fetched.filename}, sha256 {fetched.sha256}", file=sys.stderr)
    return fetched.root


def measure(command: list[str], env: dict[str, str] | None = None) -> tuple[int, float, float, int]:
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", MEASURE, *command], env=env, capture_output=True, text=True, check=True
    ).stdout
    code, wall, cpu, rss = json.loads(out)
    return int(code), float(wall), float(cpu), int(rss)


def timed(plan: list[tuple[Row, list[str], Callable[[], None]]], runs: int, env: dict[str, str]) -> list[Row]:
    """Run every command once per round, ``runs`` rounds: a change in the machine's load
    during the run then falls on every command alike, not on whichever ran at that time."""
    for round_number in range(runs):
        for row, command, before in plan:
            before()
            code, wall, cpu, rss = measure(command, env)
            row.walls.append(wall)
            row.cpus.append(cpu)
            row.rss_kib = max(row.rss_kib, rss)
            row.codes.add(code)
            print(f"bench:   round {round_number + 1}: {row.name}: {wall:.2f} s", file=sys.stderr)
    return [row for row, _, _ in plan]


def median_file(tree: Path) -> Path:
    from scrutiny.discover import discover

    items, _ = discover([str(tree)])
    paths = sorted((item.path.stat().st_size, str(item.path)) for item in items if item.path is not None)
    return Path(paths[len(paths) // 2][1])


def bench_tree(name: str, version: str, runs: int, peers: Path, work: Path) -> dict[str, object]:
    tree = fetch(name, version)
    results = work / name
    results.mkdir()
    cache_home = work / f"{name}-cache"
    env = dict(os.environ, SCRUTINY_CACHE_DIR=str(cache_home))
    scrutiny = [sys.executable, "-m", "scrutiny", "review", "-q", "--format", "json"]

    def empty_cache() -> None:
        shutil.rmtree(cache_home, ignore_errors=True)

    def nothing() -> None:
        pass

    outputs = {key: results / f"{key}.json" for key in ("cold", "warm", "serial")}
    one = median_file(tree)
    bandit = [str(peers / "bin" / "bandit"), "-r", "-q", "-f", "json", "-o", str(results / "bandit.json"), str(tree)]
    ruff = [str(peers / "bin" / "ruff"), "check", "--isolated", "--select", "S", "--no-cache", "--exit-zero"]
    floor = [sys.executable, str(BENCH / "floor.py")]
    serial = [*scrutiny, "--jobs", "1", "--no-cache", "-o", str(outputs["serial"]), str(tree)]
    plan = [
        (Row("scrutiny cold"), [*scrutiny, "-o", str(outputs["cold"]), str(tree)], empty_cache),
        (Row("scrutiny warm"), [*scrutiny, "-o", str(outputs["warm"]), str(tree)], nothing),
        (Row("scrutiny --jobs 1"), serial, nothing),
        (Row("scrutiny one file"), [*scrutiny, "--no-cache", str(one)], nothing),
        (Row("bandit -r -q -f json"), bandit, nothing),
        (Row("ruff check --select S"), [*ruff, "--output-format", "json", str(tree)], nothing),
        (Row("floor: read + parse"), [*floor, "parse", str(tree)], nothing),
        (Row("floor: read + parse + walk"), [*floor, "walk", str(tree)], nothing),
    ]
    rows = timed(plan, runs, env)
    review = json.loads(outputs["cold"].read_text())
    texts = {key: path.read_bytes() for key, path in outputs.items()}
    return {
        "name": f"{name} {version}",
        "files": review["summary"]["files_reviewed"] + review["summary"]["files_failed"],
        "failed": review["summary"]["files_failed"],
        "lines": review["summary"]["lines"],
        "one_file": str(one.relative_to(tree)),
        "identical": texts["cold"] == texts["warm"] == texts["serial"],
        "rows": rows,
    }


def table(result: dict[str, object]) -> list[str]:
    rows: list[Row] = result["rows"]  # type: ignore[assignment]
    lines_total = int(result["lines"])  # type: ignore[call-overload]
    base = rows[0].median
    out = [
        f"### {result['name']}: {result['files']:,} files ({result['failed']} not reviewable), {lines_total:,} lines",
        "",
        f"One-file review: `{result['one_file']}` (the median-sized file). "
        f"Output identical for cold, warm and `--jobs 1`: {'yes' if result['identical'] else 'NO'}.",
        "",
        "| command | wall min s | wall median s | wall max s | CPU s (median) | max RSS MiB | lines/s "
        "| x scrutiny cold |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        rate = "" if row.name == "scrutiny one file" else f"{lines_total / row.median:,.0f}"
        out.append(
            f"| {row.name} | {min(row.walls):.2f} | {row.median:.2f} | {max(row.walls):.2f} | "
            f"{statistics.median(row.cpus):.2f} | {row.rss_kib / 1024:.0f} | {rate} | {row.median / base:.2f} |"
        )
    by = {row.name: row for row in rows}
    cold = by["scrutiny cold"]
    checks = [
        ("cold <= 0.25 x Bandit", cold.median / by["bandit -r -q -f json"].median, 0.25),
        ("cold <= 2 x parse-and-walk floor", cold.median / by["floor: read + parse + walk"].median, 2.0),
        ("warm < Ruff cold (ratio)", by["scrutiny warm"].median / by["ruff check --select S"].median, 1.0),
        ("one-file review < 0.3 s", by["scrutiny one file"].median, 0.3),
        ("max RSS < 1024 MiB", max(r.rss_kib for r in rows if r.name.startswith("scrutiny")) / 1024, 1024),
    ]
    out += ["", "| target | measured | limit | met |", "|---|---:|---:|---|"]
    for label, value, limit in checks:
        met = value < limit if "<" in label and "<=" not in label else value <= limit
        out.append(f"| {label} | {value:.2f} | {limit:g} | {'yes' if met else 'no'} |")
    return out + [""]


def report(results: list[dict[str, object]], command: str, started: str, runs: int, loads: list[str]) -> str:
    per_line = [
        (r["name"], r["lines"], r["rows"][2].median / int(r["lines"]) * 1e6)  # type: ignore[index, call-overload]
        for r in results
    ]
    git = ["git", "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, cwd=REPO, capture_output=True, text=True).stdout  # noqa: S603, S607  (fixed command)
    out = [
        "# Benchmark results",
        "",
        f"Made by `{command}` on {started} at commit {commit.strip() or 'unknown'}: {os.cpu_count()} cores, "
        f"{platform.platform()}, Python {platform.python_version()}, {', '.join(PEERS)}, {runs} runs per command.",
        f"Load average (1 min) before each tree and at the end: {' / '.join(loads)}. Other work on the machine "
        "makes absolute figures noisy; the ratios within one tree were measured side by side.",
        "",
        "Ratios are median wall time over scrutiny cold's median wall time. CPU is user + system of the",
        "command and every process it waited for; max RSS is the largest single process. scrutiny's",
        "modules are byte-compiled first, as a regular install does.",
        "",
    ]
    for result in results:
        out += table(result)
    out += ["### Time per line (`--jobs 1`, one core)", "", "| tree | lines | us per line |", "|---|---:|---:|"]
    out += [f"| {name} | {lines:,} | {rate:.1f} |" for name, lines, rate in per_line]
    if len(per_line) > 1:
        smallest, largest = min(per_line, key=lambda p: p[1]), max(per_line, key=lambda p: p[1])
        slope = (largest[2] - smallest[2]) / smallest[2] * 100
        out += ["", f"From the smallest to the largest tree the time per line changes by {slope:+.0f}%."]
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--trees", default=",".join(TREES))
    args = parser.parse_args()
    names = [n.strip() for n in args.trees.split(",") if n.strip()]
    CACHE.mkdir(exist_ok=True)
    peers = peers_venv()
    # A regular install (pip install .) byte-compiles the package; an editable checkout run with
    # PYTHONDONTWRITEBYTECODE would otherwise recompile every module on every start.
    compileall.compile_dir(REPO / "src" / "scrutiny", quiet=1)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    command = "python bench/run.py" + (f" --runs {args.runs}" if args.runs != 3 else "")
    command += f" --trees {args.trees}" if names != list(TREES) else ""
    results: list[dict[str, object]] = []
    loads: list[str] = []
    with tempfile.TemporaryDirectory(prefix="scrutiny-bench-") as work:
        for name in names:
            loads.append(f"{os.getloadavg()[0]:.1f}")
            results.append(bench_tree(name, TREES[name], args.runs, peers, Path(work)))
            # Written after every tree, so a long run interrupted late still leaves its figures.
            text = report(results, command, started, args.runs, [*loads, f"{os.getloadavg()[0]:.1f}"])
            (BENCH / "RESULTS.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
