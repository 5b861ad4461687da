"""What a lockfile pins: requirements*.txt, uv.lock, poetry.lock, pylock.toml, Pipfile.lock.

One small function per format, each returning the same data: a ``Pin`` per pinned
distribution (name, version, the sha256s the file records and, where it names them, the
files it pins) and a ``Skipped`` per entry that pins nothing scrutiny can fetch, with the
reason. Only ``tomllib`` and ``json`` read them; nothing is resolved, installed or run.
Environment markers are kept as text, not evaluated: every pinned entry is reviewed.
"""

from __future__ import annotations

import json
import re
import tomllib
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path


class LockfileError(Exception):
    """The file cannot be read or is not of the format its name says."""


@dataclass(frozen=True, slots=True)
class Artifact:
    """One distribution file a lockfile names: a wheel or an sdist."""

    filename: str
    url: str = ""  # empty when the lockfile names the file only (poetry.lock)
    sha256: str = ""

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")


@dataclass(frozen=True, slots=True)
class Pin:
    name: str
    version: str
    sha256s: tuple[str, ...] = ()  # every hash the lockfile accepts for this pin
    artifacts: tuple[Artifact, ...] = ()  # the files it names (empty: look them up on the index)
    marker: str = ""  # environment marker, as written
    origin: str = ""  # where in the lockfile: "requirements.txt:3"
    extras: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Skipped:
    entry: str
    reason: str
    origin: str = ""


@dataclass
class Lockfile:
    path: str
    format: str
    pins: list[Pin] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def parse(path: str | Path) -> Lockfile:
    """The pins of the lockfile at ``path``; its format comes from its name."""
    path = Path(path)
    format_name = format_of(path.name)
    if format_name is None:
        raise LockfileError(
            f"{path.name}: not a known lockfile name (requirements*.txt, uv.lock, poetry.lock, "
            "pylock.toml, pylock.*.toml, Pipfile.lock)"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LockfileError(f"cannot read {path}: {exc}") from None
    pins, skipped = PARSERS[format_name](text, path.name)
    return Lockfile(str(path), format_name, pins, skipped)


def format_of(filename: str) -> str | None:
    if filename == "uv.lock":
        return "uv.lock"
    if filename == "poetry.lock":
        return "poetry.lock"
    if filename == "Pipfile.lock":
        return "Pipfile.lock"
    if re.fullmatch(r"pylock(\.[^.]+)?\.toml", filename):
        return "pylock.toml"
    if filename.endswith(".txt") and ("requirements" in filename or "constraints" in filename):
        return "requirements"
    return None


def normalise(name: str) -> str:
    """PEP 503 name: runs of -, _ and . become one -, lower case."""
    return re.sub(r"[-_.]+", "-", name).lower()


def filename_of(url: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])


def _sha256(text: str) -> str:
    """The hex digest of ``sha256:HEX`` (or ``sha256=HEX``); empty for another algorithm."""
    algorithm, _, digest = text.replace("=", ":", 1).partition(":")
    return digest.strip().lower() if algorithm.strip().lower() == "sha256" else ""


# --- requirements*.txt ---------------------------------------------------------------

_COMMENT = re.compile(r"(^|\s+)#.*$")
_HASH_OPTION = re.compile(r"\s--hash[=\s]\s*(\S+)")
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")
_PINNED = re.compile(r"^={2,3}\s*([A-Za-z0-9.!+_-]+)$")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, line) with comments removed and ``\\`` continuations joined."""
    lines: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        line = _COMMENT.sub("", raw)
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        joined = " ".join(part.strip() for part in pending).strip()
        pending = []
        if joined:
            lines.append((start, joined))
    if pending and (joined := " ".join(part.strip() for part in pending).strip()):
        lines.append((start, joined))
    return lines


def parse_requirements(text: str, name: str = "requirements.txt") -> tuple[list[Pin], list[Skipped]]:
    """``NAME[extras]==VERSION ; marker --hash=sha256:...`` lines and ``NAME @ URL`` of a file.

    Anything else (a range, an option such as ``-r`` or ``-e``, a local path) is skipped
    with its reason: it pins no one distribution.
    """
    pins: list[Pin] = []
    skipped: list[Skipped] = []
    for number, line in _logical_lines(text):
        origin = f"{name}:{number}"
        if line.startswith("-"):
            option = line.split()[0]
            skipped.append(Skipped(line, f"option {option} is not followed (only pinned requirements are)", origin))
            continue
        hashes = tuple(h for h in (_sha256(found) for found in _HASH_OPTION.findall(" " + line)) if h)
        requirement = _HASH_OPTION.sub("", " " + line).strip()
        requirement, _, marker = requirement.partition(";")
        requirement, marker = requirement.strip(), marker.strip()
        match = _NAME.match(requirement)
        if not match or requirement.startswith((".", "/")) or "://" in requirement.split("@", 1)[0]:
            skipped.append(Skipped(line, "a local path or URL, not a pinned requirement", origin))
            continue
        project, rest = match.group(1), match.group(3).strip()
        extras = tuple(e.strip() for e in (match.group(2) or "[]")[1:-1].split(",") if e.strip())
        if rest.startswith("@"):
            reference = _direct_reference(project, rest[1:].strip(), hashes, marker, origin)
            if isinstance(reference, Pin):
                pins.append(reference)
            else:
                skipped.append(reference)
            continue
        pinned = _PINNED.match(rest.replace(" ", ""))
        if not pinned or "*" in rest:
            why = f"not pinned ({rest})" if rest else "not pinned (no version)"
            skipped.append(Skipped(requirement, why, origin))
            continue
        pins.append(Pin(project, pinned.group(1), hashes, (), marker, origin, extras))
    return pins, skipped


def _direct_reference(project: str, url: str, hashes: tuple[str, ...], marker: str, origin: str) -> Pin | Skipped:
    """``NAME @ URL``: a pin when the URL names a wheel or an sdist archive over http(s)."""
    scheme = urllib.parse.urlsplit(url).scheme
    filename = filename_of(url)
    version = version_of(filename, project)
    if scheme not in ("http", "https") or version is None:
        return Skipped(f"{project} @ {url}", "a direct reference to something other than a wheel or sdist URL", origin)
    fragment = urllib.parse.urlsplit(url).fragment
    url_hash = _sha256(fragment) if fragment else ""
    every = hashes + ((url_hash,) if url_hash and url_hash not in hashes else ())
    artifact = Artifact(filename, url.split("#", 1)[0], url_hash or (hashes[0] if len(hashes) == 1 else ""))
    return Pin(project, version, every, (artifact,), marker, origin)


SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz")


def version_of(filename: str, project: str) -> str | None:
    """The version in a wheel's or an sdist's file name, if the file is ``project``'s."""
    if filename.endswith(".whl"):
        parts = filename[: -len(".whl")].split("-")
        if len(parts) >= 5 and normalise(parts[0]) == normalise(project):
            return parts[1]
        return None
    for suffix in SDIST_SUFFIXES:
        if filename.endswith(suffix):
            stem, _, version = filename[: -len(suffix)].rpartition("-")
            return version if normalise(stem) == normalise(project) and version else None
    return None


# --- TOML and JSON lockfiles ------------------------------------------------------------


def _toml(text: str, name: str) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LockfileError(f"{name} is not valid TOML: {exc}") from None


def _tables(value: object) -> list[dict[str, object]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _artifact(table: object, hash_of: str = "hash") -> Artifact | None:
    """A file table: uv's ``{url, hash = "sha256:..."}`` or PEP 751's ``{name, url, hashes = {sha256}}``."""
    if not isinstance(table, dict):
        return None
    url = str(table.get("url") or "")
    filename = str(table.get("name") or table.get("file") or filename_of(url) or "")
    if not filename:
        return None
    hashes = table.get("hashes")
    digest = str(hashes.get("sha256", "")).lower() if isinstance(hashes, dict) else _sha256(str(table.get(hash_of, "")))
    return Artifact(filename, url, digest)


def _pin_of(name: str, version: str, artifacts: list[Artifact | None], marker: str, origin: str) -> Pin:
    found = tuple(a for a in artifacts if a is not None)
    return Pin(name, version, tuple(a.sha256 for a in found if a.sha256), found, marker, origin)


def parse_uv_lock(text: str, name: str = "uv.lock") -> tuple[list[Pin], list[Skipped]]:
    """uv.lock: ``[[package]]`` with ``source``, ``sdist`` and ``wheels``."""
    pins: list[Pin] = []
    skipped: list[Skipped] = []
    for package in _tables(_toml(text, name).get("package")):
        project, version = str(package.get("name", "")), str(package.get("version", ""))
        origin = f"{name}: {project}"
        source = package.get("source") if isinstance(package.get("source"), dict) else {}
        assert isinstance(source, dict)
        local = next((kind for kind in ("virtual", "editable", "directory", "path", "git") if kind in source), None)
        if local is not None:
            skipped.append(
                Skipped(f"{project} {version}".strip(), f"source is {local}, not a distribution from an index", origin)
            )
            continue
        artifacts = [_artifact(package.get("sdist")), *(_artifact(w) for w in _tables(package.get("wheels")))]
        if not version or not any(artifacts):
            skipped.append(Skipped(project, "no version or no distribution file", origin))
            continue
        pins.append(_pin_of(project, version, artifacts, "", origin))
    return pins, skipped


def parse_poetry_lock(text: str, name: str = "poetry.lock") -> tuple[list[Pin], list[Skipped]]:
    """poetry.lock: ``[[package]]`` with ``files`` (or the older ``[metadata.files]``)."""
    document = _toml(text, name)
    metadata = document.get("metadata")
    old_files = metadata.get("files", {}) if isinstance(metadata, dict) else {}
    pins: list[Pin] = []
    skipped: list[Skipped] = []
    for package in _tables(document.get("package")):
        project, version = str(package.get("name", "")), str(package.get("version", ""))
        origin = f"{name}: {project}"
        source = package.get("source")
        if isinstance(source, dict) and source.get("type") not in (None, "legacy"):
            skipped.append(
                Skipped(
                    f"{project} {version}", f"source is {source.get('type')}, not a distribution from an index", origin
                )
            )
            continue
        files = _tables(package.get("files")) or _tables(old_files.get(project) if isinstance(old_files, dict) else [])
        pins.append(_pin_of(project, version, [_artifact(f) for f in files], "", origin))
    return pins, skipped


def parse_pylock(text: str, name: str = "pylock.toml") -> tuple[list[Pin], list[Skipped]]:
    """PEP 751 pylock.toml: ``[[packages]]`` with ``sdist``, ``wheels`` or ``archive``."""
    pins: list[Pin] = []
    skipped: list[Skipped] = []
    for package in _tables(_toml(text, name).get("packages")):
        project, version = str(package.get("name", "")), str(package.get("version", ""))
        origin = f"{name}: {project}"
        local = next((kind for kind in ("vcs", "directory") if kind in package), None)
        if local is not None:
            skipped.append(
                Skipped(f"{project} {version}".strip(), f"source is {local}, not a distribution from an index", origin)
            )
            continue
        artifacts = [
            _artifact(package.get("sdist")),
            _artifact(package.get("archive")),
            *(_artifact(w) for w in _tables(package.get("wheels"))),
        ]
        if not version and (archive := next((a for a in artifacts if a), None)) is not None:
            version = version_of(archive.filename, project) or ""
        if not version or not any(artifacts):
            skipped.append(Skipped(project, "no version or no distribution file", origin))
            continue
        pins.append(_pin_of(project, version, artifacts, str(package.get("marker", "")), origin))
    return pins, skipped


def parse_pipfile_lock(text: str, name: str = "Pipfile.lock") -> tuple[list[Pin], list[Skipped]]:
    """Pipfile.lock (JSON): ``default`` and ``develop`` map names to ``version`` and ``hashes``."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise LockfileError(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise LockfileError(f"{name} is not a Pipfile.lock (no top-level object)")
    pins: list[Pin] = []
    skipped: list[Skipped] = []
    for section in ("default", "develop"):
        entries = document.get(section)
        for project, entry in entries.items() if isinstance(entries, dict) else []:
            origin = f"{name}: {section}.{project}"
            if not isinstance(entry, dict):
                continue
            local = next((kind for kind in ("git", "path", "file", "editable") if kind in entry), None)
            pinned = _PINNED.match(str(entry.get("version", "")).replace(" ", ""))
            if local is not None or not pinned:
                why = f"source is {local}, not a distribution from an index" if local else "not pinned"
                skipped.append(Skipped(project, why, origin))
                continue
            hashes = tuple(h for h in (_sha256(str(x)) for x in entry.get("hashes", [])) if h)
            pins.append(Pin(project, pinned.group(1), hashes, (), str(entry.get("markers", "")), origin))
    return pins, skipped


PARSERS = {
    "requirements": parse_requirements,
    "uv.lock": parse_uv_lock,
    "poetry.lock": parse_poetry_lock,
    "pylock.toml": parse_pylock,
    "Pipfile.lock": parse_pipfile_lock,
}
