"""Batch review of a pinned list of popular PyPI packages, with the local pool and with Ray.

    python bench/batch.py                      # all of bench/batch_packages.txt, both modes
    python bench/batch.py --limit 20           # the first 20 only
    python bench/batch.py --modes local        # without Ray

First every sdist is fetched into the cache (which checks each pin and its sha256), so
the timed runs measure reviewing, not downloading. Then each mode runs `scrutiny batch`
as a subprocess into a fresh SQLite database with the per-file result cache off; its peak
memory is the largest sum of the resident sizes of the whole process tree (the driver,
the pool or Ray's processes), sampled every half second. The two databases must hold the
same rows (timings aside). Writes bench/BATCH.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from scrutiny import batch, pypi  # noqa: E402
from scrutiny.batch_summary import summarize  # noqa: E402
from scrutiny.results_db import open_db  # noqa: E402

TIMINGS = ("fetch_seconds", "review_seconds", "finished_at", "attempts")


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * page
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        total += rss.get(pid, 0)
        pending += children.get(pid, [])
    return total


def run_mode(mode: str, listed: Path, db: Path, jobs: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "scrutiny", "batch", str(listed), "--db", str(db), "-j", str(jobs), "--no-cache"]
    if mode == "ray":
        command += ["--ray", "local"]
    started = time.monotonic()
    log = db.with_suffix(".log")
    with log.open("w") as err:
        process = subprocess.Popen(command, stderr=err, stdout=subprocess.DEVNULL)  # noqa: S603  (our own CLI)
        peak = 0
        while process.poll() is None:
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.5)
    seconds = time.monotonic() - started
    return {"mode": mode, "seconds": seconds, "peak": peak, "exit": process.returncode, "log": log}


def rows_of(db: Path) -> dict[str, Any]:
    results = open_db(str(db))
    try:
        return {
            row.target: (
                {name: getattr(row, name) for name in row.__slots__ if name not in TIMINGS},
                results.findings(key),
            )
            for key, row in results.targets()
        }
    finally:
        results.close()


def fetch_all(targets: list[str]) -> dict[str, str]:
    """Fetch every sdist (cached after the first run); target -> error for those that fail."""

    def one(target: str) -> tuple[str, str]:
        try:
            pypi.fetch(target)
            return target, ""
        except pypi.FetchError as exc:
            return target, str(exc)

    with ThreadPoolExecutor(8) as threads:
        return {target: error for target, error in threads.map(one, targets) if error}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", default=str(HERE / "batch_packages.txt"))
    parser.add_argument("--limit", type=int, default=0, help="only the first N targets")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--modes", default="local,ray")
    parser.add_argument("--out", default=str(HERE / "BATCH.md"))
    args = parser.parse_args()
    targets = batch.read_list(args.list)
    if args.limit:
        targets = targets[: args.limit]
    work = Path(tempfile.mkdtemp(prefix="scrutiny-bench-batch-"))
    listed = work / "targets.txt"
    listed.write_text("\n".join(targets) + "\n")
    started = time.monotonic()
    unfetched = fetch_all(targets)
    print(f"fetched {len(targets) - len(unfetched)}/{len(targets)} sdists in {time.monotonic() - started:.0f} s",
          file=sys.stderr)  # fmt: skip
    runs = []
    for mode in args.modes.split(","):
        print(f"running {mode} ...", file=sys.stderr)
        runs.append(run_mode(mode, listed, work / f"{mode}.db", args.jobs))
        print(f"{mode}: {runs[-1]['seconds']:.0f} s, exit {runs[-1]['exit']}", file=sys.stderr)
    same = None
    if len(runs) == 2:
        same = rows_of(work / f"{runs[0]['mode']}.db") == rows_of(work / f"{runs[1]['mode']}.db")
    Path(args.out).write_text(report(args, targets, unfetched, runs, work, same))
    print(f"wrote {args.out} (databases in {work})", file=sys.stderr)
    return 0


def report(
    args: argparse.Namespace, targets: list[str], unfetched: dict[str, str], runs: list[dict[str, Any]],
    work: Path, same: bool | None,
) -> str:  # fmt: skip
    db = open_db(str(work / f"{runs[0]['mode']}.db"))
    summary = summarize(db)
    db.close()
    files = sum(p.row.files for p in summary.packages)
    lines = sum(p.row.lines for p in summary.packages)
    out = [
        "# Batch review of popular PyPI packages",
        "",
        f"Generated by `python bench/batch.py{' --limit ' + str(args.limit) if args.limit else ''}` "
        f"({len(targets)} targets of `{Path(args.list).name}`, {args.jobs} jobs, per-file result cache off, "
        f"sdists fetched beforehand) on a {os.cpu_count()}-core machine.",
        "",
        "| mode | targets | reviewed | failed | seconds | packages per minute | peak memory (MiB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in runs:
        db = open_db(str(work / f"{run['mode']}.db"))
        rows = [row for _, row in db.targets()]
        db.close()
        reviewed = sum(row.status == "reviewed" for row in rows)
        label = "local process pool" if run["mode"] == "local" else "Ray (local instance)"
        out.append(
            f"| {label} | {len(rows)} | {reviewed} | {len(rows) - reviewed} | {run['seconds']:.0f} | "
            f"{60 * reviewed / run['seconds']:.1f} | {run['peak'] / 2**20:.0f} |"
        )
    out += [
        "",
        f"Reviewed: {summary.reviewed} packages, {files:,} files, {lines:,} lines; findings "
        + ", ".join(f"{summary.counts.get(s, 0):,} {s}" for s in ("high", "medium", "low", "info"))
        + ".",
    ]
    if same is not None:
        out.append(f"Rows of the two runs identical (timings aside): {'yes' if same else 'NO'}.")
    out += ["", "## Failures", ""]
    if not summary.failures:
        out.append("None.")
    for row in summary.failures:
        out.append(f"- `{row.target}`: {row.error}")
    if unfetched:
        out.append(f"({len(unfetched)} of them could not be fetched beforehand.)")
    out += [
        "",
        "## The ten packages with the worst findings",
        "",
        "| package | high | medium | low | files | worst finding |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for package in summary.packages[:10]:
        row, worst = package.row, package.worst
        shown = "" if worst is None else (
            f"{worst.rule_id} ({worst.severity}, {worst.confidence} confidence) `{worst.path}:{worst.line}`: "
            + worst.message.replace("|", "\\|")
        )  # fmt: skip
        out.append(f"| {row.target} | {row.high} | {row.medium} | {row.low} | {row.files} | {shown} |")
    out += [
        "",
        "## Rules most reported",
        "",
        "| rule | worst severity | findings | packages |",
        "| --- | --- | ---: | ---: |",
    ]
    for rule in summary.rules[:15]:
        out.append(f"| {rule.rule_id} | {rule.severity} | {rule.findings} | {rule.packages} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
