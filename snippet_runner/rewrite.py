"""Edit a source text by character span and write it back atomically.

Edits are applied bottom-up so earlier spans keep their offsets; every character outside the
edited spans — CRLF line ends, a BOM, Korean text — stays as it was. The file is replaced with
``os.replace`` from a temporary file in the same directory (same filesystem, so readers see the
old or the new file, never half of one), keeping the original permission bits.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError
from .model import Span


@dataclass(frozen=True)
class Edit:
    """Replace the text at ``span`` with ``replacement``."""

    span: Span
    """Where, in the text as read with ``newline=""``."""
    replacement: str
    """What to put there."""


def apply_edits(text: str, edits: list[Edit] | tuple[Edit, ...]) -> str:
    """``text`` with every edit applied; ValueError when two edits overlap or leave the text."""
    ordered = sorted(edits, key=lambda e: (e.span.start, e.span.end))
    for edit in ordered:
        if not 0 <= edit.span.start <= edit.span.end <= len(text):
            raise ValueError(f"edit {edit.span} lies outside the text (length {len(text)})")
    for before, after in itertools.pairwise(ordered):
        if after.span.start < before.span.end:
            raise ValueError(f"edits {before.span} and {after.span} overlap")
    for edit in reversed(ordered):
        text = text[: edit.span.start] + edit.replacement + text[edit.span.end:]
    return text


def read_text(path: Path) -> str:
    """A Markdown file as text with line ends and BOM kept; ConfigError when unreadable."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except UnicodeDecodeError as err:
        raise ConfigError(f"is not UTF-8 text (byte {err.start}: {err.reason}); save it as UTF-8.",
                          path=path) from err
    except OSError as err:
        raise ConfigError(f"cannot be read: {err.strerror}.", path=path) from err


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8, no newline translation) in one step."""
    data = text.encode("utf-8")
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def rewrite_file(path: Path, original: str, edits: list[Edit]) -> bool:
    """Apply ``edits`` to the file whose text was ``original``; False when nothing changed.

    Refuses (ConfigError) when the file changed on disk since it was read, so an editor's
    unsaved-then-saved work is never overwritten with stale offsets.
    """
    new = apply_edits(original, edits)
    if new == original:
        return False
    if read_text(path) != original:
        raise ConfigError("changed on disk while snippet-runner was working; run it again.",
                          path=path)
    write_atomic(path, new)
    return True
