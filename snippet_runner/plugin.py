"""The MkDocs plugin ``snippet-runner``: a thin shell over `snippet_runner.api`.

Per build: ``on_files`` loads every Markdown page (extract, options, typo fixes), logs each safe
fix, and verifies the pages with blocks — all at once, pages in parallel, results the cache
already holds reused (see `snippet_runner.cache`) — so every page is proven before any renders.
Any mismatch, timeout or error prints ``path:line`` and its diff for each failure, then raises
``PluginError``, which fails the build with or without ``--strict``. ``on_page_markdown`` and
``on_page_content`` then show each block as `snippet_runner.render` draws it.

``SNIPPET_RUNNER=false`` (or ``enabled: false``) builds without verifying: blocks are still drawn
(hidden setup blocks still vanish) with a "not verified in this build" mark.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page as MkDocsPage

from . import api
from .config import SETTINGS, RunConfig
from .core.report import failure_heading, summary
from .errors import SnippetRunnerError
from .model import FixSafety, Location, Page, PageReport, Status
from .site.assets import add_package_assets, link_package_assets
from .site.render import Labels, PlaceholderMap, labels_for, rewrite_markdown

log = logging.getLogger("mkdocs.plugins.snippet_runner")

ENV_SWITCH = "SNIPPET_RUNNER"
"""Environment variable that switches verification on (``true``) or off (``false``)."""

_FALSE = {"0", "false", "no", "off"}
_TRUE = {"1", "true", "yes", "on"}


CONFIG_SCHEME: tuple[tuple[str, Any], ...] = (
    ("enabled", c.Type(bool, default=True)),
    *((s.name, c.Optional(c.Type(s.accepts))) for s in SETTINGS),
)
"""The plugin's options in ``mkdocs.yml``: ``enabled`` (verify during the build; the environment
variable ``SNIPPET_RUNNER=true|false`` overrides it) and every `config.SETTINGS` entry, unset
meaning its default."""


@dataclass
class _PageState:
    """What the plugin knows about one Markdown file during a build."""

    page: Page
    """The loaded page."""
    report: PageReport | None = None
    """Its verification, None when not verified in this build."""
    placeholders: PlaceholderMap | None = None
    """Its blocks' rendered forms, once its Markdown went through `on_page_markdown`."""


class SnippetRunnerPlugin(BasePlugin):  # type: ignore[type-arg,no-untyped-call]
    """Verify every shell block before the pages render; show what was proven."""

    config_scheme = CONFIG_SCHEME
    supports_multiple_instances = False

    def __init__(self) -> None:
        self._pages: dict[str, _PageState] = {}
        self._labels: Labels = labels_for("en")
        self._run_config = RunConfig()
        self._enabled = True

    # -- configuration ---------------------------------------------------------------------

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        """Resolve options against mkdocs.yml's directory and the ``SNIPPET_RUNNER`` switch."""
        self._enabled = _switch(os.environ.get(ENV_SWITCH), default=self.config["enabled"])
        root = Path(config.config_file_path or ".").resolve().parent
        try:
            self._run_config = RunConfig.from_settings(
                {s.name: self.config[s.name] for s in SETTINGS}, base_dir=root,
                origin="mkdocs", use_cache=True)
        except SnippetRunnerError as err:
            raise PluginError(f"snippet-runner: {err}") from None
        theme = config.theme
        self._labels = labels_for(theme.get("language") if theme is not None else None)
        link_package_assets(config)  # how blocks look and copy, verified or not
        return config

    # -- verification, once per build ------------------------------------------------------

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        """Add the package's stylesheets and script; load every page, log its typo fixes, and
        verify those with blocks."""
        files = add_package_assets(files, config)
        self._pages = {}
        try:
            for file in files.documentation_pages():
                if file.abs_src_path and file.src_uri.endswith(".md"):
                    page = api.load_page(_display_path(file.abs_src_path))
                    if page.snippets:
                        self._pages[file.abs_src_path] = _PageState(page)
                        _log_fixes(page)
                        _warn_empty_containers(page)
            if self._enabled:
                self._verify()
            else:
                log.info(
                    "snippet-runner: verification is switched off (%s=false or enabled: false); "
                    "blocks are shown unverified",
                    ENV_SWITCH,
                )
        except SnippetRunnerError as err:
            raise PluginError(f"snippet-runner: {err}") from None
        return files

    def _verify(self) -> None:
        states = list(self._pages.values())
        reports = api.verify_pages([s.page for s in states], self._run_config,
                                   progress=_log_page)
        for state, report in zip(states, reports, strict=True):
            state.report = report
        ran = tuple(r.page.path for r in reports if not r.from_cache and r.page.runnable)
        cached = tuple(r.page.path for r in reports if r.from_cache)
        _log_summary(ran, cached, tuple(reports))
        failures = _report_failures(tuple(reports))
        if failures:
            raise PluginError(
                f"snippet-runner: {failures} snippet check(s) failed (each is shown above "
                "as path:line with its diff); the site was not built."
            )

    # -- rendering -------------------------------------------------------------------------

    # Early, so the blocks are swapped out before plugins that rewrite Markdown (macros, ...)
    # see them; one that runs even earlier may change the page around them (blocks are found
    # by their text), not the blocks themselves.
    @event_priority(50)
    def on_page_markdown(
        self, markdown: str, page: MkDocsPage, config: MkDocsConfig, files: Files
    ) -> str:
        """Swap each block for a placeholder of its rendered form."""
        state = self._pages.get(page.file.abs_src_path or "")
        if state is None:
            return markdown
        state.placeholders = placeholders = PlaceholderMap()
        try:
            new = rewrite_markdown(
                markdown,
                state.page,
                state.report,
                self._labels,
                placeholders,
                apply_safe_fixes=self._run_config.apply_safe_fixes,
            )
        except ValueError as err:
            raise PluginError(f"snippet-runner: {err}") from None
        return new

    def on_page_content(
        self, html: str, page: MkDocsPage, config: MkDocsConfig, files: Files
    ) -> str:
        """Put the rendered blocks where their placeholders ended up."""
        state = self._pages.get(page.file.abs_src_path or "")
        if state is None or state.placeholders is None:
            return html
        html, lost = state.placeholders.insert(html)
        if lost:
            where = ", ".join(f"{state.page.path}:{line}" for line in lost)
            raise PluginError(
                f"snippet-runner: {where}: a verified block did not reach the page's HTML "
                "(another Markdown extension or plugin dropped its placeholder)"
            )
        return html


def _switch(value: str | None, *, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    word = value.strip().lower()
    if word in _FALSE:
        return False
    if word in _TRUE:
        return True
    raise PluginError(f"snippet-runner: {ENV_SWITCH}={value!r} must be true or false")


def _display_path(abs_path: str) -> Path:
    """The file as messages name it: relative to the working directory when inside it."""
    rel = os.path.relpath(abs_path)
    return Path(abs_path if rel.startswith("..") else rel)


def _log_fixes(page: Page) -> None:
    for fix in page.fixes:
        if fix.safety is FixSafety.SAFE:
            log.info(
                "snippet-runner: %s: fixed %r → %r (%s)",
                fix.location,
                fix.original,
                fix.replacement,
                fix.message,
            )


def _log_page(report: PageReport) -> None:
    if report.from_cache:
        return
    log.info("snippet-runner: ran %s: %s", report.page.path, _tally([report]))


def _log_summary(
    ran: tuple[Path, ...], cached: tuple[Path, ...], reports: tuple[PageReport, ...]
) -> None:
    tally = _tally(reports)
    if not ran:
        # bench_build.py and the tests look for this sentence: it proves the cache did its job.
        log.info(
            "snippet-runner: nothing changed, no snippet ran and no sandbox started "
            "(%d page(s) from cache: %s)",
            len(cached),
            tally,
        )
    else:
        log.info(
            "snippet-runner: %d page(s) verified in a sandbox, %d from cache: %s",
            len(ran),
            len(cached),
            tally,
        )


def _tally(reports: Sequence[PageReport]) -> str:
    """E.g. ``6 passed, 1 skipped``: how many outcomes have each status."""
    counts = summary(list(reports))
    return ", ".join(f"{counts[s]} {s.value}" for s in Status if counts[s]) or "nothing to run"


def _report_failures(reports: tuple[PageReport, ...]) -> int:
    count = 0
    for report in reports:
        for outcome in report.outcomes:
            if outcome.status in (Status.PASSED, Status.SKIPPED):
                continue
            count += 1
            log.error("%s\n%s", failure_heading(outcome), outcome.diff.rstrip("\n"))
    return count


_CONTAINER = re.compile(r"^(?P<indent>[ \t]*)(?:!!!|\?\?\?\+?|===\+?)[ \t]")
"""The opening line of an admonition (``!!!``), a collapsible block (``???``) or a tab
(``===``): what pymdownx fills with the lines indented below it."""


def _indent(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def _warn_empty_containers(page: Page) -> None:
    """Warn (file:line) about a container whose only content is ``hide="true"`` blocks: the
    reader would see an empty admonition or tab once they vanish."""
    lines = page.text.replace("\r\n", "\n").split("\n")
    hidden = {n for s in page.snippets if s.options.hide
              for n in range(s.location.line, s.end_line + 1)}
    warned: set[int] = set()
    for snippet in (s for s in page.snippets if s.options.hide):
        opener = _container_of(lines, snippet.location.line)
        if opener is None or opener in warned:
            continue
        body = _container_body(lines, opener)
        if body and all(n in hidden for n in body):
            warned.add(opener)
            log.warning(
                "snippet-runner: %s: this container holds only hidden (hide=\"true\") blocks "
                "(the first at line %d), so readers see it empty. Move the hidden blocks out "
                "of the container, or give it visible content.",
                Location(page.path, opener), snippet.location.line,
            )


def _container_of(lines: list[str], line: int) -> int | None:
    """The 1-based line of the admonition or tab that directly holds source line ``line``."""
    own = _indent(lines[line - 1])
    for n in range(line - 1, 0, -1):
        text = lines[n - 1]
        if not text.strip() or _indent(text) >= own:
            continue
        return n if _CONTAINER.match(text) else None
    return None


def _container_body(lines: list[str], opener: int) -> list[int]:
    """The non-blank 1-based lines indented under the container opened at ``opener``."""
    base = _indent(lines[opener - 1])
    body: list[int] = []
    for n in range(opener + 1, len(lines) + 1):
        text = lines[n - 1]
        if not text.strip():
            continue
        if _indent(text) <= base:
            break
        body.append(n)
    return body
