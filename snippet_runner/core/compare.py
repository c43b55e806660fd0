"""Judge a command's actual output against the lines the page expects.

Rules (cram/scrut compatible where they overlap):

* both sides: ``\\r\\n`` → ``\\n``, trailing blanks of each line and trailing empty lines dropped;
* a line ``...`` matches any number of lines (also none);
* a line ending `` (re)`` is a full-line Python regular expression, `` (glob)`` a glob where
  ``*`` matches any run of characters and ``?`` one character (``\\*``, ``\\?`` are literal);
* a last line ``[N]`` states the command's exit status (otherwise 0, or the block's ``exit``
  option for its last command);
* redactions, applied to both sides before a literal comparison: 64- and 12-hex ids, ``sha256:``
  digests, ISO timestamps, "5 seconds ago"/"Up 2 minutes" durations and mktemp paths.

Comparing never raises for a mismatch: `compare` returns a `Comparison` with a unified diff.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from ..model import Command, Snippet
from .text import LINE_BREAK

ELLIPSIS = "..."
"""An expected line matching any number of actual lines."""
RE_SUFFIX = " (re)"
"""Ends an expected line that is a full-line regular expression."""
GLOB_SUFFIX = " (glob)"
"""Ends an expected line that is a glob."""
EXIT_LINE = re.compile(r"\[(\d{1,3})\]")
"""A last expected line stating the exit status, e.g. ``[125]``."""

_DURATION = r"(?:\d+|an?|About an?|Less than a) (?:second|minute|hour|day|week|month|year)s?"
REDACTIONS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("digest", re.compile(r"sha256:[0-9a-f]{64}"), "sha256:<DIGEST>"),
    ("long id", re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{64}(?![0-9A-Za-z])"), "<ID>"),
    ("short id", re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{12}(?![0-9A-Za-z])"), "<ID>"),
    ("timestamp", re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)"),
     "<TIMESTAMP>"),
    ("time ago", re.compile(_DURATION + r" ago"), "<TIME> ago"),
    ("uptime", re.compile(r"\bUp " + _DURATION), "Up <TIME>"),
    ("temp path", re.compile(r"/tmp/tmp(?:\.[A-Za-z0-9]{6,}|[a-z0-9_]{8})"), "/tmp/<TMP>"),
    # A pull: whether a layer was already there, and whether the image was new, depends on
    # what the machine had before (another image sharing the layer), not on the page.
    ("pulled layer", re.compile(r"^<ID>: (?:Pull complete|Already exists)$"), "<ID>: <LAYER>"),
    ("pull status", re.compile(r"^Status: (?:Downloaded newer image|Image is up to date) for "),
     "Status: <PULLED> for "),
)
"""Name, pattern, placeholder. A page may also write the placeholder itself (``<ID>``)."""


@dataclass(frozen=True)
class Comparison:
    """The verdict on one command's output and exit status."""

    matched: bool
    """Output and exit status both as expected."""
    output_matched: bool
    """The output lines match."""
    expected_exit: int
    """The exit status the page expects."""
    actual_exit: int | None
    """The exit status observed (None when killed)."""
    diff: str
    """Unified diff expected → actual plus an exit-status note; empty when matched."""


def normalise(text: str) -> list[str]:
    """Output text → lines: CRLF/CR unified, trailing blanks and trailing empty lines dropped."""
    return normalise_lines(LINE_BREAK.split(text))


def normalise_lines(lines: tuple[str, ...] | list[str]) -> list[str]:
    """Expected lines, normalised like actual output."""
    out = [line.rstrip() for line in lines]
    while out and not out[-1]:
        out.pop()
    return out


def split_exit(expected: list[str]) -> tuple[list[str], int | None]:
    """Remove a final ``[N]`` exit-status line; return the rest and N (None when absent)."""
    if expected and (match := EXIT_LINE.fullmatch(expected[-1].strip())):
        return normalise_lines(expected[:-1]), int(match[1])
    return expected, None


def default_exit(snippet: Snippet, command: Command) -> int:
    """The status a command must end with when its output states none: the block's ``exit``
    option for its last command (the one a reader sees fail), 0 for the others."""
    return snippet.options.exit if snippet.commands and command == snippet.commands[-1] else 0


def redact(line: str) -> str:
    """The line with every built-in redaction applied."""
    for _, pattern, placeholder in REDACTIONS:
        line = pattern.sub(placeholder, line)
    return line


@lru_cache(maxsize=1024)
def _glob(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*?\\":
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def pattern_error(expected: str) -> str | None:
    """Why an expected `` (re)`` line is not a valid regular expression; None when it is (or
    is no ``(re)`` line). Checked when a page is read, so a typo in a pattern is reported at
    its line instead of silently never matching."""
    line = expected.rstrip()
    if not line.endswith(RE_SUFFIX):
        return None
    try:
        re.compile(line[: -len(RE_SUFFIX)])
    except re.error as err:
        return str(err)
    return None


def line_matches(expected: str, actual: str) -> bool:
    """Whether one expected line (literal, ``(re)`` or ``(glob)``) matches one actual line."""
    if expected == actual:
        return True
    if expected.endswith(RE_SUFFIX):
        regex = _regex(expected[: -len(RE_SUFFIX)])
        return regex is not None and regex.fullmatch(actual) is not None
    if expected.endswith(GLOB_SUFFIX):
        return _glob(expected[: -len(GLOB_SUFFIX)]).fullmatch(actual) is not None
    return redact(expected) == redact(actual)


def lines_match(expected: list[str], actual: list[str]) -> bool:
    """Whether the expected lines (with ``...``) match all actual lines."""
    n, m = len(expected), len(actual)
    # ok[i][j]: expected[i:] matches actual[j:]; filled bottom-up (no recursion limit).
    ok = [[False] * (m + 1) for _ in range(n + 1)]
    ok[n][m] = True
    for i in range(n - 1, -1, -1):
        for j in range(m, -1, -1):
            if expected[i] == ELLIPSIS:
                ok[i][j] = ok[i + 1][j] or (j < m and ok[i][j + 1])
            else:
                ok[i][j] = j < m and ok[i + 1][j + 1] and line_matches(expected[i], actual[j])
    return ok[0][0]


Hunk = tuple[list[str], list[str], bool]
"""``(expected_part, actual_part, matched)``: one matched line pair, or a stretch between."""


def align(expected: list[str], actual: list[str]) -> list[Hunk]:
    """Pair expected and actual lines as hunks ``(expected_part, actual_part, matched)``.

    A longest common subsequence with `line_matches` as equality; aligned pairs become one-line
    hunks, the stretches between them become hunks of their own (either side may be empty).
    """
    n, m = len(expected), len(actual)
    def eq(i: int, j: int) -> bool:
        return (expected[i] != ELLIPSIS and line_matches(expected[i], actual[j]))
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            table[i][j] = (table[i + 1][j + 1] + 1 if eq(i, j)
                           else max(table[i + 1][j], table[i][j + 1]))
    hunks: list[Hunk] = []
    gap_e: list[str] = []
    gap_a: list[str] = []
    i = j = 0
    while i < n or j < m:
        if i < n and j < m and eq(i, j) and table[i][j] == table[i + 1][j + 1] + 1:
            if gap_e or gap_a:
                hunks.append((gap_e, gap_a, False))
                gap_e, gap_a = [], []
            hunks.append(([expected[i]], [actual[j]], True))
            i, j = i + 1, j + 1
        elif j < m and (i == n or table[i][j + 1] >= table[i + 1][j]):
            gap_a.append(actual[j])
            j += 1
        else:
            gap_e.append(expected[i])
            i += 1
    if gap_e or gap_a:
        hunks.append((gap_e, gap_a, False))
    return hunks


def show(line: str) -> str:
    """A line for a diff: control characters escaped, all printable text (Korean too) kept."""
    return "".join(c if c.isprintable() or c == "\t" else repr(c)[1:-1] for c in line)


def width(text: str) -> int:
    """Terminal columns ``text`` takes: wide (Korean, CJK) characters count two."""
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def caret(old: str, new: str) -> str | None:
    """A ``?`` line pointing, in terminal columns, at where ``new`` first differs from ``old``."""
    common = 0
    while common < min(len(old), len(new)) and old[common] == new[common]:
        common += 1
    if common == 0:
        return None
    return "?" + " " * width(new[:common]) + "^"


def _with_carets(lines: list[str]) -> list[str]:
    """Add a caret line under each one-line replacement (``-old`` directly followed by ``+new``)."""
    out: list[str] = []
    for i, line in enumerate(lines):
        out.append(line)
        before = lines[i - 1] if i else ""
        after = lines[i + 1] if i + 1 < len(lines) else ""
        earlier = lines[i - 2] if i > 1 else ""
        single = (line.startswith("+") and before.startswith("-") and not after.startswith("+")
                  and not earlier.startswith("-") and not before.startswith("---"))
        if single and (mark := caret(before[1:], line[1:])):
            out.append(mark)
    return out


def output_diff(expected: list[str], actual: list[str]) -> str:
    """Unified diff in which lines matched by a pattern (or ``...``) don't show as changes."""
    shown_expected: list[str] = []
    for exp_part, act_part, matched in align(expected, actual):
        absorbed = exp_part and all(e == ELLIPSIS for e in exp_part)
        if absorbed or matched:
            shown_expected.extend(act_part)
        else:
            shown_expected.extend(e for e in exp_part if e != ELLIPSIS or act_part)
    lines = difflib.unified_diff([show(e) for e in shown_expected], [show(a) for a in actual],
                                 "expected", "actual", lineterm="", n=3)
    return "\n".join(_with_carets(list(lines)))


def compare(expected_lines: tuple[str, ...] | list[str], output: str, exit_code: int | None,
            *, default_exit: int = 0) -> Comparison:
    """Judge ``output``/``exit_code`` against the page's lines for one command."""
    expected, stated_exit = split_exit(normalise_lines(expected_lines))
    want_exit = default_exit if stated_exit is None else stated_exit
    actual = normalise(output)
    output_ok = lines_match(expected, actual)
    exit_ok = exit_code == want_exit
    diff = ""
    if not output_ok:
        diff = output_diff(expected, actual)
    if not exit_ok:
        got = "no exit status (killed)" if exit_code is None else f"exit status {exit_code}"
        note = f"{got}, expected {want_exit}"
        diff = f"{diff}\n{note}" if diff else note
    return Comparison(matched=output_ok and exit_ok, output_matched=output_ok,
                      expected_exit=want_exit, actual_exit=exit_code, diff=diff)
