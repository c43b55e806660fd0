"""Recorded page durations: the newest measurement of each page wins across files, so the
result directories of several shard jobs can be unioned by copying."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from snippet_runner.core.durations import MAX_AGE_DAYS, Durations


def test_a_run_writes_one_file_and_replaces_what_it_read(tmp_path: Path) -> None:
    first = Durations.load(tmp_path)
    assert first.seconds("a.md") is None and first.save() is None  # nothing measured
    first.record("a.md", 1.23456)
    written = first.save()
    assert written is not None and list(tmp_path.glob("*.json")) == [written]
    second = Durations.load(tmp_path)
    assert second.seconds("a.md") == 1.235
    second.record("b.md", 2.0)
    assert second.save() != written and not written.exists()
    assert {p: Durations.load(tmp_path).seconds(p) for p in ("a.md", "b.md")} == {
        "a.md": 1.235, "b.md": 2.0}


def test_the_union_of_two_shards_keeps_each_ones_fresh_pages(tmp_path: Path) -> None:
    base = tmp_path / "restored"
    old = Durations.load(base)
    old.record("a.md", 1.0, at=1000.0)
    old.record("b.md", 1.0, at=1000.0)
    old.save()
    shards = []
    for name, page in (("one", "a.md"), ("two", "b.md")):
        copy = tmp_path / name
        shutil.copytree(base, copy)
        run = Durations.load(copy)
        run.record(page, 9.0)  # each shard ran only its own page
        run.save()
        shards.append(copy)
    union = tmp_path / "union"
    union.mkdir()
    for directory in shards:
        for path in directory.glob("*.json"):
            shutil.copy(path, union)
    merged = Durations.load(union)
    assert (merged.seconds("a.md"), merged.seconds("b.md")) == (9.0, 9.0)


def test_damaged_files_are_ignored_and_old_entries_dropped(tmp_path: Path) -> None:
    (tmp_path / "1-bad.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "2-odd.json").write_text('{"a.md": "x"}', encoding="utf-8")
    durations = Durations.load(tmp_path)
    assert durations.entries == {}
    durations.record("gone.md", 3.0, at=time.time() - (MAX_AGE_DAYS + 1) * 86400)
    durations.record("kept.md", 3.0)
    written = durations.save()
    assert written is not None
    assert list(json.loads(written.read_text(encoding="utf-8"))) == ["kept.md"]
