"""The built site in headless Chromium (Debian's, never a downloaded one): Hangul glyphs, both
diagrams in light and dark schemes, the copy button, the language switch, search, no request to
any host but the local server — and the reader view of verified blocks on a 390 px touch screen
and a desktop: the copy button clear of command text, no width lost to nested bars, Latin
punctuation drawn by a Latin monospace, a mark whose details open on hover or tap, the page's
summary above its first block.

Set SCREENSHOT_DIR to keep screenshots of the Korean, English and dark pages and of the phone
views.
"""

from __future__ import annotations

import os
import re
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


# -- the reader view on a phone and on a desktop ----------------------------------------------

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "ko-KR"}


@pytest.fixture
def phone(browser: Any, site: Site) -> Iterator[Any]:
    """The post at 390 px on a touch screen (an iPhone 12-14's CSS width)."""
    context = browser.new_context(**PHONE)
    p = context.new_page()
    p.goto(site.url + POST)
    p.wait_for_load_state("networkidle")
    yield p
    context.close()


_OVERLAPS = r"""
() => {
  const hits = [];
  for (const block of document.querySelectorAll("article .sr-command")) {
    const button = block.querySelector('button.md-code__button[data-md-type="copy"]');
    const code = block.querySelector("pre > code");
    if (!button || !code) { hits.push("no copy button: " + block.dataset.copy); continue; }
    const b = button.getBoundingClientRect();
    const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.length; i++) {  // each visible character (a space may hang)
        if (/\s/.test(node.data[i])) continue;
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        for (const r of range.getClientRects()) {
          if (r.width && r.left < b.right && r.right > b.left && r.top < b.bottom
              && r.bottom > b.top)
            hits.push(block.dataset.copy + " :: " + node.data[i]);
        }
      }
    }
  }
  return hits;
}
"""


def test_on_a_phone_the_copy_button_covers_no_command_text(phone: Any) -> None:
    assert phone.locator("article .sr-command").count() >= 10
    assert phone.evaluate(_OVERLAPS) == []
    # Nothing is wider than the screen: long commands wrap, output scrolls in its own box.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    wide = phone.locator("article .sr-command").nth(2)
    wide.scroll_into_view_if_needed()
    shoot(phone, "phone-command")


_WIDTHS = """
() => [...document.querySelectorAll("article .sr-block")].map(block => {
  const width = el => el ? el.getBoundingClientRect().width : null;
  const left = el => el ? el.getBoundingClientRect().left : null;
  return {line: block.dataset.srLine, block: width(block), blockLeft: left(block),
          command: width(block.querySelector(".sr-command pre")),
          commandLeft: left(block.querySelector(".sr-command pre")),
          output: width(block.querySelector(".sr-output")),
          nested: !!block.parentElement.closest("li, .admonition, details, .tabbed-set"),
          viewport: window.innerWidth};
})
"""


def test_on_a_phone_blocks_keep_the_width_for_the_command(phone: Any) -> None:
    """Passing blocks add no bar or indent of their own: the command box is as wide as the
    block, the output as wide as the command; a top-level block spans the screen, as
    Material's own code blocks do; one in a list item keeps most of it."""
    blocks = [b for b in phone.evaluate(_WIDTHS) if b["command"] is not None]
    assert len(blocks) >= 10
    for b in blocks:
        assert abs(b["command"] - b["block"]) < 1 and abs(b["commandLeft"] - b["blockLeft"]) < 1, b
        assert b["output"] is None or abs(b["output"] - b["command"]) < 1, b
        if not b["nested"]:
            assert b["command"] >= b["viewport"] - 1, b
        else:
            assert b["command"] >= 0.8 * b["viewport"], b
    phone.locator("article li .sr-block").first.scroll_into_view_if_needed()
    shoot(phone, "phone-nested")


def test_code_draws_latin_punctuation_with_a_latin_monospace(page: Any, site: Site) -> None:
    """A CJK monospace draws ':' raised in the middle of its em box; in code, a Latin
    monospace comes first and Hangul falls back to the CJK one."""
    page.goto(site.url + POST)
    page.wait_for_load_state("networkidle")
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    nodes = cdp.send("DOM.querySelectorAll", {"nodeId": root,
                                             "selector": "article .sr-command code"})["nodeIds"]
    ascii_only = [n for n in nodes if page.evaluate(
        "t => /^[\\x20-\\x7e\\n]+$/.test(t) && t.includes(':')",
        cdp.send("DOM.getOuterHTML", {"nodeId": n})["outerHTML"].replace("<", " "))]
    assert ascii_only, "no ASCII command with a ':' on the post"
    for node in ascii_only:
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        assert fonts and not [f for f in fonts if "CJK" in f["familyName"]], fonts


def test_a_mark_shows_its_details_on_hover_and_on_tap(browser: Any, page: Any, site: Site,
                                                      phone: Any) -> None:
    page.goto(site.url + POST)
    page.wait_for_load_state("networkidle")
    detail = page.locator(".sr-mark--passed .sr-mark__detail").first
    assert not detail.is_visible()
    page.locator(".sr-mark--passed .sr-mark__badge").first.hover()
    detail.wait_for(state="visible")
    assert re.fullmatch(r"Docker Engine \d+\.\d+\.\d+에서 \d{4}-\d\d-\d\d에 실행해 출력이 같은지 "
                        r"확인했습니다", detail.inner_text())
    badge = phone.locator(".sr-mark--passed .sr-mark__badge").nth(1)
    badge.scroll_into_view_if_needed()
    tapped = phone.locator(".sr-mark--passed .sr-mark__detail").nth(1)
    assert not tapped.is_visible()
    badge.tap()
    tapped.wait_for(state="visible")
    assert badge.get_attribute("aria-expanded") == "true"
    box, screen = tapped.bounding_box(), phone.viewport_size
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= screen["width"]
    shoot(phone, "phone-mark-open")
    phone.locator("article h2").first.tap()
    tapped.wait_for(state="hidden")
    # One small mark per block: nothing but the badge takes a line of its own.
    heights = phone.evaluate("[...document.querySelectorAll('article .sr-mark--passed')]"
                             ".map(m => m.getBoundingClientRect().height)")
    assert heights and max(heights) < 30, heights


def test_the_page_summary_opens_the_post(page: Any, site: Site) -> None:
    for lang, words in (("ko", r"이 페이지의 예제 \d+개를 Docker Engine \d+\.\d+\.\d+에서"),
                        ("en", r"The \d+ examples on this page ran on Docker Engine \d+\.\d+")):
        page.goto(site.url + ("" if lang == "ko" else "en/") + POST)
        page.wait_for_load_state("networkidle")
        summary = page.locator("article .sr-summary--passed")
        assert summary.count() == 1 and re.search(words, summary.inner_text())
        first_block = page.locator("article .sr-block").first.bounding_box()
        assert summary.bounding_box()["y"] < first_block["y"]
        assert "dfsg" not in page.content()
