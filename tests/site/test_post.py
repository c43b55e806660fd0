"""The Korean post, proven end to end: the real site built by ``mkdocs build`` in the sandbox.

The site is copied to a temporary directory (its own result cache, so the first build really
runs every block; the fixture images are reused from the repository's cache when present), then:
every block is verified or skipped; one changed expected line fails the build naming the post's
file and line; restored, the build passes again.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_plugin import _Nesting, run_build

from snippet_runner.api import load_page

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = Path(sys.executable).parent / "mkdocs"
POST = Path("docs/ko/posts/2021-09-13-post-docker-network.md")
CHANGED_LINE = "컨테이너 안의 웹 서버입니다"
"""An output line of the post (what ``curl localhost:4000`` prints) that the test changes."""

pytestmark = pytest.mark.sandbox


def _copy_site(dest: Path) -> Path:
    """The repository's sources and built fixture images, no results: as the benchmark copies
    them (config files may name hooks and assets anywhere in the tree)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from bench_build import copy_site  # type: ignore[import-not-found, unused-ignore]
    finally:
        sys.path.pop(0)
    copy_site(dest)
    return dest


def _build(root: Path) -> subprocess.CompletedProcess[str]:
    return run_build(root, [str(MKDOCS), "build", "--strict", "-f", "mkdocs.yml"])


def _post_html(root: Path) -> str:
    found = [p for p in (root / "site").rglob("index.html") if "post-docker-network" in str(p)]
    assert len(found) == 1, found
    return found[0].read_text(encoding="utf-8")


def test_every_block_of_the_post_is_verified_or_skipped(tmp_path: Path) -> None:
    root = _copy_site(tmp_path)
    page = load_page(root / POST)
    shown = [s for s in page.snippets if not s.options.hide]
    skipped = [s for s in shown if s.options.skip is not None]
    assert len(shown) - len(skipped) >= 8, "the post lost its verified examples"

    proc = _build(root)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"\d+ page\(s\) verified in a sandbox, 0 from cache", proc.stderr)
    html = _post_html(root)
    marks = re.findall(r'<p class="sr-mark sr-mark--(\w+)"[^>]*>(.*?)</p>', html)
    assert len(marks) == len(shown)
    assert {status for status, _ in marks} <= {"passed", "skipped"}
    assert sum(status == "passed" for status, _ in marks) == len(shown) - len(skipped)
    assert all("✓ 검증됨</button>" in text and "Docker Engine 20." in text
               for status, text in marks if status == "passed")
    assert "dfsg" not in html
    # The seed's --it typos stay in the source; the build repairs and logs them.
    assert "--it" in (root / POST).read_text(encoding="utf-8")
    assert f"{POST}:" in proc.stderr and "fixed '--it' → '-it'" in proc.stderr
    assert 'data-copy="docker container run -it -p 4000:4000 test:latest /bin/bash"' in html
    assert 'class="sr-fix"' not in html  # readers see the repaired command, no typo note
    # Editor's notes are visible admonitions.
    assert html.count('class="admonition') >= 3
    # Hidden setup is gone, every block sits where the post put it, and the HTML nests validly.
    assert "seq 50" not in html and "SNIPPETRUNNER" not in html
    article = _Nesting()
    article.feed(html[html.index("<article") : html.index("</article>")])
    assert article.errors == []
    assert len(article.blocks) == len(shown) and sum("li" in b for b in article.blocks) >= 5


def test_a_changed_output_line_fails_naming_the_post_and_line(tmp_path: Path) -> None:
    root = _copy_site(tmp_path)
    post = root / POST
    original = post.read_text(encoding="utf-8")
    lines = original.split("\n")
    index = next(i for i, line in enumerate(lines) if line.strip() == CHANGED_LINE)
    lines[index] = lines[index].replace(CHANGED_LINE, "다른 내용")
    post.write_text("\n".join(lines), encoding="utf-8")

    proc = _build(root)
    assert proc.returncode == 1
    assert f"{POST}:{index + 1}: failed" in proc.stderr
    assert f"-다른 내용\n+{CHANGED_LINE}\n" in proc.stderr  # Korean as written, not escaped
    assert "Traceback" not in proc.stderr

    post.write_text(original, encoding="utf-8")
    restored = _build(root)
    assert restored.returncode == 0, restored.stderr
    assert set(re.findall(r"sr-mark--(\w+)", _post_html(root))) <= {"passed", "skipped"}
