"""How a block is drawn, from text alone: no files, no sandbox, no MkDocs."""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pytest
from factory import page, report

from snippet_runner.model import Outcome, PageReport, Status
from snippet_runner.site.render import (
    PlaceholderMap,
    engine_name,
    labels_for,
    rewrite_markdown,
)

EN = labels_for("en")
KO = labels_for("ko")

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


def _draw(text: str, outputs: list[str] | None, *, show_fixes: bool = False,
          drawn_report: PageReport | None = None, language: str = "en") -> str:
    """The page's Markdown after the swap, with the placeholders filled in."""
    p = page(text)
    placeholders = PlaceholderMap()
    given = drawn_report or (None if outputs is None else report(p, outputs))
    markdown = rewrite_markdown(text, p, given, labels_for(language), placeholders,
                                show_fixes=show_fixes)
    filled, lost = placeholders.insert(markdown)
    assert not lost
    return filled


def _marks(drawn: str) -> list[tuple[str, str]]:
    """(status, what the mark says) of each block's mark, details included."""
    found = re.findall(r'<p class="sr-mark sr-mark--(\w+)" data-search-exclude>(.*?)</p>', drawn)
    return [(status, " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inner)).split()))
            for status, inner in found]


def test_the_repaired_command_is_what_is_copied_and_shown() -> None:
    drawn = _draw(TYPO, ["", "one\ntwo\n"])
    assert 'data-copy="docker run -it test:latest true"' in drawn
    assert '<div class="sr-comment"><pre># run it</pre></div>' in drawn
    assert _marks(drawn) == [("passed", "✓ verified ran on Docker Engine 20.10.24 on "
                                        "2026-12-01 and printed what is shown")]


def test_typo_notes_are_shown_only_when_asked() -> None:
    assert "sr-fix" not in _draw(TYPO, ["", "one\ntwo\n"])
    noted = _draw(TYPO, ["", "one\ntwo\n"], show_fixes=True)
    assert ('<p class="sr-fix" data-search-exclude>typo fixed before running: '
            "<code>--it</code> → <code>-it</code></p>") in noted


def test_one_unobtrusive_mark_per_block_with_its_details_behind_a_button() -> None:
    drawn = _draw(TYPO + "\n```console\n$ echo three\nthree\n```\n", ["", "one\ntwo\n",
                                                                      "three\n"])
    marks = re.findall(r'<p class="sr-mark[^"]*"[^>]*>.*?</p>', drawn)
    assert len(marks) == 2
    for mark in marks:
        assert ('<button type="button" class="sr-mark__badge" aria-expanded="false">✓ verified'
                "</button>") in mark
        assert '<span class="sr-mark__detail" role="note">' in mark


@pytest.mark.parametrize(("engine", "shown"), [
    ("docker 20.10.24+dfsg1", "Docker Engine 20.10.24"),
    ("docker 28.2.2", "Docker Engine 28.2.2"),
    ("docker 28.2.2 (external)", "Docker Engine 28.2.2 (external)"),
    ("docker 20.10.24~ds1-0ubuntu1", "Docker Engine 20.10.24"),
    ("local bash 5.2.15(1)-release", "bash 5.2.15"),
    ("podman 5.0", "podman 5.0"),
])
def test_the_engine_is_named_as_an_engine(engine: str, shown: str) -> None:
    assert engine_name(engine) == shown


def test_the_page_summary_sits_under_the_title_and_counts_examples() -> None:
    text = TYPO + '\n```bash skip="syntax only"\n$ docker run --net=TYPE\n```\n'
    drawn = _draw(text, ["", "one\ntwo\n"])
    assert drawn.startswith("# Title\n\n<div class=\"sr-summary sr-summary--passed\" "
                            "data-search-exclude>")
    summary = html.unescape(re.sub(r"<[^>]+>", "", drawn.split("\n")[2]))
    assert summary == ("✓ The 1 example on this page ran on Docker Engine 20.10.24 on "
                       "2026-12-01 and printed what they show. 1 example shown without running.")
    ko = _draw(text, ["", "one\ntwo\n"], language="ko")
    assert ("이 페이지의 예제 1개를 Docker Engine 20.10.24에서 2026-12-01에 실제로 실행해, "
            "적힌 출력이 나오는지 확인했습니다. 예제 1개는 형식만 보여 주며 "
            "실행하지 않습니다.") in ko


def test_without_a_title_the_summary_opens_the_page_and_without_runs_there_is_none() -> None:
    drawn = _draw("Intro.\n\n```console\n$ echo hi\nhi\n```\n", ["hi\n"])
    assert drawn.lstrip("\n").startswith('<div class="sr-summary sr-summary--passed"')
    only_skipped = _draw('# T\n\n```bash skip="why"\n$ x\n```\n', [])
    assert "sr-summary" not in only_skipped


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


def test_a_failed_block_is_drawn_in_place_with_its_diff_and_line() -> None:
    text = "# T\n\n```console\n$ echo ok\nok\n```\n\n```console\n$ echo a\na\n```\n"
    drawn = _draw(text, ["ok\n", "b\n"])
    assert "✓ verified" in drawn  # the block that passed in this run
    failed = drawn[drawn.index('<div class="sr-block sr-block--failed" id="sr-failed-2"'):]
    assert "✓" not in failed and "✗ verification failed" in failed
    assert ("<code>docs/page.md:10: failed: the output differs from this line (command at line "
            "9)</code>") in failed
    assert '<span class="sr-diff__del">-a</span>' in failed
    assert '<span class="sr-diff__add">+b</span>' in failed
    banner = drawn[drawn.index('<div class="sr-summary sr-summary--failed" role="alert"'):]
    banner = banner[: banner.index("</div>")]
    assert "1 example on this page failed verification:" in banner
    assert '<a href="#sr-failed-2">docs/page.md:10: failed' in banner
    assert drawn.index("sr-summary--failed") < drawn.index("sr-block")


def test_a_hidden_block_that_fails_is_named_in_the_banner() -> None:
    text = '```bash hide="true"\n$ echo a\na\n```\n\n```console\n$ echo b\nb\n```\n'
    drawn = _draw(text, ["x\n", "b\n"])
    assert "<li><code>docs/page.md:3: failed: the output differs" in drawn
    assert "echo a" not in drawn.replace("docs/page.md", "")


def test_a_block_that_could_not_run_says_why() -> None:
    p = page("```console\n$ docker run web:9\n```\n")
    [snippet] = p.snippets
    message = "could not run: the image web:9 is not a fixture"
    errored = PageReport(p, (Outcome(snippet, snippet.commands[0], Status.ERROR, diff=message),),
                         "docker 20.10.24", "2026-12-01")
    drawn = _draw(p.text, None, drawn_report=errored)
    assert "sr-block--error" in drawn and "✗ verification failed" in drawn
    assert f'<pre class="sr-diff">{message}</pre>' in drawn


def test_skipped_hidden_and_unverified_blocks() -> None:
    text = ('```bash skip="needs a GPU"\n$ nvidia-smi\n```\n\n'
            '```bash hide="true"\n$ setup\n```\n\n'
            "```console\n$ echo hi\nhi\n```\n")
    drawn = _draw(text, ["", "hi\n"])
    assert ("skipped", "not run : needs a GPU") in _marks(drawn)
    assert "setup" not in drawn
    unverified = _draw(text, None)
    assert ("unverified", "○ not verified this build did not run this example") in _marks(
        unverified)
    assert "✓" not in unverified
    assert "The examples on this page were not run for this build." in unverified


def test_nothing_a_reader_should_not_search_for_is_left_searchable() -> None:
    """Marks, notes, summaries and failures carry data-search-exclude (Material's search and
    Zensical's skip such elements)."""
    text = TYPO + '\n```bash skip="why"\n$ x\n```\n\n```console\n$ echo a\na\n```\n'
    drawn = _draw(text, ["", "one\ntwo\n", "b\n"], show_fixes=True)
    for cls in ("sr-mark", "sr-fix", "sr-summary", "sr-failure"):
        tags = re.findall(rf'<(?:p|div) class="{cls}[ "][^>]*>', drawn)
        assert tags and all("data-search-exclude" in t for t in tags), (cls, tags)


def test_a_cached_report_draws_the_date_it_was_verified() -> None:
    p = page(TYPO)
    old = replace(report(p, ["", "one\ntwo\n"]), verified_at="2025-03-04T05:06:07",
                  from_cache=True)
    drawn = _draw(TYPO, None, drawn_report=old)
    assert "on 2025-03-04 and printed" in drawn


def test_an_exit_status_is_a_caption_not_output() -> None:
    drawn = _draw('```console exit="2"\n$ false\n```\n', [""])
    assert "exit status 2" in html.unescape(drawn)
    assert "<pre>[2]</pre>" not in drawn


def test_labels_exist_for_korean_and_fall_back_to_english() -> None:
    assert KO.verified == "검증됨" and labels_for("ko_KR") is KO and labels_for("fr") is EN


def test_a_page_that_left_its_sandbox_unusable_is_named_in_the_banner_only() -> None:
    text = "```console\n$ echo a\na\n```\n"
    p = page(text)
    passed = report(p, ["a\n"])
    whole = Outcome(p.snippets[-1], None, Status.ERROR, page_level=True,
                    diff="this page left the sandbox unusable: dockerd is gone")
    drawn = _draw(text, None, drawn_report=replace(passed, outcomes=(*passed.outcomes, whole)))
    assert "sr-block--passed" in drawn and "sr-failure" not in drawn
    assert "sr-summary--failed" in drawn and "dockerd is gone" in drawn
