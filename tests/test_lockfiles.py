"""Each lockfile format read into pins (fixtures in tests/fixtures/lockfiles/), the choice of
the file to review, and fetching a pinned wheel: its hash checked, unpacked safely."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from scrutiny import lockfiles, pypi
from scrutiny.api import Config
from scrutiny.deps import UNCHECKED, choose, review_package
from scrutiny.lockfiles import Artifact, Pin

FIXTURES = Path(__file__).parent / "fixtures" / "lockfiles"
SIX_WHEEL = "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"
SIX_SDIST = "1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926"
IDNA_SDIST = "028ff3aadf0609c1fd278d8ea3089299412a7a8b9bd005dd08b9f8285bcb5cfc"


def pins(name: str) -> dict[str, Pin]:
    return {pin.name: pin for pin in lockfiles.parse(FIXTURES / name).pins}


def skipped(name: str) -> dict[str, str]:
    return {s.entry: s.reason for s in lockfiles.parse(FIXTURES / name).skipped}


def test_requirements_pins_hashes_continuations_extras_and_markers() -> None:
    found = pins("requirements.txt")
    assert sorted(found) == ["idna", "requests", "six", "wheelpin"]
    six = found["six"]
    # Three physical lines joined by backslashes; the comment line under them is not part of it.
    assert (six.version, six.sha256s, six.origin) == ("1.16.0", (SIX_WHEEL, SIX_SDIST), "requirements.txt:2")
    requests = found["requests"]
    assert (requests.version, requests.extras) == ("2.32.3", ("socks", "security"))
    assert requests.marker == 'python_version >= "3.8"'
    assert found["idna"].version == "3.7"  # ===
    wheel = found["wheelpin"]
    assert wheel.version == "1.0.0"
    assert wheel.artifacts == (
        Artifact(
            "wheelpin-1.0.0-py3-none-any.whl",
            "https://files.example.invalid/packages/wheelpin-1.0.0-py3-none-any.whl",
            "aaaa" + "0" * 60,
        ),
    )


def test_requirements_unpinned_lines_are_skipped_with_a_reason() -> None:
    reasons = skipped("requirements.txt")
    assert reasons["flask>=2.0"] == "not pinned (>=2.0)"
    assert reasons["click"] == "not pinned (no version)"
    assert reasons["attrs==23.*"] == "not pinned (==23.*)"
    assert reasons["-r other-requirements.txt"].startswith("option -r is not followed")
    assert reasons["-e ./local-package"].startswith("option -e is not followed")
    assert reasons["--index-url https://example.invalid/simple"].startswith("option --index-url")
    assert reasons["./vendored/thing.tar.gz"] == "a local path or URL, not a pinned requirement"
    assert len(reasons) == 7


def test_uv_lock() -> None:
    found = pins("uv.lock")
    assert sorted(found) == ["certifi", "charset-normalizer"]
    certifi = found["certifi"]
    assert certifi.version == "2024.8.30"
    assert [a.filename for a in certifi.artifacts] == ["certifi-2024.8.30.tar.gz", "certifi-2024.8.30-py3-none-any.whl"]
    assert certifi.artifacts[0].sha256 == "bec941d2aa8195e248a60b31ff9f0558284cf01a52591ceda73ea9afffd69fd9"
    assert certifi.artifacts[0].url == "https://files.example.invalid/certifi-2024.8.30.tar.gz"
    assert [a.is_wheel for a in found["charset-normalizer"].artifacts] == [True, True]
    assert skipped("uv.lock") == {
        "myapp 0.1.0": "source is editable, not a distribution from an index",
        "fromgit 1.0": "source is git, not a distribution from an index",
    }


def test_poetry_lock_new_and_legacy_file_tables() -> None:
    attrs = pins("poetry.lock")["attrs"]
    assert attrs.version == "24.2.0"
    assert [(a.filename, a.url) for a in attrs.artifacts] == [
        ("attrs-24.2.0-py3-none-any.whl", ""),
        ("attrs-24.2.0.tar.gz", ""),
    ]
    assert attrs.sha256s[1] == "5cfb1b9148b5b086569baec03f20d7b6bf3bcacc9a42bebf87ffaaca362f6346"
    assert skipped("poetry.lock") == {"localthing 0.3": "source is directory, not a distribution from an index"}
    six = pins("legacy/poetry.lock")["six"]  # lock-version 1.1: hashes under [metadata.files]
    assert (six.version, set(six.sha256s)) == ("1.16.0", {SIX_WHEEL, SIX_SDIST})


def test_pylock_toml() -> None:
    found = pins("pylock.toml")
    assert sorted(found) == ["archived", "idna", "tomli"]
    idna = found["idna"]
    assert idna.marker == "python_version >= '3.11'"
    assert [a.filename for a in idna.artifacts] == ["idna-3.7.tar.gz", "idna-3.7-py3-none-any.whl"]
    assert idna.artifacts[0].sha256 == IDNA_SDIST
    assert found["tomli"].artifacts[0].filename == "tomli-2.0.1-py3-none-any.whl"
    assert found["archived"].version == "0.9"  # from the archive's file name: the entry names none
    assert skipped("pylock.toml") == {"checkout 0.0.1": "source is vcs, not a distribution from an index"}


def test_pipfile_lock_default_and_develop() -> None:
    found = pins("Pipfile.lock")
    assert (found["six"].version, set(found["six"].sha256s)) == ("1.16.0", {SIX_WHEEL, SIX_SDIST})
    assert found["six"].origin == "Pipfile.lock: default.six"
    assert found["idna"].origin == "Pipfile.lock: develop.idna"
    assert skipped("Pipfile.lock") == {
        "localpkg": "source is path, not a distribution from an index",
        "anything": "not pinned",
    }


def test_unknown_name_and_bad_toml_are_errors(tmp_path: Path) -> None:
    (tmp_path / "deps.lock").write_text("")
    with pytest.raises(lockfiles.LockfileError, match="not a known lockfile name"):
        lockfiles.parse(tmp_path / "deps.lock")
    (tmp_path / "uv.lock").write_text("[[package]\n")
    with pytest.raises(lockfiles.LockfileError, match="not valid TOML"):
        lockfiles.parse(tmp_path / "uv.lock")


# --- which file is reviewed ------------------------------------------------------------------

INDEX = [
    pypi.IndexFile("six-1.16.0-py2.py3-none-any.whl", "https://files.example.invalid/six.whl", SIX_WHEEL),
    pypi.IndexFile("six-1.16.0.tar.gz", "https://files.example.invalid/six.tar.gz", SIX_SDIST),
    pypi.IndexFile("six-1.15.0.tar.gz", "https://files.example.invalid/six-old.tar.gz", "f" * 64),
]


def listing(name: str) -> list[pypi.IndexFile]:
    assert name == "six"
    return INDEX


def test_requirement_hashes_choose_the_index_file_they_vouch_for() -> None:
    both = Pin("six", "1.16.0", (SIX_WHEEL, SIX_SDIST))
    assert choose(both, "sdist", listing) == (Artifact("six-1.16.0.tar.gz", INDEX[1].url, SIX_SDIST), "lockfile")
    assert choose(both, "wheel", listing)[0].filename == "six-1.16.0-py2.py3-none-any.whl"
    # Only the wheel's hash: the lockfile pins the wheel, so the wheel is reviewed.
    wheel_only = Pin("six", "1.16.0", (SIX_WHEEL,))
    assert choose(wheel_only, "sdist", listing) == (Artifact(INDEX[0].filename, INDEX[0].url, SIX_WHEEL), "lockfile")
    # No hash: the index's sdist of that version, vouched for by the index; 1.16 is 1.16.0.
    assert choose(Pin("six", "1.16"), "sdist", listing) == (
        Artifact(INDEX[1].filename, INDEX[1].url, SIX_SDIST),
        "index",
    )
    with pytest.raises(pypi.FetchError, match="none of the 1 hash"):
        choose(Pin("six", "1.16.0", ("0" * 64,)), "sdist", listing)


def test_a_direct_url_without_a_hash_is_checked_against_the_index_or_said_to_be_unchecked() -> None:
    url = "https://files.example.invalid/six-1.16.0.tar.gz"
    direct = Pin("six", "1.16.0", (), (Artifact("six-1.16.0.tar.gz", url, ""),))
    assert choose(direct, "sdist", listing) == (Artifact("six-1.16.0.tar.gz", url, SIX_SDIST), "index")

    def unknown(name: str) -> list[pypi.IndexFile]:
        raise pypi.FetchError(f"cannot list {name}")

    private = Pin("private", "2.0", (), (Artifact("private-2.0.tar.gz", "https://x.invalid/private-2.0.tar.gz", ""),))
    assert choose(private, "sdist", unknown) == (private.artifacts[0], UNCHECKED)
    with pytest.raises(pypi.FetchError, match="cannot list"):
        choose(Pin("private", "2.0"), "sdist", unknown)


def test_named_files_are_used_and_a_url_is_looked_up_when_missing() -> None:
    poetry = pins("legacy/poetry.lock")["six"]  # files named, no URLs
    artifact, vouched = choose(poetry, "sdist", listing)
    assert (artifact.filename, artifact.url, artifact.sha256, vouched) == (
        "six-1.16.0.tar.gz",
        INDEX[1].url,
        SIX_SDIST,
        "lockfile",
    )
    uv = pins("uv.lock")["charset-normalizer"]  # wheels only: the pure one is preferred
    assert choose(uv, "sdist", listing)[0].filename == "charset_normalizer-3.4.0-py3-none-any.whl"


# --- fetching a pinned wheel -------------------------------------------------------------------


def _wheel(path: Path, members: dict[str, str]) -> str:
    with zipfile.ZipFile(path, "w") as bundle:
        for name, text in members.items():
            bundle.writestr(name, text)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fetch_file_checks_the_hash_and_unpacks_a_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRUTINY_CACHE_DIR", str(tmp_path / "cache"))
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    digest = _wheel(wheel, {"demo/__init__.py": "x = 1\n", "demo-1.0.dist-info/METADATA": "Name: demo\n"})
    with pytest.raises(pypi.FetchError, match="sha256 of"):
        pypi.fetch_file("demo", "1.0", wheel.name, wheel.as_uri(), "0" * 64)
    assert not (tmp_path / "cache" / "pypi" / wheel.name).exists()  # a wrong download is not kept
    fetched = pypi.fetch_file("demo", "1.0", wheel.name, wheel.as_uri(), digest)
    assert (fetched.sha256, fetched.cached, fetched.root.name) == (digest, False, "demo-1.0-py3-none-any")
    assert (fetched.root / "demo" / "__init__.py").read_text() == "x = 1\n"
    assert pypi.fetch_file("demo", "1.0", wheel.name, wheel.as_uri(), digest).cached


def test_fetch_file_refuses_a_wheel_with_a_path_outside_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRUTINY_CACHE_DIR", str(tmp_path / "cache"))
    wheel = tmp_path / "evil-1.0-py3-none-any.whl"
    digest = _wheel(wheel, {"../../escaped.py": "boom = 1\n"})
    with pytest.raises(pypi.FetchError, match="outside the archive"):
        pypi.fetch_file("evil", "1.0", wheel.name, wheel.as_uri(), digest)
    assert not list(tmp_path.rglob("escaped.py"))


def test_a_lockfile_url_other_than_http_is_not_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "demo-1.0.tar.gz"
    secret.write_text("not for the cache")
    pin = Pin("demo", "1.0", (), (Artifact(secret.name, secret.as_uri(), ""),))
    package = review_package(pin, Config(), listing=lambda name: [])
    assert (package.status, package.review) == ("failed", None)
    assert package.error == f"demo-1.0.tar.gz: only http(s) URLs are fetched, not {secret.as_uri()!r}"
