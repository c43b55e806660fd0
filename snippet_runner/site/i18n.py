"""Language editions that point at each other page by page: the MkDocs plugin
``snippet-runner/editions``.

The site is built once per language (`mkdocs.yml` for Korean at the site root, `mkdocs.en.yml`
for English under `en/`), each listing both editions in `extra.alternate` as Material's language
switcher expects. Material links every switcher entry, and every `<link rel="alternate"
hreflang>` in `<head>`, to the other edition's *root*; its script only keeps the reader on the
same page when the site is served exactly at `site_url` (it looks pages up in sitemap.xml).

This hook makes both kinds of link point at the same page in the other edition whenever that
page exists (`docs/<lang>/<same path>.md`), at build time, so it works from any address and
without JavaScript. Conventions:

* `extra.alternate[0]` is the root edition; the others live in sub-directories of its site;
* each edition's Markdown lives in `docs/<lang>/` (siblings of the current `docs_dir`);
* in a sub-edition, an inherited `site_url` is the root edition's and gets the sub-path added,
  so canonical URLs, sitemap and hreflang URLs are right for both.

A translated page keeps what its shell blocks run and expect identical to the original's
(commands, expected output, options), so the snippet-runner's result cache, which keys only on
those, serves the second edition from the first one's run. The words readers see but that
never run — `#` comment lines and `skip` reasons — are simply written translated in the page's
own blocks; this hook does nothing to blocks.

Enable it by name in every edition's configuration (`plugins: [..., snippet-runner/editions]`;
an edition that INHERITs the root's configuration inherits the plugin too). It has no options.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.pages import Page

from snippet_runner.errors import SnippetRunnerError


@dataclass(frozen=True)
class Edition:
    """One language edition as listed in `extra.alternate`."""

    lang: str
    """BCP 47 language tag (`ko`, `en`), used for `hreflang` and the `docs/<lang>` directory."""
    link: str
    """The edition's root relative to the current edition's root (`en/`, `../`, `./`)."""


def editions(config: Any) -> list[Edition]:
    """The editions of `extra.alternate`, validated; [] if the site has none."""
    raw = (config.get("extra") or {}).get("alternate") or []
    out = []
    for i, alt in enumerate(raw):
        if not isinstance(alt, dict) or not alt.get("lang") or alt.get("link") is None:
            raise SnippetRunnerError(
                f"{config.get('config_file_path')}: extra.alternate[{i}] needs 'lang' and 'link' "
                "(the edition's root relative to this one, e.g. 'en/' or '../')."
            )
        link = str(alt["link"])
        if re.match(r"^[a-z]+:|^/", link):
            raise SnippetRunnerError(
                f"{config.get('config_file_path')}: extra.alternate[{i}].link is {link!r}; "
                "use a path relative to this edition's root (e.g. 'en/' or '../') so the site "
                "works under any sub-path."
            )
        out.append(Edition(lang=str(alt["lang"]), link=link))
    return out


def _root_relative(link: str) -> str:
    """Normalise an edition link to `''` (same root) or a path ending in `/`."""
    norm = posixpath.normpath(link)
    return "" if norm == "." else norm.rstrip("/") + "/"


def edition_subpath(config: Any) -> str:
    """This edition's directory under the root edition's site ('' for the root edition)."""
    eds = editions(config)
    if not eds or eds[0].lang == config["theme"]["language"]:
        return ""
    site_dir = Path(config["site_dir"]).resolve()
    root = (site_dir / _root_relative(eds[0].link)).resolve()
    return site_dir.relative_to(root).as_posix().rstrip("/") + "/"


def counterpart_href(page_url: str, edition_link: str) -> str:
    """Relative href from a page (MkDocs `page.url`) to the same page in another edition."""
    depth = page_url.count("/") if page_url else 0
    up = "../" * depth
    href = up + _root_relative(edition_link) + page_url
    return href or "./"


def _replace_alternates(
    html: str, hrefs: dict[str, str], head_hrefs: dict[str, str] | None = None
) -> str:
    """Point switcher entries at `hrefs`, `<head>` alternates at `head_hrefs` (default: same).

    Entries are matched by hreflang; languages missing from the maps keep Material's link.
    """
    head_hrefs = hrefs if head_hrefs is None else head_hrefs

    def head(m: re.Match[str]) -> str:
        lang = m.group("lang")
        return m.group(0) if lang not in head_hrefs else (
            f'<link rel="alternate" href="{head_hrefs[lang]}" hreflang="{lang}">'
        )

    def switcher(m: re.Match[str]) -> str:
        lang = m.group("lang")
        # target="_self": Material's click handler skips links with a target, so its
        # sitemap-based redirect (to the edition root when the sitemap doesn't resolve,
        # e.g. on localhost) never overrides the page-exact link.
        return m.group(0) if lang not in hrefs else (
            f'<a href="{hrefs[lang]}" hreflang="{lang}" target="_self" class="md-select__link">'
        )

    html = re.sub(
        r'<link rel="alternate" href="[^"]*" hreflang="(?P<lang>[^"]+)">', head, html
    )
    return re.sub(
        r'<a href="[^"]*" hreflang="(?P<lang>[^"]+)" class="md-select__link">', switcher, html
    )


def with_edition_site_url(config: Any) -> Any:
    """A sub-edition's inherited `site_url` gets its sub-path (idempotent)."""
    sub = edition_subpath(config)
    if sub and config.get("site_url"):
        base = str(config["site_url"])
        if not base.rstrip("/").endswith("/" + sub.rstrip("/")):
            config["site_url"] = urljoin(base if base.endswith("/") else base + "/", sub)
    return config


def page_alternates(output: str, page: Any, config: Any) -> str:
    """A page's alternates (switcher and `<head>`) point at its counterparts where they
    exist."""
    eds = editions(config)
    if not eds or page.file is None:
        return output
    docs_root = Path(config["docs_dir"]).parent
    site_url = str(config.get("site_url") or "")
    hrefs: dict[str, str] = {}
    head_hrefs: dict[str, str] = {}
    for ed in eds:
        if not (docs_root / ed.lang / page.file.src_uri).is_file():
            continue  # no translation of this page: keep the edition's root
        # The switcher stays relative (the site works from any address); search engines want
        # absolute hreflang URLs, so <head> gets them whenever site_url is known.
        hrefs[ed.lang] = counterpart_href(page.url, ed.link)
        head_hrefs[ed.lang] = (
            urljoin(urljoin(site_url, _root_relative(ed.link) or "./"), page.url)
            if site_url
            else hrefs[ed.lang]
        )
    return _replace_alternates(output, hrefs, head_hrefs)


def not_found_alternates(output: str, template_name: str, config: Any) -> str:
    """The 404 page's switcher points at each edition's root, by absolute path.

    404.html is served for any missing URL, so MkDocs renders its links as absolute paths from
    `site_url` (or `/`); Material's default would send the English 404 to the Korean root.
    """
    eds = editions(config)
    if template_name != "404.html" or not eds:
        return output
    own_root = urlsplit(str(config.get("site_url") or "")).path or "/" + edition_subpath(config)
    own_root = own_root if own_root.endswith("/") else own_root + "/"
    hrefs = {
        ed.lang: posixpath.normpath(own_root + _root_relative(ed.link)).rstrip("/") + "/"
        for ed in eds
    }
    return _replace_alternates(output, hrefs)


class EditionsPlugin(BasePlugin):  # type: ignore[type-arg,no-untyped-call]  # mkdocs is untyped
    """``snippet-runner/editions``: page-exact language switcher, hreflang links, per-edition
    404 pages and sub-edition `site_url`s (see the module's docstring)."""

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        """Check `extra.alternate`; a sub-edition's inherited `site_url` gets its sub-path."""
        try:
            return with_edition_site_url(config)  # type: ignore[no-any-return]
        except SnippetRunnerError as err:
            raise PluginError(f"snippet-runner/editions: {err}") from None

    def on_post_page(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str:
        """Alternates of this page point at its counterparts where they exist."""
        return page_alternates(output, page, config)

    def on_post_template(self, output_content: str, /, *, template_name: str,
                         config: MkDocsConfig) -> str:
        """Each 404 page links the editions' roots."""
        return not_found_alternates(output_content, template_name, config)
