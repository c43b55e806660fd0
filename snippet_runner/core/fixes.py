"""Typo rules for commands: pure functions from a page's text and snippets to `Fix`es.

Each rule has an id and a safety. SAFE fixes are unambiguous and applied automatically (by
``fix --write`` and, without touching the file, before a command runs); SUGGESTED fixes are only
reported with the text a human may want instead.

| rule id                        | safety    | finds                                              |
|--------------------------------|-----------|----------------------------------------------------|
| ``docker-clustered-short-flags`` | safe    | ``--it``: short flags of that docker subcommand    |
|                                |           | clustered behind two dashes                        |
| ``typographic-dash``           | safe      | ``–p`` / ``—rm``: en/em dash typed for ``-``/``--``|
| ``smart-quotes``               | safe      | a ``“…”`` or ``‘…’`` pair used as shell quotes     |
| ``non-breaking-space``         | safe      | U+00A0 (and narrow/figure spaces) between words    |
| ``split-path``                 | suggested | ``/etc/gitlab- runner/x``: a path cut by a space   |
| ``near-duplicate-token``       | suggested | ``gitlab-runnet`` one edit away from               |
|                                |           | ``gitlab-runner`` in the same command              |

Rules look at command lines, ``#`` comment lines of transcript blocks (they often show a
command's general form) and script blocks; never at expected output or ``file=`` blocks.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..model import Command, Fix, FixSafety, Location, Snippet, Span
from .docker_flags_data import FLAGS
from .rewrite import Edit, apply_edits
from .text import LINE_BREAK, SourceLine, split_lines

DOCKER_FLAGS = "docker-clustered-short-flags"
TYPOGRAPHIC_DASH = "typographic-dash"
SMART_QUOTES = "smart-quotes"
NBSP = "non-breaking-space"
SPLIT_PATH = "split-path"
NEAR_DUPLICATE = "near-duplicate-token"

RULES: dict[str, FixSafety] = {
    DOCKER_FLAGS: FixSafety.SAFE,
    TYPOGRAPHIC_DASH: FixSafety.SAFE,
    SMART_QUOTES: FixSafety.SAFE,
    NBSP: FixSafety.SAFE,
    SPLIT_PATH: FixSafety.SUGGESTED,
    NEAR_DUPLICATE: FixSafety.SUGGESTED,
}
"""Every rule id and its safety."""

_DASHES = "\u2013\u2014\u2212"  # en dash, em dash, minus sign
_SPACES = "\u00a0\u202f\u2007"  # no-break, narrow no-break, figure space
_QUOTE_PAIRS = (("\u201c", "\u201d", '"'), ("\u201e", "\u201c", '"'), ("\u2018", "\u2019", "'"))
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_SPLIT_LEFT = re.compile(r".*/[A-Za-z0-9_.-]*[-_]")
_SPLIT_RIGHT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*/")


@dataclass(frozen=True)
class Segment:
    """A stretch of one source line that holds shell code."""

    start: int
    """Offset of ``text`` in the page."""
    line: int
    """1-based line number."""
    text: str
    """The code."""


@dataclass(frozen=True)
class Token:
    """A shell word (quotes kept) and where it is."""

    start: int
    """Offset in the page."""
    text: str
    """The word as written."""

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def _fix(rule: str, message: str, line: int, start: int, original: str, replacement: str,
         path: Path) -> Fix:
    return Fix(rule=rule, safety=RULES[rule], message=message, location=Location(path, line),
               span=Span(start, start + len(original)), original=original,
               replacement=replacement)


def quoted_mask(text: str) -> list[bool]:
    """For each character, whether it sits inside ASCII single or double quotes."""
    mask: list[bool] = []
    quote = ""
    escaped = False
    for char in text:
        if escaped:
            mask.append(bool(quote))
            escaped = False
            continue
        if char == "\\" and quote != "'":
            escaped = True
            mask.append(bool(quote))
        elif quote and char == quote:
            mask.append(True)
            quote = ""
        elif not quote and char in "'\"":
            quote = char
            mask.append(True)
        else:
            mask.append(bool(quote))
    return mask


def tokens(segment: Segment) -> list[Token]:
    """Split a segment into shell words at unquoted whitespace (NBSP counts as whitespace)."""
    mask = quoted_mask(segment.text)
    out: list[Token] = []
    begin: int | None = None
    for i, char in enumerate(segment.text + " "):
        blank = i == len(segment.text) or ((char.isspace() or char in _SPACES) and not mask[i])
        if blank and begin is not None:
            out.append(Token(segment.start + begin, segment.text[begin:i]))
            begin = None
        elif not blank and begin is None:
            begin = i
    return out


# --- segments ---------------------------------------------------------------------------------

def segments(text: str, snippet: Snippet, lines: list[SourceLine] | None = None,
             ) -> Iterator[tuple[Command | None, list[Segment]]]:
    """The code of a snippet, grouped per command (comment and script lines one per group)."""
    if snippet.options.file is not None:
        return
    lines = lines if lines is not None else split_lines(text)
    for command in snippet.commands:
        yield command, list(command_segments(text, command, lines))
    for number in snippet.comment_lines:
        line = lines[number - 1]
        hash_at = line.text.index("#")
        code = line.text[hash_at + 1:]
        stripped = code.lstrip(" ")
        start = line.start + hash_at + 1 + len(code) - len(stripped)
        yield None, [Segment(start, number, stripped)]
    if snippet.script is not None:
        body = snippet.body.split("\n")[:-1]
        for i, content in enumerate(body):
            line = lines[snippet.location.line + i]
            yield None, [Segment(line.end - len(content), line.number, content)]


def command_segments(text: str, command: Command, lines: list[SourceLine]) -> Iterator[Segment]:
    """The physical lines of a (possibly continued) command, prompt and indentation removed."""
    first = command.location.line
    line = lines[first - 1]
    yield Segment(command.span.start, first, text[command.span.start:line.end])
    number = first
    while line.end < command.span.end:
        number += 1
        line = lines[number - 1]
        cut = len(command.indent) if line.text.startswith(command.indent) else 0
        yield Segment(line.start + cut, number, line.text[cut:])


# --- rules ------------------------------------------------------------------------------------

def find_fixes(text: str, snippets: list[Snippet] | tuple[Snippet, ...], path: Path) -> list[Fix]:
    """Every fix for the page, ordered by position."""
    found: list[Fix] = []
    lines = split_lines(text)
    for snippet in snippets:
        for _command, group in segments(text, snippet, lines):
            for segment in group:
                found.extend(_character_fixes(segment, path))
            found.extend(_token_fixes(group, path))
            found.extend(_near_duplicates(group, path))
    unique = {(f.span, f.rule): f for f in found}
    return sorted(unique.values(), key=lambda f: (f.span.start, f.span.end))


def _character_fixes(segment: Segment, path: Path) -> Iterator[Fix]:
    """Non-breaking spaces and smart-quote pairs outside ASCII quotes."""
    mask = quoted_mask(segment.text)
    for i, char in enumerate(segment.text):
        if char in _SPACES and not mask[i]:
            yield _fix(NBSP, f"U+{ord(char):04X} (a non-breaking space) in a command; the shell "
                       "needs an ordinary space.", segment.line, segment.start + i, char, " ",
                       path)
    for opening, closing, ascii_quote in _QUOTE_PAIRS:
        pattern = re.compile(f"{opening}([^{opening}{closing}]*){closing}")
        for match in pattern.finditer(segment.text):
            if mask[match.start()]:
                continue
            message = (f"typographic quotes {opening}…{closing} around {match[1]!r}; the shell "
                       f"needs {ascii_quote}.")
            for at in (match.start(), match.end() - 1):
                yield _fix(SMART_QUOTES, message, segment.line, segment.start + at,
                           segment.text[at], ascii_quote, path)


def _docker_subcommand(words: list[Token], at: int) -> tuple[str, int] | None:
    """The flag-table key for ``docker …`` at ``words[at]`` and where its arguments start."""
    names = [w.text for w in words[at + 1: at + 3]]
    if len(names) == 2 and f"{names[0]} {names[1]}" in FLAGS:
        return f"{names[0]} {names[1]}", at + 3
    if names and names[0] in FLAGS:
        return names[0], at + 2
    return None


def _cluster_ok(name: str, short: dict[str, bool]) -> bool:
    """``name`` reads as short flags run together (only the last may take a value)."""
    return (bool(name) and all(c in short for c in name)
            and not any(short[c] for c in name[:-1]) and len(set(name)) == len(name))


def _token_fixes(group: list[Segment], path: Path) -> Iterator[Fix]:
    """Docker clustered short flags and typographic dashes (across continuation lines), and
    split paths."""
    words = [w for segment in group for w in tokens(segment) if w.text != "\\"]
    line_of = {w.start: segment.line for segment in group for w in tokens(segment)}
    docker_args: dict[int, str] = {}
    for i, word in enumerate(words):
        if word.text == "docker" or word.text.endswith("/docker"):
            found = _docker_subcommand(words, i)
            if found:
                for j in _docker_flag_positions(words, found[1], FLAGS[found[0]]):
                    docker_args[j] = found[0]
    for i, word in enumerate(words):
        table = FLAGS[docker_args[i]] if i in docker_args else None
        yield from _flag_fix(word, table, docker_args.get(i, ""), line_of[word.start], path)
    for segment in group:
        for left, right in _split_paths(segment):
            joined = left.text + right.text
            yield _fix(SPLIT_PATH, f"{left.text} {right.text.split(':')[0]} looks like one "
                       f"path split by a stray space; did you mean {joined.split(':')[0]}?",
                       segment.line, left.end, " ", "", path)


def _split_paths(segment: Segment) -> Iterator[tuple[Token, Token]]:
    """Neighbouring words that read as one path cut by a single space (``/etc/gitlab- runner/``)."""
    for left, right in itertools.pairwise(tokens(segment)):
        if (right.start == left.end + 1 and _SPLIT_LEFT.fullmatch(left.text)
                and _SPLIT_RIGHT.match(right.text)):
            yield left, right


def _docker_flag_positions(words: list[Token], start: int,
                           table: dict[str, dict[str, bool]]) -> Iterator[int]:
    """Indexes of the option words of a docker subcommand (up to its first positional)."""
    short, long = table["short"], table["long"]
    i = start
    while i < len(words):
        text = _undash(words[i].text)
        if text == "--" or not text.startswith("-") or text == "-":
            return
        yield i
        if text.startswith("--"):
            name = text[2:]
            if "=" not in name and long.get(name, False):
                i += 1
        else:
            cluster = text[1:]
            for k, char in enumerate(cluster):
                if short.get(char, False):
                    if k == len(cluster) - 1:
                        i += 1
                    break
        i += 1


def _undash(text: str) -> str:
    """A word with a leading typographic dash read as the dashes it stands for."""
    if text[:1] in _DASHES and text[1:2].isalnum():
        rest = text[1:]
        name = rest.split("=")[0]
        # An em dash is what editors make of "--"; an en dash or minus usually of "-", unless
        # a long option name follows (``–version``).
        double = len(name) > 1 and (text[0] == "\u2014" or len(name) >= 4)
        return ("--" if double else "-") + rest
    return text


def _flag_fix(word: Token, table: dict[str, dict[str, bool]] | None, subcommand: str,
              line: int, path: Path) -> Iterator[Fix]:
    """A typographic dash and/or clustered short flags in one word."""
    text = word.text
    dashed = text[:1] in _DASHES and text[1:2].isalnum()
    normal = _undash(text)
    flag = normal.split("=", 1)[0]
    name = flag[2:] if flag.startswith("--") else ""
    where = f"docker {subcommand}" if subcommand else "docker"
    if table is not None and name and name not in table["long"] and _cluster_ok(
            name, table["short"]):
        original = text[: len(text) - len(normal) + len(flag)]
        replacement = "-" + name
        rule = TYPOGRAPHIC_DASH if dashed else DOCKER_FLAGS
        yield _fix(rule, f"{original} is not a flag of `{where}`; {replacement} sets the short "
                   f"flags {', '.join('-' + c for c in name)}.", line, word.start, original,
                   replacement, path)
    elif dashed:
        replacement = normal[: len(normal) - len(text) + 1]
        yield _fix(TYPOGRAPHIC_DASH, f"{text[0]!r} (a typographic dash) starts {text!r}; the "
                   f"shell needs {replacement!r}.", line, word.start, text[0], replacement, path)


def _one_edit(a: str, b: str) -> bool:
    """Exactly one substitution, insertion or deletion turns ``a`` into ``b``."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
        return len(diffs) == 1 and not (diffs[0][0].isdigit() and diffs[0][1].isdigit())
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def _near_duplicates(group: list[Segment], path: Path) -> Iterator[Fix]:
    """A long word one edit away from an earlier word of the same command (suggested)."""
    words: list[tuple[str, int | None, int]] = []  # text, offset (None when joined), line
    for segment in group:
        seg_words = [(m[0], segment.start + m.start(), segment.line)
                     for m in _WORD.finditer(segment.text)]
        for left, right in _split_paths(segment):  # the joined word counts as written
            last = [w for w in seg_words if left.start <= w[1] < left.end][-1]
            first = next(w for w in seg_words if right.start <= w[1] < right.end)
            words.append((last[0] + first[0], None, segment.line))
        words.extend(seg_words)
    counts: dict[str, int] = {}
    for text, _, _ in words:
        counts[text] = counts.get(text, 0) + 1
    reported: set[int] = set()
    for i, (later, offset, line) in enumerate(words):
        if offset is None or len(later) < 6 or offset in reported:
            continue
        for earlier, _, _ in words[:i]:
            if (len(earlier) >= 6 and counts[earlier] >= counts[later]
                    and any(c.isalpha() for c in earlier) and _one_edit(earlier, later)):
                reported.add(offset)
                yield _fix(NEAR_DUPLICATE, f"{later!r} is one letter away from {earlier!r} "
                           f"in the same command; did you mean {earlier!r}?", line, offset,
                           later, earlier, path)
                break


# --- applying ---------------------------------------------------------------------------------

def safe_fixes(fixes: Sequence[Fix]) -> list[Fix]:
    """The fixes applied without asking: the safe ones, in position order, an overlapping one
    dropped (the first wins)."""
    return non_overlapping([f for f in fixes if f.safety is FixSafety.SAFE])


def applied_fixes(fixes: Sequence[Fix], command: Command, *,
                  apply: bool = True) -> tuple[Fix, ...]:
    """The fixes ``command`` runs with, and is shown with: the page's safe fixes inside it, or
    none when fixes are switched off. Running, caching, drawing and ``update`` all ask here,
    because the result cache is only right while they agree."""
    return tuple(fixes_in(safe_fixes(fixes), command.span)) if apply else ()


def fixed_text(text: str, span: Span, fixes: Sequence[Fix]) -> str:
    """``text[span]`` with the given (non-overlapping) fixes inside it applied."""
    inside = fixes_in(fixes, span)
    return apply_edits(text[span.start:span.end],
                       [Edit(Span(f.span.start - span.start, f.span.end - span.start),
                             f.replacement) for f in inside])


def fixed_command_text(text: str, command: Command, fixes: Sequence[Fix]) -> str:
    """The command as the shell gets it with ``fixes`` (inside its span) applied, its
    continuation lines without the fence's indentation."""
    inside = non_overlapping(fixes_in(fixes, command.span))
    if not inside:
        return command.text
    lines = LINE_BREAK.split(fixed_text(text, command.span, inside))
    rest = [ln[len(command.indent):] if ln.startswith(command.indent) else ln for ln in lines[1:]]
    return "\n".join([lines[0], *rest])


def non_overlapping(fixes: Sequence[Fix]) -> list[Fix]:
    """The fixes in position order, dropping any that overlaps an earlier one."""
    kept: list[Fix] = []
    for fix in sorted(fixes, key=lambda f: (f.span.start, f.span.end)):
        if not kept or fix.span.start >= kept[-1].span.end:
            kept.append(fix)
    return kept


def fixes_in(fixes: Sequence[Fix], span: Span) -> list[Fix]:
    """The fixes lying inside ``span``."""
    return [f for f in fixes if span.start <= f.span.start and f.span.end <= span.end]
