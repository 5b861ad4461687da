"""The terminal: a progress bar on a TTY only, colours that follow --color and NO_COLOR.

Each case runs scrutiny in a child process whose stderr or stdout is a pseudo-terminal.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

# A medium finding: a password hashed with MD5 (a digest used only as a key would be low).
CODE = "import hashlib\n\n\ndef store(password):\n    return hashlib.md5(password).hexdigest()\n"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    for number in range(40):
        (root / f"m{number:02}.py").write_text(CODE)
    return root


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def run(args: list[str], tty: str, env: dict[str, str] | None = None) -> tuple[bytes, bytes]:
    """Run ``scrutiny`` with ``tty`` ("stderr", "stdout" or "") on a pseudo-terminal: (stdout, stderr)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    environment.update({"TERM": "xterm-256color", "COLUMNS": "100", **(env or {})})
    command = [sys.executable, "-m", "scrutiny", *args]
    master, slave = pty.openpty()
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    if tty:
        streams[tty] = slave
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, env=environment, **streams)  # type: ignore[call-overload]
    os.close(slave)
    # Read the terminal in a thread while communicate() drains the pipes: neither can fill up.
    on_tty: list[bytes] = []
    reader = threading.Thread(target=lambda: on_tty.append(_read_all(master)))
    reader.start()
    out, err = child.communicate(timeout=120)
    reader.join(timeout=120)
    os.close(master)
    return (on_tty[0], err) if tty == "stdout" else (out, on_tty[0] if tty else err)


def test_the_progress_bar_shows_on_a_terminal(tree: Path) -> None:
    _, err = run(["review", "--no-cache", "--jobs", "1", str(tree)], "stderr", {"SCRUTINY_PROGRESS_AFTER": "0"})
    assert b"scrutiny: reviewing" in err and b"/40" in err, err[-400:]


def test_no_bar_when_stderr_is_piped_or_quiet(tree: Path) -> None:
    fast = {"SCRUTINY_PROGRESS_AFTER": "0"}
    _, piped = run(["review", "--no-cache", "--jobs", "1", str(tree)], "", fast)
    assert b"reviewing" not in piped and b"\x1b" not in piped
    _, quiet = run(["review", "--no-cache", "--jobs", "1", "--quiet", str(tree)], "stderr", fast)
    assert quiet == b""


def test_no_bar_for_a_short_run_and_rich_is_not_even_imported(tree: Path) -> None:
    script = (
        "import sys\nfrom scrutiny import cli\n"
        f"cli.main(['review', '--no-cache', '--format', 'json', {str(tree / 'm00.py')!r}])\n"
        "sys.stdout.write('RICH' if 'rich' in sys.modules else 'PLAIN')\n"
    )
    master, slave = pty.openpty()
    child = subprocess.run(  # noqa: S603  (our own interpreter and script)
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=slave, timeout=120, check=False
    )
    os.close(slave)
    os.close(master)
    assert child.stdout.endswith(b"PLAIN")


def test_severities_are_coloured_on_a_terminal_unless_no_color(tree: Path) -> None:
    target = str(tree / "m00.py")
    coloured, _ = run(["review", "--no-cache", target], "stdout")
    assert b"\x1b[33mmedium\x1b[0m" in coloured
    plain, _ = run(["review", "--no-cache", target], "stdout", {"NO_COLOR": "1"})
    assert b"\x1b" not in plain and b"severity medium" in plain
    never, _ = run(["review", "--no-cache", "--color", "never", target], "stdout")
    assert b"\x1b" not in never
    piped, _ = run(["review", "--no-cache", target], "")
    assert b"\x1b" not in piped and b"severity medium" in piped
    forced, _ = run(["review", "--no-cache", "--color", "always", target], "", {"NO_COLOR": "1"})
    assert b"\x1b[33mmedium" in forced
