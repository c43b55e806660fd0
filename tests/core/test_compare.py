"""Expected vs actual output: normalisation, wildcards, patterns, redactions, exit status."""

from __future__ import annotations

import pytest

from snippet_runner.core.compare import compare, line_matches, redact, width

ID64 = "4f1e2d3c" * 8
ID64_B = "a0b1c2d3" * 8


@pytest.mark.parametrize(
    ("expected", "output"),
    [
        ([], ""),
        ([], "\n\n"),
        (["hello"], "hello\n"),
        (["hello"], "hello   \r\n\r\n"),
        (["hello", ""], "hello"),
        (["a", "...", "z"], "a\nb\nc\nz\n"),
        (["a", "...", "z"], "a\nz\n"),
        (["..."], "anything\nat all\n"),
        (["..."], ""),
        (["x", "..."], "x\n"),
        (["\\d+ items (re)"], "42 items\n"),
        (["Status: Up * (glob)"], "Status: Up 3 seconds (healthy)\n"),
        (["file?.txt (glob)"], "file1.txt\n"),
        (["literal \\* (glob)"], "literal *\n"),
        (["0123456789ab"], "fedcba987654\n"),
        ([ID64], f"{ID64_B}\n"),
        ([f"sha256:{ID64}"], f"sha256:{ID64_B}\n"),
        (["<ID>"], "0123456789ab\n"),
        (["Created 5 seconds ago"], "Created About a minute ago\n"),
        (["Up 2 seconds"], "Up Less than a second\n"),
        (["at 2021-09-13T23:00:00.540Z"], "at 2026-01-02T03:04:05.123456789+09:00\n"),
        (["/tmp/tmp.AbCdEf1234"], "/tmp/tmp.ZyXwVu9876\n"),
        (["/tmp/tmpab12cd_3/x"], "/tmp/tmpzz99yy_1/x\n"),
        (["안녕하세요, 도커"], "안녕하세요, 도커\n"),
        (["a", "[0]"], "a\n"),
    ],
)
def test_matches(expected: list[str], output: str) -> None:
    verdict = compare(expected, output, 0)
    assert verdict.matched, verdict.diff
    assert verdict.diff == ""


@pytest.mark.parametrize(
    ("expected", "output"),
    [
        (["hello"], "hullo\n"),
        ([], "unexpected\n"),
        (["a"], ""),
        (["a", "...", "z"], "a\nb\n"),
        (["\\d+ (re)"], "12a\n"),           # full-line, not search
        (["a* (glob)"], "ba\n"),
        (["0123456789ab"], "0123456789abc\n"),  # 13 hex chars is not an id
        (["  indented"], "indented\n"),       # leading blanks count
        (["[bad (re)"], "[bad\n"),           # an invalid regex never matches
    ],
)
def test_mismatches(expected: list[str], output: str) -> None:
    verdict = compare(expected, output, 0)
    assert not verdict.matched
    assert verdict.diff.startswith("--- expected\n+++ actual\n")


def test_exit_status_from_option_and_from_exit_line() -> None:
    assert compare([], "", 125, default_exit=125).matched
    assert not compare([], "", 0, default_exit=125).matched
    assert compare(["boom", "[2]"], "boom\n", 2).matched
    verdict = compare(["boom", "[2]"], "boom\n", 1)
    assert not verdict.matched and verdict.output_matched
    assert verdict.diff == "exit status 1, expected 2"
    assert compare([], "", None).diff == "no exit status (killed), expected 0"


def test_diff_hides_lines_matched_by_patterns_and_keeps_korean_readable() -> None:
    expected = ["컨테이너 시작", "id: <ID>", "...", "끝 \\d+ (re)", "마지막"]
    output = "컨테이너 시작\nid: 0123456789ab\nx\ny\n끝 42\n다름\n"
    verdict = compare(expected, output, 0)
    assert not verdict.matched
    body = verdict.diff.split("\n")[2:]
    assert [line for line in body if line[:1] in "+-"] == ["-마지막", "+다름"]
    assert "\\u" not in verdict.diff and "\\x" not in verdict.diff


def test_diff_escapes_control_characters_only() -> None:
    verdict = compare(["a"], "\x1b[31mred\x1b[0m é\n", 0)
    assert "+\\x1b[31mred\\x1b[0m é" in verdict.diff


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("container 0123456789ab started", "container <ID> started"),
        (f"sha256:{ID64}", "sha256:<DIGEST>"),
        ("5 minutes ago", "<TIME> ago"),
        ("an hour ago", "<TIME> ago"),
        ("Up 3 hours", "Up <TIME>"),
        ("x0123456789abx", "x0123456789abx"),
        ("12 apples", "12 apples"),
    ],
)
def test_redactions(line: str, expected: str) -> None:
    assert redact(line) == expected


def test_regex_is_not_applied_to_literal_lines() -> None:
    assert not line_matches("a.c", "abc")
    assert line_matches("a.c (re)", "abc")


def test_caret_points_at_the_difference_in_terminal_columns() -> None:
    verdict = compare(["컨테이너 이름: web-1"], "컨테이너 이름: web-2\n", 0)
    lines = verdict.diff.split("\n")
    plus, mark = lines[-2], lines[-1]
    assert plus == "+컨테이너 이름: web-2"
    # Korean syllables take two columns: the caret sits under the "2", not 7 columns early.
    assert mark == "?" + " " * (4 * 2 + 1 + 2 * 2 + 1 + 5) + "^"
    assert width("한a") == 3 and width("e\u0301") == 1


def test_no_caret_for_multi_line_or_unrelated_changes() -> None:
    assert "?" not in compare(["a", "b"], "c\nd\n", 0).diff
    assert "?" not in compare(["abc"], "xyz\n", 0).diff
