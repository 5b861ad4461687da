"""The HTML review: escaping, completeness, the CSP, and the page in a real browser."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from scrutiny import cli
from scrutiny.api import scan
from scrutiny.findings import Finding
from scrutiny.report import FORMATS, html_out, prose
from scrutiny.report.compose import CLEAN_VERDICT, Review
from scrutiny.rules.unicode_controls import BIDI_MARKS, BIDI_REORDERING, visible

CHROMIUM = Path("/usr/bin/chromium")
RLO, LRI, PDI, ZWSP = "\u202e", "\u2066", "\u2069", "\u200b"
# Each payload tries to change the page title; none may ever run.
SCRIPT_PAYLOAD = "</script><script>document.title='pwned-script'</script>"
IMG_PAYLOAD = "<img src=x onerror=\"document.title='pwned-img'\">"
SVG_PAYLOAD = "\"><svg/onload=document.title='pwned-svg'>"
ADVERSARIAL = f'''"""Service helpers."""
import pickle
import subprocess


def run(cmd):
    return subprocess.call(cmd + " {SCRIPT_PAYLOAD}", shell=True)


def load(blob):
    return pickle.loads(blob)  # {IMG_PAYLOAD}


password = "\\{SVG_PAYLOAD}"
access_level = "user"
if access_level != "user{RLO} {LRI}# Check if admin{PDI} {LRI}":
    print("You are an admin.")
role = "admin{ZWSP}"
'''
# A file name is reviewed input too.
EVIL_NAME = "x'><img src=y onerror=document.title=1>.py"


def adversarial_tree(root: Path) -> Path:
    tree = root / "tree"
    tree.mkdir()
    (tree / "service.py").write_text(ADVERSARIAL, encoding="utf-8")
    (tree / EVIL_NAME).write_text("value = eval(input())\n", encoding="utf-8")
    return tree


@pytest.fixture
def review(tmp_path: Path) -> Review:
    return scan([str(adversarial_tree(tmp_path))])


class Elements(HTMLParser):
    """Every element and attribute the HTML parser builds from a page, with the text of
    <script> and <title> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.titles: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "title"):
            self._in = tag
            (self.scripts if tag == "script" else self.titles).append("")

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts[-1] += data
        elif self._in == "title":
            self.titles[-1] += data

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    parser.close()
    return parser


def injected(elements: Elements) -> list[str]:
    """Elements or attributes that only an injection could have produced."""
    found = [tag for tag, _ in elements.tags if tag in ("img", "svg", "iframe", "object", "embed", "base", "form")]
    found += [f"{tag} {name}" for tag, attrs in elements.tags for name in attrs if name.startswith("on")]
    found += [f"{tag} {name}" for tag, attrs in elements.tags for name in attrs if name in ("src", "srcdoc")]
    return found


# Unit tests on the page -------------------------------------------------------------------------


def test_adversarial_code_is_escaped_text(review: Review) -> None:
    page = html_out.render(review)
    elements = parse(page)
    assert injected(elements) == []
    assert len(elements.named("script")) == 1, "only the page's own script block"
    assert elements.scripts[0] == html_out.SCRIPT, "nothing from the review is written into the script"
    for payload in (SCRIPT_PAYLOAD, IMG_PAYLOAD, SVG_PAYLOAD, EVIL_NAME):
        assert payload not in page
    assert "&lt;/script&gt;&lt;script&gt;document.title=&#x27;pwned-script&#x27;&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;document.title=&#x27;pwned-img&#x27;&quot;&gt;" in page
    assert "&quot;&gt;&lt;svg/onload=document.title=&#x27;pwned-svg&#x27;&gt;" in page
    assert "x&#x27;&gt;&lt;img src=y onerror=document.title=1&gt;.py" in page


def test_bidi_and_invisible_characters_are_badges_never_raw(review: Review) -> None:
    page = html_out.render(review)
    raw = [f"U+{c:04X}" for c in sorted(BIDI_REORDERING | BIDI_MARKS | {0x200B}) if chr(c) in page]
    assert raw == []
    assert page.count('<span class="uc" title="U+202E RIGHT-TO-LEFT OVERRIDE">&lt;U+202E&gt;</span>') >= 1
    assert '<span class="uc" title="U+200B ZERO WIDTH SPACE">&lt;U+200B&gt;</span>' in page


def test_bidi_controls_and_markup_in_messages_and_paths_are_escaped(review: Review) -> None:
    tampered = dataclasses.replace(
        review.findings[0],
        message=f"message {RLO}evil{PDI} with </script><b onmouseover=alert(1)>bold</b>",
        location=dataclasses.replace(review.findings[0].location, path=f"a{LRI}b</title>.py"),
        fix="<iframe srcdoc='x'>",
    )
    page = html_out.render(dataclasses.replace(review, findings=[tampered, *review.findings[1:]]))
    elements = parse(page)
    assert injected(elements) == [] and not elements.named("b") and len(elements.named("script")) == 1
    assert RLO not in page and LRI not in page and PDI not in page
    assert "message &lt;U+202E&gt;evil" not in page  # a badge, not escaped marker text inside the message
    assert 'message <span class="uc" title="U+202E RIGHT-TO-LEFT OVERRIDE">&lt;U+202E&gt;</span>evil' in page
    assert "&lt;/script&gt;&lt;b onmouseover=alert(1)&gt;bold&lt;/b&gt;" in page
    assert "a<span" in page and "b&lt;/title&gt;.py" in page
    assert "&lt;iframe srcdoc=&#x27;x&#x27;&gt;" in page


def test_every_finding_is_in_the_table_and_the_details(review: Review) -> None:
    page = html_out.render(review)
    elements = parse(page)
    rows = elements.named("tr")
    table_rows = [r for r in rows if r.get("data-detail")]
    assert len(review.findings) >= 5
    assert len(table_rows) == len(review.findings)
    assert {r["data-rule"] for r in table_rows} == {f.rule_id for f in review.findings}
    articles = [a["id"] for a in elements.named("article")]
    assert articles == [f"finding-{n}" for n in range(1, len(review.findings) + 1)]
    for finding in review.findings:
        assert finding.fingerprint in page
        assert html_out.text(finding.message) in page
    # The reported lines are highlighted and numbered in each excerpt.
    shell = next(f for f in review.findings if f.rule_id == "SCR101")
    assert f'<tr class="hit" data-line="{shell.location.line}"><td class="ln">{shell.location.line}</td>' in page


def test_the_prose_review_and_verdict_are_present(review: Review) -> None:
    page = html_out.render(review)
    assert f'<p class="text" id="verdict-text">{review.verdict}</p>' in page
    assert review.verdict.startswith(f"{len(review.defects)} security defects found")
    for aspect in review.aspects:
        assert f'<li id="aspect-{aspect.number}" data-status="{aspect.status}">' in page
        assert html_out.text(aspect.title) in page
        for statement in aspect.statements[: html_out.STATEMENTS_OPEN]:
            assert html_out.text(statement.text) in page
    for line in review.overview:
        assert html_out.text(line) in page


def test_clean_review_says_so(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    page = html_out.render(scan([str(tmp_path / "ok.py")]))
    assert f'<p class="text" id="verdict-text">{CLEAN_VERDICT}</p>' in page
    assert 'class="verdict clean"' in page
    assert '<p class="why">Why: ' in page


def test_the_csp_allows_exactly_the_inline_style_and_script(review: Review) -> None:
    page = html_out.render(review)
    elements = parse(page)
    metas = [m for m in elements.named("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert len(metas) == 1
    policy = metas[0]["content"] or ""
    assert page.index("Content-Security-Policy") < page.index("<style>") < page.index("<script>")

    def digest(block: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"

    style = re.search(r"<style>(.*?)</style>", page, re.S)
    script = re.search(r"<script>(.*?)</script>", page, re.S)
    assert style and script
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["style-src"] == digest(style.group(1))
    assert directives["script-src"] == digest(script.group(1))
    assert "unsafe" not in policy
    # No external asset and no inline style attribute (the CSP would block it anyway).
    assert not [attrs for _, attrs in elements.tags if "style" in attrs or "src" in attrs]
    assert not re.search(r"(href|src)=\"(https?:)?//", page)


def test_trace_steps_are_rendered_as_the_taint_path(review: Review) -> None:
    fields = {f.name for f in dataclasses.fields(Finding)}
    if "trace" not in fields:
        pytest.skip("Finding has no trace field yet")
    from scrutiny.findings import TraceStep  # type: ignore[attr-defined]

    steps = (
        TraceStep("service.py", 3, 4, "request.args['q'] <script>enters</script>"),
        TraceStep("service.py", 8, 11, f"reaches subprocess.call {RLO}"),
    )
    traced = dataclasses.replace(review.findings[0], trace=steps)
    page = html_out.render(dataclasses.replace(review, findings=[traced, *review.findings[1:]]))
    assert '<ol class="trace">' in page
    assert "service.py:3</span> request.args[&#x27;q&#x27;] &lt;script&gt;enters&lt;/script&gt;" in page
    assert 'service.py:8</span> reaches subprocess.call <span class="uc"' in page
    assert len(parse(page).named("script")) == 1


def test_output_is_deterministic(tmp_path: Path) -> None:
    tree = adversarial_tree(tmp_path)
    first, second = html_out.render(scan([str(tree)])), html_out.render(scan([str(tree)]))
    assert first == second


def test_cli_writes_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = adversarial_tree(tmp_path)
    out = tmp_path / "review.html"
    assert "html" in FORMATS
    code = cli.main(["review", "--quiet", "--format", "html", "-o", str(out), str(tree)])
    assert code == 1
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_text_review_shows_bidi_controls_as_markers(review: Review) -> None:
    text = prose.render(review)
    assert RLO not in text and LRI not in text and ZWSP not in text
    assert '"user<U+202E> <U+2066># Check if admin<U+2069> <U+2066>"' in text


def test_visible_marks_controls_but_keeps_ordinary_text() -> None:
    assert visible("a\u202eb\x1b[31mc\td") == "a<U+202E>b<U+001B>[31mc\td"
    assert visible("line one\nline two") == "line one\nline two"
    family = "\U0001f468\u200d\U0001f469"  # an emoji ZWJ sequence is ordinary text
    assert visible(family) == family
    assert visible("admin\u200d") == "admin<U+200D>"


# The page in a real browser -------------------------------------------------------------------

BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
)


def chromium(profile: Path, *args: str) -> str:
    shutil.rmtree(profile, ignore_errors=True)
    done = subprocess.run(
        [str(CHROMIUM), *BROWSER_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@needs_chromium
def test_control_page_proves_the_title_check_detects_a_running_payload(tmp_path: Path) -> None:
    # Without escaping and without a CSP the same payload does run: the check below is sound.
    control = tmp_path / "control.html"
    control.write_text(f"<!DOCTYPE html><html><head><title>safe</title></head><body>{IMG_PAYLOAD}</body></html>")
    dom = chromium(tmp_path / "profile", "--dump-dom", control.as_uri())
    assert parse(dom).titles == ["pwned-img"]


@needs_chromium
def test_html_review_in_chromium(tmp_path: Path) -> None:
    tree = adversarial_tree(tmp_path)
    review = scan([str(tree)])
    page = tmp_path / "review.html"
    page.write_text(html_out.render(review), encoding="utf-8")
    url = page.as_uri()

    dom = chromium(tmp_path / "profile", "--dump-dom", url)
    elements = parse(dom)
    # The page's own script ran (its CSP hash is right) and no payload did.
    assert elements.named("html")[0].get("data-ready") == "true"
    assert elements.titles == [f"scrutiny review of {tree}"]
    assert "pwned" not in "".join(elements.titles)
    assert injected(elements) == []
    assert len(elements.named("script")) == 1
    # The DOM holds the review: every finding, the verdict, a finding's line.
    rows = [r for r in elements.named("tr") if r.get("data-detail")]
    assert len(rows) == len(review.findings) >= 5
    assert f'id="verdict-text">{review.verdict}</p>' in dom
    shell = next(f for f in review.findings if f.rule_id == "SCR101")
    line = shell.location.line
    assert f'<td class="num line" data-key="{line}">{line}</td>' in dom
    assert f"Showing {len(review.findings)} of {len(review.findings)} findings" in dom
    # The adversarial strings are there as text.
    assert "&lt;img src=x onerror=\"document.title='pwned-img'\"&gt;" in dom
    assert "&lt;/script&gt;&lt;script&gt;document.title='pwned-script'&lt;/script&gt;" in dom
    assert "\"&gt;&lt;svg/onload=document.title='pwned-svg'&gt;" in dom
    assert "&lt;U+202E&gt;" in dom and RLO not in dom

    # Filter and sort, preset through the URL: only high findings, by line, descending.
    dom = chromium(tmp_path / "profile", "--dump-dom", url + "#view?severity=high&sort=line&order=desc")
    rows = [r for r in parse(dom).named("tr") if r.get("data-detail")]
    shown = [r for r in rows if "hidden" not in r]
    high = sorted((f.location.line for f in review.findings if f.severity.label == "high"), reverse=True)
    assert [r["data-severity"] for r in shown] == ["high"] * len(high)
    assert re.findall(r'<tr data-severity="high"[^>]*>.*?data-key="(\d+)">\d+</td><td class="message"', dom) == [
        str(n) for n in high
    ]
    assert f"Showing {len(high)} of {len(review.findings)} findings" in dom

    shot = tmp_path / "review.png"
    chromium(tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2000", url)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR"
    assert int.from_bytes(data[16:20], "big") == 1280 and int.from_bytes(data[20:24], "big") == 2000
    assert len(data) > 10_000
