"""Fence info strings → SnippetOptions, and the errors users see for bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from snippet_runner.errors import ConfigError
from snippet_runner.model import SnippetOptions
from snippet_runner.options import has_file_option, language, parse_options, split_info

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
