"""What is running, while a check runs: per command, on stderr.

On a terminal one line is redrawn in place — pages done, the run's counts so far, the page and
line of the command running now, its number on the page, its first line and how long it has
been running — and refreshed twice a second, so a page of thirty slow commands is never
silence. In a CI log (not a terminal) nothing is drawn unless asked (``--progress``): then each
judged command and each finished page is one plain line, since a log can't redraw.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from ..model import Outcome, Page, PageReport, Snippet, Status, Step
from .report import title, where

MODES = ("auto", "always", "never")
"""``auto``: a live line on a terminal, nothing elsewhere; ``always``: the live line on a
terminal, plain lines elsewhere; ``never``: nothing."""

REFRESH = 0.5
"""Seconds between redraws of the live line while a command runs."""


@dataclass
class _Running:
    """The command a page is running now."""

    page: Page
    """The page."""
    step: Step
    """The command (or block) that started."""
    started: float
    """When it started (the clock's time)."""
    number: int
    """Its 1-based number among the page's steps."""
    total: int
    """How many steps the page has."""


def _steps(snippet: Snippet) -> int:
    return len(snippet.commands) if snippet.commands and snippet.options.skip is None else 1


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal (Hangul and other wide characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` columns, with ``…`` where it was cut."""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        w = display_width(char)
        if used + w > width - 1:
            break
        out.append(char)
        used += w
    return "".join(out) + "…"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


class Progress:
    """Told about every page (`page`) and every command (`step`) of one run."""

    def __init__(self, total: int, stream: TextIO | None = None, *, mode: str = "auto",
                 clock: Callable[[], float] = time.monotonic,
                 width: Callable[[], int] | None = None, refresh: float = REFRESH) -> None:
        self.total = total
        """How many pages will report."""
        self.stream = stream or sys.stderr
        """Where to write."""
        tty = self.stream.isatty()
        self.live = mode != "never" and tty
        """Redraw one line in place (a terminal)."""
        self.lines = mode == "always" and not tty
        """Write a plain line per command and page (asked for, in a log)."""
        self.done = 0
        """Pages reported so far."""
        self.counts: Counter[Status] = Counter()
        """Outcomes so far, by status."""
        self._clock = clock
        self._start = clock()
        self._width = width or (lambda: shutil.get_terminal_size().columns)
        self._refresh = refresh
        self._running: dict[str, _Running] = {}
        self._judged: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._drawn = False

    # -- what the run tells ----------------------------------------------------------------

    def step(self, page: Page, step: Step) -> None:
        """A command starts (``step.outcome`` None) or was judged."""
        key = page.path.as_posix()
        with self._lock:
            if step.outcome is None:
                self._running[key] = _Running(page, step, self._clock(), self._judged[key] + 1,
                                              sum(_steps(s) for s in page.snippets))
            else:
                self._judged[key] += 1
                self.counts[step.outcome.status] += 1
                self._running.pop(key, None)
                if self.lines:
                    self._line_for(step.outcome)
            if self.live:
                self._draw()
                self._start_ticker()

    def page(self, report: PageReport) -> None:
        """A page is done (run, or answered by the result cache)."""
        key = report.page.path.as_posix()
        with self._lock:
            self.done += 1
            if not self._judged[key]:  # its commands were never told one by one
                self.counts.update(o.status for o in report.outcomes)
            self._running.pop(key, None)
            if self.lines:
                self._page_line(report)
            if self.live:
                self._draw()

    __call__ = page

    def finish(self) -> None:
        """Stop redrawing and clear the live line."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            if self._drawn:
                self.stream.write("\r\x1b[2K")
                self.stream.flush()
                self._drawn = False

    # -- drawing -----------------------------------------------------------------------------

    def status_line(self) -> str:
        """The live line's text (uncut)."""
        now = self._clock()
        counts = ", ".join(f"{self.counts[s]} {s.value}" for s in Status if self.counts[s])
        head = f"[{self.done}/{self.total} pages {_clock(now - self._start)}]"
        if counts:
            head += f" {counts}"
        if not self._running:
            return head
        latest = max(self._running.values(), key=lambda r: r.started)
        step = latest.step
        at = step.command.location if step.command else step.snippet.location
        what = title(Outcome(step.snippet, step.command, Status.PASSED))
        more = f" (+{len(self._running) - 1} more)" if len(self._running) > 1 else ""
        return (f"{head} · {at} ({latest.number}/{latest.total}) {what} "
                f"{now - latest.started:.1f}s{more}")

    def _draw(self) -> None:
        line = fit(self.status_line(), max(20, self._width() - 1))
        self.stream.write(f"\r\x1b[2K{line}")
        self.stream.flush()
        self._drawn = True

    def _start_ticker(self) -> None:
        if self._ticker is None and not self._stop.is_set():
            self._ticker = threading.Thread(target=self._tick, name="snippet-runner-progress",
                                            daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(self._refresh):
            with self._lock:
                if self._running and not self._stop.is_set():
                    self._draw()

    def _line_for(self, outcome: Outcome) -> None:
        seconds = outcome.result.duration if outcome.result else 0.0
        self.stream.write(f"{where(outcome)}: {outcome.status.value} ({seconds:.2f} s) "
                          f"{title(outcome)}\n")
        self.stream.flush()

    def _page_line(self, report: PageReport) -> None:
        tally = Counter(o.status for o in report.outcomes)
        parts = ", ".join(f"{tally[s]} {s.value}" for s in Status if tally[s]) or "no snippets"
        how = "from the result cache" if report.from_cache else f"{report.duration:.1f} s"
        self.stream.write(f"[{self.done}/{self.total}] {report.page.path}: {parts} ({how})\n")
        self.stream.flush()
