"""What scrutiny shows on a terminal: a progress bar on stderr and coloured severities.

``rich`` draws the bar and is imported only once a run has lasted a second on a
terminal, so reviewing one file never pays for it. Colours are plain SGR codes added to
the text review, only when asked for or when stdout is a terminal and NO_COLOR is unset.
"""

from __future__ import annotations

import os
import re
import time
from typing import IO, Any

# Seconds before the bar appears; SCRUTINY_PROGRESS_AFTER changes it (tests set 0).
DEFAULT_DELAY = 1.0

SEVERITY_COLOURS = {"high": "1;31", "medium": "33", "low": "36", "info": "2"}
SEVERITY_LABEL = re.compile(r"(?<=severity )(high|medium|low|info)\b")
VERDICT_DEFECTS = re.compile(r"^(\d+ security defects? found:.*)$", re.MULTILINE)


def _delay() -> float:
    try:
        return max(0.0, float(os.environ.get("SCRUTINY_PROGRESS_AFTER", DEFAULT_DELAY)))
    except ValueError:
        return DEFAULT_DELAY


class Progress:
    """A file counter with a bar on ``stream``, for runs longer than a second on a terminal."""

    def __init__(self, enabled: bool, stream: IO[str]) -> None:
        self.enabled = enabled
        self.stream = stream
        self.started = time.monotonic()
        self.delay = _delay()
        self.bar: Any = None
        self.task: Any = None

    def update(self, done: int, total: int) -> None:
        if not self.enabled or time.monotonic() - self.started < self.delay:
            return
        if self.bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            console = Console(file=self.stream)
            self.bar = Progress(
                TextColumn("scrutiny: reviewing"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("files"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self.task = self.bar.add_task("review", total=total)
            self.bar.start()
        self.bar.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def use_colour(choice: str, stream: IO[str]) -> bool:
    """--color always/never decide; auto colours a terminal unless NO_COLOR is set (no-color.org)."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def colour_text_review(text: str) -> str:
    """The text review with its severity labels and a defect verdict coloured."""

    def paint(match: re.Match[str]) -> str:
        return f"\033[{SEVERITY_COLOURS[match.group(1)]}m{match.group(1)}\033[0m"

    text = SEVERITY_LABEL.sub(paint, text)
    return VERDICT_DEFECTS.sub(lambda m: f"\033[1m{m.group(1)}\033[0m", text)
