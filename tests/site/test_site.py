"""The Korean site: a real strict `mkdocs build`, the post, the diagrams, the offline rule, and
(in Chromium) no foreign requests and a copy button that copies commands only."""

from __future__ import annotations

import functools
import html
import http.server
import importlib.util
import os
import re
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from i18n_site import built_site
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = Path(sys.executable).parent / "mkdocs"
SEED = Path(__file__).parent / "importer_data" / "2021-09-13-post-docker-network.md"
POST_URL = "posts/2021-09-13-post-docker-network/"
DIAGRAMS = ROOT / "assets" / "diagrams"
SVG_NS = "{http://www.w3.org/2000/svg}"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]

# URLs that Material's own JavaScript bundle contains but never requests on this site; each is
# paired with a check below that its trigger is absent.
VENDOR_URLS_NEVER_LOADED = {
    "https://unpkg.com/mermaid@11/dist/mermaid.min.js": "only for ```mermaid blocks (none here)",
    "https://unpkg.com/resize-observer-polyfill": "only in browsers without ResizeObserver",
    "https://api.github.com/repos/${e}/${t}": "only with a GitHub repo_url (none set)",
    "https://api.github.com/users/${e}": "only with a GitHub repo_url (none set)",
    "https://${e}/api/v4/projects/${encodeURIComponent(t": "only with a GitLab repo_url",
    "https://bit.ly/2s3ChXG": "text of a console warning for a bad search query",
}
XML_NAMESPACES = (
    "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink",
    "http://www.w3.org/1998/Math/MathML", "http://www.sitemaps.org/schemas/sitemap/0.9",
)


def _build(config: Path, dest: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SITE_URL": ""}
    return subprocess.run(
        [str(MKDOCS), "build", "--strict", "-f", str(config), "-d", str(dest)],
        cwd=ROOT, capture_output=True, text=True, check=False, env=env,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    proc = _build(ROOT / "mkdocs.yml", site)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr, proc.stderr
    return site


class _Text(HTMLParser):
    """Visible text of the article, and every <img>."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "img":
            self.images.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.chunks.append(data)


def _page(site: Path, url: str) -> tuple[str, _Text]:
    raw = (site / url / "index.html").read_text(encoding="utf-8")
    parser = _Text()
    parser.feed(raw)
    return raw, parser


def _seed_sentences() -> list[str]:
    """The seed's prose as a reader sees it (inline markup dropped), sentence by sentence."""
    body = SEED.read_text(encoding="utf-8").split("---\n", 2)[2]
    out: list[str] = []
    for tok in MarkdownIt("commonmark").parse(body):
        if tok.type != "inline" or tok.children is None or "![" in tok.content:
            continue
        parts = [c.content if c.type in ("text", "code_inline") else " "
                 for c in tok.children if c.type in ("text", "code_inline", "softbreak")]
        text = "".join(parts)
        text = re.sub(r"\s+", " ", text).strip()
        out += [s for s in re.split(r"(?<=[.!?:])\s+", text) if s]
    return out


# ----------------------------------------------------------------------------- build and page


class _Notes(HTMLParser):
    """The article's text split in two: inside admonitions, and everywhere else."""

    def __init__(self) -> None:
        super().__init__()
        self.notes: list[list[str]] = []
        self.outside: list[str] = []
        self._depth = 0  # <div> nesting inside the current admonition, 0 outside any
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "div" and self._depth:
            self._depth += 1
        elif tag == "div" and "admonition" in (dict(attrs).get("class") or "").split():
            self._depth = 1
            self.notes.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        if tag == "div" and self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            (self.notes[-1] if self._depth else self.outside).append(data)


def _flat(chunks: list[str]) -> str:
    return re.sub(r"\s+", " ", html.unescape("".join(chunks)))


def test_post_page_is_korean_and_keeps_the_seed_sentences(built: Path) -> None:
    """Every sentence of the seed is on the page: in the page's own prose as written, or —
    where the verified-snippet work corrected it — quoted in full in an editor's note."""
    raw, _ = _page(built, POST_URL)
    assert re.search(r'<html lang="ko"', raw)
    assert "<title>도커(4) - Host - 도커 노트</title>" in raw
    parts = _Notes()
    parts.feed(raw)
    prose = _flat(parts.outside)
    notes = [_flat(n) for n in parts.notes if _flat(n).lstrip().startswith("편집자 주")]
    assert len(notes) == 3, notes
    sentences = _seed_sentences()
    assert len(sentences) >= 25
    quoted = [s for s in sentences if s not in prose]
    lost = [s for s in quoted if not any(f'"{s}"' in note for note in notes)]
    assert not lost, lost
    # The corrections stay few; more would mean the page no longer tells the seed's story.
    assert 1 <= len(quoted) <= 3, quoted
    # Korean anchors (pymdownx.slugs.slugify) instead of "#_1".
    for anchor in ("도커와-호스트", "포트", "볼륨", "마치며"):
        assert f'id="{anchor}"' in raw
    assert 'id="_1"' not in raw


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_host_mode_output_is_explained_beside_it(lang: str) -> None:
    """The verified `--net=host` output is the sandbox's (no eth0); right below it a note says
    the sandbox stands in for the host, and an example marked unverified (skipped, shown as
    "not run") shows what a typical Linux host prints, eth0 included (issue #16)."""
    from snippet_runner.api import load_page

    path = ROOT / "docs" / lang / "posts" / "2021-09-13-post-docker-network.md"
    page = load_page(path)
    command = "docker run --rm --net=host test:latest ip -4 addr"
    blocks = [s for s in page.snippets if [c.text for c in s.commands] == [command]]
    assert [b.options.skip is None for b in blocks] == [True, False], blocks
    verified, example = blocks
    assert not any("eth0" in line for line in verified.commands[0].expected)
    assert any(re.match(r"\d+: eth0: ", line) for line in example.commands[0].expected)
    assert ("확인하지 않은 예시" if lang == "ko" else "unverified example") in (
        example.options.skip or "")
    lines = path.read_text(encoding="utf-8").splitlines()
    between = "\n".join(lines[verified.end_line:example.location.line])
    title = "여기서는 샌드박스가 호스트입니다" if lang == "ko" else "Here, the sandbox is the host"
    assert f'!!! info "{title}"' in between
    assert "`lo`, `docker0`" in between and "`eth0`" in between


def test_landing_page_links_the_post(built: Path) -> None:
    raw, _ = _page(built, "")
    assert '<html lang="ko"' in raw
    assert 'href="posts/2021-09-13-post-docker-network/"' in raw


def test_site_wiring_is_built(built: Path) -> None:
    raw, _ = _page(built, POST_URL)
    assert (built / "assets" / "stylesheets" / "site.css").is_file()
    # The plugin's own files come from the package, not from the repository's assets/.
    for name in ("verified.css", "copy-commands.css", "copy-commands.js"):
        assert (built / "assets" / "snippet-runner" / name).is_file(), name
        assert f"assets/snippet-runner/{name}" in raw, name
    assert "assets/stylesheets/site.css" in raw
    assert 'class="md-tag' in raw  # tags plugin shows the post's tags
    assert 'data-md-component="palette"' in raw  # light/dark toggle
    assert "content.code.copy" in raw
    assert not list(built.rglob("*.py")) and not list(built.rglob("*.yml"))  # sources stay out


# ----------------------------------------------------------------------------- diagrams


DIAGRAM_NAMES = [f"{name}.{lang}" for lang in ("ko", "en")
                 for name in ("bridge", "bridge-narrow", "host", "host-narrow")]


@pytest.mark.parametrize("name", DIAGRAM_NAMES)
def test_diagram_is_valid_svg_with_title_desc_and_viewbox(name: str) -> None:
    root = ET.parse(DIAGRAMS / f"{name}.svg").getroot()
    assert root.tag == f"{SVG_NS}svg"
    assert len(root.get("viewBox", "").split()) == 4
    title, desc = root.find(f"{SVG_NS}title"), root.find(f"{SVG_NS}desc")
    assert title is not None and desc is not None
    assert title.text and desc.text and len(desc.text) > 80
    hangul = re.search(r"[가-힣]", title.text + desc.text)
    assert bool(hangul) == name.endswith(".ko")


def test_diagrams_match_their_generator() -> None:
    spec = importlib.util.spec_from_file_location("make_diagrams", DIAGRAMS / "make_diagrams.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = {p.name for p in DIAGRAMS.glob("*.svg")}
    assert written == {f"{n}.svg" for n in DIAGRAM_NAMES}
    for lang in ("ko", "en"):
        for name, draw in module.DRAWINGS.items():
            actual = (DIAGRAMS / f"{name}.{lang}.svg").read_text(encoding="utf-8")
            assert actual == draw(lang), f"run assets/diagrams/make_diagrams.py ({name}.{lang})"


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("layout", ["host", "host-narrow"])
def test_host_diagram_says_what_is_true_today(layout: str, lang: str) -> None:
    """Linux shares the host's stack; Docker Desktop's containers share its VM's, and 4.34+ can
    opt in to host networking — no "not shared with the host" cross any more (issue #16)."""
    svg = (DIAGRAMS / f"{layout}.{lang}.svg").read_text(encoding="utf-8")
    labels = " ".join(t.text or "" for t in ET.fromstring(svg).iter(f"{SVG_NS}text"))
    words = {
        "ko": ("리눅스 호스트", "가상머신", "Docker Desktop", "4.34 이상", "켜면", "기본으로 꺼져"),
        "en": ("Linux host", "VM", "Docker Desktop", "4.34 and later", "turned on",
               "off by default"),
    }[lang]
    assert all(w in labels for w in words), (words, labels)
    for stale in ("공유되지 않음", "따로 분리됨", "not shared", "kept apart"):
        assert stale not in labels
    assert "#cf222e" not in svg  # the red cross


def test_post_shows_both_diagrams_with_alt_text(built: Path) -> None:
    raw, page = _page(built, POST_URL)
    svgs = [img for img in page.images if (img.get("src") or "").endswith(".svg")]
    assert [Path(urlsplit(img["src"] or "").path).name for img in svgs] == [
        "bridge.ko.svg", "bridge-narrow.ko.svg", "host.ko.svg", "host-narrow.ko.svg",
    ]
    # Each one is a link to its own SVG (a tap opens it full size).
    links = re.findall(r'<a href="([^"]+)"[^>]*><img [^>]*src="([^"]+)"', raw)
    assert [href for href, src in links if src.endswith(".svg")] == [
        src for _, src in links if src.endswith(".svg")] and len(links) >= 4
    for img in svgs:
        assert len(img.get("alt") or "") > 40
        target = urljoin(f"/{POST_URL}", img["src"] or "")
        built_file = built / target.lstrip("/")
        assert built_file.is_file()
        assert built_file.read_bytes() == (DIAGRAMS / built_file.name).read_bytes()


# ----------------------------------------------------------------------------- offline rule


def _strip_comments(text: str, suffix: str) -> str:
    """Licence banners and notes name their authors' sites; comments never load anything."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"(?:<|\\3c\s?)!--.*?--(?:>|\\3e\s?)", "", text, flags=re.S)  # in data: SVGs
    if suffix == ".js":
        text = re.sub(r"(?m)(?:^|[ \t;{}])//[^\n]*", "", text)
    return text


def _foreign_urls(site: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(site.rglob("*")):
        if path.suffix not in (".html", ".css", ".js", ".xml", ".svg", ".json"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix in (".css", ".js"):
            text = _strip_comments(text, path.suffix)
        urls = set(re.findall(r"https?://[^\s\"'`<>)\\]+", text))
        # Protocol-relative references load from another host too.
        urls |= set(re.findall(
            r"(?:src=|href=|url\(|@import)\s*[\"']?(//[A-Za-z0-9.-]+[^\s\"'`<>)\\]*)", text
        ))
        urls -= {u for u in urls if u.rstrip("/").startswith(XML_NAMESPACES)}
        if path.suffix == ".js":
            urls -= set(VENDOR_URLS_NEVER_LOADED)
        if urls:
            found[str(path.relative_to(site))] = urls
    return found


def test_no_built_file_references_another_host(built: Path) -> None:
    assert _foreign_urls(built) == {}
    # The allow-listed vendor URLs stay dormant: no mermaid block, no repository link.
    for page in built.rglob("*.html"):
        raw = page.read_text(encoding="utf-8")
        assert 'class="mermaid"' not in raw and "md-source" not in raw, page


def test_offline_scan_can_fail(built: Path, tmp_path: Path) -> None:
    bad = tmp_path / "site"
    bad.mkdir()
    (bad / "index.html").write_text(
        '<link href="https://fonts.googleapis.com/css?family=Roboto" rel="stylesheet">', "utf-8"
    )
    (bad / "x.css").write_text("/* https://ok.example */ @import url(//cdn.example.com/a.css);",
                               "utf-8")
    found = _foreign_urls(bad)
    assert found == {
        "index.html": {"https://fonts.googleapis.com/css?family=Roboto"},
        "x.css": {"//cdn.example.com/a.css"},
    }


# ----------------------------------------------------------------------------- in Chromium


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(built: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(built))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    return sync_playwright()


def _record(into: list[str], request: object) -> None:
    into.append(request.url)  # type: ignore[attr-defined]


@pytest.mark.browser
def test_page_requests_nothing_from_another_host_and_diagrams_render(served: str) -> None:
    with _browser() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            for scheme in ("default", "slate"):
                page = browser.new_page()
                requests: list[str] = []
                page.on("request", functools.partial(_record, requests))
                index = 0 if scheme == "default" else 1
                page.add_init_script(  # Material keeps the reader's palette choice here
                    f"localStorage.setItem('/.__palette', JSON.stringify({{index: {index}, "
                    f"color: {{scheme: '{scheme}'}}}}))"
                )
                page.goto(served + POST_URL)
                page.wait_for_load_state("networkidle")
                assert page.evaluate("document.body.dataset.mdColorScheme") == scheme
                # The wide layouts show on a desktop; the narrow ones (lazy) are not fetched.
                sizes = page.evaluate(
                    "Array.from(document.querySelectorAll('article img'))"
                    ".filter(i => getComputedStyle(i).display !== 'none')"
                    ".map(i => [i.currentSrc, i.naturalWidth, i.clientWidth])"
                )
                assert len(sizes) == 2 and all(n > 0 and w > 0 for _, n, w in sizes), sizes
                assert not any("-narrow." in u for u in requests), requests
                foreign = [u for u in requests if not u.startswith(served)]
                assert foreign == [] and len(requests) > 5
                font = page.evaluate("getComputedStyle(document.body).fontFamily")
                assert "Noto Sans KR" in font or "Noto Sans CJK KR" in font
                page.close()
        finally:
            browser.close()


COPY_PAGE = '''# 복사

```bash
# comment lines are not copied
$ docker run --rm \\
    test:latest echo hi
hi
$ echo two
two
```

```console
$ docker ps
CONTAINER ID   IMAGE
```

```bash
echo a script
echo without prompts
```

<div class="highlight"><pre><code><span class="gp sr-prompt">$ </span>echo marked
<span class="sr-output">marked
</span></code></pre></div>
'''


@pytest.mark.browser
def test_copy_button_copies_commands_without_prompts_or_output(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text(COPY_PAGE, encoding="utf-8")
    # The script and its stylesheet alone, without the plugin (which would draw the blocks).
    static = ROOT / "snippet_runner" / "site" / "static"
    for name in ("copy-commands.js", "copy-commands.css"):
        (docs / name).write_bytes((static / name).read_bytes())
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        f"INHERIT: {ROOT / 'mkdocs.yml'}\n"
        f"docs_dir: {docs}\n"
        "nav: [index.md]\n"
        "watch: []\n"
        "extra_css: [copy-commands.css]\n"
        "extra_javascript: [copy-commands.js]\n"
        # Not the snippet_runner extension mkdocs.yml lists: it would draw the blocks too.
        "markdown_extensions:\n  - pymdownx.highlight:\n      pygments_lang_class: true\n"
        "  - pymdownx.superfences\n"
        f"plugins:\n  - search\n  - shared-assets:\n      dir: {ROOT / 'assets'}\n",
        encoding="utf-8",
    )
    site = tmp_path / "site"
    proc = _build(config, site)
    assert proc.returncode == 0, proc.stderr
    with _browser() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            context = browser.new_context()
            context.grant_permissions(["clipboard-read", "clipboard-write"])
            page = context.new_page()
            page.goto((site / "index.html").as_uri())
            page.wait_for_load_state("load")
            buttons = page.locator("[data-clipboard-target]")
            copied = []
            for i in range(buttons.count()):
                page.locator(".highlight").nth(i).hover()
                buttons.nth(i).click()
                page.wait_for_timeout(100)
                copied.append(page.evaluate("navigator.clipboard.readText()"))
        finally:
            browser.close()
    assert copied == [
        "docker run --rm \\\n    test:latest echo hi\necho two",
        "docker ps",
        "echo a script\necho without prompts",
        "echo marked",
    ]


# ----------------------------------------------------------------------------- on a phone

PHONE = {"width": 390, "height": 844}
LEGIBLE_PX = 12.0
"""The smallest label height, in CSS pixels, a diagram may draw on a 390 px phone."""


def _smallest_label(svg: Path) -> tuple[float, float]:
    """(smallest font size, viewBox width) of a diagram."""
    root = ET.parse(svg).getroot()
    sizes = [float(t.get("font-size") or 0) for t in root.iter(f"{SVG_NS}text")]
    return min(sizes), float(root.get("viewBox", "0 0 0 0").split()[2])


def _shown_diagrams(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate(
        "Array.from(document.querySelectorAll('article img'))"
        ".filter(i => getComputedStyle(i).display !== 'none')"
        ".map(i => ({src: i.getAttribute('src'), width: i.clientWidth,"
        "            href: i.closest('a') && i.closest('a').href}))"))


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_diagrams_are_legible_on_a_phone_and_open_full_size(
        lang: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """At 390 px each diagram is drawn in its narrow layout with labels of 12 px or more, and a
    tap opens its SVG, which fills the screen's width (labels legible there too); a desktop
    gets the wide layout, linked to itself. Screenshots land in SCREENSHOT_DIR when it is set."""
    site = built_site(tmp_path_factory)
    edition = site.root if lang == "ko" else site.root / "en"
    post = site.url + ("" if lang == "ko" else "en/") + POST_URL
    shots = os.environ.get("SCREENSHOT_DIR")
    with _browser() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            for scheme in ("light", "dark"):
                phone = browser.new_context(viewport=PHONE, device_scale_factor=3,
                                            is_mobile=True, has_touch=True, color_scheme=scheme)
                page = phone.new_page()
                page.goto(post)
                for name in ("bridge", "host"):
                    img = page.locator(f'article img[src$="{name}-narrow.{lang}.svg"]')
                    img.scroll_into_view_if_needed()
                    page.wait_for_function("i => i.complete && i.clientHeight > 100",
                                           arg=img.element_handle())
                    if shots:
                        page.screenshot(path=f"{shots}/phone-{name}.{lang}.{scheme}.png")
                shown = _shown_diagrams(page)
                assert [Path(d["src"]).name for d in shown] == [
                    f"bridge-narrow.{lang}.svg", f"host-narrow.{lang}.svg"], shown
                for diagram in shown:
                    size, width = _smallest_label(edition / "assets" / "diagrams"
                                                  / Path(diagram["src"]).name)
                    drawn = size * diagram["width"] / width
                    assert drawn >= LEGIBLE_PX, (diagram, drawn)
                    assert diagram["href"].endswith(Path(diagram["src"]).name)
                # A tap opens the SVG itself; it fills the screen's width.
                page.locator(f'article img[src$="host-narrow.{lang}.svg"]').tap()
                page.wait_for_url(f"**/host-narrow.{lang}.svg")
                fit = page.evaluate("document.documentElement.getBoundingClientRect().width"
                                    " * visualViewport.scale")
                size, width = _smallest_label(edition / "assets" / "diagrams"
                                              / f"host-narrow.{lang}.svg")
                assert fit >= PHONE["width"] * 0.9 and size * fit / width >= LEGIBLE_PX, fit
                if shots and scheme == "light":
                    page.screenshot(path=f"{shots}/phone-host-opened.{lang}.png")
                phone.close()
            desktop = browser.new_page(viewport={"width": 1280, "height": 900})
            desktop.goto(post)
            shown = _shown_diagrams(desktop)
            assert [Path(d["src"]).name for d in shown] == [
                f"bridge.{lang}.svg", f"host.{lang}.svg"], shown
            assert all(d["href"].endswith(Path(d["src"]).name) for d in shown), shown
        finally:
            browser.close()


@pytest.mark.browser
def test_diagram_labels_stay_inside_their_boxes_and_apart() -> None:
    """Every label of every diagram, as Chromium lays it out with the site's fonts: within its
    innermost box (so a longer translation can't spill out) and clear of every other label."""
    with _browser() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            problems: list[str] = []
            for svg in sorted(DIAGRAMS.glob("*.svg")):
                page.goto(svg.as_uri())
                problems += [f"{svg.name}: {p}" for p in _layout_problems(page)]
        finally:
            browser.close()
    assert problems == []


@pytest.mark.browser
def test_the_layout_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.svg"
    bad.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 200">'
        '<rect x="0" y="0" width="300" height="200"/>'
        '<rect x="10" y="10" width="60" height="40"/>'
        '<text x="40" y="35" font-size="14" text-anchor="middle">far too long a label</text>'
        '<text x="150" y="120" font-size="14">one</text>'
        '<text x="155" y="124" font-size="14">two</text></svg>', encoding="utf-8")
    with _browser() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(bad.as_uri())
            problems = _layout_problems(page)
        finally:
            browser.close()
    assert problems == ["'far too long a label' leaves its box", "'one' overlaps 'two'"]


LAYOUT_JS = """() => {
  const boxes = Array.from(document.querySelectorAll('rect')).map(r => r.getBBox())
    .map(b => [b.x, b.y, b.width, b.height])
  const labels = Array.from(document.querySelectorAll('text')).map(t => {
    const b = t.getBBox(), size = parseFloat(t.getAttribute('font-size'))
    // The em box around the baseline: getBBox adds the CJK font's tall line gap.
    return {text: t.textContent, x: b.x, y: parseFloat(t.getAttribute('y')) - 0.82 * size,
            w: b.width, h: size}
  })
  return {boxes, labels}
}"""


def _layout_problems(page: Any) -> list[str]:
    data = page.evaluate(LAYOUT_JS)
    found: list[str] = []
    labels = data["labels"]
    for i, label in enumerate(labels):
        cx, cy = label["x"] + label["w"] / 2, label["y"] + label["h"] / 2
        around = [b for b in data["boxes"]
                  if b[0] <= cx <= b[0] + b[2] and b[1] <= cy <= b[1] + b[3]]
        box = min(around, key=lambda b: b[2] * b[3])
        if not (label["x"] >= box[0] - 1 and label["x"] + label["w"] <= box[0] + box[2] + 1
                and label["y"] >= box[1] - 1 and label["y"] + label["h"] <= box[1] + box[3] + 1):
            found.append(f"{label['text']!r} leaves its box")
        for other in labels[i + 1:]:
            if (label["x"] < other["x"] + other["w"] and other["x"] < label["x"] + label["w"]
                    and label["y"] < other["y"] + other["h"]
                    and other["y"] < label["y"] + label["h"]):
                found.append(f"{label['text']!r} overlaps {other['text']!r}")
    return found
