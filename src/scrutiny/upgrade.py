"""``pypi:NAME==OLD..NEW``: review an upgrade between two releases as a change.

Both sdists are fetched as ``pypi:NAME==VERSION`` is; every Python file that differs
between the two trees (matched by its path inside the sdist) is a change, and the files
both releases share byte for byte are the context, as the unchanged tree is for
``--diff``. Each finding is then introduced, fixed or unchanged by the upgrade
(change.py). Install-time and import-time behaviour (install_time.py) of the two
releases is compared too, by what it is and where (not by line), and what appeared or
disappeared is listed in the change section.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from scrutiny import baseline as baselines
from scrutiny import install_time, pypi
from scrutiny.api import Config
from scrutiny.change import ChangeError, FileChange, review
from scrutiny.discover import Input, discover
from scrutiny.findings import FileError
from scrutiny.install_time import Behaviour
from scrutiny.report.compose import InputInfo, Review

SPEC = re.compile(r"^pypi:([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9!+_-][A-Za-z0-9.!+_-]*?)\.\.([A-Za-z0-9.!+_-]+)$")
# Behaviour changes listed one by one in the verdict's reasons; the rest are counted.
MAX_NOTES = 10


def parse(target: str) -> tuple[str, str, str] | None:
    """(name, old, new) of ``pypi:NAME==OLD..NEW``; None for any other target."""
    match = SPEC.match(target)
    return (match.group(1), match.group(2), match.group(3)) if match else None


def _tree(fetched: pypi.Fetched, excludes: tuple[str, ...]) -> tuple[dict[str, Input], list[FileError]]:
    """The release's Python files by their path inside the sdist."""
    items, errors = discover([str(fetched.root)], excludes)
    prefix = str(fetched.root).replace("\\", "/").rstrip("/") + "/"
    by_path = {item.display.removeprefix(prefix): item for item in items}
    shown = [FileError(e.path.replace(prefix, f"{fetched.root.name}/"), e.kind, e.message, e.line) for e in errors]
    return by_path, shown


def changes_between(
    old: pypi.Fetched, new: pypi.Fetched, excludes: tuple[str, ...] = ()
) -> tuple[list[FileChange], list[Input], list[FileError]]:
    """(the changed files, the files both releases share as context, the new release's unreadable files).

    Each version's files are shown under its own top directory (NAME-OLD/, NAME-NEW/); a
    changed file is "modified" from one to the other, so its findings keep their identity.
    A file that moved (pkg/x.py to src/pkg/x.py when a project takes the src layout) is
    "renamed", so its findings keep their identity too.
    """
    before, _ = _tree(old, excludes)
    after, errors = _tree(new, excludes)
    old_top, new_top = old.root.name, new.root.name
    moves = moved(sorted(before.keys() - after.keys()), sorted(after.keys() - before.keys()))
    moved_to = set(moves.values())
    changes: list[FileChange] = []
    context: list[Input] = []
    for rel in sorted(before.keys() | after.keys()):
        if rel in moved_to:
            continue
        was, now = before.get(rel), after.get(rel)
        status = "modified"
        if rel in moves:
            status, now = "renamed", after[moves[rel]]
        new_rel = moves.get(rel, rel)
        old_bytes = _read(was)
        if now is not None:
            shown = Input(f"{new_top}/{new_rel}", now.path, None, now.in_package)
            if status == "modified" and was is not None and old_bytes == _read(now):
                context.append(shown)
                continue
        if was is None:
            assert now is not None
            changes.append(FileChange("added", None, shown.display, None, None, now.path, None, now.in_package))
        elif now is None:
            changes.append(FileChange("deleted", f"{old_top}/{rel}", None, old_bytes, None, None, was.in_package))
        else:
            changes.append(
                FileChange(
                    status,
                    f"{old_top}/{rel}",
                    shown.display,
                    old_bytes,
                    None,
                    now.path,
                    was.in_package,
                    now.in_package,
                )
            )
    return changes, context, errors


def moved(gone: list[str], added: list[str]) -> dict[str, str]:
    """Old path -> new path of files that moved: the one added path that ends with the
    gone path, or that the gone path ends with (``pkg/x.py`` and ``src/pkg/x.py``)."""
    by_name: dict[str, list[str]] = {}
    for path in added:
        by_name.setdefault(path.rsplit("/", 1)[-1], []).append(path)
    moves: dict[str, str] = {}
    for path in gone:
        candidates = [
            a for a in by_name.get(path.rsplit("/", 1)[-1], []) if a.endswith("/" + path) or path.endswith("/" + a)
        ]
        if len(candidates) == 1 and candidates[0] not in moves.values():
            moves[path] = candidates[0]
    return moves


def _read(item: Input | None) -> bytes | None:
    if item is None or item.path is None:
        return None
    try:
        return Path(item.path).read_bytes()
    except OSError:
        return None


def compare_behaviour(old: list[Behaviour], new: list[Behaviour]) -> list[tuple[str, Behaviour]]:
    """("appeared", b) for behaviour only the new release has, ("disappeared", b) for the old's only."""
    old_keys = {b.key for b in old}
    new_keys = {b.key for b in new}
    appeared = [("appeared", b) for b in new if b.key not in old_keys]
    gone = [("disappeared", b) for b in old if b.key not in new_keys]
    return _unique(appeared) + _unique(gone)


def _unique(found: list[tuple[str, Behaviour]]) -> list[tuple[str, Behaviour]]:
    seen: set[tuple[str, str, str]] = set()
    kept = []
    for state, behaviour in found:
        if behaviour.key not in seen:
            seen.add(behaviour.key)
            kept.append((state, behaviour))
    return kept


def _notes(changed: list[tuple[str, Behaviour]]) -> list[str]:
    notes = [f"The upgrade {'adds' if state == 'appeared' else 'removes'} {b.when}-time behaviour: {b.describe()}."
             for state, b in changed[:MAX_NOTES]]  # fmt: skip
    if len(changed) > MAX_NOTES:
        notes.append(f"... and {len(changed) - MAX_NOTES} more install- or import-time change(s) (see --format json).")
    return notes


def review_upgrade(
    target: str,
    config: Config,
    baseline: baselines.Baseline | None = None,
    notify: Callable[[str], None] = lambda message: None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> Review:
    spec = parse(target)
    assert spec is not None
    name, old_version, new_version = spec
    fetched: list[pypi.Fetched] = []
    for version in (old_version, new_version):
        try:
            one = pypi.fetch(f"{pypi.PREFIX}{name}=={version}")
        except pypi.FetchError as exc:
            raise ChangeError(str(exc)) from None
        how = "from the cache" if one.cached else "downloaded"
        notify(f"{name}=={version}: {one.filename} {how}, sha256 {one.sha256}")
        fetched.append(one)
    old, new = fetched
    return review_releases(old, new, config, baseline, notify, progress)


def review_releases(
    old: pypi.Fetched,
    new: pypi.Fetched,
    config: Config,
    baseline: baselines.Baseline | None = None,
    notify: Callable[[str], None] = lambda message: None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> Review:
    """The change review from release ``old`` to release ``new`` (both unpacked)."""
    changes, context, errors = changes_between(old, new, config.excludes)
    notify(f"{len(changes)} Python file(s) differ between {old.name} {old.version} and {new.version}")
    inputs = [InputInfo(f"{pypi.PREFIX}{v.name}=={v.version}", "pypi", v.filename, v.sha256) for v in (old, new)]
    result = review(
        changes,
        "upgrade",
        f"{old.name} {old.version} -> {new.version}",
        [],
        config,
        baseline,
        progress,
        context_files=(context, errors),
        inputs=inputs,
    )
    assert result.change is not None
    behaviour = compare_behaviour(install_time.behaviours(old.root), install_time.behaviours(new.root))
    result.change.behaviour = [(state, b.when, b.describe()) for state, b in behaviour]
    notes = _notes(behaviour)
    result.change.notes.extend(notes)
    result.reasons.extend(notes)
    return result
