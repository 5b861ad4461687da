"""scrutiny batch: many targets into a results database, resumed after a kill, on Ray, on PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from scrutiny import batch, cli
from scrutiny.batch import BatchSettings, run_batch
from scrutiny.results_db import open_db

# Small trees with known defects; each file is reviewed as TREE/FILE.
TREES = {
    "shell": {"run.py": "import subprocess\n\ndef go(cmd):\n    subprocess.call(cmd, shell=True)\n"},
    "loader": {
        "conf.py": "import yaml\nfrom flask import request\n\n\ndef load():\n    return yaml.load(request.data)\n",
        "keys.py": 'PASSWORD = "correct-horse-battery"\n',
    },
    "clean": {"ok.py": "def add(a, b):\n    return a + b\n"},
    "crypto": {"digest.py": "import hashlib\n\ndef sign(data):\n    return hashlib.md5(data).hexdigest()\n"},
}
TIMINGS = ("fetch_seconds", "review_seconds", "finished_at", "attempts")


def make_trees(root: Path, names: list[str] | None = None) -> Path:
    """The trees under ``root`` and a list naming them (plus a missing one); returns the list."""
    for name, files in TREES.items():
        for filename, text in files.items():
            (root / name).mkdir(parents=True, exist_ok=True)
            (root / name / filename).write_text(text)
    listed = root / "targets.txt"
    lines = ["# fixture trees", *(names or list(TREES))]
    listed.write_text("\n".join(lines) + "\n")
    return listed


def stored(url: str) -> dict[str, tuple[dict[str, Any], list[tuple[Any, ...]]]]:
    """target -> (its row without timings, its findings), as the database holds them."""
    db = open_db(url)
    try:
        found: dict[str, tuple[dict[str, Any], list[tuple[Any, ...]]]] = {}
        for key, row in db.targets():
            assert row.target not in found, f"{row.target} stored twice"
            fields = {name: getattr(row, name) for name in row.__slots__ if name not in TIMINGS}
            found[row.target] = (fields, [tuple(vars_of(f)) for f in db.findings(key)])
        return found
    finally:
        db.close()


def vars_of(finding: Any) -> list[Any]:
    return [getattr(finding, name) for name in finding.__slots__]


def test_batch_stores_one_row_per_target_and_one_per_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = make_trees(tmp_path, [*TREES, "missing"])
    url = str(tmp_path / "results.db")
    code = cli.main(["batch", str(listed), "--db", url, "-j", "2"])
    assert code == 1  # the missing directory failed
    rows = stored(url)
    assert set(rows) == {*TREES, "missing"}
    missing, _ = rows["missing"]
    assert missing["status"] == "failed" and missing["error"] == "no such directory"
    for name in TREES:
        row, findings = rows[name]
        assert row["status"] == "reviewed" and row["kind"] == "directory" and row["error"] == ""
        assert row["files"] == len(TREES[name]) and len(row["input_sha256"]) == 64
        # The rows hold exactly what `scrutiny review TREE` reports, tree-relative paths included.
        review = review_of(tmp_path, name)
        expected = [(f["fingerprint"], f["rule_id"], f["severity"], f["path"], f["line"]) for f in review["findings"]]
        assert [(f[1], f[2], f[3], f[6], f[7]) for f in findings] == expected
        assert (row["high"], row["medium"], row["low"]) == tuple(
            review["summary"]["findings"][s] for s in ("high", "medium", "low")
        )
    assert rows["clean"][1] == []
    assert {f[2] for f in rows["loader"][1]} >= {"SCR505"}


def review_of(cwd: Path, name: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "scrutiny", "review", "--format", "json", "--quiet", "--no-cache", name],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def test_rerun_skips_stored_targets_and_reviews_a_changed_tree_again(tmp_path: Path) -> None:
    listed = make_trees(tmp_path)
    db = open_db(str(tmp_path / "results.db"))
    run = BatchSettings()
    notes: list[str] = []
    first = run_batch(batch.read_list(str(listed)), db, run, base=tmp_path, jobs=2)
    assert (first.reviewed, first.failed, first.skipped) == (len(TREES), 0, 0)
    before = db.targets()
    again = run_batch(batch.read_list(str(listed)), db, run, base=tmp_path, jobs=2, notify=notes.append)
    assert (again.reviewed, again.failed, again.skipped) == (0, 0, len(TREES))
    assert db.targets() == before  # nothing written, timings included
    assert any("already stored" in note for note in notes)
    # Another input (a changed file) or other settings are another review.
    (tmp_path / "clean" / "ok.py").write_text("import pickle\n\ndef load(b):\n    return pickle.loads(b)\n")
    changed = run_batch(batch.read_list(str(listed)), db, run, base=tmp_path, jobs=1)
    assert (changed.reviewed, changed.skipped) == (1, len(TREES) - 1)
    stricter = replace(run, settings=replace(run.settings, disable=("SCR2",)))
    assert stricter.settings_hash() != run.settings_hash()
    other = run_batch(["loader"], db, stricter, base=tmp_path, jobs=1)
    assert other.reviewed == 1
    rows = [row for _, row in db.targets()]
    assert len(rows) == len(TREES) + 2
    newest = {row.target: row for row in rows}  # the later row per target
    assert newest["clean"].input_sha256 != before[[row.target for _, row in before].index("clean")][1].input_sha256
    assert newest["clean"].high + newest["clean"].medium + newest["clean"].low >= 1
    db.close()


def test_failing_targets_are_stored_with_their_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    listed = make_trees(tmp_path, ["shell", "pypi:not a name", "no-such-dir", "clean"])
    (tmp_path / "file.txt").write_text("x")
    db = open_db(str(tmp_path / "results.db"))
    targets = [*batch.read_list(str(listed)), "file.txt"]
    totals = run_batch(targets, db, BatchSettings(), base=tmp_path, jobs=1)
    assert (totals.reviewed, totals.failed) == (2, 3)
    errors = {row.target: row.error for _, row in db.targets() if row.status == "failed"}
    assert errors == {
        "pypi:not a name": "'pypi:not a name' is not of the form pypi:NAME or pypi:NAME==VERSION",
        "no-such-dir": "no such directory",
        "file.txt": "not a directory",
    }
    # A re-run retries the failures; a failure stored again replaces the old row, never adds one.
    again = run_batch(targets, db, BatchSettings(), base=tmp_path, jobs=1)
    assert (again.failed, again.skipped) == (3, 2)
    assert sorted(row.target for _, row in db.targets()) == sorted(targets)
    db.close()


def crash_on_shell(identity: batch.Identity, run: BatchSettings, attempts: int = 1) -> Any:
    """A worker that dies (as if killed for memory) on the tree named shell."""
    if identity.target == "shell":
        os._exit(9)
    return REAL_REVIEW(identity, run, attempts)


REAL_REVIEW = batch.review_target


def test_a_worker_that_dies_is_retried_then_recorded_as_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    listed = make_trees(tmp_path)
    db = open_db(str(tmp_path / "results.db"))
    monkeypatch.setattr(batch, "review_target", crash_on_shell)
    totals = run_batch(batch.read_list(str(listed)), db, BatchSettings(), base=tmp_path, jobs=2, max_retries=1)
    rows = {row.target: row for _, row in db.targets()}
    assert set(rows) == set(TREES)  # nothing dropped
    assert totals.failed == 1 and rows["shell"].status == "failed"
    assert rows["shell"].attempts == 2 and "worker process died" in rows["shell"].error
    assert all(rows[name].status == "reviewed" for name in TREES if name != "shell")
    db.close()


def test_a_target_submitted_after_the_pool_broke_is_not_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The race CI hit: a worker dies, and the driver submits the next target before it has
    # looked at the lost future, so the executor refuses the submission.
    make_trees(tmp_path)
    monkeypatch.setattr(batch, "review_target", crash_on_shell)
    run = BatchSettings()
    pool = batch.LocalPool(2, run, max_retries=1)
    identities = {name: batch.identify(name, tmp_path, run) for name in ("shell", "clean")}
    pool.submit(identities["shell"])
    deadline = time.monotonic() + 60
    while not pool.executor._broken:  # noqa: SLF001  (waiting for the breakage itself)
        assert time.monotonic() < deadline, "the worker did not die"
        time.sleep(0.05)
    pool.submit(identities["clean"])  # raised BrokenProcessPool before the fix
    outcomes = {}
    while pool.pending():
        identity, outcome = pool.next()
        outcomes[identity.target] = outcome
    pool.close()
    assert set(outcomes) == {"shell", "clean"}
    assert outcomes["shell"].row.status == "failed" and outcomes["clean"].row.status == "reviewed"


def test_killed_half_way_and_resumed_stores_everything_once(tmp_path: Path) -> None:
    listed = make_trees(tmp_path)
    url = str(tmp_path / "results.db")
    command = [sys.executable, "-m", "scrutiny", "batch", str(listed), "--db", url, "-j", "1"]
    # The driver waits after each stored target, so the kill lands after the first one.
    env = dict(os.environ, **{batch.PAUSE_VARIABLE: "60"})
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while count_rows(url) < 1:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "no target was stored in two minutes"
            time.sleep(0.1)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert count_rows(url) == 1
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "1 already stored" in done.stderr
    resumed = stored(url)
    assert set(resumed) == set(TREES)
    # The same rows as a run never interrupted.
    fresh = str(tmp_path / "fresh.db")
    assert cli.main(["batch", str(listed), "--db", fresh, "-j", "1", "-q"]) == 0
    assert resumed == stored(fresh)


def count_rows(url: str) -> int:
    if not os.path.exists(url):
        return 0
    with sqlite3.connect(url) as connection:
        try:
            return int(connection.execute("SELECT count(*) FROM batch_targets").fetchone()[0])
        except sqlite3.OperationalError:  # the table is not created yet
            return 0


def test_report_worst_first_as_text_json_and_escaped_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    listed = make_trees(tmp_path, [*TREES, "<b>odd name"])
    (tmp_path / "<b>odd name").mkdir()
    (tmp_path / "<b>odd name" / "x.py").write_text("import os\nos.system(input())\n")
    url = str(tmp_path / "results.db")
    assert cli.main(["batch", str(listed), "--db", url, "-q"]) == 0
    capsys.readouterr()
    assert cli.main(["batch", "report", "--db", url]) == 0
    text = capsys.readouterr().out
    packages = text.split("By package, worst first:")[1].split("By rule")[0]
    assert packages.index(" loader\n") < packages.index(" shell\n") < packages.index(" clean\n")
    assert "worst: SCR505 high loader/conf.py:6:" in packages
    out = tmp_path / "report.json"
    assert cli.main(["batch", "report", "--db", url, "--format", "json", "-o", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["reviewed"] == len(TREES) + 1 and document["failed"] == 0
    highs = [p["counts"]["high"] for p in document["packages"]]
    assert highs == sorted(highs, reverse=True)
    assert any(r["rule_id"] == "SCR505" and r["severity"] == "high" for r in document["rules"])
    page = tmp_path / "report.html"
    assert cli.main(["batch", "report", "--db", url, "--format", "html", "-o", str(page)]) == 0
    html = page.read_text()
    assert "<b>odd" not in html and "&lt;b&gt;odd name" in html
    assert "<script" not in html and "Content-Security-Policy" in html


def test_top_n_reads_a_popularity_list(tmp_path: Path) -> None:
    rows = {"rows": [{"project": "boto3", "download_count": 9}, {"project": "urllib3", "download_count": 8},
                     {"project": "requests", "download_count": 7}]}  # fmt: skip
    (tmp_path / "top.json").write_text(json.dumps(rows))
    assert batch.top_targets(str(tmp_path / "top.json"), 2) == ["pypi:boto3", "pypi:urllib3"]
    (tmp_path / "top.csv").write_text("project,download_count\nsix,10\npypi:idna==3.7,9\n# note\nsix,1\nattrs,8\n")
    assert batch.top_targets(str(tmp_path / "top.csv"), 5) == ["pypi:six", "pypi:idna==3.7", "pypi:attrs"]
    (tmp_path / "bad.txt").write_text("not/a/name\n")
    with pytest.raises(batch.BatchError, match="not of the form"):
        batch.top_targets(str(tmp_path / "bad.txt"), 1)


def test_ray_gives_the_same_rows_as_the_local_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'scrutiny[ray]')")
    listed = make_trees(tmp_path, [*TREES, "missing"])
    targets = batch.read_list(str(listed))
    local = str(tmp_path / "local.db")
    db = open_db(local)
    run_batch(targets, db, BatchSettings(), base=tmp_path, jobs=2)
    db.close()
    with_ray = str(tmp_path / "ray.db")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        db = open_db(with_ray)
        totals = run_batch(targets, db, BatchSettings(), base=tmp_path, jobs=2, ray_address="local")
        db.close()
        assert (totals.reviewed, totals.failed) == (len(TREES), 1)
        assert stored(with_ray) == stored(local)
        # A task whose worker dies is retried by Ray, then stored as failed; the rest get through.
        ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
        monkeypatch.setattr(batch, "review_target", crash_on_shell)
        db = open_db(str(tmp_path / "crash.db"))
        crashed = run_batch(targets, db, BatchSettings(), base=tmp_path, jobs=2, ray_address="local", max_retries=1)
        rows = {row.target: row for _, row in db.targets()}
        db.close()
    finally:
        ray.shutdown()
    assert (crashed.reviewed, crashed.failed) == (len(TREES) - 1, 2)
    assert set(rows) == {*TREES, "missing"}
    assert rows["shell"].status == "failed" and rows["shell"].attempts == 2
    assert "WorkerCrashedError" in rows["shell"].error or "died" in rows["shell"].error, rows["shell"].error


POSTGRES = os.environ.get("SCRUTINY_TEST_POSTGRES")


@pytest.mark.skipif(not POSTGRES, reason="set SCRUTINY_TEST_POSTGRES to a postgresql:// URL (.ci/postgres starts one)")
def test_postgres_holds_the_same_rows_as_sqlite(tmp_path: Path) -> None:
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'scrutiny[postgres]')")
    assert POSTGRES is not None
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS batch_findings, batch_targets")
    listed = make_trees(tmp_path, [*TREES, "missing"])
    sqlite_url = str(tmp_path / "results.db")
    assert cli.main(["batch", str(listed), "--db", sqlite_url, "-q"]) == 1
    assert cli.main(["batch", str(listed), "--db", POSTGRES, "-q"]) == 1
    assert stored(POSTGRES) == stored(sqlite_url)
    # Re-running skips on PostgreSQL too; the report reads it.
    db = open_db(POSTGRES)
    totals = run_batch(batch.read_list(str(listed)), db, BatchSettings(), base=tmp_path, jobs=1)
    db.close()
    assert (totals.reviewed, totals.skipped, totals.failed) == (0, len(TREES), 1)
    assert cli.main(["batch", "report", "--db", POSTGRES, "--format", "json", "-o", str(tmp_path / "r.json")]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["reviewed"] == len(TREES)


def test_usage_errors_exit_2_before_anything_is_stored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = str(tmp_path / "results.db")
    assert cli.main(["batch", "--db", url]) == 2
    assert "give LIST, or --top N with --from FILE" in capsys.readouterr().err
    assert cli.main(["batch", str(tmp_path / "none.txt"), "--db", url]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert cli.main(["batch", str(make_trees(tmp_path)), "--db", str(tmp_path / "no" / "dir.db")]) == 2
    assert "no directory" in capsys.readouterr().err
    assert not os.path.exists(url)
