"""Command line: argument parsing, output files and exit codes only.

Exit codes: 0 no defects, 1 defects found, 2 usage error or nothing could be reviewed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence

from scrutiny import __version__
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

exit codes:
  0  no security defects (notes at info level do not count)
  1  at least one defect at or above --min-severity
  2  usage error, or nothing could be reviewed

examples:
  scrutiny review src/
  scrutiny review --format json --output review.json pypi:nova==34.0.0
  git show HEAD:app.py | scrutiny review - --stdin-name app.py"""


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
    review.add_argument("targets", nargs="+", metavar="TARGET", help="PATH, - or pypi:NAME[==VERSION]")
    review.add_argument("--format", choices=sorted(FORMATS), default="text", help="output format (default: text)")
    review.add_argument(
        "-o", "--output", metavar="FILE", help="write the review to FILE (atomically) instead of stdout"
    )
    review.add_argument(
        "--min-severity",
        default="info",
        metavar="LEVEL",
        help="hide findings below LEVEL: info, low, medium, high (default: info)",
    )
    review.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="skip files or directories matching GLOB (repeatable)",
    )
    review.add_argument("--stdin-name", default="<stdin>", metavar="NAME", help="file name to use for code read from -")
    review.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="review files in N processes (default: one per core; 1 reviews in this process)",
    )
    review.add_argument(
        "--no-cache", action="store_true", help="neither read nor write the per-file result cache (~/.cache/scrutiny)"
    )
    review.add_argument("-q", "--quiet", action="store_true", help="do not print progress notes on stderr")

    rules = commands.add_parser("rules", help="list the rules", description="List every rule scrutiny runs.")
    rules.add_argument("--format", choices=("text", "json", "markdown"), default="text")

    explain = commands.add_parser("explain", help="print a rule's documentation", description="Explain a rule.")
    explain.add_argument("rule_id", metavar="RULE-ID")
    return parser


class Progress:
    """A one-line file counter on stderr for runs longer than a second, only on a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.monotonic()
        self.shown_at = 0.0
        self.dirty = False

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.started < 1.0 or now - self.shown_at < 0.2:
            return
        self.shown_at = now
        self.dirty = True
        sys.stderr.write(f"\rscrutiny: reviewed {done:,}/{total:,} files")
        sys.stderr.flush()

    def close(self) -> None:
        if self.dirty:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def write_atomically(path: str, text: str) -> None:
    """Write to a temporary file beside PATH, then rename: never a half-written file."""
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
    from scrutiny.api import Config, render, scan

    try:
        min_severity = Severity.parse(args.min_severity)
    except ValueError as exc:
        print(f"scrutiny: error: --min-severity: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.targets.count("-") > 1:
        print("scrutiny: error: '-' (standard input) can be given only once", file=sys.stderr)
        return EXIT_USAGE

    def notify(message: str) -> None:
        if not args.quiet:
            print(f"scrutiny: {message}", file=sys.stderr)

    if args.jobs < 0:
        print("scrutiny: error: --jobs must be 0 (one per core) or more", file=sys.stderr)
        return EXIT_USAGE
    config = Config(
        excludes=tuple(args.exclude),
        min_severity=min_severity,
        stdin_name=args.stdin_name,
        jobs=args.jobs,
        cache=not args.no_cache,
    )
    progress = Progress(enabled=not args.quiet and sys.stderr.isatty())
    try:
        review = scan(args.targets, config, notify, progress.update)
    finally:
        progress.close()
    try:
        _emit(render(review, args.format), args.output)
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    handlers = {"review": _review, "rules": _rules, "explain": _explain}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        print("scrutiny: interrupted; no output was written", file=sys.stderr)
        return 130
