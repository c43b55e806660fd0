"""``report merge``: the shards' reports become one, in the whole run's order, and reports
that do not make up one run are refused."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from factory import page, report

from snippet_runner.core.merge import ReportFile, merge
from snippet_runner.core.report import to_json, to_junit
from snippet_runner.core.shard import Shard, ShardPlan, plan
from snippet_runner.errors import ConfigError
from snippet_runner.model import PageReport

PAGES = [page(f"```console\n$ echo {n}\n{n}\n```\n", f"docs/p{n}.md") for n in range(5)]
REPORTS = [report(p, [f"{n}\n" if n != 3 else "wrong\n"]) for n, p in enumerate(PAGES)]
PATHS = [p.path.as_posix() for p in PAGES]


def _shards(total: int, weights: list[float] | None = None) -> list[ShardPlan]:
    weights = weights or [1, 5, 2, 4, 3]
    return [plan(PATHS, weights, Shard(k, total)) for k in range(1, total + 1)]


def _of(split: ShardPlan) -> list[PageReport]:
    return [REPORTS[i] for i in split.indexes]


def _files(texts: list[str], suffix: str) -> list[ReportFile]:
    return [ReportFile(Path(f"shard-{n}.{suffix}"), t) for n, t in enumerate(texts, 1)]


def test_json_shards_merge_into_the_whole_runs_report() -> None:
    merged = merge(_files([to_json(_of(s), s) for s in _shards(3)], "json"))
    whole = json.loads(to_json(REPORTS))
    data = json.loads(merged.text)
    assert data == whole
    assert (merged.pages, merged.shards, merged.ok) == (5, 3, False)
    assert merged.counts["passed"] == 4 and merged.counts["failed"] == 1
    assert merged.summary() == "merged of 3 shards: 5 pages: 4 passed, 1 failed"


def test_a_missing_shard_is_named() -> None:
    texts = [to_json(_of(s), s) for s in _shards(3)]
    with pytest.raises(ConfigError, match=r"no report from shard\(s\) 2 of 3"):
        merge(_files([texts[0], texts[2]], "json"))


def test_shards_that_split_differently_are_refused() -> None:
    one = _shards(2)[0]
    other = _shards(2, [5, 1, 1, 1, 1])[1]
    with pytest.raises(ConfigError, match="split the pages differently"):
        merge(_files([to_json(_of(one), one), to_json(_of(other), other)], "json"))


def test_a_page_in_two_reports_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"docs/p1\.md is in two reports"):
        merge(_files([to_json(REPORTS[:2]), to_json(REPORTS[1:])], "json"))


def test_a_shard_reported_twice_or_mixed_with_a_whole_run_is_refused() -> None:
    first = _shards(2)[0]
    text = to_json(_of(first), first)
    with pytest.raises(ConfigError, match=r"shard 1/2 reported twice"):
        merge(_files([text, text], "json"))
    with pytest.raises(ConfigError, match="a whole run's"):
        merge(_files([text, to_json([REPORTS[0]])], "json"))


def test_reports_that_are_not_ours_are_named() -> None:
    with pytest.raises(ConfigError, match=r"shard-1\.txt: this is neither"):
        merge([ReportFile(Path("shard-1.txt"), "hello")])
    with pytest.raises(ConfigError, match='no "pages" list'):
        merge([ReportFile(Path("a.json"), "{}")])
    with pytest.raises(ConfigError, match="not both"):
        merge([ReportFile(Path("a.json"), to_json(REPORTS)),
               ReportFile(Path("b.xml"), to_junit(REPORTS))])
    with pytest.raises(ConfigError, match="does not parse"):
        merge([ReportFile(Path("a.xml"), "<testsuites>")])


def test_junit_shards_merge_in_order_with_totals() -> None:
    merged = merge(_files([to_junit(_of(s), s) for s in _shards(2)], "xml"))
    root = ET.fromstring(merged.text)
    assert [s.get("name") for s in root.iter("testsuite")] == PATHS
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "1", "0")
    assert merged.shards == 2 and not merged.ok
    case = next(root.iter("testcase"))
    assert (case.get("file"), case.get("line")) == ("docs/p0.md", "2")


def test_junit_shards_that_split_differently_are_refused() -> None:
    one, other = _shards(2)[0], _shards(2, [5, 1, 1, 1, 1])[1]
    with pytest.raises(ConfigError, match="split the pages differently"):
        merge(_files([to_junit(_of(one), one), to_junit(_of(other), other)], "xml"))
