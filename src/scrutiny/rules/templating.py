"""Template rules (1xx) for engines other than Jinja2: Mako renders without escaping."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import CallRule, Walk, keyword, string_value


# Mako's escaping filters: h (HTML), x (XML: escapes < > & " and ', as h does, for XML
# output such as feeds) and the functions they stand for.
ESCAPING_FILTERS = frozenset({"h", "x", "html_escape", "xml_escape", "markupsafe.escape"})


def _escapes_html(filters: ast.expr | None) -> bool:
    if not isinstance(filters, ast.List | ast.Tuple):
        return filters is not None  # chosen at run time: assume the author set it up
    return any(string_value(f) in ESCAPING_FILTERS for f in filters.elts)


class MakoNoEscape(CallRule):
    """Mako templates rendered without HTML escaping

    What: mako.template.Template or mako.lookup.TemplateLookup created without
    default_filters that include the h (HTML escape) or x (XML escape) filter.
    Why: Mako escapes nothing by default, so a value rendered into an HTML page keeps
    its markup and a user's text can add script to the page (cross-site scripting).
    Example:
        page = Template(filename="page.html").render(name=name)
    Fix: TemplateLookup(directories=[...], default_filters=["h"]) (or pass the same to
    Template), and mark vetted HTML with the n filter where it must pass unescaped.
    """

    id = "SCR135"
    name = "mako-no-escape"
    category = Category.INJECTION
    cwe = 79
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    calls = ("mako.template.Template", "mako.lookup.TemplateLookup")
    bandit = ("B702",)
    ruff = ("S702",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        if any(kw.arg is None for kw in call.keywords):
            return
        if not _escapes_html(keyword(call, "default_filters")):
            yield self.finding(call, f"{name} without the h filter renders values unescaped", walk.src,
                               scope=walk.scope_name)  # fmt: skip
