"""Python 2 code made parseable, line for line, so that it is reviewed instead of dropped.

Only a file that ``ast.parse`` rejects comes here. A small lexer of its own splits the text
into tokens (``tokenize`` follows the running Python: ``<>`` is one token on 3.13 and two on
3.11, and from 3.12 on it stops at the first tab mixed with spaces or unterminated string).
The Python 2 constructs below are rewritten token by token and nothing else changes: no line
is added or removed, string bodies and comments are left as they are, so every finding keeps
the line number of the original file. The code is never run.

==========================  ==================================
Python 2                    rewritten as
==========================  ==================================
``except X, e:``            ``except X as e:``
``print x, y``              ``print( x, y)``
``print >>f, x, y``         ``print( file=f, *[ x, y])``
``exec code in ns``         ``exec( code , ns)``
``raise E, V`` / ``, T``    ``raise E( V)`` / ``).with_traceback( T)``
```x```                     ``repr(x)``
``a <> b``                  ``a != b``
``0660``, ``10L``           ``0o660``, ``10``
``ur'...'``                 ``r'...'``
tabs mixed with spaces      tabs expanded to columns of 8
==========================  ==================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\f]+)
  | (?P<newline>\r\n|\r|\n)
  | (?P<continuation>\\(?:\r\n|\r|\n))
  | (?P<comment>\#[^\r\n]*)
  | (?P<string>(?P<prefix>[uUbBrRfF]{0,2})(?P<quote>'''|\"\"\"|'|"))
  | (?P<number>0[xX][0-9a-fA-F_]+[lL]?|0[oObB][0-7_]+[lL]?
        |(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?[jJlL]?)
  | (?P<name>[^\W\d]\w*)
  | (?P<op><>|\*\*=?|//=?|>>=?|<<=?|->|:=|!=|\.\.\.|[-+*/%&|^=<>@]=?|[()\[\]{},:;.`~!$?])
    """,
    re.VERBOSE,
)
_OCTAL = re.compile(r"0[0-7]*[1-7][0-7]*[lL]?")
_LONG = re.compile(r"(?:0[xXoObB][0-9a-fA-F_]+|\d[\d_]*)[lL]")
_COMPOUND = frozenset({"if", "elif", "else", "for", "while", "try", "except", "finally", "with", "def", "class"})
# What may follow ``print`` in a Python 2 print statement (not a call, an assignment or an attribute).
_PRINT_OPERAND = frozenset({"[", "{", "`", "-", "+", "~", ">>"})
_OPEN = {"(": ")", "[": "]", "{": "}"}
MIXED_TABS = "tabs mixed with spaces in indentation"
_CLOSE = frozenset(_OPEN.values())


@dataclass(frozen=True, slots=True)
class Python2Repair:
    """One Python 2 construct rewritten so the file parses (the line keeps its number)."""

    line: int
    construct: str  # "print statement", "except X, e clause", "octal literal", ...


@dataclass(eq=False)  # tokens are told apart by identity: two commas on a line are two tokens
class _Token:
    kind: str  # ws, newline, continuation, comment, string, number, name, op
    text: str
    line: int

    @property
    def significant(self) -> bool:
        return self.kind not in ("ws", "newline", "continuation", "comment")


@dataclass(frozen=True, slots=True)
class Repaired:
    """The repaired text and what was repaired where (empty: no Python 2 construct found)."""

    text: str
    repairs: tuple[Python2Repair, ...]

    @property
    def shows_python2(self) -> bool:
        """Whether a construct only Python 2 accepts was repaired (not just indentation)."""
        return any(repair.construct != MIXED_TABS for repair in self.repairs)


def _string_end(text: str, start: int, quote: str) -> int:
    """The index just past the string whose body starts at ``start``; for an unterminated
    one-line string, the end of its line (the parser reports it)."""
    position = start
    while position < len(text):
        char = text[position]
        if char == "\\":
            position += 2
        elif text.startswith(quote, position):
            return position + len(quote)
        elif len(quote) == 1 and char in "\r\n":
            return position
        else:
            position += 1
    return len(text)


def _lex(text: str) -> list[_Token]:
    """Tokens whose texts, joined, give back ``text`` exactly."""
    tokens: list[_Token] = []
    position, line = 0, 1
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:  # a character no Python token starts with: the parser reports it
            kind, end = "op", position + 1
        elif match.lastgroup == "string":
            kind, end = "string", _string_end(text, match.end(), match.group("quote"))
        else:
            kind, end = match.lastgroup or "op", match.end()
        piece = text[position:end]
        tokens.append(_Token(kind, piece, line))
        line += piece.count("\n") + piece.count("\r") - piece.count("\r\n")
        position = end
    return tokens


class _Rewriter:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.position = {id(token): index for index, token in enumerate(tokens)}
        self.repairs: list[Python2Repair] = []
        self.print_function = self._imports_print_function()

    def _followed_by_space(self, token: _Token) -> bool:
        index = self.position[id(token)]
        return index + 1 < len(self.tokens) and self.tokens[index + 1].kind == "ws"

    def note(self, token: _Token, construct: str) -> None:
        self.repairs.append(Python2Repair(token.line, construct))

    def _imports_print_function(self) -> bool:
        words = [t.text for t in self.tokens if t.significant]
        for index in range(len(words) - 3):
            if words[index : index + 3] == ["from", "__future__", "import"]:
                rest = words[index + 3 : index + 20]
                if "print_function" in rest:
                    return True
        return False

    def run(self) -> None:
        self._indentation()  # first: it counts brackets on the original texts
        self._tokens_alone()
        for statement in self._statements():
            self._statement(statement)

    # Single tokens --------------------------------------------------------------------

    def _tokens_alone(self) -> None:
        open_backticks = 0
        for token in self.tokens:
            if token.kind == "op" and token.text == "<>":
                token.text = "!="
                self.note(token, "<> operator")
            elif token.kind == "op" and token.text == "`":
                # Backticks do not nest in Python 2 without brackets: they open and close in turn.
                token.text = ")" if open_backticks else "repr("
                if not open_backticks:
                    self.note(token, "backticks")
                open_backticks ^= 1
            elif token.kind == "number" and _OCTAL.fullmatch(token.text):
                self.note(token, "octal literal")
                token.text = "0o" + token.text.lstrip("0").rstrip("lL")
            elif token.kind == "number" and _LONG.fullmatch(token.text):
                self.note(token, "long integer")
                token.text = token.text[:-1]
            elif token.kind == "string":
                prefix = re.match(r"[a-zA-Z]*", token.text)
                if prefix and prefix.group().lower() == "ur":
                    self.note(token, "ur'' string prefix")
                    token.text = token.text[1:]

    # Statements -----------------------------------------------------------------------

    def _statements(self) -> list[list[_Token]]:
        """Simple statements as lists of their significant tokens: split at the end of a
        logical line, at ';' and after a compound statement's header colon."""
        statements: list[list[_Token]] = []
        current: list[_Token] = []
        depth = 0
        lambdas = 0
        header = False
        for token in self.tokens:
            if token.kind == "newline" and depth == 0:
                if current:
                    statements.append(current)
                current, lambdas, header = [], 0, False
                continue
            if not token.significant:
                continue
            text = token.text
            if token.kind == "op" and (text in _OPEN or text == "repr("):
                depth += 1
            elif token.kind == "op" and text in _CLOSE:
                depth = max(0, depth - 1)
            if not current and token.kind == "name" and text in _COMPOUND:
                header = True
            if depth == 0 and token.kind == "name" and text == "lambda":
                lambdas += 1
            if depth == 0 and token.kind == "op" and text == ";":
                if current:
                    statements.append(current)
                current, lambdas, header = [], 0, False
                continue
            current.append(token)
            if depth == 0 and token.kind == "op" and text == ":" and header:
                if lambdas:
                    lambdas -= 1
                else:
                    statements.append(current)
                    current, header = [], False
        if current:
            statements.append(current)
        return statements

    def _statement(self, tokens: list[_Token]) -> None:
        first = tokens[0]
        if first.kind != "name":
            return
        following = tokens[1] if len(tokens) > 1 else None
        if first.text == "print" and not self.print_function and following is not None:
            self._print(tokens, following)
        elif first.text == "exec" and following is not None:
            self._exec(tokens, following)
        elif first.text == "raise":
            self._raise(tokens)
        elif first.text == "except":
            self._except(tokens)

    def _print(self, tokens: list[_Token], following: _Token) -> None:
        if not _starts_operand(following, _PRINT_OPERAND):
            return  # print(...), print = ..., print.x: a name or a call, not a statement
        first = tokens[0]
        first.text = "print("
        if following.text == ">>":
            # print >>f, x, y  ->  print(file=f, *[ x, y]): the items keep their order and lines.
            self.note(first, "print >>f, x statement")
            following.text = "file="
            commas = _top_level(tokens, ",")
            if commas:
                commas[0].text = ", *["
                tokens[-1].text += "]"
        else:
            self.note(first, "print statement")
        tokens[-1].text += ")"

    def _exec(self, tokens: list[_Token], following: _Token) -> None:
        if not _starts_operand(following, frozenset({"`"})):
            return
        first = tokens[0]
        self.note(first, "exec statement")
        first.text = "exec("
        for token in _top_level(tokens, "in")[:1]:
            token.text = ","
        tokens[-1].text += ")"

    def _raise(self, tokens: list[_Token]) -> None:
        commas = _top_level(tokens, ",")
        if not commas or len(commas) > 2:
            return
        self.note(tokens[0], "raise E, V statement")
        commas[0].text = "("
        if len(commas) == 2:
            commas[1].text = ").with_traceback("
        tokens[-1].text += ")"

    def _except(self, tokens: list[_Token]) -> None:
        if tokens[-1].text != ":":
            return
        commas = _top_level(tokens[:-1], ",")
        if len(commas) != 1:
            return
        after = tokens[tokens.index(commas[0]) + 1 : -1]
        # ``except A, B:`` with a class name after the comma is Python 3.14 (PEP 758), not Python 2.
        if len(after) != 1 or after[0].kind != "name" or after[0].text[:1].isupper():
            return
        self.note(commas[0], "except X, e clause")
        commas[0].text = " as" if self._followed_by_space(commas[0]) else " as "

    # Indentation ----------------------------------------------------------------------

    def _indentation(self) -> None:
        """Tabs mixed with spaces: expanded the way Python 2 read them (tab stops of 8)."""
        starts: list[_Token] = []
        depth = 0
        at_line_start = True
        for token in self.tokens:
            if token.kind == "newline":
                at_line_start = depth == 0
                continue
            if at_line_start and token.kind == "ws":
                starts.append(token)
            if token.significant or token.kind == "comment":
                at_line_start = False
            if token.kind == "continuation":
                at_line_start = False
            if token.kind == "op" and token.text in _OPEN:
                depth += 1
            elif token.kind == "op" and token.text in _CLOSE:
                depth = max(0, depth - 1)
        tabbed = [t for t in starts if "\t" in t.text]
        if not tabbed or all(t.text.strip("\t") == "" for t in starts):
            return  # no tab, or tabs only: Python 3 reads them the same way
        self.note(tabbed[0], MIXED_TABS)
        for token in tabbed:
            token.text = token.text.expandtabs(8)


def _starts_operand(token: _Token, operators: frozenset[str]) -> bool:
    """Whether ``token`` can start the operand of a Python 2 print or exec statement."""
    if token.kind == "op":
        return token.text in operators or token.text == "repr("
    return token.kind != "name" or token.text not in ("in", "is", "and", "or", "if", "else", "for")


def _top_level(tokens: list[_Token], text: str) -> list[_Token]:
    """The tokens spelt ``text`` outside any bracket."""
    found: list[_Token] = []
    depth = 0
    for token in tokens:
        if token.kind == "op" and (token.text in _OPEN or token.text == "repr("):
            depth += 1
        elif token.kind == "op" and token.text in _CLOSE:
            depth = max(0, depth - 1)
        elif depth == 0 and token.text == text:
            found.append(token)
    return found


def repair(text: str) -> Repaired:
    """The text with its Python 2 constructs rewritten, line for line."""
    tokens = _lex(text)
    rewriter = _Rewriter(tokens)
    rewriter.run()
    if not rewriter.repairs:
        return Repaired(text, ())
    repaired = "".join(token.text for token in tokens)
    repairs = sorted(set(rewriter.repairs), key=lambda r: (r.line, r.construct))
    return Repaired(repaired, tuple(repairs))
