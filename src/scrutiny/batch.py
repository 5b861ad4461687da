"""Batch review: many targets, one row each (and one per finding) in a results database.

Targets are ``pypi:`` specs, directories or git working trees, one per line of a list.
The driver (this process) identifies each target (fetches the sdist or hashes the tree),
skips those already stored for the same input, scrutiny version and settings, hands the
rest to workers (a local process pool, or Ray tasks with ``--ray``) and writes each
result itself, one transaction per target (``results_db``). A worker that dies is retried
up to ``max_retries`` times; then the target is stored as failed, never dropped.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from scrutiny import __version__, pypi, source
from scrutiny.config import Plan, Settings
from scrutiny.findings import Severity
from scrutiny.results_db import FindingRow, Outcome, ResultsDB, TargetRow, target_key

# Seconds the driver waits after storing each target. Only for tests: it lets a test kill
# a run at a known point (after the first target is stored) without racing the work.
PAUSE_VARIABLE = "SCRUTINY_BATCH_PAUSE"
# Targets identified (sdists fetched, trees hashed) at once: the work is mostly waiting on I/O.
IDENTIFY_THREADS = 8
DIED = "a worker process died while reviewing it"


class BatchError(Exception):
    """The batch cannot start: an unreadable list, a bad popularity file."""


@dataclass(frozen=True)
class BatchSettings:
    """How every target of a batch is reviewed; its hash is part of each stored row's key."""

    settings: Settings = field(default_factory=Settings)
    max_bytes: int = source.DEFAULT_MAX_BYTES
    target_jobs: int = 1  # processes per target (the review's own pool); 1 reviews in the worker
    cache: bool = True  # the per-file result cache (a warm re-review of a tree only reads and hashes)

    @property
    def min_severity(self) -> Severity:
        return self.settings.min_severity or Severity.INFO

    def settings_hash(self) -> str:
        """What in the settings can change a stored review (how the work is spread cannot)."""
        from scrutiny import taint

        settings = self.settings
        parts = [settings.fingerprint(), repr((settings.include, settings.exclude)), self.min_severity.label]
        if settings.include or settings.exclude:
            parts.append(settings.root.as_posix())  # their globs are read from root
        parts += [str(self.max_bytes), f"taint={taint.enabled()}"]
        return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True, slots=True)
class Identity:
    """A target as the driver found it: what will be reviewed, and the hash that names that input."""

    target: str  # as listed
    location: str  # pypi spec, or the directory (resolved against the list's directory)
    kind: str  # pypi, directory or git
    name: str
    version: str
    input_sha256: str
    fetch_seconds: float
    error: str = ""  # set when the target could not be fetched or read


@dataclass
class Totals:
    listed: int = 0
    reviewed: int = 0
    failed: int = 0
    skipped: int = 0


# The list ----------------------------------------------------------------------------------


def read_list(path: str) -> list[str]:
    """Targets, one per line; ``#`` starts a comment (whole line, or after a space); blank lines skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchError(f"cannot read {path}: {exc}") from None
    targets = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if line and line not in targets:
            targets.append(line)
    return targets


def top_targets(path: str, count: int) -> list[str]:
    """The first ``count`` packages of a popularity list the user gives, as ``pypi:`` targets.

    The list is either JSON with ``rows`` of ``{"project": NAME, ...}`` (the shape of the
    widely used top-pypi-packages dumps) or text: one package per line, most used first,
    the first comma- or space-separated field naming it (``pypi:NAME==VER`` pins it); a
    first line ``project`` or ``name`` is a CSV header.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchError(f"cannot read {path}: {exc}") from None
    names: list[str] = []
    if text.lstrip().startswith("{"):
        try:
            rows = json.loads(text).get("rows", [])
            names = [str(row["project"]) for row in rows]
        except (ValueError, AttributeError, KeyError, TypeError) as exc:
            raise BatchError(f"{path}: not a list of rows with a 'project' each: {exc}") from None
    else:
        for number, line in enumerate(text.splitlines()):
            first = line.replace(",", " ").split("#", 1)[0].split()
            if not first or (number == 0 and first[0].lower() in ("project", "name")):
                continue
            names.append(first[0])
    targets: list[str] = []
    for name in names:
        target = name if name.startswith(pypi.PREFIX) else pypi.PREFIX + name
        try:
            pypi.parse_spec(target)
        except pypi.FetchError as exc:
            raise BatchError(f"{path}: {exc}") from None
        if target not in targets:
            targets.append(target)
        if len(targets) == count:
            break
    return targets


# Identifying a target (driver) ---------------------------------------------------------------


def identify(target: str, base: Path, run: BatchSettings) -> Identity:
    """Fetch the sdist (into the cache) or hash the tree; an error becomes the identity's error."""
    started = time.monotonic()
    if target.startswith(pypi.PREFIX):
        try:
            fetched = pypi.fetch(target)
        except pypi.FetchError as exc:
            name, version = _spec_parts(target)
            return Identity(target, target, "pypi", name, version, "", time.monotonic() - started, str(exc))
        seconds = time.monotonic() - started
        return Identity(target, target, "pypi", fetched.name, fetched.version, fetched.sha256, seconds)
    location = base / os.path.expanduser(target)
    name = location.resolve().name
    kind = "git" if (location / ".git").exists() else "directory"
    if not location.is_dir():
        error = "no such directory" if not location.exists() else "not a directory"
        return Identity(target, str(location), kind, name, "", "", time.monotonic() - started, error)
    version = _git_head(location) if kind == "git" else ""
    try:
        digest = tree_sha256(location, run)
    except OSError as exc:
        return Identity(target, str(location), kind, name, version, "", time.monotonic() - started, str(exc))
    return Identity(target, str(location), kind, name, version, digest, time.monotonic() - started)


def _spec_parts(target: str) -> tuple[str, str]:
    try:
        name, version = pypi.parse_spec(target)
    except pypi.FetchError:
        return target[len(pypi.PREFIX) :], ""
    return name, version or ""


def _git_head(location: Path) -> str:
    """The commit checked out (the tree's content hash says whether it has local changes)."""
    from scrutiny import gitdiff

    try:
        return gitdiff.resolve("HEAD", str(location))
    except gitdiff.GitError:
        return ""  # a repository without commits


def tree_sha256(location: Path, run: BatchSettings) -> str:
    """A hash of the files a review of ``location`` reads: each one's path (as shown) and bytes."""
    from scrutiny.api import read_input
    from scrutiny.discover import discover

    items, _ = discover([str(location)], run.settings.exclude)
    items = Plan(run.settings).narrow(items, [])
    prefix = str(location).replace(os.sep, "/").rstrip("/") + "/"
    digest = hashlib.sha256()
    for item in sorted(items, key=lambda i: i.display):
        data = read_input(item, run.max_bytes)
        shown = item.display.removeprefix(prefix).encode("utf-8", "surrogateescape")
        digest.update(b"%d:%s%d:" % (len(shown), shown, len(data)))
        digest.update(data)
    return digest.hexdigest()


# Reviewing a target (worker: a pool process or a Ray task) -----------------------------------


def review_target(identity: Identity, run: BatchSettings, attempts: int = 1) -> Outcome:
    """Review one identified target. Fetch and input errors become a failed outcome; anything
    else propagates, so the caller can retry it (Ray does) before recording a failure."""
    from scrutiny.api import Config, scan

    started = time.monotonic()
    shown_as = {} if identity.kind == "pypi" else {identity.location: identity.name}
    config = Config(
        excludes=run.settings.exclude,
        min_severity=run.min_severity,
        max_bytes=run.max_bytes,
        jobs=run.target_jobs,
        cache=run.cache,
        settings=run.settings,
    )
    review = scan([identity.location], config, shown_as=shown_as)
    seconds = time.monotonic() - started
    fetched = [i for i in review.inputs if i.kind == "pypi"]
    if identity.kind == "pypi" and (not fetched or fetched[0].sha256 != identity.input_sha256):
        found = next((e.message for e in review.errors if e.kind == "fetch"), "")
        error = found or f"the sdist fetched now is not the one identified (sha256 {identity.input_sha256})"
        return failed(identity, run, error, attempts, seconds)
    counts = review.counts
    row = _target_row(
        identity,
        run,
        "reviewed",
        attempts,
        seconds,
        files=len(review.reviewed),
        lines=sum(f.lines for f in review.reviewed),
        file_errors=len(review.errors),
        high=counts.get("high", 0),
        medium=counts.get("medium", 0),
        low=counts.get("low", 0),
        info=counts.get("info", 0),
    )
    findings = tuple(
        FindingRow(
            position=number,
            fingerprint=finding.fingerprint,
            rule_id=finding.rule_id,
            severity=finding.severity.label,
            confidence=finding.confidence.label,
            cwe=finding.cwe,
            path=finding.location.path,
            line=finding.location.line,
            message=finding.message,
        )
        for number, finding in enumerate(review.findings)
    )
    return Outcome(row, findings)


def failed(identity: Identity, run: BatchSettings, error: str, attempts: int = 1, seconds: float = 0.0) -> Outcome:
    return Outcome(_target_row(identity, run, "failed", attempts, seconds, error=error))


def _target_row(identity: Identity, run: BatchSettings, status: str, attempts: int, seconds: float,
                **outcome: Any) -> TargetRow:  # fmt: skip
    """The target's row: who it is and under which settings, plus what the attempt gave."""
    return TargetRow(
        target=identity.target,
        kind=identity.kind,
        name=identity.name,
        version=identity.version,
        input_sha256=identity.input_sha256,
        scrutiny_version=__version__,
        settings_hash=run.settings_hash(),
        status=status,
        attempts=attempts,
        fetch_seconds=round(identity.fetch_seconds, 3),
        review_seconds=round(seconds, 3),
        **outcome,
    )


# Where the work runs ---------------------------------------------------------------------


class LocalPool:
    """Targets in ``jobs`` worker processes (one target each at a time), or in this process for 1.

    Like the file pool in api.py: fork where there is fork, and concurrent.futures, so a
    worker that dies breaks the pool with an error instead of a hang. Every target the
    broken pool held is retried in a fresh pool, alone, so the one that kills its worker
    is found and stored as failed after ``max_retries`` retries; the others get through.
    """

    def __init__(self, jobs: int, run: BatchSettings, max_retries: int) -> None:
        self.jobs = max(1, jobs)
        self.run = run
        self.max_retries = max_retries
        self.done: list[tuple[Identity, Outcome]] = []
        self.waiting: deque[tuple[Identity, int, bool]] = deque()  # (identity, attempts, alone)
        self.running: dict[Future[Outcome], tuple[Identity, int, bool]] = {}
        self.executor: Any = None

    @property
    def slots(self) -> int:
        return self.jobs

    def submit(self, identity: Identity) -> None:
        if self.jobs == 1:
            self.done.append((identity, _guarded(identity, self.run, 1, self.max_retries)))
            return
        self.waiting.append((identity, 1, False))
        self._launch()

    def pending(self) -> int:
        return len(self.done) + len(self.waiting) + len(self.running)

    def _launch(self) -> None:
        from concurrent.futures.process import BrokenProcessPool

        while self.waiting and len(self.running) < self.jobs:
            alone = self.waiting[0][2]
            if (alone and self.running) or any(task[2] for task in self.running.values()):
                return  # a target under suspicion runs by itself
            identity, attempts, alone = self.waiting.popleft()
            if self.executor is None:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                methods = multiprocessing.get_all_start_methods()
                context = multiprocessing.get_context("fork" if "fork" in methods else None)
                self.executor = ProcessPoolExecutor(self.jobs, context, _start_worker)
            try:
                future = self.executor.submit(review_target, identity, self.run, attempts)
            except BrokenProcessPool:
                # A worker died since the last look: next() finds its lost futures and
                # retries them; this target was never submitted, so it waits its turn.
                self.waiting.appendleft((identity, attempts, alone))
                if self.running:
                    return
                self.executor.shutdown(wait=True, cancel_futures=True)
                self.executor = None
                continue
            self.running[future] = (identity, attempts, alone)

    def next(self) -> tuple[Identity, Outcome]:
        """One finished target (waits for one)."""
        from concurrent.futures.process import BrokenProcessPool

        while not self.done:
            self._launch()
            finished, _ = wait(list(self.running), return_when=FIRST_COMPLETED)
            retries: list[tuple[Identity, int, str]] = []
            broken = False
            for future in finished:
                identity, attempts, _ = self.running.pop(future)
                try:
                    self.done.append((identity, future.result()))
                except BrokenProcessPool:
                    broken = True
                    retries.append((identity, attempts, DIED))
                except Exception as exc:  # noqa: BLE001  (recorded as the target's failure, after retries)
                    retries.append((identity, attempts, f"{type(exc).__name__}: {exc}"))
            if broken:
                # Every target still in the pool is lost with it.
                retries += [(identity, attempts, DIED) for identity, attempts, _ in self.running.values()]
                self.running.clear()
                self.executor.shutdown(wait=True, cancel_futures=True)
                self.executor = None
            for identity, attempts, error in reversed(retries):
                if attempts > self.max_retries:
                    self.done.append((identity, failed(identity, self.run, error, attempts)))
                else:
                    self.waiting.appendleft((identity, attempts + 1, broken))
        return self.done.pop(0)

    def close(self) -> None:
        self.waiting.clear()
        if self.executor is None:
            return
        from scrutiny.api import stop_workers

        stop_workers(self.executor)
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.executor = None


def _guarded(identity: Identity, run: BatchSettings, attempts: int, max_retries: int) -> Outcome:
    """review_target in this process, retried on an unexpected error, then recorded as failed."""
    while True:
        try:
            return review_target(identity, run, attempts)
        except Exception as exc:  # noqa: BLE001  (one target's failure must not stop the batch)
            if attempts > max_retries:
                return failed(identity, run, f"{type(exc).__name__}: {exc}", attempts)
            attempts += 1


def _start_worker() -> None:
    # Ctrl-C reaches the whole process group: the driver alone handles it and stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A driver killed outright (SIGKILL, out of memory) cannot stop its workers, and a worker
    # waiting for its next target would wait forever: each one leaves when its driver is gone.
    driver = os.getppid()

    def leave_when_orphaned() -> None:
        while os.getppid() == driver:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=leave_when_orphaned, name="scrutiny-orphan-watch", daemon=True).start()


class RayPool:
    """One Ray task per target; Ray retries a task whose worker died or that raised, up to
    ``max_retries`` times, and then ``ray.get`` raises: the target is stored as failed."""

    def __init__(self, address: str, run: BatchSettings, max_retries: int, jobs: int) -> None:
        try:
            import ray
        except ImportError:
            raise BatchError("--ray needs Ray: pip install 'scrutiny[ray]'") from None
        self.ray: Any = ray
        self.run = run
        self.max_retries = max_retries
        self.started = not ray.is_initialized()  # then this batch shuts it down at the end
        if self.started:
            if address == "local":
                ray.init(num_cpus=max(1, jobs), include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
        self.remote: Any = self.ray.remote(review_target).options(
            num_cpus=max(1, run.target_jobs), max_retries=max_retries, retry_exceptions=True
        )
        self.running: dict[Any, Identity] = {}
        cpus = int(self.ray.cluster_resources().get("CPU", 1))
        # Enough tasks queued to keep every CPU busy, not the whole list at once.
        self.slots = max(2, 2 * cpus // max(1, run.target_jobs))

    def submit(self, identity: Identity) -> None:
        self.running[self.remote.remote(identity, self.run, 1)] = identity

    def pending(self) -> int:
        return len(self.running)

    def next(self) -> tuple[Identity, Outcome]:
        ready, _ = self.ray.wait(list(self.running), num_returns=1)
        identity = self.running.pop(ready[0])
        try:
            return identity, self.ray.get(ready[0])
        except Exception as exc:  # noqa: BLE001  (a task that failed every retry, or a lost worker)
            error = _ray_error(exc)
            return identity, failed(identity, self.run, error, self.max_retries + 1)

    def close(self) -> None:
        for ref in self.running:
            self.ray.cancel(ref, force=True)
        self.running.clear()
        if self.started:
            self.ray.shutdown()


def _ray_error(exc: Exception) -> str:
    """The last line of a task's error (Ray's messages repeat the whole remote traceback)."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, Exception):
        return f"{type(cause).__name__}: {cause}"
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[-1] if lines else ''}".strip()


# The driver ------------------------------------------------------------------------------


def run_batch(
    targets: list[str],
    db: ResultsDB,
    run: BatchSettings,
    *,
    base: Path = Path(),
    jobs: int = 1,
    ray_address: str | None = None,
    max_retries: int = 2,
    notify: Callable[[str], None] = lambda message: None,
) -> Totals:
    """Review every target not stored yet and store each result as soon as it is known."""
    totals = Totals(listed=len(targets))
    settings_hash = run.settings_hash()
    pause = float(os.environ.get(PAUSE_VARIABLE, "0") or 0)
    pool: LocalPool | RayPool = (
        RayPool(ray_address, run, max_retries, jobs) if ray_address else LocalPool(jobs, run, max_retries)
    )
    finished = 0

    def store(identity: Identity, outcome: Outcome) -> None:
        nonlocal finished
        row = replace(outcome.row, finished_at=_now())
        stored = db.store(Outcome(row, outcome.findings))
        finished += 1
        place = f"[{finished + totals.skipped}/{totals.listed}]"
        if not stored:
            totals.skipped += 1
            notify(f"{place} {identity.target}: already stored")
        elif row.status == "reviewed":
            totals.reviewed += 1
            found = ", ".join(f"{getattr(row, s)} {s}" for s in ("high", "medium", "low") if getattr(row, s))
            notify(
                f"{place} {identity.target}: reviewed {row.files} files in {row.review_seconds:.1f} s, "
                f"{len(outcome.findings)} findings" + (f" ({found})" if found else "")
            )
        else:
            totals.failed += 1
            notify(f"{place} {identity.target}: failed: {row.error}")
        if pause:
            time.sleep(pause)

    identities = ThreadPoolExecutor(IDENTIFY_THREADS, thread_name_prefix="scrutiny-identify")
    try:
        for identity in _identified(identities, targets, base, run):
            if identity.error:
                store(identity, failed(identity, run, identity.error))
                continue
            if db.is_reviewed(target_key(identity.target, identity.input_sha256, __version__, settings_hash)):
                totals.skipped += 1
                continue
            while pool.pending() >= pool.slots:
                store(*pool.next())
            pool.submit(identity)
        while pool.pending():
            store(*pool.next())
    finally:
        identities.shutdown(wait=False, cancel_futures=True)
        pool.close()
    if totals.skipped:
        notify(f"{totals.skipped} target(s) already stored for this input, scrutiny version and settings: skipped")
    return totals


def _identified(
    threads: ThreadPoolExecutor, targets: Iterable[str], base: Path, run: BatchSettings
) -> Iterator[Identity]:
    """Identities in list order, the next few prepared while the current one is used."""
    futures: list[Future[Identity]] = []
    queue = iter(targets)
    for target in queue:
        futures.append(threads.submit(identify, target, base, run))
        if len(futures) >= IDENTIFY_THREADS:
            break
    while futures:
        identity = futures.pop(0).result()
        following = next(queue, None)
        if following is not None:
            futures.append(threads.submit(identify, following, base, run))
        yield identity


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")
