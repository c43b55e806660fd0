"""Nothing is left behind: after normal runs, exceptions, SIGINT/SIGTERM, and after a SIGKILLed
run followed by one more run. Each run is a child process, so its pid names what it created."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from leakcheck import host_state, leaks

pytestmark = pytest.mark.sandbox

RUN = r"""
import sys, time
from pathlib import Path
from snippet_runner.api import RunConfig
from snippet_runner.sandbox import get_backend

mode, cache = sys.argv[1], Path(sys.argv[2])
backend = get_backend(RunConfig(cache_dir=cache))
box = backend.start()
session = box.open_session()
r = session.run("docker run -d -p 4000:4000 test:latest sleep 1000 >/dev/null"
                " && docker run --rm test:latest echo hi", timeout=60)
assert r.output == "hi\n", r
session.run("sleep 1000 &", timeout=60)
if mode == "normal":
    box.close()
elif mode == "exception":
    raise RuntimeError("a bug in the caller; atexit still tears down")
else:
    print("READY", flush=True)
    time.sleep(1000)
"""


def _start(mode: str, cache_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", RUN, mode, str(cache_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line == "READY\n", line or proc.communicate()[1]


@pytest.mark.parametrize("mode", ["normal", "exception"])
def test_a_run_leaves_nothing(mode: str, cache_dir: Path) -> None:
    proc = _start(mode, cache_dir)
    before = host_state(cache_dir, {proc.pid})
    _, err = proc.communicate(timeout=300)
    assert (proc.returncode == 0) == (mode == "normal"), err
    assert not leaks(before, host_state(cache_dir, {proc.pid}))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_leaves_nothing(signum: signal.Signals, cache_dir: Path) -> None:
    proc = _start("wait", cache_dir)
    before = host_state(cache_dir, {proc.pid})
    _wait_ready(proc)
    proc.send_signal(signum)
    proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert not leaks(before, host_state(cache_dir, {proc.pid}))


@pytest.mark.parametrize("lose_init_record", [False, True])
def test_sigkilled_run_is_swept_by_the_next_run(lose_init_record: bool, cache_dir: Path) -> None:
    killed = _start("wait", cache_dir)
    before = host_state(cache_dir, {killed.pid})
    _wait_ready(killed)
    killed.kill()
    killed.communicate(timeout=60)
    if lose_init_record:  # as if killed between starting the namespace and noting its pid
        records = list((cache_dir / "sandboxes").glob(f"{killed.pid}-*/init.json"))
        assert records
        for record in records:
            record.unlink()
    left = leaks(before, host_state(cache_dir, {killed.pid}))
    # The check sees what a SIGKILLed run leaves: its daemon, containers, cgroups, directory.
    assert {"processes", "cgroups", "sandbox_dirs"} <= set(left), left
    assert any(" dockerd " in p for p in left["processes"]), left["processes"]

    nxt = _start("normal", cache_dir)
    _, err = nxt.communicate(timeout=300)
    assert nxt.returncode == 0, err
    assert not leaks(before, host_state(cache_dir, {killed.pid, nxt.pid}))
