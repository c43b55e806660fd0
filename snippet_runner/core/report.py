"""Reports: terminal text (with ``path:line`` and a diff), JUnit XML and JSON (GitHub workflow
commands: `github`; merging shards' reports: `merge`; progress on a terminal: `progress`)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from typing import TextIO

from ..model import Fix, Location, Outcome, Page, PageReport, Snippet, Status
from .compare import show
from .shard import ShardPlan

_COLORS = {Status.FAILED: "31", Status.TIMEOUT: "33", Status.ERROR: "35", Status.PASSED: "32",
           Status.SKIPPED: "36"}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def where(outcome: Outcome) -> str:
    """``path:line`` of the command, or of the block when the outcome is about a whole block."""
    return str(outcome.command.location if outcome.command else outcome.snippet.location)


OUTPUT_DIFFERS = "the output differs from this line"
"""What the CLI and the build say next to the first expected line that does not match."""


def failure_location(outcome: Outcome) -> Location:
    """Where to look for a problem: the first expected-output line the diff removes, when there
    is one (that is the line to edit), else the command's line, else the block's.

    The CLI and the build both name this line, so ``path:line`` means the same everywhere.
    """
    command = outcome.command
    if command is None:
        return outcome.snippet.location
    removed = [line[1:] for line in outcome.diff.splitlines()
               if line[:1] == "-" and line[:3] != "---"]
    expected = [line.rstrip() for line in command.expected]
    if removed and removed[0] in expected:
        first_output_line = command.location.line + command.text.count("\n") + 1
        return Location(command.location.path, first_output_line + expected.index(removed[0]))
    return command.location


def failure_heading(outcome: Outcome) -> str:
    """``path:line: status`` for the build log, with the command's line when the location is
    an output line."""
    at = failure_location(outcome)
    status = outcome.status.value
    if outcome.command is not None and at != outcome.command.location:
        return f"{at}: {status}: {OUTPUT_DIFFERS} (command at line {outcome.command.location.line})"
    return f"{at}: {status}"


def title(outcome: Outcome) -> str:
    """A one-line name for the outcome: ``$ command`` or the kind of block."""
    if outcome.command is not None:
        first = outcome.command.text.split("\n", 1)[0]
        return f"$ {show(first)}" + (" \\…" if "\n" in outcome.command.text else "")
    if outcome.page_level:
        return "the page as a whole"
    options = outcome.snippet.options
    if options.file is not None:
        return f"file {options.file}"
    if options.skip is not None:
        return f"skipped block: {options.skip}"
    return "script block"


def summary(reports: list[PageReport]) -> Counter[Status]:
    """How many outcomes of each status."""
    return Counter(o.status for r in reports for o in r.outcomes)


def print_terminal(reports: list[PageReport], out: TextIO, *, color: bool = False,
                   verbose: bool = False) -> None:
    """Every problem with its location and diff, then one summary line."""
    for report in reports:
        for outcome in report.outcomes:
            if outcome.status is Status.PASSED and not verbose:
                continue
            if outcome.status is Status.SKIPPED and not verbose:
                continue
            label = _paint(outcome.status.value.upper(), _COLORS[outcome.status], color)
            out.write(f"{where(outcome)}: {label} {title(outcome)}\n")
            at = failure_location(outcome)
            if outcome.status is not Status.PASSED and str(at) != where(outcome):
                # The line the build names too: the first expected line that differs.
                out.write(f"    {at}: {OUTPUT_DIFFERS}\n")
            for fix in outcome.fixes:
                out.write(f"    (ran with fix {fix.rule}: {fix.original} → {fix.replacement})\n")
            if outcome.diff and outcome.status is not Status.PASSED:
                for line in outcome.diff.split("\n"):
                    if color and line.startswith(("-", "+")) and not line.startswith(
                            ("---", "+++")):
                        line = _paint(line, "31" if line[0] == "-" else "32", True)
                    out.write(f"    {line}\n")
    out.write(summary_line(reports))


def summary_line(reports: list[PageReport]) -> str:
    """``3 pages: 10 passed, 1 failed``: the last line of every text report."""
    counts = summary(reports)
    parts = [f"{counts[s]} {s.value}" for s in Status if counts[s]]
    pages = len(reports)
    return f"{pages} page{'s' if pages != 1 else ''}: {', '.join(parts) or 'no snippets'}\n"


def fix_line(fix: Fix, *, applied: bool = False) -> str:
    """One fix for the terminal: location, rule, safety, message, and the change."""
    state = "fixed" if applied else fix.safety.value
    return (f"{fix.location}: [{fix.rule}] ({state}) {fix.message}\n"
            f"    - {_visible(fix.original)}\n    + {_visible(fix.replacement)}\n")


def _visible(text: str) -> str:
    """Fix text for display; blank or empty text is quoted so it can be seen."""
    return show(text) if text.strip() else repr(text)


def outcome_dict(outcome: Outcome) -> dict[str, object]:
    """JSON-ready description of one outcome."""
    result = outcome.result
    return {
        "path": str(outcome.snippet.location.path),
        "line": (outcome.command.location.line if outcome.command
                 else outcome.snippet.location.line),
        "block_line": outcome.snippet.location.line,
        "command": outcome.command.text if outcome.command else None,
        "status": outcome.status.value,
        "output": result.output if result else None,
        "exit_code": result.exit_code if result else None,
        "duration": round(result.duration, 3) if result else None,
        "diff": outcome.diff,
        "fixes": [fix_dict(f) for f in outcome.fixes],
    }


def fix_dict(fix: Fix) -> dict[str, object]:
    """JSON-ready description of one fix."""
    return {"path": str(fix.location.path), "line": fix.location.line, "rule": fix.rule,
            "safety": fix.safety.value, "message": fix.message, "original": fix.original,
            "replacement": fix.replacement, "start": fix.span.start, "end": fix.span.end}


def to_json(reports: list[PageReport], plan: ShardPlan | None = None) -> str:
    """All reports as a JSON document (UTF-8 kept readable). A shard's report (``plan``) also
    says which shard it is, the plan's digest and each page's position in the whole run, which
    ``report merge`` checks and sorts by."""
    counts = summary(reports)
    positions = plan.indexes if plan is not None else None
    pages = []
    for n, r in enumerate(reports):
        page: dict[str, object] = {
            "path": str(r.page.path), "ok": r.ok, "engine": r.engine_version,
            "verified_at": r.verified_at, "from_cache": r.from_cache,
            "duration": round(r.duration, 3),
            "outcomes": [outcome_dict(o) for o in r.outcomes]}
        if positions is not None:
            page["position"] = positions[n]
        pages.append(page)
    document: dict[str, object] = {"summary": {s.value: counts[s] for s in Status}}
    if plan is not None:
        document["shard"] = shard_dict(plan)
    document["pages"] = pages
    return json.dumps(document, ensure_ascii=False, indent=2)


def shard_dict(plan: ShardPlan) -> dict[str, object]:
    """What a shard's report says about the split it ran (for ``report merge``)."""
    return {"index": plan.shard.index, "total": plan.shard.total, "plan": plan.digest,
            "pages": len(plan.paths)}


def snippet_kind(snippet: Snippet) -> str:
    """``file`` (written into the sandbox), ``script`` (run whole) or ``transcript``."""
    if snippet.options.file is not None:
        return "file"
    return "script" if snippet.script is not None else "transcript"


def page_dict(page: Page) -> dict[str, object]:
    """JSON-ready listing of a page's snippets (for ``list --json``)."""
    return {"path": str(page.path), "snippets": [{
        "line": s.location.line, "end_line": s.end_line, "lang": s.lang,
        "options": {k: v for k, v in vars(s.options).items()},
        "kind": snippet_kind(s),
        "commands": [{"line": c.location.line, "text": c.text, "expected": list(c.expected)}
                     for c in s.commands],
    } for s in page.snippets], "fixes": [fix_dict(f) for f in page.fixes]}


JUNIT_SHARD = "snippet-runner.shard"
"""Testsuite property: ``K/N`` of the shard that checked the page."""
JUNIT_PLAN = "snippet-runner.plan"
"""Testsuite property: the digest of the split (`ShardPlan.digest`)."""
JUNIT_POSITION = "snippet-runner.position"
"""Testsuite property: the page's position in the whole run (merged reports sort by it)."""


def to_junit(reports: list[PageReport], plan: ShardPlan | None = None) -> str:
    """JUnit XML: one testsuite per page, one testcase per command or block, each with the
    ``file`` and ``line`` that reporters annotate (the line `failure_location` names: the first
    differing expected line of a failure, else the command's). A shard's report (``plan``)
    gives each testsuite ``snippet-runner.*`` properties for ``report merge``."""
    suites = ET.Element("testsuites", name="snippet-runner")
    positions = plan.indexes if plan is not None else None
    for n, report in enumerate(reports):
        counts = Counter(o.status for o in report.outcomes)
        suite = ET.SubElement(suites, "testsuite", name=str(report.page.path),
                              tests=str(len(report.outcomes)),
                              failures=str(counts[Status.FAILED] + counts[Status.TIMEOUT]),
                              errors=str(counts[Status.ERROR]),
                              skipped=str(counts[Status.SKIPPED]),
                              time=f"{_suite_seconds(report):.3f}")
        if plan is not None and positions is not None:
            properties = ET.SubElement(suite, "properties")
            for name, value in ((JUNIT_SHARD, str(plan.shard)), (JUNIT_PLAN, plan.digest),
                                (JUNIT_POSITION, str(positions[n]))):
                ET.SubElement(properties, "property", name=name, value=value)
        for outcome in report.outcomes:
            seconds = outcome.result.duration if outcome.result else 0.0
            at = failure_location(outcome)
            case = ET.SubElement(suite, "testcase", classname=str(report.page.path),
                                 name=f"{where(outcome)} {title(outcome)}",
                                 file=at.path.as_posix(), line=str(at.line),
                                 time=f"{seconds:.3f}")
            if outcome.status is Status.SKIPPED:
                ET.SubElement(case, "skipped", message=outcome.snippet.options.skip or "")
            elif outcome.status in (Status.FAILED, Status.TIMEOUT):
                node = ET.SubElement(case, "failure", type=outcome.status.value,
                                     message=f"{where(outcome)}: {outcome.status.value}")
                node.text = outcome.diff
            elif outcome.status is Status.ERROR:
                node = ET.SubElement(case, "error", message=outcome.diff.split("\n", 1)[0])
                node.text = outcome.diff
    total_counts(suites)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _suite_seconds(report: PageReport) -> float:
    return report.duration or sum(o.result.duration for o in report.outcomes if o.result)


def total_counts(suites: ET.Element) -> None:
    """Set ``tests``, ``failures``, ``errors``, ``skipped`` and ``time`` of a ``testsuites``
    element to the sums of its testsuites (what CI reporters show as the run's totals)."""
    for name in ("tests", "failures", "errors", "skipped"):
        suites.set(name, str(sum(int(s.get(name, "0")) for s in suites.iter("testsuite"))))
    seconds = sum(float(s.get("time", "0")) for s in suites.iter("testsuite"))
    suites.set("time", f"{seconds:.3f}")
