"""Dynamic dispatch on names taken from a message (93x)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, call_tail, drop, note, values_bound


def _message_field(value: ast.AST, params: set[str]) -> str | None:
    """'load["cmd"]' when ``value`` reads a field of a parameter (subscript or .get)."""
    if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) and value.value.id in params:
        return ast.unparse(value)
    if (
        isinstance(value, ast.Call)
        and call_tail(value) == "get"
        and isinstance(value.func, ast.Attribute)
        and isinstance(value.func.value, ast.Name)
        and value.func.value.id in params
    ):
        return ast.unparse(value)
    return None


def _allow_listed(function: ast.AST, name: str) -> bool:
    """``name`` is tested for membership (in / not in) or equality somewhere in the function."""
    for node in ast.walk(function):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) and node.left.id == name:
            if any(isinstance(op, ast.In | ast.NotIn | ast.Eq) for op in node.ops):
                return True
    return False


class DispatchOnMessageField(Rule):
    """Method chosen by getattr() with a name taken from a message

    What: getattr(obj, name)(...) where name is a field of a parameter (load["cmd"],
    msg.get("method")) and the function never compares it with an allow-list (in,
    not in, ==). A prefix test such as name.startswith("_") is not an allow-list.
    Names built with a fixed prefix (getattr(self, "do_" + name)) are not reported.
    Why: whoever sends the message picks any attribute of the object: helper methods
    never meant to be remote commands, inherited methods, or attributes reached
    through them, which is how unauthenticated callers have reached privileged
    functions of RPC servers (CWE-470).
    Example:
        cmd = load["cmd"]
        if cmd.startswith("_"):
            return False
        return getattr(self.clear_funcs, cmd)(load)
    Fix: look the name up in an explicit table of exposed commands
    (method = EXPOSED.get(cmd)) or check it against a set of allowed names first.
    """

    id = "SCR936"
    name = "dispatch-on-message-field"
    category = Category.INPUT_VALIDATION
    cwe = 470
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.Call,)
    context = {
        FileKind.TEST: drop("tests dispatch on messages they built themselves"),
        FileKind.EXAMPLE: note("example code dispatches without an allow-list"),
        FileKind.DOCS: note("documentation code dispatches without an allow-list"),
    }

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Call)
        lookup = node.func
        if not (
            isinstance(lookup, ast.Call)
            and isinstance(lookup.func, ast.Name)
            and lookup.func.id == "getattr"
            and len(lookup.args) == 2
        ):
            return
        function = walk.function
        if function is None:
            return
        params = {a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)}
        params.discard("self")
        params.discard("cls")
        chosen = lookup.args[1]
        field = _message_field(chosen, params)
        if field is None and isinstance(chosen, ast.Name):
            if _allow_listed(function, chosen.id):
                return
            bound = values_bound(chosen.id, ast.walk(function))
            field = next((found for value in bound if (found := _message_field(value, params))), None)
        if field is None:
            return
        yield self.finding(
            node,
            f"getattr({ast.unparse(lookup.args[0])}, ...) picks the method named by {field}, "
            "which the sender controls, with no allow-list",
            walk.src,
            scope=walk.scope_name,
        )
