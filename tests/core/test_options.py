"""Fence info strings → SnippetOptions, and the errors users see for bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snippet_runner.core.options import (
    format_options,
    has_file_option,
    language,
    parse_options,
    split_info,
)
from snippet_runner.errors import ConfigError
from snippet_runner.model import SnippetOptions

P = Path("docs/page.md")


def opts(info: str) -> SnippetOptions:
    return parse_options(split_info(info, path=P, line=7), path=P, line=7)


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ("bash", SnippetOptions()),
        ("console  ", SnippetOptions()),
        ('bash skip="needs a GPU"', SnippetOptions(skip="needs a GPU")),
        ('bash timeout="2.5"', SnippetOptions(timeout=2.5)),
        ('bash exit="125"', SnippetOptions(exit=125)),
        ('bash stdin="echo hi\\nexit\\n"', SnippetOptions(stdin="echo hi\nexit\n")),
        ('bash stdin="say \\"hi\\""', SnippetOptions(stdin='say "hi"')),
        ('bash hide="true"', SnippetOptions(hide=True)),
        ('bash hide="FALSE"', SnippetOptions(hide=False)),
        ('toml file="/etc/gitlab-runner/config.toml"',
         SnippetOptions(file="/etc/gitlab-runner/config.toml")),
        ('bash session="server"', SnippetOptions(session="server")),
        ('bash title="설치" linenums="1" hl_lines="2 3"', SnippetOptions()),
        ('bash   skip="a b"   timeout="3"', SnippetOptions(skip="a b", timeout=3.0)),
    ],
)
def test_valid_options(info: str, expected: SnippetOptions) -> None:
    assert opts(info) == expected


@pytest.mark.parametrize(
    ("info", "fragment"),
    [
        ('bash skp="x"', "unknown fence option 'skp'"),
        ("bash skip=x", "key=\"value\""),
        ("bash skip='x'", "key=\"value\""),
        ('bash skip="unterminated', "key=\"value\""),
        ('bash {.class}', "key=\"value\""),
        ('bash skip=""', "needs a reason"),
        ('bash timeout="soon"', "number of seconds"),
        ('bash timeout="0"', "number of seconds"),
        ('bash exit="-1"', "0 to 255"),
        ('bash exit="256"', "0 to 255"),
        ('bash hide="yes"', '"true" or "false"'),
        ('bash file="relative/path"', "absolute path"),
        ('bash file="/etc/"', "absolute path"),
        ('bash file="/etc/../../x"', "absolute path"),
        ('bash session="a b"', "simple name"),
        ('bash skip="a" skip="b"', "given twice"),
        ("bash skip=unquoted", "'skip=unquoted'"),
        ('bash timeout="abc"', 'timeout="abc" must be a number of seconds'),
        ('bash timeout="nan"', "number of seconds"),
        ('bash timeout="inf"', "number of seconds"),
        ('bash exit="-"', 'exit="-" must be an exit status'),
        ('bash exit="\u00b2"', "0 to 255"),
        ('bash exit=""', "0 to 255"),
        ('bash exit="1" exit="2"', "'exit' is given twice"),
        ('bash title="a" skip=\u201cx\u201d', "key=\"value\""),
        ('bash\tskip="x" tiemout="5"', "unknown fence option 'tiemout'"),
    ],
)
def test_invalid_options_name_file_and_line(info: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        opts(info)
    message = str(caught.value)
    assert message.startswith("docs/page.md:7: ")
    assert fragment in message
    assert "\n" not in message


def test_language_is_first_word_lower_cased() -> None:
    info = split_info('Console skip="x"', path=P, line=1)
    assert info.lang == "console"
    assert info.pairs == (("skip", "x"),)


@pytest.mark.parametrize(
    ("info", "expected"),
    [('toml file="/x"', True), ('bash  file="/x"', True), ("bash", False),
     ('bash myfile="/x"', False)],
)
def test_has_file_option(info: str, expected: bool) -> None:
    assert has_file_option(info) is expected


@pytest.mark.parametrize("info", ['bash\tskip="x"', 'bash\u00a0skip="x"', '  bash   skip="x"  '])
def test_any_whitespace_ends_the_language(info: str) -> None:
    """A tab after the language must not hide the block (markdown-it splits on any space)."""
    assert language(info) == "bash"
    assert split_info(info, path=P, line=1).pairs == (("skip", "x"),)


_OPTIONS = st.builds(
    SnippetOptions,
    skip=st.none() | st.text(min_size=1).filter(str.strip),
    timeout=st.none() | st.floats(min_value=1e-3, max_value=86000),
    exit=st.integers(0, 255),
    stdin=st.none() | st.text().filter(lambda t: "\r" not in t),
    hide=st.booleans(),
    file=st.none() | st.from_regex(r"(/[a-z0-9_.-]*[a-z0-9_-])+", fullmatch=True),
    session=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,8}", fullmatch=True),
)


@given(_OPTIONS)
def test_format_options_reads_back_as_the_same_options(options: SnippetOptions) -> None:
    """``list`` shows options in the form a page writes them; that form parses back exactly."""
    info = f"bash {format_options(options)}"
    assert "\n" not in info
    assert opts(info) == options


def test_format_options_shows_only_what_differs_from_the_defaults() -> None:
    assert format_options(SnippetOptions()) == ""
    assert format_options(opts('bash hide="TRUE" timeout="30" stdin="a\\tb\\n"')) == (
        'timeout="30" stdin="a\\tb\\n" hide="true"')
