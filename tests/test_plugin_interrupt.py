"""Ctrl-C and SIGTERM during ``mkdocs build``: the build says what it stopped and cleaned up,
as the CLI does, and leaves no process or temporary directory behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

MKDOCS = Path(sys.executable).parent / "mkdocs"


def _sleeping(duration: str) -> list[int]:
    wanted = f"sleep\0{duration}\0".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "cmdline").read_bytes() == wanted:
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


@pytest.mark.parametrize(("signum", "status", "word"),
                         # MkDocs answers KeyboardInterrupt with "Aborted!" and status 1; after
                         # SIGTERM the build ends by that signal (a shell reports 143).
                         [(signal.SIGINT, 1, "interrupted (Ctrl-C)"),
                          (signal.SIGTERM, -signal.SIGTERM, "terminated (SIGTERM)")])
def test_a_signal_during_the_build_says_what_it_cleaned_up(tmp_path: Path, signum: int,
                                                           status: int, word: str) -> None:
    duration = f"{200 + os.getpid() % 1000 / 1000:.3f}"  # unique, to find our own sleep
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(
        f"```console\n$ trap '' HUP; sleep {duration}\n```\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: x\nplugins:\n  - snippet-runner:\n      backend: local\n", encoding="utf-8")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env.pop("SNIPPET_RUNNER", None)
    build = subprocess.Popen([str(MKDOCS), "build"], cwd=tmp_path, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
    while not _sleeping(duration):  # the command runs
        assert build.poll() is None, build.communicate()
        time.sleep(0.05)
    os.killpg(build.pid, signum)  # as a terminal's Ctrl-C or a cancelled CI job does
    _, stderr = build.communicate(timeout=120)
    assert build.returncode == status, stderr
    assert (f"ERROR   -  snippet-runner: {word}: stopped the commands running on 1 page(s) "
            "(docs/index.md); 1 sandbox(es) closed, their temporary directories were "
            "removed.") in stderr, stderr
    assert "Traceback" not in stderr
    assert _sleeping(duration) == []
    assert not list(Path(tempfile.gettempdir()).glob(f"snippet-runner-local-{build.pid}-*"))
