"""Faster pickling for the frozen, slotted dataclasses the result caches hold.

A slotted dataclass pickles through ``dataclasses``' own state functions, which call
``fields()`` for every object; a warm review loads tens of thousands of them, and that
lookup was most of its unpickling time. ``quick_state`` precomputes the field names once.
The state stays a sequence of field values in declaration order, as before, so entries
written by either form load with the other.
"""

from __future__ import annotations

import dataclasses
from operator import attrgetter
from typing import Any, TypeVar

T = TypeVar("T")


def quick_state(cls: type[T]) -> type[T]:
    names = tuple(field.name for field in dataclasses.fields(cls))  # type: ignore[arg-type]
    values = attrgetter(*names)
    setter = object.__setattr__

    def getstate(self: Any) -> tuple[Any, ...]:
        state = values(self)
        return state if len(names) > 1 else (state,)

    def setstate(self: Any, state: tuple[Any, ...] | list[Any]) -> None:
        for name, value in zip(names, state, strict=True):
            setter(self, name, value)

    cls.__getstate__ = getstate  # type: ignore[method-assign]
    cls.__setstate__ = setstate  # type: ignore[attr-defined]
    return cls
