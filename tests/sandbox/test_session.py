"""The page shell on its own (host bash, no sandbox): framing, terminal, timeouts, cleanup."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from snippet_runner.errors import SandboxError
from snippet_runner.sandbox.session import PtySession, normalise_output


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[PtySession]:
    s = PtySession(env={"HOME": str(tmp_path)})
    yield s
    s.close()


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"a\r\nb\r\n", "a\nb\n"),
        (b"\x1b[?2004hroot@x:/# exit\r\n\x1b[?2004l\rexit\r\n", "root@x:/# exit\nexit\n"),
        (b"\x1b[1;32mgreen\x1b[0m\n", "green\n"),
        (b"\x1b]0;title\x07text\n", "text\n"),
        (b"10%\r50%\r100%\n", "100%\n"),
        (b"tab\there\x07\n", "tab\there\n"),
        ("한국어\r\n".encode(), "한국어\n"),
        (b"broken \xff byte", "broken \ufffd byte"),
    ],
)
def test_normalise_output(raw: bytes, text: str) -> None:
    assert normalise_output(raw) == text


def test_starts_in_home(shell: PtySession, tmp_path: Path) -> None:
    assert shell.run("pwd", timeout=10).output == f"{tmp_path}\n"


def test_commands_need_no_quoting_and_any_length(shell: PtySession) -> None:
    long_word = "x" * 10000  # far beyond a terminal line's 4095 characters
    r = shell.run(f"echo '{long_word}' | wc -c; printf '%s\\n' \"a'b\" 'c\"d' '$HOME'",
                  timeout=10)
    assert r.output == "10001\na'b\nc\"d\n$HOME\n"


def test_multi_line_commands_and_heredocs(shell: PtySession) -> None:
    r = shell.run("cat <<EOF\nline 1\nline 2\nEOF\necho \\\n  joined", timeout=10)
    assert r.output == "line 1\nline 2\njoined\n"


def test_snippet_fds_cannot_break_the_framing(shell: PtySession) -> None:
    shell.run("exec 3>/dev/null 4>/dev/null 5>/dev/null", timeout=10)
    assert shell.run("echo still framed", timeout=10).output == "still framed\n"


def test_background_jobs_survive_and_their_done_notice_is_hidden(shell: PtySession) -> None:
    assert shell.run("sleep 0.2 & sleep 0.6; echo after", timeout=10).output == "after\n"
    shell.run("sleep 30 &", timeout=10)
    assert shell.run("jobs | wc -l", timeout=10).output == "1\n"


def test_signal_notice_looks_like_an_interactive_shell(shell: PtySession) -> None:
    r = shell.run("sh -c 'kill -TERM $$'", timeout=10)
    assert (r.output, r.exit_code) == ("Terminated\n", 143)


def test_timeout_in_a_builtin_loop_replaces_the_shell(shell: PtySession) -> None:
    shell.run("X=lost", timeout=10)
    r = shell.run("while :; do :; done", timeout=1)
    assert r.timed_out and r.exit_code is None
    assert shell.run('echo "[$X]"', timeout=10).output == "[]\n"


def test_timeout_kills_the_whole_pipeline(shell: PtySession) -> None:
    r = shell.run("sleep 1000 | sleep 1001", timeout=1)
    assert r.timed_out
    assert shell.run("pgrep -x -f 'sleep 100[01]' | wc -l", timeout=10).output == "0\n"


def test_timeout_calls_the_hook_with_the_start_time() -> None:
    calls: list[float] = []
    s = PtySession(on_timeout=calls.append)
    try:
        assert s.run("sleep 1000", timeout=1).timed_out
    finally:
        s.close()
    assert len(calls) == 1 and calls[0] > 0


def test_stdin_is_typed_after_the_prompt(shell: PtySession) -> None:
    r = shell.run('read -r -p "first? " a; read -r -p "second? " b; echo "$a/$b"', timeout=10,
                  stdin="1\n2\n")
    assert r.output.endswith("1/2\n") and r.exit_code == 0


def test_stdin_for_a_silent_reader(shell: PtySession) -> None:
    r = shell.run("head -n 1", timeout=10, stdin="quiet")
    assert r.output == "quiet\nquiet\n"  # the terminal echoes what was typed, then head prints it


def test_terminal_modes_come_back_after_a_raw_mode_command(shell: PtySession) -> None:
    shell.run("stty raw -echo -onlcr", timeout=10, stdin="")
    assert shell.run("printf 'a\\nb\\n'", timeout=10).output == "a\nb\n"


def test_close_ends_every_process_of_the_session(tmp_path: Path) -> None:
    s = PtySession(env={"HOME": str(tmp_path)})
    pid = int(s.run("sleep 1000 & echo $!", timeout=10).output)
    s.close()
    assert not Path(f"/proc/{pid}").exists() or _zombie(pid)
    with pytest.raises(SandboxError):
        s.run("true", timeout=10)


def test_a_prefix_that_fails_is_a_sandbox_error() -> None:
    with pytest.raises(SandboxError, match="did not start"):
        PtySession(["false"], start_timeout=5)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_no_descriptor_leaks(tmp_path: Path) -> None:
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        s = PtySession(env={"HOME": str(tmp_path)})
        s.run("true", timeout=10)
        s.close()
    assert len(os.listdir("/proc/self/fd")) == before


def test_stdin_larger_than_the_terminal_buffer_cannot_hang_the_timeout(shell: PtySession) -> None:
    r = shell.run("printf 'go> '; sleep 1000", timeout=2, stdin="y" * 200_000)
    assert r.timed_out
    assert shell.run("echo fine", timeout=10).output == "fine\n"
    # what was typed and never read is gone: the next reader waits for its own text
    r = shell.run('read -r line; echo "[$line]"', timeout=10, stdin="fresh")
    assert r.output == "fresh\n[fresh]\n"


def test_big_output_is_read_whole(shell: PtySession) -> None:
    r = shell.run("seq 1 200000", timeout=30)
    assert r.output.splitlines()[-1] == "200000" and len(r.output.splitlines()) == 200000
