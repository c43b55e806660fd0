"""``--format github``: workflow commands that put each failure on its line of the pull
request, escaped by GitHub's rules."""

from __future__ import annotations

from pathlib import Path

from factory import page, report

from snippet_runner.core.github import (
    annotation_path,
    command,
    escape_data,
    escape_property,
    to_github,
)

TEXT = ("# Guide\n\n```console\n$ printf '100%%\\n'\n100%\n"
        "$ docker run --it --rm test:latest echo a,b\nA:B\n```\n")


def _decode(text: str) -> str:
    return text.replace("%0A", "\n").replace("%0D", "\r").replace("%3A", ":") \
        .replace("%2C", ",").replace("%25", "%")


def test_escaping_follows_githubs_rules() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert command("error", "x\ny", file="a,b.md", line=3) == (
        "::error file=a%2Cb.md,line=3::x%0Ay\n")
    assert command("notice", "plain") == "::notice::plain\n"


def test_a_failure_is_an_error_at_the_line_that_differs() -> None:
    p = page(TEXT)
    out = to_github([report(p, ["100%\n", "a,b\n"])])
    lines = out.splitlines()
    errors = [ln for ln in lines if ln.startswith("::error ")]
    assert len(errors) == 1, out  # the first command passed
    props, _, message = errors[0][len("::error "):].partition("::")
    assert props.startswith("file=docs/page.md,line=7,title=snippet-runner%3A failed")
    assert "(command at line 6)" in _decode(props)
    decoded = _decode(message)
    assert decoded.startswith("$ docker run --it --rm test:latest echo a,b\n")
    assert "-A:B\n+a,b" in decoded
    assert "\n" not in message  # one command per line, the diff escaped inside it


def test_an_applied_typo_fix_is_a_warning_at_the_typo() -> None:
    p = page(TEXT)
    out = to_github([report(p, ["100%\n", "A:B\n"])])
    (warning,) = out.splitlines()
    assert warning.startswith("::warning file=docs/page.md,line=6,title=snippet-runner%3A typo "
                              "(docker-clustered-short-flags)::")
    assert "fix --write" in warning


def test_paths_are_made_relative_to_the_workspace(tmp_path: Path) -> None:
    inside = tmp_path / "docs" / "x.md"
    assert annotation_path(inside, tmp_path) == "docs/x.md"
    assert annotation_path(Path("/elsewhere/x.md"), tmp_path) == "/elsewhere/x.md"
    assert annotation_path(Path("docs/x.md"), None) == "docs/x.md"
