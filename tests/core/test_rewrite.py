"""Span edits and atomic writes: only the edited characters change, on disk too."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pwd
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snippet_runner.core.rewrite import Edit, apply_edits, read_text, rewrite_file
from snippet_runner.core.safe_replace import sweep_stale_temps
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
    text = read_text(path)
    rewrite_file(path, text, [Edit(Span(text.index("b"), text.index("b") + 1), "c")])
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
    with pytest.raises(ConfigError, match=r"p\.md: cannot be (examined|rewritten): No such"):
        rewrite_file(path, "text", [Edit(Span(0, 1), "T")])
    target = tmp_path / "dir.md"
    target.mkdir()  # a page that became a directory is not replaced by a file
    with pytest.raises(ConfigError, match=r"dir\.md: cannot be rewritten: Is a directory"):
        rewrite_file(target, "text", [Edit(Span(0, 1), "T")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.md"]


# --- links, owner and mode --------------------------------------------------------------------

def _fix(path: Path, old: str, new: str) -> bool:
    """``rewrite_file`` as ``fix --write`` calls it: replace the first ``old`` by ``new``."""
    text = read_text(path)
    start = text.index(old)
    return rewrite_file(path, text, [Edit(Span(start, start + len(old)), new)])


def test_a_symlink_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere" / "real.md"
    real.parent.mkdir()
    real.write_text("$ docker run --it x\n", encoding="utf-8")
    hop = tmp_path / "hop.md"
    hop.symlink_to(real)  # absolute
    page = tmp_path / "docs" / "page.md"
    page.parent.mkdir()
    page.symlink_to("../hop.md")  # relative, and a chain of two links
    assert _fix(page, "--it", "-it")
    assert page.is_symlink() and os.readlink(page) == "../hop.md" and hop.is_symlink()
    assert real.read_text(encoding="utf-8") == "$ docker run -it x\n"
    assert sorted(os.listdir(real.parent)) == ["real.md"]
    assert sorted(os.listdir(page.parent)) == ["page.md"]


def test_hard_links_are_kept(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("한글 --it\n", encoding="utf-8")
    twin = tmp_path / "twin.md"
    os.link(page, twin)
    inode = page.stat().st_ino
    assert _fix(page, "--it", "-it")
    assert page.stat().st_ino == twin.stat().st_ino == inode and page.stat().st_nlink == 2
    assert twin.read_text(encoding="utf-8") == "한글 -it\n"
    assert sorted(os.listdir(tmp_path)) == ["page.md", "twin.md"]


def test_mode_set_id_bits_and_extended_attributes_are_kept(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("--it\n", encoding="utf-8")
    page.chmod(0o2664)
    os.setxattr(page, "user.origin", b"imported from the blog")
    inode = page.stat().st_ino
    assert _fix(page, "--it", "-it")
    assert page.stat().st_ino != inode  # replaced, not written in place
    assert stat.S_IMODE(page.stat().st_mode) == 0o2664
    assert os.getxattr(page, "user.origin") == b"imported from the blog"


@pytest.fixture(scope="module")
def user() -> Iterator[pwd.struct_passwd]:
    """A real non-root user (and its own group), made for these tests and deleted after."""
    if os.geteuid() != 0:
        pytest.skip("making a user with useradd needs root")
    name = f"srrw{os.getpid()}"
    subprocess.run(["useradd", "--no-create-home", "--user-group", "--shell", "/bin/false",
                    name], check=True)
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], check=False)


@pytest.fixture()
def shared_dir() -> Iterator[Path]:
    """A directory other users can reach (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="sr-rewrite-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path)


def _as_user(user: pwd.struct_passwd, work: Callable[[], object]) -> str:
    """Run ``work`` in a child process that has become ``user``; its result or error, as text."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            message = repr(work())
        except BaseException as err:
            message = f"{type(err).__name__}: {err}"
        os.write(write_end, message.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        message = pipe.read().decode()
    os.waitpid(pid, 0)
    return message


def test_root_rewriting_a_users_page_keeps_its_owner_group_and_mode(
        user: pwd.struct_passwd, shared_dir: Path) -> None:
    page = shared_dir / "page.md"
    page.write_text("--it\n", encoding="utf-8")
    os.chown(page, user.pw_uid, user.pw_gid)
    page.chmod(0o640)
    assert _fix(page, "--it", "-it")  # as root
    st = page.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (user.pw_uid, user.pw_gid, 0o640)
    assert page.read_text(encoding="utf-8") == "-it\n"


def test_a_user_rewriting_a_group_writable_page_of_roots_keeps_roots_ownership(
        user: pwd.struct_passwd, shared_dir: Path) -> None:
    """The user can't give a new file root's ownership, so the page is written in place."""
    os.chown(shared_dir, user.pw_uid, user.pw_gid)  # the user may make the journal there
    page = shared_dir / "page.md"
    page.write_text("--it\n", encoding="utf-8")
    os.chown(page, 0, user.pw_gid)
    page.chmod(0o664)
    inode = page.stat().st_ino
    assert _as_user(user, lambda: _fix(page, "--it", "-it")) == "True"
    st = page.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, user.pw_gid, 0o664)
    assert st.st_ino == inode and page.read_text(encoding="utf-8") == "-it\n"
    assert os.listdir(shared_dir) == ["page.md"]


def test_a_user_rewriting_its_own_page_through_a_symlink(
        user: pwd.struct_passwd, shared_dir: Path) -> None:
    os.chown(shared_dir, user.pw_uid, user.pw_gid)
    page = shared_dir / "page.md"
    page.write_text("--it\n", encoding="utf-8")
    os.chown(page, user.pw_uid, user.pw_gid)
    page.chmod(0o600)
    link = shared_dir / "link.md"
    link.symlink_to("page.md")
    assert _as_user(user, lambda: _fix(link, "--it", "-it")) == "True"
    st = page.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (user.pw_uid, user.pw_gid, 0o600)
    assert link.is_symlink() and page.read_text(encoding="utf-8") == "-it\n"


# --- the editor race --------------------------------------------------------------------------

# An editor in another process: told what to save and when, it saves the way editors do —
# in place (open with O_TRUNC, write: nano, VS Code) or by renaming a file of its own over the
# page (vim's default, gedit, JetBrains' "safe write") — and says when the save began.
EDITOR = r"""
import json, os, sys, time
for line in sys.stdin:
    order = json.loads(line)
    until = time.monotonic() + order["delay"]
    while time.monotonic() < until:
        pass
    began = time.monotonic()
    if order["style"] == "inplace":
        with open(order["path"], "w", encoding="utf-8") as page:
            page.write(order["text"])
    else:
        side = order["path"] + ".editor~"
        with open(side, "w", encoding="utf-8") as page:
            page.write(order["text"])
        os.replace(side, order["path"])
    print(began, flush=True)
"""

ORIGINAL = "# 도커\n\n```console\n$ docker run --it test:latest echo hi\nhi\n```\n" * 40


def _check_then_replace(path: Path, original: str, new: str) -> None:
    """The rewrite before issue #11: compare, then write a temporary file and rename it over
    the page — the harness below must catch this one losing saves."""
    if read_text(path) != original:
        raise ConfigError("changed on disk", path=path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(new.encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _fix_all(path: Path, original: str) -> None:
    start = original.index("--it")
    rewrite_file(path, original, [Edit(Span(start, start + 4), "-it")])


def _race(rewrite: Callable[[Path, str], None], page: Path, style: str,
          trials: int) -> tuple[int, int]:
    """Rewrite the page ``trials`` times while the editor saves it at a random moment of each
    rewrite; returns (saves lost, saves that began while the rewrite ran)."""
    rng = random.Random(11)
    editor = subprocess.Popen([sys.executable, "-c", EDITOR], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert editor.stdin is not None and editor.stdout is not None
    lost = contested = 0
    spans: list[float] = []
    try:
        for trial in range(trials):
            page.write_text(ORIGINAL, encoding="utf-8")
            original = read_text(page)
            span = sorted(spans)[len(spans) // 2] if spans else 0.005
            saved = f"saved by the editor, trial {trial}\n"
            editor.stdin.write(json.dumps({"style": style, "path": str(page), "text": saved,
                                           "delay": rng.uniform(0, span * 1.2)}) + "\n")
            editor.stdin.flush()
            start = time.monotonic()
            with contextlib.suppress(ConfigError):  # "changed on disk": the save is kept
                rewrite(page, original)
            end = time.monotonic()
            spans.append(end - start)
            began = float(editor.stdout.readline())
            contested += start <= began <= end
            lost += page.read_text(encoding="utf-8") != saved
    finally:
        editor.stdin.close()
        editor.wait()
    return lost, contested


def _trials(default: int) -> int:
    """``REWRITE_RACE_TRIALS=2000 pytest -s -k race`` repeats the measurement at length."""
    return int(os.environ.get("REWRITE_RACE_TRIALS", default))


@pytest.mark.parametrize("style", ["inplace", "rename"])
def test_race_the_old_rewrite_loses_saves_in_this_harness(tmp_path: Path, style: str) -> None:
    """The harness can fail: the check-then-replace rewrite loses the saves that land between
    its check and its rename."""
    trials = _trials(60)
    lost, contested = _race(lambda p, o: _check_then_replace(
        p, o, o.replace("--it", "-it", 1)), tmp_path / "page.md", style, trials)
    print(f"\nold rewrite, {style} saves: {lost} lost of {contested} made during a rewrite "
          f"({trials} trials)")
    assert contested >= trials // 4 and lost >= 3, (lost, contested)


@pytest.mark.parametrize("style", ["inplace", "rename"])
def test_race_no_save_is_lost_to_a_rewrite(tmp_path: Path, style: str) -> None:
    page = tmp_path / "page.md"
    trials = _trials(150)
    lost, contested = _race(_fix_all, page, style, trials)
    print(f"\nrewrite, {style} saves: {lost} lost of {contested} made during a rewrite "
          f"({trials} trials)")
    assert contested >= trials // 3, contested  # most saves really landed during a rewrite
    assert lost == 0, f"{lost} of {contested} saves made during a rewrite were lost"
    assert sorted(os.listdir(tmp_path)) == ["page.md"]


def test_race_no_save_is_lost_to_an_in_place_rewrite_of_a_hard_linked_page(
        tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(ORIGINAL, encoding="utf-8")
    os.link(page, tmp_path / "twin.md")
    trials = _trials(100)
    lost, contested = _race(_fix_all, page, "inplace", trials)
    print(f"\nin-place rewrite (hard links), in-place saves: {lost} lost of {contested} made "
          f"during a rewrite ({trials} trials)")
    assert contested >= trials // 3, contested
    assert lost == 0, f"{lost} of {contested} saves made during a rewrite were lost"
    assert page.stat().st_nlink == 2


# --- what a killed rewrite leaves, and the sweep ----------------------------------------------

REWRITER = """
import sys
from pathlib import Path
from snippet_runner.core.rewrite import Edit, read_text, rewrite_file
from snippet_runner.model import Span
page = Path(sys.argv[1])
text = read_text(page)
start = text.index("--it")
rewrite_file(page, text, [Edit(Span(start, start + 4), "-it")])
"""


def _temps(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.name.endswith(".tmp"))


def _journal_written(path: Path) -> bool:
    with contextlib.suppress(ValueError):
        return bool(json.loads(path.read_text(encoding="utf-8")))
    return False


def _killed_mid_rewrite(page: Path, prefix: tuple[str, ...] = (),
                        ready: Callable[[Path], bool] = Path.exists) -> Path:
    """Start a rewrite of ``page`` in another process and SIGKILL it once its temporary file is
    ``ready``; the file it left. While it lives, the sweep must leave that file alone."""
    with open(page, "rb"):  # held open: the rewrite waits for its lease, so there is time
        child = subprocess.Popen([*prefix, sys.executable, "-c", REWRITER, str(page)])
        deadline = time.monotonic() + 20
        while not any(ready(p) for p in _temps(page.parent)):
            assert child.poll() is None and time.monotonic() < deadline, "no temporary file"
            time.sleep(0.001)
        assert sweep_stale_temps(page.parent) == []  # its owner is alive: kept
        assert child.poll() is None, "the rewrite ended before it could be killed"
        os.killpg(child.pid, signal.SIGKILL) if prefix else child.kill()
        child.wait()
    (left,) = _temps(page.parent)
    for held in (page, left):  # until the kernel has closed the killed process's files
        with open(held, "rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH)
    return left


def test_a_rewrite_killed_midway_leaves_a_temp_file_the_sweep_removes(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(ORIGINAL, encoding="utf-8")
    left = _killed_mid_rewrite(page)
    assert left.name.startswith(".page.md.") and left.name.endswith(".snippet-runner.tmp")
    assert page.read_text(encoding="utf-8") == ORIGINAL  # the page is whole
    assert sweep_stale_temps(tmp_path) == []
    assert _temps(tmp_path) == [] and page.read_text(encoding="utf-8") == ORIGINAL


def test_the_next_rewrite_sweeps_what_a_killed_one_left(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(ORIGINAL, encoding="utf-8")
    _killed_mid_rewrite(page)
    assert _fix(page, "--it", "-it")
    assert sorted(os.listdir(tmp_path)) == ["page.md"]


def test_a_live_rewrite_in_another_pid_namespace_is_not_swept(tmp_path: Path) -> None:
    """Liveness is the owner's lock, not a pid looked up in the sweeper's own namespace."""
    if os.geteuid() != 0:
        pytest.skip("a new PID namespace needs root")
    page = tmp_path / "page.md"
    page.write_text(ORIGINAL, encoding="utf-8")
    left = _killed_mid_rewrite(page, ("setsid", "unshare", "--pid", "--fork"))
    assert sweep_stale_temps(tmp_path) == [] and not left.exists()


def _journal_left(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    page = tmp_path / "page.md"
    page.write_text(ORIGINAL, encoding="utf-8")
    os.link(page, tmp_path / "twin.md")  # hard links: the rewrite writes in place
    journal = _killed_mid_rewrite(page, ready=_journal_written)
    assert journal.name.endswith(".snippet-runner-journal.tmp")
    data = json.loads(journal.read_text(encoding="utf-8"))
    assert (data["old"], data["new"]) == (ORIGINAL, ORIGINAL.replace("--it", "-it", 1))
    return page, journal, data


def test_a_journal_of_a_write_that_never_began_is_dropped(tmp_path: Path) -> None:
    page, journal, _ = _journal_left(tmp_path)
    assert sweep_stale_temps(tmp_path) == [] and not journal.exists()
    assert page.read_text(encoding="utf-8") == ORIGINAL


def test_a_journal_cut_short_itself_is_dropped(tmp_path: Path) -> None:
    page, journal, _ = _journal_left(tmp_path)
    journal.write_bytes(journal.read_bytes()[:50])  # a kill while it was being written
    assert sweep_stale_temps(tmp_path) == [] and not journal.exists()
    assert page.read_text(encoding="utf-8") == ORIGINAL


def test_a_journal_finishes_an_overwrite_cut_short(tmp_path: Path) -> None:
    page, journal, data = _journal_left(tmp_path)
    old, new = data["old"].encode(), data["new"].encode()
    with open(page, "r+b") as handle:  # what a kill in the middle of the overwrite leaves
        handle.write(new[:100])
    assert page.read_bytes() == new[:100] + old[100:] != new
    assert sweep_stale_temps(tmp_path) == [f"{page}: finished a rewrite that was interrupted "
                                           "while writing it"]
    assert page.read_bytes() == new and (tmp_path / "twin.md").read_bytes() == new
    assert not journal.exists() and page.stat().st_nlink == 2


def test_a_journal_is_kept_when_the_page_was_edited_since(tmp_path: Path) -> None:
    page, journal, _ = _journal_left(tmp_path)
    page.write_text("the user rewrote it by hand\n", encoding="utf-8")
    (note,) = sweep_stale_temps(tmp_path)
    assert note.startswith(f"{journal}: kept; a rewrite of {page} was interrupted")
    assert journal.exists() and page.read_text(encoding="utf-8") == "the user rewrote it by hand\n"


def test_only_snippet_runners_own_temp_names_are_swept(tmp_path: Path) -> None:
    (tmp_path / "page.md").write_text("x", encoding="utf-8")
    others = [".page.md.swp", ".page.md.abcdefgh.tmp", ".page.md.abc.snippet-runner.tmp"]
    for name in others:
        (tmp_path / name).write_text("someone else's", encoding="utf-8")
    assert sweep_stale_temps(tmp_path) == []
    assert sorted(os.listdir(tmp_path)) == sorted([*others, "page.md"])


def test_a_page_held_open_elsewhere_is_still_rewritten(tmp_path: Path) -> None:
    """No lease while another program has the page open: the rewrite goes on without one."""
    page = tmp_path / "page.md"
    page.write_text("--it\n", encoding="utf-8")
    with open(page, "rb"):
        assert _fix(page, "--it", "-it")
    assert page.read_text(encoding="utf-8") == "-it\n"
