"""Which Python files changed since a git revision, and their content at that revision.

git runs as a subprocess with fixed argument lists (never a shell), paths after ``--``,
and the revision checked with ``rev-parse --verify`` before it is used anywhere else.
Nothing is written to the working tree or the index.
"""

from __future__ import annotations

import os
import shutil
import subprocess  # nosec: fixed argument lists, no shell  # noqa: S404
from dataclasses import dataclass


class GitError(Exception):
    """Not a git repository, an unknown revision, or git itself failed."""


@dataclass(frozen=True, slots=True)
class GitChange:
    status: str  # added, modified, deleted, renamed
    old_path: str | None  # relative to the repository root, as git names it
    new_path: str | None


_STATUS = {"A": "added", "M": "modified", "D": "deleted", "T": "modified", "U": "modified", "R": "renamed"}


def _git(args: list[str], cwd: str | None = None) -> bytes:
    git = shutil.which("git")
    if git is None:
        raise GitError("git is not installed (or not on PATH)")
    done = subprocess.run([git, *args], cwd=cwd, capture_output=True, check=False, env=_environment())  # noqa: S603
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[-1] if message else f"git {args[0]} failed with exit code {done.returncode}")
    return done.stdout


def _environment() -> dict[str, str]:
    # Plain, untranslated, unpaged output whatever the user's settings.
    env = dict(os.environ, LC_ALL="C", GIT_PAGER="cat", GIT_OPTIONAL_LOCKS="0")
    env.pop("GIT_EXTERNAL_DIFF", None)
    return env


def repository_root(cwd: str = ".") -> str:
    try:
        out = _git(["rev-parse", "--show-toplevel"], cwd)
    except GitError:
        raise GitError(f"{os.path.abspath(cwd)} is not inside a git repository (--diff needs one)") from None
    return os.fsdecode(out.rstrip(b"\n"))


def resolve(revision: str, cwd: str = ".") -> str:
    """The commit id ``revision`` names; an option-like or unknown revision is an error."""
    if not revision or revision.startswith("-"):
        raise GitError(f"bad revision {revision!r}")
    try:
        out = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"], cwd)
    except GitError:
        raise GitError(f"unknown revision {revision!r} (not a commit in this repository)") from None
    return out.decode().strip()


def changes(commit: str, pathspecs: list[str], cwd: str = ".") -> list[GitChange]:
    """Python files changed between ``commit`` and the working tree (committed, staged,
    unstaged), with renames detected, plus untracked ``.py`` files not ignored by git."""
    out = _git(
        ["-c", "core.quotepath=off", "diff", "--no-ext-diff", "--no-textconv", "--name-status", "-z", "-M", commit]
        + ["--", *pathspecs],
        cwd,
    )
    fields = [os.fsdecode(f) for f in out.split(b"\0")]
    found: list[GitChange] = []
    old: str | None
    new: str | None
    index = 0
    while index < len(fields) and fields[index]:
        code = fields[index][0]
        status = _STATUS.get(code, "modified")
        if code in "RC":
            old, new = fields[index + 1], fields[index + 2]
            index += 3
            if code == "C":
                status, old = "added", None
        else:
            path = fields[index + 1]
            index += 2
            old = None if status == "added" else path
            new = None if status == "deleted" else path
        if any(p and p.endswith(".py") for p in (old, new)):
            found.append(GitChange(status, old, new))
    untracked = _git(["ls-files", "--others", "--exclude-standard", "--full-name", "-z", "--", *pathspecs], cwd)
    for raw in untracked.split(b"\0"):
        path = os.fsdecode(raw)
        if path.endswith(".py"):
            found.append(GitChange("added", None, path))
    return found


def show(commit: str, path: str, cwd: str = ".") -> bytes:
    """The bytes of ``path`` (relative to the repository root) at ``commit``."""
    return _git(["show", "--no-textconv", f"{commit}:{path}"], cwd)
