"""What a function does in order, for the aspect observers: the objects it builds, what it
does to them, the values it reads back and what it asserts about them.

The observers decide from this structure, never from the words in names or strings:

- an API call hands data to a collaborator: a method of an object the code did not build
  from data (an attribute of ``self`` assigned from a call or provided by a base class, an
  imported module or class, a client built by a call), a function imported from elsewhere,
  or a call given such an object;
- an error-state assertion checks a value bound by a wait for the 'error' status, checks
  that status itself, checks a caught exception, or expects a call to raise;
- a cleanup check keeps the result of a call, later hands that object to a call whose result
  it drops (delete it, or run the operation that must release it), then reads state back and
  asserts that it is empty, absent or zero, or that reading it raises.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from scrutiny.observe_facts import FunctionNode, Observer, last_name, position
from scrutiny.source import SourceFile, walk_nodes

# Expressions that hold data rather than an object with behaviour.
DATA_TYPES = (
    ast.Constant, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.ListComp, ast.SetComp, ast.DictComp,
    ast.GeneratorExp, ast.Subscript, ast.JoinedStr, ast.BinOp, ast.Compare, ast.BoolOp, ast.UnaryOp,
)  # fmt: skip
EQUALITY_ASSERTIONS = frozenset(
    {
        "assertEqual", "assertEquals", "assertDictEqual", "assertListEqual", "assertCountEqual",
        "assertSequenceEqual", "assertSetEqual", "assertTupleEqual", "assertItemsEqual",
    }
)  # fmt: skip
EMPTY_CONSTRUCTORS = frozenset({"dict", "list", "set", "tuple", "frozenset"})
# unittest's and pytest's names for "this call must raise": the frameworks' API, not the file's words.
RAISES_PREFIXES = ("assertRaises", "raises")


def _calls_in(node: ast.AST) -> Iterator[ast.Call]:
    for child in walk_nodes(node):
        if isinstance(child, ast.Call):
            yield child


def _unawaited(node: ast.expr | None) -> ast.expr | None:
    return node.value if isinstance(node, ast.Await) else node


@dataclass(frozen=True)
class Binding:
    """A name bound by an assignment inside a function."""

    at: tuple[int, int]  # the assignment's position
    value: ast.expr | None  # None when unpacked from a tuple


class FunctionFlow:
    """One function's assignments, read once and shared by the questions below."""

    def __init__(self, function: FunctionNode, statements: list[ast.AST]) -> None:
        """``statements``: the function's own assignments, handlers and with blocks (not
        those of functions nested in it), in source order."""
        self.function = function
        self.bindings: dict[str, list[Binding]] = {}
        self.caught: set[str] = set()  # names bound to exceptions: except ... as e, with raises() as cm
        for node in statements:
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        self._bind(target.id, node, node.value)
                    elif isinstance(target, ast.Tuple | ast.List):
                        for element in target.elts:
                            if isinstance(element, ast.Name):
                                self._bind(element.id, node, None)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                self.caught.add(node.name)
            elif isinstance(node, ast.With | ast.AsyncWith):
                for item in node.items:
                    call = item.context_expr
                    if isinstance(call, ast.Call) and last_name(call).startswith(RAISES_PREFIXES):
                        if isinstance(item.optional_vars, ast.Name):
                            self.caught.add(item.optional_vars.id)

    def _bind(self, name: str, statement: ast.stmt, value: ast.expr | None) -> None:
        self.bindings.setdefault(name, []).append(Binding(position(statement), value))

    def bound_by_call(self, name: str, after: tuple[int, int], before: tuple[int, int]) -> bool:
        """Whether ``name`` is assigned a call's result between two positions."""
        return any(
            after < b.at < before and isinstance(_unawaited(b.value), ast.Call) for b in self.bindings.get(name, ())
        )

    @cached_property
    def built(self) -> dict[str, list[tuple[int, int]]]:
        """Where each name is assigned a call's result (an object the function built or fetched)."""
        return {
            name: [b.at for b in bindings if isinstance(_unawaited(b.value), ast.Call)]
            for name, bindings in self.bindings.items()
        }

    def only_value(self, name: str) -> ast.expr | None:
        bindings = self.bindings.get(name, [])
        return bindings[0].value if len(bindings) == 1 else None


class FileFlow:
    """File-wide facts: which attributes of ``self`` hold plain data, which names are imported
    and which module-level names hold objects built by calls."""

    def __init__(self, observer: Observer) -> None:
        self.observer = observer
        self.src: SourceFile = observer.src
        self._functions: dict[FunctionNode, FunctionFlow] = {}

    def flow(self, function: FunctionNode) -> FunctionFlow:
        flow = self._functions.get(function)
        if flow is None:
            flow = self._functions[function] = FunctionFlow(function, self._statements.get(function, []))
        return flow

    @cached_property
    def _statements(self) -> dict[FunctionNode | None, list[ast.AST]]:
        """The nodes FunctionFlow reads, by the function they belong to: one pass per file."""
        index = self.src.index
        found: dict[FunctionNode | None, list[ast.AST]] = {}
        nodes = index.of_type(ast.Assign, ast.AnnAssign, ast.ExceptHandler, ast.With, ast.AsyncWith)
        for node in sorted(nodes, key=lambda n: (n.lineno, n.col_offset)):  # type: ignore[attr-defined]
            found.setdefault(index.function_of.get(node), []).append(node)
        return found

    @cached_property
    def data_attributes(self) -> frozenset[str]:
        """Attributes every assignment on an instance gives plain data (a literal, an item, a sum)."""
        data: set[str] = set()
        other: set[str] = set()
        for node in self.src.index.of_type(ast.Assign, ast.AnnAssign):
            assert isinstance(node, ast.Assign | ast.AnnAssign)
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                    (data if isinstance(node.value, DATA_TYPES) else other).add(target.attr)
        return frozenset(data - other)

    @cached_property
    def module_objects(self) -> frozenset[str]:
        """Module-level names assigned the result of a call (clients, sessions, loggers)."""
        found: set[str] = set()
        for statement in self.src.tree.body:
            if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
                found.update(t.id for t in statement.targets if isinstance(t, ast.Name))
        return frozenset(found)

    def instance_name(self, function: FunctionNode) -> str | None:
        """The first parameter of a method (the instance or class it is called on)."""
        owner = self.src.index.parents.get(function)
        params = function.args.posonlyargs + function.args.args
        if not isinstance(owner, ast.ClassDef) or not params:
            return None
        static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in function.decorator_list)
        return None if static else params[0].arg

    # API calls ------------------------------------------------------------------------

    def is_collaborator(
        self, node: ast.expr, function: FunctionNode, flow: FunctionFlow | None = None, depth: int = 0
    ) -> bool:
        """Whether ``node`` is an object the function works through rather than its data."""
        if depth > 3:
            return False  # x = x.child(): follow a few assignments, not a cycle
        instance = self.instance_name(function)
        root = node
        while isinstance(root, ast.Attribute | ast.Subscript):
            if isinstance(root, ast.Subscript):
                return False  # an item of something: data
            if isinstance(root.value, ast.Name) and root.value.id == instance:
                return root.attr not in self.data_attributes
            root = root.value
        if not isinstance(root, ast.Name):
            return False
        name = root.id
        if name == instance:
            return False
        if name in self.src.aliases:
            return True
        flow = flow or self.flow(function)
        bindings = flow.bindings.get(name)
        if bindings is None:
            return name in self.module_objects
        for binding in bindings:
            call = _unawaited(binding.value)
            if isinstance(call, ast.Call) and not isinstance(call.func, ast.Name | ast.Attribute):
                continue
            if isinstance(call, ast.Call) and self.is_collaborator(call.func, function, flow, depth + 1):
                return True
        return False

    def hands_to_collaborator(self, statement: ast.stmt, function: FunctionNode) -> bool:
        """Whether the statement calls a collaborator's method or an imported function, or
        hands a collaborator held by the instance to a call."""
        instance = self.instance_name(function)
        flow = self.flow(function)
        for call in _calls_in(statement):
            func = call.func
            if isinstance(func, ast.Attribute) and self.is_collaborator(func.value, function, flow):
                return True
            if isinstance(func, ast.Name) and func.id in self.src.aliases:
                return True
            arguments = [*call.args, *(k.value for k in call.keywords)]
            for argument in arguments:
                if isinstance(argument, ast.Attribute) and isinstance(argument.value, ast.Name):
                    if argument.value.id == instance and argument.attr not in self.data_attributes:
                        return True
        return False

    # Error-state assertions -------------------------------------------------------------

    def error_assertions(self, function: FunctionNode, assertions: list[ast.stmt]) -> list[ast.stmt]:
        """The assertions that check an error state: see the module docstring."""
        flow = self.flow(function)
        waits = self.observer.error_waits()
        bound_by_waits = self._bound_by_waits.get(function, {})
        parents = self.observer.index.parents
        statement_nodes = self.observer.index.statement_nodes
        found = []
        for assertion in assertions:
            if assertion in waits or _expects_raise(assertion) or _inside_handler(assertion, parents):
                found.append(assertion)
                continue
            names = {n.id for n in statement_nodes.get(assertion, ()) if isinstance(n, ast.Name)}
            if names & flow.caught or any(bound_by_waits.get(n, (1 << 30, 0)) < position(assertion) for n in names):
                found.append(assertion)
        return found

    @cached_property
    def _bound_by_waits(self) -> dict[FunctionNode, dict[str, tuple[int, int]]]:
        """Per function, the names a wait for the error status assigns, and where first."""
        found: dict[FunctionNode, dict[str, tuple[int, int]]] = {}
        function_of = self.observer.index.function_of
        for wait in sorted(self.observer.error_waits(), key=position):
            function = function_of.get(wait)
            if isinstance(wait, ast.Assign) and function is not None:
                for target in wait.targets:
                    if isinstance(target, ast.Name):
                        found.setdefault(function, {}).setdefault(target.id, position(wait))
        return found

    # Cleanup checks -------------------------------------------------------------------

    def cleanup_checks(self, function: FunctionNode, block: list[ast.stmt]) -> Iterator[list[ast.stmt]]:
        """The statements after each operation on a built object, up to the last assertion
        before the next operation, when one of those assertions finds state read back after
        the operation empty or gone."""
        flow = self.flow(function)
        built = flow.built
        operations = [i for i, s in enumerate(block) if self._operates_on_built(s, built)]
        for number, start in enumerate(operations):
            end = operations[number + 1] if number + 1 < len(operations) else len(block)
            after = block[start + 1 : end]
            asserts = [s for s in after if s in self._assertion_set]
            if asserts and any(self._finds_absent(s, flow, position(block[start])) for s in asserts):
                last = after.index(asserts[-1])
                yield after[: last + 1]

    @cached_property
    def _assertion_set(self) -> frozenset[ast.stmt]:
        return frozenset(self.observer.assertions)

    def _operates_on_built(self, statement: ast.stmt, built: dict[str, list[tuple[int, int]]]) -> bool:
        """A call whose result is dropped, handed (or called on) an object built earlier."""
        if not isinstance(statement, ast.Expr):
            return False
        call = _unawaited(statement.value)
        if not isinstance(call, ast.Call) or last_name(call).startswith(("assert", "fail")):
            return False
        here = position(statement)
        return any(
            isinstance(n, ast.Name) and any(at < here for at in built.get(n.id, ()))
            for n in self.observer.index.statement_nodes.get(statement, ())
        )

    def _finds_absent(self, assertion: ast.stmt, flow: FunctionFlow, operation: tuple[int, int]) -> bool:
        operands = _absence_operands(assertion, flow)
        here = position(assertion)
        for operand in operands:
            if any(isinstance(n, ast.Call) for n in ast.walk(operand)):
                return True  # read back in the assertion itself
            names = {n.id for n in ast.walk(operand) if isinstance(n, ast.Name)}
            if any(flow.bound_by_call(name, operation, here) for name in names):
                return True
        return False


def _expects_raise(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and last_name(statement.value).startswith(RAISES_PREFIXES)
    )


def _inside_handler(statement: ast.stmt, parents: dict[ast.AST, ast.AST]) -> bool:
    node = parents.get(statement)
    while node is not None and not isinstance(node, FunctionNode):
        if isinstance(node, ast.ExceptHandler):
            return True
        node = parents.get(node)
    return False


def _is_empty(node: ast.expr, flow: FunctionFlow, depth: int = 0) -> bool:
    """None, an empty container, or a mapping of counters that are all zero (directly or
    through a name assigned once)."""
    if isinstance(node, ast.Constant):
        return node.value is None or node.value in ("", b"")
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return not node.elts
    if isinstance(node, ast.Dict):
        return all(isinstance(v, ast.Constant) and v.value == 0 and v.value is not False for v in node.values)
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id in EMPTY_CONSTRUCTORS and not node.args
    if isinstance(node, ast.Name) and depth == 0:
        value = flow.only_value(node.id)
        return value is not None and _is_empty(value, flow, 1)
    return False


def _length_of(node: ast.expr) -> ast.expr | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len" and node.args:
        return node.args[0]
    return None


def _zero(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value == 0 and node.value is not False


def _absent_in_comparison(left: ast.expr, right: ast.expr, flow: FunctionFlow) -> list[ast.expr]:
    """What an equality between ``left`` and ``right`` finds empty, if it does."""
    for one, other in ((left, right), (right, left)):
        if _is_empty(one, flow):
            return [other]
        if _zero(one) and (measured := _length_of(other)) is not None:
            return [measured]
    return []


def _absence_operands(statement: ast.stmt, flow: FunctionFlow) -> list[ast.expr]:
    """The values an assertion finds empty, None, false or missing, or whose reading must raise."""
    if isinstance(statement, ast.Assert):
        test = statement.test
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            return [test.operand]
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            op, right = test.ops[0], test.comparators[0]
            if isinstance(op, ast.NotIn):
                return [right]
            if isinstance(op, ast.Is | ast.Eq):
                return _absent_in_comparison(test.left, right, flow)
        return []
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return []
    call = statement.value
    name, args = last_name(call), call.args
    if name in ("assertIsNone", "assertFalse") and args:
        return [args[0]]
    if name == "assertNotIn" and len(args) >= 2:
        return [args[1]]
    if name in EQUALITY_ASSERTIONS and len(args) >= 2:
        return _absent_in_comparison(args[0], args[1], flow)
    if name.startswith("assertRaises") and len(args) >= 2:
        return args[1:]  # the call that must fail to find the object
    return []
