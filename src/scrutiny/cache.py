"""The per-file result cache: a file whose bytes, rules and settings are unchanged is not reviewed again.

An entry is one pickled ``FileResult`` stored under the sha256 of everything the result
depends on: the file's bytes, the name it is shown under and whether it sits in a
package (both feed the context classifier and every finding's location), scrutiny's
version, the Python version (the parser decides what is a syntax error), the rule ids,
a hash of scrutiny's own source files (rules, observers, classifier and taint models
all shape a result, so any edit to them invalidates the cache) and the settings that
change a per-file result. ``--min-severity`` and ``--exclude`` act after the per-file
review, so they are not part of the key and do not empty the cache.

A stat index (path, size, mtime, ctime, inode -> entry key) lets a warm run find a file's
entry without reading it, and a whole-review entry, keyed by every file's entry key and
the run's settings, spares the cross-module link and composing the review when nothing
changed: a warm re-review of an unchanged tree only stats its files. Beside them are the
ids of the registered rules per version of scrutiny's code (so a warm run names the rules
without importing them) and, for each kept cross-module link, its findings alone (so a
change reviewed again does not load the whole link state).

Entries are written to a temporary file and renamed into place, so an interrupted run
never leaves a broken entry; an entry that cannot be read is a miss, never an error.
The cache lives in the user's cache directory (created private, mode 0700). Pickle is
used because loading is the whole cost of a warm run, and since a cache directory can be
restored from somewhere others write, every entry is signed and checked before it is
unpickled (``cache_auth``).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from scrutiny import __version__, cache_auth
from scrutiny.findings import FileResult

# Results that depend on something other than the file's bytes are not kept.
UNCACHED_ERRORS = frozenset({"unreadable", "internal", "timeout"})  # may not recur on another run
PACKAGE = Path(__file__).resolve().parent


def cache_root() -> Path:
    """``$SCRUTINY_CACHE_DIR``, else ``$XDG_CACHE_HOME/scrutiny``, else ``~/.cache/scrutiny``."""
    explicit = os.environ.get("SCRUTINY_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "scrutiny"


def results_dir() -> Path:
    return cache_root() / "results"


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of scrutiny's own source and data files, computed once per process."""
    digest = hashlib.sha256()
    files = sorted(p for p in PACKAGE.rglob("*") if p.suffix in (".py", ".toml", ".json") and p.is_file())
    for path in files:
        digest.update(path.relative_to(PACKAGE).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def rules_fingerprint(rule_ids: list[str], settings: str) -> str:
    """Everything in a key that is the same for every file of a run."""
    parts = (
        __version__,
        f"{sys.version_info.major}.{sys.version_info.minor}",
        ",".join(sorted(rule_ids)),
        code_fingerprint(),
        settings,
    )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def key(data: bytes, display: str, in_package: bool, run_fingerprint: str) -> str:
    digest = hashlib.sha256(run_fingerprint.encode())
    digest.update(b"\0" + display.encode("utf-8", "surrogateescape") + b"\0" + (b"1" if in_package else b"0") + b"\0")
    digest.update(data)
    return digest.hexdigest()


class ResultCache:
    """Load and store FileResults under ``root``; every failure is a miss, never an error."""

    def __init__(self, root: Path, run_fingerprint: str) -> None:
        self.root = root
        self.run_fingerprint = run_fingerprint
        # Without a key nothing is read or written: an unsigned entry would be refused later.
        self.secret: bytes | None = None
        try:
            self.secret = cache_auth.load_key(root.parent)
        except cache_auth.CacheKeyError as exc:
            cache_auth.warn_once("key", f"the result cache is off: {exc}")
        self.usable = self.secret is not None
        self.runs = root.with_name("runs")  # stat indexes and whole reviews, beside the per-file entries
        self._stat_index: dict[str, tuple[tuple[int, ...], str]] | None = None
        self._index_changed = False

    def _path(self, entry: str) -> Path:
        return self.root / entry[:2] / entry[2:]

    def key(self, data: bytes, display: str, in_package: bool) -> str:
        return key(data, display, in_package, self.run_fingerprint)

    def load(self, entry: str) -> FileResult | None:
        result = self._read(self._path(entry))
        return result if isinstance(result, FileResult) else None

    def store(self, entry: str, result: FileResult) -> None:
        if result.error is not None and result.error.kind in UNCACHED_ERRORS:
            return
        self._write(self._path(entry), result)

    def _write(self, target: Path, value: object) -> None:
        global _writing
        if not self.usable:
            return
        try:
            if not target.parent.is_dir():
                _make_private(self.runs if target.parent == self.runs else self.root)
                target.parent.mkdir(exist_ok=True)
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            sealed = cache_auth.seal(self.secret or b"", self._name(target), payload)
            handle, _writing = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(handle, "wb") as out:
                out.write(sealed)
            os.replace(_writing, target)
            _writing = ""
        except OSError:
            # A read-only or full disk must not fail the review; stop trying for this run.
            self.usable = False
        finally:
            abandon_write()

    def _read(self, target: Path) -> Any:
        """The entry at ``target``, or None if it is missing, cannot be read or fails its MAC."""
        if self.secret is None:
            return None
        try:
            with open(target, "rb") as handle:
                blob = handle.read()
        except OSError:
            return None
        payload = cache_auth.unseal(self.secret, self._name(target), blob)
        if payload is None:
            cache_auth.refused(target)
            return None
        try:
            return pickle.loads(payload)  # noqa: S301  (its MAC was checked: scrutiny wrote it, under this key)
        except Exception:  # noqa: BLE001  (written by an older scrutiny whose classes changed: a miss)
            return None

    def _name(self, target: Path) -> str:
        """Where an entry sits in the cache, which its MAC covers, so it cannot be moved to another key."""
        return target.relative_to(self.root.parent).as_posix()

    # The stat index ------------------------------------------------------------------

    def _index_path(self) -> Path:
        return self.runs / f"index-{self.run_fingerprint[:32]}"

    def _index(self) -> dict[str, tuple[tuple[int, ...], str]]:
        if self._stat_index is None:
            loaded = self._read(self._index_path())
            self._stat_index = loaded if isinstance(loaded, dict) else {}
        return self._stat_index

    def known_key(self, path: str, display: str, in_package: bool) -> tuple[str | None, tuple[int, ...] | None]:
        """The entry key recorded for an unchanged file, and the file's stat signature."""
        try:
            info = os.stat(path)
        except OSError:
            return None, None
        signature = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)
        known = self._index().get(_index_name(path, display, in_package))
        return (known[1] if known is not None and known[0] == signature else None), signature

    def remember_key(
        self, path: str, display: str, in_package: bool, signature: tuple[int, ...] | None, entry: str
    ) -> None:
        """Record ``entry`` for the file whose stat, taken before reading it, was ``signature``."""
        # A file changed within the clock's resolution of being read could keep its
        # signature; such recent files are not indexed (the way git treats "racily clean").
        if signature is None or signature[1] > time.time_ns() - 2_000_000_000:
            return
        self._index()[_index_name(path, display, in_package)] = (signature, entry)
        self._index_changed = True

    def save_index(self) -> None:
        if self._index_changed:
            self._write(self._index_path(), self._stat_index)
            self._index_changed = False

    # The rule ids --------------------------------------------------------------------

    def rule_ids(self) -> frozenset[str]:
        """The ids of every registered rule, kept per version of scrutiny's code (which
        they depend on only), so that a warm run names the rules without importing them."""
        rules = sys.modules.get("scrutiny.rules")
        if rules is not None:  # imported already: ask it (it also knows rules registered at run time)
            return frozenset(rules.registered())
        entry = self.runs / f"rules-{code_fingerprint()[:32]}"
        known = self._read(entry)
        if isinstance(known, frozenset) and all(isinstance(rule_id, str) for rule_id in known):
            return known
        from scrutiny.registry import registered

        known = frozenset(registered())
        self._write(entry, known)
        return known

    # Whole reviews -------------------------------------------------------------------

    def review_key(self, entries: list[str], settings: str) -> str:
        digest = hashlib.sha256(f"review\0{self.run_fingerprint}\0{settings}\0".encode())
        for entry in entries:
            digest.update(entry.encode() + b"\0")
        return digest.hexdigest()

    def load_review(self, key: str) -> Any:
        return self._read(self.runs / key)

    def store_review(self, key: str, review: object) -> None:
        self._write(self.runs / key, review)


def _index_name(path: str, display: str, in_package: bool) -> str:
    return f"{path}\0{display}\0{int(in_package)}"


# The temporary file being written, so a worker stopped mid-write can remove it.
_writing = ""


def abandon_write() -> None:
    global _writing
    if _writing:
        try:
            os.unlink(_writing)
        except OSError:
            pass
        _writing = ""


def _make_private(root: Path) -> None:
    # Only the results directory itself is made private; parents keep the usual mode.
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
