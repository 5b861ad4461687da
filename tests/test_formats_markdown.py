"""Markdown for pull-request comments: verdict first, a table, a checklist, escaped details."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from scrutiny.api import scan
from scrutiny.report import FORMATS, markdown_out

EVIL = 'def f(data):\n    return eval(data + "|`x``y`|<script>alert(1)</script>")\n'
EVIL_MESSAGE = "uses | pipes, `ticks`, <script>alert(2)</script>, *stars* and @someone"


def html_of(markdown: str) -> str:
    # CommonMark with raw HTML allowed, as GitHub renders comments, plus GFM tables.
    return MarkdownIt("commonmark").enable("table").render(markdown)


@pytest.fixture
def evil(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "evil.py").write_text(EVIL)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_verdict_first_then_table_checklist_and_details(evil: Path) -> None:
    review = scan(["evil.py"])
    text = FORMATS["markdown"](review)
    lines = text.splitlines()
    assert lines[0].startswith("## ") and lines[2] == r"**1 security defect found\: 1 low.**"
    assert text.index("### Findings") < text.index("### Aspects") < text.index("### Details")
    assert text.count("\n- [") == len(review.aspects) == 12
    assert "- [ ] 7. Injection: defects found (1)" in text
    rendered = html_of(text)
    assert rendered.count("<details>") == len(review.findings) == 1
    # The evidence is one code block holding the line exactly, shown as text.
    code = re.findall(r'<code class="language-python">(.*?)</code>', rendered, re.S)
    assert code == ["    return eval(data + &quot;|`x``y`|&lt;script&gt;alert(1)&lt;/script&gt;&quot;)\n"]
    assert "<script>" not in rendered


def test_messages_are_escaped_in_the_table_and_details(evil: Path) -> None:
    review = scan(["evil.py"])
    review.findings = [replace(f, message=EVIL_MESSAGE) for f in review.findings]
    rendered = html_of(markdown_out.render(review))
    assert "<script>" not in rendered
    (row,) = re.findall(r"<tr>\s*<td>1</td>.*?</tr>", rendered, re.S)
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert len(cells) == 5  # the pipe in the message did not add a column
    assert cells[4] == "uses | pipes, `ticks`, &lt;script&gt;alert(2)&lt;/script&gt;, *stars* and @\u2060someone"
    assert "<em>" not in rendered and "<code>ticks" not in rendered


def test_clean_review_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ok.py").write_text("def add(a, b):\n    return a + b\n")
    monkeypatch.chdir(tmp_path)
    text = FORMATS["markdown"](scan(["ok.py"]))
    assert text.splitlines()[2] == "**No security defects are detected in the code.**"
    assert "### Findings" not in text and "### Details" not in text


def test_long_reviews_are_cut_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = "".join(f"def f{n}(data):\n    return eval(data)\n\n" for n in range(40))
    (tmp_path / "many.py").write_text("import os\n\n" + body)
    monkeypatch.chdir(tmp_path)
    review = scan(["many.py"])
    assert len(review.findings) == 40
    full = markdown_out.render(review)
    assert "Cut to fit" not in full and full.count("<details>") == 40
    short = markdown_out.render(review, max_chars=8000)
    assert len(short) <= 8000
    assert short.splitlines()[2].startswith("**40 security defects found")
    assert "### Aspects" in short and "Cut to fit a comment" in short
    shown_rows = len(re.findall(r"^\| \d+ \|", short, re.M))
    shown_details = short.count("<details>")
    note = re.search(r"(\d+) table row\(s\) and (\d+) finding detail\(s\)", short)
    assert note is not None
    assert (shown_rows + int(note[1]), shown_details + int(note[2])) == (40, 40)
    assert short.count("<details>") == short.count("</details>")


def test_code_block_fence_outgrows_backticks() -> None:
    assert markdown_out.code_block("a ```` b").startswith("`````\n")
