"""Which files a review covers: walk paths, apply excludes, read stdin."""

from __future__ import annotations

import fnmatch
import os
import re
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from scrutiny.findings import FileError

DEFAULT_EXCLUDES = (
    ".git",
    ".hg",
    ".svn",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    ".eggs",
    "*.egg-info",
    "__pycache__",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
)
STDIN = "-"


@dataclass(frozen=True, slots=True)
class Input:
    """One file to review: a path on disk, or bytes already read (stdin)."""

    display: str
    path: Path | None = None
    data: bytes | None = None
    in_package: bool = False


@lru_cache(maxsize=16)
def _matcher(patterns: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    # One regex for every glob: the walk asks about each name and path, and calling
    # fnmatch once per pattern per name was most of a warm review's discovery time.
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)).match


def _excluded(name: str, rel: str, patterns: tuple[str, ...]) -> bool:
    match = _matcher(patterns)
    return bool(match(os.path.normcase(name)) or match(os.path.normcase(rel)))


def _display(path: str) -> str:
    # File names that are not valid UTF-8 come back from the OS with surrogate escapes;
    # show them with replacement characters rather than fail when printing.
    text = path.replace(os.sep, "/")
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def discover(
    targets: list[str],
    excludes: tuple[str, ...] = (),
    *,
    stdin_name: str = "<stdin>",
) -> tuple[list[Input], list[FileError]]:
    """Expand targets to files; a target that cannot be used becomes a per-file error."""
    patterns = DEFAULT_EXCLUDES + tuple(excludes)
    inputs: list[Input] = []
    errors: list[FileError] = []
    for target in targets:
        if target == STDIN:
            inputs.append(Input(stdin_name, data=sys.stdin.buffer.read()))
            continue
        path = Path(target)
        try:
            info = path.stat()
        except OSError as exc:
            errors.append(FileError(_display(target), "not-found", exc.strerror or str(exc)))
            continue
        if stat.S_ISDIR(info.st_mode):
            found, problems = _walk(path, patterns)
            inputs.extend(found)
            errors.extend(problems)
        elif stat.S_ISREG(info.st_mode):
            inputs.append(Input(_display(target), path, in_package=(path.parent / "__init__.py").exists()))
        else:
            errors.append(FileError(_display(target), "unreadable", "not a regular file (device, FIFO or socket)"))
    unique: dict[str, Input] = {}
    for item in inputs:
        unique.setdefault(item.display, item)
    return sorted(unique.values(), key=lambda i: i.display), sorted(errors, key=lambda e: e.path)


def _walk(root: Path, patterns: tuple[str, ...]) -> tuple[list[Input], list[FileError]]:
    inputs: list[Input] = []
    errors: list[FileError] = []

    def report(exc: OSError) -> None:
        errors.append(FileError(_display(exc.filename or str(root)), "unreadable", exc.strerror or str(exc)))

    # followlinks=False: a symlink loop cannot make the walk run forever.
    for directory, subdirs, files in os.walk(root, onerror=report, followlinks=False):
        rel_dir = os.path.relpath(directory, root)
        subdirs[:] = sorted(
            d for d in subdirs if not _excluded(d, os.path.normpath(os.path.join(rel_dir, d)), patterns)
        )
        in_package = "__init__.py" in files
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if _excluded(name, rel, patterns):
                continue
            full = Path(directory) / name
            try:
                mode = full.lstat().st_mode
                if stat.S_ISLNK(mode):
                    mode = full.stat().st_mode
            except OSError as exc:
                errors.append(FileError(_display(str(full)), "unreadable", exc.strerror or str(exc)))
                continue
            if not stat.S_ISREG(mode):
                errors.append(FileError(_display(str(full)), "unreadable", "not a regular file"))
                continue
            inputs.append(Input(_display(str(full)), full, in_package=in_package))
    return inputs, errors
