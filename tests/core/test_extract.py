"""Markdown → Snippets: which fences count, how bodies split, and exact lines and spans."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from snippet_runner.core.extract import extract, split_lines
from snippet_runner.errors import ConfigError
from snippet_runner.model import Snippet

P = Path("page.md")
SEED = Path("/work/shared/seed/2021-09-13-post-docker-network.md")


def one(text: str) -> Snippet:
    snippets = extract(text, P)
    assert len(snippets) == 1
    return snippets[0]


def at(text: str, start: int, end: int) -> str:
    return text[start:end]


@pytest.mark.parametrize("lang", ["bash", "console", "sh", "shell", "shell-session", "Console"])
def test_verified_languages(lang: str) -> None:
    assert one(f"```{lang}\n$ true\n```\n").commands[0].text == "true"


@pytest.mark.parametrize("lang", ["python", "text", "", "yaml", "bash-not"])
def test_other_languages_are_ignored(lang: str) -> None:
    assert extract(f"```{lang}\n$ true\n```\n", P) == []


def test_any_language_with_a_file_option_is_a_file_block() -> None:
    snippet = one('```toml file="/etc/app.toml"\n[a]\nb = 1\n```\n')
    assert snippet.options.file == "/etc/app.toml"
    assert snippet.body == "[a]\nb = 1\n"
    assert snippet.commands == () and snippet.script is None


def test_transcript_commands_output_and_comments() -> None:
    text = ("intro\n\n```console\n# shown, never run\n$ echo a\na\n\n# comment before b\n"
            "$ echo b \\\n    c\nb c\n$ true\n```\n")
    snippet = one(text)
    assert snippet.location.line == 3 and snippet.end_line == 13
    assert snippet.comment_lines == (4, 8)
    first, second, third = snippet.commands
    assert (first.text, first.location.line, first.expected) == ("echo a", 5, ("a", ""))
    assert second.text == "echo b \\\n    c" and second.location.line == 9
    assert second.expected == ("b c",)
    assert at(text, *vars(second.span).values()) == "echo b \\\n    c"
    assert third.expected == () and third.expected_span.start == third.expected_span.end
    assert at(text, first.expected_span.start, first.expected_span.end) == "a\n\n"


def test_hash_lines_inside_output_are_output() -> None:
    snippet = one("```console\n$ cat conf\n# header\nkey=1\n```\n")
    assert snippet.commands[0].expected == ("# header", "key=1")
    assert snippet.comment_lines == ()


def test_block_without_prompt_is_a_script() -> None:
    snippet = one("```bash\nset -e\nX=1\necho $X\n```\n")
    assert snippet.commands == ()
    assert snippet.script == "set -e\nX=1\necho $X\n"


def test_empty_block_is_neither() -> None:
    snippet = one("```bash\n\n```\n")
    assert snippet.commands == () and snippet.script is None


def test_text_before_first_command_is_an_error_with_its_line() -> None:
    with pytest.raises(ConfigError, match=r"^page\.md:3: .*before the block's first"):
        extract("```console\n\noops\n$ true\n```\n", P)


def test_bad_option_error_names_the_fence_line() -> None:
    with pytest.raises(ConfigError, match=r"^page\.md:2: unknown fence option 'skipp'"):
        extract('\n```bash skipp="x"\n$ true\n```\n', P)


def test_fence_in_list_item_strips_indentation() -> None:
    text = "* item\n\n  ```bash\n  $ echo hi\n  hi\n  ```\n"
    command = one(text).commands[0]
    assert command.text == "echo hi" and command.expected == ("hi",)
    assert command.indent == "  "
    assert at(text, command.span.start, command.span.end) == "echo hi"
    assert at(text, command.expected_span.start, command.expected_span.end) == "  hi\n"


def test_crlf_and_bom_keep_offsets_exact() -> None:
    text = "\ufeff# 제목\r\n\r\n```console\r\n$ echo 안녕\r\n안녕\r\n```\r\n"
    snippet = one(text)
    command = snippet.commands[0]
    assert snippet.location.line == 3 and command.location.line == 4
    assert at(text, command.span.start, command.span.end) == "echo 안녕"
    assert at(text, command.expected_span.start, command.expected_span.end) == "안녕\r\n"
    whole = at(text, snippet.span.start, snippet.span.end)
    assert whole == "```console\r\n$ echo 안녕\r\n안녕\r\n```"


def test_tilde_and_longer_fences_and_unclosed_fence() -> None:
    text = "~~~~bash\n$ echo '```'\n```\n~~~~\n\n```sh\n$ echo open\n"
    first, second = extract(text, P)
    assert first.commands[0].expected == ("```",)
    assert second.end_line == 7 and second.commands[0].text == "echo open"


def test_front_matter_is_not_markdown() -> None:
    text = "---\ntitle: x\nnote: |\n  ```bash\n  $ no\n---\n\n```bash\n$ yes\n```\n"
    assert [c.text for s in extract(text, P) for c in s.commands] == ["yes"]


def test_blockquote_fence() -> None:
    text = "> ```console\n> $ echo q\n> q\n> ```\n"
    command = one(text).commands[0]
    assert command.text == "echo q" and command.expected == ("q",)


def test_seed_post_blocks_and_lines() -> None:
    text = SEED.read_text(encoding="utf-8")
    snippets = extract(text, SEED)
    assert [s.location.line for s in snippets] == [30, 40, 57, 73]
    assert [c.location.line for s in snippets for c in s.commands] == [31, 42, 58, 75]
    assert snippets[1].comment_lines == (41,)


# --- properties -------------------------------------------------------------------------------

_PIECES = st.sampled_from([
    "text", "* item", "", "   ", "$ echo hi", "$ a \\", "out", "# c", "```", "```bash",
    "```console", '```bash skip="x"', "~~~sh", "```python", "  ```bash", "  $ ls", "  out",
    "> ```bash", "> $ q", "    $ code", "안녕 $ x", "\t$ tab", "$", "$ ", "---", "```\u00a0bash",
    # Material containers, their indented content, and nesting.
    "!!! note", '!!! tip "제목"', "??? note", '???+ x "t"', '=== "Tab"', "  !!! note",
    "    ```bash", "    $ echo hi", "    out", "    !!! note", "        ```console",
    "        $ ls", "\t```sh", "\t$ tab", ">     ```bash", "> !!! note",
])


@st.composite
def documents(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=30))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return bom + newline.join(lines) + draw(st.sampled_from(["", newline]))


def _check_positions(text: str, snippets: list[Snippet]) -> None:
    lines = split_lines(text)
    for snippet in snippets:
        fence = lines[snippet.location.line - 1]
        assert snippet.span.start == fence.start
        assert re.search(r"(`{3,}|~{3,})", fence.text)
        for command in snippet.commands:
            line = lines[command.location.line - 1]
            assert line.start <= command.span.start - 2 and command.span.start <= line.end
            assert text[command.span.start - 2:command.span.start] == "$ "
            source = text[command.span.start:command.span.end]
            assert source.split("\n")[0].split("\r")[0] == command.text.split("\n")[0]
            got = text[command.expected_span.start:command.expected_span.end]
            for expected, source_line in zip(command.expected, split_lines(got), strict=True):
                assert source_line.text.endswith(expected)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_parser_never_crashes_and_locates_exactly(text: str) -> None:
    try:
        snippets = extract(text, P)
    except ConfigError as err:
        assert err.line is not None and 1 <= err.line <= len(split_lines(text))
        return
    _check_positions(text, snippets)


@settings(max_examples=200)
@given(st.text())
def test_parser_survives_arbitrary_text(text: str) -> None:
    try:
        _check_positions(text, extract(text, P))
    except ConfigError as err:
        assert err.line is not None


GOLDEN = sorted((Path(__file__).parent / "cases").glob("extract-*.md"))


@pytest.mark.parametrize("case", GOLDEN, ids=[c.stem for c in GOLDEN])
def test_golden_extract_cases(case: Path) -> None:
    """tests/cases/extract-NAME.md → the listing in extract-NAME.json (``list --json``)."""
    import json

    from snippet_runner.api import load_page
    from snippet_runner.core.report import page_dict

    listing = json.loads(json.dumps(page_dict(load_page(case))))
    listing["path"] = case.name
    for fix in listing["fixes"]:
        fix["path"] = case.name
    assert GOLDEN
    assert listing == json.loads(case.with_suffix(".json").read_text(encoding="utf-8"))


# --- unclosed fences and odd info strings -------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("# t\n\n```bash\n$ echo hi\nhi\n\nprose that would become output\n", 3),
        ("* item\n\n  ~~~console\n  $ echo hi\n\nnot in the item\n", 3),
        ("> ```sh\n> $ echo q\n\nafter the quote\n", 1),
        ('```bash\n$ true\n```\n\n````toml file="/etc/x"\nkey = 1\n', 5),
    ],
)
def test_unclosed_fence_is_an_error_when_required(text: str, line: int) -> None:
    assert extract(text, P)  # CommonMark still reads it, as a block running to its container's end
    with pytest.raises(ConfigError, match=rf"^page\.md:{line}: the [`~]+\S+ fence .* never "
                                          r"closed.*add a closing"):
        extract(text, P, require_closed=True)


@pytest.mark.parametrize(
    "text",
    [
        "```bash\n$ true\n```",
        "* item\n\n  ```bash\n  $ true\n  ```\n",
        "> ```sh\n> $ true\n> ```\n",
        "* a\n  > ```sh\n  > $ true\n  > ```\n",
        "```bash\n```\n",
        "````bash\n$ echo '```'\n```\n`````\n",
        "```python\nnot ours, never closed\n",
    ],
)
def test_closed_fences_in_any_container_are_accepted(text: str) -> None:
    assert extract(text, P, require_closed=True) == extract(text, P)


def test_load_page_refuses_an_unclosed_fence(tmp_path: Path) -> None:
    from snippet_runner.api import load_page

    page = tmp_path / "p.md"
    page.write_text("intro\n\n```console\n$ echo hi\nhi\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"p\.md:3: the ```console fence"):
        load_page(page)


def test_a_tab_after_the_language_still_counts() -> None:
    snippet = one('```bash\tskip="later"\n$ false\n```\n')
    assert snippet.lang == "bash" and snippet.options.skip == "later"


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_require_closed_only_rejects_a_fence_it_extracted(text: str) -> None:
    try:
        loose = extract(text, P)
    except ConfigError:
        return
    try:
        assert extract(text, P, require_closed=True) == loose
    except ConfigError as err:
        assert err.line in [s.location.line for s in loose]


def test_an_invalid_regex_line_is_reported_at_its_line() -> None:
    text = "# t\n\n```console\n$ echo 'v1.2 (beta'\nv1.2 (beta (re)\n```\n"
    with pytest.raises(ConfigError, match=r"^page\.md:5: this output line ends with ' \(re\)' "
                                          r"but the rest is not a valid regular expression "
                                          r"\(missing \), unterminated subpattern"):
        extract(text, P)
    assert extract(text.replace("(beta (re)", r"\(beta (re)"), P)


# --- Material containers: admonitions, details, content tabs ----------------------------------

@pytest.mark.parametrize("opener", [
    '!!! note', '!!! note "제목"', '!!!tip', '!!! danger inline end "T"', '!!! warning ""',
    '??? note', '???+ note "open"', '??? "only a title"',
    '=== "Tab"', '===+ "선택"', '===! "new group"', '===+! "both"',
])
@pytest.mark.parametrize("gap", ["", "\n"])
def test_fence_inside_a_container_is_extracted_with_exact_positions(opener: str,
                                                                     gap: str) -> None:
    text = f"intro\n\n{opener}\n{gap}    ```console\n    $ echo hi\n    hi\n    ```\n\nafter\n"
    snippet = one(text)
    base = 4 + len(gap)  # line of the opening fence
    assert (snippet.location.line, snippet.end_line) == (base, base + 3)
    command = snippet.commands[0]
    assert (command.text, command.location.line, command.expected) == ("echo hi", base + 1,
                                                                       ("hi",))
    assert command.indent == "    "
    assert at(text, command.span.start, command.span.end) == "echo hi"
    assert at(text, command.expected_span.start, command.expected_span.end) == "    hi\n"
    assert at(text, snippet.span.start, snippet.span.end) == (
        "    ```console\n    $ echo hi\n    hi\n    ```")
    assert snippet.body == "$ echo hi\nhi\n"


@pytest.mark.parametrize("line", [
    "!!!", "!!! ", '!!! "title only"', "???", "??? ", "=== Tab", '=== ""x', '====  "x"',
    "!!! note: colon", "text !!! note",
])
def test_lines_that_only_look_like_openers_open_nothing(line: str) -> None:
    # Without a container the indented fence is an indented code block (or a paragraph's
    # continuation): Python-Markdown shows it as code, never as a verified block.
    assert extract(f"{line}\n\n    ```bash\n    $ echo hi\n    ```\n", P) == []


def test_nested_containers_in_a_list_and_a_quote() -> None:
    text = ('=== "A"\n\n    ```bash\n    $ echo a\n    ```\n\n=== "B"\n\n'
            '    ???+ tip "x"\n\n        ```sh\n        $ echo b\n        b\n        ```\n\n'
            '1. step\n\n    !!! warning\n\n        ```console\n        $ echo c\n        c\n'
            '        ```\n\n'
            '> !!! note\n>     ```bash\n>     $ echo d\n>     ```\n')
    snippets = extract(text, P)
    assert [(s.location.line, s.end_line) for s in snippets] == [(3, 5), (11, 14), (20, 23),
                                                                 (26, 28)]
    commands = [c for s in snippets for c in s.commands]
    assert [(c.text, c.location.line, c.indent) for c in commands] == [
        ("echo a", 4, "    "), ("echo b", 12, "        "), ("echo c", 21, "        "),
        ("echo d", 27, ">     ")]
    for command in commands:
        assert at(text, command.span.start, command.span.end) == command.text


def test_container_ends_at_the_first_line_indented_less() -> None:
    text = "!!! note\n    ```bash\n    $ echo in\n    ```\nnot inside\n\n    $ code block\n"
    snippet = one(text)
    assert snippet.end_line == 4
    # An unclosed fence runs only to the end of its container, and the strict mode says so.
    unclosed = "!!! note\n    ```bash\n    $ echo in\n\nprose\n"
    assert one(unclosed).commands[0].expected == ()
    with pytest.raises(ConfigError, match=r"^page\.md:2: .*admonition or tab"):
        extract(unclosed, P, require_closed=True)


def test_openers_inside_code_are_just_code() -> None:
    text = ("````markdown\n!!! note\n    ```bash\n    $ echo example\n    ```\n````\n\n"
            "    !!! note\n        ```bash\n        $ echo indented-code\n        ```\n")
    assert extract(text, P) == []


def test_tabs_and_crlf_inside_a_container() -> None:
    text = "!!! note\r\n\r\n\t```console\r\n\t$ echo 탭\r\n\t탭\r\n\t```\r\n"
    command = one(text).commands[0]
    assert (command.text, command.location.line, command.indent) == ("echo 탭", 4, "\t")
    assert at(text, command.expected_span.start, command.expected_span.end) == "\t탭\r\n"


_WRAPS = st.sampled_from(["!!! note", '!!! tip "제목"', "??? note", '???+ x "t"', '=== "Tab"',
                          "list", "quote"])


@st.composite
def nested_fence(draw: st.DrawFn) -> tuple[str, int]:
    """A console block wrapped in up to four containers, lists and quotes (Python-Markdown's
    four-column indentation, spaces or a tab), with prose around; and its fence's line.

    No tab follows a quote's ``> ``: markdown-it reads part of such a tab as indentation of the
    block's lines, a CommonMark corner no page of ours uses."""
    lines = ["```console", "$ echo hi", "hi", "```"]
    wraps = draw(st.lists(_WRAPS, max_size=4))
    indents = ["    "] if "quote" in wraps else ["    ", "\t"]
    for wrap in wraps:
        if wrap == "quote":
            lines = [f"> {line}" if line else ">" for line in lines]
            continue
        indent = draw(st.sampled_from(indents)) if wrap != "list" else "    "
        gap = [""] if wrap == "list" or draw(st.booleans()) else []
        opener = draw(st.sampled_from(["- step", "1. step"])) if wrap == "list" else wrap
        lines = [opener, *gap, *(indent + line if line else "" for line in lines)]
    before = draw(st.sampled_from([[], ["intro"], ["intro", ""], ["# t", "", "text", ""]]))
    after = draw(st.sampled_from([[], [""], ["", "after"], ["", "    code", ""]]))
    text = "\n".join([*before, *lines, *after]) + "\n"
    return text, len(before) + next(i for i, ln in enumerate(lines) if ln.endswith("```console"))


@settings(max_examples=300)
@given(nested_fence())
def test_a_fence_in_any_nesting_of_containers_is_found_at_its_line(case: tuple[str, int]) -> None:
    text, index = case
    snippet = one(text)
    assert (snippet.location.line, snippet.end_line) == (index + 1, index + 4)
    command = snippet.commands[0]
    assert (command.text, command.location.line, command.expected) == ("echo hi", index + 2,
                                                                       ("hi",))
    assert at(text, command.span.start, command.span.end) == "echo hi"
    assert at(text, command.expected_span.start, command.expected_span.end).endswith("hi\n")
    assert extract(text, P, require_closed=True) == [snippet]


@settings(max_examples=150, deadline=None)
@given(nested_fence())
def test_what_python_markdown_renders_as_a_block_is_what_we_extract(
        case: tuple[str, int]) -> None:
    """The site's own renderer, with its container extensions, shows each generated fence as a
    highlighted block, and we extract that very block (the reader sees what was verified)."""
    import markdown  # type: ignore[import-untyped]  # no stubs installed; tests only

    text, index = case
    # Python-Markdown needs a blank line before a list; CommonMark doesn't. Not about containers.
    assume(not re.match(r"intro\n(?:- |1\. )", text))
    html = markdown.markdown(text, extensions=["admonition", "pymdownx.details",
                                               "pymdownx.superfences", "pymdownx.tabbed"])
    assert html.count('class="highlight"') == 1 and "```" not in html, html
    assert [s.location.line for s in extract(text, P)] == [index + 1]
