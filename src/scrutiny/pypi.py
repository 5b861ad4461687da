"""``pypi:NAME[==VERSION]`` targets: fetch a source distribution into the user cache.

The sdist is found through the package index's JSON simple API (PEP 691), checked
against the sha256 the index publishes, and unpacked with the tarfile 'data' filter.
``pip download --no-binary :all:`` is deliberately not used: to prepare metadata it
runs the package's own build backend (setup.py), and scrutiny never runs reviewed code.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

PREFIX = "pypi:"
DEFAULT_INDEX = "https://pypi.org/simple"
SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz")
SPEC = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:==([A-Za-z0-9.!+_-]+))?$")


class FetchError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Fetched:
    name: str
    version: str
    filename: str
    sha256: str
    root: Path  # the unpacked tree
    cached: bool


def cache_dir() -> Path:
    explicit = os.environ.get("SCRUTINY_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "scrutiny"


def parse_spec(target: str) -> tuple[str, str | None]:
    match = SPEC.match(target[len(PREFIX) :])
    if not match:
        raise FetchError(f"{target!r} is not of the form pypi:NAME or pypi:NAME==VERSION")
    return match.group(1), match.group(2)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _release_key(version: str) -> tuple[int, ...] | None:
    """Sort key of a final release such as 34.0.0; pre-releases give None."""
    if not re.fullmatch(r"\d+(\.\d+)*", version):
        return None
    return tuple(int(part) for part in version.split("."))


def _listing(name: str, index: str) -> dict[str, object]:
    """The index's JSON page of a project (PEP 691)."""
    import urllib.request  # imported on use: a local review never downloads and starts faster

    url = f"{index.rstrip('/')}/{_normalise(name)}/"
    request = urllib.request.Request(url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310  (an https index URL)
            listing = json.load(response)
    except (OSError, ValueError) as exc:
        raise FetchError(f"cannot list {name} on {index}: {exc}") from None
    if not isinstance(listing, dict):
        raise FetchError(f"the index page of {name} on {index} is not a PEP 691 listing")
    return listing


def _sdists(name: str, index: str) -> dict[str, dict[str, object]]:
    """Version -> index entry of its sdist."""
    listing = _listing(name, index)
    prefix = _normalise(name)
    found: dict[str, dict[str, object]] = {}
    for entry in listing.get("files", []):  # type: ignore[attr-defined]
        filename = str(entry.get("filename", ""))
        suffix = next((s for s in SDIST_SUFFIXES if filename.endswith(s)), None)
        if suffix is None or entry.get("yanked"):
            continue
        stem = filename[: -len(suffix)]
        project, _, version = stem.rpartition("-")
        if _normalise(project) == prefix:
            found.setdefault(version, entry)
    return found


def index_url(index: str | None = None) -> str:
    return index or os.environ.get("SCRUTINY_INDEX_URL") or os.environ.get("PIP_INDEX_URL") or DEFAULT_INDEX


def fetch(target: str, index: str | None = None) -> Fetched:
    name, version = parse_spec(target)
    index = index_url(index)
    cache = cache_dir() / "pypi"
    cache.mkdir(parents=True, exist_ok=True)
    if version is not None:
        known = [p for p in cache.iterdir() if p.is_file() and _is_sdist_of(p.name, name, version)]
        if known:
            return _unpack(name, version, known[0], cached=True)
    sdists = _sdists(name, index)
    if version is None:
        finals = [v for v in sdists if _release_key(v) is not None]
        if not finals:
            raise FetchError(f"no final release of {name} has an sdist on {index}")
        version = max(finals, key=lambda v: _release_key(v) or ())
    entry = sdists.get(version)
    if entry is None:
        raise FetchError(f"{name}=={version} has no sdist on {index}")
    filename = str(entry["filename"])
    expected = str(dict(entry.get("hashes", {}) or {}).get("sha256", ""))  # type: ignore[call-overload]
    archive = cache / filename
    url = urllib.parse.urljoin(f"{index.rstrip('/')}/{_normalise(name)}/", str(entry["url"]))
    _download(url, archive, expected)
    return _unpack(name, version, archive, cached=False)


def _is_sdist_of(filename: str, name: str, version: str) -> bool:
    for suffix in SDIST_SUFFIXES:
        if filename.endswith(suffix):
            project, _, found = filename[: -len(suffix)].rpartition("-")
            return _normalise(project) == _normalise(name) and found == version
    return False


def _download(url: str, destination: Path, expected_sha256: str) -> None:
    import urllib.request

    digest = hashlib.sha256()
    handle, partial = tempfile.mkstemp(dir=destination.parent, prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if expected_sha256 and digest.hexdigest() != expected_sha256:
            raise FetchError(f"sha256 of {url} is {digest.hexdigest()}, the index says {expected_sha256}")
        os.replace(partial, destination)
    except OSError as exc:
        raise FetchError(f"cannot download {url}: {exc}") from None
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _unpack(name: str, version: str, archive: Path, *, cached: bool) -> Fetched:
    import tarfile
    import zipfile

    target = archive.parent / f"{_normalise(name)}-{version}.unpacked"
    if not target.is_dir():
        staging = Path(tempfile.mkdtemp(dir=archive.parent, prefix=".unpack-"))
        try:
            if archive.name.endswith((".zip", ".whl")):
                _unzip(archive, staging)
            else:
                with tarfile.open(archive) as tar:
                    tar.extractall(staging, filter="data")
            os.replace(staging, target)
        except (OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
            raise FetchError(f"cannot unpack {archive.name}: {exc}") from None
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    # An sdist holds one top directory, NAME-VERSION/; review from inside it.
    entries = [p for p in target.iterdir()]
    root = entries[0] if len(entries) == 1 and entries[0].is_dir() else target
    return Fetched(name, version, archive.name, sha256_of(archive), root, cached)


def _unzip(archive: Path, destination: Path) -> None:
    import zipfile

    base = destination.resolve()
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.infolist():
            resolved = (destination / member.filename).resolve()
            if not resolved.is_relative_to(base):
                raise FetchError(f"{archive.name} holds a path outside the archive: {member.filename}")
        bundle.extractall(destination)  # noqa: S202  (every member was checked above)


# --- any distribution file a lockfile pins: a wheel or an sdist ---------------------------


@dataclass(frozen=True, slots=True)
class IndexFile:
    filename: str
    url: str  # absolute
    sha256: str  # as the index publishes it ("" when it publishes none)


def index_files(name: str, index: str | None = None) -> list[IndexFile]:
    """Every file of project ``name`` the index lists, yanked files left out."""
    index = index_url(index)
    page = f"{index.rstrip('/')}/{_normalise(name)}/"
    files = _listing(name, index).get("files", [])
    found: list[IndexFile] = []
    for entry in files if isinstance(files, list) else []:
        if not isinstance(entry, dict) or entry.get("yanked") or not entry.get("filename"):
            continue
        hashes = entry.get("hashes") if isinstance(entry.get("hashes"), dict) else {}
        url = urllib.parse.urljoin(page, str(entry.get("url", "")))
        found.append(IndexFile(str(entry["filename"]), url, str(hashes.get("sha256", "")).lower()))  # type: ignore[union-attr]
    return found


def fetch_file(name: str, version: str, filename: str, url: str, sha256: str) -> Fetched:
    """Download one wheel or sdist into the cache, checked against ``sha256``, and unpack it.

    A cached copy is used only when its sha256 is the one expected. A wheel is a zip
    unpacked member by member inside its directory (nothing in it is run); an sdist is
    unpacked as ``fetch`` does.
    """
    if "/" in filename or "\\" in filename or filename.startswith("."):
        raise FetchError(f"{filename!r} is not a distribution file name")
    cache = cache_dir() / "pypi"
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / filename
    cached = archive.is_file() and (not sha256 or sha256_of(archive) == sha256)
    if not cached:
        _download(url, archive, sha256)
    if not filename.endswith(".whl"):
        return _unpack(name, version, archive, cached=cached)
    import zipfile

    # One directory named after the wheel inside, so the review shows NAME-VERSION-TAGS/...
    target = cache / f"{filename}.unpacked"
    stem = filename[: -len(".whl")]
    if not target.is_dir():
        staging = Path(tempfile.mkdtemp(dir=cache, prefix=".unpack-"))
        try:
            (staging / stem).mkdir()
            _unzip(archive, staging / stem)
            os.replace(staging, target)
        except (OSError, zipfile.BadZipFile) as exc:
            raise FetchError(f"cannot unpack {filename}: {exc}") from None
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    return Fetched(name, version, filename, sha256_of(archive), target / stem, cached)
