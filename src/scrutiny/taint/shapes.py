"""Taint of parts of a container: the keys of a mapping, values under given keys.

Some sinks care about one part of what they are given: werkzeug checks header values for
CR/LF but not header names, so a headers dict counts by its keys; a MongoDB filter runs the
string under ``$where`` as JavaScript whatever else the filter holds.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from scrutiny.taint.values import Env, Taint, clear, key_of, union, with_step

if TYPE_CHECKING:
    from scrutiny.taint.flow import Function

NAMES = ".{keys}"  # env key suffix: the taint of a mapping's keys (or a pair list's first items)


def names(function: Function, node: ast.AST, env: Env) -> Taint:
    """The taint of the keys of a dict literal, of the first items of a list of pairs, or of
    a name bound to one; anything else counts whole (its keys are not known)."""
    if isinstance(node, ast.Dict):
        pairs = zip(node.keys, node.values, strict=True)
        return union(*[function.expr(k, env) if k is not None else names(function, v, env) for k, v in pairs])
    if isinstance(node, ast.List | ast.Tuple):
        parts = []
        for item in node.elts:
            if isinstance(item, ast.Tuple | ast.List) and item.elts and not isinstance(item.elts[0], ast.Starred):
                parts.append(function.expr(item.elts[0], env))
            else:
                parts.append(function.expr(item, env))
        return union(*parts)
    name = key_of(node)
    if name is not None and name + NAMES in env:
        return env[name + NAMES]
    made = function.instances.get(name, "") if name is not None else ""
    if made and f"{made}.__setitem__" in function.m.models.sink_calls:
        return {}  # a headers object: what was put in it met a sink when it was put there
    return function.expr(node, env)


def remember_names(function: Function, name: str, origin: ast.AST, env: Env) -> None:
    """After ``name = {...}`` or ``name = [(k, v), ...]``: what its keys carry."""
    if isinstance(origin, ast.Dict | ast.List | ast.Tuple):
        keys = names(function, origin, env)
        where = (getattr(origin, "lineno", 0), getattr(origin, "col_offset", 0), f"a key in {name}")
        env[name + NAMES] = with_step(keys, where) if keys else keys
        function.m.dotted.note(name + NAMES)


def add_name(name: str, key: Taint, env: Env) -> None:
    """After ``name[key] = value`` on a mapping whose keys are known."""
    if name + NAMES in env:
        env[name + NAMES] = union(env[name + NAMES], key)


def scripted(function: Function, node: ast.AST, env: Env, keys: frozenset[str], mark: str) -> Taint:
    """The taint of a query argument, where the value under one of ``keys`` in a dict literal
    (at any depth) is marked ``mark``: it is run as code even as a plain string."""
    if not isinstance(node, ast.Dict | ast.List | ast.Tuple):
        return function.expr(node, env)
    if isinstance(node, ast.List | ast.Tuple):
        return union(*[scripted(function, item, env, keys, mark) for item in node.elts])
    parts = []
    for key, value in zip(node.keys, node.values, strict=True):
        if isinstance(key, ast.Constant) and key.value in keys:
            taint = function.expr(value, env)
            parts.append(clear(taint, frozenset(), frozenset({mark})) if taint else taint)
            continue
        if key is not None:
            parts.append(function.expr(key, env))
        parts.append(scripted(function, value, env, keys, mark))
    return union(*parts)
