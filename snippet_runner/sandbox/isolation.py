"""How a sandbox is isolated on this machine, decided once per run.

* ``userns`` — the runner is root: the sandbox runs in a user namespace of its own in which root
  is the host's unprivileged uid range `MAP_BASE`… (never handed out by /etc/subuid), so the
  read-only binds of the host's /usr are locked, kernel-wide settings and the host's cgroup tree
  can't be written, and the sandbox has its own cgroup with limits.
* ``rootless`` — the runner is an ordinary user: the same, one level down. The user's own
  subordinate ids (/etc/subuid, /etc/subgid; Debian's ``uidmap`` maps them) make a first user
  namespace; the sandbox's is inside it. Without root there is no cgroup to limit it by: the
  number of processes is bounded (RLIMIT_NPROC), memory and CPU are not.
* ``namespaces`` — the fallback for a root runner where no user namespace can be made (disabled
  by ``user.max_user_namespaces``, a seccomp profile, a kernel before 5.11): the same namespaces
  and limits as real root. That keeps tutorial commands from touching the host by accident, but
  a page can remount the read-only binds and write kernel settings; the run says so once.

`detect` tries what the sandbox needs — a user namespace, mounts and an overlay with user
xattrs inside it — in one short process, instead of guessing from version numbers.
"""

from __future__ import annotations

import functools
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..config import SANDBOX_PATH
from ..errors import SandboxError

MAP_BASE = 1_000_000_000
"""First host uid/gid of a root runner's sandboxes: root inside is this uid outside."""
MAP_COUNT = 65536
"""How many ids a sandbox's user namespace maps (uid 0 … 65535 inside)."""

_PROBE = r"""
set -e
d=$(mktemp -d)
trap 'umount -R "$d" 2>/dev/null; rmdir "$d"' EXIT
mount -t tmpfs -o size=1m probe "$d"
mkdir "$d/l" "$d/u" "$d/w" "$d/m"
mount -t overlay overlay -o "userxattr,lowerdir=$d/l,upperdir=$d/u,workdir=$d/w" "$d/m"
touch "$d/m/x"
"""
"""What the sandbox does in its user namespace that older or locked-down systems refuse."""


@dataclass(frozen=True)
class Isolation:
    """How sandboxes are made on this machine."""

    mode: str
    """``userns``, ``rootless`` or ``namespaces`` (see the module's docstring)."""
    owner: int
    """The uid root inside is seen as from where the sandbox's root is built (the host for
    ``userns``; for ``rootless`` the user's own namespace, where the user is 0)."""
    uid_map: str
    """The sandbox's user-namespace map (empty for ``namespaces``)."""
    subordinate: tuple[int, int] | None = None
    """``rootless``: the first subordinate uid and gid of the user's range."""
    warning: str = ""
    """Said once per run when the isolation is weaker than the default."""

    @property
    def host_owner(self) -> int:
        """The host uid the sandbox's files (its /etc, its data root) belong to: root inside.
        A non-root runner's own files already are its namespace's root's."""
        return os.getuid() if self.mode == "rootless" else self.owner

    @property
    def limited(self) -> bool:
        """Whether the sandbox gets a cgroup with limits (only root can make one)."""
        return self.mode != "rootless"


@functools.cache
def detect(wanted: str = "auto") -> Isolation:
    """The isolation to use (``wanted``: ``auto``, ``user-namespace`` or ``namespaces``)."""
    if os.geteuid() != 0:
        if wanted == "namespaces":
            raise SandboxError("isolation 'namespaces' needs root; without root the sandbox "
                               "runs in a user namespace (isolation 'auto').")
        return _rootless()
    if wanted == "namespaces":
        return Isolation("namespaces", 0, "", warning=_WEAKER.format(why="it was asked for"))
    failure = _probe(["unshare", "--user", "--map-root-user", "--mount", "--propagation",
                      "private", "sh", "-c", _PROBE])
    if failure is None:
        return Isolation("userns", MAP_BASE, f"0 {MAP_BASE} {MAP_COUNT}")
    if wanted == "user-namespace":
        raise SandboxError(f"a user namespace for the sandbox can't be made here ({failure}); "
                           "set isolation to 'auto' to fall back to plain namespaces.")
    return Isolation("namespaces", 0, "",
                     warning=_WEAKER.format(why=f"no user namespace can be made here: {failure}"))


_WEAKER = (
    "the sandbox runs as real root in its own namespaces, without a user namespace ({why}). "
    "That keeps tutorial commands from touching this machine by accident, but a page could "
    "remount the read-only binds of /usr and write kernel settings; verify only pages you "
    "would run yourself."
)


def _probe(argv: list[str]) -> str | None:
    """None when ``argv`` succeeds, else what it said (one line)."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False,
                              env={"PATH": SANDBOX_PATH})
    except (OSError, subprocess.SubprocessError) as err:
        return str(err)
    if done.returncode == 0:
        return None
    said = (done.stderr or done.stdout).strip().splitlines()
    return said[-1] if said else f"exit status {done.returncode}"


def _rootless() -> Isolation:
    """A non-root runner's isolation, or one sentence naming what is missing."""
    user = pwd.getpwuid(os.getuid()).pw_name
    missing = [tool for tool in ("newuidmap", "newgidmap", "unshare", "nsenter", "setpriv")
               if shutil.which(tool, path=SANDBOX_PATH) is None]
    if missing:
        raise SandboxError(
            f"without root the sandbox needs {', '.join(missing)} (Debian's uidmap and "
            "util-linux): install them as root with 'apt-get install uidmap util-linux', or "
            "choose the 'local' backend for snippets without docker.")
    uid = _subordinate(Path("/etc/subuid"), user, os.getuid())
    gid = _subordinate(Path("/etc/subgid"), user, os.getgid())
    if uid is None or gid is None:
        raise SandboxError(
            f"without root the sandbox needs {MAP_COUNT} subordinate ids for {user} in "
            "/etc/subuid and /etc/subgid, and there are none: as root, run 'usermod "
            f"--add-subuids 100000-{100000 + MAP_COUNT - 1} --add-subgids "
            f"100000-{100000 + MAP_COUNT - 1} {user}' (any free range will do), or choose the "
            "'local' backend for snippets without docker.")
    failure = _probe(["unshare", "--user", "--map-root-user", "--mount", "--propagation",
                      "private", "sh", "-c", _PROBE])
    if failure is not None:
        raise SandboxError(f"without root the sandbox needs unprivileged user namespaces, and "
                           f"this system refuses them ({failure}): enable them (sysctl "
                           "user.max_user_namespaces), or run as root.")
    return Isolation("rootless", 0, f"0 0 1\n1 1 {MAP_COUNT}", subordinate=(uid, gid),
                     warning=("the sandbox runs without root: it is contained like a root "
                              "runner's, but only the number of its processes is limited, not "
                              "its memory or CPU (that needs a cgroup, which needs root)."))


def _subordinate(table: Path, user: str, own_id: int) -> int | None:
    """The first id of ``user``'s range of at least `MAP_COUNT` ids in /etc/subuid-style
    ``table`` (listed by name or by number)."""
    try:
        lines = table.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.strip().split(":")
        if len(fields) == 3 and fields[0] in (user, str(own_id)) and fields[1].isdigit() \
                and fields[2].isdigit() and int(fields[2]) >= MAP_COUNT:
            return int(fields[1])
    return None
