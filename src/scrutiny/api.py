"""scan(targets, config) -> Review: the one entry point the CLI and the tests call."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from scrutiny import pypi, source, taint
from scrutiny.context import classify
from scrutiny.discover import Input, discover
from scrutiny.findings import FileError, FileResult, Severity, Suppressed
from scrutiny.observe import observe
from scrutiny.report.compose import InputInfo, Review, compose
from scrutiny.rules import RuleSet, all_rules


@dataclass(frozen=True)
class Config:
    excludes: tuple[str, ...] = ()
    min_severity: Severity = Severity.INFO
    max_bytes: int = source.DEFAULT_MAX_BYTES
    stdin_name: str = "<stdin>"


@dataclass
class _Targets:
    paths: list[str] = field(default_factory=list)
    inputs: list[InputInfo] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    display_roots: dict[str, str] = field(default_factory=dict)


def _resolve_targets(targets: list[str], notify: Callable[[str], None]) -> _Targets:
    resolved = _Targets()
    for target in targets:
        if not target.startswith(pypi.PREFIX):
            resolved.paths.append(target)
            resolved.inputs.append(InputInfo(target, "path"))
            continue
        try:
            fetched = pypi.fetch(target)
        except pypi.FetchError as exc:
            resolved.errors.append(FileError(target, "fetch", str(exc)))
            continue
        how = "from the cache" if fetched.cached else "downloaded"
        notify(f"{target}: {fetched.filename} {how}, sha256 {fetched.sha256}")
        resolved.paths.append(str(fetched.root))
        resolved.display_roots[str(fetched.root)] = fetched.root.name
        resolved.inputs.append(InputInfo(target, "pypi", fetched.filename, fetched.sha256))
    return resolved


def review_file(item: Input, rules: RuleSet, max_bytes: int = source.DEFAULT_MAX_BYTES) -> FileResult:
    """Review one file. Any failure becomes the result's error; nothing propagates."""
    result = FileResult(item.display)
    try:
        if item.data is not None:
            data = item.data
        else:
            assert item.path is not None
            with open(item.path, "rb") as handle:
                data = handle.read(max_bytes + 1)
        src = source.load(data, item.display, in_package=item.in_package, max_bytes=max_bytes)
        result.lines = src.line_count
        result.context = classify(src)
        result.summary, taint_findings = taint.summarize(src, result.context)
        for finding in [*rules.run(src), *taint_findings]:
            suppression = src.suppression_for(finding.location.line, finding.location.end_line, finding.rule_id)
            if suppression is not None:
                reason = suppression.reason or "no reason given"
                result.suppressed.append(Suppressed(finding, f"suppressed inline at line {suppression.line}: {reason}"))
            else:
                result.findings.append(finding)
        result.observations = observe(src, result.context)
    except source.SourceError as exc:
        result.error = FileError(item.display, exc.kind, exc.message, exc.line)
    except OSError as exc:
        result.error = FileError(item.display, "unreadable", exc.strerror or str(exc))
    except RecursionError:
        result.error = FileError(item.display, "too-deep", "nesting is too deep to analyse")
    except MemoryError:
        result.error = FileError(item.display, "too-large", "ran out of memory analysing this file")
    except Exception as exc:  # noqa: BLE001  (a bug in one rule must not lose the other files)
        result.error = FileError(item.display, "internal", f"scrutiny failed on this file: {type(exc).__name__}: {exc}")
    if result.error is not None:
        result.findings.clear()
        result.observations.clear()
        result.suppressed.clear()
    return result


def scan(
    targets: list[str],
    config: Config | None = None,
    notify: Callable[[str], None] = lambda message: None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> Review:
    """Review every target; ``progress(done, total)`` is called after each file."""
    config = config or Config()
    resolved = _resolve_targets(targets, notify)
    items, errors = discover(resolved.paths, config.excludes, stdin_name=config.stdin_name)
    items = [_rebase(item, resolved.display_roots) for item in items]
    rules = RuleSet(all_rules())
    results = []
    for done, item in enumerate(items, start=1):
        results.append(review_file(item, rules, config.max_bytes))
        progress(done, len(items))
    by_path = {result.path: result for result in results}
    for finding in taint.link([r.summary for r in results if r.summary is not None]):
        by_path[finding.location.path].findings.append(finding)
    return compose(results, resolved.errors + errors, resolved.inputs, config.min_severity)


def _rebase(item: Input, roots: dict[str, str]) -> Input:
    """Show files of a fetched sdist as NAME-VERSION/..., not as cache paths."""
    if item.path is None:
        return item
    for root, shown in roots.items():
        prefix = root.replace(os.sep, "/").rstrip("/") + "/"
        if item.display.startswith(prefix):
            return Input(shown + "/" + item.display[len(prefix) :], item.path, item.data, item.in_package)
    return item
