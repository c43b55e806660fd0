"""Progress per command: a live line on a terminal, plain lines in a log only when asked,
nothing otherwise."""

from __future__ import annotations

import io
import threading

from factory import page, report

from snippet_runner.core.progress import Progress, display_width, fit
from snippet_runner.model import Step

PAGE = page("```console\n$ sleep 6\n$ echo 안녕\n안녕\n$ true\n```\n", "docs/ko/slow.md")
DONE = report(PAGE, ["", "안녕\n", ""])


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _run(progress: Progress, clock: Clock) -> None:
    for outcome in DONE.outcomes:
        progress.step(PAGE, Step(outcome.snippet, outcome.command, None))
        clock.now += 2.5
        progress.step(PAGE, Step(outcome.snippet, outcome.command, outcome))
    progress.page(DONE)


def test_the_live_line_names_page_command_counts_and_elapsed() -> None:
    clock, tty = Clock(), FakeTTY()
    progress = Progress(3, tty, clock=clock, width=lambda: 200, refresh=3600)
    first = DONE.outcomes[0]
    progress.step(PAGE, Step(first.snippet, first.command, None))
    clock.now += 6.25
    line = progress.status_line()
    assert line == "[0/3 pages 0:06] · docs/ko/slow.md:2 (1/3) $ sleep 6 6.2s"
    progress.step(PAGE, Step(first.snippet, first.command, first))
    second = DONE.outcomes[1]
    progress.step(PAGE, Step(second.snippet, second.command, None))
    assert progress.status_line().startswith("[0/3 pages 0:06] 1 passed · docs/ko/slow.md:3 "
                                             "(2/3) $ echo 안녕 0.0s")
    progress.finish()
    assert tty.getvalue().endswith("\r\x1b[2K")  # the line is cleared for the report
    assert "\r\x1b[2K[0/3 pages 0:00] · docs/ko/slow.md:2 (1/3) $ sleep 6" in tty.getvalue()


def test_the_line_is_redrawn_while_a_command_runs() -> None:
    clock, tty = Clock(), FakeTTY()
    drawn = threading.Event()

    class Watch(FakeTTY):
        def write(self, text: str) -> int:
            if "4.0s" in text:
                drawn.set()
            return tty.write(text)

    progress = Progress(1, Watch(), clock=clock, width=lambda: 200, refresh=0.01)
    first = DONE.outcomes[0]
    progress.step(PAGE, Step(first.snippet, first.command, None))
    clock.now += 4.0
    assert drawn.wait(5), tty.getvalue()  # no new step came: the ticker redrew it
    progress.finish()


def test_a_log_gets_nothing_unless_asked_then_plain_lines() -> None:
    quiet, asked = io.StringIO(), io.StringIO()
    for stream, mode in ((quiet, "auto"), (asked, "always")):
        progress = Progress(1, stream, mode=mode, clock=Clock(), refresh=3600)
        _run(progress, Clock())
        progress.finish()
    assert quiet.getvalue() == ""
    assert asked.getvalue().splitlines() == [
        "docs/ko/slow.md:2: passed (0.01 s) $ sleep 6",
        "docs/ko/slow.md:3: passed (0.01 s) $ echo 안녕",
        "docs/ko/slow.md:5: passed (0.01 s) $ true",
        "[1/1] docs/ko/slow.md: 3 passed (0.0 s)",
    ]
    assert "\x1b" not in asked.getvalue()


def test_never_is_silent_even_on_a_terminal() -> None:
    tty = FakeTTY()
    progress = Progress(1, tty, mode="never", clock=Clock())
    _run(progress, Clock())
    progress.finish()
    assert tty.getvalue() == ""


def test_a_cached_page_counts_without_steps() -> None:
    progress = Progress(1, FakeTTY(), clock=Clock(), width=lambda: 200)
    progress.page(DONE)
    assert progress.status_line() == "[1/1 pages 0:00] 3 passed"
    progress.finish()


def test_the_line_fits_the_terminal_counting_wide_characters() -> None:
    assert display_width("안녕 a") == 6
    assert fit("안녕하세요", 5) == "안녕…"
    assert fit("short", 10) == "short"
    clock = Clock()
    tty = FakeTTY()
    progress = Progress(1, tty, clock=clock, width=lambda: 30, refresh=3600)
    first = DONE.outcomes[0]
    progress.step(PAGE, Step(first.snippet, first.command, None))
    progress.finish()
    drawn = tty.getvalue().split("\r\x1b[2K")[1]
    assert display_width(drawn) <= 29 and drawn.endswith("…")
