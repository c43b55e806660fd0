"""``--format github``: GitHub Actions workflow commands, so failures land on the pull request.

A line ``::error file=docs/x.md,line=12,title=…::message`` in a job's log becomes an annotation
on that line of the pull request's diff (and in the run's summary). Each failed, timed-out or
errored command gets an ``error`` at the line `report.failure_location` names — the first
expected line that differs, else the command — and each safe typo fix the run applied gets a
``warning`` at the typo, since the page itself still has it.

Escaping follows GitHub's rules for workflow commands: in the message ``%``, CR and LF become
``%25``, ``%0D`` and ``%0A``; in a property value ``:`` and ``,`` also become ``%3A`` and
``%2C``. A message may so span many lines (the diff) and still be one command.

``file=`` must be relative to the repository's root, which is the job's working directory
unless the run started elsewhere: `annotation_path` makes paths relative to
``GITHUB_WORKSPACE`` when the CLI passes it.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..model import Fix, Location, Outcome, PageReport, Status
from .report import failure_location, title

_PROBLEMS = (Status.FAILED, Status.TIMEOUT, Status.ERROR)


def escape_data(text: str) -> str:
    """A workflow command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (``file=``, ``title=``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, **properties: str | int) -> str:
    """One workflow command line: ``::kind key=value,…::message``."""
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{kind} {props}::{escape_data(message)}\n" if props else \
        f"::{kind}::{escape_data(message)}\n"


def annotation_path(path: Path, root: Path | None) -> str:
    """``path`` as the annotation names it: relative to ``root`` (the repository) when inside
    it, else as given; always with ``/``."""
    if root is not None:
        absolute = Path(os.path.abspath(path))
        with_root = Path(os.path.abspath(root))
        if absolute.is_relative_to(with_root):
            return absolute.relative_to(with_root).as_posix()
    return path.as_posix()


def _error(outcome: Outcome, root: Path | None) -> str:
    at = failure_location(outcome)
    heading = f"snippet-runner: {outcome.status.value}"
    if outcome.command is not None and at != outcome.command.location:
        heading += f" — the output differs from this line (command at line " \
                   f"{outcome.command.location.line})"
    message = title(outcome) + ("\n" + outcome.diff.rstrip("\n") if outcome.diff else "")
    return command("error", message, file=annotation_path(at.path, root), line=at.line,
                   title=heading)


def _warning(fix: Fix, root: Path | None) -> str:
    message = (f"{fix.message} The run used {fix.replacement!r} for {fix.original!r}; the page "
               "still has the typo: `snippet-runner fix --write` repairs it.")
    return command("warning", message, file=annotation_path(fix.location.path, root),
                   line=fix.location.line, title=f"snippet-runner: typo ({fix.rule})")


def to_github(reports: list[PageReport], root: Path | None = None) -> str:
    """Every problem as an ``::error``, every applied safe fix as a ``::warning``, in page
    order (a fix shared by two outcomes is told once)."""
    lines: list[str] = []
    told: set[tuple[Location, str]] = set()
    for report in reports:
        for outcome in report.outcomes:
            if outcome.status in _PROBLEMS:
                lines.append(_error(outcome, root))
            for fix in outcome.fixes:
                if (fix.location, fix.rule) not in told:
                    told.add((fix.location, fix.rule))
                    lines.append(_warning(fix, root))
    return "".join(lines)
