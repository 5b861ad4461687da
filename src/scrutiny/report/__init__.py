"""The review composer and one renderer per output format.

FORMATS maps a ``--format`` name to ``render(review) -> str``; a new format is one
module here plus one entry below.
"""

from __future__ import annotations

import importlib
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


def _sarif(review: Review) -> str:
    from scrutiny.report import sarif

    return sarif.render(review)


def _markdown(review: Review) -> str:
    from scrutiny.report import markdown_out

    return markdown_out.render(review)


def _github(review: Review) -> str:
    # By module path: in this package the name ``annotations`` is the __future__ feature.
    github = importlib.import_module("scrutiny.report.annotations")
    text: str = github.render(review)
    return text


def _gerrit(review: Review) -> str:
    from scrutiny.report import gerrit

    return gerrit.render(review)


def _html(review: Review) -> str:
    from scrutiny.report import html_out

    return html_out.render(review)


FORMATS: dict[str, Renderer] = {
    "text": _text,
    "json": _json,
    "html": _html,
    "sarif": _sarif,
    "markdown": _markdown,
    "github": _github,
    "gerrit": _gerrit,
}
