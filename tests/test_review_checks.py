"""Review-level checks inside a whole review: context policy and the resource-cleanup aspect."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import aspect, review_json
from scrutiny.rules.converters import Word, check_command, tool_table

LEAKY = """
import threading

LOCK = threading.Lock()


def update(project, quota):
    LOCK.acquire()
    quota.charge(project)
    LOCK.release()


def read_header(path):
    f = open(path, "rb")
    header = f.read(16)
    f.close()
    return header
"""


def _write(tmp_path: Path, relative: str, text: str) -> Path:
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_resource_cleanup_aspect_cites_release_findings_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _write(tmp_path, "service/quota.py", LEAKY)
    _, review = review_json(capsys, "--no-cache", str(target))
    cleanup = aspect(review, "resource-cleanup")
    lines = sorted(f["line"] for f in review["findings"] if f["fingerprint"] in cleanup["findings"])
    assert lines == [8, 14]
    cited = sorted(c["start"] for s in cleanup["statements"] for c in s["citations"] if c["role"] == "finding")
    assert cited == [8, 14]
    texts = " ".join(s["text"] for s in cleanup["statements"])
    # The handle SCR860 reports is not described a second time as merely "not in a with block".
    assert "line 14 is not opened in a with block" not in texts
    assert "No file, socket" not in texts


def test_failure_path_rules_stay_silent_in_tests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = _write(tmp_path, "tests/functional/test_quota.py", LEAKY)
    code, review = review_json(capsys, "--no-cache", str(target))
    assert code == 0
    assert not [f for f in review["findings"] if f["rule_id"] in ("SCR860", "SCR861")]


@pytest.mark.parametrize(
    ("argv", "reported"),
    [
        (["qemu-img", "info", "disk"], True),
        (["qemu-img", "info", "-f", "raw", "disk"], False),
        (["qemu-img", "info", "--format=raw", "disk"], False),
        (["nice", "-n", "10", "qemu-img", "convert", "a", "b"], True),
        (["qemu-img", "create", "-f", "qcow2", "disk", "1G"], False),
        (["magick", "in.svg", "out.png"], True),
        (["magick", "svg:in.svg", "out.png"], False),
        (["tar", "cf", "a.tar", "dir"], False),
        (["tar", "xf", "a.tar"], True),
        (["true", "qemu-img"], False),
    ],
)
def test_tool_table_decides_from_the_argument_words(argv: list[str], reported: bool) -> None:
    words = [Word(text, text) for text in argv]
    assert (check_command(words, tool_table()) is not None) is reported


def test_a_clean_aspect_lists_the_rules_that_file_findings_under_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # SCR339's import notes are filed where the module's risk lies (deserialization,
    # injection, TLS), so those aspects list it as checked and configuration does not.
    target = _write(tmp_path, "service/plain.py", "import json\n\nVALUE = json.dumps({})\n")
    _, review = review_json(capsys, "--no-cache", str(target))

    def checked(category: str) -> list[str]:
        # The rules that ran are listed by id in JSON; the text says what they rule out in words.
        return list(aspect(review, category)["checked_rules"])

    assert "SCR339" in checked("injection") and "SCR339" in checked("deserialization")
    assert "SCR339" not in checked("configuration")
