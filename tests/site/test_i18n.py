"""Two editions from one configuration each: language, page-exact alternates, 404, sitemap and
search per language, and an English post whose shell blocks are the Korean ones once comments and
skip reasons are set aside (so the snippet-runner verifies them once)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest
from i18n_site import POST, ROOT, Site, built_site
from markdown_it import MarkdownIt

from snippet_runner.api import load_page
from snippet_runner.core.cache import block_content
from snippet_runner.errors import SnippetRunnerError
from snippet_runner.site import i18n

DOCS = ROOT / "docs"
SHELL = {"bash", "console", "sh", "shell", "shell-session"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return built_site(tmp_path_factory)


def page(site: Site, lang: str, path: str) -> str:
    sub = "" if lang == "ko" else f"{lang}/"
    target = site.root / sub / path
    return (target / "index.html" if target.is_dir() else target).read_text(encoding="utf-8")


def head_alternates(html: str) -> dict[str, str]:
    return dict(
        (m.group(2), m.group(1))
        for m in re.finditer(r'<link rel="alternate" href="([^"]*)" hreflang="([^"]+)">', html)
    )


def switcher(html: str) -> dict[str, str]:
    return dict(
        (m.group(2), m.group(1))
        for m in re.finditer(r'<a href="([^"]*)" hreflang="([^"]+)"[^>]*md-select__link', html)
    )


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_html_lang_is_the_editions(site: Site, lang: str) -> None:
    for path in ["", POST, "404.html"]:
        assert f'<html lang="{lang}"' in page(site, lang, path), path


def test_post_alternates_point_at_the_same_post(site: Site) -> None:
    ko_url, en_url = site.url + POST, site.url + "en/" + POST
    for lang in ["ko", "en"]:
        html = page(site, lang, POST)
        assert head_alternates(html) == {"ko": ko_url, "en": en_url}
        assert f'<link rel="canonical" href="{ko_url if lang == "ko" else en_url}">' in html
    # The switcher stays relative, so the site works from any address.
    assert switcher(page(site, "ko", POST)) == {"ko": f"../../{POST}", "en": f"../../en/{POST}"}
    assert switcher(page(site, "en", POST)) == {"ko": f"../../../{POST}", "en": f"../../{POST}"}


def test_english_navigation_and_labels_are_english(site: Site) -> None:
    html = page(site, "en", POST)
    nav = re.search(r'(?s)<nav class="md-nav md-nav--primary".*?</nav>\s*</div>', html)
    assert nav, "no primary navigation"
    text = re.sub(r"<[^>]+>", " ", nav.group(0))
    assert not re.findall("[가-힣]+", text), "Korean labels in the English navigation"


def test_each_edition_has_its_own_404(site: Site) -> None:
    for lang, title, base in [("ko", "도커 노트", "/"), ("en", "Docker notes", "/en/")]:
        html = page(site, lang, "404.html")
        assert f"<title>{title}</title>" in html
        assert switcher(html) == {"ko": "/", "en": "/en/"}
        # 404 pages use absolute paths; the English one must load its own assets and index.
        assert re.search(rf'"base":\s*"{base}"', html), lang


@pytest.mark.parametrize(("lang", "prefix"), [("ko", ""), ("en", "en/")])
def test_each_edition_has_its_own_sitemap(site: Site, lang: str, prefix: str) -> None:
    tree = ET.parse(site.root / prefix / "sitemap.xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = {el.text for el in tree.getroot().iterfind("s:url/s:loc", ns)}
    assert site.url + prefix + POST in locs
    if lang == "ko":
        assert not any(loc and "/en/" in loc for loc in locs), "the Korean sitemap lists English"


def fenced_blocks(md: str) -> list[str]:
    """Every fenced block, info string and body."""
    return [t.markup + t.info + "\n" + t.content
            for t in MarkdownIt("commonmark").parse(md) if t.type == "fence"]


_SKIP_REASON = re.compile(r'(\bskip=)"(?:[^"\\]|\\.)*"')
_COMMENT_LINE = re.compile(r"(?m)^[ \t]*#.*\n?")
_TRAILING_COMMENT = re.compile(r"(?m)[ \t]+#[ \t].*$")


def both_editions() -> list[str]:
    ko = {p.relative_to(DOCS / "ko").as_posix() for p in (DOCS / "ko").rglob("*.md")}
    en = {p.relative_to(DOCS / "en").as_posix() for p in (DOCS / "en").rglob("*.md")}
    return sorted(ko & en)


def set_aside_what_never_runs(fence: str) -> str:
    """A fence's text without skip reasons, ``#`` lines and trailing `` # …`` comments."""
    text = _SKIP_REASON.sub(r'\1"…"', fence)
    return _TRAILING_COMMENT.sub("", _COMMENT_LINE.sub("", text))


def runnable_parts(path: Path) -> list[str]:
    """What an edition must share with the other, per block the runner extracts (nested ones
    included): exactly what the result cache keys on (`cache.block_content` — commands as run,
    expected output, options that change the run), plus what it leaves out but readers should
    find alike: the language word, ``hide``, and a skipped block's commands with their trailing
    ``# …`` comments set aside."""
    loaded = load_page(path)
    parts = []
    for s in loaded.snippets:
        parts.append(block_content(loaded, s))
        commands = [_TRAILING_COMMENT.sub("", c.text) for c in s.commands]
        expected = [list(c.expected) for c in s.commands]
        parts.append(json.dumps([s.lang, s.options.hide, commands, expected]))
    return parts


def same_once_comments_and_skip_reasons_are_set_aside(ko: Path, en: Path) -> bool:
    """The rule for a translated page: its blocks are the original's once what never runs (``#``
    comment lines, trailing comments of skipped commands, skip reasons) is set aside."""
    ko_text, en_text = ko.read_text(encoding="utf-8"), en.read_text(encoding="utf-8")
    fences = ([set_aside_what_never_runs(f) for f in fenced_blocks(ko_text)]
              == [set_aside_what_never_runs(f) for f in fenced_blocks(en_text)])
    return fences and runnable_parts(ko) == runnable_parts(en)


@pytest.mark.parametrize("name", both_editions())
def test_translations_keep_every_block_once_comments_and_skip_reasons_are_set_aside(
        name: str) -> None:
    assert same_once_comments_and_skip_reasons_are_set_aside(DOCS / "ko" / name,
                                                            DOCS / "en" / name)


_ORIGINAL = """\
Text.

```console
# 주석
$ echo one   # 실행되는 명령의 주석
one
$ echo two; echo '# 출력'
two
# 출력
```

```console skip="이유"
$ echo never   # 설명
never
```
"""


@pytest.mark.parametrize(
    ("old", "new", "same"),
    [
        ("Text.", "Other prose.", True),
        ("# 주석", "# a comment", True),
        ('skip="이유"', 'skip="a reason"', True),
        ("# 설명", "# a note", True),  # a trailing comment of a command that never runs
        ("$ echo one", "$ echo uno", False),
        ("# 실행되는 명령의 주석", "# a comment of a command that runs", False),
        ("two\n#", "deux\n#", False),
        ("# 출력\n```", "# output\n```", False),  # a `#` line ending a block is output
        ("$ echo never", "$ echo jamais", False),
        ('skip="이유"', "", False),
        ("```console\n#", '```console timeout="5"\n#', False),
        ("```console\n#", '```console hide="true"\n#', False),
    ],
)
def test_the_block_rule_still_fails_on_what_runs_or_is_judged(tmp_path: Path, old: str, new: str,
                                                              same: bool) -> None:
    ko, en = tmp_path / "ko.md", tmp_path / "en.md"
    ko.write_text(_ORIGINAL, encoding="utf-8")
    assert _ORIGINAL.count(old) == 1
    en.write_text(_ORIGINAL.replace(old, new), encoding="utf-8")
    assert same_once_comments_and_skip_reasons_are_set_aside(ko, en) is same


def test_no_page_uses_the_retired_translate_blocks_map() -> None:
    """Comments and skip reasons are translated in the blocks themselves now; a leftover
    `translate_blocks` map would be silently ignored."""
    for md in DOCS.rglob("*.md"):
        assert "translate_blocks" not in md.read_text(encoding="utf-8"), md


def test_english_post_is_translated_and_uses_english_diagrams(site: Site) -> None:
    en = (DOCS / "en" / "posts/2021-09-13-post-docker-network.md").read_text(encoding="utf-8")
    assert [b for b in fenced_blocks(en) if b.split()[0].strip("`~") in SHELL]
    body = en.split("\n---\n", 1)[1]  # after the front matter
    fences = [t.map for t in MarkdownIt("commonmark").parse(body) if t.type == "fence" and t.map]
    prose = "\n".join(
        line for i, line in enumerate(body.splitlines())
        if not any(start <= i < end for start, end in fences)
    )
    assert not re.findall("[가-힣]+", prose), "untranslated Korean outside the blocks"
    html = page(site, "en", POST)
    assert "bridge.en.svg" in html and "host.en.svg" in html and ".ko.svg" not in html
    for svg in ["bridge.en.svg", "host.en.svg", "bridge.ko.svg", "host.ko.svg"]:
        assert list(site.root.glob(f"**/assets/diagrams/{svg}")), svg


def test_english_readers_see_comments_and_skip_reasons_in_english(site: Site) -> None:
    html = page(site, "en", POST)
    shown = re.findall(
        r'(?s)<div class="sr-comment"><pre>(.*?)</pre>'
        r'|<p class="sr-mark sr-mark--skipped"[^>]*>(.*?)</p>',
        html,
    )
    texts = [a or b for a, b in shown]
    assert len(texts) >= 4, texts
    # Korean may remain only as a quoted placeholder of the command, e.g. [생성된 컨테이너].
    leftover = [t for t in texts if re.search("[가-힣]", re.sub(r"\[[^\]]*\]", "", t))]
    assert not leftover, leftover


def test_every_korean_page_has_an_english_edition() -> None:
    ko = {p.relative_to(DOCS / "ko") for p in (DOCS / "ko").rglob("*.md")}
    en = {p.relative_to(DOCS / "en") for p in (DOCS / "en").rglob("*.md")}
    assert ko - en == set()


def _config(tmp: Path, lang: str, alternate: list[dict[str, str]]) -> dict[str, object]:
    return {
        "theme": {"language": lang},
        "extra": {"alternate": alternate},
        "site_dir": str(tmp / "site" / ("" if lang == "ko" else lang)),
        "docs_dir": str(tmp / "docs" / lang),
        "site_url": "https://example.org/notes/",
        "config_file_path": str(tmp / "mkdocs.yml"),
    }


def test_sub_edition_site_url_gets_its_path(tmp_path: Path) -> None:
    alt = [{"lang": "ko", "link": "../"}, {"lang": "en", "link": "./"}]
    config = i18n.with_edition_site_url(_config(tmp_path, "en", alt))
    assert config["site_url"] == "https://example.org/notes/en/"
    again = i18n.with_edition_site_url(config)  # idempotent
    assert again["site_url"] == "https://example.org/notes/en/"
    root = i18n.with_edition_site_url(_config(tmp_path, "ko", [{"lang": "ko", "link": "./"}]))
    assert root["site_url"] == "https://example.org/notes/"


def test_untranslated_page_keeps_the_edition_root(tmp_path: Path) -> None:
    (tmp_path / "docs" / "ko").mkdir(parents=True)
    (tmp_path / "docs" / "ko" / "only-ko.md").write_text("# 한국어만", encoding="utf-8")
    alt = [{"lang": "ko", "link": "./"}, {"lang": "en", "link": "en/"}]
    config = _config(tmp_path, "ko", alt) | {"site_url": ""}
    html = ('<link rel="alternate" href="./" hreflang="ko">'
            '<link rel="alternate" href="en/" hreflang="en">')
    fake = SimpleNamespace(url="only-ko/", file=SimpleNamespace(src_uri="only-ko.md"))
    out = i18n.page_alternates(html, fake, config)
    assert head_alternates(out) == {"ko": "../only-ko/", "en": "en/"}


@pytest.mark.parametrize("link", ["/en/", "https://example.org/en/"])
def test_absolute_alternate_links_are_refused_with_a_clear_message(
    tmp_path: Path, link: str
) -> None:
    config = _config(tmp_path, "ko", [{"lang": "ko", "link": "./"}, {"lang": "en", "link": link}])
    with pytest.raises(SnippetRunnerError, match=r"extra\.alternate\[1\]\.link.*relative"):
        i18n.editions(config)
