"""Result-cache keys and entries, from text alone: no files, no sandbox."""

from __future__ import annotations

from factory import page, report

from snippet_runner.core.cache import (
    Fingerprint,
    _entry_from_report,
    _report_from_entry,
    block_keys,
    page_key,
)

FP = Fingerprint(runner="0/2", engine="dockerd 20.10.24", fixtures="abc", settings="{}")
PAGE = "Intro.\n\n```console\n# greet\n$ echo hi\nhi\n```\n\n```console\n$ echo bye\nbye\n```\n"


def test_prose_and_comments_leave_every_key_alone() -> None:
    edited = PAGE.replace("Intro.", "A longer intro.\n\nTwo paragraphs.").replace("greet", "hej")
    assert block_keys(page(edited), FP) == block_keys(page(PAGE), FP)


def test_a_command_change_changes_its_key_and_every_later_one() -> None:
    before = block_keys(page(PAGE), FP)
    after = block_keys(page(PAGE.replace("echo hi\nhi", "echo ho\nho")), FP)
    assert after[0] != before[0] and after[1] != before[1]


def test_a_later_block_changes_only_the_keys_from_there() -> None:
    before = block_keys(page(PAGE), FP)
    after = block_keys(page(PAGE.replace("bye\nbye", "ciao\nciao")), FP)
    assert after[0] == before[0] and after[1] != before[1]


def test_the_fingerprint_is_part_of_every_key() -> None:
    other = Fingerprint(FP.runner, "dockerd 28.0.0", FP.fixtures, FP.settings)
    assert page_key(page(PAGE), other) != page_key(page(PAGE), FP)


def test_an_entry_renders_like_the_run_that_stored_it_even_after_prose_moved() -> None:
    original = page(PAGE)
    stored = _entry_from_report(report(original, ["hi\n", "bye\n"]))
    moved = page("New heading\n\n" + PAGE)
    restored = _report_from_entry(moved, stored)
    assert restored.from_cache and restored.ok
    assert [o.command.location.line for o in restored.outcomes if o.command] == [7, 12]
    assert [o.result.output for o in restored.outcomes if o.result] == ["hi\n", "bye\n"]
