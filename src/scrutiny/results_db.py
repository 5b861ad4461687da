"""The batch results database: the one module that holds SQL.

A SQLite file by default (the stdlib ``sqlite3``, nothing to set up); a ``postgresql://``
URL goes through psycopg 3 (the optional extra ``scrutiny[postgres]``, imported only
then). Both get the same tables and the same statements: the SQL below uses ``?``
placeholders and portable types only, and the PostgreSQL connection swaps ``?`` for ``%s``.

One row per target review (``batch_targets``) and one per finding (``batch_findings``).
A target review is identified by ``target_key``: a hash of the target as listed, the
sha256 of its input, the scrutiny version and the settings hash. Everything one target
adds is written in one transaction, so an interrupted batch leaves whole targets or none.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import astuple, dataclass, field, fields
from typing import Any

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS batch_targets (
        target_key TEXT PRIMARY KEY,
        target TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        input_sha256 TEXT NOT NULL,
        scrutiny_version TEXT NOT NULL,
        settings_hash TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('reviewed', 'failed')),
        error TEXT NOT NULL,
        files INTEGER NOT NULL,
        lines INTEGER NOT NULL,
        file_errors INTEGER NOT NULL,
        high INTEGER NOT NULL,
        medium INTEGER NOT NULL,
        low INTEGER NOT NULL,
        info INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        fetch_seconds REAL NOT NULL,
        review_seconds REAL NOT NULL,
        finished_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS batch_findings (
        target_key TEXT NOT NULL REFERENCES batch_targets (target_key) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        rule_id TEXT NOT NULL,
        severity TEXT NOT NULL,
        confidence TEXT NOT NULL,
        cwe INTEGER NOT NULL,
        path TEXT NOT NULL,
        line INTEGER NOT NULL,
        message TEXT NOT NULL,
        PRIMARY KEY (target_key, position)
    )""",
    "CREATE INDEX IF NOT EXISTS batch_targets_by_target ON batch_targets (target, scrutiny_version, settings_hash)",
    "CREATE INDEX IF NOT EXISTS batch_findings_by_rule ON batch_findings (rule_id)",
)

SEVERITIES = ("high", "medium", "low", "info")  # worst first, as stored


class DatabaseError(Exception):
    """The database cannot be opened or used (bad URL, psycopg missing, server refused)."""


@dataclass(frozen=True, slots=True)
class FindingRow:
    position: int  # the finding's place in the target's review (fingerprints may repeat)
    fingerprint: str
    rule_id: str
    severity: str
    confidence: str
    cwe: int
    path: str
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class TargetRow:
    target: str  # as listed
    kind: str  # pypi, directory or git
    name: str
    version: str  # the release, a git commit, or "" for a plain directory
    input_sha256: str  # the sdist's sha256, or the hash of the reviewed files ("" if never read)
    scrutiny_version: str
    settings_hash: str
    status: str  # reviewed or failed
    error: str = ""
    files: int = 0
    lines: int = 0
    file_errors: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    info: int = 0
    attempts: int = 1
    fetch_seconds: float = 0.0
    review_seconds: float = 0.0
    finished_at: str = ""  # UTC, ISO 8601

    @property
    def target_key(self) -> str:
        return target_key(self.target, self.input_sha256, self.scrutiny_version, self.settings_hash)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A target's review, as stored: its row and its findings."""

    row: TargetRow
    findings: tuple[FindingRow, ...] = field(default_factory=tuple)


def target_key(target: str, input_sha256: str, scrutiny_version: str, settings_hash: str) -> str:
    return hashlib.sha256("\0".join((target, input_sha256, scrutiny_version, settings_hash)).encode()).hexdigest()


TARGET_COLUMNS = ("target_key",) + tuple(f.name for f in fields(TargetRow))
FINDING_COLUMNS = ("target_key",) + tuple(f.name for f in fields(FindingRow))


class ResultsDB:
    """A results database; ``open_db(url)`` makes one."""

    def __init__(self, connection: Any, placeholder: str, url: str) -> None:
        self._connection = connection
        self._placeholder = placeholder
        self.url = url
        with self.transaction():
            for statement in SCHEMA:
                self._execute(statement)

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if self._placeholder != "?":
            sql = sql.replace("?", self._placeholder)
        return self._connection.execute(sql, tuple(params))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction: committed if the block ends normally, else rolled back."""
        self._execute("BEGIN")
        try:
            yield
        except BaseException:
            self._execute("ROLLBACK")
            raise
        self._execute("COMMIT")

    def close(self) -> None:
        self._connection.close()

    def is_reviewed(self, key: str) -> bool:
        """True when a successful review under this key is stored."""
        found = self._execute("SELECT status FROM batch_targets WHERE target_key = ?", (key,)).fetchone()
        return found is not None and found[0] == "reviewed"

    def store(self, outcome: Outcome) -> bool:
        """Write a target's row and its findings in one transaction; False if it was already stored.

        A failed attempt stored earlier for the same target, scrutiny version and settings
        is replaced (a re-run retries failures), so no target has two rows for one run.
        """
        row = outcome.row
        key = row.target_key
        with self.transaction():
            if self.is_reviewed(key):
                return False
            stale = self._execute(
                "SELECT target_key FROM batch_targets WHERE target = ? AND scrutiny_version = ? AND settings_hash = ?"
                " AND status = 'failed'",
                (row.target, row.scrutiny_version, row.settings_hash),
            ).fetchall()
            for (old,) in stale:
                self._execute("DELETE FROM batch_findings WHERE target_key = ?", (old,))
                self._execute("DELETE FROM batch_targets WHERE target_key = ?", (old,))
            marks = ", ".join("?" * len(TARGET_COLUMNS))
            self._execute(f"INSERT INTO batch_targets ({', '.join(TARGET_COLUMNS)}) VALUES ({marks})",  # noqa: S608
                          (key, *astuple(row)))  # fmt: skip
            marks = ", ".join("?" * len(FINDING_COLUMNS))
            insert = f"INSERT INTO batch_findings ({', '.join(FINDING_COLUMNS)}) VALUES ({marks})"  # noqa: S608
            for finding in outcome.findings:
                self._execute(insert, (key, *astuple(finding)))
        return True

    def targets(self) -> list[tuple[str, TargetRow]]:
        """Every stored target review as (target_key, row), in the order they were finished."""
        names = ", ".join(TARGET_COLUMNS)
        found = self._execute(f"SELECT {names} FROM batch_targets ORDER BY finished_at, target_key").fetchall()  # noqa: S608
        return [(record[0], TargetRow(*record[1:])) for record in found]

    def findings(self, key: str) -> list[FindingRow]:
        names = ", ".join(FINDING_COLUMNS[1:])
        found = self._execute(
            f"SELECT {names} FROM batch_findings WHERE target_key = ? ORDER BY position",  # noqa: S608
            (key,),
        ).fetchall()
        return [FindingRow(*record) for record in found]

    def all_findings(self) -> dict[str, list[FindingRow]]:
        """Every stored finding by target_key, each list in review order."""
        names = ", ".join(FINDING_COLUMNS)
        found = self._execute(f"SELECT {names} FROM batch_findings ORDER BY target_key, position").fetchall()  # noqa: S608
        grouped: dict[str, list[FindingRow]] = {}
        for record in found:
            grouped.setdefault(record[0], []).append(FindingRow(*record[1:]))
        return grouped


def open_db(url: str) -> ResultsDB:
    """``postgresql://...`` (or ``postgres://``) through psycopg; anything else is a SQLite file path
    (``sqlite:///path`` also accepted)."""
    if url.startswith(("postgresql://", "postgres://")):
        return _open_postgres(url)
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise DatabaseError(f"cannot create {path}: no directory {parent}")
    try:
        # isolation_level=None: no implicit transactions; ResultsDB.transaction says where they are.
        connection = sqlite3.connect(path, isolation_level=None, timeout=60)
        connection.execute("PRAGMA foreign_keys = ON")
        return ResultsDB(connection, "?", url)
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot open {path}: {exc}") from None


def _open_postgres(url: str) -> ResultsDB:
    try:
        import psycopg
    except ImportError:
        raise DatabaseError("a postgresql:// database needs psycopg: pip install 'scrutiny[postgres]'") from None
    try:
        # autocommit: psycopg would otherwise open a transaction of its own around each statement.
        connection = psycopg.connect(url, autocommit=True)
        return ResultsDB(connection, "%s", url)
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot open {_without_password(url)}: {exc}") from None


def _without_password(url: str) -> str:
    """The URL as it may be shown: the password replaced by ***."""
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
