"""How long a change review takes on a warm cache: the pre-commit case.

    python bench/change_speed.py [--tree DIR] [--file PATH --line N --text TEXT] [--check]

Defaults to nova 34.0.0 from bench/cache (fetch it first with bench/run.py) and a one-line
change inside an existing function of nova/privsep/linux_net.py. The tree is never
written: the change is a patch that ``--patch`` applies in memory. In a fresh cache
directory it times, each as a separate ``scrutiny review`` process:

1. the whole review of the tree (fills the cache, as the review before the change would);
2. the change review (the per-file results come from the cache; the link of the version
   before the change comes from the cache, the version after is linked incrementally);
3. the same change review again (both links come from the cache).

``--check`` also runs the change review without the cache and checks the output is the same.
Prints wall and CPU seconds (user + system of the process) of each step.
"""

from __future__ import annotations

import argparse
import difflib
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOVA = HERE / "cache" / "sdists" / "pypi" / "nova-34.0.0.unpacked" / "nova-34.0.0"


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)  # noqa: S603  (our own CLI)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, default=NOVA)
    parser.add_argument("--file", default="nova/privsep/linux_net.py")
    parser.add_argument("--line", type=int, default=39, help="insert the text before this line")
    parser.add_argument("--text", default='    os.system("ip link show " + dev)')
    parser.add_argument("--check", action="store_true", help="compare with a change review without the cache")
    args = parser.parse_args()
    if not args.tree.is_dir():
        raise SystemExit(f"{args.tree} is not there; fetch it first (python bench/run.py --trees nova)")
    scrutiny = [sys.executable, "-m", "scrutiny", "review", "--format", "json", "--quiet"]
    with tempfile.TemporaryDirectory() as work:
        lines = (args.tree / args.file).read_text(encoding="utf-8").splitlines(keepends=True)
        changed = [*lines[: args.line - 1], args.text + "\n", *lines[args.line - 1 :]]
        patch = Path(work, "change.patch")
        patch.write_text("".join(difflib.unified_diff(lines, changed, f"a/{args.file}", f"b/{args.file}")))
        env = dict(os.environ, SCRUTINY_CACHE_DIR=str(Path(work, "cache")))
        outputs = [str(Path(work, f"{name}.json")) for name in ("whole", "change", "again", "cold")]
        steps = [
            ("whole review, cold cache", [*scrutiny, "-o", outputs[0], "."]),
            ("change review, warm cache", [*scrutiny, "-o", outputs[1], "--patch", str(patch), "."]),
            ("same change review again", [*scrutiny, "-o", outputs[2], "--patch", str(patch), "."]),
        ]
        if args.check:
            steps.append(
                ("change review, no cache", [*scrutiny, "-o", outputs[3], "--no-cache", "--patch", str(patch), "."])
            )
        print(f"tree {args.tree.name}, change: {args.file}:{args.line} + {args.text.strip()!r}")
        print("| step | wall s | CPU s |\n|---|---:|---:|")
        for name, command in steps:
            wall, cpu = timed(command, args.tree, env)
            print(f"| {name} | {wall:.2f} | {cpu:.2f} |", flush=True)
        same = Path(outputs[1]).read_bytes() == Path(outputs[2]).read_bytes()
        if args.check:
            same = same and Path(outputs[1]).read_bytes() == Path(outputs[3]).read_bytes()
        compared = "across runs and to the one without cache" if args.check else "across runs"
        print(f"change review output identical {compared}: {'yes' if same else 'NO'}")
        return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
