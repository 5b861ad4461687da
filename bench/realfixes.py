"""Does a reviewer find real, published security defects? Write bench/REALFIXES.md.

Run from the repository root with the project's virtualenv:

    .venv/bin/python bench/realfixes.py [--only ID ...] [--scope file|package] [--no-semgrep]

Each case in bench/realfixes/cases.toml names a PyPI package, its last vulnerable and
first fixed release, a file and the lines the fix changed in the vulnerable release.
Both sdists are fetched with scrutiny's own fetcher (PEP 691 JSON API, sha256 checked
against the index, unpacked with the tarfile data filter, never built or imported) into
the git-ignored bench/cache/. The recorded lines are checked against a diff of the two
files; a range the fix did not touch stops the run.

Every tool then reviews the vulnerable and the fixed file: scrutiny, Bandit and Ruff's
S rules (the pinned peers of bench/run.py, in bench/cache/peers-venv), and Semgrep with
the small local rule file bench/realfixes/semgrep.yml when it can be pip-installed into
bench/cache/semgrep-venv and runs offline. A case is CONFIRMED for a tool when one of its
findings overlaps the recorded lines (widened by SLACK lines either side) and no finding
of the same rule overlaps the corresponding region of the fixed file. Noise is the total
number of findings the tool reports on the vulnerable files.

Scope: by default every tool gets the same single file, so noise is compared on equal
input. ``--scope package`` gives scrutiny the file's whole top-level package instead (so
cross-module taint can link callers to the file) and keeps only its findings in the file.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import platform
import re
import shlex
import subprocess  # noqa: S404  (runs pip, the peers and scrutiny with fixed argument lists)
import sys
import tempfile
import tomllib
import venv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from run import PEERS, peers_venv

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CACHE = BENCH / "cache"
CASES = BENCH / "realfixes" / "cases.toml"
SEMGREP_RULES = BENCH / "realfixes" / "semgrep.yml"
REPORT = BENCH / "REALFIXES.md"
SLACK = 2
TARGET_SHARE = 0.40
SCOPES = {
    "file": "the one file, the same for every tool",
    "package": "scrutiny reviews the file's whole top-level package, the peers the one file",
}
KEYS = {
    "id": str,
    "package": str,
    "vulnerable": str,
    "fixed": str,
    "advisories": list,
    "cwe": int,
    "kind": str,
    "file": str,
    "lines": list,
    "summary": str,
    "check": str,
}
ADVISORY = re.compile(r"^(CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3}|PYSEC-\d{4}-\d+)$")


class CaseError(ValueError):
    """cases.toml is malformed, or a recorded line range does not match the fix."""


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    package: str
    vulnerable: str
    fixed: str
    advisories: tuple[str, ...]
    cwe: int
    kind: str
    file: str
    lines: tuple[tuple[int, int], ...]
    summary: str
    check: str


@dataclass(frozen=True, slots=True)
class Hit:
    rule: str
    line: int
    end_line: int


def version_key(version: str) -> tuple[int, ...]:
    """Order of plain release numbers (3.1.2, 3000.1); anything else is rejected."""
    if not re.fullmatch(r"\d+(\.\d+)*", version):
        raise CaseError(f"version {version!r} is not a plain release number")
    return tuple(int(part) for part in version.split("."))


def load_cases(path: Path = CASES) -> list[Case]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    cases: list[Case] = []
    for number, raw in enumerate(data.get("case", []), 1):
        name = raw.get("id", f"case #{number}")
        missing = KEYS.keys() - raw.keys()
        unknown = raw.keys() - KEYS.keys()
        if missing or unknown:
            raise CaseError(f"{name}: missing keys {sorted(missing)}, unknown keys {sorted(unknown)}")
        for key, kind in KEYS.items():
            if type(raw[key]) is not kind:
                raise CaseError(f"{name}: {key} must be {kind.__name__}")
        if version_key(raw["vulnerable"]) >= version_key(raw["fixed"]):
            raise CaseError(f"{name}: vulnerable {raw['vulnerable']} is not older than fixed {raw['fixed']}")
        if not raw["advisories"] or not all(isinstance(a, str) and ADVISORY.match(a) for a in raw["advisories"]):
            raise CaseError(f"{name}: advisories must be CVE, GHSA or PYSEC ids")
        if raw["cwe"] <= 0 or not raw["file"].endswith(".py") or raw["file"].startswith("/") or ".." in raw["file"]:
            raise CaseError(f"{name}: bad cwe or file")
        cases.append(Case(**{**raw, "advisories": tuple(raw["advisories"]), "lines": _ranges(name, raw["lines"])}))
    ids = [case.id for case in cases]
    if len(set(ids)) != len(ids):
        raise CaseError(f"duplicate case ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return cases


def _ranges(name: str, lines: list[object]) -> tuple[tuple[int, int], ...]:
    ranges: list[tuple[int, int]] = []
    for item in lines:
        if not (isinstance(item, list) and len(item) == 2 and all(type(n) is int for n in item)):
            raise CaseError(f"{name}: each line range is [start, end]")
        start, end = item
        if not 1 <= start <= end or end - start > 60:
            raise CaseError(f"{name}: line range {item} is empty, reversed or implausibly long")
        if ranges and start <= ranges[-1][1]:
            raise CaseError(f"{name}: line ranges must be sorted and disjoint")
        ranges.append((start, end))
    if not ranges:
        raise CaseError(f"{name}: no line ranges")
    return tuple(ranges)


def touched_lines(old: Sequence[str], new: Sequence[str]) -> set[int]:
    """Vulnerable-file lines the fix touched: removed or replaced lines, and both
    neighbours of a pure insertion (1-based)."""
    touched: set[int] = set()
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            touched.update(range(i1 + 1, i2 + 1))
        elif tag == "insert":
            touched.update(n for n in (i1, i1 + 1) if 1 <= n <= len(old))
    return touched


def counterpart(old: Sequence[str], new: Sequence[str], start: int, end: int) -> tuple[int, int]:
    """The fixed-file lines that correspond to vulnerable lines start..end (1-based); lines a
    fix inserted next to the range belong to it, so a finding that moved there still counts."""
    lows: list[int] = []
    highs: list[int] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            first, last = max(start, i1 + 1), min(end, i2)
            if first <= last:
                lows.append(j1 + first - i1)
                highs.append(j1 + last - i1)
            continue
        beside = start <= i1 + 1 and end >= i1 if tag == "insert" else start <= i2 and end > i1
        if beside:
            lows.append(j1 + 1)
            highs.append(max(j2, j1 + 1))
    return (min(lows), max(highs)) if lows else (start, end)


def verify(case: Case, old: Sequence[str], new: Sequence[str]) -> None:
    touched = touched_lines(old, new)
    for start, end in case.lines:
        untouched = sorted(set(range(start, end + 1)) - touched)
        if untouched:
            raise CaseError(
                f"{case.id}: {case.file} lines {untouched} of {case.package} {case.vulnerable} "
                f"were not changed by {case.fixed}; the recorded range {start}-{end} is wrong"
            )


def on_lines(case: Case, hits: list[Hit]) -> list[Hit]:
    """Findings that overlap the recorded lines, widened by SLACK either side."""
    return [h for h in hits if any(h.line <= end + SLACK and h.end_line >= start - SLACK for start, end in case.lines)]


def confirming(case: Case, old: Sequence[str], new: Sequence[str], vuln: list[Hit], fixed: list[Hit]) -> list[Hit]:
    """Findings on the fixed lines of the vulnerable file that the fix made disappear."""
    found: list[Hit] = []
    for start, end in case.lines:
        low, high = start - SLACK, end + SLACK
        after_low, after_high = counterpart(old, new, max(1, low), min(len(old), high))
        for hit in vuln:
            if hit.line > high or hit.end_line < low:
                continue
            survives = any(f.rule == hit.rule and f.line <= after_high and f.end_line >= after_low for f in fixed)
            if not survives and hit not in found:
                found.append(hit)
    return found


# --- the tools: each maps files to the findings it reports in them -------------------------


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO)  # noqa: S603


def scrutiny_findings(target: Path, files: Sequence[Path]) -> dict[Path, list[Hit]]:
    """One review per target (a file, or a package directory with --scope package)."""
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "review.json"
        command = [sys.executable, "-m", "scrutiny", "review", "-q", "--no-cache"]
        command += ["--jobs", "1"] if target.is_file() else []  # a package review may use every core
        done = _run([*command, "--format", "json", "-o", str(output), str(target)])
        if done.returncode not in (0, 1) or not output.exists():
            raise RuntimeError(f"scrutiny failed on {target}: {done.stderr.strip()[-2000:]}")
        data = json.loads(output.read_text())
    wanted = {f.resolve(): f for f in files}
    hits: dict[Path, list[Hit]] = {f: [] for f in files}
    for finding in data["findings"]:
        path = wanted.get(Path(finding["path"]).resolve())
        if path is not None:
            hits[path].append(Hit(finding["rule_id"], int(finding["line"]), int(finding["end_line"])))
    return hits


def bandit_findings(peers: Path, files: Sequence[Path]) -> dict[Path, list[Hit]]:
    done = _run([str(peers / "bin" / "bandit"), "-q", "-f", "json", *map(str, files)])
    data = json.loads(done.stdout)
    if data.get("errors"):
        raise RuntimeError(f"bandit could not read files: {data['errors']}")
    hits = _by_path(files)
    for r in data["results"]:
        span = r.get("line_range") or [r["line_number"]]
        hits[Path(r["filename"]).resolve()].append(Hit(r["test_id"], int(r["line_number"]), int(max(span))))
    return {f: hits[f.resolve()] for f in files}


def ruff_findings(peers: Path, files: Sequence[Path]) -> dict[Path, list[Hit]]:
    command = [str(peers / "bin" / "ruff"), "check", "--isolated", "--no-cache", "--select", "S"]
    done = _run([*command, "--output-format", "json", "--exit-zero", *map(str, files)])
    hits = _by_path(files)
    for r in json.loads(done.stdout):
        start, end = r["location"]["row"], r["end_location"]["row"]
        hits[Path(r["filename"]).resolve()].append(Hit(str(r["code"]), int(start), int(end)))
    return {f: hits[f.resolve()] for f in files}


def semgrep_findings(exe: Path, files: Sequence[Path]) -> dict[Path, list[Hit]]:
    command = [str(exe), "scan", "--config", str(SEMGREP_RULES), "--json", "--metrics", "off"]
    done = _run([*command, "--disable-version-check", "--quiet", *map(str, files)])
    data = json.loads(done.stdout)
    if done.returncode not in (0, 1) or data.get("errors"):
        raise RuntimeError(f"semgrep failed: {str(data.get('errors'))[:2000]}")
    hits = _by_path(files)
    for r in data["results"]:
        rule = str(r["check_id"]).rsplit(".", 1)[-1]
        hits[Path(r["path"]).resolve()].append(Hit(rule, int(r["start"]["line"]), int(r["end"]["line"])))
    return {f: hits[f.resolve()] for f in files}


def _by_path(files: Sequence[Path]) -> dict[Path, list[Hit]]:
    return {f.resolve(): [] for f in files}


def semgrep_executable() -> tuple[Path | None, str]:
    """Semgrep from a bench-only virtualenv, or None and the reason it cannot run."""
    home = CACHE / "semgrep-venv"
    exe = home / "bin" / "semgrep"
    if not exe.exists():
        venv.create(home, with_pip=True)
        _run([str(home / "bin" / "python"), "-m", "pip", "install", "-q", "semgrep"])
    if not exe.exists():
        return None, "semgrep could not be pip-installed here"
    done = _run([str(exe), "--version"])
    if done.returncode != 0:
        return None, f"semgrep does not start: {done.stderr.strip()[-300:]}"
    return exe, f"semgrep {done.stdout.strip()}"


# --- the run --------------------------------------------------------------------------------


@dataclass
class Prepared:
    case: Case
    old_root: Path
    new_root: Path
    sdists: tuple[str, str]

    @property
    def old_file(self) -> Path:
        return self.old_root / self.case.file

    @property
    def new_file(self) -> Path:
        return self.new_root / self.case.file

    @cached_property
    def old(self) -> list[str]:
        return self.old_file.read_text(encoding="utf-8").splitlines()

    @cached_property
    def new(self) -> list[str]:
        return self.new_file.read_text(encoding="utf-8").splitlines()


@dataclass
class Outcome:
    case: Case
    confirmed: dict[str, list[Hit]]
    kept: dict[str, list[Hit]]  # on the lines, but still reported in the fixed release
    noise: dict[str, int]
    sdists: tuple[str, str]


def fetch(package: str, version: str) -> tuple[Path, str]:
    os.environ["SCRUTINY_CACHE_DIR"] = str(CACHE / "sdists")
    sys.path.insert(0, str(REPO / "src"))
    from scrutiny import pypi

    fetched = pypi.fetch(f"pypi:{package}=={version}")
    return fetched.root, f"{fetched.filename} sha256 {fetched.sha256}"


def package_dir(root: Path, file: str) -> Path:
    """The top-level import package holding file (or the file for a single-module sdist)."""
    parts = Path(file).parts
    skip = 1 if parts[0] in ("src", "lib", "lib3") and len(parts) > 2 else 0
    return root / Path(*parts[: skip + 1]) if len(parts) > skip + 1 else root / file


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], help="case ids to run (default: all)")
    parser.add_argument("--scope", choices=("file", "package"), default="file")
    parser.add_argument("--no-semgrep", action="store_true")
    parser.add_argument("--output", type=Path, default=REPORT)
    parser.add_argument("--verify-only", action="store_true", help="fetch and check the recorded lines, run no tool")
    args = parser.parse_args(argv)
    cases = [c for c in load_cases() if not args.only or c.id in args.only]
    if args.only and len(cases) != len(set(args.only)):
        parser.error(f"unknown case ids among {args.only}")

    prepared: list[Prepared] = []
    failures: list[str] = []
    for case in cases:
        (old_root, old_sdist), (new_root, new_sdist) = (fetch(case.package, v) for v in (case.vulnerable, case.fixed))
        item = Prepared(case, old_root, new_root, (old_sdist, new_sdist))
        try:
            verify(case, item.old, item.new)
        except CaseError as exc:
            failures.append(str(exc))
            continue
        prepared.append(item)
        print(f"realfixes: {case.id}: recorded lines verified against the fix", file=sys.stderr)
    if failures:
        print("realfixes: recorded lines do not match the fixes:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    if args.verify_only:
        return 0

    results: dict[str, dict[Path, list[Hit]]] = {"scrutiny": {}}
    for item in prepared:
        for root, path in ((item.old_root, item.old_file), (item.new_root, item.new_file)):
            target = package_dir(root, item.case.file) if args.scope == "package" else path
            results["scrutiny"].update(scrutiny_findings(target, [path]))
    print("realfixes: scrutiny done", file=sys.stderr)
    peers = peers_venv()
    tools: dict[str, Callable[[Sequence[Path]], dict[Path, list[Hit]]]] = {
        "Bandit": lambda fs: bandit_findings(peers, fs),
        "Ruff S": lambda fs: ruff_findings(peers, fs),
    }
    semgrep_note = "skipped (--no-semgrep)"
    if not args.no_semgrep:
        exe, semgrep_note = semgrep_executable()
        if exe is not None:
            tools["Semgrep"] = lambda fs: semgrep_findings(exe, fs)
    files = [path for item in prepared for path in (item.old_file, item.new_file)]
    for name, run in tools.items():
        results[name] = run(files)
        print(f"realfixes: {name} done", file=sys.stderr)

    outcomes = [outcome(item, results) for item in prepared]
    command = ".venv/bin/python bench/realfixes.py" + "".join(f" {shlex.quote(a)}" for a in (argv or sys.argv[1:]))
    revision = _run(["git", "rev-parse", "--short", "HEAD"]).stdout.strip() or "unknown"
    dirty = _run(["git", "status", "--porcelain", "--", "src"]).stdout.strip()
    command += f"` at commit `{revision}" + ("` with uncommitted changes in `src/" if dirty else "")
    args.output.write_text(render(outcomes, list(results), command, args.scope, semgrep_note), encoding="utf-8")
    print(f"realfixes: wrote {args.output}", file=sys.stderr)
    return 0


def outcome(item: Prepared, results: dict[str, dict[Path, list[Hit]]]) -> Outcome:
    confirmed: dict[str, list[Hit]] = {}
    kept: dict[str, list[Hit]] = {}
    for tool, found in results.items():
        before, after = found[item.old_file], found[item.new_file]
        confirmed[tool] = confirming(item.case, item.old, item.new, before, after)
        kept[tool] = [h for h in on_lines(item.case, before) if h not in confirmed[tool]]
    noise = {tool: len(found[item.old_file]) for tool, found in results.items()}
    return Outcome(item.case, confirmed, kept, noise, item.sdists)


def _cell(confirmed: list[Hit], kept: list[Hit]) -> str:
    def names(hits: list[Hit]) -> str:
        return ", ".join(sorted({f"{h.rule} L{h.line}" for h in hits}))

    if confirmed:
        return f"**yes** {names(confirmed)}"
    return f"no (kept: {names(kept)})" if kept else "-"


def render(outcomes: list[Outcome], tools: list[str], command: str, scope: str, semgrep_note: str) -> str:
    total = len(outcomes)
    lines = [
        "# Real security fixes: does the reviewer find them?",
        "",
        f"Made by `{command}` (Python {platform.python_version()}, {', '.join(PEERS)}; Semgrep: {semgrep_note}).",
        "",
        f"{total} published fixes from bench/realfixes/cases.toml. A tool CONFIRMS a case when one of its findings",
        f"overlaps the lines the fix changed in the vulnerable release (+-{SLACK} lines) and no finding of the same",
        "rule overlaps the matching region of the fixed release. Noise is the number of findings the tool",
        f"reports on the vulnerable file. Input: {SCOPES[scope]}.",
        "A cell reads `**yes** RULE Lnn` for a confirming finding, `no (kept: ...)` when a finding lands on the",
        "lines but is still reported in the fixed release (the tool did not see the fix), `-` when nothing lands.",
        "Semgrep runs the local rule file bench/realfixes/semgrep.yml, written for this benchmark after reading",
        "the cases (so its column is an upper bound for hand-written patterns), not the public registry.",
        "Likewise, several scrutiny rules were written or extended after reading these cases (SCR920,",
        "SCR934-SCR938, SCR952, SCR970, SCR980, SCR981, the eval allow-list guards of SCR103, Django URL parameters",
        "and pathlib sinks in the taint models). Each is a general check with its own fixtures and none names a",
        "project, file or line, but for those cases this benchmark is not a blind test.",
        "",
        "| case | release (vulnerable -> fixed) | CWE | kind | "
        + " | ".join(tools)
        + " | "
        + " | ".join(f"{t} noise" for t in tools)
        + " | what would catch it (scrutiny misses) |",
        "|" + "---|" * (4 + 2 * len(tools) + 1),
    ]
    for o in outcomes:
        cells = [_cell(o.confirmed[t], o.kept[t]) for t in tools]
        note = "" if o.confirmed["scrutiny"] else o.case.check
        lines.append(
            f"| {o.case.id} | {o.case.package} {o.case.vulnerable} -> {o.case.fixed} | {o.case.cwe} | {o.case.kind} | "
            + " | ".join(cells)
            + " | "
            + " | ".join(str(o.noise[t]) for t in tools)
            + f" | {note} |"
        )
    confirmed = {t: sum(1 for o in outcomes if o.confirmed[t]) for t in tools}
    noise = {t: sum(o.noise[t] for o in outcomes) for t in tools}
    lines.append(
        "| **total** | | | | "
        + " | ".join(f"**{confirmed[t]}/{total} ({confirmed[t] / total:.0%})**" for t in tools)
        + " | "
        + " | ".join(f"**{noise[t]}**" for t in tools)
        + " | |"
    )
    share = confirmed["scrutiny"] / total if total else 0.0
    quieter = noise["scrutiny"] < noise.get("Bandit", 0)
    lines += [
        "",
        f"Target for scrutiny: at least {TARGET_SHARE:.0%} of cases confirmed "
        f"({'met' if share >= TARGET_SHARE else 'not met'}: {share:.0%}), and fewer findings than Bandit "
        f"on the same files ({'met' if quieter else 'not met'}: {noise['scrutiny']} vs {noise.get('Bandit', 0)}).",
        "",
        "## Cases",
        "",
    ]
    for o in outcomes:
        ranges = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in o.case.lines)
        lines.append(
            f"- **{o.case.id}** ({', '.join(o.case.advisories)}; `{o.case.file}` lines {ranges}): {o.case.summary}"
        )
    lines += ["", "## Sdists (sha256 checked against the index)", ""]
    lines += [f"- {name}" for o in outcomes for name in o.sdists]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
