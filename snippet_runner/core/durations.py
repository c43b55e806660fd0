"""How long each page took when it last ran: what ``--shard`` balances by.

Kept beside the result cache, in ``<cache_dir>/results/durations/``, so whatever shares the
result cache between CI jobs (one ``actions/cache`` path) shares the durations too.

Each run that ran pages writes *one new file* holding every duration it knows (those it read,
and its own, newer ones) and deletes the files it read. Every entry carries the time it was
measured, and a reader takes the newest entry of each page over all the files there are. So
the result directories of several shard jobs can be unioned by plain file copy (as
``actions/download-artifact`` with ``merge-multiple`` does): each shard's file holds its own
pages' fresh durations, the union keeps them all, and the next run's readers agree on every
page. Entries not measured again for `cache.MAX_AGE_DAYS` are dropped (a deleted page).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

MAX_AGE_DAYS = 30
"""A page not measured for this long is forgotten (the same age as the result cache's)."""


@dataclass
class Durations:
    """Seconds per page path, newest measurement first."""

    directory: Path
    """``<cache_dir>/results/durations``."""
    entries: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Page path → (seconds, when measured as a Unix time)."""
    read: list[Path] = field(default_factory=list)
    """The files the entries came from (replaced by `save`)."""
    fresh: int = 0
    """How many entries this run measured."""

    @classmethod
    def load(cls, directory: Path) -> Durations:
        """Every file's entries, the newest of each page winning. A damaged file is ignored
        (the pages it timed are estimated again)."""
        found = cls(directory)
        for path in sorted(directory.glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                entries = {str(k): (float(v[0]), float(v[1])) for k, v in data.items()}
            except (OSError, ValueError, TypeError, IndexError, AttributeError):
                continue
            found.read.append(path)
            for page, entry in entries.items():
                if page not in found.entries or _newer(entry, found.entries[page]):
                    found.entries[page] = entry
        return found

    def seconds(self, page: str) -> float | None:
        """The page's last measured duration, if any."""
        entry = self.entries.get(page)
        return entry[0] if entry else None

    def record(self, page: str, seconds: float, at: float | None = None) -> None:
        """Remember that ``page`` took ``seconds`` (now, unless ``at`` says when)."""
        self.entries[page] = (round(seconds, 3), time.time() if at is None else at)
        self.fresh += 1

    def save(self) -> Path | None:
        """Write every entry into one new file and delete the files read; nothing when this run
        measured nothing. Returns the file written."""
        if not self.fresh:
            return None
        limit = time.time() - MAX_AGE_DAYS * 86400
        data = {page: [s, at] for page, (s, at) in sorted(self.entries.items()) if at >= limit}
        self.directory.mkdir(parents=True, exist_ok=True)
        # Unique per run: shard jobs write theirs at the same moment and are unioned later.
        target = self.directory / f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.json"
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=0)
        os.replace(tmp, target)
        for old in self.read:
            with contextlib.suppress(OSError):  # another run replaced it first
                old.unlink()
        self.read = [target]
        self.fresh = 0
        return target


def _newer(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether measurement ``a`` wins over ``b``: the later one (then the longer, so every
    reader picks the same one of two taken at the same moment)."""
    return (a[1], a[0]) > (b[1], b[0])
