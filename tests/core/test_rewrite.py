"""Span edits and atomic writes: only the edited characters change, on disk too."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snippet_runner.core.rewrite import Edit, apply_edits, read_text, rewrite_file, write_atomic
from snippet_runner.errors import ConfigError
from snippet_runner.model import Span


def test_edits_apply_bottom_up() -> None:
    text = "aa BB cc DD"
    edits = [Edit(Span(3, 5), "b"), Edit(Span(9, 11), "dddd"), Edit(Span(0, 0), ">")]
    assert apply_edits(text, edits) == ">aa b cc dddd"


def test_overlapping_or_outside_edits_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        apply_edits("abcdef", [Edit(Span(0, 3), "x"), Edit(Span(2, 4), "y")])
    with pytest.raises(ValueError, match="outside"):
        apply_edits("abc", [Edit(Span(2, 9), "x")])


@st.composite
def text_and_edits(draw: st.DrawFn) -> tuple[str, list[Edit]]:
    text = draw(st.text(alphabet=st.sampled_from("ab \r\n\ufeff한글é\t$-"), max_size=60))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=8)))
    edits: list[Edit] = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=False):
        edits.append(Edit(Span(start, end), draw(st.text(max_size=5))))
    return text, edits


@given(text_and_edits())
def test_bytes_outside_edited_spans_are_unchanged(case: tuple[str, list[Edit]]) -> None:
    text, edits = case
    new = apply_edits(text, edits)
    pos = 0
    out = 0
    for edit in sorted(edits, key=lambda e: e.span.start):
        keep = text[pos:edit.span.start]
        assert new[out:out + len(keep)] == keep
        out += len(keep)
        assert new[out:out + len(edit.replacement)] == edit.replacement
        out += len(edit.replacement)
        pos = edit.span.end
    assert new[out:] == text[pos:]


@settings(deadline=None)  # fsync's speed is the disk's business, not a property of the code
@given(text_and_edits())
def test_write_round_trips_every_byte(case: tuple[str, list[Edit]]) -> None:
    import tempfile

    text, edits = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "page.md"
        path.write_bytes(text.encode("utf-8"))
        assert read_text(path) == text
        changed = rewrite_file(path, text, edits)
        assert path.read_bytes() == apply_edits(text, edits).encode("utf-8")
        assert changed == (apply_edits(text, edits) != text)
        assert os.listdir(tmp) == ["page.md"]


def test_atomic_write_keeps_mode_and_crlf_bom(tmp_path: Path) -> None:
    path = tmp_path / "p.md"
    path.write_bytes("\ufeff한\r\nb\r\n".encode())
    path.chmod(0o640)
    write_atomic(path, read_text(path).replace("b", "c"))
    assert path.read_bytes() == "\ufeff한\r\nc\r\n".encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_refuses_when_file_changed_since_read(tmp_path: Path) -> None:
    path = tmp_path / "p.md"
    path.write_text("old", encoding="utf-8")
    text = read_text(path)
    path.write_text("edited meanwhile", encoding="utf-8")
    with pytest.raises(ConfigError, match="changed on disk"):
        rewrite_file(path, text, [Edit(Span(0, 1), "O")])
    assert path.read_text(encoding="utf-8") == "edited meanwhile"


def test_unreadable_files_are_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.md"
    bad.write_bytes(b"caf\xe9\n")
    with pytest.raises(ConfigError, match=r"latin1\.md: is not UTF-8"):
        read_text(bad)
    with pytest.raises(ConfigError, match="cannot be read"):
        read_text(tmp_path / "missing.md")


def test_non_utf8_error_names_line_column_and_byte(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.md"
    bad.write_bytes("# 제목\nok\n한글 caf\xe9 au lait\n".encode().replace(b"\xc3\xa9", b"\xe9"))
    with pytest.raises(ConfigError) as caught:
        read_text(bad)
    assert str(caught.value) == (f"{bad}: is not UTF-8 text: line 3, column 7 has byte 0xE9 "
                                 "(invalid continuation byte); save it as UTF-8.")


def test_a_directory_is_not_a_page(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory, not a Markdown file"):
        read_text(tmp_path)


def test_read_only_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "p.md"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o444)
    with pytest.raises(ConfigError, match=r"p\.md: is read-only.*chmod u\+w"):
        rewrite_file(path, "old", [Edit(Span(0, 3), "new")])
    assert path.read_text(encoding="utf-8") == "old"
    assert stat.S_IMODE(path.stat().st_mode) == 0o444


def test_write_failure_is_a_config_error_and_leaves_no_temp_file(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    path = gone / "p.md"
    gone.rmdir()  # the page's directory vanished between reading and writing
    with pytest.raises(ConfigError, match=r"p\.md: cannot be rewritten: No such file"):
        write_atomic(path, "text")
    target = tmp_path / "dir.md"
    target.mkdir()  # replacing a directory with a file fails after the temp file exists
    with pytest.raises(ConfigError, match=r"dir\.md: cannot be rewritten: Is a directory"):
        write_atomic(target, "text")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.md"]
