"""The one API the CLI and the MkDocs plugin both call.

    pages = [load_page(p) for p in paths]          # extract + options + fixes; ConfigError
    reports = verify_pages(pages, RunConfig(...))  # run + compare, pages in parallel sandboxes
    # each PageReport holds Outcomes; mismatches are results, not exceptions.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .backend import Backend, Sandbox
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
    use_cache: bool = False
    """Reuse recorded results when nothing that could change them changed (the result cache
    under ``cache_dir/results``, see `snippet_runner.cache`); pages that run are recorded.
    Off unless asked for: the plugin turns it on, the CLI with ``check --cache``."""


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
    snippets = tuple(extract(text, path, require_closed=True))
    return Page(path=path, text=text, snippets=snippets,
                fixes=tuple(find_fixes(text, snippets, path)))


def needs_run(page: Page) -> bool:
    """Whether the page has a block that is not skipped (else no sandbox is needed)."""
    return any(s.options.skip is None for s in page.snippets)


def _today() -> str:
    return datetime.datetime.now(datetime.UTC).date().isoformat()


def _unrun_report(page: Page, status: Status, message: str, engine: str) -> PageReport:
    """A report for a page that did not run: skipped blocks SKIPPED, every other one ``status``."""
    outcomes = tuple(Outcome(s, None, Status.SKIPPED, diff=f"skipped: {s.options.skip}")
                     if s.options.skip is not None else Outcome(s, None, status, diff=message)
                     for s in page.snippets)
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

    With ``config.use_cache``, pages whose results the cache holds come back as ``from_cache``
    reports without starting anything, and only the others run (see `snippet_runner.cache`);
    ``progress`` hears of every page either way.

    ``config.jobs`` workers each start one sandbox, take pages from a shared queue, reset the
    sandbox between pages and close it at the end. A sandbox that cannot start or reset (a
    SnippetRunnerError or OSError) turns that page into an ERROR report and the worker starts a
    fresh one for its next page; nothing here raises for a failing snippet. A page without
    runnable snippets starts no sandbox. On KeyboardInterrupt every sandbox is closed (killing
    what runs in it) before the interrupt propagates; any other exception of a worker (a bug)
    is re-raised here once the workers are done.
    """
    if not config.use_cache:
        return _verify_uncached(pages, config, progress)
    # Imported here: the cache fingerprints the engine and fixtures, which a run without the
    # cache never needs.
    from .cache import verify_cached

    return verify_cached(pages, config, lambda todo: _verify_uncached(todo, config, progress),
                         progress)


def _verify_uncached(pages: Sequence[Page], config: RunConfig,
                     progress: Progress | None) -> list[PageReport]:
    reports: dict[int, PageReport] = {}
    todo: queue.Queue[int] = queue.Queue()
    for i, page in enumerate(pages):
        if needs_run(page):
            todo.put(i)
        else:
            reports[i] = _unrun_report(page, Status.SKIPPED, "", "")
            if progress:
                progress(reports[i])
    if not todo.empty():
        from .backends import get_backend

        pool = _Pool(get_backend(config.backend, config), pages, config, progress, todo, reports)
        pool.run(max(1, min(config.jobs, todo.qsize())))
    return [reports[i] for i in range(len(pages))]


_STOP_GRACE = 10.0
"""Seconds to wait for workers to notice their sandbox was closed under them (interrupt)."""


class _Interrupted(SnippetRunnerError):
    """A worker started a sandbox after the run was interrupted."""


@dataclass
class _Pool:
    """The worker threads of one `verify_pages` call and the sandboxes they hold."""

    backend: Backend
    """Where sandboxes come from."""
    pages: Sequence[Page]
    """All pages (workers index into it)."""
    config: RunConfig
    """How to run."""
    progress: Progress | None
    """Told about each finished page."""
    todo: queue.Queue[int]
    """Indexes of the pages still to run."""
    reports: dict[int, PageReport]
    """Finished reports by page index (shared; written under ``lock``)."""
    live: list[Sandbox] = field(default_factory=list)
    """Sandboxes started and not yet closed; whoever removes one from here closes it."""
    stopping: threading.Event = field(default_factory=threading.Event)
    """Set on interrupt: workers take no new page and keep quiet about what breaks."""
    failure: BaseException | None = None
    """An unexpected error of a worker, re-raised in the caller's thread."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    """Guards ``reports``, ``live`` and ``failure``."""

    def run(self, count: int) -> None:
        """Run ``count`` workers until the queue is empty; re-raise a worker's crash."""
        threads = [threading.Thread(target=self._work, name=f"snippet-runner-{n}", daemon=True)
                   for n in range(count)]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                thread.join()
        except KeyboardInterrupt:
            self._stop(threads)
            raise
        if self.failure is not None:
            raise self.failure

    def _stop(self, threads: list[threading.Thread]) -> None:
        """Close every live sandbox (that kills its commands) and give workers time to end."""
        with self.lock:
            self.stopping.set()
            live, self.live = self.live, []
        for sandbox in live:
            with contextlib.suppress(SnippetRunnerError):
                sandbox.close()
        deadline = time.monotonic() + _STOP_GRACE
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _work(self) -> None:
        sandbox: Sandbox | None = None
        try:
            while not self.stopping.is_set():
                try:
                    index = self.todo.get_nowait()
                except queue.Empty:
                    return
                sandbox = self._page(sandbox, index)
        except BaseException as err:  # handed to the caller's thread, which re-raises it
            with self.lock:
                if not self.stopping.is_set() and self.failure is None:
                    self.failure = err
        finally:
            if sandbox is not None:
                self._release(sandbox)

    def _page(self, sandbox: Sandbox | None, index: int) -> Sandbox | None:
        """Verify one page; returns the sandbox to reuse, None once it failed (then closed)."""
        page = self.pages[index]
        ok = False
        try:
            if sandbox is None:
                sandbox = self._start()
            else:
                sandbox.reset()
            report = _verify_one(sandbox, page, self.config)
            ok = True
        except (SnippetRunnerError, OSError) as err:  # OSError: the backend's system calls
            report = _unrun_report(page, Status.ERROR, f"could not run: {err}",
                                   self.backend.name)
        finally:  # also on a crash, which `_work` hands on
            if not ok and sandbox is not None:
                self._release(sandbox)
        self._done(index, report)
        return sandbox if ok else None

    def _start(self) -> Sandbox:
        sandbox = self.backend.start()
        with self.lock:
            stopping = self.stopping.is_set()
            if not stopping:
                self.live.append(sandbox)
        if stopping:
            sandbox.close()
            raise _Interrupted("interrupted")
        return sandbox

    def _release(self, sandbox: Sandbox) -> None:
        """Close ``sandbox`` unless the interrupt handler took it over."""
        with self.lock:
            if not any(s is sandbox for s in self.live):
                return
            self.live = [s for s in self.live if s is not sandbox]
        sandbox.close()

    def _done(self, index: int, report: PageReport) -> None:
        with self.lock:
            self.reports[index] = report
        if self.progress and not self.stopping.is_set():
            self.progress(report)
