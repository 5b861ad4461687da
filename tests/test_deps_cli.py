"""``scrutiny deps`` on three pinned real packages and ``scrutiny review pypi:NAME==OLD..NEW`` on a
real upgrade, both from PyPI into the git-ignored cache (network-marked, as test_nova_sdist).

What they show is checked against the plain reviews: each package's counts are those of
``scrutiny review`` of the same file, and the upgrade's introduced, unchanged and fixed
findings are those of the two releases reviewed one by one.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from helpers import review_json
from scrutiny import cli, pypi
from scrutiny.findings import Severity

pytestmark = pytest.mark.network

CACHE = Path(__file__).resolve().parents[1] / ".cache" / "scrutiny"
SCHEMA = Path(cli.__file__).parent / "report" / "review.schema.json"
SIX_WHEEL = "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"
ITSDANGEROUS_SDIST = "e0050c0b7da1eea53ffaf149c0cfbb5c6e2e2b69c4bef22c81fa6eb73e5f6173"
REQUIREMENTS = f"""\
# three pinned packages: a wheel (its hash), an sdist (its hash), an sdist (the index's hash)
six==1.16.0 --hash=sha256:{SIX_WHEEL}
itsdangerous==2.2.0 \\
    --hash=sha256:{ITSDANGEROUS_SDIST}
idna[all] == 3.7 ; python_version >= "3.6"
requests>=2  # not pinned
"""


@pytest.fixture(autouse=True)
def shared_cache() -> None:
    os.environ.setdefault("SCRUTINY_CACHE_DIR", str(CACHE))


def offline_skip(exc: Exception) -> None:
    if os.environ.get("SCRUTINY_OFFLINE"):
        pytest.skip(f"SCRUTINY_OFFLINE is set and a distribution is not cached: {exc}")


@pytest.fixture(scope="module")
def deps_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any], Path]:
    os.environ.setdefault("SCRUTINY_CACHE_DIR", str(CACHE))
    work = tmp_path_factory.mktemp("deps")
    (work / "requirements.txt").write_text(REQUIREMENTS)
    summary = work / "summary.json"
    args = ["deps", str(work / "requirements.txt"), "--quiet", "--format", "json", "-o", str(summary)]
    code = cli.main([*args, "--output-dir", str(work / "reviews")])
    if code == 2 and not summary.exists():
        offline_skip(RuntimeError("deps could not run"))
    return code, json.loads(summary.read_text()), work / "reviews"


def test_deps_reviews_each_pin_from_the_file_its_hash_names(deps_run: tuple[int, dict[str, Any], Path]) -> None:
    _, summary, _ = deps_run
    packages = {p["name"]: p for p in summary["packages"]}
    if any(p["status"] == "failed" for p in packages.values()):
        offline_skip(RuntimeError(str([p["error"] for p in packages.values()])))
    assert sorted(packages) == ["idna", "itsdangerous", "six"]
    assert (packages["six"]["kind"], packages["six"]["artifact"]) == ("wheel", "six-1.16.0-py2.py3-none-any.whl")
    assert (packages["six"]["sha256"], packages["six"]["sha256_checked_against"]) == (SIX_WHEEL, "lockfile")
    its = packages["itsdangerous"]
    assert (its["artifact"], its["sha256"], its["sha256_checked_against"]) == (
        "itsdangerous-2.2.0.tar.gz",
        ITSDANGEROUS_SDIST,
        "lockfile",
    )
    assert (packages["idna"]["artifact"], packages["idna"]["sha256_checked_against"]) == ("idna-3.7.tar.gz", "index")
    assert packages["idna"]["marker"] == 'python_version >= "3.6"'
    # Install time: the sdists' backends; a wheel runs nothing at install.
    assert [b["what"] for b in its["install_time"]] == ["build backend flit_core.buildapi"]
    assert [b["what"] for b in packages["idna"]["install_time"]] == ["build backend flit_core.buildapi"]
    assert packages["six"]["install_time"] == []
    assert summary["skipped"] == [
        {"entry": "requests>=2", "reason": "not pinned (>=2)", "origin": "requirements.txt:6"}
    ]


def test_deps_counts_and_exit_code_are_those_of_the_plain_reviews(
    deps_run: tuple[int, dict[str, Any], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, summary, reviews = deps_run
    packages = {p["name"]: p for p in summary["packages"]}
    if any(p["status"] == "failed" for p in packages.values()):
        offline_skip(RuntimeError("a package failed"))
    any_defect = False
    for name, package in packages.items():
        written = json.loads(Path(package["review"]).read_text())
        assert Path(package["review"]).parent == reviews
        jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(written)
        assert written["inputs"][0]["archive"] == package["artifact"]
        counts = dict(Counter(f["severity"] for f in written["findings"]))
        assert {k: v for k, v in package["counts"].items() if v} == counts, name
        assert package["files"] == written["summary"]["files_reviewed"]
        defects = [f for f in written["findings"] if f["severity"] != "info"]
        any_defect = any_defect or bool(defects)
        if defects:
            worst = max(defects, key=lambda f: Severity.parse(f["severity"]))
            assert Severity.parse(package["worst"]["severity"]) == Severity.parse(worst["severity"])
        else:
            assert package["worst"] is None
        if package["kind"] == "sdist":  # the same sdist reviewed as `scrutiny review pypi:` does
            plain_code, plain = review_json(capsys, f"pypi:{name}=={package['version']}")
            assert [f["fingerprint"] for f in plain["findings"]] == [f["fingerprint"] for f in written["findings"]]
            assert plain_code == (1 if defects else 0)
    assert code == (1 if any_defect else 0) == summary["exit_code"]


def test_deps_text_summary_and_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"six==1.16.0 --hash=sha256:{SIX_WHEEL}\n")
    code = cli.main(["deps", str(requirements), "--quiet", "--output-dir", str(tmp_path / "out")])
    text = capsys.readouterr().out
    if code == 2:
        offline_skip(RuntimeError(text))
    row = next(line for line in text.splitlines() if line.startswith("six "))
    assert row.split()[:4] == ["six", "1.16.0", "wheel", "1"]
    assert (tmp_path / "out" / "six-1.16.0.json").is_file()
    assert cli.main(["deps", str(tmp_path / "missing.lock")]) == 2
    (tmp_path / "uv.lock").write_text("version = 1\n")  # nothing pinned: nothing reviewed
    assert cli.main(["deps", str(tmp_path / "uv.lock"), "--quiet", "--output-dir", str(tmp_path / "o2")]) == 2


# --- the upgrade review ----------------------------------------------------------------------

UPGRADE = "pypi:itsdangerous==1.1.0..2.2.0"


def key(finding: dict[str, Any]) -> tuple[str, str, str, str]:
    """What a fingerprint rests on, with the release's top directory left out of the path."""
    return finding["rule_id"], finding["path"].split("/", 1)[1], finding["scope"], finding["evidence"]


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(exit code, review) of the upgrade, and the plain reviews of the two releases."""
    os.environ.setdefault("SCRUTINY_CACHE_DIR", str(CACHE))
    try:
        for version in ("1.1.0", "2.2.0"):
            pypi.fetch(f"pypi:itsdangerous=={version}")
    except pypi.FetchError as exc:
        offline_skip(exc)
        raise
    work = tmp_path_factory.mktemp("upgrade")
    reviews = []
    for number, target in enumerate((UPGRADE, "pypi:itsdangerous==1.1.0", "pypi:itsdangerous==2.2.0")):
        out = work / f"{number}.json"
        code = cli.main(["review", "--quiet", "--format", "json", "-o", str(out), target])
        reviews.append((code, json.loads(out.read_text())))
    (code, change), (_, old), (_, new) = reviews
    return code, change, old, new


def test_upgrade_findings_are_those_of_the_two_releases_reviewed_alone(
    upgrade: tuple[int, dict[str, Any], dict[str, Any], dict[str, Any]],
) -> None:
    code, review, old, new = upgrade
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(review)
    change = review["change"]
    assert change["mode"] == "upgrade" and change["base"] == "itsdangerous 1.1.0 -> 2.2.0"
    changed_new = {f["new_path"].split("/", 1)[1] for f in change["files"] if f["new_path"]}
    changed_old = {f["old_path"].split("/", 1)[1] for f in change["files"] if f["old_path"]}
    assert {f["status"] for f in change["files"]} <= {"added", "modified", "deleted"}
    assert "src/itsdangerous/signer.py" in changed_new and "setup.py" in changed_old

    def within(review: dict[str, Any], paths: set[str]) -> Counter[tuple[str, str, str, str]]:
        return Counter(key(f) for f in review["findings"] if f["path"].split("/", 1)[1] in paths)

    after = {f["fingerprint"]: f for f in review["findings"]}
    introduced = Counter(key(after[p]) for p in change["introduced"])
    unchanged = Counter(key(after[p]) for p in change["unchanged"])
    fixed = Counter(key(f) for f in change["fixed"])
    # A file that moved is compared under its new path, as the change review compares it.
    renamed = {
        f["old_path"].split("/", 1)[1]: f["new_path"].split("/", 1)[1]
        for f in change["files"]
        if f["status"] == "renamed"
    }
    old_alone = Counter(
        {
            (rule, renamed.get(path, path), scope, evidence): n
            for (rule, path, scope, evidence), n in within(old, changed_old).items()
        }
    )
    new_alone = within(new, changed_new)
    # Every finding of the changed files after the upgrade is introduced or unchanged ...
    assert introduced + unchanged == new_alone
    # ... introduced ones were not there before, fixed ones were and are gone.
    assert not set(introduced) & set(old_alone)
    assert fixed <= old_alone and not set(fixed) & set(new_alone)
    assert change["counts"] == {
        "introduced": sum(introduced.values()),
        "fixed": sum(fixed.values()),
        "unchanged": sum(unchanged.values()),
    }
    assert introduced, "itsdangerous 2.2.0 has findings 1.1.0 did not"
    # Exit 1 exactly when the upgrade introduces a defect.
    defects = [after[p] for p in change["introduced"] if after[p]["severity"] != "info"]
    assert code == (1 if defects else 0)


def test_upgrade_lists_the_build_backend_change(
    upgrade: tuple[int, dict[str, Any], dict[str, Any], dict[str, Any]],
) -> None:
    _, review, _, _ = upgrade
    assert {"state": "appeared", "when": "install", "what": "build backend flit_core.buildapi (pyproject.toml)"} in (
        review["change"]["behaviour"]
    )
    gone = {
        "state": "disappeared",
        "when": "install",
        "what": "build backend setuptools (legacy: runs setup.py) (setup.py)",
    }
    assert gone in review["change"]["behaviour"]
    assert (
        "The upgrade adds install-time behaviour: build backend flit_core.buildapi (pyproject.toml)."
        in (review["verdict"]["reasons"])
    )


def test_upgrade_exit_code_follows_min_severity(capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 1 only for an introduced defect at or above --min-severity."""
    code, review = review_json(capsys, "--min-severity", "high", UPGRADE)
    introduced_high = [
        f for f in review["findings"] if f["fingerprint"] in review["change"]["introduced"] and f["severity"] == "high"
    ]
    assert code == (1 if introduced_high else 0)
    assert all(f["severity"] == "high" for f in review["findings"])


def test_upgrade_is_reviewed_alone(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["review", "--quiet", UPGRADE, "src/"]) == 2
    assert "reviewed alone" in capsys.readouterr().err
