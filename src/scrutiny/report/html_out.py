"""The review as one self-contained HTML page: render(review) -> str.

The page loads nothing: its one style block and one script block are inline, and its
Content-Security-Policy allows exactly those two blocks (by their sha256, computed here)
and nothing else, so even markup that slipped through could not run or fetch anything.
Every text that comes from the review (code, messages, paths, statements) is
HTML-escaped, with bidi controls and invisible characters shown as ``<U+XXXX>`` badges;
nothing from the review is ever written inside the script, which reads the findings from
the table itself. The output is deterministic: no timestamps, no random nonces.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections import Counter
from typing import Any

from scrutiny.findings import Citation, Finding, Severity
from scrutiny.report import corroboration
from scrutiny.report.compose import Aspect, Review
from scrutiny.rules import registered
from scrutiny.rules.unicode_controls import segments

STATUS = {"clean": "checked, clean", "notes": "checked, notes only", "defects": "checked, defects found"}
STATEMENTS_OPEN = 12  # statements shown per aspect before the rest fold away

STYLE = """
:root { --fg: #1d2329; --muted: #5b6570; --line: #d9dee3; --bg: #ffffff; --panel: #f5f7f9;
  --high: #b42318; --medium: #b54708; --low: #8a6d00; --info: #475467; --ok: #067647; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 24px 32px 64px; color: var(--fg); background: var(--bg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 0 0 6px; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 13px; }
a { color: #1849a9; }
.sub { color: var(--muted); margin: 0; overflow-wrap: anywhere; }
nav { margin: 12px 0 0; font-size: 14px; }
nav a { margin-right: 14px; }
.verdict { margin: 18px 0 0; padding: 14px 18px; border-radius: 8px; border: 1px solid var(--line);
  border-left: 6px solid var(--high); background: var(--panel); }
.verdict.clean { border-left-color: var(--ok); }
.verdict p { margin: 0; }
.verdict .text { font-size: 17px; font-weight: 600; }
.verdict .why { color: var(--muted); margin-top: 4px; }
.chips { margin-top: 8px; }
.chip { display: inline-block; margin-right: 6px; padding: 1px 9px; border-radius: 999px; font-size: 13px;
  font-weight: 600; color: #fff; background: var(--info); }
.sev-high { background: var(--high); } .sev-medium { background: var(--medium); }
.sev-low { background: var(--low); } .sev-info { background: var(--info); }
.overview p { margin: 0 0 8px; overflow-wrap: anywhere; }
ol.aspects { padding-left: 0; list-style: none; margin: 0; }
ol.aspects > li { margin: 0 0 12px; }
.aspect-head { font-weight: 600; }
.status { display: inline-block; margin-left: 8px; padding: 0 8px; border-radius: 4px; font-size: 12px;
  font-weight: 600; border: 1px solid currentColor; }
.status-clean { color: var(--ok); } .status-notes { color: var(--info); } .status-defects { color: var(--high); }
ul.statements { margin: 4px 0 0; padding-left: 22px; }
ul.statements li { margin: 2px 0; overflow-wrap: anywhere; }
.cites { color: var(--muted); font-size: 13px; }
details.more > summary { cursor: pointer; color: var(--muted); font-size: 14px; }
.controls { display: flex; flex-wrap: wrap; gap: 8px 20px; align-items: center; margin: 0 0 10px;
  padding: 10px 12px; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; }
.controls label { font-size: 14px; white-space: nowrap; }
.controls select { font: inherit; font-size: 14px; }
#shown-count { margin-left: auto; color: var(--muted); font-size: 14px; }
table.findings { width: 100%; border-collapse: collapse; font-size: 14px; }
table.findings th, table.findings td { text-align: left; vertical-align: top; padding: 6px 8px;
  border-bottom: 1px solid var(--line); }
table.findings td.message { overflow-wrap: break-word; }
table.findings th { background: var(--panel); position: sticky; top: 0; }
table.findings th button { font: inherit; font-weight: 600; border: 0; background: none; padding: 0;
  cursor: pointer; color: var(--fg); }
table.findings th[aria-sort=ascending] button::after { content: " \\25B2"; font-size: 10px; }
table.findings th[aria-sort=descending] button::after { content: " \\25BC"; font-size: 10px; }
table.findings td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.findings th, table.findings td.nowrap { white-space: nowrap; }
table.findings td.path { overflow-wrap: break-word; }
.empty { color: var(--muted); }
article.finding { margin: 0 0 18px; padding: 14px 16px; border: 1px solid var(--line); border-radius: 8px; }
article.finding:target { outline: 3px solid #84adff; }
dl.facts { display: flex; flex-wrap: wrap; gap: 2px 22px; margin: 8px 0; font-size: 14px; }
dl.facts div { display: flex; gap: 6px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.message { margin: 6px 0; }
table.code { border-collapse: collapse; width: 100%; margin: 8px 0; background: var(--panel);
  border: 1px solid var(--line); border-radius: 6px; }
table.code td { padding: 1px 10px; white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: isolate; }
table.code td.ln { width: 1%; white-space: nowrap; text-align: right; color: var(--muted);
  border-right: 1px solid var(--line); user-select: none; }
table.code tr.hit td { background: #fff1c2; }
table.code tr.hit td.ln { color: var(--fg); font-weight: 700; }
table.code tr.stmt td { background: #fff8e0; }
table.code tr.ctx td.mono { color: var(--muted); }
code.span { padding: 0 3px; border-radius: 3px; background: var(--panel); border: 1px solid var(--line);
  overflow-wrap: anywhere; }
.uc { display: inline-block; padding: 0 3px; margin: 0 1px; border-radius: 3px; font-size: 11px;
  line-height: 1.3; color: #fff; background: var(--high); font-family: ui-monospace, Menlo, monospace; }
ol.trace { margin: 6px 0; padding-left: 24px; font-size: 14px; }
ol.trace li { margin: 2px 0; overflow-wrap: anywhere; }
.fix, .note { margin: 6px 0; font-size: 14px; }
.label { font-weight: 600; }
ul.errors li { overflow-wrap: anywhere; }
footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
"""

# Sorting and filtering. It reads rows and data-* attributes from the table and never
# evaluates or inserts markup; a view can be preset with #view?severity=high,medium
# &category=injection&sort=line&order=desc (used by the browser test, handy to share).
SCRIPT = """
(function () {
  "use strict";
  var table = document.getElementById("findings-table");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[data-filter=severity]"));
  var category = document.getElementById("filter-category");
  var count = document.getElementById("shown-count");
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);

  function key(row, column) {
    var cell = row.cells[column];
    var value = cell.hasAttribute("data-key") ? cell.getAttribute("data-key") : cell.textContent;
    return heads[column].getAttribute("data-type") === "number" ? Number(value) : value.toLowerCase();
  }

  function apply() {
    var wanted = {};
    boxes.forEach(function (box) { wanted[box.value] = box.checked; });
    var shown = 0;
    rows.forEach(function (row) {
      var ok = wanted[row.getAttribute("data-severity")] === true &&
        (category.value === "" || row.getAttribute("data-category") === category.value);
      row.hidden = !ok;
      var detail = document.getElementById(row.getAttribute("data-detail"));
      if (detail) { detail.hidden = !ok; }
      if (ok) { shown += 1; }
    });
    count.textContent = "Showing " + shown + " of " + rows.length + " findings";
  }

  function sort(column, order) {
    heads.forEach(function (head) { head.removeAttribute("aria-sort"); });
    heads[column].setAttribute("aria-sort", order === "desc" ? "descending" : "ascending");
    var sign = order === "desc" ? -1 : 1;
    rows.sort(function (a, b) {
      var x = key(a, column), y = key(b, column);
      if (x < y) { return -sign; }
      if (x > y) { return sign; }
      return key(a, 0) - key(b, 0);
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  heads.forEach(function (head, column) {
    var button = head.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
      sort(column, head.getAttribute("aria-sort") === "ascending" ? "desc" : "asc");
    });
  });
  boxes.forEach(function (box) { box.addEventListener("change", apply); });
  category.addEventListener("change", apply);

  var hash = window.location.hash;
  if (hash.indexOf("#view?") === 0) {
    var params = new URLSearchParams(hash.slice(6));
    if (params.has("severity")) {
      var levels = params.get("severity").split(",");
      boxes.forEach(function (box) { box.checked = levels.indexOf(box.value) !== -1; });
    }
    if (params.has("category")) { category.value = params.get("category"); }
    var column = heads.findIndex(function (head) { return head.getAttribute("data-name") === params.get("sort"); });
    if (column !== -1) { sort(column, params.get("order") === "desc" ? "desc" : "asc"); }
  }
  apply();
  document.documentElement.setAttribute("data-ready", "true");
})();
"""

COLUMNS = (
    # (name, heading, type)
    ("number", "#", "number"),
    ("severity", "Severity", "number"),
    ("rule", "Rule", "text"),
    ("category", "Category", "text"),
    ("cwe", "CWE", "number"),
    ("file", "File", "text"),
    ("line", "Line", "number"),
    ("message", "Message", "text"),
)


def _sha256(block: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode("ascii") + "'"


CSP = (
    f"default-src 'none'; style-src {_sha256(STYLE)}; script-src {_sha256(SCRIPT)}; "
    "img-src 'none'; base-uri 'none'; form-action 'none'"
)


def text(value: object) -> str:
    """Escaped text for an element or an attribute, with invisible characters as badges."""
    out: list[str] = []
    for piece, label in segments(str(value)):
        if label is None:
            out.append(html.escape(piece, quote=True))
        else:
            out.append(f'<span class="uc" title="{html.escape(label, quote=True)}">&lt;U+{ord(piece):04X}&gt;</span>')
    return "".join(out)


CODE_SPAN = re.compile(r"`([^`\n]+)`")


def with_code(value: object) -> str:
    """Escaped text of a message, fix or statement, with its `code` spans as <code> elements
    (their content escaped like any text); a lone backtick stays a backtick."""
    out: list[str] = []
    position = 0
    value = str(value)
    for match in CODE_SPAN.finditer(value):
        out.append(text(value[position : match.start()]))
        out.append(f'<code class="span">{text(match.group(1))}</code>')
        position = match.end()
    out.append(text(value[position:]))
    return "".join(out)


def attr(value: object) -> str:
    """Escaped attribute value; invisible characters become <U+XXXX> text."""
    return "".join(
        html.escape(piece if label is None else f"<U+{ord(piece):04X}>", quote=True)
        for piece, label in segments(str(value))
    )


def _title(finding: Finding) -> str:
    rule = registered().get(finding.rule_id)
    return rule.title() if rule else finding.rule_name


def _severity_text(finding: Finding) -> str:
    severity = finding.severity.label
    if finding.default_severity is not None:
        severity += f" (rule default {finding.default_severity.label})"
    return severity


def _location(finding: Finding) -> str:
    loc = finding.location
    span = f"-{loc.end_line}" if loc.end_line > loc.line else ""
    return f"{loc.path}:{loc.line}:{loc.col + 1}{span}"


# Sections ----------------------------------------------------------------------------------


def _header(review: Review) -> list[str]:
    targets = ", ".join(i.target for i in review.inputs) or "(no input)"
    out = [
        "<header>",
        f"<h1>Security review of {text(targets)}</h1>",
        f'<p class="sub">by scrutiny {text(review.version)}; {len(review.reviewed)} file(s) reviewed, '
        f"{sum(f.lines for f in review.reviewed)} lines</p>",
    ]
    for info in review.inputs:
        if info.kind == "pypi":
            out.append(
                f'<p class="sub">Source: {text(info.archive)} (sha256 <span class="mono">{text(info.sha256)}'
                "</span>) from the package index.</p>"
            )
    clean = not review.defects and not review.errors and bool(review.reviewed)
    out.append(f'<section id="verdict" class="verdict{" clean" if clean else ""}" aria-label="Verdict">')
    out.append(f'<p class="text" id="verdict-text">{text(review.verdict)}</p>')
    if review.reasons:
        out.append(f'<p class="why">Why: {text(" ".join(review.reasons))}</p>')
    chips = [
        f'<span class="chip sev-{level}">{count} {level}</span>' for level, count in review.counts.items() if count
    ]
    if chips:
        out.append(f'<p class="chips">{"".join(chips)}</p>')
    out.append("</section>")
    out.append(
        "<nav>"
        + ('<a href="#change">Change</a>' if review.change is not None else "")
        + '<a href="#overview">What the code is</a><a href="#findings">Findings</a>'
        '<a href="#details">Details</a><a href="#aspects">Aspects</a>'
        + ('<a href="#errors">Files not reviewed</a>' if review.errors else "")
        + "</nav>"
    )
    out.append("</header>")
    return out


def _change(review: Review) -> list[str]:
    """What the change introduces and fixes, when the review is of a change (--diff, --patch)."""
    change = review.change
    if change is None:
        return []
    counts = change.counts
    out = [
        '<section id="change">',
        f"<h2>{text(change.title())}</h2>",
        f'<p id="change-counts">Introduced {counts["introduced"]}, fixed {counts["fixed"]}, '
        f"unchanged {counts['unchanged']}.</p>",
        '<ul class="changed-files">',
        *(f'<li class="mono">{text(f.describe())}</li>' for f in change.files),
        "</ul>",
    ]
    listed = change.introduced_and_fixed()
    if listed:
        out.append('<ul class="change-findings">')
        for state, finding in listed:
            out.append(
                f'<li data-change="{state}"><strong>{state}</strong> <span class="mono">'
                f"{text(finding.rule_id)} {text(_location(finding))}</span>: {with_code(finding.message)}</li>"
            )
        out.append("</ul>")
    out.append("</section>")
    return out


def _overview(review: Review) -> list[str]:
    out = ['<section id="overview" class="overview">', "<h2>What the code is</h2>"]
    out.extend(f"<p>{with_code(line)}</p>" for line in review.overview or ["No file could be read."])
    out.append("</section>")
    return out


def _citation(citation: Citation, anchors: dict[tuple[str, int, str], str]) -> str:
    span = f"{citation.start}" if citation.end <= citation.start else f"{citation.start}-{citation.end}"
    label = f"{citation.path}:{span} {citation.role}" + (f" {citation.detail}" if citation.detail else "")
    anchor = anchors.get((citation.path, citation.start, citation.detail))
    if anchor:
        return f'<a href="#{attr(anchor)}">{text(label)}</a>'
    return text(label)


def _aspect(aspect: Aspect, anchors: dict[tuple[str, int, str], str], multi: bool) -> list[str]:
    out = [
        f'<li id="aspect-{aspect.number}" data-status="{attr(aspect.status)}">',
        f'<div class="aspect-head">{aspect.number}. {text(aspect.title)}'
        f'<span class="status status-{attr(aspect.status)}">{text(STATUS.get(aspect.status, aspect.status))}</span>'
        "</div>",
    ]

    def item(statement: Any) -> str:
        prefix = f"{statement.path}: " if statement.path and multi else ""
        cites = ""
        if statement.citations:
            cites = ' <span class="cites">(' + "; ".join(_citation(c, anchors) for c in statement.citations[:8])
            cites += f"; {len(statement.citations) - 8} more" if len(statement.citations) > 8 else ""
            cites += ")</span>"
        return f"<li>{text(prefix)}{with_code(statement.text)}{cites}</li>"

    shown, folded = aspect.statements[:STATEMENTS_OPEN], aspect.statements[STATEMENTS_OPEN:]
    out.append('<ul class="statements">')
    out.extend(item(s) for s in shown)
    out.append("</ul>")
    if folded or aspect.omitted:
        out.append(f'<details class="more"><summary>{len(folded) + aspect.omitted} more statement(s)</summary>')
        out.append('<ul class="statements">')
        out.extend(item(s) for s in folded)
        if aspect.omitted:
            out.append(f"<li>... and {aspect.omitted} more (see --format json)</li>")
        out.append("</ul></details>")
    out.append("</li>")
    return out


def _controls(review: Review) -> list[str]:
    present = Counter(f.severity.label for f in review.findings)
    out = ['<div class="controls" role="group" aria-label="Filter findings">']
    for level in sorted(Severity, reverse=True):
        out.append(
            f'<label><input type="checkbox" data-filter="severity" value="{level.label}" checked> '
            f"{level.label} ({present.get(level.label, 0)})</label>"
        )
    categories = sorted({f.category for f in review.findings}, key=lambda c: c.value)
    out.append('<label>Category <select id="filter-category"><option value="">all categories</option>')
    out.extend(f'<option value="{attr(c.value)}">{text(c.title)}</option>' for c in categories)
    out.append("</select></label>")
    out.append(f'<span id="shown-count">Showing {len(review.findings)} of {len(review.findings)} findings</span>')
    out.append("</div>")
    return out


def _table(review: Review) -> list[str]:
    out = ['<section id="findings">', f"<h2>Findings ({len(review.findings)})</h2>"]
    if not review.findings:
        out.append('<p class="empty">No finding.</p>')
    out.extend(_controls(review))
    out.append('<table class="findings" id="findings-table"><thead><tr>')
    for name, heading, kind in COLUMNS:
        sort = ' aria-sort="ascending"' if name == "number" else ""
        out.append(f'<th data-name="{name}" data-type="{kind}"{sort}><button type="button">{heading}</button></th>')
    out.append("</tr></thead><tbody>")
    for number, finding in enumerate(review.findings, start=1):
        loc = finding.location
        out.append(
            f'<tr data-severity="{finding.severity.label}" data-category="{attr(finding.category.value)}" '
            f'data-rule="{attr(finding.rule_id)}" data-detail="finding-{number}">'
            f'<td class="num" data-key="{number}"><a href="#finding-{number}">{number}</a></td>'
            f'<td data-key="{int(finding.severity)}"><span class="chip sev-{finding.severity.label}">'
            f"{finding.severity.label}</span></td>"
            f'<td class="mono nowrap">{text(finding.rule_id)}</td>'
            f'<td class="nowrap">{text(finding.category.value)}</td>'
            f'<td class="num" data-key="{finding.cwe}">CWE-{finding.cwe}</td>'
            f'<td class="mono path">{text(loc.path)}</td>'
            f'<td class="num line" data-key="{loc.line}">{loc.line}</td>'
            f'<td class="message">{with_code(finding.message)}</td>'
            "</tr>"
        )
    out.append("</tbody></table></section>")
    return out


HIT = ' class="hit"'
STATEMENT = ' class="stmt"'
CONTEXT = ' class="ctx"'


def _excerpt(finding: Finding) -> list[str]:
    """The finding's statement (the reported lines highlighted) with two lines of context
    before and after; without an excerpt (a finding read back from a baseline), its evidence."""
    loc = finding.location
    if finding.excerpt is not None:
        numbered = finding.excerpt.numbered()
        start, stop = finding.excerpt.statement
    else:
        numbered = [(loc.line + offset, code) for offset, code in enumerate(finding.evidence.split("\n"))]
        start, stop = loc.line, loc.last_line
    if not finding.evidence and finding.excerpt is None:
        return []
    out = [f'<table class="code" aria-label="Code at {attr(_location(finding))}"><tbody>']
    for number, code in numbered:
        if loc.line <= number <= loc.last_line:
            row = HIT
        elif start <= number <= stop:
            row = STATEMENT
        else:
            row = CONTEXT
        out.append(f'<tr{row} data-line="{number}"><td class="ln">{number}</td><td class="mono">{text(code)}</td></tr>')
    out.append("</tbody></table>")
    return out


def _trace(finding: Finding) -> list[str]:
    steps = tuple(getattr(finding, "trace", ()) or ())
    if not steps:
        return []
    out = ['<div class="trace"><span class="label">Taint path</span><ol class="trace">']
    for step in steps:
        path = getattr(step, "path", finding.location.path)
        line = getattr(step, "line", 0)
        message = getattr(step, "message", "") or getattr(step, "note", "") or ""
        where = f"{path}:{line}" if line else str(path)
        out.append(f'<li><span class="mono">{text(where)}</span> {with_code(message)}</li>')
    out.append("</ol></div>")
    return out


def _details(review: Review) -> list[str]:
    out = ['<section id="details">', "<h2>Details</h2>"]
    for number, finding in enumerate(review.findings, start=1):
        facts = [
            ("Location", f'<span class="mono">{text(_location(finding))}</span>'),
            ("Severity", text(_severity_text(finding))),
            ("Confidence", text(finding.confidence.label)),
            ("CWE", f"CWE-{finding.cwe}"),
            ("Category", text(finding.category.value)),
        ]
        if finding.scope:
            facts.append(("Scope", f'<span class="mono">{text(finding.scope)}</span>'))
        facts.append(("Fingerprint", f'<span class="mono">{text(finding.fingerprint)}</span>'))
        out.append(f'<article class="finding" id="finding-{number}">')
        out.append(f"<h3>{number}. [{text(finding.rule_id)} {text(finding.rule_name)}] {text(_title(finding))}</h3>")
        out.append(f'<p class="message">{with_code(finding.message)}</p>')
        if finding.corroborated_by:
            out.append(f'<p class="note">{with_code(corroboration.summary(finding))}</p>')
        out.append('<dl class="facts">' + "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in facts) + "</dl>")
        out.extend(_excerpt(finding))
        out.extend(_trace(finding))
        if finding.context_note:
            out.append(f'<p class="note"><span class="label">Context:</span> {with_code(finding.context_note)}.</p>')
        if finding.fix:
            out.append(f'<p class="fix"><span class="label">Fix:</span> {with_code(" ".join(finding.fix.split()))}</p>')
        out.append("</article>")
    if not review.findings:
        out.append('<p class="empty">Nothing to show.</p>')
    out.append("</section>")
    return out


def _errors(review: Review) -> list[str]:
    out: list[str] = []
    if review.errors:
        out.extend(
            ['<section id="errors">', f"<h2>Files not reviewed ({len(review.errors)})</h2>", '<ul class="errors">']
        )
        for error in review.errors:
            out.append(
                f'<li><span class="mono">{text(error.path)}</span>: {text(error.kind)}: {text(error.message)}</li>'
            )
        out.append("</ul></section>")
    if review.suppressed:
        out.append(
            f'<p class="sub" id="hidden">Hidden: {len(review.suppressed)} finding(s) by context, suppression or '
            "--min-severity (see --format json).</p>"
        )
    return out


def render(review: Review) -> str:
    targets = ", ".join(i.target for i in review.inputs) or "(no input)"
    anchors = {
        (f.location.path, f.location.line, f.rule_id): f"finding-{number}"
        for number, f in enumerate(review.findings, start=1)
    }
    multi = len(review.files) > 1
    body: list[str] = []
    body.extend(_header(review))
    body.append("<main>")
    body.extend(_change(review))
    body.extend(_overview(review))
    # Findings come before the aspects: they are what a reader looks for first, and each
    # table row links to its details just below; the aspects then say what else was checked.
    body.extend(_table(review))
    body.extend(_details(review))
    body.extend(['<section id="aspects">', "<h2>Aspects</h2>", '<ol class="aspects">'])
    for aspect in review.aspects:
        body.extend(_aspect(aspect, anchors, multi))
    body.extend(["</ol>", "</section>"])
    body.extend(_errors(review))
    body.append("</main>")
    body.append(
        f"<footer>Generated by scrutiny {text(review.version)}. This page loads nothing from the network.</footer>"
    )
    page = [
        "<!DOCTYPE html>",
        '<html lang="en" dir="ltr">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{attr(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>scrutiny review of {attr(targets)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        *body,
        f"<script>{SCRIPT}</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(page) + "\n"
