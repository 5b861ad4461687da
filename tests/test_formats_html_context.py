"""The HTML review shows each finding's statement with two lines of context before and after,
and renders `code` spans in messages as <code> elements, escaped like any text."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from scrutiny import source
from scrutiny.api import scan
from scrutiny.report import html_out

FIXTURES = Path(__file__).parent / "fixtures"

CODE = """import subprocess


def first():
    pass


def run(cmd):
    value = 1
    try:
        subprocess.call(
            cmd,
            shell=True,
        )
    except:
        pass
    return value
"""


def rows(page: str, number: int) -> list[tuple[str, int]]:
    """(class, line) of each row of finding ``number``'s code table."""
    article = page[page.index(f'<article class="finding" id="finding-{number}">') :]
    table = article[: article.index("</table>")]
    return [(kind, int(line)) for kind, line in re.findall(r'<tr class="(\w+)" data-line="(\d+)">', table)]


def test_the_statement_is_shown_with_two_lines_before_and_after(tmp_path: Path) -> None:
    path = tmp_path / "tool.py"
    path.write_text(CODE)
    review = scan([str(path)])
    page = html_out.render(review)
    number = {f.rule_id: n for n, f in enumerate(review.findings, start=1)}
    # The whole four-line call, two lines above (9-10) and the two below (15-16).
    assert rows(page, number["SCR101"]) == [
        ("ctx", 9), ("ctx", 10), ("hit", 11), ("hit", 12), ("hit", 13), ("hit", 14), ("ctx", 15), ("ctx", 16)
    ]  # fmt: skip
    # At the end of the file there is only one line after.
    assert rows(page, number["SCR602"]) == [("ctx", 13), ("ctx", 14), ("hit", 15), ("hit", 16), ("ctx", 17)]
    # At its start, none before.
    assert rows(page, number["SCR339"]) == [("hit", 1), ("ctx", 2), ("ctx", 3)]


def test_the_rest_of_the_statement_is_marked_apart_from_the_reported_lines(tmp_path: Path) -> None:
    path = tmp_path / "tool.py"
    path.write_text(CODE)
    src = source.load(CODE.encode(), "tool.py")
    excerpt = src.excerpt(13, 13)
    assert excerpt.statement == (11, 14) and excerpt.first == 9
    assert excerpt.numbered()[2] == (11, "        subprocess.call(")
    finding = next(f for f in scan([str(path)]).findings if f.rule_id == "SCR101")
    narrowed = dataclasses.replace(finding, location=dataclasses.replace(finding.location, line=13, end_line=13),
                                   excerpt=excerpt)  # fmt: skip
    table = "\n".join(html_out._excerpt(narrowed))
    found = re.findall(r'<tr class="(\w+)" data-line="(\d+)">', table)
    assert found == [("ctx", "9"), ("ctx", "10"), ("stmt", "11"), ("stmt", "12"), ("hit", "13"), ("stmt", "14"),
                     ("ctx", "15"), ("ctx", "16")]  # fmt: skip


def test_a_long_statement_is_cut_to_the_reported_lines() -> None:
    code = "TABLE = {\n" + "".join(f"    'k{n}': {n},\n" for n in range(30)) + "}\n"
    src = source.load(code.encode(), "table.py")
    excerpt = src.excerpt(20, 20)
    assert excerpt.statement == (20, 20)
    assert [n for n, _ in excerpt.numbered()] == [18, 19, 20, 21, 22]


def test_a_cross_module_finding_has_its_context_too() -> None:
    review = scan([str(FIXTURES / "taint" / "alias_import")])
    linked = [f for f in review.findings if f.rule_id == "SCR501"]
    assert linked
    for finding in linked:
        assert finding.excerpt is not None
        lines = dict(finding.excerpt.numbered())
        assert finding.evidence.strip() in lines[finding.location.line]


def test_code_spans_become_code_elements_with_escaped_content() -> None:
    assert html_out.with_code("`except:` discards every error with `pass`") == (
        '<code class="span">except:</code> discards every error with <code class="span">pass</code>'
    )
    assert html_out.with_code("a `<script>alert(1)</script>` b") == (
        'a <code class="span">&lt;script&gt;alert(1)&lt;/script&gt;</code> b'
    )
    # A lone backtick and text around spans stay text, escaped.
    assert html_out.with_code("a `b` and a ` alone") == 'a <code class="span">b</code> and a ` alone'
    assert html_out.with_code("no span & <b>") == "no span &amp; &lt;b&gt;"


def test_messages_in_the_page_show_code_spans_not_backticks(tmp_path: Path) -> None:
    path = tmp_path / "tool.py"
    path.write_text(CODE)
    review = scan([str(path)])
    page = html_out.render(review)
    message = next(f.message for f in review.findings if f.rule_id == "SCR602")
    assert "`" in message
    assert '<td class="message"><code class="span">except:</code> discards every error' in page
    body = page[page.index("<body>") : page.index("<script>")]
    assert "`except:`" not in body and "`pass`" not in body
