"""Project configuration: ``[tool.scrutiny]`` in pyproject.toml, or a scrutiny.toml given with --config.

Every key is checked by hand (tomllib reads, nothing else): an unknown key or a bad value
is a ``ConfigError`` naming the file, the key and, where it can be found, the line, so
the CLI stops with exit 2 before it writes anything. docs/configuration.md lists the keys.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from scrutiny.findings import Severity

if TYPE_CHECKING:
    from scrutiny.discover import Input
    from scrutiny.rules import RuleSet

KEYS = (
    "include", "exclude", "enable", "disable", "min-severity", "honor-nosec", "taint-models", "jobs", "file-timeout",
    "overrides",
)  # fmt: skip
OVERRIDE_KEYS = ("paths", "enable", "disable", "min-severity")
PYPROJECT = "pyproject.toml"


class ConfigError(Exception):
    """A configuration that cannot be used; the message names file, line and key."""

    def __init__(self, path: Path | str, key: str, message: str, line: int = 0) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class Override:
    """Settings for the files that match ``paths``; later overrides win."""

    paths: tuple[str, ...]
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    min_severity: Severity | None = None


@dataclass(frozen=True)
class Settings:
    """The project's settings, with CLI flags folded in by ``merge_cli``. None: not set."""

    path: Path | None = None  # the file read; None when there is none
    root: Path = field(default_factory=Path.cwd)  # globs in the file are relative to this directory
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    min_severity: Severity | None = None
    honor_nosec: bool = False
    taint_models: tuple[Path, ...] = ()
    jobs: int | None = None
    file_timeout: float | None = None  # seconds one file's review may take; 0: no budget
    overrides: tuple[Override, ...] = ()

    def fingerprint(self) -> str:
        """What in these settings changes a file's result: rule choice, nosec, overrides, model contents."""
        digest = hashlib.sha256()
        parts = [repr((self.enable, self.disable, self.honor_nosec))]
        if self.overrides:  # their globs are read from root
            parts.append(self.root.as_posix())
            parts += [repr((o.paths, o.enable, o.disable)) for o in self.overrides]
        for model in self.taint_models:
            parts.append(model.as_posix())
            parts.append(hashlib.sha256(model.read_bytes()).hexdigest())
        digest.update("\n".join(parts).encode("utf-8", "surrogateescape"))
        return digest.hexdigest()


# Finding the file --------------------------------------------------------------------------


def find(start: Path) -> Path | None:
    """The first pyproject.toml with a [tool.scrutiny] table from ``start`` upward.

    The search stops at the repository root (a directory holding .git) or the file
    system root, so a checkout never picks up settings from the directory above it.
    """
    directory = start.resolve()
    if not directory.is_dir():
        directory = directory.parent
    for folder in (directory, *directory.parents):
        candidate = folder / PYPROJECT
        if candidate.is_file() and _has_table(candidate):
            return candidate
        if (folder / ".git").exists():
            return None
    return None


def _has_table(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        # A broken pyproject.toml that never mentions scrutiny is not ours to judge; one
        # that does is read, so the error is reported.
        return "[tool.scrutiny" in text
    tool = data.get("tool")
    return isinstance(tool, dict) and "scrutiny" in tool


def discover_for(targets: list[str], explicit: str | None) -> Settings:
    """The settings for a run: ``--config FILE``, else the pyproject.toml above the first path target."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(path, "--config", "no such file")
        return read(path)
    first = next((t for t in targets if t != "-" and not t.startswith("pypi:")), None)
    found = find(Path(first) if first else Path.cwd())
    return read(found) if found else Settings()


# Reading and checking ----------------------------------------------------------------------


def read(path: Path) -> Settings:
    """Read a pyproject.toml ([tool.scrutiny]) or any other TOML file (keys at the top level)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "", f"not valid TOML: {exc}") from None
    lines = _Lines(text, "tool.scrutiny" if path.name == PYPROJECT else "")
    if path.name == PYPROJECT:
        tool = data.get("tool", {})
        table = tool.get("scrutiny") if isinstance(tool, dict) else None
        if not isinstance(table, dict):
            raise ConfigError(path, "", "has no [tool.scrutiny] table")
        data = table
    return _settings(path, data, lines)


class _Lines:
    """Finds the line of a key in the file's text, for error messages (0 when not found)."""

    def __init__(self, text: str, prefix: str) -> None:
        self.lines = text.splitlines()
        self.prefix = prefix

    def _section(self, header: str, occurrence: int) -> int:
        if not header:
            return 0
        pattern = re.compile(r"^\s*\[+\s*" + re.escape(header).replace(r"\.", r"\s*\.\s*") + r"\s*\]+")
        seen = 0
        for number, line in enumerate(self.lines):
            if pattern.match(line):
                if seen == occurrence:
                    return number + 1
                seen += 1
        return -1

    def find(self, key: str, override: int | None = None) -> int:
        header = self.prefix
        if override is not None:
            header = f"{self.prefix}.overrides" if self.prefix else "overrides"
        start = self._section(header, override or 0) if header else 0
        if start < 0:
            return 0
        pattern = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=")
        for number in range(start, len(self.lines)):
            line = self.lines[number]
            if re.match(r"^\s*\[", line):
                break
            if pattern.match(line):
                return number + 1
        return start


def _strings(path: Path, lines: _Lines, key: str, value: object, override: int | None = None) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(path, key, "must be a list of non-empty strings", lines.find(key, override))
    return tuple(value)


def _severity(path: Path, lines: _Lines, value: object, override: int | None = None) -> Severity:
    if not isinstance(value, str):
        raise ConfigError(path, "min-severity", "must be a string", lines.find("min-severity", override))
    try:
        return Severity.parse(value)
    except ValueError as exc:
        raise ConfigError(path, "min-severity", str(exc), lines.find("min-severity", override)) from None


def _rule_ids(path: Path, lines: _Lines, key: str, value: object, override: int | None = None) -> tuple[str, ...]:
    from scrutiny.rules import registered

    known = registered()
    chosen = tuple(v.strip().upper() for v in _strings(path, lines, key, value, override))
    for prefix in chosen:
        if not any(rule_id.startswith(prefix) for rule_id in known):
            message = f"{prefix!r} is not a rule id or the start of one (`scrutiny rules` lists them)"
            raise ConfigError(path, key, message, lines.find(key, override))
    return chosen


def _unknown(path: Path, lines: _Lines, table: dict[str, object], allowed: tuple[str, ...], where: str,
             override: int | None = None) -> None:  # fmt: skip
    for key in table:
        if key not in allowed:
            hint = f" (did you mean {key.replace('_', '-')!r}?)" if key.replace("_", "-") in allowed else ""
            message = f"unknown key in {where}{hint}; known keys: {', '.join(allowed)}"
            raise ConfigError(path, key, message, lines.find(key, override))


def _settings(path: Path, data: dict[str, object], lines: _Lines) -> Settings:
    where = "[tool.scrutiny]" if path.name == PYPROJECT else "the file"
    _unknown(path, lines, data, KEYS, where)
    root = path.resolve().parent
    settings = Settings(path=path, root=root)
    if "include" in data:
        settings = replace(settings, include=_strings(path, lines, "include", data["include"]))
    if "exclude" in data:
        settings = replace(settings, exclude=_strings(path, lines, "exclude", data["exclude"]))
    if "enable" in data:
        settings = replace(settings, enable=_rule_ids(path, lines, "enable", data["enable"]))
    if "disable" in data:
        settings = replace(settings, disable=_rule_ids(path, lines, "disable", data["disable"]))
    if "min-severity" in data:
        settings = replace(settings, min_severity=_severity(path, lines, data["min-severity"]))
    if "honor-nosec" in data:
        if not isinstance(data["honor-nosec"], bool):
            raise ConfigError(path, "honor-nosec", "must be true or false", lines.find("honor-nosec"))
        settings = replace(settings, honor_nosec=data["honor-nosec"])
    if "jobs" in data:
        jobs = data["jobs"]
        if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 0:
            raise ConfigError(path, "jobs", "must be a whole number, 0 (one per core) or more", lines.find("jobs"))
        settings = replace(settings, jobs=jobs)
    if "file-timeout" in data:
        seconds = data["file-timeout"]
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 0 <= seconds < float("inf"):
            message = "must be a number of seconds, 0 (no budget) or more"
            raise ConfigError(path, "file-timeout", message, lines.find("file-timeout"))
        settings = replace(settings, file_timeout=float(seconds))
    if "taint-models" in data:
        models = _strings(path, lines, "taint-models", data["taint-models"])
        settings = replace(settings, taint_models=tuple(_model(path, lines, root, m) for m in models))
    if "overrides" in data:
        settings = replace(settings, overrides=_overrides(path, lines, data["overrides"]))
    return settings


def _model(path: Path, lines: _Lines, root: Path, name: str) -> Path:
    from scrutiny.taint.models import ModelError, parse_model

    model = (root / name).resolve()
    line = lines.find("taint-models")
    try:
        text = model.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "taint-models", f"model file {name} not found (looked for {model})", line) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "taint-models", f"cannot read model file {name}: {exc}", line) from None
    try:
        parse_model(text, name)
    except ModelError as exc:
        raise ConfigError(path, "taint-models", f"model file {exc}", line) from None
    return model


def _overrides(path: Path, lines: _Lines, value: object) -> tuple[Override, ...]:
    header = "[[tool.scrutiny.overrides]]" if path.name == PYPROJECT else "[[overrides]]"
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(path, "overrides", f"must be an array of tables ({header})", lines.find("overrides"))
    found: list[Override] = []
    for number, table in enumerate(value):
        _unknown(path, lines, table, OVERRIDE_KEYS, f"{header} #{number + 1}", number)
        if "paths" not in table:
            line = lines.find("paths", number)
            raise ConfigError(path, "overrides", f"{header} #{number + 1} has no paths", line)
        override = Override(_strings(path, lines, "paths", table["paths"], number))
        if "enable" in table:
            override = replace(override, enable=_rule_ids(path, lines, "enable", table["enable"], number))
        if "disable" in table:
            override = replace(override, disable=_rule_ids(path, lines, "disable", table["disable"], number))
        if "min-severity" in table:
            override = replace(override, min_severity=_severity(path, lines, table["min-severity"], number))
        found.append(override)
    return tuple(found)


# Command line ---------------------------------------------------------------------------


def add_arguments(review: argparse.ArgumentParser) -> None:
    """The review options that mirror configuration keys (they win over the file)."""
    review.add_argument(
        "--config",
        metavar="FILE",
        help="read settings from FILE: a pyproject.toml ([tool.scrutiny]) or a TOML file with the keys at the "
        "top level (default: the first pyproject.toml with [tool.scrutiny] from the first path upward)",
    )
    review.add_argument(
        "--enable", action="append", metavar="IDS", help="run only these rules (comma-separated ids or prefixes)"
    )
    review.add_argument(
        "--disable", action="append", metavar="IDS", help="do not run these rules (comma-separated ids or prefixes)"
    )
    review.add_argument(
        "--honor-nosec",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="let '# nosec' comments (Bandit's) hide findings; the review counts them (default: no)",
    )
    review.add_argument(
        "--file-timeout",
        type=float,
        metavar="SECONDS",
        help="stop reviewing a file after SECONDS and report it as a timeout error; 0: no limit "
        "(default: file-timeout, else 120)",
    )
    review.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour severities in the text review: auto (a terminal without NO_COLOR), always, never",
    )


def merge_cli(settings: Settings, args: argparse.Namespace) -> Settings:
    """Fold the flags the user gave over the file's settings."""
    if args.min_severity is not None:
        try:
            settings = replace(settings, min_severity=Severity.parse(args.min_severity))
        except ValueError as exc:
            raise ConfigError("--min-severity", "", str(exc)) from None
    if args.exclude:
        settings = replace(settings, exclude=tuple(args.exclude))
    if args.jobs is not None:
        if args.jobs < 0:
            raise ConfigError("--jobs", "", "must be 0 (one per core) or more")
        settings = replace(settings, jobs=args.jobs)
    if args.honor_nosec is not None:
        settings = replace(settings, honor_nosec=args.honor_nosec)
    if getattr(args, "file_timeout", None) is not None:
        if not 0 <= args.file_timeout < float("inf"):
            raise ConfigError("--file-timeout", "", "must be a number of seconds, 0 (no budget) or more")
        settings = replace(settings, file_timeout=args.file_timeout)
    enable = _flag_ids("enable", args.enable)
    disable = _flag_ids("disable", args.disable)
    if enable:
        settings = replace(settings, enable=enable)
    if disable:
        settings = replace(settings, disable=disable)
    return settings


def _flag_ids(flag: str, given: list[str] | None) -> tuple[str, ...]:
    ids = [part for chunk in given or [] for part in chunk.split(",") if part.strip()]
    try:
        return _rule_ids(Path(f"--{flag}"), _Lines("", ""), flag, ids) if ids else ()
    except ConfigError as exc:
        raise ConfigError(f"--{flag}", "", str(exc).split(": ", 2)[-1]) from None


# Which rules run on which file ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FilePolicy:
    """What the per-file review of one file runs and honours."""

    enabled: frozenset[str]
    honor_nosec: bool = False


@lru_cache(maxsize=1)
def every_rule() -> FilePolicy:
    """Every rule enabled, # nosec not honoured: the policy without configuration."""
    from scrutiny.rules import registered

    return FilePolicy(frozenset(registered()))


def _chosen(ids: frozenset[str], prefixes: tuple[str, ...]) -> frozenset[str]:
    return frozenset(i for i in ids if i.startswith(prefixes))


def _names(root: Path, path: Path | None, display: str) -> set[str]:
    """The names a file is matched under: its base name, and its path relative to ``root``
    (when inside it) or as shown (when relative), with each directory and leading part of it,
    so "tests" matches any directory named tests and "src/app" everything under src/app."""
    relative = [display] if not os.path.isabs(display) else []
    if path is not None:
        rel = os.path.relpath(os.path.abspath(path), root)
        if not rel.startswith(".."):
            relative.append(rel.replace(os.sep, "/"))
    names = {display.rsplit("/", 1)[-1]}
    for name in relative:
        parts = name.split("/")
        names.update([name, *parts[:-1], *("/".join(parts[:n]) for n in range(1, len(parts)))])
    return names


def matches(patterns: tuple[str, ...], root: Path, path: Path | None, display: str) -> bool:
    names = _names(root, path, display)
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns for name in names)


class Plan:
    """The settings applied to files: which rules run where, thresholds, the result cache's part."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        # The rule ids, from the registry when first asked for, unless the result cache
        # named them first (``know``): a warm run then never imports the rules.
        self._known: frozenset[str] | None = None
        self._enabled: frozenset[str] | None = None
        self._rule_sets: dict[frozenset[str], RuleSet] = {}

    @property
    def known(self) -> frozenset[str]:
        if self._known is None:
            from scrutiny.registry import registered

            self._known = frozenset(registered())
        return self._known

    @property
    def enabled(self) -> frozenset[str]:
        if self._enabled is None:
            every = _chosen(self.known, self.settings.enable) if self.settings.enable else self.known
            self._enabled = every - _chosen(self.known, self.settings.disable)
        return self._enabled

    def knows_rules(self) -> bool:
        """Whether the rule ids are known without asking the registry."""
        return self._known is not None

    def know(self, rule_ids: frozenset[str]) -> None:
        """Take the registered rule ids from the result cache (they are the registry's)."""
        if self._known is None:
            self._known = rule_ids

    def _overrides(self, path: Path | None, display: str) -> list[Override]:
        root = self.settings.root
        return [o for o in self.settings.overrides if matches(o.paths, root, path, display)]

    def policy(self, path: Path | None, display: str) -> FilePolicy:
        enabled = self.enabled
        for override in self._overrides(path, display):
            enabled = (enabled | _chosen(self.known, override.enable)) - _chosen(self.known, override.disable)
        return FilePolicy(enabled, self.settings.honor_nosec)

    def min_severity(self, path: Path | None, display: str) -> Severity | None:
        """The threshold an override sets for this file, or None for the run's."""
        found = None
        for override in self._overrides(path, display):
            found = override.min_severity if override.min_severity is not None else found
        return found

    def narrow(self, items: list[Input], targets: list[str]) -> list[Input]:
        """The walked files include and exclude keep; files named on the command line always stay."""
        return [i for i in items if i.display in targets or i.path is None or self.selected(i.path, i.display)]

    def floors(self, items: list[Input]) -> dict[str, Severity]:
        """Per-file minimum severities set by overrides, by the name files are shown under."""
        found = {item.display: self.min_severity(item.path, item.display) for item in items}
        return {display: floor for display, floor in found.items() if floor is not None}

    def selected(self, path: Path | None, display: str) -> bool:
        """A file found by walking is reviewed if it matches include (when set) and no exclude glob,
        both relative to the configuration's directory (discover already matched excludes
        relative to each walked directory)."""
        include, exclude, root = self.settings.include, self.settings.exclude, self.settings.root
        if include and not matches(include, root, path, display):
            return False
        return not (exclude and matches(exclude, root, path, display))

    def rules(self, policy: FilePolicy) -> RuleSet:
        from scrutiny.rules import RuleSet, all_rules

        if policy.enabled not in self._rule_sets:
            self._rule_sets[policy.enabled] = RuleSet(r for r in all_rules() if r.id in policy.enabled)
        return self._rule_sets[policy.enabled]

    def use_models(self) -> None:
        """Make the taint engine read the configured model files besides its own (this process)."""
        from scrutiny.taint import models

        models.use_extra(self.settings.taint_models)
