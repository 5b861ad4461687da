"""The per-file result cache: a file whose bytes, rules and settings are unchanged is not reviewed again.

An entry is one pickled ``FileResult`` stored under the sha256 of everything the result
depends on: the file's bytes, the name it is shown under and whether it sits in a
package (both feed the context classifier and every finding's location), scrutiny's
version, the Python version (the parser decides what is a syntax error), the rule ids,
a hash of scrutiny's own source files (rules, observers, classifier and taint models
all shape a result, so any edit to them invalidates the cache) and the settings that
change a per-file result. ``--min-severity`` and ``--exclude`` act after the per-file
review, so they are not part of the key and do not empty the cache.

Entries are written to a temporary file and renamed into place, so an interrupted run
never leaves a broken entry; an entry that cannot be read is a miss, never an error.
The cache lives in the user's cache directory (created private, mode 0700), and only
scrutiny writes there; pickle is used because loading is the whole cost of a warm run.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

from scrutiny import __version__
from scrutiny.findings import FileResult

# Results that depend on something other than the file's bytes are not kept.
UNCACHED_ERRORS = frozenset({"unreadable", "internal"})
PACKAGE = Path(__file__).resolve().parent


def results_dir() -> Path:
    """``$SCRUTINY_CACHE_DIR/results``, else ``$XDG_CACHE_HOME/scrutiny/results``, else ``~/.cache/...``."""
    explicit = os.environ.get("SCRUTINY_CACHE_DIR")
    if explicit:
        return Path(explicit) / "results"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "scrutiny" / "results"


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
        self.usable = True

    def _path(self, entry: str) -> Path:
        return self.root / entry[:2] / entry[2:]

    def key(self, data: bytes, display: str, in_package: bool) -> str:
        return key(data, display, in_package, self.run_fingerprint)

    def load(self, entry: str) -> FileResult | None:
        try:
            with open(self._path(entry), "rb") as handle:
                result = pickle.load(handle)  # noqa: S301  (our own entries, in a private directory)
        except FileNotFoundError:
            return None
        except Exception:  # noqa: BLE001  (a damaged entry is a miss; it is rewritten)
            return None
        return result if isinstance(result, FileResult) else None

    def store(self, entry: str, result: FileResult) -> None:
        global _writing
        if not self.usable or (result.error is not None and result.error.kind in UNCACHED_ERRORS):
            return
        target = self._path(entry)
        try:
            if not target.parent.is_dir():
                _make_private(self.root)
                target.parent.mkdir(exist_ok=True)
            handle, _writing = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(handle, "wb") as out:
                pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(_writing, target)
            _writing = ""
        except OSError:
            # A read-only or full disk must not fail the review; stop trying for this run.
            self.usable = False
        finally:
            abandon_write()


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
