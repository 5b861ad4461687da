"""Informational notes on imports of modules whose every use needs care (SCR339).

The import itself is not a defect: the calls are checked by the rules named in the table.
The note records, where the module enters the file, which checks cover it, so a reader
of the review (and a user coming from Bandit or Ruff, which flag these imports) sees that
the module was noticed. Notes do not change the verdict.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from typing import NamedTuple

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import DEFAULT_CONTEXT, Rule, Walk, argument, drop, exactly, string_value
from scrutiny.rules.blocklist import FTP_SAFE_NAMES


class RiskyModule(NamedTuple):
    risk: str  # what goes wrong when the module meets untrusted data
    checked_by: str  # the rules that check its calls
    category: Category
    cwe: int


_DESERIALIZE = RiskyModule("loading data runs code chosen by whoever wrote the data", "SCR201",
                           Category.DESERIALIZATION, 502)  # fmt: skip
_PROCESS = RiskyModule("a command built from input runs what the input says", "SCR101, SCR130, SCR131",
                       Category.INJECTION, 78)  # fmt: skip
_XML = RiskyModule("parsing untrusted XML can expand entities without bound", "SCR801", Category.INJECTION, 776)

# Modules by the dotted name an import reads; a submodule matches its parent's entry.
RISKY_MODULES: dict[str, RiskyModule] = {
    "pickle": _DESERIALIZE,
    "cPickle": _DESERIALIZE,
    "_pickle": _DESERIALIZE,
    "dill": _DESERIALIZE,
    "shelve": _DESERIALIZE,
    "jsonpickle": _DESERIALIZE,
    "subprocess": _PROCESS,
    "xml.etree": _XML,
    "xml.sax": _XML,
    "xml.dom.expatbuilder": _XML,
    "xml.dom.minidom": _XML,
    "xml.dom.pulldom": _XML,
    "lxml": _XML,
    "xmlrpc": RiskyModule(
        "responses from the server are XML parsed with expat (entity expansion is bounded from expat 2.4.1)",
        "SCR801",
        Category.INJECTION,
        776,
    ),
    # Only the encrypted client is left here: SCR334 reports every other ftplib import.
    "ftplib": RiskyModule(
        "only FTP_TLS encrypts; plain FTP sends the password in clear", "SCR334", Category.TLS_NETWORK, 319
    ),  # fmt: skip
}


def risky_module(module: str) -> tuple[str, RiskyModule] | None:
    """The table entry for ``module`` or the nearest package above it that has one."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        key = ".".join(parts[:end])
        if key in RISKY_MODULES:
            return key, RISKY_MODULES[key]
    return None


class RiskyModuleImported(Rule):
    """Module whose every use needs care imported (informational)

    What: an import of pickle, dill, shelve, jsonpickle, subprocess, the standard
    library's XML parsers (xml.etree, xml.sax, xml.dom.minidom/pulldom/expatbuilder),
    lxml, xmlrpc, or ftplib's TLS client. The note names the rules that check the
    module's calls. It is informational and does not change the verdict.
    Why: these modules are where deserialization, command and XML entity attacks enter;
    knowing a file uses them tells a reviewer where to look, and the calls themselves are
    checked one by one by the rules named in the note.
    Example:
        import pickle
    Fix: nothing to fix at the import; act on the findings of the named rules. Prefer
    json for data, argument lists without a shell for commands, and defusedxml for XML
    from outside.
    """

    id = "SCR339"
    name = "risky-module-imported"
    category = Category.DESERIALIZATION
    also_categories = (Category.INJECTION, Category.TLS_NETWORK)
    cwe = 502
    severity = Severity.INFO
    confidence = Confidence.HIGH
    node_types = (ast.Import, ast.ImportFrom, ast.Call)
    call_filter = exactly("import_module", "__import__")
    bandit = ("B402", "B403", "B404", "B405", "B406", "B407", "B408", "B409", "B410", "B411")
    ruff = ("S402", "S403", "S404", "S405", "S406", "S407", "S408", "S409", "S410", "S411")
    context = {
        **DEFAULT_CONTEXT,
        FileKind.TEST: drop("tests import these modules to exercise the code under test"),
    }

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        if isinstance(node, ast.Call):
            imports = _dynamic_import(node, walk)
        else:
            assert isinstance(node, ast.Import | ast.ImportFrom)
            imports = _imports(node)
        for module, names in imports:
            found = risky_module(module)
            if found is None:
                continue
            key, entry = found
            if key == "ftplib" and not (names and all(name in FTP_SAFE_NAMES for name in names)):
                continue  # SCR334 reports it as a cleartext protocol
            message = f"{module} imported: {entry.risk}; its calls are checked by {entry.checked_by}"
            finding = self.finding(node, message, walk.src, scope=walk.scope_name, cwe=entry.cwe)
            yield dataclasses.replace(finding, category=entry.category)
            return


DYNAMIC_IMPORTS = frozenset({"__import__", "importlib.import_module", "importlib.__import__"})


def _dynamic_import(call: ast.Call, walk: Walk) -> list[tuple[str, list[str]]]:
    """The module a call such as importlib.import_module("pickle") loads, when its name is a literal."""
    func = call.func
    tail = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    if tail not in ("import_module", "__import__"):
        return []
    if walk.src.qualname(func) not in DYNAMIC_IMPORTS:
        return []
    module = string_value(argument(call, "name", 0))
    if not module or module.startswith("."):
        return []
    return [(module, [])]


def _imports(node: ast.Import | ast.ImportFrom) -> list[tuple[str, list[str]]]:
    """(module, imported names) for each module the statement reads; ``from xml import sax`` reads xml.sax."""
    if isinstance(node, ast.Import):
        return [(alias.name, []) for alias in node.names]
    if node.level or not node.module:
        return []
    names = [alias.name for alias in node.names]
    submodules: list[tuple[str, list[str]]] = [
        (f"{node.module}.{name}", []) for name in names if risky_module(f"{node.module}.{name}")
    ]
    return [(node.module, names), *submodules]
