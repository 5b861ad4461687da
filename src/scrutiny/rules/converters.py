"""Untrusted-format rules (85x): external converters and image parsers left to guess the format.

The tools and their safety options are data (external_tools.toml); this module only reads
a command line out of a call and compares it with that table.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, call_tail, exactly, keyword, names_in, parameters, string_value
from scrutiny.source import SourceFile

# Calls that run a program from an argument list: subprocess style (one list) or
# oslo/processutils style (the words as positional arguments).
RUNNERS = frozenset(
    {"run", "call", "check_call", "check_output", "Popen", "execute", "trycmd", "create_subprocess_exec",
     "ssh_execute", "run_command", "run_cmd", "spawn"}
)  # fmt: skip
CODER = re.compile(r"^[A-Za-z0-9]{2,}:")


@dataclass(frozen=True, slots=True)
class Tool:
    programs: frozenset[str]
    subcommands: frozenset[str]
    when: re.Pattern[str] | None
    pinned_by: tuple[str, ...]
    forbidden: tuple[str, ...]
    coder_prefix: bool
    missing: str
    risk: str


@dataclass(frozen=True, slots=True)
class Table:
    wrappers: frozenset[str]
    tools: tuple[Tool, ...]


@lru_cache(maxsize=1)
def tool_table() -> Table:
    text = resources.files("scrutiny.rules").joinpath("external_tools.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    tools = tuple(
        Tool(
            frozenset(entry["programs"]),
            frozenset(entry.get("subcommands", ())),
            re.compile(entry["when"]) if "when" in entry else None,
            tuple(entry.get("pinned_by", ())),
            tuple(entry.get("forbidden", ())),
            bool(entry.get("coder_prefix", False)),
            entry["missing"],
            entry["risk"],
        )
        for entry in data["tool"]
    )
    return Table(frozenset(data["wrappers"]), tools)


@dataclass(frozen=True, slots=True)
class Word:
    """One argv word: its text when it is a literal, else only the literal text it starts with."""

    text: str | None
    prefix: str


def _word(node: ast.AST) -> Word:
    text = string_value(node)
    if text is not None:
        return Word(text, text)
    if isinstance(node, ast.JoinedStr) and node.values:
        return Word(None, string_value(node.values[0]) or "")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return Word(None, string_value(node.left) or "")
    return Word(None, "")


def _literal_list(node: ast.AST) -> list[ast.expr] | None:
    if isinstance(node, ast.List | ast.Tuple):
        return list(node.elts)
    return None


def _bound_list(name: str, call: ast.Call, src: SourceFile) -> list[ast.expr] | None:
    """Every word ever put into list ``name`` in the function before ``call``; None if unknowable."""
    scope = src.index.function_of.get(call) or src.tree
    words: list[ast.expr] | None = None
    for node in ast.walk(scope):
        if getattr(node, "lineno", call.lineno) > call.lineno:
            continue
        added: ast.AST | None = None
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            value = node.value
            if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add) and names_in(value.left) == {name}:
                added = value.right
            elif (found := _literal_list(value)) is not None and words is None:
                words = found
                continue
            else:
                return None
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            added = node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == name
            and node.func.attr in ("extend", "append", "insert")
        ):
            if node.func.attr == "extend":
                added = node.args[0] if node.args else None
            else:
                added = ast.List(elts=node.args[-1:], ctx=ast.Load())
        if added is not None:
            more = _literal_list(added)
            if more is None or words is None:
                return None
            words = words + more
    return words


def command_words(call: ast.Call, src: SourceFile) -> list[Word] | None:
    """The argv a runner call executes, as far as it is written in the function."""
    if not call.args:
        return None
    first = call.args[0]
    elements: list[ast.expr] | None
    if (elements := _literal_list(first)) is None:
        if isinstance(first, ast.Starred) and isinstance(first.value, ast.Name):
            elements = _bound_list(first.value.id, call, src)
            if elements is not None:
                elements = elements + list(call.args[1:])
        elif isinstance(first, ast.Name) and len(call.args) == 1:
            elements = _bound_list(first.id, call, src)
        elif string_value(first) is not None and call_tail(call) not in ("run", "call", "Popen"):
            elements = list(call.args)
    if not elements or any(isinstance(e, ast.Starred) for e in elements):
        return None
    return [_word(e) for e in elements]


def _program(words: list[Word], wrappers: frozenset[str]) -> int | None:
    """Index of the real program in ``words``, skipping wrappers and their options."""
    index = 0
    while index < len(words):
        text = words[index].text
        if text is None:
            return None
        base = text.rsplit("/", 1)[-1]
        if base in wrappers or (index and ("=" in text or text.startswith("-") or text.isdigit())):
            index += 1
            continue
        return index
    return None


def _has_option(words: list[Word], options: tuple[str, ...]) -> bool:
    for word in words:
        for option in options:
            if word.prefix == option or word.prefix.startswith(option + "="):
                return True
    return False


def check_command(words: list[Word], table: Table) -> tuple[Tool, str] | None:
    """(tool, problem) when the command runs a listed tool unsafely."""
    start = _program(words, table.wrappers)
    if start is None:
        return None
    program = (words[start].text or "").rsplit("/", 1)[-1]
    rest = words[start + 1 :]
    for tool in table.tools:
        if program not in tool.programs:
            continue
        sub = ""
        if tool.subcommands:
            first = next((w for w in rest if not (w.text or "-").startswith("-")), None)
            if first is None or first.text not in tool.subcommands:
                continue
            sub = f"{first.text} "
        if tool.when is not None and not any(w.text is not None and tool.when.search(w.text) for w in rest):
            continue
        forbidden = [o for o in tool.forbidden if _has_option(rest, (o,))]
        if forbidden:
            return tool, f"{program} is run with {forbidden[0]}"
        if not tool.pinned_by and not tool.coder_prefix:
            continue
        if _has_option(rest, tool.pinned_by):
            continue
        if tool.coder_prefix and any(CODER.match(w.prefix) for w in rest):
            continue
        return tool, f"{program} {sub}without {tool.missing}"
    return None


class ConverterFormatGuessed(Rule):
    """External converter or parser run on a file whose format it must guess

    What: a command run through subprocess, oslo processutils or a project's execute
    helper that starts a tool listed in external_tools.toml without the option that
    pins the input format or keeps the tool safe: qemu-img info/convert without -f,
    qemu-img create -b without -F, ImageMagick without a coder prefix on the input,
    ffmpeg/ffprobe without -f or -protocol_whitelist, Ghostscript with -dNOSAFER,
    LibreOffice --convert-to without --infilter, tar extraction without
    --no-same-owner. The command is read from a list literal or a list built in the
    same function; commands assembled elsewhere are not judged.
    Why: these tools decide how to parse a file from its content. A crafted upload or
    image that claims another format reaches parsers with side effects: qcow2 backing
    files and vmdk extents that read host files, ImageMagick coders that read files or
    run delegates, ffmpeg playlists that fetch local paths (CWE-20, CWE-434).
    Example:
        processutils.execute("qemu-img", "info", path, "--output=json")
    Fix: tell the tool what the input is: qemu-img info -f raw path; convert png:in.png
    out.jpg; ffmpeg -f mp4 -i in.mp4; check the file's real format first (nova's
    format_inspector, python-magic) and reject anything else.
    """

    id = "SCR850"
    name = "converter-format-guessed"
    category = Category.INPUT_VALIDATION
    cwe = 20
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.Call,)
    call_filter = exactly(RUNNERS)

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Call)
        if call_tail(node) not in RUNNERS:
            return
        words = command_words(node, walk.src)
        if words is None:
            return
        problem = check_command(words, tool_table())
        if problem is not None:
            tool, message = problem
            yield self.finding(node, f"{message}: {tool.risk}", walk.src, scope=walk.scope_name)


PIL_OPEN = frozenset({"PIL.Image.open"})
UPLOAD_WORDS = re.compile(r"request|upload|files\b|FILES|UploadFile|form", re.IGNORECASE)


class ImageOpenAnyFormat(Rule):
    """Uploaded image opened with Pillow without limiting the formats

    What: PIL.Image.open without formats= in a request handler (a function with a
    request/req parameter) or on a value read from request files or an upload.
    Why: Pillow tries every registered decoder on the bytes, so an "avatar" can be
    parsed as EPS (Ghostscript), a rarely used format with a history of decoder bugs,
    or a huge image that exhausts memory; the upload's file name and content type do
    not limit this.
    Example:
        img = Image.open(request.files["avatar"])
    Fix: Image.open(stream, formats=["PNG", "JPEG"]) and keep Image.MAX_IMAGE_PIXELS set.
    """

    id = "SCR851"
    name = "image-open-any-format"
    category = Category.INPUT_VALIDATION
    cwe = 434
    severity = Severity.LOW
    confidence = Confidence.MEDIUM
    node_types = (ast.Call,)
    call_filter = exactly("open")

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Call)
        if call_tail(node) != "open" or walk.src.qualname(node.func) not in PIL_OPEN:
            return
        if keyword(node, "formats") is not None or len(node.args) > 2 or not node.args:
            return
        handler = {"request", "req"} & set(parameters(walk.function))
        upload = bool(UPLOAD_WORDS.search(ast.unparse(node.args[0])))
        if handler or upload:
            yield self.finding(node, "Image.open without formats= tries every decoder on an uploaded file",
                               walk.src, scope=walk.scope_name)  # fmt: skip
