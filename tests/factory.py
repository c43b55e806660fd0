"""Pages and reports built from text, for fast unit tests with no files and no sandbox."""

from __future__ import annotations

from collections.abc import Sequence

from snippet_runner.api import page_from_text
from snippet_runner.core.compare import compare, default_exit
from snippet_runner.core.fixes import applied_fixes, fixed_command_text
from snippet_runner.core.run import skipped_outcome
from snippet_runner.model import Outcome, Page, PageReport, RunResult, Status


def page(text: str, path: str = "docs/page.md") -> Page:
    """A page from Markdown text."""
    return page_from_text(text, path)


def report(page: Page, outputs: Sequence[str], *, engine: str = "docker 20.10.24",
           date: str = "2026-12-01") -> PageReport:
    """A report as if every command of ``page`` ran (with its safe fixes) and printed the next
    of ``outputs`` with exit status 0; judged by the real comparison."""
    outcomes: list[Outcome] = []
    printed = iter(outputs)
    for snippet in page.snippets:
        if snippet.options.skip is not None:
            outcomes.append(skipped_outcome(snippet))
            continue
        if not snippet.commands:
            outcomes.append(Outcome(snippet, None, Status.PASSED, RunResult("", 0, 0.01)))
            continue
        for command in snippet.commands:
            fixes = applied_fixes(page.fixes, command)
            assert fixed_command_text(page.text, command, fixes)  # what would have run
            result = RunResult(next(printed), 0, 0.01)
            verdict = compare(command.expected, result.output, 0,
                              default_exit=default_exit(snippet, command))
            status = Status.PASSED if verdict.matched else Status.FAILED
            outcomes.append(Outcome(snippet, command, status, result, verdict.diff, fixes))
    return PageReport(page, tuple(outcomes), engine, date)
