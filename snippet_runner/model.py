"""Typed data passed between the pipeline steps, and the seam to where commands run.

extract → `Snippet` (with `Command`s) → fixes → `Fix` → run → `RunResult` → compare → `Outcome`;
a `Page` holds a file's snippets and fixes, a `PageReport` its outcomes.

The protocols at the end (`Session`, `Sandbox`, `Backend`) are what ``core.run`` talks to and
what every engine in ``snippet_runner.sandbox`` implements. They live here, in a leaf, because
the core must not import the sandbox layer: the core names the seam, the sandbox fills it.

Positions: `line` numbers are 1-based lines of the source file; `Span`s are character offsets
into the file's text as read with ``open(path, encoding="utf-8", newline="")`` — i.e. CRLF and a
BOM (U+FEFF at offset 0) are kept as characters, so replacing a span and re-encoding changes no
other byte.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, order=True)
class Span:
    """A half-open range ``[start, end)`` of character offsets in a source text."""

    start: int
    """Offset of the first character."""
    end: int
    """Offset one past the last character."""


@dataclass(frozen=True)
class Location:
    """Where something is in a source file, for messages like ``docs/x.md:12``."""

    path: Path
    """The Markdown file, as given by the user (relative paths stay relative)."""
    line: int
    """1-based line number."""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class SnippetOptions:
    """The fence info-string options of one block, parsed and validated once (see options.py)."""

    skip: str | None = None
    """``skip="reason"``: the block is shown but not run; the reason is shown to readers."""
    timeout: float | None = None
    """``timeout="seconds"``: per-command limit; None means the configured default."""
    exit: int = 0
    """``exit="N"``: expected exit status of the block's last command (earlier ones expect 0)."""
    stdin: str | None = None
    """``stdin="..."``: text typed into an interactive command once it waits for input
    (escape sequences ``\\n`` and ``\\t`` are decoded). Its presence gives the command a
    terminal."""
    hide: bool = False
    """``hide="true"``: run the block (setup) but do not show it to readers."""
    file: str | None = None
    """``file="/abs/path"``: the block's body is written to that path inside the sandbox
    instead of being run (hidden-setup fixture files such as a config.toml)."""
    session: str = "main"
    """``session="name"``: which shell of the page runs the block; a page starts in "main"."""


@dataclass(frozen=True)
class Command:
    """One ``$ `` command of a block and the output the page says it prints."""

    text: str
    """The command as the shell gets it: prompt removed, ``\\``-continued lines kept with their
    backslash-newline so the shell joins them."""
    location: Location
    """Line of the ``$ `` that starts the command."""
    span: Span
    """Source span of the command text (after ``$ ``, through the last continuation line,
    without the final newline); fixes and ``update`` edit within or next to it."""
    expected: tuple[str, ...]
    """Expected output lines (without newlines), exactly as written in the page."""
    expected_span: Span
    """Source span covering the expected-output lines (empty span right after the command
    line when there are none), which ``update`` replaces."""
    indent: str = ""
    """Indentation of the fence (e.g. inside a list item), stripped from every line."""


@dataclass(frozen=True)
class Snippet:
    """One fenced block of a Markdown page that snippet_runner knows about."""

    location: Location
    """Line of the opening fence."""
    end_line: int
    """Line of the closing fence (or the last line if the fence is unclosed)."""
    span: Span
    """Source span of the whole block, opening fence through closing fence."""
    body_span: Span
    """Source span of the block's content lines (between the fences)."""
    lang: str
    """First word of the info string, lower-cased (``bash``, ``console``, ...)."""
    info: str
    """The raw info string after the language."""
    options: SnippetOptions
    """Parsed options."""
    commands: tuple[Command, ...]
    """The ``$ `` commands in order; empty for a script block or a file block."""
    script: str | None = None
    """For a block with no ``$ `` line: its whole body, run as one script whose output is not
    checked (only its exit status). None for transcript blocks."""
    index: int = 0
    """0-based position of this snippet among the page's snippets."""
    body: str = ""
    """The content lines with the fence indentation removed, each ending in ``\\n``: what a
    ``file=`` block writes and what a script block runs."""
    comment_lines: tuple[int, ...] = ()
    """Source lines of the ``#`` comment lines of a transcript block (shown, never run)."""


class FixSafety(enum.Enum):
    """Whether a typo fix may be applied without asking."""

    SAFE = "safe"
    """Unambiguous: applied automatically (and logged) by ``fix --write`` and the build."""
    SUGGESTED = "suggested"
    """Probably right, but a human decides: only reported, with the suggested text."""


@dataclass(frozen=True)
class Fix:
    """A repair of a typo inside one command."""

    rule: str
    """Rule id, e.g. ``docker-clustered-short-flags``."""
    safety: FixSafety
    """Safe (auto-applied) or suggested."""
    message: str
    """One sentence for humans, e.g. "``--it`` is not a docker flag; did you mean ``-it``?"."""
    location: Location
    """Line where the fixed text starts."""
    span: Span
    """Source span of the text to replace."""
    original: str
    """The text found at ``span``."""
    replacement: str
    """The text to put there instead."""


class Status(enum.Enum):
    """What happened to one command (or a whole skipped/file block)."""

    PASSED = "passed"
    FAILED = "failed"
    """Output or exit status differ from the page."""
    TIMEOUT = "timeout"
    ERROR = "error"
    """Could not be run (sandbox failure, missing image...): a message says why."""
    SKIPPED = "skipped"


@dataclass(frozen=True)
class RunResult:
    """What a command printed when it ran in a session."""

    output: str
    """Normalised terminal output: ``\\n`` line ends, escape codes removed, stdout and stderr
    interleaved as a terminal shows them."""
    exit_code: int | None
    """Exit status; None when it timed out or was killed."""
    duration: float
    """Wall-clock seconds."""
    timed_out: bool = False
    """True when the command was killed by its timeout."""
    note: str = ""
    """What the sandbox has to say about a failure, shown under a mismatch (e.g. that it
    refused the command a privilege it never grants); empty when it has nothing to add."""


@dataclass(frozen=True)
class Outcome:
    """The verdict for one command (or one block without commands)."""

    snippet: Snippet
    """The block."""
    command: Command | None
    """The command judged; None for a skipped, file or script block as a whole."""
    status: Status
    """The verdict."""
    result: RunResult | None = None
    """What ran; None when skipped or not run."""
    diff: str = ""
    """Unified diff expected → actual, or a message, when not passed."""
    fixes: tuple[Fix, ...] = field(default=())
    """Safe fixes applied to the command before it ran."""
    page_level: bool = False
    """True for a verdict on the page as a whole rather than one block (it left its sandbox
    unusable); ``snippet`` is then the page's last block, for a location."""


@dataclass(frozen=True)
class Page:
    """A Markdown file ready to verify."""

    path: Path
    """The file, as messages name it."""
    text: str
    """Its text, read with ``newline=""`` (CRLF/BOM kept)."""
    snippets: tuple[Snippet, ...]
    """Every block snippet_runner knows about, in order."""
    fixes: tuple[Fix, ...]
    """Every typo fix found (safe and suggested)."""

    @property
    def runnable(self) -> bool:
        """Whether a block of the page is not skipped (else no sandbox is needed)."""
        return any(s.options.skip is None for s in self.snippets)


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
    duration: float = 0.0
    """Wall-clock seconds its blocks took to run in this run (0 when it did not run); what
    ``--shard`` balances the next runs by."""

    @property
    def ok(self) -> bool:
        """Every outcome passed or was skipped."""
        return all(o.status in (Status.PASSED, Status.SKIPPED) for o in self.outcomes)


PageDone = Callable[[PageReport], None]
"""Told (from a worker thread) about each page's report as soon as the page is done."""


@dataclass(frozen=True)
class Step:
    """A command (or a block run or written whole) of a page that is starting or was just
    judged: what a progress display needs, told while the page runs."""

    snippet: Snippet
    """The block."""
    command: Command | None
    """The command; None for a script, ``file=`` or skipped block as a whole."""
    outcome: Outcome | None
    """None when it starts; its verdict once judged."""


StepProgress = Callable[[Step], None]
"""Told (from the page's worker thread) as each command of a page starts and is judged."""

PageStepProgress = Callable[[Page, Step], None]
"""`StepProgress` for a run of many pages: told which page the step belongs to."""


# -- the seam: where commands run -------------------------------------------------------------


class Session(Protocol):
    """One persistent shell: ``cd``, variables and background jobs survive between commands."""

    def run(self, command: str, *, timeout: float, stdin: str | None = None) -> RunResult:
        """Run one command line and return its normalised output and exit status.

        Without ``stdin`` the command's standard input is ``/dev/null`` (so ``docker run -it``
        reports "the input device is not a TTY", as in a CI log); with ``stdin`` the command
        gets a terminal and the text is typed once it waits for input. On timeout the command's
        process group (and the containers it started) are killed and ``timed_out`` is set;
        the session stays usable. Raises `errors.SandboxError` (never OSError) when the
        sandbox itself fails, `errors.MissingImageError` when the command needed an image the
        sandbox does not have.
        """
        ...

    def close(self) -> None:
        """End the shell and everything it started."""
        ...


class Sandbox(Protocol):
    """A disposable environment in which a page's sessions run."""

    @property
    def engine_version(self) -> str:
        """E.g. ``docker 20.10.24`` or ``local bash 5.2``; part of cache keys and the page mark."""
        ...

    @property
    def fixture_digests(self) -> dict[str, str]:
        """Image name → content digest of every fixture image loaded."""
        ...

    def open_session(self) -> Session:
        """A fresh shell with a clean environment (`config.SESSION_ENV`)."""
        ...

    def put_file(self, path: str, content: bytes) -> None:
        """Create ``path`` (absolute, inside the sandbox's private view) with ``content``."""
        ...

    def preload(self, images: Sequence[str]) -> None:
        """Make the given images (canonical references) present before the page runs, as they
        were on its author's machine; an image the sandbox can't provide is left out (the
        command that needs it says so)."""
        ...

    def reset(self) -> None:
        """Forget the last page: close its sessions, remove the containers, networks, volumes
        and files it created; keep fixture images."""
        ...

    def close(self) -> None:
        """Tear everything down; idempotent; safe from signal handlers and ``finally``."""
        ...


class Backend(Protocol):
    """A way to get sandboxes (see `snippet_runner.sandbox.BACKENDS`)."""

    name: str

    def start(self) -> Sandbox:
        """Start one sandbox, ready to run (fixtures loaded)."""
        ...
