"""What a sandbox's directory holds before its namespaces exist, and removing it after.

    <cache_dir>/sandboxes/<id>/
        owner.lock   held by the owning process (see `cleanup`)
        init.json    the sandbox's PID 1 as the owner saw it
        conf/        daemon.json (read-only inside)
        etc/         the /etc the sandbox starts from: an allow-list of the host's files, never
                     shadow, ssh host keys, sudoers or private TLS keys (read-only inside, under a
                     copy-on-write layer a reset throws away)
        bin/         put first on PATH inside: the docker client that matches the daemon
        data/        dockerd's data root (unless it lives in memory)
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..config import SANDBOX_PATH

ETC_KEEP = (
    "passwd", "group", "nsswitch.conf", "host.conf", "gai.conf", "protocols", "services",
    "networks", "rpc", "ethertypes", "shells", "bash.bashrc", "inputrc", "profile",
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "ssl/certs", "ssl/openssl.cnf",
    "ca-certificates", "ca-certificates.conf", "os-release", "debian_version", "localtime",
    "timezone", "mtab", "mime.types", "iproute2", "login.defs", "wgetrc", "terminfo",
    "locale.alias", "xattr.conf", "adduser.conf", "deluser.conf", "issue", "magic",
)
"""The host's /etc files a shell, dockerd, containerd, runc, iptables (``/etc/alternatives``)
and common tools need. Everything else stays out of the sandbox."""
GENERATED_ETC = {
    # 192.0.2.0/24 is TEST-NET-1, reserved for documentation: it never answers, and the host's
    # resolver never shows up in an error message a page records.
    "resolv.conf": "nameserver 192.0.2.53\n",
    "hosts": "127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    "hostname": "sandbox\n",
}
"""Files the sandbox gets instead of the host's."""


def build_etc(dest: Path, owner: int) -> None:
    """The sandbox's starting /etc at ``dest``, owned by ``owner`` (a host uid: root inside)."""
    dest.mkdir(parents=True)
    for name in ETC_KEEP:
        source = Path("/etc", name)
        if not (source.exists() or source.is_symlink()):
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir() and not source.is_symlink():
            shutil.copytree(source, target, symlinks=True)
        else:
            shutil.copy2(source, target, follow_symlinks=False)
    for name, text in GENERATED_ETC.items():
        (dest / name).write_text(text)
    for empty in ("docker", "ssl/private"):
        (dest / empty).mkdir(parents=True, exist_ok=True)
    chown_tree(dest, owner)


def chown_tree(path: Path, owner: int) -> None:
    """Hand ``path`` and everything below it (links themselves, not their targets) to
    ``owner``; nothing to do when that is us already."""
    if owner == os.geteuid():
        return
    os.chown(path, owner, owner, follow_symlinks=False)
    for folder, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            os.chown(os.path.join(folder, name), owner, owner, follow_symlinks=False)


def write_daemon_config(conf: Path, settings: Mapping[str, object]) -> None:
    """``conf/daemon.json`` for the sandbox's dockerd."""
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "daemon.json").write_text(json.dumps(dict(settings), indent=1))


def remove_tree(path: Path) -> None:
    """Remove a sandbox directory. A non-root runner's sandbox leaves files owned by its
    subordinate ids, which only a user namespace mapping them can delete."""
    shutil.rmtree(path, ignore_errors=True)
    if path.exists() and os.geteuid() != 0:
        with open(os.devnull, "wb") as quiet:
            subprocess.run(["unshare", "--user", "--map-auto", "--map-root-user", "rm", "-rf",
                            "--", str(path)], stdout=quiet, stderr=quiet, check=False,
                           env={"PATH": SANDBOX_PATH}, timeout=60)


# -- the docker client a page uses ------------------------------------------------------------


@dataclass(frozen=True)
class ClientChoice:
    """Which ``docker`` client the page shells run, and why."""

    path: str | None
    """The client put first on PATH inside, or None for whatever PATH finds."""
    note: str
    """One sentence for the run's log when the client first on PATH does not match the daemon
    (empty when it does)."""


_VERSION = re.compile(r"version (\d+)\.(\d+)\.(\d+)")


@functools.cache
def _version_of(program: str) -> tuple[int, int, int] | None:
    """``program --version``'s X.Y.Z (Docker's client and daemon both print it)."""
    try:
        out = subprocess.run([program, "--version"], capture_output=True, text=True,
                             timeout=30, check=False, env={"PATH": SANDBOX_PATH}).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = _VERSION.search(out)
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def _release(version: tuple[int, int, int] | None) -> str:
    return "?" if version is None else ".".join(map(str, version))


@functools.cache
def choose_client() -> ClientChoice:
    """The docker client whose release (X.Y) matches the daemon's. A newer client talks an API
    the daemon doesn't know: flags it adds are silently ignored (``--mount …volume-subpath``
    mounts the whole volume), a false pass. Debian's docker.io ships a matching client."""
    daemon = _version_of(shutil.which("dockerd", path=SANDBOX_PATH) or "dockerd")
    clients = [str(Path(d, "docker")) for d in SANDBOX_PATH.split(":")
               if Path(d, "docker").is_file()]
    if daemon is None or not clients:
        return ClientChoice(None, "")
    first = _version_of(clients[0])
    if first is not None and first[:2] == daemon[:2]:
        return ClientChoice(None, "")
    matching = [c for c in clients if (v := _version_of(c)) is not None and v[:2] == daemon[:2]]
    if matching:
        return ClientChoice(matching[0], (
            f"the docker client first on PATH ({clients[0]}, {_release(first)}) does not match "
            f"the sandbox's daemon ({_release(daemon)}); pages use {matching[0]} "
            f"({_release(_version_of(matching[0]))}), which does."))
    return ClientChoice(None, (
        f"the docker client {clients[0]} ({_release(first)}) does not match the sandbox's "
        f"daemon ({_release(daemon)}), and no matching client is installed: flags the daemon's "
        "API lacks may be ignored without an error. Install the client of the daemon's release "
        "(Debian's docker.io ships one)."))


def make_bin(folder: Path, choice: ClientChoice) -> None:
    """``bin/``: what the sandbox puts first on PATH (the matching docker client, if any)."""
    folder.mkdir(parents=True, exist_ok=True)
    if choice.path is not None:
        (folder / "docker").symlink_to(choice.path)
