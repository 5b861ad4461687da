"""What the aspect observers know about a file's statements, found in one pass.

Which parameters a statement uses and whether its words speak of resource cleanup, errors
or API clients are read from the file's names, attributes and strings (each distinct word
is matched once) instead of from each statement's nodes: the words that matter are rare,
so few statements are ever looked at.
"""

from __future__ import annotations

import ast
import re
from functools import cached_property, lru_cache

from scrutiny.source import SIMPLE_STATEMENTS, SourceFile

CLIENT_NAME = re.compile(r"(^|_)(api|client|session|conn|connection|http|rpcapi|compute_api)$", re.IGNORECASE)
ERROR_WORDS = re.compile(r"error|fault|fail|exception|raise", re.IGNORECASE)
CLEANUP_WORDS = re.compile(r"alloc|usage|clean|leak|releas|quota|reserv|provider|orphan|dangling", re.IGNORECASE)
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


# What a statement's words say, as bits (a word is a name, an attribute or a short string).
CLEANUP, ERROR, CLIENT = 1, 2, 4
WORD_FLAGS = CLEANUP | ERROR | CLIENT
ERROR_LITERAL = 8  # the string is 'error' in any case (a status waited for)
# Matches whenever one of the three does: most words match none, and are told so by one search.
ANY_WORD = re.compile(f"{CLEANUP_WORDS.pattern}|{ERROR_WORDS.pattern}|{CLIENT_NAME.pattern}", re.IGNORECASE)
# The same patterns (all lower case) matched against an ASCII word lowered: the same answer,
# about three times faster than a case-insensitive search.
_LOWERED = tuple(re.compile(p.pattern) for p in (ANY_WORD, CLEANUP_WORDS, ERROR_WORDS, CLIENT_NAME))
_FOLDED = (ANY_WORD, CLEANUP_WORDS, ERROR_WORDS, CLIENT_NAME)


@lru_cache(maxsize=1 << 16)  # bounded; names recur from file to file
def _word_flags(word: str) -> int:
    lowered = word.lower()
    flags = ERROR_LITERAL if lowered == "error" else 0
    if word.isascii():
        any_word, cleanup, error, client = _LOWERED
        word = lowered
    else:
        any_word, cleanup, error, client = _FOLDED
    if not any_word.search(word):
        return flags
    if cleanup.search(word):
        flags |= CLEANUP
    if error.search(word):
        flags |= ERROR
    if word.isidentifier() and client.search(word):
        flags |= CLIENT
    return flags


class Observer:
    """One file as the aspect observers see it, with the facts about its statements they share."""

    def __init__(self, src: SourceFile) -> None:
        self.src = src
        self.index = src.index

    def statement_of(self, node: ast.AST) -> ast.stmt | None:
        """The simple statement holding ``node``, if any (None under a compound header)."""
        parents = self.index.parents
        while not isinstance(node, ast.stmt):
            parent = parents.get(node)
            if parent is None:
                return None
            node = parent
        return node if isinstance(node, SIMPLE_STATEMENTS) else None

    @cached_property
    def _facts(self) -> tuple[dict[ast.stmt, set[str]], dict[ast.stmt, int], set[ast.stmt]]:
        """(parameters each statement in a function uses, the word flags of each statement
        with any, the statements passing the literal 'error' to a call)."""
        index = self.index
        function_of, statement_of = index.function_of, self.statement_of
        params: dict[FunctionNode | None, set[str]] = {None: set()}
        for function in index.of_type(ast.FunctionDef, ast.AsyncFunctionDef):
            assert isinstance(function, FunctionNode)
            args = function.args
            params[function] = {a.arg for a in args.args + args.kwonlyargs} - {"self", "cls"}
        any_params = set().union(*params.values())
        uses: dict[ast.stmt, set[str]] = {}
        flagged: dict[ast.stmt, int] = {}
        waits: set[ast.stmt] = set()
        memo: dict[str, int] = {}
        # Plain loops with one dict look-up for most nodes: there are about a million of them
        # in a large project. by_type holds nodes of its key's type.
        names: list[ast.Name] = index.by_type.get(ast.Name, [])  # type: ignore[assignment]
        for node in names:
            word = node.id
            flags = memo.get(word)
            if flags is None:
                flags = memo[word] = _word_flags(word)
            used = word in any_params and word in params[function_of[node]]
            if (flags & WORD_FLAGS or used) and (statement := statement_of(node)) is not None:
                if flags & WORD_FLAGS:
                    flagged[statement] = flagged.get(statement, 0) | flags & WORD_FLAGS
                if used:
                    uses.setdefault(statement, set()).add(word)
        attributes: list[ast.Attribute] = index.by_type.get(ast.Attribute, [])  # type: ignore[assignment]
        for attribute in attributes:
            word = attribute.attr
            flags = memo.get(word)
            if flags is None:
                flags = memo[word] = _word_flags(word)
            if flags & WORD_FLAGS and (statement := statement_of(attribute)) is not None:
                flagged[statement] = flagged.get(statement, 0) | flags & WORD_FLAGS
        constants: list[ast.Constant] = index.by_type.get(ast.Constant, [])  # type: ignore[assignment]
        for constant in constants:
            value = constant.value
            if not isinstance(value, str):
                continue
            if len(value) >= 200:  # not a word, but may still be the literal
                flags = ERROR_LITERAL if value.lower() == "error" else 0
            else:
                flags = memo.get(value)
                if flags is None:
                    flags = memo[value] = _word_flags(value)
            if not flags:
                continue
            if flags & ERROR_LITERAL and (call := self._error_argument_of(constant)) is not None:
                if (statement := statement_of(call)) is not None:
                    waits.add(statement)
            if flags & WORD_FLAGS and (statement := statement_of(constant)) is not None:
                flagged[statement] = flagged.get(statement, 0) | flags & WORD_FLAGS
        return uses, flagged, waits

    def _error_argument_of(self, constant: ast.Constant) -> ast.Call | None:
        """The call handed ``constant`` as a positional argument, or in a list or tuple that is one."""
        parents = self.index.parents
        parent = parents.get(constant)
        if isinstance(parent, ast.List | ast.Tuple):
            argument: ast.AST = parent
            parent = parents.get(parent)
        else:
            argument = constant
        if isinstance(parent, ast.Call) and any(a is argument for a in parent.args):
            return parent
        return None

    def parameter_uses(self) -> list[tuple[ast.stmt, set[str]]]:
        """Statements in functions that use their function's parameters, in source order."""
        uses = self._facts[0]
        return [(s, uses[s]) for s in sorted(uses, key=position)]

    def has_words(self, statement: ast.stmt, flag: int) -> bool:
        return bool(self._facts[1].get(statement, 0) & flag)

    def error_waits(self) -> set[ast.stmt]:
        """Statements passing the literal 'error' (or ['error']) to a call: waiting for an error status."""
        return self._facts[2]

    @cached_property
    def assertions(self) -> list[ast.stmt]:
        """Assertion statements inside functions, in source order."""
        function_of = self.index.function_of
        found = [s for s in self.index.of_type(ast.Assert) if isinstance(s, ast.stmt) and function_of[s] is not None]
        for statement in self.index.of_type(ast.Expr):
            assert isinstance(statement, ast.Expr)
            # is_assertion, unrolled: this runs for every expression statement.
            call = statement.value
            if isinstance(call, ast.Call) and function_of[statement] is not None:
                last = last_name(call)
                if last.startswith(("assert", "fail")) or last == "raises":
                    found.append(statement)
        return sorted(found, key=position)

    def has_call(self, statement: ast.stmt) -> bool:
        return any(isinstance(node, ast.Call) for node in self.index.statement_nodes[statement])


def position(node: ast.stmt) -> tuple[int, int]:
    return node.lineno, node.col_offset


def last_name(node: ast.Call) -> str:
    """The called name's last part as written (``assertEqual`` in ``self.assertEqual()``), or ''."""
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def is_assertion(node: ast.AST) -> bool:
    if isinstance(node, ast.Assert):
        return True
    if isinstance(node, ast.Expr):
        node = node.value
    if isinstance(node, ast.Call):
        last = last_name(node)
        return last.startswith(("assert", "fail")) or last == "raises"
    return False
