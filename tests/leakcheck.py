"""What sandboxes could leave on the host, as a comparable snapshot (used by conftest.py and
test_leaks.py): processes, mounts, cgroup directories, temporary and sandbox directories,
network interfaces.

Everything a run creates carries its owner's pid (sandbox ids are ``<pid>-<hex>``, temporary
directories ``snippet-runner-<kind>-<pid>-...``), so a snapshot can look only at the runs we
care about, and other people's test runs on the same machine don't disturb it."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Collection
from dataclasses import dataclass, fields
from pathlib import Path

from snippet_runner.sandbox.cgroups import cgroup_hierarchies


@dataclass(frozen=True)
class HostState:
    """One look at the host, limited to what the given owner pids created."""

    processes: frozenset[str]
    """``pid cmdline`` of the owners' sandbox processes (everything in their namespaces)."""
    mounts: frozenset[str]
    """Mount points of the host's mount namespace (sandboxes must never add any)."""
    cgroups: frozenset[str]
    """The owners' ``snippet-runner-<pid>-*`` directories in every cgroup hierarchy."""
    temp_dirs: frozenset[str]
    """The owners' ``snippet-runner-*-<pid>-*`` entries in the temporary directory."""
    sandbox_dirs: frozenset[str]
    """The owners' entries of ``<cache_dir>/sandboxes``."""
    netdevs: frozenset[str]
    """The host's network interfaces (sandboxes must never add any)."""


def _owned(text: str, owners: Collection[int]) -> bool:
    return any(re.search(rf"(?<![0-9]){pid}-[0-9a-f]", text) for pid in owners)


def _processes(owners: Collection[int]) -> frozenset[str]:
    own_ns = os.readlink("/proc/self/ns/pid")
    cmdlines: dict[str, tuple[str, str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            ns = os.readlink(f"/proc/{entry}/ns/pid")
            cgroup = Path(f"/proc/{entry}/cgroup").read_text()
        except (OSError, UnicodeDecodeError):
            continue
        # A sandbox's processes are in its cgroup (snippet-runner-<owner pid>-<hex>) and in its
        # PID namespace; the launcher names the sandbox directory on its command line.
        cmdlines[entry] = (f"{cmdline.strip()} [{_sandbox_cgroup(cgroup)}]", ns)
    marked = {pid for pid, (cmd, _) in cmdlines.items()
              if "snippet-runner-" in cmd or "/sandboxes/" in cmd}
    marked = {pid for pid in marked if _owned(cmdlines[pid][0], owners)}
    namespaces = {cmdlines[pid][1] for pid in marked} - {own_ns}
    found = {pid for pid, (_, ns) in cmdlines.items() if ns in namespaces} | marked
    return frozenset(f"{pid} {cmdlines[pid][0][:120]}" for pid in found)


def _sandbox_cgroup(cgroup: str) -> str:
    found = re.search(r"snippet-runner-[0-9]+-[0-9a-f]+", cgroup)
    return found.group() if found else ""


def host_state(cache_dir: Path, owners: Collection[int]) -> HostState:
    """Snapshot the host now, as far as the runs of ``owners`` are concerned."""
    with open("/proc/self/mountinfo") as f:
        mountinfo = f.read()
    mounts = frozenset(line.split()[4] for line in mountinfo.splitlines())
    cgroups = frozenset(str(p) for root in cgroup_hierarchies(mountinfo)
                        for p in root.glob("snippet-runner-*") if _owned(p.name, owners))
    temp = frozenset(p.name for p in Path(tempfile.gettempdir()).glob("snippet-runner-*")
                     if _owned(p.name, owners))
    boxes = cache_dir / "sandboxes"
    sandbox_dirs = frozenset(p.name for p in boxes.iterdir() if _owned(p.name, owners)
                             ) if boxes.is_dir() else frozenset()
    return HostState(_processes(owners), mounts, cgroups, temp, sandbox_dirs,
                     frozenset(os.listdir("/sys/class/net")))


def leaks(before: HostState, after: HostState) -> dict[str, list[str]]:
    """What ``after`` has that ``before`` had not, by kind; empty when nothing leaked."""
    found = {}
    for f in fields(HostState):
        new = getattr(after, f.name) - getattr(before, f.name)
        if new:
            found[f.name] = sorted(new)
    return found
