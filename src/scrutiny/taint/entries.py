"""Sinks on one entry of a message list: which parts of an argument a sink with ``item`` sees.

A chat API takes a list of dicts, ``[{"role": "system", "content": ...}, ...]``, and what a
value may do depends on the role next to it. The engine evaluates only the parts picked
here (the ``item`` values whose ``when_key`` literal passes the sink's filter), and points
the finding at the part. Everything here reads syntax only; the taint of the parts is the
caller's business.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from scrutiny.taint.models import Sink
from scrutiny.taint.values import Env

if TYPE_CHECKING:
    from scrutiny.taint.flow import Function

# What an argument of a sink with ``item`` holds: the whole argument (not a literal
# the filter can read), or the parts that count (possibly none).
WHOLE = None


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def passes(sink: Sink, value: ast.AST | None) -> bool:
    """Whether a ``when_key`` whose value is ``value`` (None: absent) lets the sink count.

    A value that is not a literal string is unknown: it counts for an ``unless_values``
    sink (it may be anything) and not for a ``when_values`` sink (it is not known to be one).
    """
    literal = _literal(value)
    if literal is not None and "/" in literal:
        literal = literal.split(";", 1)[0].strip().lower()  # a media type, without its charset
    if sink.when_values:
        return literal is not None and literal in sink.when_values
    return literal is None or literal not in sink.unless_values


def call_passes(sink: Sink, call: ast.Call) -> bool:
    """For a sink without ``item``: the call's own ``when_key`` keyword decides."""
    if not sink.when_key or sink.item:
        return True
    keys = sink.when_key.split(",")
    value = next((k.value for key in keys for k in call.keywords if k.arg == key), None)
    return passes(sink, value)


def _dict_part(sink: Sink, entry: ast.Dict) -> ast.expr | None:
    """The ``item`` value of one dict literal if its ``when_key`` passes; a ``**spread`` dict is unknown."""
    found: dict[str, ast.expr] = {}
    unknown_keys = False
    for key, value in zip(entry.keys, entry.values, strict=True):
        name = _literal(key)
        if name is None:
            unknown_keys = True  # {**base, ...} or a computed key: it may hold the role
        else:
            found[name] = value
    if sink.item not in found:
        return None
    role = found.get(sink.when_key) if sink.when_key else None
    if sink.when_key and role is None and unknown_keys:
        return found[sink.item] if sink.unless_values else None
    if sink.when_key and not passes(sink, role):
        return None
    return found[sink.item]


def parts(sink: Sink, argument: ast.expr) -> list[ast.expr] | None:
    """The sub-expressions of ``argument`` that the sink sees, or WHOLE for all of it.

    A list or tuple literal is read entry by entry; an entry that is not a dict literal (a
    name, a call, ``*history``), like an argument that is not a literal at all, is unknown:
    all of it counts for an ``unless_values`` sink, none of it for a ``when_values`` sink.
    """
    unknown_counts = not sink.when_values
    if isinstance(argument, ast.Dict):
        entries: list[ast.expr] = [argument]
    elif isinstance(argument, ast.List | ast.Tuple):
        entries = list(argument.elts)
    else:
        return WHOLE if unknown_counts else []
    picked: list[ast.expr] = []
    for entry in entries:
        if isinstance(entry, ast.Dict):
            part = _dict_part(sink, entry)
            if part is not None:
                picked.append(part)
        elif isinstance(entry, ast.Constant):
            continue  # a literal carries no taint
        elif unknown_counts:
            picked.append(entry.value if isinstance(entry, ast.Starred) else entry)
    return picked


def report(function: Function, sink: Sink, name: str, node: ast.Call, env: Env) -> None:
    """The facts of a sink with ``item``: each picked part is a sink of its own, found where it is."""
    for position in sink.args:
        if isinstance(position, int):
            argument = node.args[position] if position < len(node.args) else None
        else:
            argument = next((k.value for k in node.keywords if k.arg == position), None)
        if argument is None or isinstance(argument, ast.Starred):
            continue
        picked = parts(sink, argument)
        for part in [argument] if picked is WHOLE else picked:
            taint = function.expr(part, env)
            if taint:
                at = node if part is argument else part
                index = function.m.sink(sink, name, at)
                function.fact(taint, ("sink", index), (at.lineno, at.col_offset, f"reaches {name}"))
