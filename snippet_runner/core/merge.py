"""``snippet-runner report merge``: one report from the reports of a run's shards.

JSON reports merge into one JSON report, JUnit reports into one JUnit report; the pages come
back in the order of the whole run (each shard's report gives every page's position) and the
totals are counted again. Merging refuses, naming the files, what would make the merged report
lie:

* the same page in two reports (it would count twice);
* shards that split the pages differently (their plan digests differ — they saw different
  durations or result caches, so some pages ran twice and others never);
* for JSON, a shard that did not report, or reports that hold fewer pages than the split had
  (a job that failed before writing its report). A JUnit report of a shard that checked no page
  holds no testsuite to say so, so for JUnit only the first two are checked.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..model import Status
from .report import JUNIT_PLAN, JUNIT_POSITION, JUNIT_SHARD, total_counts

_BAD = (Status.FAILED.value, Status.TIMEOUT.value, Status.ERROR.value)


@dataclass(frozen=True)
class ReportFile:
    """One report to merge."""

    path: Path
    """Where it was read (named in messages)."""
    text: str
    """Its contents."""


@dataclass(frozen=True)
class Merged:
    """The merged report and what it holds."""

    format: str
    """``json`` or ``junit`` (the format of the inputs)."""
    text: str
    """The merged report."""
    pages: int
    """Pages in it."""
    counts: dict[str, int] = field(default_factory=dict)
    """Outcomes by status (JUnit: tests, failures, errors, skipped)."""
    shards: int = 0
    """How many shards the run was split into (0: the reports were not shards')."""

    @property
    def ok(self) -> bool:
        """Nothing failed, timed out or errored."""
        return not any(self.counts.get(k, 0) for k in (*_BAD, "failures", "errors"))

    def summary(self) -> str:
        """One line: how many reports and pages, and the counts."""
        counts = ", ".join(f"{n} {k}" for k, n in self.counts.items() if n) or "no snippets"
        of = f" of {self.shards} shards" if self.shards else ""
        return f"merged{of}: {self.pages} page{'s' if self.pages != 1 else ''}: {counts}"


def merge(files: Sequence[ReportFile]) -> Merged:
    """Merge JSON reports or JUnit reports (not both); ConfigError naming the file for input
    that is neither, and for reports that do not fit together (see the module's text)."""
    if not files:
        raise ConfigError("report merge needs at least one report file.")
    kinds = {f.path: _kind(f) for f in files}
    if len(set(kinds.values())) > 1:
        listed = "; ".join(f"{p}: {k}" for p, k in kinds.items())
        raise ConfigError(f"report merge takes JSON reports or JUnit reports, not both ({listed}).")
    return _merge_json(files) if kinds[files[0].path] == "json" else _merge_junit(files)


def _kind(file: ReportFile) -> str:
    start = file.text.lstrip()[:1]
    if start == "{":
        return "json"
    if start == "<":
        return "junit"
    raise ConfigError("this is neither a JSON report (`check --json` / `--format json`) nor a "
                      "JUnit report (`check --junit FILE`).", path=file.path)


# -- JSON ----------------------------------------------------------------------------------


def _load_json(file: ReportFile) -> dict[str, Any]:
    try:
        data = json.loads(file.text)
    except ValueError as err:
        raise ConfigError(f"this JSON report does not parse: {err}.", path=file.path) from None
    if not isinstance(data, dict) or not isinstance(data.get("pages"), list):
        raise ConfigError('this is not a snippet-runner JSON report (it has no "pages" list).',
                          path=file.path)
    return data


def _merge_json(files: Sequence[ReportFile]) -> Merged:
    docs = [(f.path, _load_json(f)) for f in files]
    shards = _check_shards([(p, d.get("shard")) for p, d in docs])
    pages: list[tuple[int, int, dict[str, Any]]] = []
    seen: dict[str, Path] = {}
    for n, (path, doc) in enumerate(docs):
        for page in doc["pages"]:
            name = str(page.get("path"))
            if name in seen:
                raise ConfigError(f"the page {name} is in two reports, {seen[name]} and {path}: "
                                  "merged, it would count twice. Merge the reports of one "
                                  "run's shards, each once.", path=path)
            seen[name] = path
            pages.append((int(page.get("position", 0)) if shards else 0, n, page))
    if shards and len(pages) != shards[1]:
        raise ConfigError(f"the shards' reports hold {len(pages)} pages, but the run split "
                          f"{shards[1]} pages among them: a report is incomplete.",
                          path=docs[0][0])
    pages.sort(key=lambda item: (item[0], item[1]))
    merged_pages = [{k: v for k, v in page.items() if k != "position"} for _, _, page in pages]
    order = list(docs[0][1].get("summary", {})) or [s.value for s in Status]
    tally = Counter(o.get("status") for p in merged_pages for o in p.get("outcomes", []))
    counts = {k: tally.get(k, 0) for k in order}
    counts.update({k: n for k, n in tally.items() if isinstance(k, str) and k not in counts})
    text = json.dumps({"summary": counts, "pages": merged_pages}, ensure_ascii=False, indent=2)
    return Merged("json", text + "\n", len(merged_pages), counts,
                  shards[0] if shards else 0)


def _check_shards(infos: list[tuple[Path, Any]]) -> tuple[int, int] | None:
    """``(shards, pages)`` of the split the reports came from, or None when none is a shard's
    report; ConfigError when they don't make up one whole split."""
    marked = [(p, i) for p, i in infos if isinstance(i, dict)]
    if not marked:
        return None
    if len(marked) != len(infos):
        whole = next(p for p, i in infos if not isinstance(i, dict))
        raise ConfigError("this report is a whole run's, the others are shards': merge one "
                          "run's shard reports only.", path=whole)
    first_path, first = marked[0]
    by_index: dict[int, Path] = {}
    for path, info in marked:
        if info.get("plan") != first.get("plan") or info.get("total") != first.get("total"):
            raise ConfigError(
                f"this shard split the pages differently from {first_path} (plan "
                f"{info.get('plan')} of {info.get('total')} shards against {first.get('plan')} "
                f"of {first.get('total')}): the jobs saw different pages, durations or result "
                "caches, so some pages ran twice and others never. Give every shard job the "
                "same checkout and the same restored cache (one cache key), then run again.",
                path=path)
        index = int(info.get("index", 0))
        if index in by_index:
            raise ConfigError(f"shard {index}/{first.get('total')} reported twice, here and in "
                              f"{by_index[index]}.", path=path)
        by_index[index] = path
    total = int(first.get("total", 0))
    missing = [str(k) for k in range(1, total + 1) if k not in by_index]
    if missing:
        raise ConfigError(f"no report from shard(s) {', '.join(missing)} of {total}: the job "
                          "may have failed before writing its report (its log says why). The "
                          "merged report would leave those pages out.", path=first_path)
    return total, int(first.get("pages", 0))


# -- JUnit ---------------------------------------------------------------------------------


def _suites(file: ReportFile) -> list[ET.Element]:
    try:
        root = ET.fromstring(file.text.encode("utf-8"))
    except ET.ParseError as err:
        raise ConfigError(f"this JUnit report does not parse: {err}.", path=file.path) from None
    if root.tag == "testsuite":
        return [root]
    if root.tag != "testsuites":
        raise ConfigError(f"this is not a JUnit report (its root is <{root.tag}>, not "
                          "<testsuites>).", path=file.path)
    return list(root.iter("testsuite"))


def _properties(suite: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in suite.iter("property")}


def _merge_junit(files: Sequence[ReportFile]) -> Merged:
    found = [(n, file, suite) for n, file in enumerate(files) for suite in _suites(file)]
    plans: dict[str, Path] = {}
    for _, file, suite in found:
        plans.setdefault(_properties(suite).get(JUNIT_PLAN, ""), file.path)
    if len(plans) > 1:  # said first: it is why a page would also be in two reports
        listed = "; ".join(f"{path}: {plan or 'no shard'}" for plan, path in plans.items())
        raise ConfigError("these reports come from shards that split the pages differently "
                          f"(plans {listed}): some pages ran twice and others never. Give every "
                          "shard job the same checkout and restored cache, then run again.")
    seen: dict[str, Path] = {}
    entries: list[tuple[int, int, ET.Element]] = []
    totals: set[str] = set()
    for n, file, suite in found:
        name = suite.get("name", "")
        if name in seen:
            raise ConfigError(f"the page {name} is in two reports, {seen[name]} and "
                              f"{file.path}: merged, it would count twice.", path=file.path)
        seen[name] = file.path
        props = _properties(suite)
        if JUNIT_SHARD in props:
            totals.add(props[JUNIT_SHARD].partition("/")[2])
        position = props.get(JUNIT_POSITION, "0")
        entries.append((int(position) if position.isdigit() else 0, n, suite))
    merged = ET.Element("testsuites", name="snippet-runner")
    for _, _, suite in sorted(entries, key=lambda e: (e[0], e[1])):
        merged.append(suite)
    total_counts(merged)
    ET.indent(merged)
    text = ET.tostring(merged, encoding="unicode", xml_declaration=True) + "\n"
    counts = {k: int(merged.get(k, "0")) for k in ("tests", "failures", "errors", "skipped")}
    total = next(iter(totals), "")
    return Merged("junit", text, len(entries), counts, int(total) if total.isdigit() else 0)
