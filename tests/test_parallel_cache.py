"""Parallel review and the per-file result cache: same review whatever the jobs or the cache state."""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scrutiny import api, cache, cache_auth, cli, taint
from scrutiny.discover import Input, discover
from scrutiny.findings import FileResult
from scrutiny.taint import ModuleSummary, incremental

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture()
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "user-cache"
    monkeypatch.setenv("SCRUTINY_CACHE_DIR", str(root))
    return root / "results"


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    """Every rule and context fixture, plus a few files that cannot be reviewed."""
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES, root)
    (root / "broken.py").write_text("def broken(:\n")
    (root / "binary.py").write_bytes(b"\x00\x01\x02")
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(["review", "--quiet", "--format", "json", *args])
    return code, capsys.readouterr().out


def unpickle(data: bytes) -> object:
    return pickle.loads(data)  # noqa: S301  (entries this test's own runs wrote)


def stored_value(entry: Path, cache_root: Path) -> object:
    """What a cache entry holds, once its MAC is checked."""
    name = entry.relative_to(cache_root).as_posix()
    payload = cache_auth.unseal(cache_auth.load_key(cache_root), name, entry.read_bytes())
    assert payload is not None, f"{name} fails its MAC"
    return pickle.loads(payload)  # noqa: S301  (checked above: this test's own runs wrote it)


def entries(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_output_is_byte_identical_for_any_number_of_jobs(
    tree: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, serial = run(capsys, "--no-cache", "--jobs", "1", str(tree))
    assert code == 1 and '"rule_id"' in serial
    for jobs in ("2", "3", "0"):
        assert run(capsys, "--no-cache", "--jobs", jobs, str(tree)) == (code, serial), jobs
    assert entries(cache_dir) == [], "--no-cache wrote to the cache"
    # Cold cache in parallel, then warm in parallel and in process: still the same bytes.
    assert run(capsys, "--jobs", "2", str(tree)) == (code, serial)
    assert entries(cache_dir)
    assert run(capsys, "--jobs", "2", str(tree)) == (code, serial)
    assert run(capsys, "--jobs", "1", str(tree)) == (code, serial)


def test_the_cycle_collector_is_paused_only_while_a_file_is_reviewed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []
    real_classify = api.classify

    def classify(src: object) -> object:
        seen.append(gc.isenabled())
        return real_classify(src)  # type: ignore[arg-type]

    monkeypatch.setattr(api, "classify", classify)
    rules = api.RuleSet(api.all_rules())
    item = Input("m.py", None, b"x = 1\n")
    assert gc.isenabled()
    assert api.review_data(item, item.data or b"", rules).error is None
    assert seen == [False] and gc.isenabled()
    # A file that fails part-way (here: bad syntax) must not leave the collector off.
    assert api.review_data(item, b"def broken(:\n", rules).error is not None
    assert gc.isenabled()
    # A caller that turned the collector off itself keeps it off.
    gc.disable()
    try:
        api.review_data(item, item.data or b"", rules)
        assert seen[-1] is False and not gc.isenabled()
    finally:
        gc.enable()


def test_a_run_keeps_the_collector_paused_and_collects_young_objects_now_and_then(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    collected: list[tuple[int, bool]] = []
    monkeypatch.setattr(api, "COLLECT_EVERY", 3)
    monkeypatch.setattr(gc, "collect", lambda generation=2: collected.append((generation, gc.isenabled())) or 0)
    items, _ = discover([str(tree)])
    assert len(items) > 7
    results = api.review_all(items, jobs=1)
    assert len(results) == len(items) and gc.isenabled()
    assert collected == [(0, False)] * (len(items) // 3)


def test_file_results_survive_pickling(tree: Path) -> None:
    items, _ = discover([str(tree)])
    rules = api.RuleSet(api.all_rules())
    results = [api.review_file(item, rules) for item in items]
    assert any(r.findings for r in results) and any(r.error for r in results)
    assert any(r.observations for r in results) and any(r.context for r in results)
    assert [unpickle(pickle.dumps(r)) for r in results] == results


def test_a_warm_review_loads_every_file_from_the_cache(
    tree: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = api.Config(cache=True)
    cold = api.scan([str(tree)], config)
    stored = entries(cache_dir)
    # Every file but the unreadable kinds gets an entry; temporary files never stay.
    assert len(stored) == len(cold.files)
    assert not [p for p in stored if p.name.startswith(".tmp-")]

    def no_review(*args: object, **kwargs: object) -> FileResult:
        raise AssertionError("a cached file was reviewed again")

    monkeypatch.setattr(api, "review_data", no_review)
    for jobs in (1, 2):
        warm = api.scan([str(tree)], api.Config(cache=True, jobs=jobs))
        assert warm == cold
        # Without the whole-review entry, each file's entry is loaded and linked again.
        shutil.rmtree(cache_dir.with_name("runs"))
        assert api.scan([str(tree)], api.Config(cache=True, jobs=jobs)) == cold


def _age(root: Path) -> None:
    """Date every file a minute back: the stat index ignores files changed in the last seconds."""
    past = time.time() - 60
    for path in root.rglob("*"):
        os.utime(path, (past, past), follow_symlinks=False)


def test_a_warm_review_of_an_unchanged_tree_reads_no_file(
    tree: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _age(tree)
    cold = api.scan([str(tree)], api.Config(cache=True, jobs=2))

    def no_read(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("an unchanged file was read")

    monkeypatch.setattr(api, "read_input", no_read)
    assert api.scan([str(tree)], api.Config(cache=True, jobs=2)) == cold
    # The whole review and the kept taint link (its state, and beside it its findings alone);
    # the stat index and the rule ids stay.
    kept = [p for p in cache_dir.with_name("runs").iterdir() if not p.name.startswith(("index-", "rules-"))]
    assert len(kept) == 3 and sum(p.name.endswith(".findings") for p in kept) == 1
    for entry in kept:
        entry.unlink()
    # Whole review and link gone, stat index kept: the per-file entries are found without reading.
    assert api.scan([str(tree)], api.Config(cache=True, jobs=1)) == cold


def test_a_file_changed_since_the_index_was_written_is_read_again(tree: Path, cache_dir: Path) -> None:
    target = tree / "rules" / "SCR101.py"
    _age(tree)
    first = api.scan([str(tree)], api.Config(cache=True))
    # Same size, new content: only the stat signature (mtime, ctime) tells it changed.
    original = target.read_bytes()
    target.write_bytes(original.replace(b"subprocess.run(f", b"subprocess.ran(f", 1))
    second = api.scan([str(tree)], api.Config(cache=True))
    assert len(target.read_bytes()) == len(original) and second != first
    assert second == api.scan([str(tree)], api.Config(cache=False))


def test_a_changed_file_or_setting_misses_and_a_damaged_entry_is_rewritten(tree: Path, cache_dir: Path) -> None:
    target = tree / "rules" / "SCR101.py"
    config = api.Config(cache=True)
    first = api.scan([str(target)], config)
    (entry,) = entries(cache_dir)
    target.write_text(target.read_text() + "\nimport os\nos.system(input())\n")
    second = api.scan([str(target)], config)
    assert len(entries(cache_dir)) == 2
    assert second.findings != first.findings
    api.scan([str(target)], api.Config(cache=True, max_bytes=10_000_000))
    assert len(entries(cache_dir)) == 3, "a different size limit must not reuse the entry"
    # A truncated entry (say, from a crashed older version) is a miss, then rewritten.
    target.write_text(target.read_text().split("\nimport os\n")[0])
    entry.write_bytes(entry.read_bytes()[:20])
    # The whole review of the first run is still cached; without it the file's own entry is read.
    shutil.rmtree(cache_dir.with_name("runs"))
    assert api.scan([str(target)], config) == first
    assert stored_value(entry, cache_dir.parent) == first_result(target)


def first_result(target: Path) -> FileResult:
    (item,), _ = discover([str(target)])
    return api.review_file(item, api.RuleSet(api.all_rules()))


def test_the_cache_lives_in_the_user_cache_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SCRUTINY_CACHE_DIR", str(tmp_path / "a"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "b"))
    assert cache.results_dir() == tmp_path / "a" / "results"
    monkeypatch.delenv("SCRUTINY_CACHE_DIR")
    assert cache.results_dir() == tmp_path / "b" / "scrutiny" / "results"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.results_dir() == tmp_path / "home" / ".cache" / "scrutiny" / "results"


def test_the_key_covers_content_name_package_rules_and_settings() -> None:
    run_key = cache.rules_fingerprint(["SCR101"], "max_bytes=1")
    base = cache.key(b"x = 1\n", "a.py", False, run_key)
    assert base == cache.key(b"x = 1\n", "a.py", False, run_key)
    assert base != cache.key(b"x = 2\n", "a.py", False, run_key)
    assert base != cache.key(b"x = 1\n", "b.py", False, run_key)
    assert base != cache.key(b"x = 1\n", "a.py", True, run_key)
    assert base != cache.key(b"x = 1\n", "a.py", False, cache.rules_fingerprint(["SCR101", "SCR102"], "max_bytes=1"))
    assert base != cache.key(b"x = 1\n", "a.py", False, cache.rules_fingerprint(["SCR101"], "max_bytes=2"))


def test_taint_summaries_are_cached_and_linked_after_every_file(
    tree: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    linked: list[list[ModuleSummary]] = []

    def summarize(src: object, context: object) -> tuple[ModuleSummary, list[object]]:
        path = getattr(src, "path")  # noqa: B009  (typed as object to keep the fake small)
        return ModuleSummary(path, Path(path).stem), []

    def link(summaries: list[ModuleSummary]) -> list[object]:
        linked.append(list(summaries))
        return []

    def link_kept(summaries: list[ModuleSummary]) -> incremental.LinkState:
        link(summaries)  # with the cache, the link is made by incremental.full, which keeps its state
        return incremental.LinkState([], {}, frozenset(), False, {}, {}, {})

    monkeypatch.setattr(taint, "summarize", summarize)
    monkeypatch.setattr(taint, "link", link)
    monkeypatch.setattr(incremental, "full", link_kept)
    cold = api.scan([str(tree)], api.Config(cache=True, jobs=2))
    reviewed = sorted(f.path for f in cold.files if f.error is None)
    monkeypatch.setattr(taint, "summarize", lambda src, context: pytest.fail("summarize ran on a cached file"))
    api.scan([str(tree)], api.Config(cache=True, jobs=2))
    assert len(linked) == 1, "an unchanged tree's whole review is cached: no link"
    shutil.rmtree(cache_dir.with_name("runs"))
    api.scan([str(tree)], api.Config(cache=True, jobs=2))
    assert len(linked) == 2
    assert sorted(s.path for s in linked[0]) == reviewed
    assert linked[1] == linked[0], "the warm run must link the cached summaries"


def test_negative_jobs_is_a_usage_error(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["review", "--jobs", "-1", str(tree)]) == 2
    assert "--jobs" in capsys.readouterr().err


def test_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    """SIGINT to the whole process group, as a terminal sends it: exit 130, nothing half-written."""
    root = tmp_path / "big"
    root.mkdir()
    body = "".join(f"def f{n}(cmd):\n    import os\n    os.system(cmd + 'x{n}')\n\n" for n in range(2000))
    for n in range(200):
        (root / f"m{n:03}.py").write_text(body)
    out = tmp_path / "out" / "review.json"
    out.parent.mkdir()
    # PYTHONFAULTHANDLER: if the run ever hangs, SIGABRT below makes it print every thread's stack.
    env = dict(os.environ, SCRUTINY_CACHE_DIR=str(tmp_path / "cache"), PYTHONFAULTHANDLER="1")
    command = [sys.executable, "-m", "scrutiny", "review", "--jobs", "2", "-o", str(out), str(root)]
    # A shell's background job starts with SIGINT ignored, and Python then installs no
    # KeyboardInterrupt handler; give the child the default disposition a terminal gives it.
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    stored = tmp_path / "cache" / "results"
    deadline = time.monotonic() + 60
    while not entries(stored) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be interrupted"
    os.killpg(process.pid, signal.SIGINT)
    try:
        _, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGABRT)
        _, err = process.communicate(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        pytest.fail(f"still running 60 s after Ctrl-C; its threads:\n{err[-6000:]}")
    assert process.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    assert list(out.parent.iterdir()) == []
    for entry in entries(stored):
        assert not entry.name.startswith(".tmp-"), "a temporary cache file was left behind"
        assert isinstance(stored_value(entry, stored.parent), FileResult)


def test_a_worker_that_dies_gives_errors_not_a_hang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(6):
        (tmp_path / f"m{n}.py").write_text("import os\nos.system(cmd)\n")
    real = api.review_data

    def die_on_m2(item: Input, *args: object) -> FileResult:
        if item.display.endswith("m2.py"):
            os._exit(9)  # as if killed for memory
        return real(item, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(api, "review_data", die_on_m2)
    items, _ = discover([str(tmp_path)])
    results = api.review_all(items, jobs=2)
    assert [Path(r.path).name for r in results] == [f"m{n}.py" for n in range(6)]
    assert results[2].error is not None and results[2].error.kind == "internal"
    assert all(r.error is None or r.error.kind == "internal" for r in results)
