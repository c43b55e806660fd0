"""Edit a source text by character span and write it back atomically.

Edits are applied bottom-up so earlier spans keep their offsets; every character outside the
edited spans — CRLF line ends, a BOM, Korean text — stays as it was. The new text reaches the
disk through ``safe_replace.replace_bytes``: atomically, only if the file still holds what was
read, keeping symlinks, hard links, owner, group and mode.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..model import Span
from .safe_replace import replace_bytes, sweep_stale_temps


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


def decode_utf8(data: bytes, path: Path) -> str:
    """``data`` as text, nothing translated; ConfigError locating the first byte that isn't
    UTF-8 (so a user can find the stray Latin-1 character in a long page)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        before = data[data.rfind(b"\n", 0, err.start) + 1:err.start].decode("utf-8")
        column = len(before) + 1  # in characters, as an editor counts them
        raise ConfigError(f"is not UTF-8 text: line {line}, column {column} has byte "
                          f"0x{data[err.start]:02X} ({err.reason}); save it as UTF-8.",
                          path=path) from err


def read_text(path: Path) -> str:
    """A Markdown file as text with line ends and BOM kept; ConfigError when unreadable."""
    try:
        data = path.read_bytes()
    except IsADirectoryError as err:
        raise ConfigError("is a directory, not a Markdown file.", path=path) from err
    except OSError as err:
        raise ConfigError(f"cannot be read: {err.strerror}.", path=path) from err
    return decode_utf8(data, path)


def ensure_writable(path: Path) -> None:
    """ConfigError when ``path`` is read-only: its mode has no write bit (respected even for
    root, who could replace it anyway) or this user may not write it."""
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        raise ConfigError(f"cannot be examined: {err.strerror}.", path=path) from err
    if not mode & 0o222 or not os.access(path, os.W_OK):
        raise ConfigError("is read-only, so it was left unchanged; make it writable "
                          f"(chmod u+w {path}) and run again.", path=path)


def rewrite_file(path: Path, original: str, edits: list[Edit]) -> bool:
    """Apply ``edits`` to the file whose text was ``original``; False when nothing changed.

    Refuses (ConfigError) when the file is read-only, or changed on disk since it was read, so
    an editor's save is never overwritten with stale offsets. How the bytes get to disk —
    through symlinks, keeping hard links, owner and mode, and closing the race with an editor
    — is ``safe_replace``'s job.
    """
    new = apply_edits(original, edits)
    if new == original:
        return False
    ensure_writable(path)
    replace_bytes(path, original.encode("utf-8"), new.encode("utf-8"))
    return True


def sweep_beside(paths: Iterable[Path]) -> list[str]:
    """Remove what killed rewrites left beside these pages (beside their symlinks' targets);
    a line for each file kept or finished, saying what to do."""
    directories = {Path(os.path.realpath(path)).parent for path in paths}
    return [note for directory in sorted(directories) for note in sweep_stale_temps(directory)]
