"""The one API the CLI and the MkDocs plugin both call.  (Contract; owned by the runner-core work.)

    pages = [load_page(p) for p in paths]          # extract + options + fixes; ConfigError on bad input
    reports = verify_pages(pages, RunConfig(...))  # run + compare, pages in parallel sandboxes
    # each PageReport holds Outcomes; mismatches are results, not exceptions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .model import Fix, Outcome, Snippet


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
        from .model import Status

        return all(o.status in (Status.PASSED, Status.SKIPPED) for o in self.outcomes)
