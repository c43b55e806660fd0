"""Lines of text, split one way everywhere.

A page is read with ``newline=""`` so that CRLF and a BOM survive an edit; every step that
needs lines splits them here, at the line breaks markdown-it recognises (``\r\n``, ``\r``,
``\n``), so a line number means the same to the extractor, the fixes, the renderer and a
message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LINE_BREAK = re.compile(r"\r\n|\r|\n")
"""A line break, as CommonMark (and markdown-it) count them."""


@dataclass(frozen=True)
class SourceLine:
    """One physical line of the text."""

    number: int
    """1-based line number."""
    start: int
    """Offset of its first character."""
    end: int
    """Offset of its line break (or of the end of the text)."""
    next: int
    """Offset just after its line break."""
    text: str
    """Its characters without the line break."""


def split_lines(text: str) -> list[SourceLine]:
    """Every line of ``text`` with offsets; a final line without a break counts if non-empty."""
    lines: list[SourceLine] = []
    pos = 0
    for match in LINE_BREAK.finditer(text):
        lines.append(SourceLine(len(lines) + 1, pos, match.start(), match.end(),
                                text[pos:match.start()]))
        pos = match.end()
    if pos < len(text):
        lines.append(SourceLine(len(lines) + 1, pos, len(text), len(text), text[pos:]))
    return lines


def line_texts(text: str) -> list[str]:
    """``text`` as MkDocs hands it to plugins: no BOM, any line break, split into lines (a
    final line break gives a final empty line)."""
    return LINE_BREAK.split(text.removeprefix("\ufeff"))
