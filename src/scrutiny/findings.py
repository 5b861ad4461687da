"""The records analysis produces: findings, observations and per-file errors.

Analysis creates these; nothing here formats text for people (see report/).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scrutiny.context import FileContext
from scrutiny.pickling import quick_state
from scrutiny.python2 import Python2Repair

if TYPE_CHECKING:
    from scrutiny.taint import ModuleSummary


class Severity(enum.IntEnum):
    """How much a finding matters. INFO is a note, never a defect."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (choose from {choices})") from None


class Confidence(enum.IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class Category(enum.Enum):
    """The aspects a review is organised by, in the order the review lists them."""

    INPUT_VALIDATION = "input-validation"
    ERROR_HANDLING = "error-handling"
    RESOURCE_CLEANUP = "resource-cleanup"
    HARDCODED_VALUES = "hardcoded-values"
    DISABLED_CHECKS = "disabled-checks"
    LOGGING = "logging"
    INJECTION = "injection"
    DESERIALIZATION = "deserialization"
    CRYPTOGRAPHY = "cryptography"
    TLS_NETWORK = "tls-network"
    FILESYSTEM = "filesystem"
    CONFIGURATION = "configuration"

    @property
    def title(self) -> str:
        return CATEGORY_TITLES[self]


CATEGORY_TITLES = {
    Category.INPUT_VALIDATION: "Input validation",
    Category.ERROR_HANDLING: "Error handling",
    Category.RESOURCE_CLEANUP: "Resource cleanup",
    Category.HARDCODED_VALUES: "Hard-coded values and secrets",
    Category.DISABLED_CHECKS: "Disabled checks and known bugs",
    Category.LOGGING: "Logging and information leakage",
    Category.INJECTION: "Injection",
    Category.DESERIALIZATION: "Deserialization",
    Category.CRYPTOGRAPHY: "Cryptography and randomness",
    Category.TLS_NETWORK: "TLS and network exposure",
    Category.FILESYSTEM: "Files and temporary files",
    Category.CONFIGURATION: "Configuration",
}


@quick_state
@dataclass(frozen=True, slots=True)
class Location:
    """A span in a file; lines are 1-based, columns 0-based like ``ast``."""

    path: str
    line: int
    col: int = 0
    end_line: int = 0
    end_col: int = 0

    @property
    def last_line(self) -> int:
        return max(self.line, self.end_line)


@quick_state
@dataclass(frozen=True, slots=True)
class TraceStep:
    """One step of a taint path, from where the data enters to where it is used."""

    path: str
    line: int
    col: int = 0  # 0-based, like Location
    message: str = ""


@quick_state
@dataclass(frozen=True, slots=True)
class Corroboration:
    """Another report of a finding's defect, folded into it: a second rule on the same
    place, or the same rule with another source of the data or on another call of the line."""

    rule_id: str
    severity: Severity
    confidence: Confidence
    line: int
    message: str
    fingerprint: str = ""
    source: TraceStep | None = None  # where the data enters, for a taint finding


@quick_state
@dataclass(frozen=True, slots=True)
class Excerpt:
    """The source around a finding: its statement, with up to two lines before and after."""

    first: int  # the line number of lines[0]
    lines: tuple[str, ...]
    statement: tuple[int, int]  # the first and last line of the statement

    def numbered(self) -> list[tuple[int, str]]:
        return [(self.first + offset, text) for offset, text in enumerate(self.lines)]


@quick_state
@dataclass(frozen=True, slots=True)
class Finding:
    """One defect (or, at INFO, one note) a rule reports at one place."""

    rule_id: str
    rule_name: str
    category: Category
    cwe: int
    severity: Severity
    confidence: Confidence
    location: Location
    message: str
    fix: str
    evidence: str = ""
    # Set by the composer when the file's context changed the rule's severity.
    default_severity: Severity | None = None
    context_note: str = ""
    scope: str = ""  # qualified name of the enclosing function or class
    fingerprint: str = ""
    # A taint path (source first, sink last); empty for rules that look at one place.
    trace: tuple[TraceStep, ...] = ()
    # Set by the composer: the other reports of this defect, most specific first.
    corroborated_by: tuple[Corroboration, ...] = ()
    # Set after the file's review (api.py), for renderers that show code in context (HTML).
    excerpt: Excerpt | None = None

    @property
    def is_defect(self) -> bool:
        return self.severity > Severity.INFO

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Every rule that reports this defect, its own first."""
        ids = [self.rule_id]
        ids.extend(c.rule_id for c in self.corroborated_by if c.rule_id not in ids)
        return tuple(ids)


@quick_state
@dataclass(frozen=True, slots=True)
class Citation:
    """Lines an aspect statement rests on, with the role they play."""

    path: str
    start: int
    end: int
    role: str
    detail: str = ""


@quick_state
@dataclass(frozen=True, slots=True)
class Observation:
    """A fact an aspect observer established about a file (not a defect)."""

    category: Category
    kind: str
    text: str
    citations: tuple[Citation, ...] = ()
    data: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class FileError:
    """Why one file could not be reviewed. The rest of the run goes on."""

    path: str
    kind: str  # unreadable, binary, encoding, syntax, python2, newer-python, too-deep, too-large, timeout, internal
    message: str
    line: int = 0


@quick_state
@dataclass(frozen=True, slots=True)
class Suppressed:
    """A finding hidden by context or by an inline suppression, kept for the record."""

    finding: Finding
    reason: str
    by: str = "context"  # context, duplicate, inline (scrutiny: ignore), nosec, min-severity or baseline


@dataclass(slots=True)
class FileResult:
    """Everything the review of one file produced; small and picklable."""

    path: str
    lines: int = 0
    context: FileContext | None = None
    findings: list[Finding] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    error: FileError | None = None
    summary: ModuleSummary | None = None  # for the cross-module taint phase
    # Whether the file has inline suppressions or # nosec comments: only then must the
    # cross-module phase read it again to settle its findings.
    has_suppressions: bool = False
    # Set when the file is Python 2 code, reviewed after a line-by-line repair.
    python2_repairs: tuple[Python2Repair, ...] = ()
    # The code around each taint sink, (line, end line) -> excerpt: the cross-module phase
    # adds findings there without reading the file again.
    sink_excerpts: dict[tuple[int, int], Excerpt] = field(default_factory=dict)
