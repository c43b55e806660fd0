"""The ``snippet_runner`` Python-Markdown extension: every host that runs Markdown extensions
draws shell blocks the same way — MkDocs and ProperDocs (through the plugin, which verifies in
the build), Zensical, and plain Python-Markdown.

    markdown_extensions:
      - snippet_runner:            # every option is optional; these are the defaults
          show_fixes: false
          cache_dir: .cache/snippet-runner

Where the results come from:

* **Under the MkDocs plugin** the plugin verifies every page before any renders, then hands each
  page's report to this extension (`SnippetRunnerExtension.draw`, from ``on_page_markdown``,
  before plugins that rewrite Markdown see the blocks). The plugin's instance draws only what
  the plugin gave it.
* **Anywhere else** nothing may run: the extension draws from the result cache that ``snippet-
  runner check`` (or a build with the plugin) recorded, looked up by the content of exactly these
  blocks under the fingerprint that run recorded (`core.cache.recorded_report`). A block whose
  text changed since, or that failed, has no result and is drawn as a correct code block marked
  "not verified" — never a false mark, never a raw fence.

How it runs: a preprocessor at priority 35 — before Python-Markdown's whitespace normaliser (30,
which would expand tabs and change what the blocks say) and before superfences (25, which would
see fence options it rejects) — finds the blocks with the verifier's own parser and swaps each
for a placeholder word (`render.rewrite_markdown`); a second one at 29 swaps the words for
Python-Markdown's HTML-stash placeholders, which survive lists, admonitions and tabs and are
replaced by the fragments at the end (the normaliser strips the stash's control characters, so
this step must come after it). Per-page state lives on the ``Markdown`` instance: MkDocs reuses
one extension instance for every page.

What a host may tell about the page (its file, for ``file:line`` and line numbers counted with the
front matter; the site's language and root) is read from what Zensical (its rendering context)
or MkDocs (its link-rewriting treeprocessor) attach to the ``Markdown`` instance — private details
of theirs, so every read is guarded and nothing depends on it: the lookup is by content.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

from ..config import RunConfig
from ..core.cache import applies_fixes, recorded_fingerprint, recorded_report
from ..core.extract import extract
from ..core.fixes import find_fixes
from ..core.rewrite import read_text
from ..errors import SnippetRunnerError
from ..model import Page, PageReport, Status
from .render import Labels, PlaceholderMap, labels_for, locate_blocks, rewrite_markdown

log = logging.getLogger("snippet_runner")

STATIC = Path(__file__).with_name("static")
"""The stylesheets and script of verified blocks, shipped in the package."""
INLINE_STYLES = ("verified.css", "copy-commands.css")
"""Stylesheets ``inline_assets`` puts into a page."""
INLINE_SCRIPTS = ("copy-commands.js",)
"""Scripts ``inline_assets`` puts into a page."""


@dataclass(frozen=True)
class DrawOption:
    """One option of the extension (``markdown_extensions: - snippet_runner: {name: value}``)."""

    name: str
    """Its key."""
    default: Any
    """Its value when not set."""
    help: str
    """One sentence for the README and the guide."""
    plugin: bool = False
    """Also an option of the MkDocs plugin (``plugins: - snippet-runner: {name: value}``), which
    passes it on to the extension it draws with."""


OPTIONS: tuple[DrawOption, ...] = (
    DrawOption("show_fixes", False, "show readers a line under a command naming each typo fix "
               "applied to it (--it → -it); off: readers see the repaired command only",
               plugin=True),
    DrawOption("cache_dir", str(RunConfig().cache_dir), "where snippet-runner check (or a "
               "build with the plugin) recorded its results; relative to the directory of the "
               "site's config file (Zensical, MkDocs), else to the working directory"),
    DrawOption("language", "", "language of the marks (ko, en); empty: the site's "
               "theme.language, else English"),
    DrawOption("inline_assets", True, "put the blocks' stylesheet and copy script into each "
               "page that has blocks (no files to copy); false when the site links them itself"),
    DrawOption("require_verified", False, "fail the build when a shown block has no recorded "
               "passing result (in CI, after snippet-runner check)"),
)
"""Every option, defined once: the extension's config and the plugin's drawing options."""


class DrawError(SnippetRunnerError):
    """The page cannot be drawn truthfully (a block changed under the extension, a placeholder
    lost, a block not verified where ``require_verified`` is set); names file:line."""


@dataclass
class _Drawing:
    """One page's fragments between the two preprocessors (kept on the ``Markdown`` instance)."""

    page: Page
    """The page, for messages."""
    placeholders: PlaceholderMap
    """Placeholder word → HTML fragment."""
    lost: list[int] = field(default_factory=list)
    """Source lines of blocks whose placeholder was not in the text any more."""


_STATE = "_snippet_runner_drawing"
"""The attribute of the ``Markdown`` instance that holds the page's `_Drawing`."""


class SnippetRunnerExtension(Extension):
    """Draw shell blocks from verification results (see the module's docstring)."""

    def __init__(self, *, plugin: bool = False, **options: Any) -> None:
        """``options``: see `OPTIONS`. ``plugin``: the MkDocs plugin's own instance, which draws
        only the pages the plugin hands it (`draw`)."""
        self.config = {o.name: [o.default, o.help] for o in OPTIONS}
        self._plugin = plugin
        self._pending: _Drawing | None = None
        self._last: _Drawing | None = None
        super().__init__(**options)

    # -- what the MkDocs plugin calls ------------------------------------------------------

    def draw(self, markdown: str, page: Page, report: PageReport | None, *,
             apply_safe_fixes: bool) -> str:
        """Swap ``page``'s blocks in ``markdown`` (the host's text of it) for placeholders of
        their drawing from ``report``; the next conversion that meets them puts the fragments
        in. ValueError (file:line) when a block's lines were changed."""
        placeholders = PlaceholderMap()
        text = rewrite_markdown(markdown, page, report, self._labels(None), placeholders,
                                apply_safe_fixes=apply_safe_fixes,
                                show_fixes=bool(self.getConfig("show_fixes")))
        text += self._add_assets(placeholders)
        self._pending = _Drawing(page, placeholders)
        return text

    def forget(self) -> None:
        """Drop a drawing no conversion took (the next page must not pick it up)."""
        self._pending = self._last = None

    @property
    def plugin(self) -> bool:
        """Whether this is the MkDocs plugin's own instance."""
        return self._plugin

    def lost_lines(self) -> list[int]:
        """After a conversion: source lines of the blocks whose placeholder another extension
        or plugin dropped (they would silently vanish from the page) — all of them when the
        conversion met none."""
        if self._pending is not None:
            lines = self._pending.placeholders.lines.values()
            return sorted(n for n in lines if n)
        return list(self._last.lost) if self._last else []

    # -- Python-Markdown -------------------------------------------------------------------

    def extendMarkdown(self, md: Markdown) -> None:  # Python-Markdown's name
        """Register the two preprocessors."""
        md.registerExtension(self)
        md.preprocessors.register(_SwapBlocks(md, self), "snippet_runner", 35)
        md.preprocessors.register(_StashFragments(md, self), "snippet_runner_stash", 29)

    def reset(self) -> None:
        """Python-Markdown resets registered extensions between documents."""

    # -- drawing without the plugin ------------------------------------------------------

    def take_pending(self, text: str) -> _Drawing | None:
        """The drawing the plugin prepared for ``text``, if ``text`` holds its placeholders (a
        nested conversion of something else must not take it)."""
        pending = self._pending
        if pending is None or not any(w in text for w in pending.placeholders.fragments):
            return None
        self._pending = None
        self._last = pending
        return pending

    def draw_recorded(self, md: Markdown, text: str) -> tuple[str, _Drawing | None]:
        """Draw ``text`` from recorded results (no plugin): the new text and its drawing."""
        if self._plugin:
            return text, None  # the plugin draws every page it verified; nothing else is ours
        host = _host(md)
        page = _page_for(text, host)
        if not page.snippets:
            return text, None
        results = _resolve(host.root, str(self.getConfig("cache_dir"))) / "results"
        report = recorded_report(page, results)
        fp = recorded_fingerprint(results)
        if fp is None:
            _warn_once(results)
        if self.getConfig("require_verified"):
            _require_verified(page, report)
        placeholders = PlaceholderMap()
        new = rewrite_markdown(text, page, report, self._labels(host.language), placeholders,
                               apply_safe_fixes=applies_fixes(fp) if fp else True,
                               show_fixes=bool(self.getConfig("show_fixes")))
        new += self._add_assets(placeholders)
        drawing = _Drawing(page, placeholders)
        self._last = drawing
        return new, drawing

    def _labels(self, host_language: str | None) -> Labels:
        return labels_for(str(self.getConfig("language") or host_language or "en"))

    def _add_assets(self, placeholders: PlaceholderMap) -> str:
        """With ``inline_assets``, the placeholder of the stylesheet and script as the page's
        last paragraph (only on a page that has blocks)."""
        if not (self.getConfig("inline_assets") and placeholders.fragments):
            return ""
        return f"\n\n{placeholders.add(inline_assets(), 0)}\n"


def inline_assets() -> str:
    """The blocks' stylesheets and script, as one ``<style>`` and one ``<script>``."""
    styles = "\n".join((STATIC / n).read_text(encoding="utf-8") for n in INLINE_STYLES)
    scripts = "\n".join((STATIC / n).read_text(encoding="utf-8") for n in INLINE_SCRIPTS)
    return f'<style data-snippet-runner>\n{styles}</style>\n<script>\n{scripts}</script>'


class _SwapBlocks(Preprocessor):
    """Priority 35: the blocks become placeholder words (see the module's docstring)."""

    def __init__(self, md: Markdown, ext: SnippetRunnerExtension) -> None:
        super().__init__(md)
        self.ext = ext

    def run(self, lines: list[str]) -> list[str]:
        # Zensical hands over the file's own line ends (CRLF kept, split on \n only); MkDocs
        # reads with universal newlines. The same text for both, as the verifier reads it.
        text = "\n".join(lines).replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
        drawing = self.ext.take_pending(text)
        if drawing is None:
            text, drawing = self.ext.draw_recorded(self.md, text)
        setattr(self.md, _STATE, drawing)
        return text.split("\n") if drawing is not None else lines


class _StashFragments(Preprocessor):
    """Priority 29: each placeholder word becomes an HTML-stash placeholder."""

    def __init__(self, md: Markdown, ext: SnippetRunnerExtension) -> None:
        super().__init__(md)
        self.ext = ext

    def run(self, lines: list[str]) -> list[str]:
        drawing: _Drawing | None = getattr(self.md, _STATE, None)
        if drawing is None:
            return lines
        setattr(self.md, _STATE, None)
        text = "\n".join(lines)
        fragments = drawing.placeholders.fragments
        drawing.lost = sorted(drawing.placeholders.lines[w] for w in fragments
                              if w not in text and drawing.placeholders.lines[w])
        if drawing.lost and not self.ext.plugin:  # the plugin names them itself
            where = ", ".join(f"{drawing.page.path}:{n}" for n in drawing.lost)
            raise DrawError(f"{where}: a block did not reach the page (another Markdown "
                            "extension dropped its placeholder), so it would silently vanish")
        # Longest first: ...X1 is a prefix of ...X14.
        for word in sorted(fragments, key=len, reverse=True):
            text = text.replace(word, self.md.htmlStash.store(fragments[word]))
        return text.split("\n")


# -- what the host tells -------------------------------------------------------------------


@dataclass(frozen=True)
class _Host:
    """What the host tells about the page being converted (all best-effort)."""

    source: Path | None = None
    """The page's Markdown file."""
    root: Path | None = None
    """The directory of the site's config file (``mkdocs.yml``, ``zensical.toml``)."""
    language: str | None = None
    """The theme's language."""


def _host(md: Markdown) -> _Host:
    for probe in (_zensical_host, _mkdocs_host):
        try:
            found = probe(md)
        except (AttributeError, KeyError, TypeError, ValueError, OSError):
            continue
        if found is not None:
            return found
    return _Host()


def _zensical_host(md: Markdown) -> _Host | None:
    """Zensical registers its rendering context as the preprocessor ``rendering_context``:
    ``.page.path`` (relative to ``docs_dir``) and ``.config`` (the parsed configuration)."""
    if "rendering_context" not in md.preprocessors:
        return None
    context: Any = md.preprocessors["rendering_context"]  # Zensical's own class
    config: Mapping[str, Any] = context.config
    root = Path(config["root_dir"])
    docs = Path(config["docs_dir"])
    return _Host(source=(root / docs / context.page.path), root=root,
                 language=_language(config.get("theme")))


def _mkdocs_host(md: Markdown) -> _Host | None:
    """MkDocs and ProperDocs register the page's link rewriter as the treeprocessor
    ``relpath``, holding ``.file`` (``abs_src_path``) and ``.config``."""
    if "relpath" not in md.treeprocessors:
        return None
    relpath: Any = md.treeprocessors["relpath"]  # MkDocs' own class
    config = relpath.config
    config_file = config.get("config_file_path") if hasattr(config, "get") else None
    return _Host(source=Path(relpath.file.abs_src_path) if relpath.file.abs_src_path else None,
                 root=Path(config_file).resolve().parent if config_file else None,
                 language=_language(config.get("theme") if hasattr(config, "get") else None))


def _language(theme: Any) -> str | None:
    try:
        language = theme.get("language") if theme is not None else None
    except AttributeError:
        return None
    return str(language) if language else None


def _resolve(root: Path | None, path: str) -> Path:
    given = Path(path).expanduser()
    return given if given.is_absolute() or root is None else root / given


def _page_for(text: str, host: _Host) -> Page:
    """The page as the verifier sees it: its file when the host names one whose blocks are the
    ones in ``text`` (then lines count the front matter too), else ``text`` itself."""
    if host.source is not None:
        try:
            source = read_text(host.source).replace("\r\n", "\n").replace("\r", "\n")
            page = _page(source.lstrip("\ufeff"), _display_path(host.source))
            locate_blocks(page, text.split("\n"))
            return page
        except (SnippetRunnerError, OSError, ValueError):
            pass  # not readable, or not what was handed over: draw what was handed over
    return _page(text, _display_path(host.source) if host.source else Path("<markdown>"))


def _page(text: str, path: Path) -> Page:
    """Extract and scan ``text`` (as `api.page_from_text`, which this layer may not import)."""
    snippets = tuple(extract(text, path, require_closed=True))
    return Page(path=path, text=text, snippets=snippets,
                fixes=tuple(find_fixes(text, snippets, path)))


def _display_path(path: Path) -> Path:
    """As messages name a file: relative to the working directory when inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else Path(rel)


_WARNED: set[Path] = set()
"""Results directories already warned about in this process (a host renders every page in
one process: one warning per build, not one per page)."""


def _warn_once(results: Path) -> None:
    if results in _WARNED:
        return
    _WARNED.add(results)
    log.warning(
        "snippet-runner: no verification was recorded in %s, so every shell block is drawn "
        "'not verified'. Run 'snippet-runner check' on the pages before building, with the same "
        "cache directory (the extension's cache_dir option); note that 'zensical build --clean' "
        "deletes .cache/, results included.", results)


def _require_verified(page: Page, report: PageReport | None) -> None:
    """DrawError naming the first shown block with no recorded pass (``require_verified``)."""
    passed = {o.snippet.index for o in (report.outcomes if report else ())
              if o.status is Status.PASSED}
    missing = [s for s in page.snippets if not s.options.hide and s.options.skip is None
               and s.index not in passed]
    if missing:
        raise DrawError(
            f"{missing[0].location}: no recorded result of this block passed "
            f"({len(missing)} such block(s) on the page): run 'snippet-runner check' on this "
            "page before building, with the same cache_dir, engine and settings "
            "(require_verified is set)."
        )


def makeExtension(**kwargs: Any) -> SnippetRunnerExtension:  # Python-Markdown's name
    """The entry point Python-Markdown looks for (``snippet_runner.site.extension``)."""
    return SnippetRunnerExtension(**kwargs)
