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
    return _excluded_by(_matcher(patterns), name, rel)


def _excluded_by(match: Callable[[str], re.Match[str] | None], name: str, rel: str) -> bool:
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
    match = _matcher(patterns)
    top = os.fspath(root)
    # Paths shown the way pathlib writes them ("x/a.py" under ".", not "./x/a.py") without
    # building a Path per directory: a warm review is mostly this walk.
    shown_top = "" if top == os.curdir else top
    # (directory as os.walk would name it, path relative to the root or "" for the root)
    pending: list[tuple[str, str]] = [(top, "")]
    while pending:
        directory, rel_dir = pending.pop()
        try:
            with os.scandir(directory) as scan:
                entries = list(scan)
        except OSError as exc:
            errors.append(FileError(_display(exc.filename or directory), "unreadable", exc.strerror or str(exc)))
            continue
        files: list[os.DirEntry[str]] = []
        for entry in entries:
            name = entry.name
            rel = f"{rel_dir}{os.sep}{name}" if rel_dir else name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                # A symlinked directory is not entered, so a symlink loop cannot make the walk run forever.
                if not entry.is_symlink() and not _excluded_by(match, name, rel):
                    pending.append((os.path.join(directory, name), rel))
            else:
                files.append(entry)
        in_package = any(entry.name == "__init__.py" for entry in files)
        for entry in files:
            name = entry.name
            if not name.endswith(".py"):
                continue
            rel = f"{rel_dir}{os.sep}{name}" if rel_dir else name
            if _excluded_by(match, name, rel):
                continue
            shown = os.path.join(shown_top, rel) if shown_top else rel
            try:
                # The directory entry knows a plain file without a system call; a symlink is
                # followed, so a dangling one is reported with the system's reason.
                regular = entry.is_file(follow_symlinks=False) or (
                    entry.is_symlink() and stat.S_ISREG(os.stat(entry.path).st_mode)
                )
            except OSError as exc:
                errors.append(FileError(_display(shown), "unreadable", exc.strerror or str(exc)))
                continue
            if not regular:
                errors.append(FileError(_display(shown), "unreadable", "not a regular file"))
                continue
            inputs.append(Input(_display(shown), Path(shown), in_package=in_package))
    return inputs, errors
