"""The one API the CLI, the MkDocs plugin and every other shell call; the only module that
wires the core pipeline to a sandbox.

    pages = [load_page(p) for p in paths]          # extract + options + fixes; ConfigError
    reports = verify_pages(pages, RunConfig(...))  # run + compare, pages in parallel sandboxes
    # each PageReport holds Outcomes; mismatches are results, not exceptions.

    with Verifier(config, warm=1) as verifier:     # the same again and again (mkdocs serve):
        reports = verifier.verify(pages)           # sandboxes stay warm between calls
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType

from . import sandbox
from .config import RunConfig
from .core import cache, shard
from .core.durations import Durations
from .core.extract import extract
from .core.fixes import find_fixes
from .core.images import ImageUse, canonical, images_to_preload, page_images
from .core.rewrite import read_text
from .core.run import run_page, skipped_outcome
from .errors import SandboxError, SnippetRunnerError
from .model import (
    Backend,
    Outcome,
    Page,
    PageDone,
    PageReport,
    PageStepProgress,
    Sandbox,
    Status,
)
from .sandbox import lock as image_lock
from .sandbox import store as image_store
from .sandbox.fixtures import fixtures_for

__all__ = [
    "Stopped",
    "Terminated",
    "Verifier",
    "fetch_images",
    "load_page",
    "lock_images",
    "page_from_text",
    "plan_shard",
    "sigterm_as_interrupt",
    "update_images",
    "verify_pages",
]


class Terminated(KeyboardInterrupt):
    """SIGTERM (a cancelled CI job, ``kill``), raised like Ctrl-C so that the same cleanup
    runs (see `sigterm_as_interrupt`)."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Inside the block, SIGTERM raises `Terminated` in the main thread, as Ctrl-C raises
    KeyboardInterrupt, so `verify_pages` stops its workers and closes their sandboxes before
    the process ends. (Off the main thread signals can't be handled: nothing changes.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass(frozen=True)
class Stopped:
    """What an interrupted `verify_pages` stopped and cleaned up before the interrupt went on."""

    pages: tuple[Path, ...]
    """The pages whose commands were running, in page order."""
    sandboxes: int
    """How many sandboxes were closed (each with what ran and what it held)."""
    backend: str
    """The backend they came from (``sandbox``, ``local``, ``external``)."""

    def describe(self, how: str) -> str:
        """One sentence: ``how`` (``interrupted (Ctrl-C)``), then what was cleaned up."""
        if not self.pages and not self.sandboxes:
            return f"{how} before any command ran; nothing was left to clean up."
        where = {"sandbox": "their sandboxes (private dockerds) were removed",
                 "local": "their temporary directories were removed",
                 "external": "what they created on the Docker daemon was removed"}.get(
                     self.backend, "their sandboxes were removed")
        names = ", ".join(map(str, self.pages[:3])) + (" …" if len(self.pages) > 3 else "")
        running = (f"stopped the commands running on {len(self.pages)} page(s) ({names})"
                   if self.pages else "no command was running")
        return f"{how}: {running}; {self.sandboxes} sandbox(es) closed, {where}."


OnStop = Callable[[Stopped], None]
"""Told, on an interrupt, what `verify_pages` stopped, just before the interrupt goes on."""


def load_page(path: Path | str) -> Page:
    """Read, extract and scan one Markdown file. ConfigError (file:line) on bad input."""
    path = Path(path)
    return page_from_text(read_text(path), path)


def page_from_text(text: str, path: Path | str = "page.md") -> Page:
    """A page from its text (``path`` only names it in messages): extract and scan."""
    path = Path(path)
    snippets = tuple(extract(text, path, require_closed=True))
    return Page(path=path, text=text, snippets=snippets,
                fixes=tuple(find_fixes(text, snippets, path)))


def _today() -> str:
    return datetime.datetime.now(datetime.UTC).date().isoformat()


def _unrun_report(page: Page, status: Status, message: str, engine: str) -> PageReport:
    """A report for a page that did not run: skipped blocks SKIPPED, every other one ``status``."""
    outcomes = tuple(skipped_outcome(s) if s.options.skip is not None
                     else Outcome(s, None, status, diff=message) for s in page.snippets)
    return PageReport(page, outcomes, engine, _today())


def _verify_one(box: Sandbox, page: Page, config: RunConfig,
                on_step: PageStepProgress | None = None) -> PageReport:
    started = time.monotonic()
    # The images the page finds already there, as on its author's machine (all it uses but
    # those it shows being pulled).
    box.preload(images_to_preload(page_images(page, apply_fixes=config.apply_safe_fixes)))
    outcomes = run_page(box, page.snippets, page.text, page.fixes,
                        command_timeout=config.command_timeout, page_timeout=config.page_timeout,
                        apply_fixes=config.apply_safe_fixes,
                        on_step=None if on_step is None else functools.partial(on_step, page))
    return PageReport(page, tuple(outcomes), box.engine_version, _today(),
                      duration=time.monotonic() - started)


def _left_unusable(report: PageReport, err: SnippetRunnerError) -> PageReport:
    """``report`` plus an ERROR about the page as a whole: after it ran, its sandbox could not
    be reset for the next page."""
    last = report.page.snippets[-1]
    problem = Outcome(last, None, Status.ERROR, page_level=True,
                      diff=f"this page left the sandbox unusable: {err} (the sandbox was "
                           "replaced; the next page runs in a fresh one)")
    return replace(report, outcomes=(*report.outcomes, problem))


def fingerprint(config: RunConfig) -> cache.Fingerprint:
    """What, outside the pages, a verdict under ``config`` depends on — read without starting
    any engine (the engine's version from its binary, the fixture images from their inputs)."""
    return cache.fingerprint(config, engine=sandbox.engine_identity(config),
                             images=sandbox.images_identity(config))


def verify_pages(pages: Sequence[Page], config: RunConfig,
                 progress: PageDone | None = None,
                 on_step: PageStepProgress | None = None,
                 on_stop: OnStop | None = None) -> list[PageReport]:
    """Run and judge every page; reports come back in the order of ``pages``.

    With ``config.use_cache``, pages whose results the cache holds come back as ``from_cache``
    reports without starting anything, and only the others run (see `core.cache`); with
    ``config.record_results`` (or ``use_cache``), what ran is recorded there. ``progress``
    hears of every page either way, ``on_step`` of every command of the pages that run, as it
    starts and as it is judged. How long each page that ran took is recorded under
    ``config.cache_dir`` (`core.durations`) for `plan_shard`.

    ``config.jobs`` workers each start one sandbox, take pages from a shared queue, reset the
    sandbox between pages and close it at the end. A sandbox that cannot start or reset (a
    SnippetRunnerError) turns that page into an ERROR report and the worker starts a fresh one
    for its next page; nothing here raises for a failing snippet. A page without runnable
    snippets starts no sandbox. On KeyboardInterrupt every sandbox is closed (killing what runs
    in it) before the interrupt propagates, and ``on_stop`` hears what was stopped; any other
    exception of a worker (a bug) is re-raised here once the workers are done.
    """
    with Verifier(config) as verifier:
        reports = verifier.verify(pages, progress, on_step, on_stop)
    _record_durations(reports, config)
    return reports


class Verifier:
    """Verifies pages again and again with sandboxes kept warm between calls — the shape of
    ``mkdocs serve``, where every rebuild verifies the page just edited. `verify` works like
    `verify_pages`; the sandboxes it used (reset after each page, as always) are handed to the
    next call, so an edit costs its commands, not a sandbox start. `close` ends them all.

    A sandbox that fails to start or reset is dropped (the next page starts a fresh one, and
    reports the error if that fails too). One caller at a time: `verify` is not reentrant.
    """

    def __init__(self, config: RunConfig, *, warm: int = 0) -> None:
        """``warm``: how many sandboxes to keep between calls; that many start at once, in the
        background. 0 closes every sandbox at the end of each `verify`."""
        self.config = config
        """How pages run."""
        self._warm = warm
        self._backend: Backend | None = None
        self._idle: list[Sandbox] = []
        """Started and clean (fresh or reset), waiting for a page."""
        self._chores = 0
        """Background starts under way; waited for before a sandbox is taken."""
        self._lock = threading.Condition()
        self._closed = False
        for _ in range(warm):
            self._in_background(self._start_idle)

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def verify(self, pages: Sequence[Page], progress: PageDone | None = None,
               on_step: PageStepProgress | None = None,
               on_stop: OnStop | None = None) -> list[PageReport]:
        """Run and judge ``pages`` as `verify_pages` does, on this verifier's sandboxes."""
        config = self.config
        recording = config.use_cache or config.record_results
        if not recording or not any(p.runnable for p in pages):
            return self._verify_uncached(pages, progress, on_step, on_stop)
        return cache.verify_cached(
            pages, config, fingerprint(config),
            lambda todo: self._verify_uncached(todo, progress, on_step, on_stop), progress)

    def close(self) -> None:
        """Close every sandbox this verifier holds, once background work is done; idempotent."""
        with self._lock:
            self._closed = True
        self._wait_for_chores()
        with self._lock:
            idle, self._idle = self._idle, []
        for box in idle:
            with contextlib.suppress(SnippetRunnerError):
                box.close()

    # -- what the workers call ------------------------------------------------------------

    @property
    def backend(self) -> Backend:
        """Where sandboxes come from (built on first use: a verifier that never runs a page
        needs no backend)."""
        if self._backend is None:
            self._backend = sandbox.get_backend(self.config)
        return self._backend

    def take(self) -> Sandbox:
        """A clean sandbox: a warm one when there is one, else a fresh start."""
        self._wait_for_chores()
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self.backend.start()

    def give_back(self, box: Sandbox) -> None:
        """A worker is done with ``box`` (reset after its last page, as after every page): keep
        it for the next call, or close it when enough are kept already."""
        with self._lock:
            keep = not self._closed and len(self._idle) + self._chores < self._warm
            if keep:
                self._idle.append(box)
        if not keep:
            with contextlib.suppress(SnippetRunnerError):
                box.close()

    # -- background work ------------------------------------------------------------------

    def _in_background(self, chore: Callable[[], None]) -> None:
        with self._lock:
            self._chores += 1

        def run() -> None:
            try:
                chore()
            finally:
                with self._lock:
                    self._chores -= 1
                    self._lock.notify_all()

        threading.Thread(target=run, name="snippet-runner-warm", daemon=True).start()

    def _wait_for_chores(self) -> None:
        with self._lock:
            self._lock.wait_for(lambda: self._chores == 0)

    def _start_idle(self) -> None:
        try:
            box = self.backend.start()
        except SnippetRunnerError:
            return  # the page that needs one starts it itself, and reports why that fails
        self._keep(box)

    def _keep(self, box: Sandbox) -> None:
        with self._lock:
            closed = self._closed
            if not closed:
                self._idle.append(box)
        if closed:
            with contextlib.suppress(SnippetRunnerError):
                box.close()

    def _verify_uncached(self, pages: Sequence[Page], progress: PageDone | None,
                         on_step: PageStepProgress | None = None,
                         on_stop: OnStop | None = None) -> list[PageReport]:
        reports: dict[int, PageReport] = {}
        todo: queue.Queue[int] = queue.Queue()
        for i, page in enumerate(pages):
            if page.runnable:
                todo.put(i)
            else:
                reports[i] = _unrun_report(page, Status.SKIPPED, "", "")
                if progress:
                    progress(reports[i])
        if not todo.empty():
            try:
                backend = self.backend  # a ConfigError (unknown backend) is the caller's
            except KeyboardInterrupt:  # while a backend prepares (a sweep, fixture images)
                if on_stop is not None:
                    on_stop(Stopped((), 0, self.config.backend))
                raise
            pool = _Pool(self, pages, self.config, progress, todo, reports, on_step, on_stop)
            # A backend whose sandboxes share one daemon (external) runs one page at a time.
            limit = getattr(backend, "max_parallel", self.config.jobs)
            pool.run(max(1, min(self.config.jobs, limit, todo.qsize())))
        return [reports[i] for i in range(len(pages))]


def _durations(config: RunConfig) -> Durations:
    return Durations.load(config.cache_dir / "results" / "durations")


def _record_durations(reports: Sequence[PageReport], config: RunConfig) -> None:
    """Remember how long each page that ran took; a cache directory that cannot be written
    costs only the balance of later shards, never the run."""
    ran = [r for r in reports if not r.from_cache and r.duration > 0]
    if not ran:
        return
    durations = _durations(config)
    for report in ran:
        durations.record(report.page.path.as_posix(), report.duration)
    with contextlib.suppress(OSError):
        durations.save()


def plan_shard(pages: Sequence[Page], config: RunConfig, which: shard.Shard) -> shard.ShardPlan:
    """Which pages shard ``which`` checks: the same split in every job that sees the same pages
    and cache (see `core.shard`). A page weighs the seconds it took when it last ran; with
    ``config.use_cache``, a page the result cache will answer weighs nothing."""
    durations = _durations(config)
    free = [not p.runnable for p in pages]
    if config.use_cache and any(p.runnable for p in pages):
        hits = cache.stored_pages(pages, config, fingerprint(config))
        free = [f or i in hits for i, f in enumerate(free)]
    weights = shard.estimate_weights(
        [durations.seconds(p.path.as_posix()) for p in pages],
        [sum(max(1, len(s.commands)) for s in p.snippets if s.options.skip is None)
         for p in pages],
        free)
    return shard.plan([p.path.as_posix() for p in pages], weights, which)


_STOP_GRACE = 10.0
"""Seconds to wait for workers to notice their sandbox was closed under them (interrupt)."""


class _Interrupted(SnippetRunnerError):
    """A worker started a sandbox after the run was interrupted."""


@dataclass
class _Pool:
    """The worker threads of one `verify_pages` call and the sandboxes they hold."""

    verifier: Verifier
    """Where sandboxes come from and go back to."""
    pages: Sequence[Page]
    """All pages (workers index into it)."""
    config: RunConfig
    """How to run."""
    progress: PageDone | None
    """Told about each finished page."""
    todo: queue.Queue[int]
    """Indexes of the pages still to run."""
    reports: dict[int, PageReport]
    """Finished reports by page index (shared; written under ``lock``)."""
    on_step: PageStepProgress | None = None
    """Told about each command as it starts and is judged."""
    on_stop: OnStop | None = None
    """Told what was stopped on an interrupt."""
    running: set[int] = field(default_factory=set)
    """Indexes of the pages being verified right now (under ``lock``)."""
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
            stopped = self._stop(threads)
            if self.on_stop is not None:
                self.on_stop(stopped)
            raise
        if self.failure is not None:
            raise self.failure

    def _stop(self, threads: list[threading.Thread]) -> Stopped:
        """Close every live sandbox (that kills its commands), give workers time to end —
        and to close a sandbox they were starting — and say what was stopped. Another Ctrl-C
        meanwhile waits (a teardown cut short would leave a daemon behind)."""
        with sandbox.shielded():
            with self.lock:
                self.stopping.set()
                live, self.live = self.live, []
                running = sorted(self.running)
            for box in live:
                with contextlib.suppress(SnippetRunnerError):
                    box.close()
            deadline = time.monotonic() + _STOP_GRACE
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
        return Stopped(tuple(self.pages[i].path for i in running), len(live),
                       self.config.backend)

    def _work(self) -> None:
        box: Sandbox | None = None
        try:
            while not self.stopping.is_set():
                try:
                    index = self.todo.get_nowait()
                except queue.Empty:
                    return
                box = self._page(box, index)
        except BaseException as err:  # handed to the caller's thread, which re-raises it
            with self.lock:
                if not self.stopping.is_set() and self.failure is None:
                    self.failure = err
        finally:
            if box is not None:
                self._release(box, keep=True)

    def _page(self, box: Sandbox | None, index: int) -> Sandbox | None:
        """Verify one page, then reset the sandbox for the next one; returns the sandbox to
        reuse, None once it failed (then closed).

        The reset is part of the page: a page that leaves its sandbox unusable (killed the
        daemon, left a mount busy) is reported at that page, and the next page gets a fresh
        sandbox instead of the blame."""
        page = self.pages[index]
        usable = False
        with self.lock:
            self.running.add(index)
        try:
            if box is None:
                box = self._start()
            report = _verify_one(box, page, self.config, self.on_step)
        except SnippetRunnerError as err:
            report = _unrun_report(page, Status.ERROR, f"could not run: {err}",
                                   self.config.backend)
        else:
            try:
                if not self.stopping.is_set():  # interrupted: the sandbox is being closed
                    box.reset()
                    usable = True
            except SnippetRunnerError as err:
                report = _left_unusable(report, err)
        finally:  # also on a crash, which `_work` hands on
            with self.lock:
                self.running.discard(index)
            if not usable and box is not None:
                self._release(box)
        self._done(index, report)
        return box if usable else None

    def _start(self) -> Sandbox:
        box = self.verifier.take()
        with self.lock:
            stopping = self.stopping.is_set()
            if not stopping:
                self.live.append(box)
        if stopping:
            box.close()
            raise _Interrupted("interrupted")
        return box

    def _release(self, box: Sandbox, *, keep: bool = False) -> None:
        """Close ``box`` (or, with ``keep``, hand it back to the verifier for later calls)
        unless the interrupt handler took it over."""
        with self.lock:
            if not any(s is box for s in self.live):
                return
            self.live = [s for s in self.live if s is not box]
            keep = keep and not self.stopping.is_set()
        if keep:
            self.verifier.give_back(box)
        else:
            box.close()

    def _done(self, index: int, report: PageReport) -> None:
        with self.lock:
            self.reports[index] = report
        if self.progress and not self.stopping.is_set():
            self.progress(report)


# -- real images: the lock file and the store -----------------------------------------------------


@dataclass(frozen=True)
class LockReport:
    """What `lock_images` or `update_images` found, and did unless only checking."""

    added: tuple[image_lock.Pin, ...] = ()
    """Images the pages use that the lock lacked (pinned now, unless checking)."""
    removed: tuple[str, ...] = ()
    """Pins no page uses any more (dropped, unless checking)."""
    moved: tuple[tuple[image_lock.Pin, image_lock.Pin], ...] = ()
    """(pinned, upstream now) for tags that name another image upstream."""
    kept: int = 0
    """Pins that stay as they are."""
    uses: tuple[ImageUse, ...] = ()
    """Where the pages use each image (for messages)."""

    @property
    def clean(self) -> bool:
        """Nothing to add, drop or move: what ``images lock --check`` requires."""
        return not (self.added or self.removed or self.moved)


def _sources(config: RunConfig) -> image_lock.Sources:
    return image_lock.Sources(dict(config.image_sources), image_lock.default_authfile())


def image_uses(pages: Sequence[Page], config: RunConfig) -> list[ImageUse]:
    """Every real image the pages use (fixtures are built here, not fetched)."""
    fixtures = {canonical(ref) for f in fixtures_for(config) for ref in f.refs}
    return [use for page in pages for use in page_images(page, apply_fixes=config.apply_safe_fixes)
            if use.ref not in fixtures]


def lock_images(pages: Sequence[Page], config: RunConfig, *, check: bool = False) -> LockReport:
    """Pin every image the pages use that the lock lacks, drop pins no page uses. With
    ``check``, write nothing and also ask upstream whether a pinned tag moved."""
    uses = image_uses(pages, config)
    pins = image_lock.read_lock(config.images_lock)
    wanted = list(dict.fromkeys(use.ref for use in uses))
    sources = _sources(config)
    missing = [ref for ref in wanted if ref not in pins]
    # A check only names what the lock lacks; pinning it (asking the registry) is `lock`'s.
    added = tuple(image_lock.Pin(ref, "") if check else image_lock.resolve(ref, sources)
                  for ref in missing)
    removed = tuple(ref for ref in pins if ref not in wanted)
    moved: tuple[tuple[image_lock.Pin, image_lock.Pin], ...] = ()
    if check:
        moved = tuple((pin, now) for pin in pins.values() if pin.ref in wanted and pin.tag
                      and (now := image_lock.resolve(pin.ref, sources)).digest != pin.digest)
    elif wanted or pins:  # no lock file for pages without real images
        kept = {ref: pin for ref, pin in pins.items() if ref in wanted}
        image_lock.write_lock(config.images_lock, {**kept, **{p.ref: p for p in added}})
    return LockReport(added, removed, moved, len(pins) - len(removed), tuple(uses))


def update_images(config: RunConfig, refs: Sequence[str] = ()) -> LockReport:
    """Move pins on purpose: re-resolve ``refs`` (written as pages write them; all when none
    is given) and write the lock."""
    pins = image_lock.read_lock(config.images_lock)
    chosen = [canonical(r) or r for r in refs] or list(pins)
    unknown = [r for r in chosen if r not in pins]
    if unknown:
        raise SandboxError(f"{', '.join(unknown)} is not pinned in {config.images_lock}; "
                           "`snippet-runner images lock` adds what the pages use.")
    sources = _sources(config)
    moved = []
    for ref in chosen:
        now = image_lock.resolve(ref, sources)
        if now != pins[ref]:
            moved.append((pins[ref], now))
            pins[ref] = now
    image_lock.write_lock(config.images_lock, pins)
    return LockReport(moved=tuple(moved), kept=len(pins) - len(moved))


def fetch_images(config: RunConfig) -> image_store.FetchReport:
    """Copy into the image store what it lacks of the lock's images (for this platform)."""
    pins = image_lock.read_lock(config.images_lock)
    return image_store.fetch(pins.values(), config.cache_dir.resolve() / "images",
                             _sources(config), offline=config.offline)
