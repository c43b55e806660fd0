"""How a verified block appears on the published page.

A shell block becomes a small HTML fragment:

* each command in a Material code block (``div.highlight > pre > code``) whose copy button copies
  the *repaired command only*: the wrapper carries ``data-copy`` (Material's clipboard reads it
  before falling back to ``innerText``), and the ``$`` prompt is a Pygments ``.gp`` span, so the
  site's generic rule for console blocks (hide ``.gp``/``.go`` while ``[data-md-copying]``) agrees;
* its verified output in ``div.sr-output > pre`` with no ``code`` element — Material only puts copy
  buttons on ``pre > code``, so output never gets one — styled apart from the command;
* with ``show_fixes``, a line saying which safe typo fixes were applied (original → repaired);
  off by default: a reader who never saw the typo needs no note about it;
* one small mark per block — "✓ verified", its details (engine, date) on hover or tap — or
  "not run: <reason>" for ``skip``; nothing at all for ``hide`` blocks, which vanish. A block
  that failed says so plainly, with the diff and the ``file:line`` to edit (what
  ``mkdocs serve`` shows while a page is being fixed);
* and once per page, above the first block, a summary: how many examples were verified, on
  which engine and when — or a banner counting the page's failures, linking to each.

Marks, notes, summaries and failures carry ``data-search-exclude``: search finds the page's own
words, not "verified · Docker Engine" eleven times over.

Markdown cannot carry that fragment through every context a fence may sit in (list items,
admonitions, tabs), so each block is swapped for a one-word placeholder paragraph
(`rewrite_markdown`, `PlaceholderMap`); the Markdown extension (`snippet_runner.site.extension`)
hands the fragments to Python-Markdown's HTML stash, which puts them back in place. Only the
lines of the blocks are touched; the rest of the page is unchanged.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import BashLexer

from ..core.compare import ELLIPSIS, default_exit, normalise_lines, split_exit
from ..core.fixes import applied_fixes, fixed_command_text, fixed_text, safe_fixes
from ..core.report import failure_heading
from ..core.text import line_texts, split_lines
from ..model import Command, Fix, Outcome, Page, PageReport, Snippet, Span, Status


@dataclass(frozen=True)
class Labels:
    """Words the page shows, in the site's language. ``{engine}``, ``{date}``, ``{count}``,
    ``{total}`` and ``{examples}`` are filled in where a label has them. Failures are named as
    the build log names them (`core.report.failure_heading`), so page and terminal agree."""

    verified: str
    """Mark of a block whose every command matched."""
    verified_detail: str
    """What the mark tells on hover or tap: which engine proved it, and when."""
    exit_only: str
    """Mark of a script block (no ``$`` lines): only its exit status was checked."""
    exit_only_detail: str
    """Its details."""
    not_run: str
    """Prefix of a skipped block's reason."""
    unverified: str
    """Mark of a block no verification in this build (or recorded result) stands behind."""
    unverified_detail: str
    """Its details."""
    fixed: str
    """Prefix of the line listing the typo fixes applied to a command (``show_fixes``)."""
    written_to: str
    """Caption of a ``file=`` block: where the text was put in the sandbox."""
    output: str
    """Accessible name of an output area."""
    exit_status: str
    """Caption of a non-zero expected exit status."""
    failed: str
    """Mark of a block that did not match (or could not run) when it was verified."""
    examples: tuple[str, str]
    """``{count}`` examples, singular and plural."""
    summary_verified: str
    """The page's summary when every example that runs was verified."""
    summary_some_verified: str
    """The summary when only some were (``{count}`` verified of ``{total}``)."""
    summary_unverified: str
    """The summary when none was verified in this build."""
    summary_skipped: str
    """Added to the summary when some blocks are shown without running."""
    summary_failed: str
    """The banner of a page with failures (``mkdocs serve``): ``{count}`` failed examples."""


LABELS: Mapping[str, Labels] = {
    "ko": Labels(
        verified="검증됨",
        verified_detail="{engine}에서 {date}에 실행해 출력이 같은지 확인했습니다",
        exit_only="검증됨(종료 코드)",
        exit_only_detail="{engine}에서 {date}에 실행해 종료 코드를 확인했습니다",
        not_run="실행하지 않음",
        unverified="검증하지 않음",
        unverified_detail="이번 빌드에서는 이 예제를 실행해 확인하지 않았습니다",
        fixed="오타를 고쳐 실행함",
        written_to="샌드박스에 만든 파일",
        output="출력",
        exit_status="종료 코드",
        failed="검증 실패",
        examples=("예제 {count}개", "예제 {count}개"),
        summary_verified="이 페이지의 {examples}를 {engine}에서 {date}에 실제로 실행해, "
                         "적힌 출력이 나오는지 확인했습니다.",
        summary_some_verified="이 페이지의 예제 {total}개 가운데 {count}개를 {engine}에서 "
                              "{date}에 실행해 확인했습니다. 나머지는 이번 빌드에서 확인하지 "
                              "않았습니다.",
        summary_unverified="이 페이지의 예제는 이번 빌드에서 실행해 확인하지 않았습니다.",
        summary_skipped=" {examples}는 형식만 보여 주며 실행하지 않습니다.",
        summary_failed="이 페이지의 {examples}가 검증에 실패했습니다:",
    ),
    "en": Labels(
        verified="verified",
        verified_detail="ran on {engine} on {date} and printed what is shown",
        exit_only="verified (exit status)",
        exit_only_detail="ran on {engine} on {date}; its exit status was checked",
        not_run="not run",
        unverified="not verified",
        unverified_detail="this build did not run this example",
        fixed="typo fixed before running",
        written_to="file created in the sandbox",
        output="output",
        exit_status="exit status",
        failed="verification failed",
        examples=("{count} example", "{count} examples"),
        summary_verified="The {examples} on this page ran on {engine} on {date} and printed "
                         "what they show.",
        summary_some_verified="{count} of the {total} examples on this page ran on {engine} on "
                              "{date} and printed what they show; the others were not verified "
                              "in this build.",
        summary_unverified="The examples on this page were not run for this build.",
        summary_skipped=" {examples} shown without running.",
        summary_failed="{examples} on this page failed verification:",
    ),
}


def labels_for(language: str | None) -> Labels:
    """The labels of ``language`` (``ko``, ``en``...), English when there are none for it."""
    return LABELS.get((language or "en").split("-")[0].split("_")[0].lower(), LABELS["en"])


def _examples(labels: Labels, count: int) -> str:
    return labels.examples[0 if count == 1 else 1].format(count=count)


def engine_name(engine_version: str) -> str:
    """How readers see the engine: ``docker 20.10.24+dfsg1`` is "Docker Engine 20.10.24" (a
    distribution's packaging suffix says nothing to a reader), ``local bash 5.2.15(1)-release``
    is "bash 5.2.15"; anything else as it is."""
    docker = re.fullmatch(r"docker (\d+(?:\.\d+)*)\S*(.*)", engine_version.strip())
    if docker:
        return f"Docker Engine {docker.group(1)}{docker.group(2)}"
    bash = re.fullmatch(r"(?:local )?bash (\d+(?:\.\d+)*)\S*", engine_version.strip())
    if bash:
        return f"bash {bash.group(1)}"
    return engine_version.strip()


@dataclass(frozen=True)
class Mark:
    """What proved a page: shown under every verified block."""

    engine: str
    """The engine as readers see it (`engine_name`), e.g. ``Docker Engine 20.10.24``."""
    date: str
    """``YYYY-MM-DD`` of the run (the cached run's date when nothing ran)."""

    @classmethod
    def of(cls, report: PageReport) -> Mark:
        """The mark of a page report."""
        return cls(engine=engine_name(report.engine_version), date=report.verified_at[:10])


@dataclass
class PlaceholderMap:
    """Placeholder word → HTML fragment, for one page."""

    fragments: dict[str, str] = field(default_factory=dict)
    """Fragments by placeholder."""
    lines: dict[str, int] = field(default_factory=dict)
    """Source line of each placeholder's block (to name a block that got lost)."""
    _prefix: str = field(default_factory=lambda: "SNIPPETRUNNER" + secrets.token_hex(6).upper())

    def add(self, fragment: str, line: int) -> str:
        """Register ``fragment`` of the block at source ``line``; return its placeholder word."""
        word = f"{self._prefix}X{len(self.fragments)}"
        self.fragments[word] = fragment
        self.lines[word] = line
        return word

    def insert(self, content: str) -> tuple[str, list[int]]:
        """Replace every placeholder paragraph in rendered HTML with its fragment; also return
        the source lines of blocks whose placeholder is not in ``content`` (another extension
        swallowed it: the block would silently vanish from the page)."""
        if not self.fragments:
            return content, []
        pattern = re.compile(r"(?:<p>\s*)?\b(" + re.escape(self._prefix) + r"X\d+)\b(?:\s*</p>)?")
        seen: set[str] = set()

        def fragment(found: re.Match[str]) -> str:
            seen.add(found.group(1))
            return self.fragments.get(found.group(1), found.group(0))

        html = pattern.sub(fragment, content)
        return html, sorted(n for word, n in self.lines.items() if word not in seen)


# -- page level ----------------------------------------------------------------------------


def rewrite_markdown(
    markdown: str,
    page: Page,
    report: PageReport | None,
    labels: Labels,
    placeholders: PlaceholderMap,
    *,
    apply_safe_fixes: bool = True,
    show_fixes: bool = False,
    summary: bool = True,
) -> str:
    """Swap every block of ``page`` in ``markdown`` (the host's text: front matter removed) for
    a placeholder; ``report`` None draws unverified blocks (verification switched off, or no
    recorded result). With ``summary``, the page's summary (or failure banner) goes above its
    content, after a leading ``# title``.

    Blocks are found by their text (`locate_blocks`), so a plugin that ran earlier may change the
    page around them; ValueError (naming file:line) when a block's own lines were changed.
    """
    md_lines = markdown.split("\n")
    by_snippet = _outcomes_by_snippet(report.outcomes if report else ())
    mark = Mark.of(report) if report else None
    # Bottom-up, so earlier line numbers stay valid while later blocks change length.
    for snippet, first, last in reversed(locate_blocks(page, md_lines)):
        prefix = _match(_CONTAINER, md_lines[first])
        blank = _match(_QUOTE, prefix).rstrip()
        if snippet.options.hide:
            md_lines[first : last + 1] = [blank]
            continue
        fragment = render_block(
            page,
            snippet,
            by_snippet.get(snippet.index),
            mark,
            labels,
            apply_safe_fixes=apply_safe_fixes,
            show_fixes=show_fixes,
        )
        # Blank lines around the word: a fence may interrupt a paragraph, a placeholder may not.
        word = placeholders.add(fragment, snippet.location.line)
        md_lines[first : last + 1] = [blank, prefix + word, blank]
    top = summary_html(page, by_snippet, mark, labels) if summary else ""
    if top:
        at = _after_title(md_lines)
        md_lines[at:at] = ["", placeholders.add(top, 0), ""]
    return "\n".join(md_lines)


def _after_title(md_lines: Sequence[str]) -> int:
    """Where the page's summary goes: after a leading ``# title`` (ATX or setext), else at the
    top (the theme then shows the title above it)."""
    first = next((i for i, line in enumerate(md_lines) if line.strip()), None)
    if first is None:
        return 0
    if re.match(r" {0,3}# ", md_lines[first] + " "):
        return first + 1
    if first + 1 < len(md_lines) and re.fullmatch(r" {0,3}=+\s*", md_lines[first + 1]):
        return first + 2
    return first


# -- the page's summary --------------------------------------------------------------------


def summary_html(page: Page, by_snippet: Mapping[int, Sequence[Outcome]], mark: Mark | None,
                 labels: Labels) -> str:
    """The page's summary: how many examples were verified, where and when — or, when some
    failed, a banner counting them with a link to each (hidden setup blocks named by
    ``file:line``). Empty when the page shows no block that runs and nothing failed."""
    statuses = {s.index: _block_status(s, by_snippet.get(s.index)) for s in page.snippets}
    whole = [o for s in page.snippets for o in by_snippet.get(s.index, ())
             if o.page_level and o.status.value in _FAILED]
    failed = [s for s in page.snippets if statuses[s.index] in _FAILED]
    if failed or whole:
        return _failure_banner(failed, whole, by_snippet, labels)
    shown = [s for s in page.snippets if not s.options.hide]
    skipped = sum(statuses[s.index] == "skipped" for s in shown)
    runs = [s for s in shown if statuses[s.index] != "skipped"]
    if not runs:
        return ""
    verified = sum(statuses[s.index] == "passed" for s in runs)
    if mark is None or not verified:
        text, status = labels.summary_unverified, "unverified"
    elif verified == len(runs):
        text = labels.summary_verified.format(examples=_examples(labels, verified),
                                              engine=mark.engine, date=mark.date)
        status = "passed"
    else:
        text = labels.summary_some_verified.format(count=verified, total=len(runs),
                                                   engine=mark.engine, date=mark.date)
        status = "unverified"
    if skipped:
        text += labels.summary_skipped.format(examples=_examples(labels, skipped))
    icon = "✓" if status == "passed" else "○"
    return (f'<div class="sr-summary sr-summary--{status}" data-search-exclude>'
            f'<p><span class="sr-summary__icon" aria-hidden="true">{icon}</span> '
            f"{_esc(text)}</p></div>")


_FAILED = frozenset({Status.FAILED.value, Status.ERROR.value, Status.TIMEOUT.value})
"""Block statuses that mean it did not pass."""


def _failure_banner(failed: Sequence[Snippet], whole: Sequence[Outcome],
                    by_snippet: Mapping[int, Sequence[Outcome]], labels: Labels) -> str:
    """The failures of the page: each failing block's (linked unless hidden), then those of the
    page as a whole, with their message."""
    items = []
    for snippet in failed:
        for outcome in by_snippet.get(snippet.index, ()):
            if outcome.page_level or outcome.status.value not in _FAILED:
                continue
            heading = _esc(failure_heading(outcome))
            if not snippet.options.hide:
                heading = f'<a href="#{_failed_id(snippet)}">{heading}</a>'
            items.append(f"<li><code>{heading}</code></li>")
    items += [f"<li><code>{_esc(failure_heading(o))}</code>: {_esc(o.diff)}</li>"
              for o in whole]
    count = len(items)
    return (f'<div class="sr-summary sr-summary--failed" role="alert" data-search-exclude>'
            f'<p><span class="sr-summary__icon" aria-hidden="true">✗</span> '
            f"{_esc(labels.summary_failed.format(examples=_examples(labels, count)))}</p>"
            f"<ul>{''.join(items)}</ul></div>")


def _failed_id(snippet: Snippet) -> str:
    return f"sr-failed-{snippet.index + 1}"


def locate_blocks(page: Page, md_lines: Sequence[str]) -> list[tuple[Snippet, int, int]]:
    """``(snippet, first, last)`` line indexes of each block of ``page`` in ``md_lines``.

    MkDocs hands over the source minus its front matter, so a block normally sits at its source
    line minus a fixed offset: that place is tried first. A plugin or hook that ran earlier may
    have added or removed lines elsewhere (an include, a macro, a banner), so otherwise the
    block's exact lines are searched for after the previous block. Raises ValueError naming the
    block's file:line when they are nowhere: what was verified is no longer what would render.
    """
    offset = len(line_texts(page.text)) - len(md_lines)
    found: list[tuple[Snippet, int, int]] = []
    cursor = 0
    for snippet in page.snippets:
        block = line_texts(page.text[snippet.span.start : snippet.span.end])
        guess = snippet.location.line - 1 - offset
        first = guess if guess >= cursor and _lines_at(md_lines, guess, block) else None
        first = _find_lines(md_lines, block, cursor) if first is None else first
        if first is None:
            raise ValueError(
                f"{snippet.location}: this block was changed before snippet-runner could draw it "
                "(by a plugin or hook whose on_page_markdown runs before it, priority above 50); "
                "what was verified is no longer what the page shows. Let that plugin run later, "
                "or leave shell blocks alone."
            )
        found.append((snippet, first, first + len(block) - 1))
        cursor = first + len(block)
    return found


def _lines_at(haystack: Sequence[str], at: int, needle: Sequence[str]) -> bool:
    return at >= 0 and list(haystack[at : at + len(needle)]) == list(needle)


def _find_lines(haystack: Sequence[str], needle: Sequence[str], start: int) -> int | None:
    """Index of the first run of ``needle`` in ``haystack`` at or after ``start``."""
    for at in range(start, len(haystack) - len(needle) + 1):
        if haystack[at] == needle[0] and _lines_at(haystack, at, needle):
            return at
    return None


def _outcomes_by_snippet(outcomes: Iterable[Outcome]) -> dict[int, list[Outcome]]:
    grouped: dict[int, list[Outcome]] = {}
    for outcome in outcomes:
        grouped.setdefault(outcome.snippet.index, []).append(outcome)
    return grouped


_QUOTE = re.compile(r"[ \t>]*")
"""Indentation and blockquote markers: what a blank line inside the container keeps."""

_CONTAINER = re.compile(r"[ \t>]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?")
"""What puts a fence's first line inside a container: indentation, ``>`` markers, and a list
marker when the fence opens the item (``- ```bash``); the placeholder keeps it."""


def _match(pattern: re.Pattern[str], line: str) -> str:
    """What ``pattern`` (which may match nothing) matches at the start of ``line``."""
    found = pattern.match(line)
    return found.group() if found else ""


# -- block level ---------------------------------------------------------------------------


def render_block(
    page: Page,
    snippet: Snippet,
    outcomes: Sequence[Outcome] | None,
    mark: Mark | None,
    labels: Labels,
    *,
    apply_safe_fixes: bool = True,
    show_fixes: bool = False,
) -> str:
    """The HTML fragment of one (not hidden) block."""
    status = _block_status(snippet, outcomes)
    anchor = f' id="{_failed_id(snippet)}"' if status in _FAILED else ""
    parts = [f'<div class="sr-block sr-block--{status}"{anchor} '
             f'data-sr-line="{snippet.location.line}">']
    if snippet.options.file is not None:
        parts.append(_file_html(snippet, labels))
    elif not snippet.commands:
        parts.append(_code_html(snippet.body))
    else:
        parts.extend(_transcript_html(page, snippet, outcomes, labels, apply_safe_fixes,
                                      show_fixes))
    parts.extend(_failure_html(o, labels) for o in outcomes or ()
                 if o.command is None and not o.page_level and o.status.value in _FAILED)
    parts.append(_mark_html(snippet, status, mark, labels))
    parts.append("</div>")
    return "\n".join(parts)


def _block_status(snippet: Snippet, outcomes: Sequence[Outcome] | None) -> str:
    """The block's verdict; a verdict on the page as a whole (it left its sandbox unusable)
    is the banner's, not this block's."""
    own = [o for o in outcomes or () if not o.page_level]
    if snippet.options.skip is not None:
        return "skipped"
    if not own:  # verification off, or the page was not run
        return "unverified"
    bad = [o.status for o in own if o.status not in (Status.PASSED, Status.SKIPPED)]
    return bad[0].value if bad else "passed"


def _step_html(
    page: Page,
    command: Command,
    outcome: Outcome | None,
    applied: Sequence[Fix],
    exit_code: int,
    labels: Labels,
    show_fixes: bool,
) -> str:
    shown = fixed_command_text(page.text, command, applied)  # repaired, indentation removed
    code = highlight(shown, BashLexer(), HtmlFormatter(nowrap=True)).rstrip("\n")
    parts = [
        '<div class="sr-step">',
        f'<div class="highlight sr-command" data-copy="{_esc(shown)}"><pre><code>'
        f'<span class="gp sr-prompt">$ </span>{code}</code></pre></div>',
    ]
    if applied and show_fixes:
        changes = ", ".join(
            f"<code>{_esc(f.original)}</code> → <code>{_esc(f.replacement)}</code>" for f in applied
        )
        parts.append(f'<p class="sr-fix" data-search-exclude>{_esc(labels.fixed)}: {changes}</p>')
    output = shown_output(command, outcome)
    stated = split_exit(normalise_lines(command.expected))[1]
    exit_code = exit_code if stated is None else stated
    if output or exit_code:
        parts.append(f'<div class="sr-output" role="group" aria-label="{_esc(labels.output)}">')
        if output:
            parts.append(f"<pre>{_esc(output)}</pre>")
        if exit_code:
            parts.append(f'<p class="sr-exit">{_esc(labels.exit_status)} {exit_code}</p>')
        parts.append("</div>")
    if outcome is not None and outcome.status.value in _FAILED:
        parts.append(_failure_html(outcome, labels))
    parts.append("</div>")
    return "\n".join(parts)


def _failure_html(outcome: Outcome, labels: Labels) -> str:
    """Why a step (or a whole script or file block) failed: the ``file:line`` to edit and the
    diff (expected → actual) or the message, as the build log prints them."""
    lines = []
    for line in outcome.diff.rstrip("\n").split("\n"):
        kind = {"-": "del", "+": "add"}.get(line[:1]) if line[:3] not in ("---", "+++") else None
        lines.append(f'<span class="sr-diff__{kind}">{_esc(line)}</span>' if kind
                     else _esc(line))
    return (f'<div class="sr-failure" data-search-exclude>'
            f'<p class="sr-failure__where"><code>{_esc(failure_heading(outcome))}</code></p>'
            f'<pre class="sr-diff">{chr(10).join(lines)}</pre></div>')


def shown_output(command: Command, outcome: Outcome | None) -> str:
    """The output shown under a command: what it printed when verified, else the page's lines.

    ``(re)``/``(glob)`` lines are patterns, so the real line is shown in their place; but when
    the page's expectation uses ``...`` the author chose to elide output, so the expectation is
    shown as written rather than everything the command printed.
    A final ``[N]`` exit-status line is not output: the step shows it as a caption.
    """
    if (
        outcome is not None
        and outcome.status is Status.PASSED
        and outcome.result is not None
        and ELLIPSIS not in (line.strip() for line in command.expected)
    ):
        return outcome.result.output.rstrip("\n")
    return "\n".join(split_exit(normalise_lines(command.expected))[0]).rstrip("\n")


def _transcript_html(
    page: Page,
    snippet: Snippet,
    outcomes: Sequence[Outcome] | None,
    labels: Labels,
    apply_safe_fixes: bool,
    show_fixes: bool,
) -> list[str]:
    """Comments and commands in page order; a run of comment lines is one block of text."""
    outcome_of = {o.command.span.start: o for o in outcomes or () if o.command is not None}
    fixes = safe_fixes(page.fixes) if apply_safe_fixes else []
    indent = snippet.commands[0].indent
    items: list[tuple[int, str | Command]] = [
        (n, _dedent(_fixed_line(page, n, fixes), indent)) for n in snippet.comment_lines
    ]
    items += [(c.location.line, c) for c in snippet.commands]
    items.sort(key=lambda item: item[0])
    parts: list[str] = []
    comments: list[str] = []
    for _, item in items:
        if isinstance(item, str):
            comments.append(item)
            continue
        if comments:
            parts.append(_comment_html(comments))
            comments = []
        outcome = outcome_of.get(item.span.start)
        applied = applied_fixes(page.fixes, item, apply=apply_safe_fixes)
        parts.append(_step_html(page, item, outcome, applied, default_exit(snippet, item), labels,
                                show_fixes))
    if comments:
        parts.append(_comment_html(comments))
    return parts


def _comment_html(lines: Sequence[str]) -> str:
    """Comment lines: shown as text, outside any ``code`` element, so never copied."""
    return f'<div class="sr-comment"><pre>{_esc(chr(10).join(lines))}</pre></div>'


def _fixed_line(page: Page, number: int, fixes: Sequence[Fix]) -> str:
    """Source line ``number`` with the fixes on it applied (a comment showing a command's syntax
    should show it repaired, like the command)."""
    line = split_lines(page.text)[number - 1]
    return fixed_text(page.text, Span(line.start, line.end), fixes)


def _dedent(line: str, indent: str) -> str:
    return line[len(indent) :] if indent and line.startswith(indent) else line.lstrip(" ")


def _file_html(snippet: Snippet, labels: Labels) -> str:
    caption = f"{_esc(labels.written_to)}: <code>{_esc(snippet.options.file or '')}</code>"
    return f'<p class="sr-file">{caption}</p>\n' + _code_html(snippet.body)


def _code_html(text: str) -> str:
    text = text.rstrip("\n")
    code = f"<pre><code>{_esc(text)}</code></pre>"
    return f'<div class="highlight" data-copy="{_esc(text)}">{code}</div>'


def _mark_html(snippet: Snippet, status: str, mark: Mark | None, labels: Labels) -> str:
    """One small mark under the block: a badge whose details show on hover, focus or tap
    (`copy-commands.js` toggles ``sr-mark--open`` on a tap, for browsers that do not focus a
    tapped button); a skipped block's reason is shown as written."""
    if snippet.options.skip is not None:
        return (f'<p class="sr-mark sr-mark--skipped" data-search-exclude>'
                f'<span class="sr-mark__badge">{_esc(labels.not_run)}</span>: '
                f'<span class="sr-mark__reason">{_esc(snippet.options.skip)}</span></p>')
    if status in _FAILED:  # never a verified mark on what did not pass
        badge, detail = f"✗ {labels.failed}", ""
    elif mark is None or status == "unverified":
        badge, detail = f"○ {labels.unverified}", labels.unverified_detail
    else:
        script = not (snippet.commands or snippet.options.file)
        word, text = ((labels.exit_only, labels.exit_only_detail) if script
                      else (labels.verified, labels.verified_detail))
        badge, detail = f"✓ {word}", text.format(engine=mark.engine, date=mark.date)
    if not detail:
        return (f'<p class="sr-mark sr-mark--{status}" data-search-exclude>'
                f'<span class="sr-mark__badge">{_esc(badge)}</span></p>')
    return (f'<p class="sr-mark sr-mark--{status}" data-search-exclude>'
            f'<button type="button" class="sr-mark__badge" aria-expanded="false">'
            f'{_esc(badge)}</button>'
            f'<span class="sr-mark__detail" role="note">{_esc(detail)}</span></p>')


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
