"""The observers' and the commented-code finder's shortcuts give the plain computation's answers.

Each shortcut (one pass over a file's words instead of one per statement; no parse of a
comment run that holds prose) is checked against the straightforward computation on the
standard library's modules and on code written to hit the edge cases.
"""

from __future__ import annotations

import ast
import re
import sysconfig
from pathlib import Path

import pytest

from scrutiny import commented, source
from scrutiny.observe_facts import Observer, is_assertion, parameters
from scrutiny.source import SIMPLE_STATEMENTS

# Parsing comment text as code warns about things like "1if"; the parse result is what counts.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

EDGES = """\
def wait_error(server, api):
    self.api.wait(server, "ERROR")
    _wait(server, ["error", "ACTIVE"])
    notify(server, status="error")
    f(*["error"])
    poll(server, ("Error", "DELETED"))
    x = compute_api.get(server)
    y = lookup("\u017fession", server)  # long s: a case-insensitive match
    assert server.usage == 0, "no leak"
    self.assertRaises(Exception, api.delete, server)
    quota = [r for r in server if r.reserved]
    lambda: server
    if server:
        cleanup(server)


class Client:
    conn = object()

    def release(self, cls, key, *args, other=None, **kw):
        self.conn.release(key, other, args, kw)
        return key.Error
"""

COMMENTS = """\
# Copyright (c) 2013 Intel, Inc.
# x = 1if y else 2
# x. foo(bar)
# match command:
#     case "go":
#         go(the_place)
# if the instance is deleted:
#     cleanup(instance)
# foo(bar)  # the result
# don't call foo(bar) here
# baz(qux)
# print foo
# 2013 Intel
"""


def corpus() -> list[source.SourceFile]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(stdlib.glob("*.py"))[:150]
    assert len(files) > 50
    found = [source.load(EDGES.encode(), "edges.py"), source.load(COMMENTS.encode(), "comments.py")]
    for path in files:
        try:
            found.append(source.load(path.read_bytes(), str(path)))
        except source.SourceError:
            continue
    return found


@pytest.fixture(scope="module")
def files() -> list[source.SourceFile]:
    return corpus()


def plain_facts(src: source.SourceFile, statement: ast.stmt) -> tuple[set[str], bool]:
    """(parameters used, waits for 'error'), read from the statement's own nodes."""
    function = src.index.function_of[statement]
    params = set()
    if function is not None:
        params = set(parameters(function, src.index.parents))
    names: set[str] = set()
    waits = False
    for node in ast.walk(statement):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Call):
            for argument in node.args:
                values = argument.elts if isinstance(argument, ast.List | ast.Tuple) else [argument]
                waits = waits or any(
                    isinstance(v, ast.Constant) and isinstance(v.value, str) and v.value.lower() == "error"
                    for v in values
                )
    return names & params, waits


def test_statement_facts_match_a_walk_of_each_statement(files: list[source.SourceFile]) -> None:
    checked = {"uses": 0, "waits": 0}
    for src in files:
        observer = Observer(src)
        uses = dict(observer.parameter_uses())
        for statement in src.index.statement_nodes:
            used, waits = plain_facts(src, statement)
            fast = (uses.get(statement, set()), statement in observer.error_waits())
            assert fast == (used, waits), (src.path, statement.lineno)
            for name, value in zip(checked, (used, waits), strict=True):
                checked[name] += bool(value)
        assertions = [s for s in src.index.nodes if isinstance(s, SIMPLE_STATEMENTS) and is_assertion(s)]
        assert observer.assertions == [s for s in assertions if src.index.function_of[s] is not None]
    # The corpus exercises every fact, or the comparison proves little.
    assert all(count > 0 for count in checked.values()), checked


def test_error_waits_are_positional_arguments() -> None:
    src = source.load(EDGES.encode(), "edges.py")
    waits = sorted(s.lineno for s in Observer(src).error_waits())
    assert waits == [2, 3, 6]  # not a keyword argument, not a starred list


def test_prose_lines_never_parse(files: list[source.SourceFile]) -> None:
    prose = 0
    for src in files:
        for comment in src.comments:
            text = comment.text[1:].strip()
            if commented._line_kind(text) == commented.PROSE:
                prose += 1
                with pytest.raises(SyntaxError):
                    ast.parse(text)
    assert prose > 1000


VALID = """\
x = 1if y else 2
x. foo(bar)
match command:
    case _ if x is not None:
        pass
a = b if c else d
f = lambda x: x
import a as b
async def f(): await x
x = 1  # the instance
print(x, not y, 2 in z)
"""


def test_lines_of_code_are_not_prose() -> None:
    ast.parse(VALID)
    assert [line for line in VALID.splitlines() if commented._line_kind(line) == commented.PROSE] == []


def test_commented_code_is_the_same_without_the_prose_filter(
    files: list[source.SourceFile], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = [commented.find_commented_code(src) for src in files]
    monkeypatch.setattr(commented, "_parsable_end", lambda kinds, index: len(kinds))
    assert [commented.find_commented_code(src) for src in files] == fast
    assert sum(len(found) for found in fast) > 10


NOTES = """\
x = 1  # TODO(someone): see bug 1234567 before changing
# FIXME: this breaks, see
# https://bugs.launchpad.net/nova/+bug/1825537

# XXX no bug number here

# XXX: see bug 55555

# HACK around issue #42 and issue #4242

# NOTE(user): bug 2000 is not a marker line

# todo: lower case, bug 1234
"""


def test_bug_notes_are_the_same_without_the_text_checks(
    files: list[source.SourceFile], monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = [*files, source.load(NOTES.encode(), "notes.py")]
    fast = [commented.find_bug_notes(src) for src in everything]
    monkeypatch.setattr(commented, "_may_mark", lambda text: True)
    monkeypatch.setattr(commented, "DIGIT", re.compile(""))
    assert [commented.find_bug_notes(src) for src in everything] == fast
    assert [note.bug for note in fast[-1]] == ["1234567", "1825537", "55555", "4242"]
    assert sum(commented._may_mark(c.text) for src in files for c in src.comments) > 20
