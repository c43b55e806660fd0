"""One Markdown extension, every host: real ``mkdocs``, ``properdocs`` and ``zensical build``s.

* Zensical (pinned 0.0.73) runs no MkDocs plugin: it draws from what ``snippet-runner check``
  recorded. Without a check every block is a correct code block marked "not verified"; after
  one, the blocks are drawn exactly as the MkDocs build (whose plugin verifies) draws them.
* MkDocs without the plugin, with the extension alone in ``markdown_extensions``, does the same.
* ProperDocs draws exactly as MkDocs.

The quick tests use the ``local`` backend in a small site; the Korean post itself, checked in the
real sandbox, is compared in ``test_the_korean_post_under_zensical_matches_the_mkdocs_build``.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from i18n_site import Site, built_site

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
POST = "posts/2021-09-13-post-docker-network"

CONFIG = """\
site_name: hosts
docs_dir: docs
site_dir: {site_dir}
theme:
  name: material
  language: ko
  font: false
markdown_extensions:
  - admonition
  - pymdownx.details
  - pymdownx.superfences
  - pymdownx.tabbed:
      alternate_style: true
  - snippet_runner
"""

PLUGIN = """\
plugins:
  - search
  - snippet-runner:
      backend: local
"""

PAGE = """\
---
title: 여러 호스트
---

Front matter above: line numbers count it.

```bash stdin="exit\\n"
# 주석: 제목이 되면 안 됩니다
$ echo "hello"
hello
```

!!! note "Admonition"

    ```console
    $ printf 'a\\nb\\n'
    a
    b
    ```

=== "Tab"

    ```console
    $ echo tab
    tab
    ```

```bash hide="true"
$ echo setup
setup
```

```bash skip="형식만 보여 줍니다"
$ docker run --net=TYPE
```

```bash
test -n "$HOME"
```
"""


def _run(root: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(BIN / argv[0]), *argv[1:]], cwd=root, capture_output=True,
                          text=True, check=False, timeout=900,
                          env={**{k: v for k, v in os.environ.items() if k != "SNIPPET_RUNNER"},
                               "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, f"{argv}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def _site(tmp_path: Path, *, plugin: bool = False, site_dir: str = "site") -> Path:
    root = tmp_path / "src"
    (root / "docs").mkdir(parents=True)
    (root / "mkdocs.yml").write_text(CONFIG.format(site_dir=site_dir) + (PLUGIN if plugin else ""),
                                     encoding="utf-8")
    (root / "docs" / "index.md").write_text(PAGE, encoding="utf-8")
    return root


def drawn(page: str) -> list[str]:
    """What the extension drew on a page: the summary and every block, as HTML (Zensical
    drops the ``data-search-exclude`` attributes once its search index has honoured them)."""
    found = re.findall(r'<div class="sr-summary.*?</div>|<div class="sr-block.*?</p>\n</div>',
                       page, re.S)
    return [html.unescape(f).replace(" data-search-exclude", "") for f in found]


def marks(page: str) -> list[str]:
    return re.findall(r'<p class="sr-mark sr-mark--(\w+)"', page)


def article(page: str) -> str:
    return page[page.index("<article"): page.index("</article>")]


def test_zensical_without_a_check_draws_correct_blocks_marked_not_verified(
        tmp_path: Path) -> None:
    root = _site(tmp_path)
    proc = _run(root, "zensical", "build", "--clean")
    assert "no verification was recorded" in proc.stdout + proc.stderr
    page = article((root / "site" / "index.html").read_text(encoding="utf-8"))
    assert marks(page) == ["unverified"] * 3 + ["skipped", "unverified"]
    assert "```" not in page and page.count("<h1") == 1  # the title; no comment heading
    assert "주석: 제목이 되면 안 됩니다" in page and "echo setup" not in page
    assert 'class="sr-summary sr-summary--unverified"' in page
    assert 'data-sr-line="7"' in page  # the file's own line, front matter counted


def test_zensical_after_check_draws_what_the_mkdocs_plugin_draws(tmp_path: Path) -> None:
    root = _site(tmp_path, plugin=True)
    _run(root, "snippet-runner", "check", "--backend", "local", "docs")
    _run(root, "zensical", "build")
    zensical = (root / "site" / "index.html").read_text(encoding="utf-8")
    proc = _run(root, "mkdocs", "build", "--strict", "-d", "site-mkdocs")
    assert "nothing changed, no snippet ran" in proc.stderr  # the check's results, reused
    mkdocs = (root / "site-mkdocs" / "index.html").read_text(encoding="utf-8")
    assert marks(zensical) == ["passed"] * 3 + ["skipped", "passed"]
    assert drawn(zensical) == drawn(mkdocs) and len(drawn(mkdocs)) == 6
    # Marks, summaries and notes are kept out of both search indexes.
    assert mkdocs.count("data-search-exclude") == 6
    for index in (root / "site" / "search.json", root / "site-mkdocs" / "search" /
                  "search_index.json"):
        text = index.read_text(encoding="utf-8")
        assert "printf" in text and not re.search("검증됨|실행하지 않음|bash 5|예제 4개", text)
    # The extension's own copy of the styles: one inline copy in Zensical, files under MkDocs.
    assert zensical.count("<style data-snippet-runner>") == 1
    assert "<style data-snippet-runner>" not in mkdocs


def test_mkdocs_with_the_extension_alone_draws_the_recorded_results(tmp_path: Path) -> None:
    root = _site(tmp_path)
    _run(root, "snippet-runner", "check", "--backend", "local", "docs")
    _run(root, "mkdocs", "build", "--strict")
    page = (root / "site" / "index.html").read_text(encoding="utf-8")
    assert marks(page) == ["passed"] * 3 + ["skipped", "passed"]
    assert 'data-sr-line="7"' in page


def test_properdocs_draws_exactly_as_mkdocs(tmp_path: Path) -> None:
    root = _site(tmp_path, plugin=True)
    _run(root, "mkdocs", "build", "--strict", "-d", "site-mkdocs")
    _run(root, "properdocs", "build", "--strict", "-f", "mkdocs.yml", "-d", "site-properdocs")
    mkdocs = (root / "site-mkdocs" / "index.html").read_text(encoding="utf-8")
    properdocs = (root / "site-properdocs" / "index.html").read_text(encoding="utf-8")
    assert drawn(properdocs) == drawn(mkdocs) and marks(mkdocs)[0] == "passed"


def _copy_repository(dest: Path) -> Path:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from bench_build import copy_site  # type: ignore[import-not-found, unused-ignore]
    finally:
        sys.path.pop(0)
    copy_site(dest)
    return dest


def test_zensical_builds_this_site_unverified_without_a_check(tmp_path: Path) -> None:
    root = _copy_repository(tmp_path / "repo")
    _run(root, "zensical", "build", "-f", "mkdocs.yml")
    page = (root / "site" / POST / "index.html").read_text(encoding="utf-8")
    body = article(page)
    assert "```" not in body and body.count("<h1") == 1
    assert set(marks(body)) == {"unverified", "skipped"} and len(marks(body)) >= 10


@pytest.mark.sandbox
def test_the_korean_post_under_zensical_matches_the_mkdocs_build(tmp_path: Path) -> None:
    """This site: ``snippet-runner check`` in the sandbox, then ``zensical build`` and
    ``mkdocs build`` (which finds every result recorded and runs nothing); the post's blocks,
    marks and summary are the same in both, every block verified or skipped."""
    root = _copy_repository(tmp_path / "repo")
    _run(root, "snippet-runner", "check", "docs/ko")
    _run(root, "zensical", "build", "-f", "mkdocs.yml")
    proc = _run(root, "mkdocs", "build", "--strict", "-f", "mkdocs.yml", "-d", "site-mkdocs")
    assert "nothing changed, no snippet ran" in proc.stderr
    zensical = (root / "site" / POST / "index.html").read_text(encoding="utf-8")
    mkdocs = (root / "site-mkdocs" / POST / "index.html").read_text(encoding="utf-8")
    assert set(marks(zensical)) == {"passed", "skipped"}
    assert marks(zensical).count("passed") >= 8
    assert drawn(zensical) == drawn(mkdocs)
    assert "검증됨" in zensical and "sr-summary--passed" in zensical
    shutil.rmtree(root / ".cache", ignore_errors=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return built_site(tmp_path_factory)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_marks_and_notes_stay_out_of_the_search_index(site: Site, lang: str) -> None:
    """Search finds what the post says, not the marks under every block (the words checked are
    the marks' own: the post's prose uses none of them)."""
    docs = [d for d in site.search_index(lang)["docs"] if d["location"].startswith(POST)]
    text = "\n".join(d["text"] + " " + d.get("title", "") for d in docs)
    assert "docker container run -it -p 4000:4000" in text  # the blocks themselves are there
    source = (ROOT / "docs" / lang / f"{POST}.md").read_text(encoding="utf-8")
    for noise in ("dfsg", "Docker Engine", "✓", "printed what is shown", "검증됨",
                  "출력이 같은지", "실행하지 않음", "not run:", "오타를 고쳐", "typo fixed",
                  "이 페이지의 예제", "examples on this page"):
        assert noise not in source
        assert noise not in text, noise
