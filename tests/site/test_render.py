"""How a block is drawn, from text alone: no files, no sandbox, no MkDocs."""

from __future__ import annotations

import html

from factory import page, report

from snippet_runner.site.render import PlaceholderMap, labels_for, rewrite_markdown

EN = labels_for("en")

TYPO = """\
# Title

```console
# run it
$ docker run --it test:latest true
$ echo one; echo two
one
two
```
"""


def _draw(text: str, outputs: list[str] | None) -> str:
    """The page's Markdown after the swap, with the placeholders filled in."""
    p = page(text)
    placeholders = PlaceholderMap()
    markdown = rewrite_markdown(text, p, None if outputs is None else report(p, outputs), EN,
                                placeholders)
    filled, lost = placeholders.insert(markdown)
    assert not lost
    return filled


def test_the_repaired_command_is_what_is_copied_and_shown() -> None:
    drawn = _draw(TYPO, ["", "one\ntwo\n"])
    assert 'data-copy="docker run -it test:latest true"' in drawn
    assert "<code>--it</code> → <code>-it</code>" in drawn
    assert "✓ verified · docker 20.10.24 · 2026-12-01" in drawn
    assert '<div class="sr-comment"><pre># run it</pre></div>' in drawn


def test_output_is_apart_and_never_in_a_code_element() -> None:
    drawn = _draw(TYPO, ["", "one\ntwo\n"])
    output = drawn.split('<div class="sr-output"', 1)[1].split("</div>", 1)[0]
    assert "<pre>one\ntwo</pre>" in output and "<code>" not in output


def test_a_pattern_shows_the_real_line_but_an_elision_shows_the_page() -> None:
    text = ("```console\n$ echo id-42\nid-\\d+ (re)\n```\n\n"
            "```console\n$ seq 3\n1\n...\n```\n")
    drawn = _draw(text, ["id-42\n", "1\n2\n3\n"])
    assert "<pre>id-42</pre>" in drawn
    assert "<pre>1\n...</pre>" in drawn


def test_a_failed_block_is_never_marked_verified() -> None:
    drawn = _draw("```console\n$ echo a\na\n```\n", ["b\n"])
    assert "✓" not in drawn and "sr-block--failed" in drawn
    assert "✗ verification failed" in drawn


def test_skipped_hidden_and_unverified_blocks() -> None:
    text = ('```bash skip="needs a GPU"\n$ nvidia-smi\n```\n\n'
            '```bash hide="true"\n$ setup\n```\n\n'
            "```console\n$ echo hi\nhi\n```\n")
    drawn = _draw(text, ["", "hi\n"])
    assert "not run: needs a GPU" in drawn
    assert "setup" not in drawn
    unverified = _draw(text, None)
    assert "not verified in this build" in unverified and "✓" not in unverified


def test_an_exit_status_is_a_caption_not_output() -> None:
    drawn = _draw('```console exit="2"\n$ false\n```\n', [""])
    assert "exit status 2" in html.unescape(drawn)
    assert "<pre>[2]</pre>" not in drawn
