"""Statements: how one function's body changes a taint environment, statement by statement.

The statement half of the function analysis; flow.Function adds expressions and assignments,
guards.Branches how a test narrows taint.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scrutiny.taint.guards import Branches
from scrutiny.taint.values import LOOP_ROUNDS, Env, Step, Taint, copy_env, join_env, key_of, same, union


class Statements(Branches):
    """Control flow over environments; None stands for "control does not reach here"."""

    loops: list[tuple[list[Env | None], list[Env | None]]]  # (continue states, break states)
    closures: dict[ast.AST, Env]
    exits: list[tuple[ast.expr | None, Env]] | None

    if TYPE_CHECKING:  # flow.Function defines these

        held_tests: dict[str, ast.expr]

        def expr(self, node: ast.AST, env: Env) -> Taint: ...

        def assign(
            self, target: ast.AST, value: Taint, env: Env, origin: ast.AST | None, weak: bool = False
        ) -> None: ...

        def fact(self, taint: Taint, target: tuple[object, ...], step: Step | None = None) -> None: ...

    def block(self, body: list[ast.stmt], env: Env | None) -> Env | None:
        for statement in body:
            if env is None:
                return None
            env = self.statement(statement, env)
        return env

    def statement(self, node: ast.stmt, env: Env) -> Env | None:
        """The environment after ``node``; None when control does not go on after it."""
        handler = _STATEMENTS.get(type(node))  # exact type, as in expr()
        return handler(self, node, env) if handler is not None else env

    def _assign(self, node: ast.Assign, env: Env) -> Env | None:
        value = self.expr(node.value, env)
        for target in node.targets:
            self.assign(target, value, env, node.value)
            if isinstance(target, ast.Name):
                # ok = url_has_allowed_host_and_scheme(url) ... `url if ok else ""`: a branch on
                # ok is a branch on the check it holds (guards.refine reads it from here).
                if isinstance(node.value, ast.Call | ast.Compare | ast.BoolOp | ast.UnaryOp):
                    self.held_tests[target.id] = node.value
                else:
                    self.held_tests.pop(target.id, None)
        return env

    def _annassign(self, node: ast.AnnAssign, env: Env) -> Env | None:
        if node.value is not None:
            self.assign(node.target, self.expr(node.value, env), env, node.value)
        return env

    def _augassign(self, node: ast.AugAssign, env: Env) -> Env | None:
        value = union(self.expr(node.target, env), self.expr(node.value, env))
        self.assign(node.target, value, env, None, weak=True)
        return env

    def _expression(self, node: ast.Expr, env: Env) -> Env | None:
        self.expr(node.value, env)
        if isinstance(node.value, ast.Call) and self.m.qualname(node.value.func) in self.m.models.exits:
            return None
        return env

    def _return(self, node: ast.Return, env: Env) -> Env | None:
        if self.exits is not None:
            self.exits.append((node.value, copy_env(env)))
        if node.value is not None:
            self.fact(self.expr(node.value, env), ("ret",), (node.lineno, node.col_offset, "returned"))
        return None

    def _raise(self, node: ast.Raise, env: Env) -> Env | None:
        if node.exc is not None:
            self.expr(node.exc, env)
        return None

    def _if(self, node: ast.If, env: Env) -> Env | None:
        self.expr(node.test, env)
        yes, no = self.refine(node.test, env)
        return join_env(self.block(node.body, yes), self.block(node.orelse, no))

    def _while(self, node: ast.While, env: Env) -> Env | None:
        return self.loop(node, env, None)

    def _for(self, node: ast.For | ast.AsyncFor, env: Env) -> Env | None:
        return self.loop(node, env, self.expr(node.iter, env))

    def _with(self, node: ast.With | ast.AsyncWith, env: Env) -> Env | None:
        for item in node.items:
            value = self.expr(item.context_expr, env)
            if item.optional_vars is not None:
                self.assign(item.optional_vars, value, env, item.context_expr)
        return self.block(node.body, env)

    def _try(self, node: ast.Try | ast.TryStar, env: Env) -> Env | None:
        after = self.block(node.body, copy_env(env))
        handled: Env | None = None
        for handler in node.handlers:
            start = join_env(copy_env(env), after)
            assert start is not None
            handled = join_env(handled, self.block(handler.body, copy_env(start)))
        out = join_env(self.block(node.orelse, after) if after is not None else None, handled)
        if node.finalbody:
            final = self.block(node.finalbody, copy_env(out if out is not None else env))
            return final if out is not None else None
        return out

    def _match(self, node: ast.Match, env: Env) -> Env | None:
        self.expr(node.subject, env)
        out_env: Env | None = None
        for case in node.cases:
            out_env = join_env(out_env, self.block(case.body, copy_env(env)))
        return join_env(out_env, env)

    def _continue(self, node: ast.Continue, env: Env) -> Env | None:
        if self.loops:
            self.loops[-1][0].append(copy_env(env))
        return None

    def _break(self, node: ast.Break, env: Env) -> Env | None:
        if self.loops:
            self.loops[-1][1].append(copy_env(env))
        return None

    def _assert(self, node: ast.Assert, env: Env) -> Env | None:
        self.expr(node.test, env)
        return self.refine(node.test, env)[0]

    def _delete(self, node: ast.Delete, env: Env) -> Env | None:
        for target in node.targets:
            name = key_of(target)
            if name is not None:
                env.pop(name, None)
        return env

    def _define(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, env: Env) -> Env | None:
        """A nested function sees the sources its enclosing function read so far (not its parameters,
        whose meaning belongs to the enclosing function's callers)."""
        seen = {}
        for name, taint in env.items():
            kept = {key: steps for key, steps in taint.items() if key[0][0] == "s"}
            if kept:
                seen[name] = kept
        if seen:
            targets = node.body if isinstance(node, ast.ClassDef) else [node]
            for target in targets:
                if isinstance(target, ast.FunctionDef | ast.AsyncFunctionDef):
                    self.closures[target] = seen
        env.pop(node.name, None)  # the name now holds the function or class
        return env

    def loop(self, node: ast.While | ast.For | ast.AsyncFor, env: Env, items: Taint | None) -> Env | None:
        head: Env | None = copy_env(env)
        breaks: list[Env | None] = []
        for _ in range(LOOP_ROUNDS):
            assert head is not None
            body_env = copy_env(head)
            if items is not None and isinstance(node, ast.For | ast.AsyncFor):
                self.assign(node.target, items, body_env, node.iter)
            elif isinstance(node, ast.While):
                self.expr(node.test, body_env)
                body_env = self.refine(node.test, body_env)[0]
            self.loops.append(([], []))
            end = self.block(node.body, body_env)
            continues, breaks = self.loops.pop()
            for extra in continues:
                end = join_env(end, extra)
            new_head = join_env(head, end)
            if same(new_head, head):
                break
            head = new_head
        exit_env = head
        if isinstance(node, ast.While) and head is not None:
            exit_env = self.refine(node.test, head)[1]
            if isinstance(node.test, ast.Constant) and node.test.value:
                exit_env = None  # while True: left only by break
        if node.orelse and exit_env is not None:
            exit_env = self.block(node.orelse, copy_env(exit_env))
        for extra in breaks:
            exit_env = join_env(exit_env, extra)
        return exit_env


_STATEMENTS: dict[type[ast.AST], Callable[[Statements, Any, Env], Env | None]] = {
    ast.Assign: Statements._assign,
    ast.AnnAssign: Statements._annassign,
    ast.AugAssign: Statements._augassign,
    ast.Expr: Statements._expression,
    ast.Return: Statements._return,
    ast.Raise: Statements._raise,
    ast.If: Statements._if,
    ast.While: Statements._while,
    ast.For: Statements._for,
    ast.AsyncFor: Statements._for,
    ast.With: Statements._with,
    ast.AsyncWith: Statements._with,
    ast.Try: Statements._try,
    ast.TryStar: Statements._try,
    ast.Match: Statements._match,
    ast.Continue: Statements._continue,
    ast.Break: Statements._break,
    ast.Assert: Statements._assert,
    ast.Delete: Statements._delete,
    ast.FunctionDef: Statements._define,
    ast.AsyncFunctionDef: Statements._define,
    ast.ClassDef: Statements._define,
}
