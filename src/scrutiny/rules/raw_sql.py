"""Informational note on Django's raw-SQL escape hatches used with fixed SQL (SCR107).

SCR105 reports SQL built from run-time values wherever it is passed; this note covers the
calls it leaves alone, so the review still says where a query leaves the ORM.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import DEFAULT_CONTEXT, Rule, Walk, drop, exactly, tails
from scrutiny.rules.sql import SqlBuiltString, sql_sink_name

RAW_SQL_CALLS = frozenset({"django.db.models.expressions.RawSQL", "django.db.models.RawSQL"})
_BUILT_SQL = SqlBuiltString()


class RawSqlApi(Rule):
    """Django raw-SQL API used with fixed SQL (informational)

    What: QuerySet.extra() (in a module that imports Django) and RawSQL() whose SQL is
    fixed in the code, so SCR105 has nothing to report. The note is informational and
    does not change the verdict.
    Why: these calls put SQL text into the query as it is, outside the ORM's quoting;
    the SQL is safe while it stays fixed, and the next edit that pastes a value into it
    is an injection. Django plans to deprecate extra().
    Example:
        User.objects.extra(where=["is_staff"])
    Fix: express the query with the ORM (annotate, filter, F and Q expressions); where raw
    SQL stays, keep values in params=[...] and never format them into the text.
    """

    id = "SCR107"
    traced_by = "SCR503"
    name = "raw-sql-api"
    category = Category.INJECTION
    cwe = 89
    severity = Severity.INFO
    confidence = Confidence.HIGH
    node_types = (ast.Call,)
    call_filter = exactly("extra", tails(RAW_SQL_CALLS))
    bandit = ("B610", "B611")
    ruff = ("S610", "S611")
    context = {**DEFAULT_CONTEXT, FileKind.TEST: drop("fixed SQL in test code")}

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Call)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "extra":
            if not any(module.split(".", 1)[0] == "django" for module in walk.src.imported_modules):
                return
            shown = "QuerySet.extra()"
        elif isinstance(func, ast.Name | ast.Attribute) and walk.src.qualname(func) in RAW_SQL_CALLS:
            shown = "RawSQL()"
        else:
            return
        name = sql_sink_name(node, walk.src)
        if name and _BUILT_SQL.reports_sink(node, name, walk):
            return  # SCR105 reports the pasted values
        yield self.finding(
            node,
            f"{shown} puts this SQL into the query as written; it is fixed here, keep values in params",
            walk.src,
            scope=walk.scope_name,
        )
