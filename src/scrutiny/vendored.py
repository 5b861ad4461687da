"""Vendored copies of other projects inside a reviewed tree.

A project that ships its own copy of a library (moin's ``MoinMoin/support/passlib``, pip's
``_vendor``) carries that library's code, but the review of the project is not the place to
judge it: a defect there is the library's, fixed upstream and brought in by updating the
copy. A package is such a copy when it sits inside another package and its own files import
it by its top-level name for what it defines itself (``from passlib.utils import to_bytes``
inside ``support/passlib``, whose ``utils`` defines ``to_bytes``: the copy was made to be
importable as the library itself) and holds less than half of the files of its outermost package (the
project's own code is the rest), or when, holding less than half of those files, it carries
its own license file and sets its own ``__version__`` or ``__author__`` (a copy that imports
itself only relatively), or when it sits in a
directory named for vendored code (``_vendor``, ``third_party``). Findings above low in its files are lowered to
low, and the note names the copy.

This is a decision about the tree, made after the per-file reviews (whose cache entries
depend on one file's bytes only), from the reviewed files' paths and the names each file's
review resolved through its imports.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from scrutiny.discover import Input
from scrutiny.findings import FileResult, Severity

VENDOR_DIRS = frozenset(
    {"vendor", "_vendor", "vendored", "_vendored", "third_party", "_third_party", "thirdparty", "extern", "_extern",
     "externals"}
)  # fmt: skip
NOTE = ("in {root}, a vendored copy of the {name} package ({why}): a defect there is upstream's, "
        "fixed by updating the copy")  # fmt: skip


def vendored_roots(
    paths: list[Path], importers: dict[str, list[tuple[Path, tuple[str, ...]]]], defined: dict[Path, set[str]]
) -> dict[Path, str]:
    """The directories of vendored packages among ``paths``' ancestors, with the reason."""
    files_by_dir: dict[Path, list[Path]] = {}
    for path in paths:
        files_by_dir.setdefault(path.parent, []).append(path)
    candidates: set[Path] = set()
    for directory in files_by_dir:
        for ancestor in [directory, *directory.parents]:
            if not (ancestor / "__init__.py").is_file():
                break
            if (ancestor.parent / "__init__.py").is_file() or ancestor.parent.name.lower() in VENDOR_DIRS:
                candidates.add(ancestor)
    counts = _files_under(paths) if candidates else {}
    found: dict[Path, str] = {}
    for package in sorted(candidates, key=lambda p: len(p.parts)):
        if any(root in package.parents for root in found):
            continue  # inside a copy already found
        if package.parent.name.lower() in VENDOR_DIRS:
            found[package] = f"under {package.parent.name}/"
            continue
        importer = next((f for f, below in importers.get(package.name, ())
                         if package in f.parents and _defines(package, below, defined)), None)  # fmt: skip
        if importer is not None and not _a_part(package, counts):
            continue  # the project's own main package nested in a thin wrapper (src/app/core)
        if importer is not None:
            found[package] = f"{importer.relative_to(package.parent)} imports it as {package.name}"
            continue
        license_file = _own_license(package)
        if license_file and _a_part(package, counts):
            # A package inside another one that carries its own license file was brought in
            # from elsewhere, even when it imports itself only relatively.
            found[package] = f"it carries its own license file, {license_file}"
    return found


LICENSE_STEMS = ("license", "licence", "copying")
LICENSE_SUFFIXES = ("", ".txt", ".md", ".rst")
# A distribution's own identity, set at the top of its __init__.py.
OWN_IDENTITY = re.compile(r"^__(?:version|author)__\s*=", re.MULTILINE)


def _own_license(package: Path) -> str:
    """The name of a license file (not a module) in the package's own directory, when the
    package's __init__.py also gives it a version or an author of its own; else ''."""
    try:
        names = sorted(entry.name for entry in package.iterdir() if entry.is_file())
        found = next((name for name in names if Path(name).suffix.lower() in LICENSE_SUFFIXES
                      and Path(name).stem.lower().split("-")[0] in LICENSE_STEMS), "")  # fmt: skip
        if not found:
            return ""
        head = (package / "__init__.py").read_text(encoding="utf-8", errors="replace")[:20000]
    except OSError:
        return ""
    return found if OWN_IDENTITY.search(head) else ""


def _importers_by_name(results: list[FileResult], real: dict[str, Path]) -> dict[str, list[tuple[Path, tuple[str, ...]]]]:
    """Top-level module name -> (file, the module path below it) for each name a file
    calls or derives a class from, as its review resolved it through the imports
    (passlib.utils.to_bytes). A bare module (libvirt.open) names nothing below it that a
    package could hold, so a subpackage sharing the name of a library it wraps is safe."""
    found: dict[str, list[tuple[Path, tuple[str, ...]]]] = {}
    for result in results:
        path, summary = real.get(result.path), result.summary
        if path is None or summary is None:
            continue
        names = {callee for callee, _line, _col in summary.calls}
        names.update(base for _cls, bases in summary.classes for base in bases)
        for name in names:
            parts = tuple(name.replace("()", "").split("."))
            if len(parts) >= 3:  # passlib.utils.x at least: a module of the package, then a name in it
                found.setdefault(parts[0], []).append((path, parts[1:]))
    return found


def _defined_names(results: list[FileResult], real: dict[str, Path]) -> dict[Path, set[str]]:
    """The functions and classes each reviewed file defines at its top level, by file."""
    found: dict[Path, set[str]] = {}
    for result in results:
        path, summary = real.get(result.path), result.summary
        if path is None or summary is None:
            continue
        prefix = summary.module + "."
        names = {f.name[len(prefix):] for f in summary.functions if f.name.startswith(prefix)}
        names.update(c[len(prefix):] for c, _bases in summary.classes if c.startswith(prefix))
        found[path] = {n for n in names if "." not in n}
    return found


def _files_under(paths: list[Path]) -> dict[Path, int]:
    """How many reviewed files each directory holds, at any depth (one pass)."""
    counts: dict[Path, int] = {}
    for path in paths:
        for directory in path.parents:
            counts[directory] = counts.get(directory, 0) + 1
    return counts


def _a_part(package: Path, counts: dict[Path, int]) -> bool:
    """The package holds less than half of the reviewed files of its outermost package: a
    copy brought into a larger project, not the project's own code under a wrapper."""
    top = package
    while (top.parent / "__init__.py").is_file():
        top = top.parent
    return counts.get(package, 0) * 2 < counts.get(top, 0)


def _defines(package: Path, below: tuple[str, ...], defined: dict[Path, set[str]]) -> bool:
    """The copy holds what the name refers to: for ("utils", "to_bytes"), package/utils.py
    (or package/utils/__init__.py) defines to_bytes. A wrapper subpackage named like the
    library it wraps (mlflow/sklearn importing sklearn.utils._safe_indexing) does not."""
    *modules, name = below
    target = package.joinpath(*modules)
    for candidate in (target.with_suffix(".py"), target / "__init__.py"):
        if name in defined.get(candidate, ()):
            return True
    return False


def lower(results: list[FileResult], items: list[Input]) -> None:
    """Lower the findings above low in vendored copies to low, saying which copy."""
    real = {item.display: item.path for item in items if item.path is not None}
    roots = vendored_roots(list(real.values()), _importers_by_name(results, real), _defined_names(results, real))
    if not roots:
        return
    for result in results:
        path = real.get(result.path)
        if path is None:
            continue
        root = next((r for r in roots if r in path.parents), None)
        if root is None:
            continue
        shown = result.path[: len(result.path) - len(str(path.relative_to(root)))].rstrip("/\\") or root.name
        note = NOTE.format(root=shown, name=root.name, why=roots[root])
        result.findings = [
            replace(f, severity=Severity.LOW, default_severity=f.severity, context_note=note)
            if f.severity > Severity.LOW
            else f
            for f in result.findings
        ]
