"""Typed data passed between the pipeline steps.

extract → `Snippet` (with `Command`s) → fixes → `Fix` → run → `RunResult` → compare → `Outcome`.

Positions: `line` numbers are 1-based lines of the source file; `Span`s are character offsets
into the file's text as read with ``open(path, encoding="utf-8", newline="")`` — i.e. CRLF and a
BOM (U+FEFF at offset 0) are kept as characters, so replacing a span and re-encoding changes no
other byte.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path


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
