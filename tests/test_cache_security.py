"""A cache directory others can write (a restored CI cache, a shared SCRUTINY_CACHE_DIR)
must not run code in a review: every entry is checked against a per-user key first."""

from __future__ import annotations

import http.server
import io
import json
import os
import pickle
import shutil
import stat
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scrutiny import cache_auth, cli, pypi
from scrutiny.findings import FileResult

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
WARNING = "scrutiny: warning:"


class Planted:
    """Unpickling this calls open(marker, "w"): the marker file shows the pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return open, (str(self.marker), "w")


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh cache directory and config directory, no key in the environment."""
    monkeypatch.setenv("SCRUTINY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv(cache_auth.KEY_ENV, raising=False)
    # Each test is a run of its own: its warnings are said afresh.
    monkeypatch.setattr(cache_auth, "_warned", set())
    return tmp_path


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    for name in ("SCR101.py", "SCR102.py", "SCR201.py", "SCR301.py"):
        shutil.copy(FIXTURES / name, root / name)
    (root / "clean.py").write_text("def add(a, b):\n    return a + b\n")
    return root


def review(capsys: pytest.CaptureFixture[str], tree: Path) -> tuple[int, str, list[str]]:
    """A CLI review as a user runs it: exit code, JSON output, warnings on stderr."""
    code = cli.main(["review", "--quiet", "--format", "json", str(tree)])
    out, err = capsys.readouterr()
    return code, out, [line for line in err.splitlines() if line.startswith(WARNING)]


def cache_files(home: Path) -> list[Path]:
    return sorted(p for p in (home / "cache").rglob("*") if p.is_file())


def file_entries(home: Path) -> dict[Path, tuple[int, int]]:
    """Each per-file entry's inode and mtime: a hit leaves them, a miss replaces the entry."""
    paths = [p for p in cache_files(home) if p.relative_to(home / "cache").parts[0] == "results"]
    return {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in paths}


def planted_blob(marker: Path, how: str, entry: Path, cache_root: Path) -> bytes:
    payload = pickle.dumps(Planted(marker))
    name = entry.relative_to(cache_root).as_posix()
    if how == "unsigned":  # the format before entries were signed
        return payload
    if how == "forged":  # signed, but not with this user's key
        return cache_auth.seal(os.urandom(32), name, payload)
    if how == "zero-mac":
        return bytes(cache_auth.MAC_SIZE) + payload
    raise AssertionError(how)


def test_the_planted_pickle_is_live(tmp_path: Path) -> None:
    """Loading the payload the tests plant does create the marker (so its absence below means something)."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(Planted(marker)))  # noqa: S301  (the point of the test)
    assert marker.exists()


@pytest.mark.parametrize("how", ["unsigned", "forged", "zero-mac"])
def test_a_planted_pickle_is_never_loaded(
    home: Path, tree: Path, how: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = review(capsys, tree)
    assert cold[0] == 1 and '"rule_id"' in cold[1] and cold[2] == []
    planted = cache_files(home)
    # Per-file entries, the stat index, the whole review and its rendered text: all replaced.
    assert {p.relative_to(home / "cache").parts[0] for p in planted} == {"results", "runs"}
    assert len(planted) > 5
    marker = home / "the-pickle-ran"
    for entry in planted:
        entry.write_bytes(planted_blob(marker, how, entry, home / "cache"))

    warm = review(capsys, tree)
    assert not marker.exists(), "a planted cache entry was unpickled"
    assert warm[:2] == cold[:2], "the review differs from the cold one"
    assert len(warm[2]) == 1, warm[2]
    assert "failed authentication" in warm[2][0]

    # The refused entries were rewritten: the next run warns no more and reviews no file again.
    monkeypatch.setattr(cache_auth, "_warned", set())
    assert review(capsys, tree) == (*cold[:2], [])
    # Without the whole-review entry every file's own entry is loaded: all hits, none rewritten.
    shutil.rmtree(home / "cache" / "runs")
    rewritten = file_entries(home)
    assert review(capsys, tree) == (*cold[:2], [])
    assert file_entries(home) == rewritten, "entries written under the right key were not hits"
    assert not marker.exists()


def test_a_truncated_or_moved_entry_is_a_miss(
    home: Path, tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = review(capsys, tree)
    shutil.rmtree(home / "cache" / "runs")
    first, second, *others = file_entries(home)
    # A genuine entry copied over another file's entry would hide that file's findings.
    second.write_bytes(first.read_bytes())
    first.write_bytes(first.read_bytes()[:-1])
    damaged = file_entries(home)
    warm = review(capsys, tree)
    assert warm[:2] == cold[:2]
    assert len(warm[2]) == 1 and "failed authentication" in warm[2][0]
    after = file_entries(home)
    assert [p for p in damaged if after[p] != damaged[p]] == [first, second], "only the damaged entries miss"


def test_the_key_file_is_made_private_outside_the_cache(
    home: Path, tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review(capsys, tree)
    key = home / "config" / "scrutiny" / "cache.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    text = key.read_text()
    assert len(bytes.fromhex(text.strip())) == 32
    assert not [p for p in key.parent.iterdir() if p != key], "a temporary key file was left behind"
    # The key stays put from run to run, and a concurrent creator would not replace it.
    review(capsys, tree)
    cache_auth._create_key(key)
    assert key.read_text() == text
    assert not (home / "cache").joinpath("scrutiny", "cache.key").exists()


def test_a_key_from_the_environment_is_used_and_no_key_file_is_made(
    home: Path, tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "ci-secret-" + "7" * 40
    monkeypatch.setenv(cache_auth.KEY_ENV, secret)
    cold = review(capsys, tree)
    assert not (home / "config").exists()
    entries = cache_files(home)
    assert entries
    for entry in entries:
        name = entry.relative_to(home / "cache").as_posix()
        assert cache_auth.unseal(secret.encode(), name, entry.read_bytes()) is not None, name
    # Another job's key: every entry is refused, with one warning, and the review is the same.
    monkeypatch.setenv(cache_auth.KEY_ENV, "another-secret-" + "8" * 40)
    other = review(capsys, tree)
    assert other[:2] == cold[:2]
    assert len(other[2]) == 1 and "failed authentication" in other[2][0]


def test_a_short_environment_key_turns_the_cache_off(
    home: Path, tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache_auth.KEY_ENV, "short")
    code, out, warnings = review(capsys, tree)
    assert code == 1 and '"rule_id"' in out
    assert len(warnings) == 1 and "shorter than" in warnings[0]
    assert cache_files(home) == []


@pytest.mark.parametrize("inside", ["config", "config/scrutiny"])
def test_a_cache_directory_holding_the_key_is_not_used(
    home: Path, tree: Path, inside: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever writes such a cache could also replace the key, and a saved cache would carry it away."""
    monkeypatch.setenv("SCRUTINY_CACHE_DIR", str(home / inside))
    code, out, warnings = review(capsys, tree)
    assert code == 1 and '"rule_id"' in out
    assert len(warnings) == 1 and "inside the cache directory" in warnings[0]
    assert not (home / "config" / "scrutiny" / "cache.key").exists()
    assert not (home / "config" / "scrutiny" / "results").exists()


def test_a_key_file_others_can_read_turns_the_cache_off(
    home: Path, tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review(capsys, tree)
    key = home / "config" / "scrutiny" / "cache.key"
    key.chmod(0o644)
    before = {p: p.stat().st_mtime_ns for p in cache_files(home)}
    code, out, warnings = review(capsys, tree)
    assert code == 1 and '"rule_id"' in out
    assert len(warnings) == 1 and "chmod 600" in warnings[0]
    assert {p: p.stat().st_mtime_ns for p in cache_files(home)} == before, "the cache was written without a key"


def test_entries_round_trip_under_their_own_name_only() -> None:
    key = os.urandom(32)
    payload = pickle.dumps(FileResult.__name__)
    sealed = cache_auth.seal(key, "results/ab/cd", payload)
    assert cache_auth.unseal(key, "results/ab/cd", sealed) == payload
    assert cache_auth.unseal(key, "results/ab/ce", sealed) is None
    assert cache_auth.unseal(os.urandom(32), "results/ab/cd", sealed) is None
    assert cache_auth.unseal(key, "results/ab/cd", sealed[:-1]) is None
    assert cache_auth.unseal(key, "results/ab/cd", sealed[:5]) is None


# The sdist cache ----------------------------------------------------------------------

PACKAGE_CODE = b"import os\n\n\ndef run():\n    os.system(input())\n"


@pytest.fixture()
def index(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """A package index on localhost holding demo-1.0.tar.gz; yields its URL and the paths requested."""
    served = tmp_path / "served"
    archive = served / "files" / "demo-1.0.tar.gz"
    archive.parent.mkdir(parents=True)
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("demo-1.0/demo/__init__.py")
        info.size = len(PACKAGE_CODE)
        tar.addfile(info, io.BytesIO(PACKAGE_CODE))
    listing = served / "simple" / "demo" / "index.html"
    listing.parent.mkdir(parents=True)
    entry = {
        "filename": archive.name,
        "url": "../../files/demo-1.0.tar.gz",
        "hashes": {"sha256": pypi.sha256_of(archive)},
    }
    listing.write_text(json.dumps({"files": [entry]}))
    requested: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(served), **kwargs)

        def do_GET(self) -> None:  # noqa: N802  (the name http.server calls)
            requested.append(self.path)
            super().do_GET()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple", requested
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def fetch_demo(url: str, monkeypatch: pytest.MonkeyPatch) -> pypi.Fetched:
    monkeypatch.setattr(cache_auth, "_warned", set())
    return pypi.fetch("pypi:demo==1.0", url)


def warnings_in(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith(WARNING)]


def test_a_cached_sdist_is_signed_and_reused_without_the_network(
    home: Path, index: tuple[str, list[str]], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, requested = index
    first = fetch_demo(url, monkeypatch)
    assert not first.cached and len(requested) == 2  # the listing, then the archive
    store = home / "cache" / "pypi"
    assert sorted(p.name for p in store.iterdir()) == [
        "demo-1.0.tar.gz",
        "demo-1.0.tar.gz.mac",
        "demo-1.0.unpacked",
        "demo-1.0.unpacked.mac",
    ]
    again = fetch_demo(url, monkeypatch)
    assert again.cached and again.root == first.root and len(requested) == 2
    # A restored or copied tree has new stat signatures but the same bytes: still trusted.
    code = first.root / "demo" / "__init__.py"
    os.utime(code, ns=(1, 1))
    assert fetch_demo(url, monkeypatch).cached and len(requested) == 2
    assert warnings_in(capsys) == []


@pytest.mark.parametrize("edit", ["rewrite", "add-file", "add-link", "remove", "link-tree"])
def test_an_edited_unpacked_tree_is_unpacked_again(
    home: Path,
    index: tuple[str, list[str]],
    edit: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, _ = index
    root = fetch_demo(url, monkeypatch).root
    code = root / "demo" / "__init__.py"
    if edit == "rewrite":  # same size, so only the stat signature and the bytes tell
        code.write_bytes(PACKAGE_CODE.replace(b"os.system(input())", b"print(input()) ;;;;"))
    elif edit == "add-file":
        (root / "demo" / "extra.py").write_text("x = 1\n")
    elif edit == "add-link":
        (root / "demo" / "link.py").symlink_to("/etc/hostname")
    elif edit == "link-tree":  # the whole tree swapped for a link to a doctored copy
        decoy = home / "decoy"
        root.parent.rename(decoy)
        (decoy / "demo-1.0" / "demo" / "__init__.py").write_text("x = 1\n")
        root.parent.symlink_to(decoy, target_is_directory=True)
    else:
        code.unlink()
    again = fetch_demo(url, monkeypatch)
    assert sorted(p.relative_to(again.root).as_posix() for p in again.root.rglob("*")) == ["demo", "demo/__init__.py"]
    assert (again.root / "demo" / "__init__.py").read_bytes() == PACKAGE_CODE
    assert not again.root.parent.is_symlink()
    warnings = warnings_in(capsys)
    assert len(warnings) == 1 and "failed authentication" in warnings[0]
    if edit == "link-tree":
        assert (home / "decoy" / "demo-1.0" / "demo" / "__init__.py").read_text() == "x = 1\n", "followed the link"


def test_without_a_key_nothing_cached_is_trusted(
    home: Path, index: tuple[str, list[str]], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, requested = index
    root = fetch_demo(url, monkeypatch).root
    (root / "demo" / "__init__.py").write_text("x = 1\n")
    monkeypatch.setenv(cache_auth.KEY_ENV, "short")
    again = fetch_demo(url, monkeypatch)
    assert (again.root / "demo" / "__init__.py").read_bytes() == PACKAGE_CODE
    assert len([path for path in requested if path.endswith(".tar.gz")]) == 1, "the archive matched the index"
    warnings = warnings_in(capsys)
    assert len(warnings) == 1 and "shorter than" in warnings[0]


@pytest.mark.parametrize("how", ["doctored", "unsigned"])
def test_a_doctored_or_unsigned_archive_is_checked_against_the_index(
    home: Path,
    index: tuple[str, list[str]],
    how: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, requested = index
    first = fetch_demo(url, monkeypatch)
    archive = home / "cache" / "pypi" / "demo-1.0.tar.gz"
    seal = archive.with_name(archive.name + ".mac")
    if how == "doctored":
        shutil.rmtree(first.root.parent)
        with tarfile.open(archive, "w:gz") as tar:
            info = tarfile.TarInfo("demo-1.0/demo/__init__.py")
            info.size = 6
            tar.addfile(info, io.BytesIO(b"x = 1\n"))
    else:  # as kept before archives were signed: the index's sha256 vouches for it
        seal.unlink()
        first.root.parent.with_name("demo-1.0.unpacked.mac").unlink()
    again = fetch_demo(url, monkeypatch)
    assert (again.root / "demo" / "__init__.py").read_bytes() == PACKAGE_CODE
    assert again.sha256 == first.sha256
    downloads = [path for path in requested if path.endswith(".tar.gz")]
    assert len(downloads) == (2 if how == "doctored" else 1)
    assert seal.exists()
    warnings = warnings_in(capsys)
    assert len(warnings) == 1 and "failed authentication" in warnings[0]
    assert fetch_demo(url, monkeypatch).cached and warnings_in(capsys) == []


def test_a_review_of_a_tampered_sdist_reviews_the_published_code(
    home: Path, index: tuple[str, list[str]], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = index
    monkeypatch.setenv("SCRUTINY_INDEX_URL", url)
    target = ["review", "--quiet", "--format", "json", "pypi:demo==1.0"]
    assert cli.main(target) == 1
    cold = capsys.readouterr().out
    assert '"SCR1' in cold
    code = fetch_demo(url, monkeypatch).root / "demo" / "__init__.py"
    code.write_text("def run():\n    pass\n")
    monkeypatch.setattr(cache_auth, "_warned", set())
    assert cli.main(target) == 1
    assert capsys.readouterr().out == cold
