"""``update``: rewrite a page's expected output from what actually ran, cram-style.

Lines that still match are kept as the author wrote them — ``...``, `` (re)`` and `` (glob)``
lines and lines that match only after redaction (an old container id stays the old id) — and
only the stretches that really differ are replaced by the actual output.
"""

from __future__ import annotations

import re

from ..model import Command, Outcome, Status
from .compare import (
    ELLIPSIS,
    EXIT_LINE,
    GLOB_SUFFIX,
    RE_SUFFIX,
    align,
    default_exit,
    lines_match,
    normalise,
    normalise_lines,
    split_exit,
)
from .rewrite import Edit


def literal(line: str) -> str:
    """An actual output line written so the page reads it back as exactly that line."""
    special = (line == ELLIPSIS or line.endswith((RE_SUFFIX, GLOB_SUFFIX))
               or line.startswith(("$ ", "#")) or line == "$"
               or EXIT_LINE.fullmatch(line.strip()) is not None)
    return f"{re.escape(line)}{RE_SUFFIX}" if special else line


def updated_lines(expected: tuple[str, ...], output: str, exit_code: int,
                  default_exit: int) -> list[str] | None:
    """New expected lines for a command, or None when the page's lines still hold."""
    lines, stated = split_exit(normalise_lines(expected))
    actual = normalise(output)
    want = default_exit if stated is None else stated
    if lines_match(lines, actual) and exit_code == want:
        return None
    new: list[str] = []
    if lines_match(lines, actual):
        new = list(lines)
    else:
        for exp_part, act_part, matched in align(lines, actual):
            if matched:
                new.append(exp_part[0])
            elif exp_part and all(e == ELLIPSIS for e in exp_part):
                new.append(ELLIPSIS)
            else:
                new.extend(literal(a) for a in act_part)
        if not lines_match(new, actual):
            new = [literal(a) for a in actual]
    if exit_code != default_exit:
        new.append(f"[{exit_code}]")
    return new


def update_edits(text: str, outcomes: list[Outcome] | tuple[Outcome, ...]) -> list[Edit]:
    """Edits replacing the expected output of every FAILED command that really ran."""
    edits: list[Edit] = []
    for outcome in outcomes:
        command, result = outcome.command, outcome.result
        if (outcome.status is not Status.FAILED or command is None or result is None
                or result.exit_code is None):
            continue
        new = updated_lines(command.expected, result.output, result.exit_code,
                            default_exit(outcome.snippet, command))
        if new is None:
            continue
        eol = _line_end(text, command)
        body = "".join((command.indent + line if line else "") + eol for line in new)
        edits.append(Edit(command.expected_span, body))
    return edits


def _line_end(text: str, command: Command) -> str:
    """The line break the command's line uses (``\\n`` when it has none)."""
    end = text[command.span.end: command.span.end + 2]
    if end.startswith("\r\n"):
        return "\r\n"
    if end.startswith("\r"):
        return "\r"
    return "\n"
