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
from urllib.parse import urljoin, urlsplit

import pytest
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = Path(sys.executable).parent / "mkdocs"
SEED = Path(__file__).parent / "importer_data" / "2021-09-13-post-docker-network.md"
POST_URL = "posts/2021-09-13-post-docker-network/"
DIAGRAMS = ROOT / "assets" / "diagrams"
SVG_NS = "{http://www.w3.org/2000/svg}"

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


def test_post_page_is_korean_and_keeps_the_seed_sentences(built: Path) -> None:
    raw, page = _page(built, POST_URL)
    assert re.search(r'<html lang="ko"', raw)
    assert "<title>도커(4) - Host - 도커 노트</title>" in raw
    text = re.sub(r"\s+", " ", html.unescape("".join(page.chunks)))
    sentences = _seed_sentences()
    assert len(sentences) >= 25
    missing = [s for s in sentences if s not in text]
    # The page is the seed's import; the verified-snippet work corrects a few factual errors and
    # explains each in an editor's note ("편집자 주"). Anything more means content was lost.
    assert len(missing) <= 5, missing
    assert not missing or "편집자 주" in text, missing
    # Korean anchors (pymdownx.slugs.slugify) instead of "#_1".
    for anchor in ("도커와-호스트", "포트", "볼륨", "마치며"):
        assert f'id="{anchor}"' in raw
    assert 'id="_1"' not in raw


def test_landing_page_links_the_post(built: Path) -> None:
    raw, _ = _page(built, "")
    assert '<html lang="ko"' in raw
    assert 'href="posts/2021-09-13-post-docker-network/"' in raw


def test_site_wiring_is_built(built: Path) -> None:
    raw, _ = _page(built, POST_URL)
    assert (built / "assets" / "stylesheets" / "site.css").is_file()
    assert (built / "assets" / "javascripts" / "copy-commands.js").is_file()
    assert "assets/stylesheets/site.css" in raw and "assets/javascripts/copy-commands.js" in raw
    assert 'class="md-tag' in raw  # tags plugin shows the post's tags
    assert 'data-md-component="palette"' in raw  # light/dark toggle
    assert "content.code.copy" in raw
    assert not list(built.rglob("*.py")) and not list(built.rglob("*.yml"))  # sources stay out


# ----------------------------------------------------------------------------- diagrams


@pytest.mark.parametrize("name", ["bridge.ko", "host.ko", "bridge.en", "host.en"])
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
    for lang in ("ko", "en"):
        for name in ("bridge", "host"):
            expected = getattr(module, name)(lang)
            actual = (DIAGRAMS / f"{name}.{lang}.svg").read_text(encoding="utf-8")
            assert actual == expected, f"run assets/diagrams/make_diagrams.py ({name}.{lang})"


def test_post_shows_both_diagrams_with_alt_text(built: Path) -> None:
    _, page = _page(built, POST_URL)
    svgs = [img for img in page.images if (img.get("src") or "").endswith(".svg")]
    assert [Path(urlsplit(img["src"] or "").path).name for img in svgs] == [
        "bridge.ko.svg", "host.ko.svg",
    ]
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
                sizes = page.evaluate(
                    "Array.from(document.querySelectorAll('article img'))"
                    ".map(i => [i.currentSrc, i.naturalWidth, i.clientWidth])"
                )
                assert len(sizes) == 2 and all(n > 0 and w > 0 for _, n, w in sizes), sizes
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
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        f"INHERIT: {ROOT / 'mkdocs.yml'}\n"
        f"docs_dir: {docs}\n"
        "nav: [index.md]\n"
        "watch: []\n"
        "hooks: []\n"  # the real hooks are paths relative to the real mkdocs.yml
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
