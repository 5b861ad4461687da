"""The review composer and one renderer per output format.

FORMATS maps a ``--format`` name to ``render(review) -> str``; a new format is one
module here plus one entry below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrutiny.report.compose import Review

Renderer = Callable[["Review"], str]


def _json(review: Review) -> str:
    from scrutiny.report import json_out

    return json_out.render(review)


def _text(review: Review) -> str:
    from scrutiny.report import prose

    return prose.render(review)


FORMATS: dict[str, Renderer] = {
    "text": _text,
    "json": _json,
}
