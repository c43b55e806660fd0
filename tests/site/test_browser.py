"""The built site in headless Chromium (Debian's, never a downloaded one): Hangul glyphs, both
diagrams in light and dark schemes, the copy button, the language switch, search, and no
request to any host but the local server.

Set SCREENSHOT_DIR to keep screenshots of the Korean, English and dark pages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from i18n_site import POST, Site, built_site

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return built_site(tmp_path_factory)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed (bootstrap installs it)"
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(params=["light"])
def page(request: pytest.FixtureRequest, browser: Any, site: Site) -> Iterator[Any]:
    """A fresh page whose every request is recorded; the test fails if one leaves 127.0.0.1."""
    yield from _page(browser, site, request.param)


def _page(browser: Any, site: Site, scheme: str) -> Iterator[Any]:
    context = browser.new_context(
        color_scheme=scheme, viewport={"width": 1280, "height": 900}, locale="ko-KR"
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url.rstrip("/"))
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    context.set_default_timeout(15_000)
    p = context.new_page()
    yield p
    context.close()
    foreign = [u for u in requests if not u.startswith((site.url, "data:", "blob:"))]
    assert requests and not foreign, f"requests left localhost: {foreign}"


def shoot(p: Any, name: str) -> None:
    target = os.environ.get("SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        p.screenshot(path=str(Path(target) / f"{name}.png"), full_page=False)


def test_post_renders_hangul_with_a_korean_font(page: Any, site: Site) -> None:
    page.goto(site.url + POST)
    page.wait_for_load_state("networkidle")
    shoot(page, "ko")
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "article p"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    text = page.inner_text("article p")
    assert any("\uac00" <= ch <= "\ud7a3" for ch in text)
    # The glyphs come from a font that has Hangul, not from a fallback box.
    korean = [f for f in fonts if "CJK" in f["familyName"] or "KR" in f["familyName"]]
    assert korean and sum(f["glyphCount"] for f in korean) > 0, fonts


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_both_diagrams_display(browser: Any, site: Site, scheme: str, lang: str) -> None:
    for p in _page(browser, site, scheme):
        p.goto(site.url + ("" if lang == "ko" else "en/") + POST)
        p.wait_for_load_state("networkidle")
        expected = "slate" if scheme == "dark" else "default"
        assert p.get_attribute("body", "data-md-color-scheme") == expected
        for name in ["bridge", "host"]:
            img = p.locator(f'article img[src$="{name}.{lang}.svg"]')
            img.scroll_into_view_if_needed()
            assert img.evaluate("el => el.complete && el.naturalWidth") > 0, name
            box = img.bounding_box()
            assert box and box["width"] > 100 and box["height"] > 50, (name, box)
        if scheme == "dark" and lang == "ko":
            p.locator('article img[src$="bridge.ko.svg"]').scroll_into_view_if_needed()
            shoot(p, "dark")


def test_copy_button_copies_commands_only(page: Any, site: Site) -> None:
    page.goto(site.url + POST)
    page.wait_for_load_state("networkidle")
    blocks = page.locator("article .highlight")
    assert blocks.count() > 0
    # Prefer a block that shows output: that is where copying everything would go wrong.
    chosen = None
    for i in range(blocks.count()):
        lines = blocks.nth(i).locator("code").text_content().splitlines()
        if any(line.startswith("$ ") for line in lines):
            chosen = (blocks.nth(i), lines)
            if any(ln and not ln.startswith(("$ ", "#")) for ln in lines):
                break
    assert chosen, "no shell block with a command on the post"
    block, lines = chosen
    commands = [ln[2:] for ln in lines if ln.startswith("$ ")]
    outputs = [ln for ln in lines if ln.strip() and not ln.startswith(("$ ", "#"))]
    block.hover()
    block.locator('button.md-code__button[data-md-type="copy"]').click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.strip() == "\n".join(commands).strip()
    assert not any(line.startswith("$ ") for line in copied.splitlines())
    assert not any(out in copied.splitlines() for out in outputs)


def switch_to(page: Any, lang: str) -> None:
    page.hover(".md-header__option .md-select")
    with page.expect_navigation():
        page.click(f'.md-select__link[hreflang="{lang}"]')


def test_language_switch_keeps_the_page(page: Any, site: Site) -> None:
    page.goto(site.url + POST)
    switch_to(page, "en")
    assert page.url == site.url + "en/" + POST
    assert page.get_attribute("html", "lang") == "en"
    page.wait_for_load_state("networkidle")
    shoot(page, "en")
    switch_to(page, "ko")
    assert page.url == site.url + POST
    assert page.get_attribute("html", "lang") == "ko"


@pytest.mark.parametrize(
    ("lang", "query", "expected"),
    [("ko", "엔진", f"{POST}#포트"), ("ko", "디렉토리를", f"{POST}#볼륨"),
     ("en", "volumes", f"{POST}#volumes")],
    ids=["ko-compound", "ko-particle", "en"],
)
def test_search_finds_the_section(
    page: Any, site: Site, lang: str, query: str, expected: str
) -> None:
    base = site.url + ("" if lang == "ko" else "en/")
    page.goto(base)
    page.wait_for_load_state("networkidle")
    page.click("input.md-search__input")  # the header's search field (wide screens)
    page.fill("input.md-search__input", query)
    # Material searches on keyup; filling Hangul inserts text without key events.
    page.press("input.md-search__input", "End")
    links = page.locator(".md-search-result__item a.md-search-result__link")
    links.first.wait_for()
    # Material appends ?h=<terms> (for highlighting) before the #anchor: drop the query only.
    hrefs = [unquote(urlsplit(h)._replace(query="").geturl())
             for h in links.evaluate_all("els => els.map(e => e.href)")]
    assert base + expected in hrefs, hrefs
    if lang == "ko":
        shoot(page, f"search-{query}")
