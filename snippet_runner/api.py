"""The one API the CLI and the MkDocs plugin both call.

    pages = [load_page(p) for p in paths]          # extract + options + fixes; ConfigError
    reports = verify_pages(pages, RunConfig(...))  # run + compare, pages in parallel sandboxes
    # each PageReport holds Outcomes; mismatches are results, not exceptions.
"""

from __future__ import annotations

import datetime
import os
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .backend import Sandbox
from .errors import SnippetRunnerError
from .model import Fix, Outcome, Snippet, Status


@dataclass(frozen=True)
class RunConfig:
    """How to verify; parsed once from CLI flags or plugin options."""

    backend: str = "sandbox"
    """``sandbox`` (private namespaced dockerd, needs root) or ``local`` (host bash, no docker)."""
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    """How many pages run at once, each in its own sandbox."""
    command_timeout: float = 60.0
    """Default per-command limit in seconds (a block's ``timeout`` option overrides it)."""
    page_timeout: float = 600.0
    """Limit for a whole page."""
    cache_dir: Path = Path(".cache/snippet-runner")
    """Where fixture images, sandbox data roots and the result cache live."""
    fixtures_dir: Path | None = None
    """Directory of ``<image-name>/Dockerfile`` fixture images added by docs authors."""
    apply_safe_fixes: bool = True
    """Run commands with safe typo fixes applied (the source file is not changed)."""
    use_cache: bool = True
    """Reuse recorded results when nothing that could change them changed."""


@dataclass(frozen=True)
class Page:
    """A Markdown file ready to verify."""

    path: Path
    """The file."""
    text: str
    """Its text, read with ``newline=""`` (CRLF/BOM kept)."""
    snippets: tuple[Snippet, ...]
    """Every block snippet_runner knows about, in order."""
    fixes: tuple[Fix, ...]
    """Every typo fix found (safe and suggested)."""


@dataclass(frozen=True)
class PageReport:
    """What verifying one page found."""

    page: Page
    """The page."""
    outcomes: tuple[Outcome, ...]
    """One per command (or per skipped/file/script block), in page order."""
    engine_version: str
    """Engine that proved it (shown on the page)."""
    verified_at: str
    """ISO date of the run that produced the outcomes (the cached run's date when cached)."""
    from_cache: bool = False
    """True when no sandbox ran for this page."""

    @property
    def ok(self) -> bool:
        """Every outcome passed or was skipped."""
        return all(o.status in (Status.PASSED, Status.SKIPPED) for o in self.outcomes)


Progress = Callable[[PageReport], None]
"""Called (from a worker thread) with each page's report as soon as the page is done."""


def load_page(path: Path | str) -> Page:
    """Read, extract and scan one Markdown file. ConfigError (file:line) on bad input."""
    from .extract import extract
    from .fixes import find_fixes
    from .rewrite import read_text

    path = Path(path)
    text = read_text(path)
    snippets = tuple(extract(text, path))
    return Page(path=path, text=text, snippets=snippets,
                fixes=tuple(find_fixes(text, snippets, path)))


def _today() -> str:
    return datetime.datetime.now(datetime.UTC).date().isoformat()


def _error_report(page: Page, message: str, engine: str) -> PageReport:
    """A report saying the page could not be run at all (every runnable snippet: ERROR)."""
    outcomes = tuple(Outcome(s, None, Status.SKIPPED if s.options.skip else Status.ERROR,
                             diff=message) for s in page.snippets)
    return PageReport(page, outcomes, engine, _today())


def _verify_one(sandbox: Sandbox, page: Page, config: RunConfig) -> PageReport:
    from .run import run_page

    outcomes = run_page(sandbox, page.snippets, page.text, page.fixes,
                        command_timeout=config.command_timeout, page_timeout=config.page_timeout,
                        apply_fixes=config.apply_safe_fixes)
    return PageReport(page, tuple(outcomes), sandbox.engine_version, _today())


def verify_pages(pages: Sequence[Page], config: RunConfig,
                 progress: Progress | None = None) -> list[PageReport]:
    """Run and judge every page; reports come back in the order of ``pages``.

    ``config.jobs`` workers each start one sandbox, take pages from a shared queue, reset the
    sandbox between pages and close it at the end. A sandbox that cannot start or reset turns
    that worker's pages into ERROR reports (the other workers go on); nothing here raises for a
    failing snippet. A page without runnable snippets starts no sandbox.
    """
    from .backends import get_backend

    reports: dict[int, PageReport] = {}
    todo: queue.Queue[int] = queue.Queue()
    for i, page in enumerate(pages):
        if any(s.options.skip is None for s in page.snippets):
            todo.put(i)
        else:
            reports[i] = PageReport(page, tuple(Outcome(s, None, Status.SKIPPED,
                                    diff=f"skipped: {s.options.skip}") for s in page.snippets),
                                    "", _today())
            if progress:
                progress(reports[i])
    if todo.empty():
        return [reports[i] for i in range(len(pages))]
    backend = get_backend(config.backend, config)
    lock = threading.Lock()

    def done(i: int, report: PageReport) -> None:
        with lock:
            reports[i] = report
        if progress:
            progress(report)

    def worker() -> None:
        sandbox: Sandbox | None = None
        try:
            while True:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    if sandbox is None:
                        sandbox = backend.start()
                    else:
                        sandbox.reset()
                    done(i, _verify_one(sandbox, pages[i], config))
                except SnippetRunnerError as err:
                    done(i, _error_report(pages[i], f"could not run: {err}", backend.name))
                    if sandbox is not None:
                        sandbox.close()
                    sandbox = None
        finally:
            if sandbox is not None:
                sandbox.close()

    workers = [threading.Thread(target=worker, name=f"snippet-runner-{n}", daemon=True)
               for n in range(max(1, min(config.jobs, todo.qsize())))]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return [reports[i] for i in range(len(pages))]
