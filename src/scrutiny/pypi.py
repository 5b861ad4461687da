"""``pypi:NAME[==VERSION]`` targets: fetch a source distribution into the user cache.

The sdist is found through the package index's JSON simple API (PEP 691), checked
against the sha256 the index publishes, and unpacked with the tarfile 'data' filter.
``pip download --no-binary :all:`` is deliberately not used: to prepare metadata it
runs the package's own build backend (setup.py), and scrutiny never runs reviewed code.

The cache must not hand a review someone else's tree: whoever can write the cache
directory could swap in a doctored archive or edit the unpacked files, and the review
would then vouch for code that is not the published one. So a downloaded archive is
kept with a MAC of its sha256, and the unpacked tree with a MAC'd manifest of every
path, each file's sha256 and its stat signature (under the key of ``cache_auth``). A
cached archive is used only if its MAC holds (a legacy one only if the index's sha256
matches), and the unpacked tree only if it still matches its manifest; otherwise the
archive is fetched again or the tree unpacked again, with one warning.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import stat
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from scrutiny import cache_auth
from scrutiny.cache import cache_root

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
    cache = cache_root() / "pypi"
    cache.mkdir(parents=True, exist_ok=True)
    secret = _secret()
    sdists: dict[str, dict[str, object]] | None = None
    if version is not None:
        known = [p for p in cache.iterdir() if p.is_file() and _is_sdist_of(p.name, name, version)]
        if known:
            digest = sha256_of(known[0])
            if _archive_trusted(known[0], digest, secret):
                return _unpack(name, version, known[0], digest, secret, cached=True)
            # Unsigned (kept before archives were signed) or altered: the index decides.
            sdists = _sdists(name, index)
            if hmac.compare_digest(digest, _published_sha256(sdists.get(version))):
                _sign_archive(known[0], digest, secret)
                return _unpack(name, version, known[0], digest, secret, cached=True)
            cache_auth.refused(known[0])
    sdists = sdists if sdists is not None else _sdists(name, index)
    if version is None:
        finals = [v for v in sdists if _release_key(v) is not None]
        if not finals:
            raise FetchError(f"no final release of {name} has an sdist on {index}")
        version = max(finals, key=lambda v: _release_key(v) or ())
    entry = sdists.get(version)
    if entry is None:
        raise FetchError(f"{name}=={version} has no sdist on {index}")
    filename = str(entry["filename"])
    expected = _published_sha256(entry)
    archive = cache / filename
    url = urllib.parse.urljoin(f"{index.rstrip('/')}/{_normalise(name)}/", str(entry["url"]))
    _download(url, archive, expected)
    digest = sha256_of(archive)
    _sign_archive(archive, digest, secret)
    return _unpack(name, version, archive, digest, secret, cached=False)


def _published_sha256(entry: dict[str, object] | None) -> str:
    hashes = (entry or {}).get("hashes") or {}
    return str(hashes.get("sha256", "")) if isinstance(hashes, dict) else ""


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


def _unpack(name: str, version: str, archive: Path, digest: str, secret: bytes | None, *, cached: bool) -> Fetched:
    import tarfile
    import zipfile

    # A tree unpacked earlier is used only if it is still what this very archive holds.
    target = archive.parent / f"{_normalise(name)}-{version}.unpacked"
    if os.path.lexists(target) and not _tree_intact(target, digest, secret):
        if secret is not None:  # without a key nothing cached is trusted, and that was said
            cache_auth.refused(target)
        _discard(target)
    if not target.is_dir():
        staging = Path(tempfile.mkdtemp(dir=archive.parent, prefix=".unpack-"))
        try:
            if archive.name.endswith((".zip", ".whl")):
                _unzip(archive, staging)
            else:
                with tarfile.open(archive) as tar:
                    tar.extractall(staging, filter="data")
            os.replace(staging, target)
            _seal_tree(target, digest, secret)
        except (OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
            raise FetchError(f"cannot unpack {archive.name}: {exc}") from None
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    # An sdist holds one top directory, NAME-VERSION/; review from inside it.
    entries = [p for p in target.iterdir()]
    root = entries[0] if len(entries) == 1 and entries[0].is_dir() else target
    return Fetched(name, version, archive.name, digest, root, cached)


def _discard(path: Path) -> None:
    """Remove an untrusted tree; a link planted in its place is removed, never followed."""
    try:
        if path.is_symlink() or not path.is_dir():
            path.unlink()
        else:
            shutil.rmtree(path)
    except OSError as exc:
        raise FetchError(f"cannot remove {path}, which does not match what was unpacked: {exc}") from None


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
    cache = cache_root() / "pypi"
    cache.mkdir(parents=True, exist_ok=True)
    secret = _secret()
    archive = cache / filename
    cached = False
    if archive.is_file():
        digest = sha256_of(archive)
        # The expected hash vouches for a cached copy; without one, only our own seal does.
        cached = hmac.compare_digest(digest, sha256) if sha256 else _archive_trusted(archive, digest, secret)
    if not cached:
        _download(url, archive, sha256)
    digest = sha256_of(archive)
    _sign_archive(archive, digest, secret)
    if not filename.endswith(".whl"):
        return _unpack(name, version, archive, digest, secret, cached=cached)
    import zipfile

    # One directory named after the wheel inside, so the review shows NAME-VERSION-TAGS/...
    target = cache / f"{filename}.unpacked"
    stem = filename[: -len(".whl")]
    if os.path.lexists(target) and not _tree_intact(target, digest, secret):
        if secret is not None:
            cache_auth.refused(target)
        _discard(target)
    if not target.is_dir():
        staging = Path(tempfile.mkdtemp(dir=cache, prefix=".unpack-"))
        try:
            (staging / stem).mkdir()
            _unzip(archive, staging / stem)
            os.replace(staging, target)
            _seal_tree(target, digest, secret)
        except (OSError, zipfile.BadZipFile) as exc:
            raise FetchError(f"cannot unpack {filename}: {exc}") from None
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    return Fetched(name, version, filename, digest, target / stem, cached)


# Sealing the sdist cache ---------------------------------------------------------------


def _secret() -> bytes | None:
    """The cache key, or None (with a warning): then nothing cached is trusted or signed."""
    try:
        return cache_auth.load_key(cache_root())
    except cache_auth.CacheKeyError as exc:
        cache_auth.warn_once("key", f"the cache is off: {exc}")
        return None


def _seal_path(path: Path) -> Path:
    return path.with_name(path.name + ".mac")


def _seal_name(path: Path) -> str:
    return f"pypi/{path.name}"


def _sign_archive(archive: Path, digest: str, secret: bytes | None) -> None:
    if secret is not None:
        _write_sealed(_seal_path(archive), cache_auth.seal(secret, _seal_name(archive), digest.encode()))


def _archive_trusted(archive: Path, digest: str, secret: bytes | None) -> bool:
    opened = _open_sealed(archive, secret)
    return opened is not None and bytes(opened) == digest.encode()


def _open_sealed(path: Path, secret: bytes | None) -> memoryview | None:
    if secret is None:
        return None
    try:
        blob = _seal_path(path).read_bytes()
    except OSError:
        return None
    return cache_auth.unseal(secret, _seal_name(path), blob)


def _write_sealed(destination: Path, blob: bytes) -> None:
    handle, partial = tempfile.mkstemp(dir=destination.parent, prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(blob)
        os.replace(partial, destination)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def _tree_listing(root: Path) -> dict[str, list[object]]:
    """Every path under ``root``: directories, links (with their target) and files (with
    size, mtime, ctime and inode, which no edit leaves as they were: ctime cannot be set)."""
    found: dict[str, list[object]] = {}
    for folder, dirs, files in os.walk(root):
        for entry in (*dirs, *files):
            path = os.path.join(folder, entry)
            info = os.lstat(path)
            name = Path(path).relative_to(root).as_posix()
            if stat.S_ISLNK(info.st_mode):
                found[name] = ["l", os.readlink(path)]
            elif stat.S_ISDIR(info.st_mode):
                found[name] = ["d"]
            elif stat.S_ISREG(info.st_mode):
                found[name] = ["f", info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]
            else:
                found[name] = ["?"]
    return found


def _seal_tree(root: Path, archive_sha256: str, secret: bytes | None) -> None:
    if secret is None:
        return
    listing = _tree_listing(root)
    for name, facts in listing.items():
        if facts[0] == "f":
            facts.append(sha256_of(root / name))
    manifest = json.dumps({"archive": archive_sha256, "paths": listing}, sort_keys=True).encode()
    _write_sealed(_seal_path(root), cache_auth.seal(secret, _seal_name(root), manifest))


def _tree_intact(root: Path, archive_sha256: str, secret: bytes | None) -> bool:
    """Whether ``root`` is still what was unpacked from the archive with this sha256."""
    opened = _open_sealed(root, secret)
    if opened is None or root.is_symlink() or not root.is_dir():
        return False
    try:
        manifest = json.loads(bytes(opened))
        recorded: dict[str, list[object]] = manifest["paths"]
        if manifest["archive"] != archive_sha256:
            return False
        now = _tree_listing(root)
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if now.keys() != recorded.keys():
        return False
    restamped = False
    for name, facts in now.items():
        kept = recorded[name]
        if facts == kept[: len(facts)]:
            continue
        # A copied or restored tree has new stat signatures: its files' contents decide.
        if facts[0] != "f" or kept[0] != "f" or facts[1] != kept[1] or sha256_of(root / name) != kept[-1]:
            return False
        restamped = True
    if restamped:
        _seal_tree(root, archive_sha256, secret)
    return True
