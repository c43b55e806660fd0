"""Processes and mounts as the kernel shows them: /proc and /proc/self/mountinfo.

Every pid the sandbox layer keeps comes with the kernel's start time of that process, so that a
recycled pid is never mistaken for ours.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path


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

