"""What a careless or hostile page can't do (issue #11), each finding a test: read the runner's
environment, change the host, exhaust it, break the sandbox for the next page, or leave
anything behind however the run is interrupted."""

from __future__ import annotations

import os
import random
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from leakcheck import host_state, leaks

from snippet_runner.api import page_from_text, verify_pages
from snippet_runner.config import RunConfig
from snippet_runner.core.run import run_page
from snippet_runner.model import Outcome, Page, Status
from snippet_runner.sandbox import cgroups
from snippet_runner.sandbox.cleanup import sweep
from snippet_runner.sandbox.namespace import NamespaceSandbox, SandboxBackend, SandboxSession

T = 60


@pytest.fixture(scope="module")
def box(sandbox_backend: SandboxBackend) -> Iterator[NamespaceSandbox]:
    sandbox = sandbox_backend.start()
    yield sandbox
    sandbox.close()


@pytest.fixture
def sh(box: NamespaceSandbox) -> Iterator[SandboxSession]:
    yield box.open_session()
    box.reset()


# -- 1. no host variable reaches the sandbox --------------------------------------------------


def _environ_of(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


def test_no_variable_of_the_runner_reaches_any_process_of_the_sandbox(
        sandbox_backend: SandboxBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    canary = f"canary-{secrets.token_hex(8)}"
    monkeypatch.setenv("SECRET_TOKEN", canary)
    sandbox = sandbox_backend.start()  # started with the canary in our environment
    try:
        shell = sandbox.open_session()
        inside = shell.run("docker run -d -p 4000:4000 test:latest sleep 1000 >/dev/null; "
                           "cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep -c canary-",
                           timeout=T)
        processes = set().union(*(cgroups.pids_in(p) for p in cgroups.sandbox_dirs(sandbox.id)))
        names = {Path(f"/proc/{p}/comm").read_text().strip() for p in processes
                 if Path(f"/proc/{p}/comm").exists()}
        leaked = [p for p in processes if canary.encode() in _environ_of(p)]
    finally:
        sandbox.close()
    assert inside.output.strip() == "0"
    # dockerd, containerd, a shim, docker-proxy, the container and the page's shell all looked at.
    assert {"dockerd", "containerd", "docker-proxy", "sleep", "bash"} <= names, names
    assert leaked == []


# -- 2. nothing of the host can be changed or read ---------------------------------------------


@pytest.mark.parametrize("command", [
    "mount -o remount,bind,rw /usr",
    "touch /usr/snippet-runner-was-here",
    "umount /usr",
    "mount -o remount,bind,rw /sbx/etc-template",
    "sysctl -w vm.max_map_count=262144",
    "echo '|/tmp/x' > /proc/sys/kernel/core_pattern",
    "echo 1 > /proc/sys/vm/drop_caches",
    "echo max > /sys/fs/cgroup/pids/pids.max",
    "echo 99999999999 > /sys/fs/cgroup/memory/memory.limit_in_bytes",
    "mknod /tmp/disk b 8 0",
    "date -s 2000-01-01",
])
def test_a_page_cannot_change_the_host(sh: SandboxSession, command: str) -> None:
    r = sh.run(command, timeout=T)
    assert r.exit_code != 0, (command, r.output)
    assert not Path("/usr/snippet-runner-was-here").exists()


def test_the_hosts_secrets_are_not_in_the_sandbox(sh: SandboxSession) -> None:
    r = sh.run("ls /etc/shadow /etc/gshadow /etc/ssh /etc/sudoers 2>&1 | grep -c 'No such';"
               " find / -xdev -name 'ssh_host_*' 2>/dev/null | wc -l; cat /proc/self/uid_map",
               timeout=T)
    missing, host_keys, uid_map = r.output.split("\n", 2)
    assert (missing, host_keys) == ("4", "0")
    assert uid_map.split()[:2] == ["0", "1000000000"]  # root inside is nobody outside


def test_a_privileged_container_is_still_inside(sh: SandboxSession) -> None:
    r = sh.run("docker run --rm --privileged test:latest sh -c "
               "'mkdir -p /m && mount -t tmpfs x /m && echo mounted; "
               "sysctl -w vm.max_map_count=262144'",
               timeout=T)
    assert r.output.startswith("mounted\n") and r.exit_code != 0, r.output


def test_a_refused_privilege_is_explained_at_its_command(box: NamespaceSandbox) -> None:
    page = page_from_text("```console\n$ sysctl -w vm.max_map_count=262144\n"
                          "vm.max_map_count = 262144\n```\n", "docs/es.md")
    [outcome] = _run_on(box, page)
    assert outcome.status is Status.FAILED
    assert "the sandbox refused this command a privilege it never grants" in outcome.diff
    assert 'skip="' in outcome.diff


def _run_on(box: NamespaceSandbox, page: Page) -> list[Outcome]:
    try:
        return run_page(box, page.snippets, page.text, page.fixes, command_timeout=T,
                        page_timeout=300)
    finally:
        box.reset()


# -- 3. limits ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(cache_dir: Path) -> Iterator[NamespaceSandbox]:
    """A sandbox with small limits, so exhausting them is quick."""
    config = RunConfig(cache_dir=cache_dir, pids_limit=512, memory_limit=768 * 2**20,
                       tmpfs_size=64 * 2**20, cpu_limit=1.0)
    sandbox = SandboxBackend(config).start()
    yield sandbox
    sandbox.close()


def test_limits_are_set_on_the_sandbox_and_its_children(small: NamespaceSandbox) -> None:
    [pids] = [p for p in cgroups.sandbox_dirs(small.id) if p.parent.name == "pids"]
    [memory] = [p for p in cgroups.sandbox_dirs(small.id) if p.parent.name == "memory"]
    [cpu] = [p for p in cgroups.sandbox_dirs(small.id) if p.parent.name == "cpu"]
    assert (pids / "pids.max").read_text().strip() == "512"
    assert (pids / "docker" / "pids.max").read_text().strip() == "384"
    assert (pids / "pages" / "pids.max").read_text().strip() == "128"
    assert int((memory / "memory.limit_in_bytes").read_text()) == 768 * 2**20
    assert (cpu / "cpu.cfs_quota_us").read_text().strip() == "100000"


def test_a_container_fork_bomb_stays_in_its_share(small: NamespaceSandbox) -> None:
    shell = small.open_session()
    try:
        shell.run("docker run -d --name bomb test:latest sh -c 'f(){ f|f& }; f; sleep 1000'",
                  timeout=T)
        time.sleep(3)
        t0 = time.monotonic()
        ps = shell.run("docker ps --format '{{.Names}}'", timeout=T)
        answered = time.monotonic() - t0
        removed = shell.run("docker rm -f bomb", timeout=T)
    finally:
        small.reset()
    assert ps.output.strip() == "bomb" and removed.exit_code == 0
    assert answered < 30  # the daemon kept room to answer (seconds, not a benchmark)


def test_a_page_fork_bomb_stays_in_the_pages_share(small: NamespaceSandbox) -> None:
    shell = small.open_session()
    try:
        bomb = shell.run("f(){ f|f& }; f; sleep 2; echo survived", timeout=T)
        [pages] = [p for p in cgroups.sandbox_dirs(small.id, "pages")
                   if p.parent.parent.name == "pids"]
        full = int((pages / "pids.current").read_text())
        daemon = small.client.ping()  # dockerd, outside the pages share, still answers
    finally:
        small.reset()  # kills what the page left in its share
    assert not bomb.timed_out and full >= 120 and daemon
    after = small.open_session().run("docker run --rm test:latest echo fine", timeout=T)
    small.reset()
    assert after.output == "fine\n"


def test_a_memory_hog_is_killed_inside_the_sandbox(small: NamespaceSandbox) -> None:
    shell = small.open_session()
    try:
        hog = shell.run('head -c 2G /dev/zero | tail; echo "${PIPESTATUS[1]}"', timeout=T)
        docker = shell.run("docker run --rm test:latest echo fine", timeout=T)
    finally:
        small.reset()
    assert hog.output.strip().splitlines()[-1] == "137"  # tail was OOM-killed (SIGKILL)
    assert docker.output == "fine\n"


def test_every_tmpfs_has_a_size(small: NamespaceSandbox) -> None:
    shell = small.open_session()
    try:
        full = shell.run("dd if=/dev/zero of=/tmp/big bs=1M count=100 2>&1 | tail -1; rm -f "
                         "/tmp/big; grep -c ' - tmpfs ' /proc/self/mountinfo; grep ' - tmpfs ' "
                         "/proc/self/mountinfo | grep -vc size=", timeout=T)
    finally:
        small.reset()
    copied, tmpfs_count, unsized = full.output.strip().splitlines()
    assert copied.startswith(f"{64 * 2**20} bytes")  # stopped at the size: ENOSPC
    assert int(tmpfs_count) >= 14 and unsized == "0", full.output


# -- 5. a page that breaks its sandbox is blamed, the next page runs clean ----------------------


def test_a_page_that_breaks_its_sandbox_is_reported_there(cache_dir: Path) -> None:
    breaker = page_from_text("```console\n$ kill -9 -1\n```\n", "docs/breaker.md")
    mounter = page_from_text("```console\n$ mkdir -p /mnt/ramdisk && mount -t tmpfs -o size=1m "
                             "none /mnt/ramdisk && cd /mnt/ramdisk\n```\n", "docs/mounter.md")
    innocent = page_from_text("```console\n$ docker run --rm test:latest echo hi\nhi\n"
                              "$ ls /mnt\n```\n", "docs/innocent.md")
    reports = verify_pages([mounter, innocent, breaker, innocent],
                           RunConfig(cache_dir=cache_dir, jobs=1))
    statuses = [[o.status for o in r.outcomes] for r in reports]
    # `kill -9 -1` itself may pass or be killed with the rest (that is the page's own affair);
    # what it left is reported at this page, and the pages around it pass.
    assert statuses[:2] == [[Status.PASSED], [Status.PASSED] * 2]
    assert statuses[2][-1] is Status.ERROR and statuses[3] == [Status.PASSED] * 2, \
        [[o.diff for o in r.outcomes] for r in reports]
    blamed = reports[2].outcomes[-1]
    assert blamed.page_level and "this page left the sandbox unusable" in blamed.diff


# -- 6. interrupts ------------------------------------------------------------------------------

PAGE = """\
```console
$ docker run -d -p 4000:4000 test:latest sleep 1000 >/dev/null && echo started
started
$ sleep {duration}
```
"""


def _unique_duration(base: float) -> str:
    """A sleep only this test runs (other processes on the machine may sleep too)."""
    return f"{base + random.random():.6f}"


def _check_proc(tmp_path: Path, cache_dir: Path, duration: str, *,
                ignore_int: bool = False) -> subprocess.Popen[str]:
    page = tmp_path / "p.md"
    page.write_text(PAGE.format(duration=duration), encoding="utf-8")
    exe = Path(sys.executable).with_name("snippet-runner")
    argv = [str(exe), "check", "--cache-dir", str(cache_dir), "--jobs", "1", str(page)]
    if ignore_int:  # as a shell starts a background job: SIGINT ignored from the start
        argv = ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *argv]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _wait_for_sleep(proc: subprocess.Popen[str], duration: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if Path(f"/proc/{entry}/cmdline").read_bytes() == \
                            f"sleep\0{duration}\0".encode():
                        return
                except OSError:
                    continue
        time.sleep(0.05)
    raise AssertionError("the page's sleep never started")


@pytest.mark.parametrize(("first", "second"), [
    (signal.SIGINT, signal.SIGINT), (signal.SIGINT, signal.SIGTERM),
    (signal.SIGTERM, signal.SIGINT), (signal.SIGTERM, signal.SIGTERM)])
def test_any_two_signals_leave_nothing(tmp_path: Path, cache_dir: Path, first: int,
                                       second: int) -> None:
    duration = _unique_duration(300)
    proc = _check_proc(tmp_path, cache_dir, duration)
    before = host_state(cache_dir, {proc.pid})
    _wait_for_sleep(proc, duration)
    os.killpg(proc.pid, first)
    time.sleep(random.uniform(0.005, 0.08))  # the second Ctrl-C lands during the teardown
    os.killpg(proc.pid, second)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == (130 if first == signal.SIGINT else 143), stderr
    assert "Traceback" not in stderr, stderr
    assert not leaks(before, host_state(cache_dir, {proc.pid}))


def test_an_ignored_sigint_is_respected(tmp_path: Path, cache_dir: Path) -> None:
    duration = _unique_duration(3)
    proc = _check_proc(tmp_path, cache_dir, duration, ignore_int=True)
    before = host_state(cache_dir, {proc.pid})
    _wait_for_sleep(proc, duration)
    os.killpg(proc.pid, signal.SIGINT)  # ignored, as the shell asked: the run goes on
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stdout + stderr
    assert "2 passed" in stdout
    assert not leaks(before, host_state(cache_dir, {proc.pid}))


# -- 7. the sweep reaps only what is provably dead ----------------------------------------------

WAITER = r"""
import sys, time
from pathlib import Path
from snippet_runner.config import RunConfig
from snippet_runner.sandbox import get_backend
box = get_backend(RunConfig(cache_dir=Path(sys.argv[1]))).start()
print(box.id, flush=True)
sys.stdin.readline()
r = box.open_session().run("docker run --rm test:latest echo alive", timeout=60)
print(r.output.strip(), flush=True)
box.close()
"""


def test_a_sweep_never_reaps_a_live_run_of_another_pid_namespace(cache_dir: Path) -> None:
    """Two CI jobs in privileged containers share the cgroup tree (and here a cache) but not
    their PID namespaces: a pid says nothing about the other, the owner lock does."""
    other = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", sys.executable,
                              "-c", WAITER, str(cache_dir)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert other.stdout is not None and other.stdin is not None
    sandbox_id = other.stdout.readline().strip()
    assert sandbox_id, other.communicate()
    # In its own namespace its pid is small (1 or 2): here, that number is someone else.
    assert sandbox_id not in sweep(cache_dir)
    other.stdin.write("\n")
    other.stdin.flush()
    out, err = other.communicate(timeout=120)
    assert out.strip() == "alive", err
