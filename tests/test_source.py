"""SourceFile: comments, line numbering, aliases, commented-out code."""

from __future__ import annotations

import ast
import io
import sysconfig
import tokenize
from pathlib import Path

import pytest

from scrutiny import source

TRICKY = '''\
x = "# not a comment"  # a comment
y = ("part one"  # between parts
     "part two")  # after
z = """
# inside a docstring
"""  # after the docstring
w = f"{x:#x}"  # f-string with a hash
name = "caf\u00e9 #"  # after non-ASCII text
# own line
'''


def tokenize_comments(text: str) -> list[tuple[int, int, str]]:
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return [(t.start[0], t.start[1], t.string) for t in tokens if t.type == tokenize.COMMENT]


def test_comments_agree_with_tokenize_on_tricky_code() -> None:
    src = source.load(TRICKY.encode(), "tricky.py")
    assert [(c.line, c.col, c.text) for c in src.comments] == tokenize_comments(TRICKY)
    assert [c.own_line for c in src.comments][-1] is True


def test_comments_agree_with_tokenize_on_stdlib_modules() -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(stdlib.glob("*.py"))[:120]
    assert len(files) > 50
    for path in files:
        try:
            src = source.load(path.read_bytes(), str(path))
        except source.SourceError:
            continue
        assert [(c.line, c.col, c.text) for c in src.comments] == tokenize_comments(src.text), path


def test_line_numbers_ignore_form_feeds_and_unicode_separators() -> None:
    text = "a = 1\n\x0c\nb = 'x\u2028y'\nc = 3  # three\n"
    src = source.load(text.encode(), "ff.py")
    assert src.line_count == 4
    assert src.line_text(4) == "c = 3  # three"
    assert src.comments[0].line == 4


def test_aliases_resolve_imports() -> None:
    text = "import subprocess as sp\nfrom os import path as p\nimport xml.etree.ElementTree\nsp.run(p.join('a'))\n"
    src = source.load(text.encode(), "a.py")
    call = src.tree.body[-1].value  # type: ignore[attr-defined]
    assert src.qualname(call.func) == "subprocess.run"
    assert src.qualname(call.args[0].func) == "os.path.join"
    assert src.aliases["xml"] == "xml"


@pytest.mark.parametrize(
    ("comment", "is_code"),
    [
        ("# self.assertEqual(a, b)", True),
        ("# value = compute(x)", True),
        ("# return None", True),
        ("# This is bug 1825537 where the allocations are", False),
        ("# Check the resource provider allocations.", False),
        ("# see setup() for details", False),
        ("# TODO", False),
    ],
)
def test_commented_out_code_is_told_from_prose(comment: str, is_code: bool) -> None:
    src = source.load(f"x = 1\n{comment}\n".encode(), "c.py")
    assert bool(src.commented_code) is is_code


def test_bug_note_names_the_bug_across_comment_lines() -> None:
    text = "# FIXME(dev): this is\n# bug 1825537 in the tracker\nx = 1\n"
    (note,) = source.load(text.encode(), "b.py").bug_notes
    assert (note.start, note.end, note.bug, note.marker) == (1, 2, "1825537", "FIXME")


def test_string_helpers_handle_long_concatenations_without_recursion() -> None:
    from scrutiny.rules.base import is_built_string, is_constant_string

    literal_chain = source.load(("x = " + " + ".join(["'a'"] * 1900) + "\n").encode(), "chain.py")
    value = literal_chain.tree.body[0].value  # type: ignore[attr-defined]
    assert is_constant_string(value) and not is_built_string(value)
    mixed = source.load(("x = 'SELECT ' + y" + " + 'a'" * 1900 + "\n").encode(), "mixed.py")
    assert is_built_string(mixed.tree.body[0].value)  # type: ignore[attr-defined]


def test_sample_code_introduced_by_prose_is_not_disabled_code() -> None:
    example = "# A variable foo used like:\n# mocked.bar = foo\n# foo()\n# self.assertRaises(exc, foo)\nx = 1\n"
    assert source.load(example.encode(), "e.py").commented_code == []
    disabled = "# FIXME(dev): bug 42, re-enable when fixed:\n# self.assertEqual(a, b)\nx = 1\n"
    (code,) = source.load(disabled.encode(), "d.py").commented_code
    assert code.is_assertion and code.start == 2


def test_references_are_module_names_bound_once_to_an_imported_attribute() -> None:
    src = source.load(
        b"import os\nfrom cryptography.hazmat.primitives.asymmetric import rsa\n"
        b"gen = rsa.generate_private_key\nrun = os.system\nrun = print\ncount = os.sep\ncount += 'x'\n"
        b"typed: object = os.path.join\nbare: int\nlocal = gen\n",
        "m.py",
    )
    assert src.references == {
        "gen": "cryptography.hazmat.primitives.asymmetric.rsa.generate_private_key",
        "typed": "os.path.join",
    }
    call = next(n for n in ast.walk(src.tree) if isinstance(n, ast.Name) and n.id == "gen")
    assert src.qualname(call) == "cryptography.hazmat.primitives.asymmetric.rsa.generate_private_key"
