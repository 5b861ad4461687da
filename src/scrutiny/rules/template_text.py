"""The text of a template the file spells out, when it does: a literal, reached through
names, module constants, class attributes and text-only calls (strip, dedent)."""

from __future__ import annotations

import ast
import re

from scrutiny.rules.base import string_value
from scrutiny.rules.reaching import reaching_values
from scrutiny.rules.resolve import module_value
from scrutiny.source import SourceFile

# A start or end tag, a comment or a doctype: what makes text HTML (or XML) markup.
MARKUP = re.compile(r"<(?:[A-Za-z][\w:-]*(?:\s[^<>]*)?/?|/[A-Za-z][\w:-]*\s*|!--|!doctype\b)>", re.IGNORECASE)
TEXT_ONLY_METHODS = frozenset({"strip", "lstrip", "rstrip"})
TEXT_ONLY_FUNCTIONS = frozenset({"dedent", "textwrap.dedent"})
DEPTH = 5


def literal_text(node: ast.expr, src: SourceFile, depth: int = DEPTH) -> tuple[str, int] | None:
    """(text, line of the literal) when ``node`` is a template text the file spells out."""
    if depth <= 0:
        return None
    text = string_value(node)
    if text is not None:
        return text, node.lineno
    if isinstance(node, ast.Call) and len(node.args) <= 1 and not node.keywords:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in TEXT_ONLY_METHODS and not node.args:
            return literal_text(func.value, src, depth - 1)
        if ast.unparse(func) in TEXT_ONLY_FUNCTIONS and node.args:
            return literal_text(node.args[0], src, depth - 1)
        return None
    if isinstance(node, ast.Name):
        values = reaching_values(node.id, node, src)
        if values is None:
            value, bound = module_value(node, src, src.index.function_of.get(node))
            values = [value] if bound and value is not None else []
        texts = [literal_text(v, src, depth - 1) for v in values]
        return texts[0] if len(texts) == 1 and texts[0] is not None else None
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
        return _class_attribute(node, src, depth)
    return None


def is_markup(text: str) -> bool:
    return MARKUP.search(text) is not None


def _class_attribute(node: ast.Attribute, src: SourceFile, depth: int) -> tuple[str, int] | None:
    """``self.name`` bound once, in the body of the enclosing class, and never stored
    through ``self.name`` in the file."""
    parents = src.index.parents
    owner = parents.get(node)
    while owner is not None and not isinstance(owner, ast.ClassDef):
        owner = parents.get(owner)
    if owner is None:
        return None
    stored = any(isinstance(n, ast.Attribute) and n.attr == node.attr and isinstance(n.ctx, ast.Store)
                 for n in src.index.by_type.get(ast.Attribute, ()))  # fmt: skip
    if stored:
        return None
    bound = [s.value for s in owner.body if isinstance(s, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id == node.attr for t in s.targets)]  # fmt: skip
    return literal_text(bound[0], src, depth - 1) if len(bound) == 1 else None
