"""Regular expressions whose backtracking grows exponentially or polynomially with the input."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.regex_ranges import OVERLAP, REVERSED, range_problems
from scrutiny.regex_risk import EXPONENTIAL, analyse
from scrutiny.rules.base import CallRule, Walk, argument, keep_lower, note, values_bound

# Position of the flags argument of each matching function (the pattern is always first).
FLAG_POSITION = {"compile": 1, "match": 2, "search": 2, "fullmatch": 2, "findall": 2, "finditer": 2, "sub": 4,
                 "subn": 4, "split": 3}  # fmt: skip
FLAG_VALUES = {"I": 2, "IGNORECASE": 2, "L": 4, "LOCALE": 4, "M": 8, "MULTILINE": 8, "S": 16, "DOTALL": 16,
               "U": 32, "UNICODE": 32, "X": 64, "VERBOSE": 64, "A": 256, "ASCII": 256, "NOFLAG": 0}  # fmt: skip
EXPONENTIAL_FIX = (
    "Make each repetition unambiguous (the repeated part must not be able to match what the next iteration "
    "or a neighbouring part matches, e.g. (\\w+\\s)* instead of (\\w+\\s?)*), bound it ({1,64}), or on "
    "Python 3.11+ use an atomic group (?>...) or a possessive quantifier (++, *+); limit the input length."
)
POLYNOMIAL_FIX = (
    "Let adjacent repetitions match disjoint characters (e.g. \\S+ or [^=]* instead of .*), drop the ones "
    "that add nothing (strip the text instead), use a possessive quantifier on Python 3.11+, or limit the "
    "input length before matching."
)


def flag_value(node: ast.expr | None, walk: Walk) -> int | None:
    """The flags an expression stands for (re.I | re.X ...), None when not known from the text."""
    if node is None:
        return 0
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr | ast.Add):
        left, right = flag_value(node.left, walk), flag_value(node.right, walk)
        return None if left is None or right is None else left | right
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    name = walk.src.qualname(node) if isinstance(node, ast.Attribute | ast.Name) else None
    if name and name.split(".")[0] in ("re", "regex"):
        tail = name.rsplit(".", 1)[-1].removeprefix("RegexFlag.")
        return FLAG_VALUES.get(tail)
    return None


def _literal_pattern(node: ast.expr | None, walk: Walk) -> ast.expr | None:
    """The pattern literal itself, or the literal a module-level name is bound to exactly once."""
    if not isinstance(node, ast.Name):
        return node
    bound = values_bound(node.id, walk.src.tree.body)
    return bound[0] if len(bound) == 1 else None


def pattern_and_flags(call: ast.Call, name: str, walk: Walk) -> tuple[str | bytes, int | None] | None:
    """The literal pattern of a re/regex call and its flags (None when not known from the text)."""
    pattern = _literal_pattern(argument(call, "pattern", 0), walk)
    if not isinstance(pattern, ast.Constant) or not isinstance(pattern.value, str | bytes):
        return None
    flags = flag_value(argument(call, "flags", FLAG_POSITION[name.rsplit(".", 1)[-1]]), walk)
    return pattern.value, flags


class BacktrackingRegex(CallRule):
    """Regular expression with catastrophic backtracking (ReDoS)

    What: a literal pattern (or a module constant bound once to one) given to re/regex
    compile, match, search, fullmatch, findall,
    finditer, sub, subn or split that the backtracking engine can match in exponentially
    many ways: an unbounded repetition inside another one where one iteration's text can
    be split between two ((a+)+, (\\w+\\s?)*), or a repeated alternation whose branches
    spell the same text ((\\r\\n|\\r|\\n)+). At low severity: three unbounded repetitions
    of overlapping characters in a row (\\s*.*\\s*), which cost cubic time or worse.
    Each needs something after it that can fail. The pattern is read with the standard
    library's regex parser, never run.
    Why: when a match fails, the engine retries every way of dividing the text between the
    repetitions before giving up; a few dozen crafted characters then hold a CPU for
    minutes (exponential), or a long line for seconds (polynomial), a denial of service
    for any server that matches client text.
    Example:
        WORDS = re.compile(r"^(\\w+\\s?)*$")
    Fix: make each repetition unambiguous (^(\\w+\\s)*\\w*$), bound it, or on Python 3.11+
    use an atomic group (?>...) or a possessive quantifier (\\w++); for the polynomial form
    let neighbours match disjoint characters; cap the input length before matching.
    """

    id = "SCR980"
    name = "regex-catastrophic-backtracking"
    category = Category.INPUT_VALIDATION
    cwe = 1333
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    calls = tuple(f"{module}.{function}" for module in ("re", "regex") for function in FLAG_POSITION)
    context = {
        FileKind.TEST: note("tests match their own input, not a client's"),
        FileKind.EXAMPLE: keep_lower("in example code"),
        FileKind.DOCS: note("documentation tooling matches the project's own text"),
    }
    bandit = ()
    ruff = ()

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        found = pattern_and_flags(call, name, walk)
        if found is None or found[1] is None:
            return
        pattern, flags = found
        risks = analyse(pattern, flags, full=name.rsplit(".", 1)[-1] == "fullmatch")
        if not risks:
            return
        # One finding per call: the worst hazard, which is the one to fix first.
        risk = next((r for r in risks if r.kind == EXPONENTIAL), risks[0])
        exponential = risk.kind == EXPONENTIAL
        yield self.finding(
            call,
            f"{risk.kind} backtracking in {risk.fragment!r}: {risk.reason}",
            walk.src,
            scope=walk.scope_name,
            severity=None if exponential else Severity.LOW,
            confidence=None if exponential else Confidence.LOW,
            fix=EXPONENTIAL_FIX if exponential else POLYNOMIAL_FIX,
        )


class SuspiciousCharacterRange(CallRule):
    """Character range in a regular expression that matches more or other than meant

    What: a literal pattern (or a module constant bound once to one) given to re/regex
    compile, match, search, sub and the other matching functions whose [...] set holds
    a range between printable characters spelt as themselves that crosses from one kind
    of character to another ([A-z] also takes [\\]^_ and a backtick, [.-_] takes the
    digits and upper-case letters, [7-F] takes :;<=>?@); at low severity a range that
    overlaps another range or a \\d \\w \\s class of the same set ([0-9a-fA-f], [0-9\\d]),
    or a reversed range ([z-a]), with which the pattern does not compile. A range that
    starts below 0 and ends above z ([!-~]) spans the printable set on purpose and is
    left alone, as are ranges spelt with escapes (\\x00-\\x1f, \\u0400-\\u04FF) and a
    '-' first or last in the set. The pattern text is read, never compiled.
    A pattern that only rewrites, splits or extracts text (re.sub, split, findall,
    finditer, or compiled into a name used only so) is low: it refuses nothing.
    Why: such a range is nearly always a typo or a misread '-' meant literally; a
    validation pattern then lets through characters its author meant to refuse
    (quotes, slashes, backslashes, angle brackets), which is how a check on a name,
    path or URL stops checking.
    Example:
        USERNAME = re.compile(r"^[A-z0-9_]+$")
    Fix: list each kind separately ([A-Za-z]), escape a '-' meant literally or move it
    to the end of the set ([.\\-_] or [._-]), and drop the range another member already
    covers.
    """

    id = "SCR982"
    name = "regex-suspicious-character-range"
    category = Category.INPUT_VALIDATION
    cwe = 20
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    calls = BacktrackingRegex.calls
    bandit = ()
    ruff = ()

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        found = pattern_and_flags(call, name, walk)
        if found is None:
            return
        problems = range_problems(found[0], found[1] or 0)
        if not problems:
            return
        worst = problems[0]  # one finding per call: the reversed or widest range first
        more = f" (and {len(problems) - 1} more set problem(s))" if len(problems) > 1 else ""
        minor = worst.kind in (OVERLAP, REVERSED)
        uses = _only_transforms(call, name, walk)
        yield self.finding(
            call,
            f"{worst.reason}{more}" + (f"; the pattern only {uses}, it accepts or refuses nothing" if uses else ""),
            walk.src,
            scope=walk.scope_name,
            severity=Severity.LOW if minor or uses else None,
            confidence=Confidence.HIGH if worst.kind == REVERSED else None,
        )


# Matching functions that rewrite, cut or collect text rather than test it.
TRANSFORMS = {"sub": "rewrites text", "subn": "rewrites text", "split": "splits text",
              "findall": "extracts text", "finditer": "extracts text"}  # fmt: skip


def _only_transforms(call: ast.Call, name: str, walk: Walk) -> str:
    """What the pattern does, when it only rewrites, splits or extracts text: called as
    re.sub/split/findall, or compiled into a name the file uses only that way."""
    tail = name.rsplit(".", 1)[-1]
    if tail in TRANSFORMS:
        return TRANSFORMS[tail]
    if tail != "compile":
        return ""
    statement = walk.parent(call)
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)):  # fmt: skip
        return ""
    held = statement.targets[0].id
    done: set[str] = set()
    for node in walk.src.index.of_type(ast.Name):
        assert isinstance(node, ast.Name)
        if node.id != held or not isinstance(node.ctx, ast.Load):
            continue
        method = walk.parent(node)
        if not (isinstance(method, ast.Attribute) and method.attr in TRANSFORMS):
            return ""
        done.add(TRANSFORMS[method.attr])
    return " and ".join(sorted(done))
