"""The pytest plugin, run by pytest itself (pytester): opt-in, one item per block or page, and
pytest's own selection, reruns, parallel workers, splitting and reporters working on them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

LOCAL = "--snippets-backend=local"

PAGE = """\
# A guide

```console
$ printf 'one\\n' > state.txt
$ cat state.txt
one
```

```console
$ cat state.txt
two
```

```sh skip="needs a GPU"
$ nvidia-smi
```

```console
$ echo below >> {counter}
$ true
```
"""


@pytest.fixture
def guide(pytester: pytest.Pytester, tmp_path: Path) -> Path:
    counter = tmp_path / "below.txt"
    docs = pytester.mkdir("docs")
    (docs / "guide.md").write_text(PAGE.format(counter=counter), encoding="utf-8")
    return counter


def test_normal_runs_collect_no_markdown(pytester: pytest.Pytester, guide: Path) -> None:
    pytester.makepyfile(test_plain="def test_one():\n    assert True\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "guide.md" not in result.stdout.str()


def test_each_block_is_an_item_with_its_own_outcome(pytester: pytest.Pytester,
                                                     guide: Path) -> None:
    result = pytester.runpytest("--snippets", LOCAL, "-v", "docs")
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "docs/guide.md::line-3 PASSED*",
        "docs/guide.md::line-9 FAILED*",
        "docs/guide.md::line-14 SKIPPED (needs a GPU)*",
        "docs/guide.md::line-18 PASSED*",
        "docs/guide.md:11: failed: the output differs from this line (command at line 10)",
        "    $ cat state.txt",
        "-two",
        "+one",
    ])
    assert "Traceback" not in result.stdout.str()
    assert guide.read_text().splitlines() == ["below"]


def test_selecting_a_block_runs_the_blocks_above_it_not_below(pytester: pytest.Pytester,
                                                               guide: Path) -> None:
    result = pytester.runpytest("--snippets", LOCAL, "docs", "-k", "line-3 or line-9")
    result.assert_outcomes(passed=1, failed=1, deselected=2)
    assert not guide.exists()  # the last block never ran
    by_word = pytester.runpytest("--snippets", LOCAL, "docs", "-k", "printf")
    by_word.assert_outcomes(passed=1, deselected=3)


def test_x_stops_at_the_first_failure_and_lf_reruns_only_it(pytester: pytest.Pytester,
                                                            guide: Path) -> None:
    (pytester.path / "docs" / "other.md").write_text("```console\n$ echo a\nb\n```\n",
                                                     encoding="utf-8")
    first = pytester.runpytest("--snippets", LOCAL, "docs", "-x")
    first.assert_outcomes(passed=1, failed=1)
    again = pytester.runpytest("--snippets", LOCAL, "docs", "--lf", "-v")
    again.assert_outcomes(failed=1)  # the block above it ran too (it needs its state)
    again.stdout.fnmatch_lines(["run-last-failure: rerun previous 1 failure*",
                                "docs/guide.md::line-9 FAILED*", "+one"])


def test_ini_options_turn_it_on_and_page_items(pytester: pytest.Pytester, guide: Path) -> None:
    pytester.makeini("[pytest]\nsnippets = true\nsnippets_backend = local\n"
                     "snippets_items = page\n")
    result = pytester.runpytest("docs", "-v")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["docs/guide.md::page FAILED*"])
    off = pytester.runpytest("docs", "--no-snippets")
    assert off.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_bad_settings_and_bad_pages_are_one_clear_message(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--snippets", "--snippets-timeout=-1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--snippets-timeout must be a positive number of seconds*"])
    pytester.makeini("[pytest]\nsnippets_apply_safe_fixes = perhaps\n")
    ini = pytester.runpytest("--snippets")
    ini.stderr.fnmatch_lines(["*ini option snippets_apply_safe_fixes must be true or false*"])
    pytester.makeini("[pytest]\n")
    (pytester.path / "bad.md").write_text('```console colour="red"\n$ true\n```\n',
                                          encoding="utf-8")
    collected = pytester.runpytest("--snippets", LOCAL, "bad.md")
    collected.assert_outcomes(errors=1)
    collected.stdout.fnmatch_lines(["*bad.md:1:*colour*"])
    assert "Traceback" not in collected.stdout.str()


def test_junit_reporter_gets_each_block(pytester: pytest.Pytester, guide: Path) -> None:
    result = pytester.runpytest("--snippets", LOCAL, "docs", "--junitxml=out.xml",
                                "-o", "junit_family=xunit1")
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    cases = ET.parse(pytester.path / "out.xml").getroot().iter("testcase")
    lines = {c.get("name"): (c.get("file"), c.get("line"), c.find("failure") is not None)
             for c in cases}
    assert lines["line-9"] == ("docs/guide.md", "8", True)  # pytest counts lines from 0
    assert lines["line-3"] == ("docs/guide.md", "2", False)


def test_xdist_workers_and_pytest_split_groups(pytester: pytest.Pytester, guide: Path) -> None:
    for n in range(4):
        (pytester.path / "docs" / f"p{n}.md").write_text(
            f"```console\n$ echo {n}\n{n}\n```\n", encoding="utf-8")
    parallel = pytester.runpytest_subprocess("--snippets", LOCAL, "docs", "-n", "2",
                                             "--dist", "loadfile")
    parallel.assert_outcomes(passed=6, failed=1, skipped=1)
    assert "2 workers" in parallel.stdout.str()
    pytester.runpytest("--snippets", LOCAL, "docs", "--store-durations")
    assert (pytester.path / ".test_durations").is_file()
    groups = [pytester.runpytest("--snippets", LOCAL, "docs", "--splits", "2", "--group",
                                 str(g), "-q", "-rA") for g in (1, 2)]
    ran = [line.split()[1] for g in groups for line in g.stdout.lines
           if line.startswith(("PASSED ", "FAILED ", "SKIPPED "))]
    assert len(ran) == 8 and len(set(ran)) == 8, ran


@pytest.mark.sandbox
def test_blocks_run_in_the_real_sandbox(pytester: pytest.Pytester, cache_dir: Path) -> None:
    (pytester.path / "docker.md").write_text(
        "```console\n$ docker run --rm test:latest echo hi\nhi\n```\n\n"
        "```console\n$ docker run --rm test:latest echo hi\nbye\n```\n", encoding="utf-8")
    result = pytester.runpytest("--snippets", f"--snippets-cache-dir={cache_dir}", "-v",
                                "docker.md")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["docker.md::line-1 PASSED*", "docker.md::line-6 FAILED*",
                                 "-bye", "+hi"])
