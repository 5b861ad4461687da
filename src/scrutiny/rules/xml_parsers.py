"""XML parser rules (8xx): parsers that expand entities or fetch external ones.

defusedxml's functions have the same names under the defusedxml package, so they never
match the qualified names below.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import CallRule, Walk, argument, drop, is_false, is_true, keyword, note, string_value

STDLIB_MODULES = ("xml.etree.ElementTree", "xml.etree.cElementTree", "xml.dom.minidom", "xml.dom.pulldom")
STDLIB_PARSE = tuple(
    f"{module}.{function}"
    for module in STDLIB_MODULES
    for function in ("parse", "parseString", "fromstring", "fromstringlist", "XML", "iterparse")
) + (
    "xml.sax.parse", "xml.sax.parseString", "xml.sax.make_parser", "xml.sax.expatreader.create_parser",
    "xml.dom.expatbuilder.parse", "xml.dom.expatbuilder.parseString",
    "xml.etree.ElementTree.XMLParser", "xml.etree.cElementTree.XMLParser", "xml.etree.ElementTree.XMLPullParser",
)  # fmt: skip
LXML_PARSE = tuple(
    f"lxml.etree.{function}" for function in ("parse", "fromstring", "fromstringlist", "XML", "iterparse", "XMLID")
)
LXML_PARSER = ("lxml.etree.XMLParser", "lxml.etree.XMLPullParser")
EXTERNAL_FEATURES = frozenset(
    {
        "feature_external_ges", "feature_external_pes", "http://xml.org/sax/features/external-general-entities",
        "http://xml.org/sax/features/external-parameter-entities",
    }
)  # fmt: skip


class XmlEntityExpansion(CallRule):
    """XML parsed by a parser that expands or fetches entities

    What: xml.etree, xml.dom.minidom/pulldom/expatbuilder and xml.sax parse functions
    and parser constructors (XMLParser, make_parser, create_parser), and lxml
    parse/fromstring/XML without a parser of its own (low: safe only with Expat 2.4.1+
    or lxml 5+); lxml XMLParser created with resolve_entities=True, load_dtd=True or
    no_network=False, or without resolve_entities=False, and xml.sax parsers with the
    external entity features switched on (medium).
    Why: a document can define entities that expand to gigabytes (billion laughs,
    CWE-776) or that name local files and URLs, which the parser reads into the
    document (external entities, CWE-611): denial of service, file disclosure and
    server-side requests.
    Example:
        tree = lxml.etree.fromstring(upload.read())
        parser = lxml.etree.XMLParser(resolve_entities=True)
    Fix: parse untrusted XML with defusedxml (defusedxml.ElementTree.fromstring); for
    lxml pass etree.XMLParser(resolve_entities=False, no_network=True) and keep
    load_dtd off.
    """

    id = "SCR801"
    name = "xml-entity-expansion"
    category = Category.DESERIALIZATION
    cwe = 776
    severity = Severity.LOW
    confidence = Confidence.LOW
    calls = STDLIB_PARSE + LXML_PARSE + LXML_PARSER
    methods = ("setFeature",)
    bandit = ("B313", "B314", "B315", "B316", "B317", "B318", "B319", "B320")
    ruff = ("S313", "S314", "S315", "S316", "S317", "S318", "S319", "S320")
    context = {
        FileKind.TEST: drop("tests parse XML they wrote themselves"),
        FileKind.EXAMPLE: note("example code parses sample documents"),
        FileKind.DOCS: note("documentation code parses sample documents"),
    }

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        src, scope = walk.src, walk.scope_name
        if name in STDLIB_PARSE:
            yield self.finding(call, f"{name} expands internal entities unless Python uses Expat 2.4.1 or later",
                               src, scope=scope)  # fmt: skip
        elif name in LXML_PARSE:
            if argument(call, "parser", 1) is None:
                yield self.finding(call, f"{name} with the default parser resolves entities (external ones before "
                                   "lxml 5.0)", src, scope=scope, cwe=611)  # fmt: skip
        elif name in LXML_PARSER:
            yield from self._check_lxml_parser(call, name, walk)
        elif isinstance(call.func, ast.Attribute) and call.func.attr == "setFeature" and len(call.args) >= 2:
            feature = call.args[0]
            label = string_value(feature) or (src.qualname(feature) or "").rsplit(".", 1)[-1]
            if label in EXTERNAL_FEATURES and (is_true(call.args[1]) or _is_one(call.args[1])):
                yield self.finding(call, f"SAX parser told to load external entities ({label})", src, scope=scope,
                                   severity=Severity.MEDIUM, confidence=Confidence.HIGH, cwe=611)  # fmt: skip

    def _check_lxml_parser(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        resolve = keyword(call, "resolve_entities")
        risky = [
            option
            for option, bad in (
                ("resolve_entities", is_true(resolve)),
                ("load_dtd", is_true(keyword(call, "load_dtd"))),
                ("no_network", is_false(keyword(call, "no_network"))),
            )  # fmt: skip
            if bad
        ]
        if risky and not is_false(resolve):
            yield self.finding(call, f"{name}({', '.join(o + '=' for o in risky)}...) loads entities from the "
                               "document", walk.src, scope=walk.scope_name, severity=Severity.MEDIUM,
                               confidence=Confidence.HIGH, cwe=611)  # fmt: skip
        elif resolve is None:
            yield self.finding(call, f"{name} without resolve_entities=False resolves entities", walk.src,
                               scope=walk.scope_name, cwe=611)  # fmt: skip


def _is_one(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == 1 and not isinstance(node.value, bool)
