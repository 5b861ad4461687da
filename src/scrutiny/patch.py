"""Read a unified diff (git or plain ``diff -u``) and apply it to file contents in memory.

Nothing here touches the disk: ``parse`` turns the diff's text into one ``FilePatch`` per
file and ``apply`` computes a file's new text from its old text. A hunk whose removed and
kept lines are not in the file (at its line or anywhere after the previous hunk) raises
``PatchError`` naming the file and the hunk; no fuzzy matching is tried, so a patch is
reviewed only against the code it was written for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DEV_NULL = "/dev/null"
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_GIT_HEADER = re.compile(r"^diff --git (\"?a/.+?\"?) (\"?b/.+\"?)$")


class PatchError(Exception):
    """The diff cannot be read, or one of its hunks does not apply."""


@dataclass(frozen=True, slots=True)
class Hunk:
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    # (op, text, ends with a newline): op is " " kept, "-" removed or "+" added
    lines: tuple[tuple[str, str, bool], ...]
    patch_line: int  # where the hunk starts in the diff, for error messages

    @property
    def header(self) -> str:
        return f"@@ -{self.old_start},{self.old_count} +{self.new_start},{self.new_count} @@"


@dataclass(slots=True)
class FilePatch:
    old_path: str | None  # None: the patch creates the file
    new_path: str | None  # None: the patch deletes the file
    git: bool = False  # from `git diff` (paths carry a/ and b/ prefixes, removed here)
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.new_path or self.old_path or "?"


def _unquote(path: str) -> str:
    # git quotes names with unusual characters as C strings; the common escapes suffice here.
    if len(path) >= 2 and path[0] == path[-1] == '"':
        inner = path[1:-1]
        return re.sub(r'\\([\\"tn])', lambda m: {"t": "\t", "n": "\n"}.get(m[1], m[1]), inner)
    return path


def _header_path(text: str, git: bool) -> str | None:
    # A plain diff puts a tab and a timestamp after the name.
    path = _unquote(text.split("\t", 1)[0].rstrip("\r"))
    if path == DEV_NULL:
        return None
    if git and (path.startswith("a/") or path.startswith("b/")):
        path = path[2:]
    return path


def parse(text: str) -> list[FilePatch]:
    """Every file of the diff; text outside file sections (a commit message) is skipped."""
    lines = text.splitlines()
    patches: list[FilePatch] = []
    current: FilePatch | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        git = _GIT_HEADER.match(line)
        if git:
            current = FilePatch(_header_path(git[1], True), _header_path(git[2], True), git=True)
            patches.append(current)
        elif current is not None and current.git and not current.hunks and _git_extended(line, current):
            pass
        elif line.startswith("--- ") and index + 1 < len(lines) and lines[index + 1].startswith("+++ "):
            is_git = current is not None and current.git and not current.hunks
            old = _header_path(line[4:], is_git)
            new = _header_path(lines[index + 1][4:], is_git)
            if is_git and current is not None:
                current.old_path, current.new_path = old, new
            else:
                current = FilePatch(old, new)
                patches.append(current)
            index += 1
        elif line.startswith("@@"):
            if current is None:
                raise PatchError(f"line {index + 1}: a hunk before any file header (--- / +++)")
            hunk, index = _hunk(lines, index, current.name)
            current.hunks.append(hunk)
            continue
        elif line.startswith("Binary files ") or line.startswith("GIT binary patch"):
            name = current.name if current is not None else "?"
            raise PatchError(f"{name}: binary patches are not supported (line {index + 1})")
        index += 1
    if not patches:
        raise PatchError("no file changes found (expected a unified diff with ---/+++ headers)")
    return patches


def _git_extended(line: str, current: FilePatch) -> bool:
    """Read a git extended header line (new/deleted file, rename) into ``current``."""
    if line.startswith("new file mode"):
        current.old_path = None
    elif line.startswith("deleted file mode"):
        current.new_path = None
    elif line.startswith("rename from "):
        current.old_path = _unquote(line[len("rename from ") :])
    elif line.startswith("rename to "):
        current.new_path = _unquote(line[len("rename to ") :])
    else:
        return line.startswith(("index ", "old mode", "new mode", "similarity index", "dissimilarity index"))
    return True


def _hunk(lines: list[str], start: int, name: str) -> tuple[Hunk, int]:
    match = _HUNK.match(lines[start])
    if match is None:
        raise PatchError(f"{name}: malformed hunk header at line {start + 1}: {lines[start]!r}")
    old_start, new_start = int(match[1]), int(match[3])
    old_count = int(match[2]) if match[2] is not None else 1
    new_count = int(match[4]) if match[4] is not None else 1
    body: list[tuple[str, str, bool]] = []
    old_left, new_left = old_count, new_count
    index = start + 1
    while index < len(lines) and (old_left > 0 or new_left > 0):
        line = lines[index]
        op, text = (line[0], line[1:]) if line else (" ", "")  # some tools strip a blank context line
        if op == "\\":  # "\ No newline at end of file" marks the line before it
            _no_newline(body)
            index += 1
            continue
        if op not in " -+":
            break
        if op in " -":
            old_left -= 1
        if op in " +":
            new_left -= 1
        body.append((op, text.rstrip("\r"), True))
        index += 1
    if old_left != 0 or new_left != 0:
        raise PatchError(f"{name}: hunk at line {start + 1} ({lines[start]}) is truncated")
    while index < len(lines) and lines[index].startswith("\\"):
        _no_newline(body)
        index += 1
    return Hunk(old_start, old_count, new_start, new_count, tuple(body), start + 1), index


def _no_newline(body: list[tuple[str, str, bool]]) -> None:
    if body:
        op, text, _ = body[-1]
        body[-1] = (op, text, False)


def _split(text: str) -> list[tuple[str, bool]]:
    return [(line.rstrip("\r\n"), line.endswith("\n")) for line in text.splitlines(keepends=True)]


def apply(patch: FilePatch, original: str) -> str:
    """The file's text after the patch; ``original`` is its text before (empty for a new file)."""
    newline = "\r\n" if "\r\n" in original else "\n"
    current = _split(original)
    out: list[tuple[str, bool]] = []
    position = 0  # index in ``current`` of the first line not yet copied
    for number, hunk in enumerate(patch.hunks, start=1):
        expected = [(text, eol) for op, text, eol in hunk.lines if op in " -"]
        at = _locate(current, expected, hunk, position)
        if at is None:
            raise PatchError(
                f"{patch.name}: hunk {number} ({hunk.header}, line {hunk.patch_line} of the patch) does not apply: "
                f"the lines it keeps or removes are not at line {hunk.old_start} of the file or after it"
            )
        out.extend(current[position:at])
        out.extend((text, eol) for op, text, eol in hunk.lines if op in " +")
        position = at + len(expected)
    out.extend(current[position:])
    return "".join(text + (newline if eol else "") for text, eol in out)


def _locate(current: list[tuple[str, bool]], expected: list[tuple[str, bool]], hunk: Hunk, position: int) -> int | None:
    """Where the hunk's old lines are: at its stated line if they match, else the nearest match after ``position``."""
    texts = [text for text, _ in expected]
    stated = hunk.old_start - 1 if hunk.old_count else hunk.old_start

    def matches(at: int) -> bool:
        window = current[at : at + len(expected)]
        # A missing final newline matters only on the file's last line.
        return [text for text, _ in window] == texts and len(window) == len(expected)

    candidates = sorted(range(position, len(current) - len(expected) + 1), key=lambda at: (abs(at - stated), at))
    return next((at for at in candidates if matches(at)), None)
