"""scan(targets, config) -> Review: the one entry point the CLI and the tests call."""

from __future__ import annotations

import errno
import gc
import os
import signal
import stat
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from scrutiny import baseline as baselines
from scrutiny import pypi, source, taint, vendored
from scrutiny.baseline import Baseline
from scrutiny.cache import UNCACHED_ERRORS, ResultCache, abandon_write, results_dir, rules_fingerprint
from scrutiny.config import FilePolicy, Plan, Settings, every_rule
from scrutiny.context import classify
from scrutiny.discover import Input, discover
from scrutiny.findings import FileError, FileResult, Finding, Severity
from scrutiny.report.compose import InputInfo, Review, compose
from scrutiny.report.prose import TextOptions

if TYPE_CHECKING:
    from scrutiny.rules import RuleSet
    from scrutiny.taint import incremental

# The rules, the observers, the suppressions and the incremental link are imported where
# a file is reviewed or linked: a run whose review is in the cache needs none of them.


def __getattr__(name: str) -> Any:
    """``RuleSet`` and ``all_rules``: callers build rule sets through api (imported on first use)."""
    if name in ("RuleSet", "all_rules"):
        from scrutiny import rules

        return getattr(rules, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Seconds one file's review may take before it is stopped and reported as a "timeout" error.
# Generous: the slowest real file seen (ansible-core, nova) takes a few seconds.
DEFAULT_FILE_TIMEOUT = 120.0


@dataclass(frozen=True)
class Config:
    excludes: tuple[str, ...] = ()
    min_severity: Severity = Severity.INFO
    max_bytes: int = source.DEFAULT_MAX_BYTES
    stdin_name: str = "<stdin>"
    jobs: int = 1  # worker processes; 0 means one per core, 1 reviews in this process
    cache: bool = False  # read and write the per-file result cache (the CLI turns it on)
    settings: Settings | None = None  # the project's configuration (rules, overrides, nosec, models)
    file_timeout: float = DEFAULT_FILE_TIMEOUT  # per-file budget in seconds; 0 means none


class FileTimeout(BaseException):
    """A file's time budget ran out. A BaseException, like KeyboardInterrupt, so that no
    ``except Exception`` in a rule can swallow it and carry on."""


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise FileTimeout in this thread once ``seconds`` of wall time have passed.

    A SIGALRM interval timer, so it works in worker processes and with --jobs 1 alike. No
    budget where there is no such timer (Windows) or off the main thread (signal handlers
    run only there): the review then simply runs to its end.
    """
    if seconds <= 0 or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise FileTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Pause CPython's cycle collector for a file's review, a run of reviews or the link.

    A review allocates millions of objects (the syntax tree, its index, taint values) that
    plain reference counting frees; the cycle collector would scan them again and again
    as they are made, about a fifth of a cold review's CPU. Reviews leave no cycles behind
    (none on nova's 1,500 files), so a run only needs ``collect_young`` now and then.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# Files reviewed between two collections of young objects while a run keeps the
# collector paused: survivors of that many files are scanned once, not after every file.
COLLECT_EVERY = 256


def collect_young(reviewed: int) -> None:
    if reviewed % COLLECT_EVERY == 0:
        gc.collect(0)


@dataclass
class _Targets:
    paths: list[str] = field(default_factory=list)
    inputs: list[InputInfo] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    display_roots: dict[str, str] = field(default_factory=dict)


def _resolve_targets(
    targets: list[str], notify: Callable[[str], None], known: Mapping[str, pypi.Fetched] | None = None
) -> _Targets:
    resolved = _Targets()
    for target in targets:
        if not target.startswith(pypi.PREFIX):
            resolved.paths.append(target)
            resolved.inputs.append(InputInfo(target, "path"))
            continue
        try:
            fetched = known[target] if known and target in known else pypi.fetch(target)
        except pypi.FetchError as exc:
            resolved.errors.append(FileError(target, "fetch", str(exc)))
            continue
        how = "from the cache" if fetched.cached else "downloaded"
        notify(f"{target}: {fetched.filename} {how}, sha256 {fetched.sha256}")
        resolved.paths.append(str(fetched.root))
        resolved.display_roots[str(fetched.root)] = fetched.root.name
        resolved.inputs.append(InputInfo(target, "pypi", fetched.filename, fetched.sha256))
    return resolved


def read_input(item: Input, max_bytes: int = source.DEFAULT_MAX_BYTES) -> bytes:
    """The file's bytes, at most ``max_bytes + 1`` (enough to tell that it is too large).

    Opened without blocking and checked after opening: a file replaced by a FIFO or a
    device after discovery gives an error instead of hanging the run.
    """
    if item.data is not None:
        return item.data
    assert item.path is not None
    descriptor = os.open(item.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with open(descriptor, "rb", buffering=0, closefd=True) as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file (device, FIFO or socket)")
        # Asking for the size it has (not the 32 MiB limit) spares a huge buffer per file;
        # a file that grows meanwhile is still read up to the limit.
        chunks = [handle.read(min(info.st_size, max_bytes) + 1) or b""]
        total = len(chunks[0])
        while info.st_size < total <= max_bytes and chunks[-1]:
            chunks.append(handle.read(min(1 << 20, max_bytes + 1 - total)) or b"")
            total += len(chunks[-1])
        return b"".join(chunks)


def review_file(
    item: Input,
    rules: RuleSet,
    max_bytes: int = source.DEFAULT_MAX_BYTES,
    policy: FilePolicy | None = None,
    file_timeout: float = DEFAULT_FILE_TIMEOUT,
) -> FileResult:
    """Review one file. Any failure becomes the result's error; nothing propagates."""
    try:
        data = read_input(item, max_bytes)
    except OSError as exc:
        return FileResult(item.display, error=FileError(item.display, "unreadable", exc.strerror or str(exc)))
    return review_data(item, data, rules, max_bytes, policy, file_timeout)


def review_data(
    item: Input,
    data: bytes,
    rules: RuleSet,
    max_bytes: int = source.DEFAULT_MAX_BYTES,
    policy: FilePolicy | None = None,
    file_timeout: float = DEFAULT_FILE_TIMEOUT,
) -> FileResult:
    """Review one file's bytes (already read). Any failure becomes the result's error.

    ``policy`` says which rules' findings count and whether # nosec is honoured (default:
    every rule, nosec ignored); inline suppressions always apply. A review that takes
    more than ``file_timeout`` seconds is stopped and becomes a "timeout" error.
    """
    result = FileResult(item.display)
    try:
        with time_budget(file_timeout), cycle_collection_paused():
            _review_into(result, item, data, rules, max_bytes, policy or every_rule())
    except FileTimeout:
        message = f"review stopped after the per-file time budget of {file_timeout:g} s (--file-timeout)"
        result.error = FileError(item.display, "timeout", message)
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
        result.summary = None
    return result


def _review_into(
    result: FileResult, item: Input, data: bytes, rules: RuleSet, max_bytes: int, policy: FilePolicy
) -> None:
    from scrutiny import suppress
    from scrutiny.observe import observe

    src = source.load(data, item.display, in_package=item.in_package, max_bytes=max_bytes)
    result.lines = src.line_count
    result.context = classify(src)
    result.summary, taint_findings = taint.summarize(src, result.context)
    result.findings, result.suppressed = suppress.settle(src, [*rules.run(src), *taint_findings], policy)
    result.findings = with_excerpts(result.findings, src)
    result.observations = observe(src, result.context)
    result.has_suppressions = bool(src.suppressions) or bool(suppress.nosec_lines(src))
    result.python2_repairs = src.python2_repairs
    if result.summary is not None:
        result.sink_excerpts = {(row[2], row[4]): src.excerpt(row[2], row[4]) for row in result.summary.sinks}


def with_excerpts(findings: list[Finding], src: source.SourceFile) -> list[Finding]:
    """The findings, each with its statement and two lines around it (the HTML review shows them)."""
    return [replace(f, excerpt=src.excerpt(f.location.line, f.location.last_line)) for f in findings]


def _excerpt_linked(results: list[FileResult]) -> None:
    """Cross-module findings come from summaries: their code is the excerpt kept for their sink
    (a warm review reads no file)."""
    for result in results:
        if result.sink_excerpts and any(f.excerpt is None for f in result.findings):
            kept = result.sink_excerpts
            result.findings = [
                f if f.excerpt else replace(f, excerpt=kept.get((f.location.line, f.location.end_line)))
                for f in result.findings
            ]


def scan(
    targets: list[str],
    config: Config | None = None,
    notify: Callable[[str], None] = lambda message: None,
    progress: Callable[[int, int], None] = lambda done, total: None,
    baseline: Baseline | None = None,
    fetched: Mapping[str, pypi.Fetched] | None = None,
    shown_as: dict[str, str] | None = None,
) -> Review:
    """Review every target; ``progress(done, total)`` is called after each file.

    Findings a ``baseline`` accepts are hidden (and counted) before the review is composed.
    ``fetched`` gives ``pypi:`` targets already fetched (a wheel a lockfile pins, say).
    ``shown_as`` maps a directory target to the name its files are shown under (a batch
    shows a tree as NAME/..., so paths and fingerprints do not depend on where it lies).
    """
    config = config or Config()
    plan = Plan(config.settings)
    resolved = _resolve_targets(targets, notify, fetched)
    resolved.display_roots.update(shown_as or {})
    items, errors = discover(resolved.paths, config.excludes, stdin_name=config.stdin_name)
    items = [_rebase(item, resolved.display_roots) for item in items]
    items = plan.narrow(items, targets)
    # A whole-review cache entry spares the link and compose phases on an unchanged tree
    # (not with a baseline, whose content the key does not cover).
    whole = _whole_review_key(items, config, resolved, errors, plan) if config.cache and baseline is None else None
    global _WHOLE
    if whole is not None:
        cached = whole[0].load_review(whole[1])
        if isinstance(cached, Review):
            progress(len(items), len(items))
            _WHOLE = (cached, *whole)
            return cached
    results = review_all(
        items, config.max_bytes, config.jobs, config.cache, progress, plan=plan, file_timeout=config.file_timeout
    )
    # The cross-module taint phase needs every file's summary, cached or fresh; its findings
    # then pass through their sink file's suppressions like any other.
    with cycle_collection_paused():
        found = linked(items, results, config.max_bytes, plan, config.cache)
        _drop_settled_in_tree(results)
    from scrutiny import suppress

    suppress.settle_linked(found, results, items, plan, reloader(items, config.max_bytes))
    _excerpt_linked(results)
    vendored.lower(results, items)
    if baseline is not None:
        baselines.apply(baseline, results)
    review = compose(results, resolved.errors + errors, resolved.inputs, config.min_severity,
                     floors=plan.floors(items), enabled=plan.enabled)  # fmt: skip
    if baseline is not None:
        baselines.note(review, baseline)
    elif whole is not None and not any(r.error is not None and r.error.kind in UNCACHED_ERRORS for r in results):
        whole[0].store_review(whole[1], review)
        _WHOLE = (review, *whole)
    return review


def reloader(items: list[Input], max_bytes: int) -> Callable[[str], source.SourceFile | None]:
    """Reads a reviewed file again (for the suppressions of cross-module findings)."""
    by_display = {item.display: item for item in items}

    def reload(path: str) -> source.SourceFile | None:
        item = by_display[path]
        try:
            return source.load(read_input(item, max_bytes), path, in_package=item.in_package, max_bytes=max_bytes)
        except (OSError, source.SourceError, RecursionError):
            return None

    return reload


# The last review scan() found in or stored to the cache, with its cache and key.
_WHOLE: tuple[Review, ResultCache, str] | None = None


def render(review: Review, format_name: str, text_options: TextOptions | None = None) -> str:
    """``FORMATS[format_name](review)``, kept beside a cached review so a warm run does not render it again.

    ``text_options`` say what the text review prints beyond its defects (--notes, --details)."""
    from scrutiny.report import FORMATS, prose

    def produce() -> str:
        if format_name == "text" and text_options is not None:
            return prose.render(review, text_options)
        return FORMATS[format_name](review)

    if _WHOLE is None or _WHOLE[0] is not review:
        return produce()
    _, cache, key = _WHOLE
    variant = format_name
    if format_name == "text" and text_options is not None:
        variant += f".notes={text_options.notes}.details={text_options.details}"
    text = cache.load_review(f"{key}.{variant}")
    if not isinstance(text, str):
        text = produce()
        cache.store_review(f"{key}.{variant}", text)
    return text


def _whole_review_key(
    items: list[Input], config: Config, resolved: _Targets, errors: list[FileError], plan: Plan
) -> tuple[ResultCache, str] | None:
    """The cache and the key of the review of exactly these files and settings, if all are readable."""
    cache = open_cache(config.max_bytes, plan)
    entries = []
    for item in items:
        entry = _entry_key(item, config.max_bytes, cache)[0]
        if entry is None:
            return None
        entries.append(entry)
    cache.save_index()
    # Every setting except how the work is done (jobs, cache) can change the review.
    settings = repr((replace(config, jobs=0, cache=True), resolved.inputs, resolved.errors, errors))
    return cache, cache.review_key(entries, settings)


def open_cache(max_bytes: int, plan: Plan) -> ResultCache:
    if not plan.knows_rules():
        plan.know(ResultCache(results_dir(), "").rule_ids())
    settings = f"max_bytes={max_bytes}\nconfig={plan.settings.fingerprint()}\ntaint={taint.enabled()}"
    return ResultCache(results_dir(), rules_fingerprint(sorted(plan.enabled), settings))


def link_key(cache: ResultCache, items: list[Input], max_bytes: int) -> str | None:
    """The cache key of the cross-module link of exactly these files (None if one cannot be read)."""
    entries = []
    for item in items:
        entry = _entry_key(item, max_bytes, cache)[0]
        if entry is None:
            return None
        entries.append(entry)
    return cache.review_key(sorted(entries), "taint-link")


def _drop_settled_in_tree(results: list[FileResult]) -> None:
    """Drop each file's own taint findings whose path passes a check of another file that
    clears it (the linker does the same for paths between files)."""
    from scrutiny.taint.solve import settled_in_tree

    summaries = [r.summary for r in results if r.summary is not None]
    if len(summaries) < 2 or not taint.enabled():
        return
    gone = {id(f) for f in settled_in_tree([f for r in results for f in r.findings], summaries)}
    if gone:
        for result in results:
            result.findings = [f for f in result.findings if id(f) not in gone]


def linked(items: list[Input], results: list[FileResult], max_bytes: int, plan: Plan, use_cache: bool) -> list[Finding]:
    """The cross-module taint findings of ``results`` (of ``items``), from the cache where it has them.

    What the link established is kept (when no two modules define the same name, so the
    order of the files does not matter), for a later change review to start from.
    """
    from scrutiny.taint import incremental

    summaries = [r.summary for r in results if r.summary is not None]
    if not use_cache or len(summaries) < 2 or not taint.enabled():
        return taint.link(summaries)
    cache = open_cache(max_bytes, plan)
    key = link_key(cache, items, max_bytes)
    kept = kept_link_findings(cache, key)
    if kept is not None:
        return kept[1]
    state = cache.load_review(key) if key is not None else None
    if isinstance(state, incremental.LinkState):
        return state.findings
    state = incremental.full(summaries)
    if key is not None and state.unique:
        keep_link(cache, key, state)
    return state.findings


def keep_link(cache: ResultCache, key: str, state: incremental.LinkState) -> None:
    """Store a link's state and, beside it, its findings alone: a review that only needs
    the findings does not load the whole state (what every function calls, writes and found)."""
    cache.store_review(key, state)
    cache.store_review(f"{key}.findings", (len(state.defined), state.findings))


def kept_link_findings(cache: ResultCache, key: str | None) -> tuple[int, list[Finding]] | None:
    """(the number of modules linked, the cross-module findings) of the link kept under ``key``."""
    loaded = cache.load_review(f"{key}.findings") if key is not None else None
    if isinstance(loaded, tuple) and len(loaded) == 2 and isinstance(loaded[0], int) and isinstance(loaded[1], list):
        return loaded
    return None


def _entry_key(item: Input, max_bytes: int, cache: ResultCache) -> tuple[str | None, bytes | None]:
    """The file's cache key (from the stat index when the file is unchanged, else by reading
    and hashing it) and its bytes if they had to be read; (None, None) if it cannot be read."""
    signature = None
    if item.path is not None and item.data is None:
        known, signature = cache.known_key(str(item.path), item.display, item.in_package)
        if known is not None:
            return known, None
    try:
        data = read_input(item, max_bytes)
    except OSError:
        return None, None
    entry = cache.key(data, item.display, item.in_package)
    if item.path is not None and item.data is None:
        cache.remember_key(str(item.path), item.display, item.in_package, signature, entry)
    return entry, data


def review_all(
    items: list[Input],
    max_bytes: int = source.DEFAULT_MAX_BYTES,
    jobs: int = 1,
    use_cache: bool = False,
    progress: Callable[[int, int], None] = lambda done, total: None,
    *,
    plan: Plan | None = None,
    file_timeout: float = DEFAULT_FILE_TIMEOUT,
) -> list[FileResult]:
    """Review ``items`` (from the cache where possible), in worker processes when ``jobs`` > 1.

    Results come back in the order of ``items`` whatever the number of jobs, so the
    review is byte-identical for any ``jobs``.
    """
    plan = plan or Plan()
    plan.use_models()
    cache = open_cache(max_bytes, plan) if use_cache else None
    jobs = jobs if jobs > 0 else (os.cpu_count() or 1)
    total = len(items)
    results: list[FileResult | None] = [None] * total
    done = 0
    if jobs == 1 or total < 2:
        with cycle_collection_paused():
            for index, item in enumerate(items):
                results[index] = _review_cached(
                    item, plan, max_bytes, cache, lookup=True, file_timeout=file_timeout
                )
                done += 1
                collect_young(done)
                progress(done, total)
        return [r for r in results if r is not None]
    pending: list[tuple[int, int]] = []  # (size, index): the largest files start first
    for index, item in enumerate(items):
        hit, size = _lookup(item, max_bytes, cache)
        if hit is not None:
            results[index] = hit
            done += 1
            progress(done, total)
        else:
            pending.append((size, index))
    if len(pending) < 2:
        for _, index in pending:
            results[index] = _review_cached(
                items[index], plan, max_bytes, cache, lookup=False, file_timeout=file_timeout
            )
            done += 1
            progress(done, total)
        return [r for r in results if r is not None]
    # Imported here: a one-file or warm review never starts workers and skips their import cost.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    pending.sort(key=lambda p: (-p[0], p[1]))
    tasks = [(index, items[index]) for _, index in pending]
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    # concurrent.futures rather than multiprocessing.Pool: a worker that dies (killed for
    # memory, say) breaks the pool with an error instead of leaving the run waiting forever.
    setup = (plan, max_bytes, cache, file_timeout)
    executor = ProcessPoolExecutor(min(jobs, len(tasks)), context, _start_worker, setup)
    try:
        futures = [executor.submit(_review_task, task) for task in tasks]
        try:
            with cycle_collection_paused():  # the results arriving are all kept
                for future in as_completed(futures):
                    index, result = future.result()
                    results[index] = result
                    done += 1
                    collect_young(done)
                    progress(done, total)
        except BrokenProcessPool:
            for index, item in enumerate(items):
                if results[index] is None:
                    message = "a worker process died while reviewing this or another file"
                    results[index] = FileResult(item.display, error=FileError(item.display, "internal", message))
    except BaseException:
        # Ctrl-C (or any failure): stop the workers now; an entry they were writing is
        # only a temporary file, never a half-written result.
        stop_workers(executor)
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return [r for r in results if r is not None]


def stop_workers(executor: Any) -> None:
    """Terminate a ProcessPoolExecutor's workers so that its shutdown() cannot hang."""
    for process in list(getattr(executor, "_processes", {}).values()):
        process.terminate()
    # A worker stopped while sending a large result leaves half a message in the
    # result pipe, and this process holds the pipe's other write end: the executor's
    # reader thread would wait for the rest forever and shutdown() with it. Closing
    # that end lets the reader see end-of-file once the workers are gone.
    writer = getattr(getattr(executor, "_result_queue", None), "_writer", None)
    if writer is not None:
        writer.close()


def _lookup(item: Input, max_bytes: int, cache: ResultCache | None) -> tuple[FileResult | None, int]:
    """A cached result for ``item`` if there is one, and the file's size (to schedule the work)."""
    try:
        if cache is None:
            return None, (len(item.data) if item.data is not None else os.stat(item.path or "").st_size)
    except OSError:
        return None, 0
    entry, data = _entry_key(item, max_bytes, cache)
    if entry is None:
        return None, 0
    hit = cache.load(entry)
    if hit is None and data is None:
        try:
            return None, os.stat(item.path or "").st_size
        except OSError:
            return None, 0
    return hit, len(data) if data is not None else 0


def _review_cached(
    item: Input,
    plan: Plan,
    max_bytes: int,
    cache: ResultCache | None,
    *,
    lookup: bool,
    file_timeout: float = DEFAULT_FILE_TIMEOUT,
) -> FileResult:
    """Read once, then a cached result or a fresh review (stored under the bytes just read)."""
    data = None
    if cache is not None and lookup:
        entry, data = _entry_key(item, max_bytes, cache)
        result = cache.load(entry) if entry is not None else None
        if result is not None:
            return result
    try:
        data = read_input(item, max_bytes) if data is None else data
    except OSError as exc:
        return FileResult(item.display, error=FileError(item.display, "unreadable", exc.strerror or str(exc)))
    policy = plan.policy(item.path, item.display)
    if cache is None:
        return review_data(item, data, plan.rules(policy), max_bytes, policy, file_timeout)
    entry = cache.key(data, item.display, item.in_package)
    result = review_data(item, data, plan.rules(policy), max_bytes, policy, file_timeout)
    cache.store(entry, result)
    return result


@dataclass
class _Worker:
    plan: Plan
    max_bytes: int
    cache: ResultCache | None
    file_timeout: float
    reviewed: int = 0


_WORKER: _Worker | None = None


def _start_worker(plan: Plan, max_bytes: int, cache: ResultCache | None, file_timeout: float) -> None:
    global _WORKER
    # Ctrl-C reaches the whole process group: the parent alone handles it and stops the
    # workers, so they print no tracebacks. A stopped worker still removes its temporary file.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_worker)
    plan.use_models()
    _WORKER = _Worker(plan, max_bytes, cache, file_timeout)
    gc.disable()  # for the worker's life: _review_task collects young objects now and then


def _exit_worker(signum: int, frame: object) -> None:
    # Exit at once (an exception would be sent back as the task's result and the worker
    # would go on), removing the cache entry's temporary file if one is being written.
    abandon_write()
    os._exit(128 + signum)


def _review_task(task: tuple[int, Input]) -> tuple[int, FileResult]:
    index, item = task
    assert _WORKER is not None
    result = _review_cached(
        item, _WORKER.plan, _WORKER.max_bytes, _WORKER.cache, lookup=False, file_timeout=_WORKER.file_timeout
    )
    _WORKER.reviewed += 1
    collect_young(_WORKER.reviewed)
    return index, result


def _rebase(item: Input, roots: dict[str, str]) -> Input:
    """Show files of a fetched sdist as NAME-VERSION/..., not as cache paths."""
    if item.path is None:
        return item
    for root, shown in roots.items():
        prefix = root.replace(os.sep, "/").rstrip("/") + "/"
        if item.display.startswith(prefix):
            return Input(shown + "/" + item.display[len(prefix) :], item.path, item.data, item.in_package)
    return item
