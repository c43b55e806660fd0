"""Terminal, JUnit and JSON reports (progress: test_progress.py)."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from snippet_runner.core.compare import compare
from snippet_runner.core.extract import extract
from snippet_runner.core.report import print_terminal, to_json, to_junit
from snippet_runner.model import Outcome, Page, PageReport, RunResult, Status

TEXT = ('```console\n$ echo 안녕\n안녕하세요\n$ sleep 9\n$ true\n```\n\n'
        '```bash skip="needs a GPU"\n$ nvidia-smi\n```\n')
PATH = Path("docs/ko/page.md")


def report() -> PageReport:
    snippets = extract(TEXT, PATH)
    first, second, third = snippets[0].commands
    page = Page(PATH, TEXT, tuple(snippets), ())
    failed = compare(first.expected, "안녕\n", 0)
    return PageReport(page, (
        Outcome(snippets[0], first, Status.FAILED, RunResult("안녕\n", 0, 0.25), failed.diff),
        Outcome(snippets[0], second, Status.TIMEOUT, RunResult("", None, 1.0, True),
                "timed out after 1 s"),
        Outcome(snippets[0], third, Status.PASSED, RunResult("", 0, 0.01)),
        Outcome(snippets[1], None, Status.SKIPPED, diff="skipped: needs a GPU"),
    ), "local bash 5.2", "2026-11-28")


def test_terminal_names_path_line_and_shows_readable_diff() -> None:
    out = io.StringIO()
    print_terminal([report()], out)
    text = out.getvalue()
    assert "docs/ko/page.md:2: FAILED $ echo 안녕\n" in text
    assert "    -안녕하세요\n    +안녕\n" in text
    assert "docs/ko/page.md:4: TIMEOUT $ sleep 9\n" in text
    assert ":5:" not in text  # passed commands stay quiet
    assert text.endswith("1 page: 1 passed, 1 failed, 1 timeout, 1 skipped\n")
    assert "\x1b[" not in text


def test_terminal_color_and_verbose() -> None:
    out = io.StringIO()
    print_terminal([report()], out, color=True, verbose=True)
    assert "\x1b[31mFAILED\x1b[0m" in out.getvalue()
    assert "docs/ko/page.md:5: " in out.getvalue()


def test_junit_is_valid_and_counts() -> None:
    root = ET.fromstring(to_junit([report()]).encode())
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "2", "1")
    cases = suite.findall("testcase")
    assert cases[0].get("name") == "docs/ko/page.md:2 $ echo 안녕"
    failure = cases[0].find("failure")
    assert failure is not None and "+안녕" in (failure.text or "")
    assert cases[3].find("skipped") is not None


def test_json_round_trips() -> None:
    data = json.loads(to_json([report()]))
    assert data["summary"] == {"passed": 1, "failed": 1, "timeout": 1, "error": 0, "skipped": 1}
    first = data["pages"][0]["outcomes"][0]
    assert (first["path"], first["line"], first["status"]) == ("docs/ko/page.md", 2, "failed")
    assert "안녕" in to_json([report()])  # not \\uXXXX escaped


def test_failure_location_is_the_first_differing_expected_line() -> None:
    from snippet_runner.core.report import failure_heading, failure_location

    failed, timeout, _, skipped = report().outcomes
    assert str(failure_location(failed)) == "docs/ko/page.md:3"  # 안녕하세요, below the command
    assert failure_heading(failed) == ("docs/ko/page.md:3: failed: the output differs from "
                                       "this line (command at line 2)")
    assert str(failure_location(timeout)) == "docs/ko/page.md:4"  # no diff lines: the command
    assert failure_heading(skipped) == "docs/ko/page.md:8: skipped"
    out = io.StringIO()
    print_terminal([report()], out)
    assert "docs/ko/page.md:2: FAILED $ echo 안녕\n    docs/ko/page.md:3: the output differs" \
        in out.getvalue()
