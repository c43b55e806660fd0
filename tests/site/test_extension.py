"""The ``snippet_runner`` Markdown extension in plain Python-Markdown: drawn from what ``check``
recorded (the real CLI with the local backend), or "not verified" — never a raw fence.

MkDocs (with and without the plugin), ProperDocs and Zensical builds are in ``test_hosts.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import markdown
import pytest

from snippet_runner.site.extension import DrawError, SnippetRunnerExtension

CLI = Path(sys.executable).parent / "snippet-runner"

PAGE = """\
# Edge

Text before.

```bash stdin="exit\\n"
# a comment that must not become a heading
$ echo "hello"
hello
```

* in a list

    ```console
    $ printf 'a\\tb\\n'
    a\tb
    ```

```bash hide="true"
$ echo setup
setup
```

```bash skip="syntax only"
$ docker run --net=TYPE
```
"""

EXTENSIONS = ["pymdownx.superfences", "admonition", "pymdownx.tabbed", "pymdownx.details"]


def _convert(text: str, cache_dir: Path, **options: object) -> str:
    ext = SnippetRunnerExtension(cache_dir=str(cache_dir), **options)
    return markdown.markdown(text, extensions=[ext, *EXTENSIONS])


def _check(tmp_path: Path, text: str, *, name: str = "page.md") -> Path:
    """Record results as CI would: ``snippet-runner check`` (local backend) on the page."""
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    proc = subprocess.run([str(CLI), "check", "--backend", "local", "--cache-dir",
                           str(tmp_path / "cache"), str(path)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return tmp_path / "cache"


def _marks(html: str) -> list[str]:
    return re.findall(r'<p class="sr-mark sr-mark--(\w+)"', html)


def test_without_a_recorded_check_every_block_is_a_correct_block_marked_not_verified(
        tmp_path: Path) -> None:
    html = _convert(PAGE, tmp_path / "nothing-here")
    assert "```" not in html and html.count("<h1") == 1  # no raw fence, no comment heading
    assert _marks(html) == ["unverified", "unverified", "skipped"]
    assert "echo setup" not in html  # hidden setup stays hidden
    assert 'data-copy="echo &quot;hello&quot;"' in html
    assert "<pre>a\tb</pre>" in html  # tabs as written: seen before Python-Markdown expands them
    assert html.count("<style data-snippet-runner>") == 1
    assert "✓" not in re.sub(r"(?s)<style.*?</style>|<script>.*?</script>", "", html)


def test_after_check_the_blocks_as_written_are_verified(tmp_path: Path) -> None:
    cache = _check(tmp_path, PAGE)
    html = _convert(PAGE, cache)
    assert _marks(html) == ["passed", "passed", "skipped"]
    assert "sr-summary--passed" in html and "ran on bash " in html


def test_a_block_edited_after_the_check_is_not_verified(tmp_path: Path) -> None:
    cache = _check(tmp_path, PAGE)
    edited = PAGE.replace("    a\tb\n", "    a\tc\n")
    assert _marks(_convert(edited, cache))[1] == "unverified"
    prose = PAGE.replace("Text before.", "Other words, and a new paragraph.\n\nMore.")
    assert _marks(_convert(prose, cache)) == ["passed", "passed", "skipped"]


def test_the_blocks_above_an_edit_keep_their_record(tmp_path: Path) -> None:
    """A page is one shell session: an edited block (and every block after it) has no result,
    but those above it ran exactly as they are written and are still verified."""
    cache = _check(tmp_path, PAGE)
    edited = PAGE.replace("    a\tb\n", "    a\tc\n")  # the second block
    html = _convert(edited, cache)
    assert _marks(html) == ["passed", "unverified", "skipped"]
    assert "1 of the 2 examples on this page ran on bash" in html
    first = PAGE.replace("$ echo \"hello\"\nhello", "$ echo \"hi\"\nhi")
    assert _marks(_convert(first, cache)) == ["unverified", "unverified", "skipped"]


def test_crlf_and_a_bom_are_the_same_page(tmp_path: Path) -> None:
    """Zensical hands over the file's own line ends; the recorded keys must still match."""
    crlf = "\ufeff" + PAGE.replace("\n", "\r\n")
    cache = _check(tmp_path, crlf)
    html = _convert(crlf, cache)
    assert _marks(html) == ["passed", "passed", "skipped"]
    assert html == _convert(PAGE, cache)


def _check_again(tmp_path: Path, cache: Path, *names: str) -> int:
    proc = subprocess.run([str(CLI), "check", "--backend", "local", "--cache-dir", str(cache),
                           *(str(tmp_path / n) for n in names)], capture_output=True, text=True,
                          check=False)
    return proc.returncode


def test_a_failing_check_leaves_nothing_to_show_as_verified(tmp_path: Path) -> None:
    """The world changed, not the page: the block that fails now, and every block after it,
    lose their record — also where a longer page shares them; blocks above it passed in this
    very run and keep theirs."""
    flag = tmp_path / "flag"
    flag.write_text("on\n")
    reads_flag = f"```console\n$ cat {flag}\non\n```\n"
    first, last = reads_flag + "\n" + PAGE, PAGE + "\n" + reads_flag
    longer = first + "\n```console\n$ echo more\nmore\n```\n"
    for name, text in (("first.md", first), ("last.md", last), ("longer.md", longer)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    cache = tmp_path / "cache"
    assert _check_again(tmp_path, cache, "first.md", "last.md", "longer.md") == 0
    assert set(_marks(_convert(first, cache))) == {"passed", "skipped"}
    flag.write_text("off\n")
    assert _check_again(tmp_path, cache, "first.md", "last.md") == 1
    assert set(_marks(_convert(first, cache))) == {"unverified", "skipped"}
    assert set(_marks(_convert(longer, cache))) == {"unverified", "skipped"}
    assert _marks(_convert(last, cache)) == ["passed", "passed", "skipped", "unverified"]


def test_require_verified_fails_naming_the_block(tmp_path: Path) -> None:
    with pytest.raises(DrawError, match=r"<markdown>:5: no recorded result of this block passed "
                                        r"\(2 such block\(s\) on the page\)"):
        _convert(PAGE, tmp_path, require_verified=True)
    assert _marks(_convert(PAGE, _check(tmp_path, PAGE), require_verified=True))


def test_a_lost_placeholder_fails_naming_the_block(tmp_path: Path) -> None:
    from markdown.preprocessors import Preprocessor

    class Drop(Preprocessor):
        def run(self, lines: list[str]) -> list[str]:
            return [line for line in lines if "X0" not in line]

    md = markdown.Markdown(extensions=[SnippetRunnerExtension(cache_dir=str(tmp_path)),
                                       *EXTENSIONS])
    md.preprocessors.register(Drop(md), "drop", 32)
    last = 1 + PAGE.split("\n").index('```bash skip="syntax only"')  # its placeholder is X0
    with pytest.raises(DrawError, match=rf"<markdown>:{last}: a block did not reach the page"):
        md.convert(PAGE)


def test_options_and_assets(tmp_path: Path) -> None:
    plain = _convert("# No blocks\n\nJust text.\n", tmp_path)
    assert "<style" not in plain and "sr-" not in plain
    linked = _convert(PAGE, tmp_path, inline_assets=False, language="ko")
    assert "<style" not in linked and "○ 검증하지 않음" in linked
    with pytest.raises(KeyError):
        SnippetRunnerExtension(colour="red")


def test_a_bad_fence_option_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(Exception, match=r"<markdown>:3: unknown fence option"):
        _convert('# T\n\n```bash colour="red"\n$ true\n```\n', tmp_path)
