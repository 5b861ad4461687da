"""Command line: argument parsing, output files and exit codes only.

Exit codes: 0 no defects, 1 defects found, 2 usage error or nothing could be reviewed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence

from scrutiny import __version__, config
from scrutiny.findings import Severity
from scrutiny.report import FORMATS

EXIT_CLEAN, EXIT_DEFECTS, EXIT_USAGE = 0, 1, 2

DESCRIPTION = """\
scrutiny reviews Python code for security defects and writes the review a security
engineer would: what the code is, each aspect checked with the lines it rests on,
findings with severity, CWE and fix, and a verdict. It parses the code with ast and
tokenize only; it never imports or runs it."""

REVIEW_EPILOG = """\
targets:
  PATH                 a file or a directory (recursive; .git, venvs, build dirs excluded)
  -                    read one file from standard input (name it with --stdin-name)
  pypi:NAME[==VER]     download the sdist from the package index into the user cache
                       (sha256 checked and shown) and review it; nothing is built or run
  pypi:NAME==OLD..NEW  review an upgrade: the files that differ between the two sdists, each
                       finding introduced, unchanged or fixed, and what runs at install and
                       import time that appeared or disappeared (exit 1: a defect introduced)

change review (PATHs default to .):
  --diff BASE          review the Python files changed since git revision BASE (committed,
                       staged, unstaged and untracked), whole, with the rest of the tree as
                       context; each finding is introduced, unchanged or fixed by the change
  --patch FILE|-       the same for a unified diff applied in memory to the working tree
  --baseline FILE      hide the findings accepted in FILE (scrutiny baseline create)

exit codes:
  0  no security defects (notes at info level do not count); with --diff or --patch:
     the change introduces none
  1  at least one defect at or above --min-severity (with --diff/--patch: introduced)
  2  usage error, bad configuration, revision, patch or baseline, or nothing could be reviewed

configuration:
  [tool.scrutiny] in the first pyproject.toml from the first path upward (stopping at the
  repository root), or --config FILE; flags win over the file. See docs/configuration.md.

examples:
  scrutiny review src/
  scrutiny review --format json --output review.json pypi:nova==34.0.0
  git show HEAD:app.py | scrutiny review - --stdin-name app.py
  scrutiny review --diff origin/main --format sarif -o scrutiny.sarif
  scrutiny baseline create -o .scrutiny-baseline.json . && scrutiny review --baseline .scrutiny-baseline.json ."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scrutiny", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"scrutiny {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    review = commands.add_parser(
        "review",
        help="review files, directories, stdin or a PyPI sdist",
        description="Review Python code for security defects.",
        epilog=REVIEW_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    review.add_argument("targets", nargs="*", metavar="TARGET", help="PATH, - or pypi:NAME[==VERSION]")
    review.add_argument("--format", choices=sorted(FORMATS), default="text", help="output format (default: text)")
    review.add_argument(
        "-o", "--output", metavar="FILE", help="write the review to FILE (atomically) instead of stdout"
    )
    review.add_argument(
        "--min-severity",
        metavar="LEVEL",
        help="hide findings below LEVEL: info, low, medium, high (default: min-severity, else info)",
    )
    review.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="skip files or directories matching GLOB (repeatable; replaces the configured exclude)",
    )
    review.add_argument("--stdin-name", default="<stdin>", metavar="NAME", help="file name to use for code read from -")
    review.add_argument(
        "-j",
        "--jobs",
        type=int,
        metavar="N",
        help="review files in N processes (default: jobs, else one per core; 1 reviews in this process)",
    )
    review.add_argument(
        "--no-cache", action="store_true", help="neither read nor write the per-file result cache (~/.cache/scrutiny)"
    )
    review.add_argument("-q", "--quiet", action="store_true", help="do not print progress notes on stderr")
    _add_text_arguments(review)
    config.add_arguments(review)
    # --- change review and baselines (logic in change.py, baseline.py) ---
    change = review.add_mutually_exclusive_group()
    change.add_argument("--diff", metavar="BASE", help="review only the Python files changed since git revision BASE")
    change.add_argument("--patch", metavar="FILE", help="review the change a unified diff (FILE or -) makes")
    review.add_argument("--baseline", metavar="FILE", help="hide findings accepted in this baseline file")

    baseline = commands.add_parser(
        "baseline",
        help="record today's findings so later reviews show only new ones",
        description="Write a baseline of the current findings (see docs/ci-integration.md).",
    )
    baseline_commands = baseline.add_subparsers(dest="baseline_command", metavar="ACTION", required=True)
    create = baseline_commands.add_parser(
        "create",
        help="write a baseline of the findings in TARGETs",
        description="Record every finding in TARGETs; `scrutiny review --baseline FILE` then hides them.",
        epilog="entries match by rule, enclosing scope and a hash of the code (not line numbers), so\n"
        "inserted lines and renamed files keep them accepted; see docs/ci-integration.md",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    create.add_argument("targets", nargs="+", metavar="TARGET", help="PATH or pypi:NAME[==VERSION]")
    create.add_argument("-o", "--output", metavar="FILE", required=True, help="baseline file to write (atomically)")
    create.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip matching files")
    # --- end of change review and baselines ---

    _add_deps_parser(commands)

    rules = commands.add_parser("rules", help="list the rules", description="List every rule scrutiny runs.")
    rules.add_argument("--format", choices=("text", "json", "markdown"), default="text")

    explain = commands.add_parser("explain", help="print a rule's documentation", description="Explain a rule.")
    explain.add_argument("rule_id", metavar="RULE-ID")
    _batch_arguments(commands)
    return parser


DEPS_EPILOG = """\
lockfiles (the format comes from the file name):
  requirements*.txt    NAME==VERSION lines (extras, markers, --hash=sha256:..., \\ continuations);
                       NAME @ https://.../FILE.whl|.tar.gz; anything unpinned is listed as skipped
  uv.lock, poetry.lock, pylock.toml (PEP 751), Pipfile.lock

Each pinned distribution is downloaded into the user cache, its sha256 checked against
the lockfile's hash (else the index's), unpacked without running anything and reviewed.
The lockfile's sdist is reviewed unless it pins only wheels (or --prefer wheel).

exit codes:
  0  no security defects in any package
  1  at least one defect at or above --min-severity in some package
  2  usage error, unreadable lockfile, or no package could be reviewed

example:
  scrutiny deps requirements.txt --output-dir reviews/ --format json -o summary.json"""


def _add_deps_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    deps = commands.add_parser(
        "deps",
        help="review every distribution a lockfile pins",
        description="Review what a lockfile pins: a review per package and a summary table.",
        epilog=DEPS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    deps.add_argument(
        "lockfile", metavar="FILE", help="requirements*.txt, uv.lock, poetry.lock, pylock.toml, Pipfile.lock"
    )
    deps.add_argument("--format", choices=("text", "json"), default="text", help="summary format (default: text)")
    deps.add_argument("-o", "--output", metavar="FILE", help="write the summary to FILE (atomically)")
    deps.add_argument(
        "--output-dir",
        default="scrutiny-deps",
        metavar="DIR",
        help="one review per package here (default: %(default)s)",
    )
    deps.add_argument(
        "--review-format",
        choices=sorted(FORMATS),
        default="json",
        help="format of each package's review (default: json)",
    )
    deps.add_argument(
        "--prefer", choices=("sdist", "wheel"), default="sdist", help="file to review when both are pinned"
    )
    deps.add_argument(
        "--min-severity", default="info", metavar="LEVEL", help="hide findings below LEVEL (default: info)"
    )
    deps.add_argument("-j", "--jobs", type=int, default=0, metavar="N", help="worker processes per package review")
    deps.add_argument("--no-cache", action="store_true", help="neither read nor write the per-file result cache")
    deps.add_argument("-q", "--quiet", action="store_true", help="do not print progress notes on stderr")


def _deps(args: argparse.Namespace) -> int:
    from scrutiny import lockfiles
    from scrutiny.api import Config, render
    from scrutiny.deps import PackageReview, review_lockfile
    from scrutiny.report import deps_out

    try:
        lockfile = lockfiles.parse(args.lockfile)
        min_severity = Severity.parse(args.min_severity)
        os.makedirs(args.output_dir, exist_ok=True)
    except (lockfiles.LockfileError, ValueError, OSError) as exc:
        print(f"scrutiny: error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    def notify(message: str) -> None:
        if not args.quiet:
            print(f"scrutiny: {message}", file=sys.stderr)

    extension = {"text": "txt", "markdown": "md", "gerrit": "json", "github": "txt"}.get(args.review_format)

    def write(package: PackageReview) -> None:
        if package.review is None:
            notify(f"{package.pin.name}=={package.pin.version}: {package.error}")
            return
        name = f"{lockfiles.normalise(package.pin.name)}-{package.pin.version}.{extension or args.review_format}"
        package.output = os.path.join(args.output_dir, name)
        write_atomically(package.output, render(package.review, args.review_format))

    notify(f"{args.lockfile}: {len(lockfile.pins)} pinned distribution(s), {len(lockfile.skipped)} skipped")
    run = Config(min_severity=min_severity, jobs=args.jobs, cache=not args.no_cache)
    try:
        report = review_lockfile(lockfile, run, args.prefer, notify, write)
        _emit(deps_out.render(report, args.format), args.output)
    except OSError as exc:
        print(f"scrutiny: error: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    return report.exit_code


def _add_text_arguments(review: argparse.ArgumentParser) -> None:
    """What the text review of a tree prints beyond its defects (a single file's review prints both)."""
    review.add_argument(
        "--notes", action="store_true", help="text: list the notes at info level too (else they are counted)"
    )
    review.add_argument(
        "--details", action="store_true", help="text: each file's statements under every aspect, not one line each"
    )


def write_atomically(path: str, text: str) -> None:
    """Write to a temporary file beside PATH, then rename: never a half-written file.

    A path that is not a regular file (/dev/null, a pipe, /dev/stdout) is written to
    directly: renaming over it would replace the device with a file."""
    if os.path.exists(path) and not os.path.isfile(path):
        with open(path, "w", encoding="utf-8") as out:
            out.write(text)
        return
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".scrutiny-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _emit(text: str, output: str | None) -> None:
    if output:
        write_atomically(output, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def _review(args: argparse.Namespace) -> int:
    from scrutiny.api import DEFAULT_FILE_TIMEOUT, Config, render
    from scrutiny.report.prose import TextOptions
    from scrutiny.terminal import Progress, colour_text_review, use_colour

    # Settings are read and checked before anything is reviewed or written.
    try:
        settings = config.merge_cli(config.discover_for(args.targets, args.config), args)
    except config.ConfigError as exc:
        print(f"scrutiny: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not args.targets and args.diff is None and args.patch is None:
        print("scrutiny: error: give at least one TARGET (or --diff BASE / --patch FILE)", file=sys.stderr)
        return EXIT_USAGE
    if args.targets.count("-") > 1:
        print("scrutiny: error: '-' (standard input) can be given only once", file=sys.stderr)
        return EXIT_USAGE

    def notify(message: str) -> None:
        if not args.quiet:
            print(f"scrutiny: {message}", file=sys.stderr)

    run = Config(
        excludes=settings.exclude,
        min_severity=settings.min_severity or Severity.INFO,
        stdin_name=args.stdin_name,
        jobs=settings.jobs or 0,
        cache=not args.no_cache,
        file_timeout=DEFAULT_FILE_TIMEOUT if settings.file_timeout is None else settings.file_timeout,
        settings=settings,
    )
    # --- change review and baselines: every input is checked before any output ---
    from scrutiny.baseline import BaselineError
    from scrutiny.change import ChangeError, review_request

    progress = Progress(not args.quiet and sys.stderr.isatty(), sys.stderr)
    try:
        review = review_request(args.targets, run, args.diff, args.patch, args.baseline, notify, progress.update)
    except (ChangeError, BaselineError) as exc:
        print(f"scrutiny: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        progress.close()
    # --- end of change review and baselines ---
    # An explicit --min-severity info (flag or configuration) asks for the notes as well.
    notes = args.notes or settings.min_severity is Severity.INFO
    text = render(review, args.format, TextOptions(notes=notes, details=args.details))
    if args.format == "text" and not args.output and use_colour(args.color, sys.stdout):
        text = colour_text_review(text)
    try:
        _emit(text, args.output)
    except OSError as exc:
        print(f"scrutiny: error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    if review.errors and not args.quiet:
        print(f"scrutiny: {len(review.errors)} input(s) could not be reviewed; see the review", file=sys.stderr)
    return review.exit_code


def _rules(args: argparse.Namespace) -> int:
    from scrutiny.report import rules_doc

    sys.stdout.write(rules_doc.render(args.format))
    return EXIT_CLEAN


def _explain(args: argparse.Namespace) -> int:
    from scrutiny.report import rules_doc

    text = rules_doc.explain(args.rule_id)
    if text is None:
        print(f"scrutiny: error: no rule {args.rule_id!r}; `scrutiny rules` lists them", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(text)
    return EXIT_CLEAN


def _baseline(args: argparse.Namespace) -> int:
    from scrutiny.api import Config, scan
    from scrutiny.baseline import render

    review = scan(args.targets, Config(excludes=tuple(args.exclude), jobs=0, cache=True))
    if not review.reviewed:
        print("scrutiny: error: nothing could be reviewed; no baseline written", file=sys.stderr)
        return EXIT_USAGE
    try:
        write_atomically(args.output, render(review.findings))
    except OSError as exc:
        print(f"scrutiny: error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"scrutiny: baseline of {len(review.findings)} finding(s) written to {args.output}", file=sys.stderr)
    return EXIT_CLEAN


# --- batch review into a results database (logic in batch.py, results_db.py) ---

BATCH_EPILOG = """\
LIST holds one target a line: pypi:NAME[==VERSION], a directory or a git working tree
(relative paths are read from the list's directory); '#' starts a comment.
`scrutiny batch report --db URL` prints the summary instead (a list file named report: ./report).

Each target is one row (and each finding one row) in the database, written in one
transaction; targets already stored for the same input sha256, scrutiny version and
settings are skipped, so re-running the list after a crash or Ctrl-C resumes it.

database URLs:
  results.db                    a SQLite file (created if missing)
  postgresql://user@host/db     PostgreSQL, through psycopg: pip install 'scrutiny[postgres]'

exit codes: 0 every target reviewed (or already stored), 1 some failed (stored as failed
with the error), 2 usage error or the database cannot be used; the report exits 0.

examples:
  scrutiny batch packages.txt --db results.db
  scrutiny batch --top 100 --from top-pypi-packages.json --db results.db --ray auto
  scrutiny batch report --db results.db --format html -o report.html"""


def _batch_arguments(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    batch = commands.add_parser(
        "batch",
        help="review many targets into a results database (SQLite or PostgreSQL)",
        description="Review every target of LIST and store the results in a database.",
        epilog=BATCH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    batch.add_argument("list", nargs="?", metavar="LIST", help="file of targets, or 'report'")
    batch.add_argument("--db", required=True, metavar="URL", help="SQLite file or postgresql:// URL")
    batch.add_argument("--top", type=int, metavar="N", help="review the first N packages of --from FILE")
    batch.add_argument(
        "--from",
        dest="popular",
        metavar="FILE",
        help="popularity list, most used first: JSON rows of {project: NAME} or one NAME a line",
    )
    batch.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="targets reviewed at once (default: one per core; 1 reviews in this process)",
    )
    batch.add_argument(
        "--jobs-per-target", type=int, default=1, metavar="N", help="processes reviewing one target's files (default 1)"
    )
    batch.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="run each target as a Ray task: a cluster ADDRESS, 'auto' (the running cluster) or "
        "'local' (start one here with --jobs CPUs); pip install 'scrutiny[ray]'",
    )
    batch.add_argument(
        "--max-retries",
        type=int,
        default=2,
        metavar="N",
        help="retries of a target whose worker died or failed unexpectedly (default 2)",
    )
    batch.add_argument("--config", metavar="FILE", help="settings for every target (a target's own are not read)")
    batch.add_argument("--min-severity", metavar="LEVEL", help="store findings at LEVEL or above (default info)")
    batch.add_argument("--no-cache", action="store_true", help="neither read nor write the per-file result cache")
    batch.add_argument("--format", choices=("text", "json", "html"), default="text", help="report format")
    batch.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (atomically)")
    batch.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")


def _batch(args: argparse.Namespace) -> int:
    from dataclasses import replace
    from pathlib import Path

    from scrutiny import batch
    from scrutiny.results_db import DatabaseError, open_db

    if args.list == "report":
        return _batch_report(args)
    if (args.list is None) == (args.top is None) or (args.top is None) != (args.popular is None):
        print("scrutiny: error: give LIST, or --top N with --from FILE", file=sys.stderr)
        return EXIT_USAGE
    try:
        settings = config.read(Path(args.config)) if args.config else config.Settings()
        if args.min_severity is not None:
            settings = replace(settings, min_severity=Severity.parse(args.min_severity))
        if args.list is not None:
            targets, base = batch.read_list(args.list), Path(args.list).parent
        else:
            targets, base = batch.top_targets(args.popular, args.top), Path()
        db = open_db(args.db)
    except (config.ConfigError, ValueError, batch.BatchError, DatabaseError) as exc:
        print(f"scrutiny: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    run = batch.BatchSettings(settings, target_jobs=max(1, args.jobs_per_target), cache=not args.no_cache)

    def notify(message: str) -> None:
        if not args.quiet:
            print(f"scrutiny: batch: {message}", file=sys.stderr, flush=True)

    jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    try:
        totals = batch.run_batch(
            targets,
            db,
            run,
            base=base,
            jobs=jobs,
            ray_address=args.ray,
            max_retries=max(0, args.max_retries),
            notify=notify,
        )
    except batch.BatchError as exc:
        print(f"scrutiny: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("scrutiny: interrupted; every target finished so far is stored: run again to resume", file=sys.stderr)
        return 130
    finally:
        db.close()
    notify(
        f"{totals.listed} targets: {totals.reviewed} reviewed, {totals.failed} failed, "
        f"{totals.skipped} already stored ({args.db})"
    )
    return EXIT_DEFECTS if totals.failed else EXIT_CLEAN


def _batch_report(args: argparse.Namespace) -> int:
    from scrutiny.batch_summary import summarize
    from scrutiny.report.batch_out import render
    from scrutiny.results_db import DatabaseError, open_db

    try:
        db = open_db(args.db)
    except DatabaseError as exc:
        print(f"scrutiny: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        text = render(summarize(db), args.format)
    finally:
        db.close()
    try:
        _emit(text, args.output)
    except OSError as exc:
        print(f"scrutiny: error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_CLEAN


# --- end of batch review ---


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    handlers = {
        "review": _review,
        "rules": _rules,
        "explain": _explain,
        "baseline": _baseline,
        "deps": _deps,
        "batch": _batch,
    }
    from scrutiny import api  # here: --help and usage errors need none of it

    try:
        # Paused for the whole command, report included: a review's objects form no
        # cycles, and scanning every finding kept so far on each collection is pure cost.
        with api.cycle_collection_paused():
            return handlers[args.command](args)
    except KeyboardInterrupt:
        print("scrutiny: interrupted; no output was written", file=sys.stderr)
        return 130
