"""Review a change: the Python files a git diff (--diff BASE) or a patch (--patch FILE) touches.

Both versions of every changed file are reviewed whole, each with the unchanged files of
the tree beside it, so the cross-module taint phase still follows a path through code
the change did not touch (unchanged files come from the per-file cache, and their
result serves both versions). The review shows the changed files after the change; each
finding is classified by fingerprint as introduced, unchanged or (present before, gone
after) fixed. A renamed file's findings before the change are moved to its new name
before fingerprints are taken, so they keep their identity.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from scrutiny import baseline as baselines
from scrutiny import gitdiff, patch, taint
from scrutiny.api import Config, _lookup, keep_link, kept_link_findings, link_key, open_cache, reloader, review_all
from scrutiny.cache import ResultCache
from scrutiny.config import Plan
from scrutiny.discover import DEFAULT_EXCLUDES, Input, _display, _excluded, discover
from scrutiny.findings import FileError, FileResult, Finding
from scrutiny.report.changes import ChangedFile, ChangeSection, change_verdict, classify
from scrutiny.report.compose import CLEAN_VERDICT, InputInfo, Review, compose

if TYPE_CHECKING:
    from scrutiny.taint import incremental


class ChangeError(Exception):
    """The change cannot be read: not a repository, a bad revision, a patch that does not apply."""


@dataclass(frozen=True, slots=True)
class FileChange:
    status: str  # added, modified, deleted, renamed
    old: str | None  # display path before the change (None: added)
    new: str | None  # display path after the change (None: deleted)
    before: bytes | None  # content before the change
    after: bytes | None  # content after; None with ``new`` set: read ``after_path`` from disk
    after_path: Path | None = None
    # Whether each version sits in a package (has an __init__.py beside it); None: look
    # beside the display path in the working tree.
    before_in_package: bool | None = None
    after_in_package: bool | None = None


def _placer(targets: list[str], excludes: tuple[str, ...]) -> Callable[[str], str | None]:
    """The display path a file gets when the targets are reviewed (as discover names it), or None
    when it is outside every target or excluded."""
    roots = [(target, os.path.realpath(target), os.path.isdir(target)) for target in targets]
    patterns = DEFAULT_EXCLUDES + excludes

    def place(path: str) -> str | None:
        real = os.path.realpath(path)
        for target, root, is_dir in roots:
            if not is_dir:
                if real == root:
                    return _display(target)
                continue
            rel = os.path.relpath(real, root)
            if rel == os.pardir or rel.startswith(os.pardir + os.sep):
                continue
            parts = rel.split(os.sep)
            if any(_excluded(part, os.path.join(*parts[: n + 1]), patterns) for n, part in enumerate(parts)):
                return None
            return _display(str(Path(target) / rel))
        return None

    return place


def from_git(base: str, targets: list[str], excludes: tuple[str, ...] = ()) -> list[FileChange]:
    """The changes between revision ``base`` and the working tree, under ``targets``."""
    try:
        root = gitdiff.repository_root()
        commit = gitdiff.resolve(base)
        found = gitdiff.changes(commit, targets)
        place = _placer(targets, excludes)
        changes: list[FileChange] = []
        for change in found:
            old_path = change.old_path if change.old_path and change.old_path.endswith(".py") else None
            new_path = change.new_path if change.new_path and change.new_path.endswith(".py") else None
            old = place(os.path.join(root, old_path)) if old_path else None
            new = place(os.path.join(root, new_path)) if new_path else None
            if old is None and new is None:
                continue
            status = change.status if old and new else "added" if new else "deleted"
            before = gitdiff.show(commit, old_path) if old and old_path else None
            after_path = Path(root, new_path) if new and new_path else None
            changes.append(FileChange(status, old, new, before, None, after_path))
    except gitdiff.GitError as exc:
        raise ChangeError(str(exc)) from None
    return changes


def from_patch(data: bytes, targets: list[str], excludes: tuple[str, ...] = ()) -> list[FileChange]:
    """The changes a unified diff makes to the working tree (which is the version before).

    Paths of a git diff are relative to the repository's root (the current directory
    outside a repository); those of a plain diff to the current directory.
    """
    text = data.decode("utf-8", "surrogateescape")
    place = _placer(targets, excludes)
    try:
        root = gitdiff.repository_root()
    except gitdiff.GitError:
        root = "."
    changes: list[FileChange] = []
    try:
        for file_patch in patch.parse(text):
            if not any(p and p.endswith(".py") for p in (file_patch.old_path, file_patch.new_path)):
                continue
            change = _patched(file_patch, place, root if file_patch.git else ".")
            if change is not None:
                changes.append(change)
    except patch.PatchError as exc:
        raise ChangeError(f"the patch does not apply: {exc}") from None
    return changes


def _existing(path: str, base: str, strip: bool) -> str | None:
    """The working-tree file a patch path names; a plain diff's paths may carry one extra leading directory."""
    candidates = [path, path.split("/", 1)[1]] if strip and "/" in path else [path]
    return next((found for c in candidates if os.path.isfile(found := os.path.join(base, c))), None)


def _patched(file_patch: patch.FilePatch, place: Callable[[str], str | None], base: str) -> FileChange | None:
    git = file_patch.git
    if file_patch.old_path is None:  # a new file
        assert file_patch.new_path is not None
        created = os.path.join(base, file_patch.new_path)
        if os.path.exists(created):
            raise patch.PatchError(f"{file_patch.new_path}: the patch creates it, but it already exists")
        new = place(created)
        after = patch.apply(file_patch, "").encode("utf-8", "surrogateescape")
        return FileChange("added", None, new, None, after) if new else None
    candidates = [file_patch.old_path] if git else [file_patch.old_path, file_patch.new_path]
    found = next((p for p in (_existing(c, base, not git) for c in candidates if c) if p), None)
    if found is None:
        raise patch.PatchError(f"{file_patch.old_path}: the patch changes it, but it is not in the working tree")
    before = Path(found).read_bytes()
    after_text = patch.apply(file_patch, before.decode("utf-8", "surrogateescape"))
    old = place(found)
    if file_patch.new_path is None:
        return FileChange("deleted", old, None, before, None) if old else None
    new = place(os.path.join(base, file_patch.new_path) if git else found)
    if old is None and new is None:
        return None
    after = after_text.encode("utf-8", "surrogateescape")
    if old and new:
        return FileChange("renamed" if old != new else "modified", old, new, before, after)
    if new:
        return FileChange("added", None, new, None, after)
    return FileChange("deleted", old, None, before, None)


def _in_package(display: str) -> bool:
    return (Path(display).parent / "__init__.py").exists()


def _package(display: str, known: bool | None) -> bool:
    return _in_package(display) if known is None else known


def _split(linked: list[Finding], changed: set[str]) -> tuple[list[Finding], list[Finding]]:
    """Cross-module taint findings that touch a changed file: (in changed files, in unchanged files)."""
    inside: list[Finding] = []
    outside: list[Finding] = []
    for finding in linked:
        if finding.location.path in changed:
            inside.append(finding)
        elif any(step.path in changed for step in finding.trace):
            outside.append(finding)
    return inside, outside


def _links(
    context: tuple[list[Input], list[FileResult]],
    before: tuple[list[Input], list[FileResult]],
    after: tuple[list[Input], list[FileResult]],
    changed: set[str],
    config: Config,
    plan: Plan,
) -> tuple[list[Finding], list[Finding]]:
    """The cross-module findings of the tree before and after the change.

    With the cache, the link of each version is kept; the version after the change is
    linked from the one before, solving again only what the change reaches.
    """
    if not taint.enabled():
        return [], []
    from scrutiny.taint import incremental

    sides = [[r.summary for r in context[1] + side[1] if r.summary is not None] for side in (before, after)]
    if not config.cache:
        return taint.link(sides[0]), taint.link(sides[1])
    cache = open_cache(config.max_bytes, plan)
    before_key, after_key = (link_key(cache, context[0] + side[0], config.max_bytes) for side in (before, after))
    # A state is kept only when no two modules define the same name: then the order of the
    # files, which the key does not cover, does not matter.
    before_state = _cached_state(cache, before_key)
    if before_state is None:
        before_state = incremental.full(sides[0])
        if before_key is not None and before_state.unique:
            keep_link(cache, before_key, before_state)
    after_state = _cached_state(cache, after_key)
    if after_state is None:
        after_state = incremental.update(before_state, sides[1], changed) or incremental.full(sides[1])
        if after_key is not None and after_state.unique:
            keep_link(cache, after_key, after_state)
    return (
        before_state.findings if len(sides[0]) > 1 else [],
        after_state.findings if len(sides[1]) > 1 else [],
    )


def _kept_links(
    context: list[Input], before: list[Input], after: list[Input], config: Config, plan: Plan
) -> tuple[list[Finding], list[Finding], ResultCache] | None:
    """The cross-module findings of both versions when the cache has them (a change reviewed
    before), as ``_links`` gives them, else None.

    Then the unchanged files' results are not needed for the link: only the few files a
    cross-module path of a changed file reaches are read from the cache (``_Context``).
    """
    if not config.cache or not taint.enabled():
        return None
    cache = open_cache(config.max_bytes, plan)
    kept = [kept_link_findings(cache, link_key(cache, context + side, config.max_bytes)) for side in (before, after)]
    if kept[0] is None or kept[1] is None:
        return None
    # A link of fewer than two modules finds nothing (as in _links).
    before_found, after_found = (found if linked > 1 else [] for linked, found in (kept[0], kept[1]))
    return before_found, after_found, cache


class _Context:
    """The unchanged files' results by path, each read from the cache (or reviewed) when first asked for."""

    def __init__(self, items: list[Input], config: Config, plan: Plan, cache: ResultCache) -> None:
        self.items = {item.display: item for item in items}
        self.config = config
        self.plan = plan
        self.cache = cache
        self.loaded: dict[str, FileResult] = {}

    def get(self, path: str) -> FileResult | None:
        if path not in self.loaded:
            item = self.items.get(path)
            if item is None:
                return None
            config = self.config
            found = _lookup(item, config.max_bytes, self.cache)[0]
            if found is None:  # not in the cache (any more): review it, as the whole run would
                [found] = review_all(
                    [item], config.max_bytes, 1, True, plan=self.plan, file_timeout=config.file_timeout
                )
            self.loaded[path] = found
        return self.loaded[path]


def _cached_state(cache: ResultCache, key: str | None) -> incremental.LinkState | None:
    from scrutiny.taint import incremental

    loaded = cache.load_review(key) if key is not None else None
    return loaded if isinstance(loaded, incremental.LinkState) else None


def _side(
    changed: list[FileResult],
    context: Callable[[str], FileResult | None],
    paths: set[str],
    settle: Callable[[list[Finding]], None],
    linked: list[Finding],
) -> list[FileResult]:
    """One version's results: the changed files, plus (findings only) unchanged files a path reaches.

    ``settle`` gives the changed files' cross-module findings to their results through the
    files' suppressions, as a whole review does.
    """
    inside, outside = _split(linked, paths)
    settle(inside)
    extra: dict[str, FileResult] = {}
    for finding in outside:
        path = finding.location.path
        if path not in extra:
            known = context(path)
            extra[path] = FileResult(path, known.lines if known else 0, known.context if known else None)
        extra[path].findings.append(finding)
    return changed + list(extra.values())


def _moved(result: FileResult, path: str) -> FileResult:
    """``result`` under a renamed file's new name, so its findings keep their fingerprints."""

    def move(finding: Finding) -> Finding:
        if finding.location.path != result.path:
            return finding
        return replace(finding, location=replace(finding.location, path=path))

    result.findings = [move(f) for f in result.findings]
    result.suppressed = [replace(s, finding=move(s.finding)) for s in result.suppressed]
    result.path = path
    return result


def review(
    changes: list[FileChange],
    mode: str,
    base: str,
    targets: list[str],
    config: Config,
    baseline: baselines.Baseline | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
    context_files: tuple[list[Input], list[FileError]] | None = None,
    inputs: list[InputInfo] | None = None,
) -> Review:
    """The review of ``changes`` with a change section; unchanged files under ``targets`` give context.

    ``context_files`` gives the unchanged files (and discovery errors) directly, for changes
    that are not to the working tree (an upgrade between two releases).
    """
    items, errors = context_files if context_files is not None else discover(targets, config.excludes)
    touched = {c.old for c in changes if c.old} | {c.new for c in changes if c.new}
    context_items = [i for i in items if i.display not in touched]
    after_items = [
        Input(c.new, c.after_path if c.after is None else None, c.after, _package(c.new, c.after_in_package))
        for c in changes
        if c.new
    ]
    before_items = [Input(c.old, None, c.before, _package(c.old, c.before_in_package)) for c in changes if c.old]
    plan = Plan(config.settings)
    kept = _kept_links(context_items, before_items, after_items, config, plan)
    # With both links kept, only the changed files' results are needed (from the cache).
    reviewed = after_items + before_items if kept is not None else context_items + after_items + before_items
    results = review_all(
        reviewed,
        config.max_bytes,
        config.jobs,
        config.cache,
        progress,
        plan=plan,
        file_timeout=config.file_timeout,
    )
    split = len(reviewed) - len(after_items) - len(before_items), len(reviewed) - len(before_items)
    context, after, before = results[: split[0]], results[split[0] : split[1]], results[split[1] :]
    context_of = (
        _Context(context_items, config, plan, kept[2]).get if kept is not None else {r.path: r for r in context}.get
    )

    from scrutiny import suppress

    def settler(side: list[FileResult], side_items: list[Input]) -> Callable[[list[Finding]], None]:
        return lambda found: suppress.settle_linked(
            found, side, side_items, plan, reloader(side_items, config.max_bytes)
        )

    changed_paths = {c.old for c in changes if c.old} | {c.new for c in changes if c.new}
    if kept is not None:
        linked_before, linked_after = kept[0], kept[1]
    else:
        linked_before, linked_after = _links(
            (context_items, context), (before_items, before), (after_items, after), changed_paths, config, plan
        )
    after_side = _side(after, context_of, {c.new for c in changes if c.new}, settler(after, after_items), linked_after)
    before_side = _side(
        before, context_of, {c.old for c in changes if c.old}, settler(before, before_items), linked_before
    )
    renames = {c.old: c.new for c in changes if c.old and c.new and c.old != c.new}
    before_side = [_moved(r, renames[r.path]) if r.path in renames else r for r in before_side]
    if baseline is not None:
        baselines.apply(baseline, after_side)
        baselines.apply(baseline, before_side)

    notes = [
        f"{r.path}: the version before the change could not be reviewed ({r.error.kind}); "
        "its findings count as introduced."
        for r in before
        if r.error is not None
    ]
    new_paths = {c.new for c in changes if c.new}
    kept_errors = [e for e in errors if e.path in new_paths or e.kind == "not-found"]
    inputs = inputs if inputs is not None else [InputInfo(t, "path") for t in targets]
    floors = plan.floors(after_items)
    after_review = compose(after_side, kept_errors, inputs, config.min_severity, floors=floors, enabled=plan.enabled)
    before_review = compose(before_side, [], inputs, config.min_severity, floors=floors, enabled=plan.enabled)

    introduced, fixed, unchanged = classify(before_review.findings, after_review.findings)
    files = [ChangedFile(c.status, c.old, c.new) for c in changes]
    after_review.change = ChangeSection(
        mode,
        base,
        sorted(files, key=lambda f: f.path),
        introduced=introduced,
        fixed=fixed,
        unchanged=unchanged,
        notes=notes,
    )
    clean_reasons = after_review.reasons if after_review.verdict == CLEAN_VERDICT else []
    after_review.verdict, reasons = change_verdict(after_review, CLEAN_VERDICT)
    after_review.reasons = reasons + clean_reasons if after_review.verdict == CLEAN_VERDICT else reasons
    if baseline is not None:
        baselines.note(after_review, baseline)
    return after_review


def review_request(
    targets: list[str],
    config: Config,
    diff: str | None = None,
    patch_file: str | None = None,
    baseline_file: str | None = None,
    notify: Callable[[str], None] = lambda message: None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> Review:
    """What ``scrutiny review`` runs: a whole review, or a change review with --diff/--patch.

    The baseline, the revision and the patch are all read and checked before anything is
    reviewed, so a bad one stops the run (ChangeError, BaselineError) before any output.
    """
    from scrutiny import upgrade
    from scrutiny.api import scan

    loaded = baselines.load(baseline_file) if baseline_file else None
    if any(upgrade.parse(t) for t in targets):
        if len(targets) != 1 or diff is not None or patch_file is not None:
            raise ChangeError("an upgrade (pypi:NAME==OLD..NEW) is reviewed alone, without --diff or --patch")
        return upgrade.review_upgrade(targets[0], config, loaded, notify, progress)
    if diff is None and patch_file is None:
        return scan(targets, config, notify, progress, baseline=loaded)
    targets = targets or ["."]
    for target in targets:
        if target == "-" or target.startswith("pypi:"):
            raise ChangeError(f"--diff and --patch review paths of the working tree, not {target!r}")
    if diff is not None:
        mode, base = "diff", diff
        changes = from_git(diff, targets, config.excludes)
    else:
        assert patch_file is not None
        mode, base = "patch", patch_file if patch_file != "-" else "<stdin>"
        try:
            data = sys.stdin.buffer.read() if patch_file == "-" else Path(patch_file).read_bytes()
        except OSError as exc:
            raise ChangeError(f"cannot read the patch {patch_file}: {exc.strerror or exc}") from None
        changes = from_patch(data, targets, config.excludes)
    notify(f"{len(changes)} changed Python file(s) {'since ' + base if mode == 'diff' else 'in ' + base}")
    return review(changes, mode, base, targets, config, loaded, progress)
