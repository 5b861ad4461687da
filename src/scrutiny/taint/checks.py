"""What a function of the reviewed tree checks about its arguments, read from its body.

A predicate such as ``def safe_name(s): return NAME.fullmatch(s) is not None`` or a validator
that raises unless its argument is in an allow-list clears taint in its callers, but only
because of what its body does: the test it returns or the raise it guards. Its name proves
nothing (``has_scheme(u)`` may be ``return "://" in u``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from scrutiny.taint.models import ALL
from scrutiny.taint.values import Env

EVERYTHING = frozenset({ALL})
NOTHING: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Check:
    """Per parameter, the taint kinds a call clears: where it returns a true value, and
    wherever it returns at all (a validator raises otherwise)."""

    params: tuple[str, ...]
    when_true: tuple[frozenset[str], ...]
    on_return: tuple[frozenset[str], ...]

    def index(self, call: ast.Call) -> list[tuple[ast.expr, int]]:
        """(argument, parameter index) for each argument of ``call`` this function names."""
        out = [(arg, i) for i, arg in enumerate(call.args[: len(self.params)]) if not isinstance(arg, ast.Starred)]
        for keyword in call.keywords:
            if keyword.arg in self.params:
                out.append((keyword.value, self.params.index(keyword.arg)))
        return out


def cleared(env: Env | None, name: str, index: int) -> frozenset[str]:
    """The kinds parameter ``index`` (bound to ``name``) is cleared of in ``env``."""
    if env is None:
        return EVERYTHING
    taint = env.get(name)
    sets = [kinds for (origin, kinds) in (taint or {}) if origin == ("p", index)]
    if not sets:
        return EVERYTHING  # the checked value no longer reaches here unconverted
    out = sets[0]
    for kinds in sets[1:]:
        out &= kinds
    return out


def is_false(value: ast.expr | None) -> bool:
    """Whether a returned expression is a constant false value (None when there is none)."""
    return value is None or (isinstance(value, ast.Constant) and not value.value)


def meet(sets: list[frozenset[str]]) -> frozenset[str]:
    """What every path clears; nothing when no path returns."""
    if not sets:
        return NOTHING
    out = sets[0]
    for kinds in sets[1:]:
        if ALL in out:
            out = kinds
        elif ALL not in kinds:
            out &= kinds
    return out
