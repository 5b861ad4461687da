"""SQL injection rule (1xx): statements assembled from strings at run time."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import (
    DEFAULT_CONTEXT,
    Rule,
    Walk,
    argument,
    call_tail,
    exactly,
    is_built_string,
    is_constant_string,
    keep_lower,
    keyword,
    string_value,
    walk_function,
)
from scrutiny.source import SourceFile

SQL_METHODS = frozenset({"execute", "executemany", "executescript", "raw", "extra"})
SQL_TEXT_CALLS = frozenset(
    {
        "sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text",
        "django.db.models.expressions.RawSQL", "django.db.models.RawSQL",
    }
)  # fmt: skip
# Keyword names DB-API drivers and ORMs use for the statement.
SQL_KEYWORDS = ("sql", "query", "statement", "operation", "where", "select", "tables")
# Statement shapes; upper-case keywords only, so English prose ("select a flavor from the
# list") does not match. "?" stands in for each interpolated value.
SQL_SHAPE = re.compile(
    r"^[\s(]*(?:"
    r"SELECT\b.*\bFROM\b"
    r"|INSERT\s+(?:OR\s+\w+\s+)?INTO\b"
    r"|REPLACE\s+INTO\b"
    r"|UPDATE\b.*\bSET\b"
    r"|DELETE\s+FROM\b"
    r"|(?:DROP|CREATE|ALTER|TRUNCATE)\s+TABLE\b"
    r"|WITH\b.*\bAS\s*\(.*\bSELECT\b"
    r")",
    re.DOTALL,
)


def _literal_text(node: ast.AST) -> str:
    """The literal text of a built string in order, with '?' where a value is pasted in."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else "?"
    if isinstance(node, ast.JoinedStr):
        return "".join(_literal_text(v) if isinstance(v, ast.Constant) else "?" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_text(node.left) + _literal_text(node.right)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _literal_text(node.left)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "replace"):
        return _literal_text(node.func.value)
    return "?"


def _is_built(node: ast.AST | None) -> bool:
    """A built string, or a literal whose placeholder is replaced with .replace(old, value)."""
    if is_built_string(node):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "replace":
        value = argument(node, "", 1)
        return string_value(node.func.value) is not None and value is not None and not is_constant_string(value)
    return False


def _pasted_values(node: ast.AST) -> list[ast.expr]:
    """The run-time values pasted into a built string (f-string, %, +, .format)."""
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        right = node.right
        if isinstance(right, ast.Tuple):
            return list(right.elts)
        if isinstance(right, ast.Dict):
            return [v for v in right.values if v is not None]
        return [right]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [
            value
            for side in (node.left, node.right)
            for value in (_pasted_values(side) if is_built_string(side) else [side])
            if not is_constant_string(value)
        ]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return [*node.args, *(kw.value for kw in node.keywords)]
    return []


def _is_quoting_call(node: ast.AST) -> bool:
    """quote_name(...), quote_name_unless_alias(...), quote_ident(...): an identifier quoted
    by the database backend, which cannot carry SQL of its own."""
    return isinstance(node, ast.Call) and "quote" in call_tail(node).lower()


def _assigned_value(name: ast.Name, walk: Walk) -> ast.expr | None:
    """The value of the one plain assignment to ``name`` before it in the same function."""
    values = [
        node.value
        for node in _scope_statements(walk.function, walk.src)
        if isinstance(node, ast.Assign)
        and getattr(node, "lineno", name.lineno) < name.lineno
        and any(isinstance(t, ast.Name) and t.id == name.id for t in node.targets)
    ]
    return values[0] if len(values) == 1 else None


def _is_counter_attribute(node: ast.AST, walk: Walk) -> bool:
    """``self.NAME`` where the enclosing class sets NAME to an integer literal in its body and
    only ever changes it with ``+=``/``-=`` of integer literals: a number, which cannot carry SQL."""
    if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"):
        return False
    classes = [s for s in walk.scope if isinstance(s, ast.ClassDef)]
    if not classes:
        return False
    cls, attr, initialised = classes[-1], node.attr, False
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == attr for t in stmt.targets):
            if not (isinstance(stmt.value, ast.Constant) and type(stmt.value.value) is int):
                return False
            initialised = True
    for child in walk_function(cls):
        targets: list[ast.expr] = []
        if isinstance(child, ast.Assign):
            targets = child.targets
        elif isinstance(child, ast.AnnAssign | ast.NamedExpr):
            targets = [child.target]
        elif isinstance(child, ast.AugAssign):
            int_step = isinstance(child.value, ast.Constant) and type(child.value.value) is int
            if not (int_step and isinstance(child.op, ast.Add | ast.Sub)):
                targets = [child.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr == attr:
                return False
    return initialised


def _only_quoted_identifiers(node: ast.AST, walk: Walk) -> bool:
    """Every value pasted into the statement is a literal or an identifier quoted by the backend."""
    values = _pasted_values(node)
    if len(values) == 1 and isinstance(values[0], ast.Name) and isinstance(node, ast.BinOp):
        bound = _assigned_value(values[0], walk)
        if isinstance(bound, ast.Dict):  # "DROP DATABASE %(name)s" % params
            values = [v for v in bound.values if v is not None]
    if not values:
        return False
    for value in values:
        if _is_sql_fragment(value) or _wrapped_identifier(value, walk):
            continue
        if isinstance(value, ast.Name):
            value = _assigned_value(value, walk) or value
        if not (
            is_constant_string(value)
            or _is_quoting_call(value)
            or _is_placeholder_list(value)
            or _is_counter_attribute(value, walk)
            or _from_model_metadata(value)
        ):
            return False
    return True


def _wrapped_identifier(node: ast.AST, walk: Walk) -> bool:
    """A name whose every assignment in the function is a quoted identifier, or a literal
    wrapped around the name's previous value (value = "TO_CHAR(%s)" % value)."""
    if not isinstance(node, ast.Name):
        return False
    bound = [
        n.value
        for n in _scope_statements(walk.function, walk.src)
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.id for t in n.targets)
    ]

    def wraps_itself(value: ast.expr) -> bool:
        return (
            isinstance(value, ast.BinOp)
            and isinstance(value.op, ast.Mod)
            and is_constant_string(value.left)
            and isinstance(value.right, ast.Name)
            and value.right.id == node.id
        )

    return any(_is_quoting_call(v) for v in bound) and all(_is_quoting_call(v) or wraps_itself(v) for v in bound)


def _from_model_metadata(node: ast.AST) -> bool:
    """A name read from an ORM model's metadata (``model._meta.db_table``), directly or through
    a helper given only such names: the schema as the code defines it, not input."""
    if isinstance(node, ast.Call):
        arguments = [*node.args, *(k.value for k in node.keywords)]
        return bool(arguments) and all(_from_model_metadata(a) for a in arguments)
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return "_meta" in parts[1:]


def _is_sql_fragment(node: ast.AST) -> bool:
    """A name saying it holds compiled SQL (sql, inner_sql, where_sql, sql_suffix()): composing statements
    from fragments whose values travel as parameters, as ORMs do."""
    if isinstance(node, ast.Call):
        tail = call_tail(node).lower()
        return tail.startswith("sql_") or tail.endswith("_sql")
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    if _is_self_attribute(node) and name.lower().endswith(("_suffix", "_prefix", "_clause")):
        return True  # the class's own fragment (self.bare_select_suffix), not a request value
    return name.lower() == "sql" or name.lower().endswith("_sql")


def _is_self_attribute(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"


def _is_placeholder_list(node: ast.AST) -> bool:
    """ ", ".join(["%s"] * n) and ", ".join("?" for _ in rows): a list of parameter markers."""
    if not (isinstance(node, ast.Call) and call_tail(node) == "join" and len(node.args) == 1):
        return False
    items = node.args[0]
    if isinstance(items, ast.BinOp) and isinstance(items.op, ast.Mult):
        items = items.left if isinstance(items.left, ast.List | ast.Tuple) else items.right
    if isinstance(items, ast.List | ast.Tuple):
        return all(is_constant_string(e) for e in items.elts)
    if isinstance(items, ast.GeneratorExp | ast.ListComp):
        return is_constant_string(items.elt)
    return False


PRINTF_FIELD = re.compile(r"%(?:\([^)]*\))?[sdrif]")
FORMAT_FIELD = re.compile(r"\{[^{}]*\}")
# What comes right before a pasted value that is data, not a name: a comparison, a list of
# values, a LIMIT, or a condition.
VALUE_CONTEXT = re.compile(
    r"(?:[=<>]|\bLIKE|\bIN\s*\(|\bVALUES\s*\(|\bLIMIT|\bOFFSET|\bBETWEEN|\bWHERE|\bAND|\bOR|\bHAVING|\bTHEN|\bELSE)\s*$",
    re.IGNORECASE,
)


def _names_only(node: ast.AST) -> bool:
    """Every pasted value sits where SQL takes a name or a fragment (a table, a column list,
    a function, a clause keyword), never inside quotes or after a comparison, where data goes."""
    text = _literal_text(node).replace("%%", "")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        text = PRINTF_FIELD.sub("?", text)
    elif isinstance(node, ast.Call):
        text = FORMAT_FIELD.sub("?", text)
    positions = [i for i, ch in enumerate(text) if ch == "?"]
    if not positions:
        return False
    for index in positions:
        before = text[:index]
        if before.count("'") % 2 == 1 or VALUE_CONTEXT.search(before):
            return False
    return True


def _looks_like_sql(node: ast.AST) -> bool:
    return SQL_SHAPE.match(_literal_text(node)) is not None


def _statement_arguments(call: ast.Call) -> list[ast.expr]:
    """The expressions a sink call treats as SQL: first argument and statement keywords."""
    found: list[ast.expr] = []
    first = argument(call, "", 0)
    if first is not None:
        found.append(first)
    for name in SQL_KEYWORDS:
        value = keyword(call, name)
        if value is not None:
            found.append(value)
    # QuerySet.extra(where=[...], select={...}) takes lists and dicts of fragments.
    expanded: list[ast.expr] = []
    for value in found:
        if isinstance(value, ast.List | ast.Tuple | ast.Set):
            expanded.extend(value.elts)
        elif isinstance(value, ast.Dict):
            expanded.extend(value.values)
        else:
            expanded.append(value)
    return expanded


def _is_string_part(node: ast.AST, parent: ast.AST | None) -> bool:
    """True when ``parent`` is itself a string being built that contains ``node``."""
    if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Add | ast.Mod):
        return is_built_string(parent) and (parent.left is node or isinstance(parent.op, ast.Add))
    return False


class SqlBuiltString(Rule):
    """SQL statement assembled from strings at run time

    What: a query built with an f-string, %, .format or + from values that are not
    literals (or a literal with a placeholder filled by .replace), either passed to
    execute/executemany/executescript, Django raw/extra/RawSQL or sqlalchemy.text
    (directly or through a variable assigned in the same function), or
    anywhere in the code when its literal text has the shape of an SQL statement.
    Why: a value pasted into the statement text is parsed as SQL, so a quote in it can
    change the query: read other rows, bypass a login check or drop a table (SQL injection).
    Example:
        cursor.execute(f"SELECT * FROM users WHERE name = '{name}'")
    Statements whose pasted values are all identifiers quoted by the database backend
    (quote_name(...), directly or through a name assigned once in the function), lists of
    parameter markers (", ".join(["%s"] * n)), SQL fragments named so (sql, where_sql) or
    integer counters of the class (self.n set to an integer in the class body and only
    changed by += or -= of integers), names read from an ORM model's metadata
    (model._meta.db_table, directly or through a helper given only such names) and the
    class's own fragments (self.bare_select_suffix) are not reported. Statements whose pasted values all
    sit where SQL takes a name or a fragment (FROM %s, INSERT INTO %s (%s), SELECT %s), never in quotes or after a
    comparison, VALUES, IN, LIMIT or WHERE, are low: bind parameters cannot go there.
    Fix: keep the statement constant and pass values as parameters:
    cursor.execute("SELECT * FROM users WHERE name = %s", (name,)); for table or column
    names, check them against a fixed allow-list (or use sqlalchemy's quoting) first.
    """

    id = "SCR105"
    traced_by = "SCR503"
    name = "sql-built-string"
    category = Category.INJECTION
    cwe = 89
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.Call, ast.JoinedStr, ast.BinOp)
    call_filter = exactly(SQL_METHODS, "text", "RawSQL", "format", "replace")  # sinks, built strings
    bandit = ("B608", "B610", "B611")
    ruff = ("S608", "S610", "S611")
    context = {
        **DEFAULT_CONTEXT,
        FileKind.MIGRATION: keep_lower(
            "in a schema migration, which operators run once with names from the code and the database settings"
        ),
    }

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        if isinstance(node, ast.Call) and (name := sql_sink_name(node, walk.src)):
            yield from self._check_sink(node, name, walk)
            return
        if not _is_built(node) or not _looks_like_sql(node) or _only_quoted_identifiers(node, walk):
            return
        parent = walk.parent(node)
        if _is_string_part(node, parent) and parent is not None and _looks_like_sql(parent):
            return  # the enclosing expression is reported instead
        if self._reaches_sink(node, parent, walk):
            return  # reported at the sink call, with more confidence
        yield self.finding(
            node,
            "SQL statement built with values pasted into its text",
            walk.src,
            scope=walk.scope_name,
            confidence=Confidence.LOW,
            severity=Severity.LOW if _names_only(node) else None,
        )

    def reports_sink(self, call: ast.Call, name: str, walk: Walk) -> bool:
        """Whether this rule reports the SQL passed to the sink ``call``."""
        return next(self._check_sink(call, name, walk), None) is not None

    def _check_sink(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        for value in _statement_arguments(call):
            if _is_built(value):
                if _only_quoted_identifiers(value, walk):
                    return
                if _names_only(value):
                    yield self.finding(call, f"{name} gets SQL with run-time names or fragments pasted where no "
                                       "bind parameter can go; check they are quoted or fixed", walk.src,
                                       scope=walk.scope_name, severity=Severity.LOW)  # fmt: skip
                else:
                    yield self.finding(call, f"{name} gets SQL built from run-time values", walk.src,
                                       scope=walk.scope_name)  # fmt: skip
                return
            if isinstance(value, ast.Name) and _assigned_built_string(value, walk):
                yield self.finding(
                    call,
                    f"{name} gets SQL in {value.id}, which was built from run-time values",
                    walk.src,
                    scope=walk.scope_name,
                )
                return

    def _reaches_sink(self, node: ast.AST, parent: ast.AST | None, walk: Walk) -> bool:
        """True when the sink check already reports this string (directly or via a name)."""
        while isinstance(parent, ast.List | ast.Tuple | ast.Set | ast.Dict | ast.keyword):
            parent = walk.parent(parent)
        if isinstance(parent, ast.Call) and sql_sink_name(parent, walk.src):
            return any(value is node for value in _statement_arguments(parent))
        if isinstance(parent, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            return bool(names) and _name_reaches_sink(names, parent, walk)
        return False


def sql_sink_name(call: ast.Call, src: SourceFile) -> str:
    """'cursor.execute'-style name when ``call`` sends its argument to a database, else ''."""
    tail = call_tail(call)
    if isinstance(call.func, ast.Attribute) and tail in SQL_METHODS:
        shown = ast.unparse(call.func)
        return shown if len(shown) <= 60 else f"...{shown[-57:]}"
    if tail in ("text", "RawSQL") or (isinstance(call.func, ast.Name) and src.aliases.get(tail, "").endswith(".text")):
        name = src.qualname(call.func)
        if name in SQL_TEXT_CALLS:
            return name
    return ""


def _scope_statements(function: ast.AST | None, src: SourceFile) -> Iterator[ast.AST]:
    """Nodes of the same function (or the module level) as the node being checked."""
    index = src.index
    for node in ast.walk(function or src.tree):
        if index.function_of.get(node) is function:
            yield node


def _assigned_built_string(name: ast.Name, walk: Walk) -> bool:
    """True when ``name`` was given a built string earlier in the same function."""
    line = name.lineno
    for node in _scope_statements(walk.function, walk.src):
        if getattr(node, "lineno", line) >= line:
            continue
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name.id for t in node.targets):
            if _is_built(node.value) and not _only_quoted_identifiers(node.value, walk):
                return True
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name.id:
            if is_built_string(node.value):
                return True
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name.id:
            if isinstance(node.op, ast.Add) and not is_constant_string(node.value):
                return True
    return False


def _name_reaches_sink(names: set[str], assignment: ast.stmt, walk: Walk) -> bool:
    """True when one of ``names`` is later passed as SQL to a sink call in the same scope."""
    for node in _scope_statements(walk.function, walk.src):
        if not isinstance(node, ast.Call) or node.lineno <= assignment.lineno:
            continue
        if sql_sink_name(node, walk.src) and any(
            isinstance(v, ast.Name) and v.id in names for v in _statement_arguments(node)
        ):
            return True
    return False
