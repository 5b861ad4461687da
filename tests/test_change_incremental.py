"""A change review on a warm cache links the version after the change incrementally and
finds exactly what a cold change review (no cache, every link in full) finds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo, needs_git

from scrutiny import cli
from scrutiny.taint import incremental

pytestmark = needs_git

SOURCE = """\
from flask import request


def requested_host():
    return request.args["host"]
"""
HELPERS = """\
import subprocess


def ping(host):
    subprocess.run("ping -c1 " + host, shell=True)


def echo(text):
    return text.strip()
"""
VIEWS_WITHOUT_FLOW = """\
from web.helpers import echo, ping
from web.source import requested_host


def page():
    ping("localhost")
    return echo("hello")


def other():
    return echo("x")
"""
VIEWS_WITH_FLOW = VIEWS_WITHOUT_FLOW.replace('ping("localhost")', "ping(requested_host())")
# Filler modules: the part of the tree the change cannot reach, whose findings come from the state.
FILLER = """\
from web.helpers import echo


def helper_{n}(value):
    return echo(value)
"""


def review(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    cli.main(["review", "--format", "json", "--quiet", "-j", "1", *args])
    captured = capsys.readouterr()
    assert captured.out, captured.err
    return json.loads(captured.out)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.setenv("SCRUTINY_CACHE_DIR", str(tmp_path / "cache"))
    repository = Repo(tmp_path / "repo")
    repository.write("web/__init__.py", "")
    repository.write("web/source.py", SOURCE)
    repository.write("web/helpers.py", HELPERS)
    for n in range(4):
        repository.write(f"web/filler_{n}.py", FILLER.format(n=n))
    monkeypatch.chdir(repository.root)
    return repository


@pytest.fixture
def updates(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each incremental link could reuse its state (False: it linked in full)."""
    taken: list[bool] = []
    real = incremental.update

    def recording(*args: Any, **kwargs: Any) -> incremental.LinkState | None:
        result = real(*args, **kwargs)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(incremental, "update", recording)
    return taken


def _check_same_as_cold(capsys: pytest.CaptureFixture[str], updates: list[bool]) -> dict[str, Any]:
    warm = review(capsys, "--diff", "HEAD")
    assert updates == [True], "the warm change review did not link incrementally"
    cold = review(capsys, "--no-cache", "--diff", "HEAD")
    assert warm == cold
    again = review(capsys, "--diff", "HEAD")  # both links now come from the cache
    assert again == cold
    return warm


def _introduced(document: dict[str, Any]) -> list[tuple[str, str, int]]:
    findings = {f["fingerprint"]: f for f in document["findings"]}
    return [
        (findings[p]["rule_id"], findings[p]["path"], findings[p]["line"]) for p in document["change"]["introduced"]
    ]


def test_a_change_that_adds_a_cross_module_flow(
    repo: Repo, capsys: pytest.CaptureFixture[str], updates: list[bool]
) -> None:
    repo.write("web/views.py", VIEWS_WITHOUT_FLOW)
    repo.commit("base")
    review(capsys, ".")  # the whole review before the change warms the cache
    repo.write("web/views.py", VIEWS_WITH_FLOW)
    document = _check_same_as_cold(capsys, updates)
    assert ("SCR501", "web/helpers.py", 5) in _introduced(document)


def test_a_change_that_removes_a_cross_module_flow(
    repo: Repo, capsys: pytest.CaptureFixture[str], updates: list[bool]
) -> None:
    repo.write("web/views.py", VIEWS_WITH_FLOW)
    repo.commit("base")
    review(capsys, ".")
    repo.write("web/views.py", VIEWS_WITHOUT_FLOW)
    document = _check_same_as_cold(capsys, updates)
    assert ("SCR501", "web/helpers.py", 5) in [
        (f["rule_id"], f["path"], f["line"]) for f in document["change"]["fixed"]
    ]


def test_a_change_to_a_name_other_modules_resolve_links_in_full_and_agrees(
    repo: Repo, capsys: pytest.CaptureFixture[str], updates: list[bool]
) -> None:
    repo.write("web/views.py", VIEWS_WITH_FLOW)
    repo.commit("base")
    review(capsys, ".")
    repo.write("web/helpers.py", HELPERS.replace("def echo(text)", "def echoed(text)"))
    warm = review(capsys, "--diff", "HEAD")
    assert updates == [False]
    assert warm == review(capsys, "--no-cache", "--diff", "HEAD")


def test_with_both_links_kept_only_the_changed_and_reached_files_are_read(
    repo: Repo, capsys: pytest.CaptureFixture[str], updates: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    from scrutiny.cache import ResultCache

    repo.write("web/views.py", VIEWS_WITHOUT_FLOW)
    repo.commit("base")
    review(capsys, ".")
    repo.write("web/views.py", VIEWS_WITH_FLOW)
    first = review(capsys, "--diff", "HEAD")  # keeps the link of the version after the change
    loaded: list[str] = []
    real = ResultCache.load

    def recording(self: ResultCache, entry: str) -> Any:
        found = real(self, entry)
        loaded.append(found.path if found is not None else "")
        return found

    monkeypatch.setattr(ResultCache, "load", recording)
    again = review(capsys, "--diff", "HEAD")
    assert again == first
    # Both versions of the changed file, and the unchanged file the new path ends in.
    assert sorted(loaded) == ["web/helpers.py", "web/views.py", "web/views.py"]
