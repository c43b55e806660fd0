"""update: keep what still matches (cram-style), replace what differs, write atomically."""

from __future__ import annotations

from pathlib import Path

import pytest

from snippet_runner.api import load_page, verify_pages
from snippet_runner.config import RunConfig
from snippet_runner.core.rewrite import apply_edits
from snippet_runner.core.update import literal, update_edits, updated_lines


@pytest.mark.parametrize(
    ("expected", "output", "exit_code", "new"),
    [
        (["a"], "a\n", 0, None),
        (["a"], "b\n", 0, ["b"]),
        ([], "new\n", 0, ["new"]),
        (["old"], "", 0, []),
        (["head", "...", "tail"], "head\nx\ny\ntail\nmore\n", 0, ["head", "...", "tail", "more"]),
        (["n: \\d+ (re)", "old"], "n: 7\nnew\n", 0, ["n: \\d+ (re)", "new"]),
        (["id 0123456789ab", "x"], "id fedcba987654\ny\n", 0, ["id 0123456789ab", "y"]),
        (["* (glob)", "gone"], "kept\n", 0, ["* (glob)"]),
        (["a"], "a\n", 3, ["a", "[3]"]),
        (["a", "[3]"], "a\n", 0, ["a"]),
        (["a"], "...\n$ x\n# h\n", 0, ["\\.\\.\\. (re)", "\\$\\ x (re)", "\\#\\ h (re)"]),
    ],
)
def test_updated_lines(expected: list[str], output: str, exit_code: int,
                       new: list[str] | None) -> None:
    assert updated_lines(tuple(expected), output, exit_code, 0) == new


def test_literal_leaves_plain_lines_alone() -> None:
    assert literal("hello (world)") == "hello (world)"
    assert literal("x (re)") == "x\\ \\(re\\) (re)"


def test_update_rewrites_only_output_lines(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    original = ("# 제목\r\n\r\n* step\r\n\r\n  ```console\r\n  $ echo 안녕; echo two\r\n"
                "  안녕\r\n  old\r\n  $ echo same\r\n  same\r\n  $ printf 'x\\n'\r\n  ```\r\n")
    page.write_bytes(original.encode())
    loaded = load_page(page)
    [report] = verify_pages([loaded], RunConfig(backend="local", jobs=1))
    edits = update_edits(loaded.text, report.outcomes)
    new = apply_edits(loaded.text, edits)
    assert new == original.replace("  old\r\n", "  two\r\n").replace(
        "  $ printf 'x\\n'\r\n", "  $ printf 'x\\n'\r\n  x\r\n")
    page.write_bytes(new.encode())
    [again] = verify_pages([load_page(page)], RunConfig(backend="local", jobs=1))
    assert again.ok
