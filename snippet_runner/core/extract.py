"""Markdown text → `Snippet`s, with exact lines and character spans.

markdown-it-py finds the fences (lists, block quotes, tildes, longer backtick runs are its job);
this module maps each fence back onto the original text — read with ``newline=""``, so CRLF and
a BOM are characters of the text — and splits its body into commands and expected output.

The site is built with Python-Markdown, whose container blocks CommonMark does not know:
admonitions (``!!! note "title"``), collapsible details (``??? note``, ``???+ note``) and
content tabs (``=== "Tab"``), each followed by content indented four spaces. To markdown-it that
content is an indented code block or a paragraph's continuation, so the fences in it — which the
site renders — would go unverified. `_container_rule` teaches markdown-it these openers: the
indented lines below one are parsed as nested blocks, like a list item's, so fences inside keep
their real line numbers and every span still points into the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

from ..errors import ConfigError
from ..model import Command, Location, Snippet, Span
from .compare import pattern_error
from .options import has_file_option, language, parse_options, split_info
from .text import SourceLine, split_lines

SHELL_LANGS = frozenset({"bash", "console", "sh", "shell", "shell-session"})
"""Fence languages whose blocks are verified unless skipped."""

PROMPT = "$ "
"""What starts a command line."""

_FRONT_MATTER_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$")

CONTAINER_OPENER = re.compile(
    r'!!! ?[\w\-]+(?: +[\w\-]+)*(?: +".*")?'                                # admonition
    r'|\?\?\?\+? ?(?:(?:[\w\-]+(?: +[\w\-]+)*)?(?: +".*")|[\w\-]+(?: +[\w\-]+)*)'  # details
    r'|===(?:\+|\+!|!\+|!)? +".*"'                                            # tabbed
)
"""A line that opens a Material container block (the text after its indentation, trailing
blanks removed); its content is the lines below indented four more columns. The forms follow
Python-Markdown's admonition and pymdownx's details and tabbed processors."""
CONTAINER_INDENT = 4
"""How much deeper a container's content is indented than its opener (Python-Markdown's
``tab_length``)."""


def _markdown_source(lines: list[SourceLine]) -> str:
    """The text markdown-it should see: BOM dropped, YAML front matter blanked (lines kept)."""
    texts = [line.text for line in lines]
    if texts and texts[0].startswith("\ufeff"):
        texts[0] = texts[0][1:]
    if texts and texts[0].rstrip() == "---":
        for i in range(1, len(texts)):
            if _FRONT_MATTER_END.match(texts[i]):
                for j in range(i + 1):
                    texts[j] = ""
                break
    return "\n".join(texts) + "\n"


@dataclass(frozen=True)
class _BodyLine:
    """A content line of a fence, its prefix (indentation, ``> ``) removed."""

    source: SourceLine
    """The physical line."""
    content_start: int
    """Offset where the content starts (after the prefix)."""
    text: str
    """The content."""

    @property
    def prefix(self) -> str:
        """What precedes the content: the fence's indentation, a quote's ``> ``."""
        return self.source.text[: self.content_start - self.source.start]


def _body_lines(lines: list[SourceLine], first: int, contents: list[str],
                fence_indent: int) -> list[_BodyLine]:
    """Pair markdown-it's de-indented content lines with their source lines."""
    body: list[_BodyLine] = []
    for i, content in enumerate(contents):
        source = lines[first + i]
        if source.text.endswith(content):
            cut = len(source.text) - len(content)
        else:  # tabs expanded by the tokenizer: strip the fence's indentation ourselves
            raw = source.text
            cut = len(raw) - len(raw.lstrip(" \t"))
            cut = min(cut, fence_indent)
            content = raw[cut:]
        body.append(_BodyLine(source, source.start + cut, content))
    return body


def _container_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """markdown-it block rule: a container opener and its indented content, parsed as blocks.

    Its extent follows Python-Markdown: blank lines and lines indented at least four columns
    past the opener belong to it; the first other line ends it (trailing blank lines don't
    count). The content is tokenized with the block indentation moved to that column, as
    markdown-it does for a list item, so a fence in it is a fence with its own line numbers.
    """
    if state.is_code_block(start):
        return False
    first = state.bMarks[start] + state.tShift[start]
    opener = state.src[first:state.eMarks[start]].rstrip(" \t")
    if not CONTAINER_OPENER.fullmatch(opener):
        return False
    if silent:
        return True
    content_indent = state.sCount[start] + CONTAINER_INDENT
    last = start  # last line that belongs to the container
    line = start + 1
    while line < end:
        if not state.isEmpty(line):
            if state.sCount[line] < content_indent:
                break
            last = line
        line += 1
    stop = last + 1
    opened = state.push("container_open", "div", 1)
    opened.map = [start, stop]
    opened.markup = opener
    saved = (state.parentType, state.lineMax, state.blkIndent)
    state.parentType = "container"
    state.lineMax = stop
    state.blkIndent = content_indent
    state.md.block.tokenize(state, start + 1, stop)
    state.parentType, state.lineMax, state.blkIndent = saved
    state.push("container_close", "div", -1)
    state.line = stop
    return True


def _markdown() -> MarkdownIt:
    """CommonMark plus the container blocks of the site's Markdown extensions."""
    md = MarkdownIt("commonmark")
    md.block.ruler.before("fence", "container", _container_rule,
                          {"alt": ["paragraph", "reference", "blockquote", "list"]})
    return md


def extract(text: str, path: Path, *, require_closed: bool = False) -> list[Snippet]:
    """All snippets of a page, in order. ConfigError (file:line) on a malformed block.

    Markdown lets a fence run unclosed to the end of the page (or of its list item, quote,
    admonition or tab); ``require_closed`` turns that into an error, because then the page's
    prose below becomes the block's expected output. `api.load_page` sets it; the default
    follows CommonMark.
    """
    lines = split_lines(text)
    tokens = _markdown().parse(_markdown_source(lines))
    snippets: list[Snippet] = []
    for token in tokens:
        if token.type != "fence" or token.map is None:
            continue
        info = token.info
        if language(info) not in SHELL_LANGS and not has_file_option(info):
            continue
        start, stop = token.map
        # markdown-it's content holds the lines between the fences, so the range is two lines
        # longer than the content exactly when a closing fence line ends it.
        closed = stop - start == token.content.count("\n") + 2
        if require_closed and not closed:
            raise ConfigError(
                f"the {token.markup}{language(info)} fence that starts here is never closed, so "
                "Markdown runs it to the end of the page (or of its list item, quote, admonition "
                "or tab) and everything below would be shown, and checked, as this block's "
                f"output; add a closing {token.markup} line.", path=path, line=lines[start].number)
        snippets.append(_snippet(lines, start, stop, closed, info, token.content, path,
                                 len(snippets)))
    return snippets


def _snippet(lines: list[SourceLine], start: int, stop: int, closed: bool, info: str,
             content: str, path: Path, index: int) -> Snippet:
    """Build one snippet from a fence token's line range ``[start, stop)`` (0-based)."""
    opening = lines[start]
    last = stop - 1
    contents = content.split("\n")[:-1] if content else []
    body_first = start + 1
    body_end = (stop - 1) if closed else stop
    contents = contents[: body_end - body_first]
    fence_indent = len(opening.text) - len(opening.text.lstrip(" \t"))
    body = _body_lines(lines, body_first, contents, fence_indent)
    where = Location(path, opening.number)
    parsed = split_info(info, path=path, line=opening.number)
    options = parse_options(parsed, path=path, line=opening.number)
    body_span = (Span(lines[body_first].start, lines[body_end - 1].next) if body
                 else Span(opening.next, opening.next))
    body_text = "".join(b.text + "\n" for b in body)
    commands: tuple[Command, ...] = ()
    comments: tuple[int, ...] = ()
    if options.file is None and any(b.text.startswith(PROMPT) for b in body):
        commands, comments = _transcript(body, path)
    # No prompt at all: the body is a script, judged by its exit status only.
    script = body_text if options.file is None and not commands and body_text.strip() else None
    return Snippet(
        location=where,
        end_line=lines[last].number,
        span=Span(opening.start, lines[last].end),
        body_span=body_span,
        lang=parsed.lang,
        info=parsed.rest,
        options=options,
        commands=commands,
        script=script,
        index=index,
        body=body_text,
        comment_lines=comments,
    )


def _transcript(body: list[_BodyLine], path: Path) -> tuple[tuple[Command, ...], tuple[int, ...]]:
    """Split a block with ``$ `` lines into commands, expected output and comments.

    ``#`` lines at the start of the block and ``#`` lines directly before a ``$ `` line are
    comments; every other line after a command, up to the next command, is its output.
    """
    is_prompt = [b.text.startswith(PROMPT) for b in body]
    comment = [False] * len(body)
    for i in range(len(body) - 1, -1, -1):
        following_prompt = i + 1 < len(body) and (is_prompt[i + 1] or comment[i + 1])
        if body[i].text.startswith("#") and (following_prompt or not any(is_prompt[:i])):
            comment[i] = True
    commands: list[Command] = []
    i = 0
    while i < len(body):
        if comment[i] or (not is_prompt[i] and not body[i].text.strip() and not commands):
            i += 1
            continue
        if not is_prompt[i]:
            raise ConfigError(
                "this line comes before the block's first `$ ` command, so it is neither a "
                "command nor its output; start it with `# ` to make it a comment, or mark the "
                'block skip="reason".', path=path, line=body[i].source.number)
        i = _command(body, is_prompt, comment, i, path, commands)
    return tuple(commands), tuple(b.source.number for b, c in zip(body, comment, strict=True) if c)


def _check_pattern(line: _BodyLine, path: Path) -> None:
    """ConfigError at an expected ``(re)`` line that is not a valid regular expression."""
    problem = pattern_error(line.text)
    if problem is not None:
        raise ConfigError(
            f"this output line ends with ' (re)' but the rest is not a valid regular "
            f"expression ({problem}); fix the pattern, or match the line with ' (glob)' or "
            "literally.", path=path, line=line.source.number)


def _command(body: list[_BodyLine], is_prompt: list[bool], comment: list[bool], i: int,
             path: Path, out: list[Command]) -> int:
    """Read the command starting at body line ``i`` into ``out``; return the next line index."""
    first = body[i]
    start = first.content_start + len(PROMPT)
    parts = [first.text[len(PROMPT):]]
    j = i
    while parts[-1].endswith("\\") and j + 1 < len(body):
        j += 1
        parts.append(body[j].text)
    end = body[j].source.end
    k = j + 1
    expected: list[str] = []
    while k < len(body) and not is_prompt[k] and not comment[k]:
        _check_pattern(body[k], path)
        expected.append(body[k].text)
        k += 1
    after_command = body[j].source.next
    expected_span = (Span(body[j + 1].source.start, body[k - 1].source.next) if expected
                     else Span(after_command, after_command))
    out.append(Command(
        text="\n".join(parts),
        location=Location(path, first.source.number),
        span=Span(start, end),
        expected=tuple(expected),
        expected_span=expected_span,
        indent=first.prefix,
    ))
    return k

