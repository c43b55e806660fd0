"""Processes and cgroups as the kernel shows them: /proc and /proc/self/mountinfo.

Every pid the sandbox layer keeps comes with the kernel's start time of that process, so that a
recycled pid is never mistaken for ours.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import SandboxError

CGROUP_PREFIX = "snippet-runner-"
"""Every sandbox's cgroup is ``/snippet-runner-<sandbox id>`` in every hierarchy (dockerd's
``--cgroup-parent``)."""


def proc_stat(pid: int | str) -> tuple[bytes, list[bytes]] | None:
    """``/proc/PID/stat`` as (command name, the fields after it), None once the process is
    gone. The fields count from 0: state [0], ppid [1], pgrp [2], session [3], start time [19].
    The name is cut out first because it may contain spaces and parentheses."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    head, _, tail = stat.rpartition(b")")
    fields = tail.split()
    return (head.partition(b"(")[2], fields) if len(fields) > 19 else None


def processes() -> Iterator[tuple[int, bytes, list[bytes]]]:
    """(pid, command name, `proc_stat` fields) of every process this one can see."""
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := proc_stat(entry)) is not None:
            yield int(entry), *stat


def start_time(pid: int) -> int | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), None if it doesn't exist;
    stored with every pid so that a recycled pid is never mistaken for ours."""
    stat = proc_stat(pid)
    return int(stat[1][19]) if stat is not None else None


def alive(pid: int, start: int | None) -> bool:
    return start is not None and start_time(pid) == start


def kill_and_wait(pid: int, start: int | None, timeout: float = 10.0) -> None:
    """SIGKILL ``pid`` if it is still the process we started, and wait until it is gone."""
    if not alive(pid, start):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while alive(pid, start) and time.monotonic() < deadline:
        time.sleep(0.005)


def kill_processes_naming(*needles: str) -> None:
    """SIGKILL every process whose command line contains one of ``needles``."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if any(needle in cmdline for needle in needles):
            kill_and_wait(int(entry), start_time(int(entry)))


def mounts(mountinfo: str) -> Iterator[tuple[str, str]]:
    """(mount point, file system type) of each line of a ``/proc/PID/mountinfo`` text."""
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields = left.split()
        if len(fields) > 4 and right:
            yield fields[4].replace("\\040", " "), right.split()[0]


def cgroup_hierarchies(mountinfo: str) -> list[Path]:
    """Where the cgroup hierarchies are mounted: one per v1 controller (cgroup v1), the v1 ones
    plus ``unified`` (hybrid), or just ``/sys/fs/cgroup`` (v2). Read from mountinfo rather
    than guessed from the directory tree, so every layout is handled by the same code."""
    return [Path(point) for point, fstype in mounts(mountinfo)
            if fstype in ("cgroup", "cgroup2")]


def cgroup_dirs(pattern: str) -> list[Path]:
    """The directories matching ``pattern`` at the top of every mounted cgroup hierarchy
    (dockerd's ``--cgroup-parent`` is absolute, so its cgroups are there)."""
    with open("/proc/self/mountinfo") as f:
        hierarchies = cgroup_hierarchies(f.read())
    return [path for root in hierarchies for path in root.glob(pattern) if path.is_dir()]


def remove_cgroup(path: Path, timeout: float = 5.0) -> None:
    """rmdir a cgroup bottom-up; retries while dying tasks still hold it (EBUSY)."""
    deadline = time.monotonic() + timeout
    for sub in sorted((p for p, _, _ in os.walk(path)), key=len, reverse=True):
        while True:
            try:
                os.rmdir(sub)
                break
            except FileNotFoundError:
                break
            except OSError as exc:
                if exc.errno not in (errno.EBUSY, errno.ENOTEMPTY) or time.monotonic() > deadline:
                    raise SandboxError(f"could not remove cgroup {sub}: {exc}") from exc
                time.sleep(0.02)


def remove_cgroups(sandbox_id: str) -> None:
    for path in cgroup_dirs(CGROUP_PREFIX + sandbox_id):
        remove_cgroup(path)


def fs_type(path: Path) -> str:
    """File system type of the mount holding ``path``."""
    target = str(path.resolve())
    best, fstype = "", "unknown"
    with open("/proc/self/mountinfo") as f:
        for point, kind in mounts(f.read()):
            inside = target == point or target.startswith(point.rstrip("/") + "/")
            if inside and len(point) >= len(best):
                best, fstype = point, kind
    return fstype

