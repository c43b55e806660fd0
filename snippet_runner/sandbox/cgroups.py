"""The sandbox's own cgroup: limits for everything in it, and a sure way to kill all of it.

Layout, in every mounted hierarchy (each cgroup v1 controller, ``name=systemd``, the v2 tree):

    snippet-runner-<id>/          pids.max, memory limit and CPU quota of the whole sandbox;
                                  the sandbox's init, dockerd and containerd live here
    snippet-runner-<id>/docker/   containers (dockerd's default ``/docker`` cgroup parent, as
                                  the sandbox's cgroup namespace sees it): 3/4 of the pids and
                                  memory, so a fork bomb in a container leaves room for dockerd
    snippet-runner-<id>/pages/    page shells: 1/4 of the pids, 1/2 of the memory

The sandbox runs in a cgroup namespace rooted at ``snippet-runner-<id>``, so a page sees only
that subtree. In a user namespace the directories (and the files that move or create tasks) are
handed to the sandbox's root, so runc can make a cgroup per container and apply ``docker run -m``;
the limit files stay the host's root's, so nothing inside can raise them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import SandboxError
from .procfs import mounts

CGROUP_PREFIX = "snippet-runner-"
"""Every sandbox's cgroup is ``/snippet-runner-<sandbox id>`` in every hierarchy."""
SUBGROUPS = ("docker", "pages")
"""The sandbox's children: containers, page shells."""
_DELEGATED_FILES = ("cgroup.procs", "tasks", "cgroup.clone_children", "cgroup.subtree_control",
                    "cgroup.threads")
"""What the sandbox's root needs to own to manage its subtree (v1 and v2 names)."""
_CPU_PERIOD = 100_000
"""Microseconds of the CPU quota's period."""


@dataclass(frozen=True)
class Limits:
    """What one sandbox may use at most."""

    pids: int
    """Processes and threads of the whole sandbox (``pids.max``)."""
    memory: int
    """Bytes of memory, tmpfs pages included (``memory.limit_in_bytes`` / ``memory.max``)."""
    cpus: float
    """CPUs' worth of time (a CFS quota)."""


def hierarchies() -> list[Path]:
    """Where the cgroup hierarchies are mounted, read from this process's mountinfo."""
    with open("/proc/self/mountinfo") as f:
        return cgroup_hierarchies(f.read())


def cgroup_hierarchies(mountinfo: str) -> list[Path]:
    """Where the cgroup hierarchies are mounted: one per v1 controller (cgroup v1), the v1 ones
    plus ``unified`` (hybrid), or just ``/sys/fs/cgroup`` (v2). Read from mountinfo rather
    than guessed from the directory tree, so every layout is handled by the same code."""
    return [Path(point) for point, fstype in mounts(mountinfo)
            if fstype in ("cgroup", "cgroup2")]


def cgroup_dirs(pattern: str) -> list[Path]:
    """The directories matching ``pattern`` at the top of every mounted cgroup hierarchy."""
    return [path for root in hierarchies() for path in root.glob(pattern) if path.is_dir()]


def sandbox_dirs(sandbox_id: str, sub: str = "") -> list[Path]:
    """The sandbox's cgroup (or its ``sub`` child) in every hierarchy, where it exists."""
    name = CGROUP_PREFIX + sandbox_id + (f"/{sub}" if sub else "")
    return [root / name for root in hierarchies() if (root / name).is_dir()]


def create(sandbox_id: str, limits: Limits, *, owner: int | None) -> list[Path]:
    """Make the sandbox's cgroups with their limits; ``owner`` (a host uid: the sandbox's root)
    is handed the subtree. Returns the top directories (one per hierarchy)."""
    tops: list[Path] = []
    try:
        for root in hierarchies():
            top = root / (CGROUP_PREFIX + sandbox_id)
            for sub in ("", *SUBGROUPS):
                folder = top / sub if sub else top
                folder.mkdir(exist_ok=sub != "")
                _copy_cpuset(root, folder)
                _limit(folder, _share(limits, sub))
                if owner is not None:
                    _delegate(folder, owner)
            tops.append(top)
    except OSError as err:
        for top in tops:
            with contextlib.suppress(SandboxError):
                remove_cgroup(top, timeout=1.0)
        raise SandboxError(f"could not create the sandbox's cgroup: {err}") from err
    return tops


def _share(limits: Limits, sub: str) -> Limits:
    """What a child gets of the sandbox's limits (the CPU quota is the sandbox's as a whole)."""
    if sub == "docker":
        return Limits(limits.pids * 3 // 4, limits.memory * 3 // 4, 0)
    if sub == "pages":
        return Limits(max(limits.pids // 4, 64), limits.memory // 2, 0)
    return limits


def _write(path: Path, value: str) -> None:
    """Write a cgroup file that this hierarchy has (controllers differ per hierarchy)."""
    if path.exists():
        path.write_text(value)


def _copy_cpuset(root: Path, folder: Path) -> None:
    """A new v1 cpuset cgroup starts with no CPUs and no memory nodes: no task could join."""
    for name in ("cpuset.cpus", "cpuset.mems"):
        if (folder / name).exists() and not (folder / name).read_text().strip():
            (folder / name).write_text((folder.parent / name).read_text().strip() or
                                       (root / name).read_text().strip())


def _limit(folder: Path, limits: Limits) -> None:
    _write(folder / "pids.max", str(limits.pids))
    _write(folder / "memory.limit_in_bytes", str(limits.memory))  # v1
    _write(folder / "memory.max", str(limits.memory))             # v2
    if limits.cpus > 0:
        quota = int(limits.cpus * _CPU_PERIOD)
        if (folder / "cpu.cfs_quota_us").exists():                # v1
            _write(folder / "cpu.cfs_period_us", str(_CPU_PERIOD))
            _write(folder / "cpu.cfs_quota_us", str(quota))
        _write(folder / "cpu.max", f"{quota} {_CPU_PERIOD}")      # v2


def _delegate(folder: Path, owner: int) -> None:
    os.chown(folder, owner, owner)
    for name in _DELEGATED_FILES:
        if (folder / name).exists():
            os.chown(folder / name, owner, owner)


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


def remove(sandbox_id: str) -> None:
    """rmdir the sandbox's cgroup in every hierarchy (its processes must be gone)."""
    for path in sandbox_dirs(sandbox_id):
        remove_cgroup(path)


def pids_in(path: Path) -> set[int]:
    """Every pid in the cgroup ``path`` and below it, as this pid namespace numbers them (a
    process this namespace can't see reads as 0 and is left out)."""
    found: set[int] = set()
    for folder, _, _ in os.walk(path):
        with contextlib.suppress(OSError):
            found.update(int(p) for p in Path(folder, "cgroup.procs").read_text().split())
    found.discard(0)
    return found


@contextlib.contextmanager
def _frozen(paths: list[Path]) -> Iterator[None]:
    """Freeze the cgroups (v1 freezer, v2 ``cgroup.freeze``) so nothing forks meanwhile."""
    for path in paths:
        for name, value in (("freezer.state", "FROZEN"), ("cgroup.freeze", "1")):
            with contextlib.suppress(OSError):
                _write(path / name, value)
    try:
        yield
    finally:
        for path in paths:
            for name, value in (("freezer.state", "THAWED"), ("cgroup.freeze", "0")):
                with contextlib.suppress(OSError):
                    _write(path / name, value)


def kill(sandbox_id: str, sub: str = "", timeout: float = 10.0) -> None:
    """SIGKILL every process in the sandbox's cgroup (or its ``sub`` child) and wait until it
    is empty. Right in any PID namespace, unlike a recorded pid: a process is in its cgroup
    until it is gone."""
    paths = sandbox_dirs(sandbox_id, sub)
    if not paths:
        return
    for path in paths:  # cgroup v2 (Linux 5.14+) kills a whole subtree in one write
        with contextlib.suppress(OSError):
            _write(path / "cgroup.kill", "1")
    deadline = time.monotonic() + timeout
    while (pids := set().union(*(pids_in(p) for p in paths))) and time.monotonic() < deadline:
        with _frozen(paths):  # the kill is queued while frozen; the thaw delivers it
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)


def join_paths(sandbox_id: str, sub: str = "") -> list[str]:
    """The ``cgroup.procs`` files a process writes its pid to, to enter the sandbox's cgroup (or
    its ``sub`` child) in every hierarchy."""
    return [str(path / "cgroup.procs") for path in sandbox_dirs(sandbox_id, sub)]
