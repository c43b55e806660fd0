"""The MkDocs plugin, through real ``mkdocs build`` runs in temporary sites.

These use the ``local`` backend (a host bash, no docker) so they need no sandbox: the plugin is
a shell over the api, and what is tested here is the shell — failing the build, the switch, the
cache, the rendering. The Korean post runs in the real sandbox in ``test_post.py``.

A hidden setup block defines ``docker`` as a shell function that echoes its arguments, so a
``--it`` typo can be repaired and the repaired command's effect observed without a daemon; and
it appends a line to a counter file outside the site, so "nothing ran" is proven by the file,
not only by the log.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

import pytest

MKDOCS = Path(sys.executable).parent / "mkdocs"

CONFIG = """\
site_name: plugin test
docs_dir: docs
theme: mkdocs
plugins:
  - snippet-runner:
      backend: local
      jobs: 2
markdown_extensions:
  - admonition
  - pymdownx.details
  - pymdownx.superfences
  - pymdownx.tabbed
"""

PAGE = """\
---
title: A verified page
---
# Verified

```bash hide="true"
$ docker() {{ echo "docker $*"; }}; echo "run $SNIPPET_ROOT" >> {counter}
```

Some text right before a block:
```bash
# say hello
$ echo hello
hello
$ docker run --it test:latest true
docker run -it test:latest true
```

* inside a list item

    ```console
    $ printf 'a\\nb\\n'
    a
    b
    ```

```bash skip="syntax only"
$ docker run --net=NETWORK_TYPE
```

```text file="/etc/app.conf"
key = value
```

```bash
grep -q "key = value" "$SNIPPET_ROOT/etc/app.conf"
```
"""



def _line_of(needle: str, text: str = PAGE) -> int:
    """1-based line of the first line of ``text`` that starts with ``needle`` (indent ignored)."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.strip().startswith(needle))


HELLO_LINE = _line_of("$ echo hello")


def _site(tmp_path: Path, pages: dict[str, str] | None = None) -> Path:
    root = tmp_path / "site-src"
    (root / "docs").mkdir(parents=True)
    (root / "mkdocs.yml").write_text(CONFIG, encoding="utf-8")
    for name, text in (pages or {"index.md": PAGE}).items():
        counter = tmp_path / f"ran-{name}.txt"
        (root / "docs" / name).write_text(text.format(counter=counter), encoding="utf-8")
    return root


def build_env(**extra: str) -> dict[str, str]:
    """This process's environment with ``extra`` and no ``SNIPPET_RUNNER`` switch of its own;
    Material's end-of-life notice off, so stderr holds only the build's messages."""
    env = {k: v for k, v in os.environ.items() if k != "SNIPPET_RUNNER"}
    return {**env, "NO_MKDOCS_2_WARNING": "1", **extra}


def run_build(
    root: Path, argv: Sequence[str] = (str(MKDOCS), "build"), **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` (``mkdocs build`` unless told) in ``root``; a hang fails after 15 minutes."""
    return subprocess.run(
        list(argv),
        cwd=root,
        env=build_env(**env),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def _build(root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_build(root, **env)


def _runs(tmp_path: Path, name: str = "index.md") -> int:
    counter = tmp_path / f"ran-{name}.txt"
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def _html(root: Path, page: str = "index.html") -> str:
    return (root / "site" / page).read_text(encoding="utf-8")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_passing_page_builds_and_logs_each_typo_fix(tmp_path: Path) -> None:
    root = _site(tmp_path)
    proc = _build(root)
    assert proc.returncode == 0, proc.stderr
    assert _runs(tmp_path) == 1
    assert f"docs/index.md:{_line_of('$ docker run --it')}: fixed '--it' → '-it'" in proc.stderr
    assert "1 page(s) verified in a sandbox" in proc.stderr


def test_page_renders_repaired_command_output_apart_and_marks(tmp_path: Path) -> None:
    root = _site(tmp_path)
    assert _build(root).returncode == 0
    page = _html(root)
    # The repaired command is what readers see and copy; no note about a typo they never saw.
    assert 'data-copy="docker run -it test:latest true"' in page
    assert "sr-fix" not in page and "<code>--it</code>" not in page
    # Output sits in its own <pre> outside any <code>: Material gives it no copy button.
    step = page[page.index('data-copy="echo hello"') :]
    step = step[: step.index("</div>\n</div>")]
    assert re.search(r'<div class="sr-output"[^>]*>\s*<pre>hello</pre>', step)
    command_code = step[step.index("<code>") : step.index("</code>")]
    assert "hello</span>" not in command_code.replace("echo", "")
    # The prompt is a marked span, never part of what is copied.
    assert '<span class="gp sr-prompt">$ </span>' in page
    assert 'data-copy="$' not in page
    # Comments are shown, not copied; one small mark per block, its details (the engine as
    # an engine, the date) on hover; one summary for the page, above its first block.
    assert '<div class="sr-comment"><pre># say hello</pre></div>' in page
    marks = re.findall(r'<p class="sr-mark sr-mark--passed" data-search-exclude>'
                       r'<button type="button" class="sr-mark__badge" aria-expanded="false">'
                       r'✓ verified</button><span class="sr-mark__detail" role="note">'
                       r"ran on bash \d+\.\d+\.\d+ on (\d{4}-\d\d-\d\d) and printed", page)
    assert len(marks) == 3 and "release" not in page
    summary = re.findall(r'<div class="sr-summary sr-summary--passed" data-search-exclude><p>'
                         r'.*?</span> (.*?)</p></div>', page)
    assert summary == [f"The 4 examples on this page ran on bash {_bash()} on {marks[0]} and "
                       "printed what they show. 1 example shown without running."]
    assert page.index("sr-summary") < page.index("sr-block")
    # A block inside a list item stays inside it.
    start = page.index("inside a list item")
    item = page[start : page.index("</li>", start)]
    assert "printf" in item and "<pre>a\nb</pre>" in item
    # A skipped block says it was not run and why; a hidden block is gone.
    assert ('<span class="sr-mark__badge">not run</span>: '
            '<span class="sr-mark__reason">syntax only</span>') in page
    # A file block shows where its text went; a script block says only its exit was checked.
    assert "file created in the sandbox: <code>/etc/app.conf</code>" in page
    assert "✓ verified (exit status)</button>" in page
    assert "ran-index.md" not in page and "docker()" not in page


def _bash() -> str:
    version = subprocess.run(["bash", "-c", "echo ${BASH_VERSINFO[0]}.${BASH_VERSINFO[1]}."
                              "${BASH_VERSINFO[2]}"], capture_output=True, text=True, check=True)
    return version.stdout.strip()


def test_typo_notes_are_an_option(tmp_path: Path) -> None:
    root = _site(tmp_path)
    _edit(root / "mkdocs.yml", "      jobs: 2\n", "      jobs: 2\n      show_fixes: true\n")
    assert _build(root).returncode == 0
    assert re.search(r'<p class="sr-fix" data-search-exclude>typo fixed before running: '
                     r"<code>--it</code> → <code>-it</code></p>", _html(root))


def test_the_extension_listed_beside_the_plugin_is_taken_over_with_its_options(
        tmp_path: Path) -> None:
    """A site that lists ``snippet_runner`` (for Zensical) and the plugin draws each block
    once, with the plugin's reports and the options given to the extension."""
    root = _site(tmp_path)
    with (root / "mkdocs.yml").open("a", encoding="utf-8") as config:
        config.write("  - snippet_runner:\n      show_fixes: true\n")
    proc = _build(root)
    assert proc.returncode == 0, proc.stderr
    page = _html(root)
    assert page.count('class="sr-block ') == 5 and page.count('class="sr-summary ') == 1
    assert "<code>--it</code> → <code>-it</code>" in page and "1 page(s) verified" in proc.stderr


def test_wrong_expected_line_fails_build_naming_file_and_line(tmp_path: Path) -> None:
    root = _site(tmp_path)
    page = root / "docs" / "index.md"
    _edit(page, "$ echo hello\nhello\n", "$ echo hello\nhullo\n")
    proc = _build(root)
    assert proc.returncode == 1
    # Named: the changed output line itself, and the command it belongs to.
    assert f"docs/index.md:{HELLO_LINE + 1}: failed" in proc.stderr
    assert f"(command at line {HELLO_LINE})" in proc.stderr
    assert "-hullo" in proc.stderr and "+hello" in proc.stderr
    assert "Traceback" not in proc.stderr
    _edit(page, "$ echo hello\nhullo\n", "$ echo hello\nhello\n")
    restored = _build(root)
    assert restored.returncode == 0, restored.stderr


def test_every_failure_is_printed_before_the_build_fails(tmp_path: Path) -> None:
    root = _site(tmp_path)
    page = root / "docs" / "index.md"
    _edit(page, "    a\n    b\n", "    a\n    c\n")
    _edit(page, "$ echo hello\nhello\n", "$ echo hello\nhullo\n")
    proc = _build(root)
    assert proc.returncode == 1
    assert f"docs/index.md:{HELLO_LINE + 1}: failed" in proc.stderr
    assert f"docs/index.md:{_line_of('$ printf') + 2}: failed" in proc.stderr
    assert "2 snippet check(s) failed" in proc.stderr


def test_bad_option_is_one_clear_message(tmp_path: Path) -> None:
    root = _site(tmp_path)
    _edit(root / "docs" / "index.md", '```bash skip="syntax only"', '```bash colour="red"')
    proc = _build(root)
    assert proc.returncode == 1
    assert f"docs/index.md:{_line_of('```bash skip=')}: unknown fence option" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_switched_off_from_the_environment(tmp_path: Path) -> None:
    root = _site(tmp_path)
    _edit(root / "docs" / "index.md", "$ echo hello\nhello\n", "$ echo hello\nhullo\n")
    proc = _build(root, SNIPPET_RUNNER="false")
    assert proc.returncode == 0, proc.stderr
    assert _runs(tmp_path) == 0
    assert "SNIPPET_RUNNER=false" in proc.stderr
    page = _html(root)
    assert "○ not verified</button>" in page and "✓ verified" not in page
    assert "The examples on this page were not run for this build." in page
    assert "docker()" not in page  # hidden blocks stay hidden
    assert _build(root, SNIPPET_RUNNER="true").returncode == 1


def test_second_build_runs_nothing_and_renders_the_same(tmp_path: Path) -> None:
    root = _site(tmp_path)
    assert _build(root).returncode == 0
    first = _html(root)
    proc = _build(root)
    assert proc.returncode == 0, proc.stderr
    assert _runs(tmp_path) == 1
    assert "nothing changed, no snippet ran and no sandbox started" in proc.stderr
    assert _blocks(_html(root)) == _blocks(first)


def test_prose_edits_reuse_the_cache_at_the_new_positions(tmp_path: Path) -> None:
    root = _site(tmp_path)
    assert _build(root).returncode == 0
    _edit(root / "docs" / "index.md", "# Verified\n", "# Verified\n\nA new paragraph.\n\n")
    proc = _build(root)
    assert proc.returncode == 0, proc.stderr
    assert _runs(tmp_path) == 1
    page = _html(root)
    assert "A new paragraph." in page and '<pre>docker run -it test:latest true</pre>' in page


def test_only_the_changed_page_runs_again(tmp_path: Path) -> None:
    other = PAGE.replace("# Verified", "# Other")
    root = _site(tmp_path, {"index.md": PAGE, "other.md": other})
    assert _build(root).returncode == 0
    assert (_runs(tmp_path, "index.md"), _runs(tmp_path, "other.md")) == (1, 1)
    _edit(root / "docs" / "other.md", "$ echo hello\nhello\n", "$ echo hi\nhi\n")
    proc = _build(root)
    assert proc.returncode == 0, proc.stderr
    assert (_runs(tmp_path, "index.md"), _runs(tmp_path, "other.md")) == (1, 2)
    assert "1 page(s) verified in a sandbox, 1 from cache" in proc.stderr


@pytest.mark.parametrize("value", ["maybe"])
def test_unclear_switch_value_is_refused(tmp_path: Path, value: str) -> None:
    proc = _build(_site(tmp_path), SNIPPET_RUNNER=value)
    assert proc.returncode == 1
    assert "must be true or false" in proc.stderr


def _blocks(page: str) -> list[str]:
    found = re.findall(r'<div class="sr-block.*?</p>\n</div>', page, re.S)
    return [html.unescape(block) for block in found]


CONTAINERS = """\
# Containers

> Quoted:
>
> ```bash
> $ echo quoted
> quoted
> ```
>
> still quoted

1. Tight item:
    ```bash
    $ echo tight
    tight
    ```
2. Next item

- ```bash
  $ echo marker
  marker
  ```

Text right before:
```bash
$ echo para
para
```
Text right after.

> ```bash hide="true"
> $ true
> ```
> after a hidden block

!!! note "Admonition"

    ```bash
    $ echo admonition
    admonition
    ```

=== "Tab"

    ```bash
    $ echo tab
    tab
    ```

??? tip "Details"
    ```bash
    $ echo details
    details
    ```
"""


class _Nesting(HTMLParser):
    """Open elements while parsing: block elements inside a ``<p>`` and unbalanced end tags are
    errors; each verified block's enclosing ``li``/``blockquote``/``p`` elements are recorded."""

    VOID = frozenset({"br", "hr", "img", "input", "link", "meta", "source", "wbr"})
    BLOCK = frozenset({"div", "pre", "p", "ul", "ol", "li", "blockquote", "table"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.blocks: list[tuple[str, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCK and self.stack[-1:] == ["p"]:
            self.errors.append(f"<{tag}> inside <p> at {self.getpos()}")
        if "sr-block" in (dict(attrs).get("class") or "").split():
            self.blocks.append(tuple(t for t in self.stack if t in ("li", "blockquote", "p")))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or tag in self.VOID:  # the theme's wrappers; ``<img ... />``
            return
        if self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1]}> at {self.getpos()}")
        self.stack.pop()


def _nesting(page: str) -> _Nesting:
    body = page[page.index('role="main">') + len('role="main">') :]  # the page's own content
    body = body[: body.index("<footer")]
    parser = _Nesting()
    parser.feed(body)
    return parser


def test_blocks_keep_their_container_and_nest_validly(tmp_path: Path) -> None:
    """Blocks in a blockquote, a tight list item, on a list marker, glued to a paragraph, in an
    admonition, a content tab or a collapsible block stay where the author put them (verified),
    and the HTML around them nests correctly."""
    root = _site(tmp_path, {"index.md": CONTAINERS})
    proc = _build(root)
    assert proc.returncode == 0, proc.stderr
    page = _html(root)
    nesting = _nesting(page)
    assert nesting.errors == []
    assert nesting.blocks == [("blockquote",), ("li",), ("li",), (), (), (), ()]
    for container in (r'<p class="admonition-title">Admonition</p>', r'<label[^>]*>Tab</label>'
                      r'<div class="tabbed-content">', r"<summary>Details</summary>"):
        assert re.search(container + r'\s*<div class="sr-block sr-block--passed"', page)
    assert page.count("<blockquote>") == 2  # the quote goes on around a block and a hidden one
    assert re.search(r"</div>\s*<p>still quoted</p>\s*</blockquote>", page)
    assert re.search(r"<blockquote>\s*<p>after a hidden block</p>", page)
    assert "$ true" not in page


def _with_hook(root: Path, hook: str) -> None:
    (root / "hook.py").write_text(hook, encoding="utf-8")
    with (root / "mkdocs.yml").open("a", encoding="utf-8") as config:
        config.write("hooks:\n  - hook.py\n")


EARLIER_HOOK = """\
from mkdocs.plugins import event_priority


@event_priority(100)  # before snippet-runner (50)
def on_page_markdown(markdown, page, config, files):
    return "!!! note\\n    Added by a hook.\\n\\n" + markdown.replace(
        "Some text right before a block:", "Changed prose.\\n\\nMore prose.\\n\\n"
    ).replace(OLD, NEW)
"""


def test_an_earlier_plugin_may_change_the_page_around_blocks(tmp_path: Path) -> None:
    root = _site(tmp_path)
    _with_hook(root, "OLD = NEW = 'unused'\n" + EARLIER_HOOK)
    proc = _build(root)
    assert proc.returncode == 0, proc.stderr
    page = _html(root)
    assert "Added by a hook." in page and "More prose." in page
    assert page.count('class="sr-block ') == 5
    assert 'data-copy="docker run -it test:latest true"' in page
    assert "docker()" not in page and _nesting(page).errors == []


def test_an_earlier_plugin_changing_a_block_fails_naming_it(tmp_path: Path) -> None:
    root = _site(tmp_path)
    _with_hook(root, "OLD, NEW = '$ echo hello', '$ echo HELLO'\n" + EARLIER_HOOK)
    proc = _build(root)
    assert proc.returncode == 1
    fence = _line_of("# say hello") - 1
    assert f"docs/index.md:{fence}: this block was changed before snippet-runner" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_block_dropped_by_a_later_plugin_fails_naming_it(tmp_path: Path) -> None:
    root = _site(tmp_path)
    _with_hook(
        root,
        "def on_page_markdown(markdown, page, config, files):\n"
        "    return '\\n'.join(l for l in markdown.split('\\n') if 'X0' not in l)\n",
    )
    proc = _build(root)
    assert proc.returncode == 1
    fence = _line_of("grep -q") - 1  # the last block: its placeholder is added first (X0)
    assert f"docs/index.md:{fence}: a verified block did not reach the page" in proc.stderr


def test_a_page_whose_blocks_were_all_dropped_fails_naming_them(tmp_path: Path) -> None:
    root = _site(tmp_path)
    _with_hook(root, "def on_page_markdown(markdown, page, config, files):\n"
                     "    return '# Replaced by a hook'\n")
    proc = _build(root)
    assert proc.returncode == 1
    [error] = [line for line in proc.stderr.splitlines() if "did not reach the page" in line]
    assert error.count("docs/index.md:") == 5  # every shown block (the hidden one never is)


def test_failure_diff_shows_korean_as_written(tmp_path: Path) -> None:
    page = "# 한국어\n\n```bash\n$ echo '컨테이너 안의 웹 서버입니다'\n다른 내용\n```\n"
    proc = _build(_site(tmp_path, {"index.md": page}))
    assert proc.returncode == 1
    assert "docs/index.md:5: failed: the output differs from this line (command at line 4)" in (
        proc.stderr
    )
    assert "-다른 내용\n+컨테이너 안의 웹 서버입니다\n" in proc.stderr
    assert "\\u" not in proc.stderr and "1 failed" in proc.stderr


MATERIAL_CONFIG = CONFIG.replace(
    "theme: mkdocs", "theme:\n  name: material\n  font: false\n  features: [content.code.copy]"
)


@pytest.mark.browser
def test_copy_button_copies_the_repaired_command_only(tmp_path: Path) -> None:
    """In Chromium: a command's copy button copies it repaired, without prompt or output; the
    output box has no copy button."""
    import functools
    import http.server
    import threading

    from playwright.sync_api import sync_playwright

    root = _site(tmp_path)
    (root / "mkdocs.yml").write_text(MATERIAL_CONFIG, encoding="utf-8")
    assert _build(root).returncode == 0
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
            )
            context = browser.new_context()
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
            page = context.new_page()
            page.goto(url + "/")
            step = page.locator(".sr-step", has_text="test:latest").first
            step.hover()
            step.locator('button.md-code__button[data-md-type="copy"]').click()
            copied = page.evaluate("navigator.clipboard.readText()")
            output_buttons = page.locator(".sr-output .md-code__button").count()
            browser.close()
    finally:
        server.shutdown()
    assert copied == "docker run -it test:latest true"
    assert output_buttons == 0


def _roots(tmp_path: Path, name: str) -> list[str]:
    """The sandbox (its root) each run of page ``name`` had, in order."""
    counter = tmp_path / f"ran-{name}.txt"
    return [line.split(" ", 1)[1] for line in counter.read_text().splitlines()]


def _get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as response:  # 127.0.0.1 only
        return str(response.read().decode("utf-8"))


def test_serve_keeps_serving_a_failing_page_and_its_sandbox_warm(tmp_path: Path) -> None:
    """A real ``mkdocs serve``: an edit that fails is built and served with the failure drawn
    in place under a banner (the terminal says so too), in the sandbox kept warm since the
    start; restoring the text that passed comes from the cache, running nothing."""
    import socket
    import time

    other = PAGE.replace("# Verified", "# Other")
    root = _site(tmp_path, {"index.md": PAGE, "other.md": other})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        serve = subprocess.Popen(
            [str(MKDOCS), "serve", "-a", f"127.0.0.1:{port}"],
            cwd=root,
            env=build_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/other/"
    try:
        _wait_for(log, "Serving on", serve)
        assert (_runs(tmp_path, "index.md"), _runs(tmp_path, "other.md")) == (1, 1)
        good = (root / "docs" / "other.md").read_text(encoding="utf-8")
        time.sleep(1)  # the watcher compares modification times
        _edit(root / "docs" / "other.md", "$ echo hello\nhello\n", "$ echo hello\nhullo\n")
        _wait_for(log, "the page is served with line", serve)
        _wait_for(log, "Reloading browsers", serve, after="the page is served with line")
        page = _get(url)
        line = _line_of("$ echo hello") + 1
        assert f"docs/other.md: 1 example(s) failed; the page is served with line {line} drawn" \
            in log.read_text()
        assert f"docs/other.md:{line}: failed" in log.read_text()  # and the diff, as in a build
        assert re.search(r'<div class="sr-summary sr-summary--failed" role="alert"', page)
        assert f'<a href="#sr-failed-2">docs/other.md:{line}: failed' in page
        failed = page[page.index('id="sr-failed-2"'):]
        failed = failed[: failed.index('<p class="sr-mark')]
        assert '<span class="sr-diff__del">-hullo</span>' in failed
        assert '<span class="sr-diff__add">+hello</span>' in failed
        assert "✓" not in page[page.index('id="sr-failed-2"'):].split("sr-mark__badge", 2)[1]
        runs = _roots(tmp_path, "other.md")
        time.sleep(1)
        (root / "docs" / "other.md").write_text(good, encoding="utf-8")
        _wait_for(log, "nothing changed, no snippet ran", serve)
        _wait_for(log, "Reloading browsers", serve, after="nothing changed, no snippet ran")
        assert "sr-block--failed" not in _get(url) and "sr-block--passed" in _get(url)
        assert _roots(tmp_path, "other.md") == runs  # from the cache
        time.sleep(1)
        _edit(root / "docs" / "other.md", "$ echo hello\nhello\n", "$ echo hi\nhi\n")
        _wait_for(log, "1 page(s) verified in a sandbox, 1 from cache", serve,
                  after="nothing changed, no snippet ran")
    finally:
        serve.terminate()
        serve.wait(timeout=30)
    first = _roots(tmp_path, "index.md") + _roots(tmp_path, "other.md")[:1]
    reruns = _roots(tmp_path, "other.md")[1:]
    assert len(reruns) == 2 and reruns[0] == reruns[1] and reruns[0] in first
    assert not Path(reruns[0]).exists()  # closed when the server stopped
    assert "ran docs/other.md" in log.read_text()


def _wait_for(log: Path, text: str, proc: subprocess.Popen[bytes], limit: float = 120,
              after: str = "") -> None:
    """Wait until ``text`` is in the log (after the last ``after``, when given)."""
    import time

    def logged() -> str:
        whole = log.read_text()
        if not after:
            return whole
        _, seen, tail = whole.rpartition(after)
        return tail if seen else ""

    deadline = time.monotonic() + limit
    while text not in logged():
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"no {text!r} in:\n{log.read_text()}"
        time.sleep(0.1)


def test_properdocs_builds_and_fails_like_mkdocs(tmp_path: Path) -> None:
    """ProperDocs (the maintained MkDocs 1.x continuation) loads the plugin from the same entry
    point: a passing page builds, a wrong expected line fails naming file and line."""
    root = _site(tmp_path)
    (root / "mkdocs.yml").write_text(MATERIAL_CONFIG, encoding="utf-8")
    argv = [sys.executable, "-m", "properdocs", "build", "-f", "mkdocs.yml"]

    def build() -> subprocess.CompletedProcess[str]:
        return run_build(root, argv)

    passing = build()
    assert passing.returncode == 0, passing.stderr
    assert "1 page(s) verified in a sandbox" in passing.stderr
    assert "sr-block--passed" in _html(root)
    _edit(root / "docs" / "index.md", "$ echo hello\nhello\n", "$ echo hello\nhullo\n")
    failing = build()
    assert failing.returncode == 1
    assert f"docs/index.md:{HELLO_LINE + 1}: failed" in failing.stderr


def test_cache_keys_chain_blocks_and_ignore_prose(tmp_path: Path) -> None:
    """A block's key covers it and every block above it, not the prose or later blocks; the
    engine/fixture fingerprint is part of every key."""
    from snippet_runner.api import load_page
    from snippet_runner.core.cache import Fingerprint, block_keys

    def keys(text: str, fp: Fingerprint) -> list[str]:
        path = tmp_path / "page.md"
        path.write_text(text.format(counter="/dev/null"), encoding="utf-8")
        return block_keys(load_page(path), fp)

    fp = Fingerprint(runner="r", engine="docker 1", fixtures="f", settings="s")
    base = keys(PAGE, fp)
    prose = keys(PAGE.replace("Some text right before", "Other words before"), fp)
    earlier = keys(PAGE.replace("$ echo hello\nhello", "$ echo hi\nhi"), fp)
    later = keys(PAGE.replace("key = value", "key = other"), fp)
    engine = keys(PAGE, Fingerprint(runner="r", engine="docker 2", fixtures="f", settings="s"))
    assert prose == base
    assert earlier[0] == base[0] and all(a != b for a, b in zip(earlier[1:], base[1:], strict=True))
    assert later[:-2] == base[:-2] and later[-2] != base[-2]
    assert not set(engine) & set(base)


EMPTY_CONTAINERS = """\
# Containers

!!! note "Setup"

    ```bash hide="true"
    $ true
    ```

=== "Tab"

    ```bash hide="true"
    $ true
    ```

    ```bash hide="true"
    $ true
    ```

!!! tip

    Visible text.

    ```bash hide="true"
    $ true
    ```

```bash hide="true"
$ echo run >> {counter}
```
"""


def test_a_container_left_empty_by_hidden_blocks_is_warned_about(tmp_path: Path) -> None:
    root = _site(tmp_path, {"index.md": EMPTY_CONTAINERS})
    proc = _build(root)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "only hidden" in line]
    assert len(warnings) == 2, proc.stderr  # one per empty container, none for the tip
    note, tab = (_line_of(x, EMPTY_CONTAINERS) for x in ('!!! note', '=== "Tab"'))
    assert f"docs/index.md:{note}: this container holds only hidden" in warnings[0]
    assert f"(the first at line {note + 2})" in warnings[0]
    assert f"docs/index.md:{tab}: this container" in warnings[1]
    assert _build(root, SNIPPET_RUNNER="false").stderr.count("only hidden") == 2
    strict = run_build(root, (str(MKDOCS), "build", "--strict"))
    assert strict.returncode == 1  # a warning: `--strict` builds refuse the empty container
