"""The MkDocs plugin ``snippet-runner``: a thin shell over `snippet_runner.api` that draws with
the `snippet_runner.site.extension` Markdown extension.

Per build: ``on_files`` loads every Markdown page (extract, options, typo fixes), logs each safe
fix, and verifies the pages with blocks — all at once, pages in parallel, results the cache
already holds reused (see `snippet_runner.core.cache`) — so every page is proven before any
renders. Any mismatch, timeout or error prints ``path:line`` and its diff for each failure, then
raises ``PluginError``, which fails the build with or without ``--strict``. ``on_page_markdown``
hands each page's report to the plugin's own instance of the extension (added to
``markdown_extensions`` in ``on_config``), which draws every block; ``on_page_content`` checks
that none got lost on the way.

``mkdocs serve`` never stops on a failing example: the page is built with the failing block
drawn in place (diff, ``file:line``) under a banner counting the page's failures, the terminal
prints the same, and one sandbox stays warm for the whole session (`api.Verifier`), reset
between pages, so an edit costs its commands, not a sandbox start. Text that passed before comes
from the result cache.

``SNIPPET_RUNNER=false`` (or ``enabled: false``) builds without verifying: blocks are still drawn
(hidden setup blocks still vanish) with a "not verified" mark.
"""

from __future__ import annotations

import logging
import os
import re
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Literal

from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page as MkDocsPage

from . import api
from .config import SETTINGS, RunConfig
from .core.report import failure_heading, failure_location, summary
from .errors import SnippetRunnerError
from .model import FixSafety, Location, Page, PageReport, Status
from .site.assets import add_package_assets, link_package_assets
from .site.extension import OPTIONS as DRAW_OPTIONS
from .site.extension import SnippetRunnerExtension

log = logging.getLogger("mkdocs.plugins.snippet_runner")

ENV_SWITCH = "SNIPPET_RUNNER"
"""Environment variable that switches verification on (``true``) or off (``false``)."""

_FALSE = {"0", "false", "no", "off"}
_TRUE = {"1", "true", "yes", "on"}


CONFIG_SCHEME: tuple[tuple[str, Any], ...] = (
    ("enabled", c.Type(bool, default=True)),
    *((s.name, c.Optional(c.Type(s.accepts))) for s in SETTINGS),
    *((o.name, c.Optional(c.Type(type(o.default)))) for o in DRAW_OPTIONS if o.plugin),
)
"""The plugin's options in ``mkdocs.yml``: ``enabled`` (verify during the build; the environment
variable ``SNIPPET_RUNNER=true|false`` overrides it), every `config.SETTINGS` entry and the
drawing options the extension shares with the plugin (`site.extension.OPTIONS`, ``show_fixes``),
unset meaning their default."""

EXTENSION_NAMES = frozenset({"snippet_runner", "snippet_runner.site.extension",
                             "snippet_runner.site.extension:SnippetRunnerExtension"})
"""How ``markdown_extensions`` may name the extension. A site that lists it (so that Zensical
draws its blocks too) gets the plugin's instance instead under MkDocs, with the options it gave
there (the plugin's own options win)."""


@dataclass
class _PageState:
    """What the plugin knows about one Markdown file during a build."""

    page: Page
    """The loaded page."""
    report: PageReport | None = None
    """Its verification, None when not verified in this build."""


class SnippetRunnerPlugin(BasePlugin):  # type: ignore[type-arg,no-untyped-call]
    """Verify every shell block before the pages render; show what was proven."""

    config_scheme = CONFIG_SCHEME
    supports_multiple_instances = False

    def __init__(self) -> None:
        self._pages: dict[str, _PageState] = {}
        self._run_config = RunConfig()
        self._enabled = True
        self._serving = False
        self._verifier: api.Verifier | None = None
        self._extension = SnippetRunnerExtension(plugin=True)

    # -- the session (one build, or every rebuild of ``mkdocs serve``) ---------------------

    def on_startup(self, *, command: Literal["build", "gh-deploy", "serve"],
                   dirty: bool) -> None:
        """Note whether this is ``mkdocs serve`` (its presence also keeps this plugin object,
        and so the warm sandbox, across the server's rebuilds). A server stopped with SIGTERM
        shuts down as on Ctrl-C, so `on_shutdown` ends the sandbox."""
        self._serving = command == "serve"
        if self._serving and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _interrupt)

    def on_shutdown(self) -> None:
        """End the warm sandbox of ``mkdocs serve``."""
        if self._verifier is not None:
            self._verifier.close()
            self._verifier = None

    # -- configuration ---------------------------------------------------------------------

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        """Resolve options against mkdocs.yml's directory and the ``SNIPPET_RUNNER`` switch;
        draw with the plugin's own instance of the Markdown extension."""
        self._enabled = _switch(os.environ.get(ENV_SWITCH), default=self.config["enabled"])
        root = Path(config.config_file_path or ".").resolve().parent
        try:
            self._run_config = RunConfig.from_settings(
                {s.name: self.config[s.name] for s in SETTINGS}, base_dir=root,
                origin="mkdocs", use_cache=True)
        except SnippetRunnerError as err:
            raise PluginError(f"snippet-runner: {err}") from None
        self._extension = self._make_extension(config)
        extensions: list[Any] = config.markdown_extensions  # names, or Extension objects
        extensions.append(self._extension)
        link_package_assets(config)  # how blocks look and copy, verified or not
        if self._serving and self._enabled:
            self._keep_warm(self._run_config)
        return config

    def _make_extension(self, config: MkDocsConfig) -> SnippetRunnerExtension:
        """The plugin's extension, replacing one ``markdown_extensions`` lists (whose options
        it keeps where the plugin sets none)."""
        options: dict[str, Any] = {}
        for name in [n for n in config.markdown_extensions if n in EXTENSION_NAMES]:
            config.markdown_extensions.remove(name)
            options.update((config.mdx_configs or {}).pop(name, {}) or {})
        options.update({o.name: self.config[o.name] for o in DRAW_OPTIONS
                        if o.plugin and self.config[o.name] is not None})
        theme = config.theme
        language = theme.get("language") if theme is not None else None
        # The stylesheet and script come as files (link_package_assets), not inline.
        options.update(inline_assets=False, require_verified=False,
                       language=options.get("language") or language or "en")
        try:
            return SnippetRunnerExtension(plugin=True, **options)
        except KeyError as err:
            raise PluginError(f"snippet-runner: the markdown extension snippet_runner has no "
                              f"option {err}; see the README for its options.") from None

    def _keep_warm(self, run_config: RunConfig) -> None:
        """``mkdocs serve``: one sandbox for the whole session (a new one when the settings
        change)."""
        if self._verifier is not None and self._verifier.config == run_config:
            return
        if self._verifier is not None:
            self._verifier.close()
        self._verifier = api.Verifier(run_config, warm=1)

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
        pages = [s.page for s in states]
        verifier = self._verifier
        if verifier is not None:
            reports = _verify_interruptibly(
                lambda on_stop: verifier.verify(pages, _log_page, on_stop=on_stop), serving=True)
        else:
            reports = _verify_interruptibly(lambda on_stop: api.verify_pages(
                pages, self._run_config, progress=_log_page, on_stop=on_stop), serving=False)
        for state, report in zip(states, reports, strict=True):
            state.report = report
        ran = tuple(r.page.path for r in reports if not r.from_cache and r.page.runnable)
        cached = tuple(r.page.path for r in reports if r.from_cache)
        _log_summary(ran, cached, tuple(reports))
        failures = _report_failures(tuple(reports))
        if failures and self._serving:
            for report in reports:
                _log_served_failures(report)
        elif failures:
            raise PluginError(
                f"snippet-runner: {failures} snippet check(s) failed (each is shown above "
                "as path:line with its diff); the site was not built."
            )

    # -- drawing ---------------------------------------------------------------------------

    # Early, so the blocks are swapped out before plugins that rewrite Markdown (macros, ...)
    # see them; one that runs even earlier may change the page around them (blocks are found
    # by their text), not the blocks themselves.
    @event_priority(50)
    def on_page_markdown(
        self, markdown: str, page: MkDocsPage, config: MkDocsConfig, files: Files
    ) -> str:
        """Hand the page and its report to the extension, which swaps each block for a
        placeholder of its drawing."""
        self._extension.forget()
        state = self._pages.get(page.file.abs_src_path or "")
        if state is None:
            return markdown
        try:
            return self._extension.draw(markdown, state.page, state.report,
                                        apply_safe_fixes=self._run_config.apply_safe_fixes)
        except ValueError as err:
            raise PluginError(f"snippet-runner: {err}") from None

    def on_page_content(
        self, html: str, page: MkDocsPage, config: MkDocsConfig, files: Files
    ) -> str:
        """Fail, naming the block, when a block did not reach the page's HTML."""
        state = self._pages.get(page.file.abs_src_path or "")
        lost = self._extension.lost_lines() if state is not None else []
        if lost and state is not None:
            where = ", ".join(f"{state.page.path}:{line}" for line in lost)
            raise PluginError(
                f"snippet-runner: {where}: a verified block did not reach the page's HTML "
                "(another Markdown extension or plugin dropped its placeholder)"
            )
        return html


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # mkdocs serve's own way out: it then calls on_shutdown


def _verify_interruptibly(verify: Callable[[api.OnStop], list[PageReport]], *,
                          serving: bool) -> list[PageReport]:
    """``verify(on_stop)``; on Ctrl-C or SIGTERM, say what was stopped and cleaned up (as the
    CLI does), then end as the signal would: KeyboardInterrupt for MkDocs to handle (``serve``
    then shuts down and `on_shutdown` closes the warm sandbox), or, for a build, exit status
    143 after SIGTERM."""
    stopped: list[api.Stopped] = []
    try:
        with api.sigterm_as_interrupt():
            return verify(stopped.append)
    except KeyboardInterrupt as err:
        terminated = isinstance(err, api.Terminated)
        how = "terminated (SIGTERM)" if terminated else "interrupted (Ctrl-C)"
        log.error("snippet-runner: %s",
                  (stopped[0] if stopped else api.Stopped((), 0, "")).describe(how))
        if terminated and not serving:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
        raise


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


def _log_served_failures(report: PageReport) -> None:
    """``mkdocs serve``: say that the page is served with its failures drawn in place."""
    failed = [o for o in report.outcomes if o.status not in (Status.PASSED, Status.SKIPPED)]
    if failed:
        log.error(
            "snippet-runner: %s: %d example(s) failed; the page is served with %s drawn in "
            "place under a banner (mkdocs build stops here)",
            report.page.path, len(failed),
            ", ".join(f"line {failure_location(o).line}" for o in failed),
        )


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
