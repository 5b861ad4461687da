"""Authenticated cache entries: whoever can write the cache directory must not run code.

Warm runs unpickle what the cache holds, and a CI job restores that directory from a
cache other jobs (and other branches) can write, so every entry carries an HMAC-SHA256
of its name and bytes under a per-user key, and is checked with ``hmac.compare_digest``
before anything is unpickled. An entry that fails (altered, truncated, copied over
another entry, written before entries were signed, or under another key) is a miss:
the file is reviewed afresh and its entry rewritten, with one warning per run.

The key comes from ``$SCRUTINY_CACHE_KEY`` (for CI jobs, from a secret), else from
``$XDG_CONFIG_HOME/scrutiny/cache.key`` (else ``~/.config/...``), which is created on first
use with 32 random bytes, mode 0600. A key file inside the cache directory would travel
with it (to a shared CI cache, say) and could be replaced along with the entries, so
such a layout turns the cache off, as does a key file that others may read or write.
"""

from __future__ import annotations

import hmac
import os
import secrets
import stat
import sys
import tempfile
from hashlib import sha256
from pathlib import Path

KEY_ENV = "SCRUTINY_CACHE_KEY"
MAC_SIZE = sha256().digest_size
# A shorter secret could be guessed offline from any entry an attacker can read.
MIN_ENV_KEY = 32


class CacheKeyError(Exception):
    """No key can be trusted; the message says why and what to do."""


def key_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "scrutiny" / "cache.key"


def load_key(cache_root: Path) -> bytes:
    """The key for entries under ``cache_root``, creating the key file on first use."""
    given = os.environ.get(KEY_ENV)
    if given:
        if len(given) < MIN_ENV_KEY:
            raise CacheKeyError(f"{KEY_ENV} is shorter than {MIN_ENV_KEY} characters")
        return given.encode("utf-8", "surrogateescape")
    path = key_path()
    if path.resolve().is_relative_to(cache_root.resolve()):
        raise CacheKeyError(
            f"the cache key {path} would lie inside the cache directory {cache_root}, where whoever "
            f"writes the cache could replace it; point SCRUTINY_CACHE_DIR elsewhere or set {KEY_ENV}"
        )
    try:
        return _read_key(path)
    except FileNotFoundError:
        _create_key(path)
        return _read_key(path)


def _read_key(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            text = handle.read(4096)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise CacheKeyError(f"cannot read the cache key {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise CacheKeyError(f"the cache key {path} is not a regular file")
    if hasattr(os, "geteuid") and (info.st_uid != os.geteuid() or info.st_mode & 0o077):
        raise CacheKeyError(f"the cache key {path} is not private to this user (run: chmod 600 {path})")
    try:
        key = bytes.fromhex(text.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) < MAC_SIZE:
        raise CacheKeyError(f"the cache key {path} is not 64 hex digits; remove it to have a new one made")
    return key


def _create_key(path: Path) -> None:
    """Write a new key where no reader can see it half-written or readable by others."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".cache.key-")  # mode 0600
    except OSError as exc:
        raise CacheKeyError(f"cannot create the cache key {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(secrets.token_hex(MAC_SIZE).encode() + b"\n")
            out.flush()
            os.fsync(out.fileno())
        # link() never replaces: if another process made the key first, both use that one.
        os.link(temporary, path)
    except FileExistsError:
        pass
    except OSError as exc:
        raise CacheKeyError(f"cannot create the cache key {path}: {exc.strerror or exc}") from None
    finally:
        os.unlink(temporary)


def seal(key: bytes, name: str, payload: bytes) -> bytes:
    """``payload`` prefixed with its MAC; ``name`` binds it to its place in the cache."""
    return _mac(key, name, payload) + payload


def unseal(key: bytes, name: str, blob: bytes) -> memoryview | None:
    """The payload of a sealed ``blob`` stored as ``name``, or None if its MAC does not match."""
    view = memoryview(blob)
    if len(view) < MAC_SIZE or not hmac.compare_digest(view[:MAC_SIZE], _mac(key, name, view[MAC_SIZE:])):
        return None
    return view[MAC_SIZE:]


def _mac(key: bytes, name: str, payload: bytes | memoryview) -> bytes:
    mac = hmac.new(key, name.encode("utf-8", "surrogateescape") + b"\0", sha256)
    mac.update(payload)
    return mac.digest()


# Warnings already given in this process, by kind: each is said once per run.
_warned: set[str] = set()


def warn_once(kind: str, message: str) -> None:
    if kind not in _warned:
        _warned.add(kind)
        print(f"scrutiny: warning: {message}", file=sys.stderr)


def refused(path: Path) -> None:
    warn_once(
        "refused",
        f"ignored cache entry {path}: it failed authentication (altered, truncated, or not written "
        "under this user's cache key); entries like it are treated as misses and never loaded",
    )
