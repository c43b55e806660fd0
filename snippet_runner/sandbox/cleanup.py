"""Nothing left behind: teardown on every exit path of this process, and a sweep of what a
killed run left.

Every live sandbox registers here (`register`); `close_all` runs at exit and from the SIGINT and
SIGTERM handlers that `install_handlers` sets. A teardown is never cut short by a second signal:
while one runs, further SIGINT/SIGTERM are held and acted on once it is done (`shielded`), so
pressing Ctrl-C twice still removes everything.

A run killed with SIGKILL can't clean up: the next run's `sweep` removes what it left. "Dead" is
proven, never guessed from a pid (which may belong to another PID namespace, e.g. another CI
container sharing the cgroup tree): each sandbox directory holds ``owner.lock``, which its owner
keeps locked with ``flock`` for the sandbox's whole life; the kernel drops the lock when the
owner dies, however it dies. A sweep that can take the lock knows the owner is gone; one that
can't leaves the sandbox alone.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import signal
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import IO, Any, Protocol

from ..errors import SandboxError
from . import cgroups
from .cgroups import CGROUP_PREFIX
from .procfs import kill_and_wait
from .rootfs import remove_tree

OWNER_LOCK = "owner.lock"
"""The file in a sandbox directory its owner holds an exclusive ``flock`` on."""
STRAY_AGE = 120.0
"""Seconds after which an empty ``snippet-runner-*`` cgroup that no sandbox directory claims is
removed (younger ones may belong to a run that is just starting elsewhere)."""


class Closable(Protocol):
    """Anything `close_all` tears down."""

    def close(self) -> None: ...


_LIVE: weakref.WeakSet[Closable] = weakref.WeakSet()
_LIVE_LOCK = threading.RLock()  # re-entrant: a signal handler may close while we hold it
_HANDLERS_INSTALLED = False
_SHIELD = {"depth": 0, "signalled": 0}
"""How many `shielded` blocks the main thread is in (signals wait while it is above 0), and
whether a signal was acted on already."""
_HELD: list[tuple[int, FrameType | None]] = []
"""Signals that arrived inside a shielded block, acted on when it ends."""
_ACT: dict[int, Any] = {}
"""What each handled signal did before we took it over (called after our teardown)."""


def close_all() -> int:
    """Tear down every sandbox of this process (atexit, SIGINT, SIGTERM); the number closed."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    with shielded():
        for sandbox in live:
            sandbox.close()
    return len(live)


def live_count() -> int:
    """Sandboxes of this process not yet closed."""
    with _LIVE_LOCK:
        return len(_LIVE)


def register(sandbox: Closable) -> None:
    """Tear ``sandbox`` down with the others at exit or on a signal, unless closed first."""
    with _LIVE_LOCK:
        _LIVE.add(sandbox)


def unregister(sandbox: Closable) -> None:
    """``sandbox`` was closed."""
    with _LIVE_LOCK:
        _LIVE.discard(sandbox)


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Hold SIGINT/SIGTERM (in the main thread, where Python runs handlers) until the block is
    done: a teardown must not be abandoned half-way because Ctrl-C was pressed again. Held
    signals are then acted on, once each kind. Elsewhere (worker threads) this does nothing:
    signals never interrupt them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _SHIELD["depth"] += 1
    try:
        yield
    finally:
        _SHIELD["depth"] -= 1
        if _SHIELD["depth"] == 0 and _HELD:
            held = list({num: (num, frame) for num, frame in _HELD}.values())
            _HELD.clear()
            # Once a signal was acted on, the run is ending because of it: a second one only
            # says "hurry", and must not turn a SIGTERM's exit status into a Ctrl-C's.
            for num, frame in held if not _SHIELD["signalled"] else ():
                _handle(num, frame)


def _handle(num: int, frame: FrameType | None) -> None:
    """Our SIGINT/SIGTERM handler: tear down, then do what was done before we took over."""
    if _SHIELD["depth"]:
        _HELD.append((num, frame))
        return
    _SHIELD["signalled"] = 1
    close_all()
    previous = _ACT.get(num, signal.SIG_DFL)
    if callable(previous):
        previous(num, frame)
    elif previous == signal.SIG_IGN:
        return
    elif num == signal.SIGINT:
        raise KeyboardInterrupt
    else:
        signal.signal(num, signal.SIG_DFL)
        os.kill(os.getpid(), num)


def install_handlers() -> None:
    """atexit plus SIGINT/SIGTERM handlers that tear down, then do what was done before. A
    signal that is ignored (a background job's SIGINT, ``nohup``) stays ignored, as the shell
    meant."""
    global _HANDLERS_INSTALLED
    if _HANDLERS_INSTALLED:
        return
    _HANDLERS_INSTALLED = True
    atexit.register(close_all)
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread; atexit still runs
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(signum)
        if previous == signal.SIG_IGN:
            continue
        _ACT[signum] = previous
        signal.signal(signum, _handle)


# -- the owner lock ---------------------------------------------------------------------------


def hold_owner_lock(directory: Path) -> IO[bytes]:
    """Create ``directory/owner.lock`` and lock it for as long as the returned file is open
    (close it only once everything of the sandbox is gone). Not inherited by child processes."""
    handle = open(directory / OWNER_LOCK, "wb")  # noqa: SIM115  (kept open on purpose)
    fcntl.flock(handle, fcntl.LOCK_EX)
    handle.write(json.dumps({"pid": os.getpid(), "pid_ns": _pid_namespace()}).encode())
    handle.flush()
    return handle


def _claim_if_dead(directory: Path) -> IO[bytes] | None:
    """The directory's lock, taken, if its owner is provably gone; None if it lives (or the
    directory is too young to have its lock yet)."""
    try:
        handle = open(directory / OWNER_LOCK, "rb")  # noqa: SIM115
    except FileNotFoundError:
        # Killed between creating the directory and locking it (a few microseconds), or a
        # directory of an older version: dead once it has been there a while.
        age = time.time() - directory.stat().st_mtime
        return open(os.devnull, "rb") if age > STRAY_AGE else None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


# -- the sweep --------------------------------------------------------------------------------


def sweep(cache_dir: Path) -> list[str]:
    """Remove what dead runs left under ``cache_dir``: every sandbox whose owner is provably
    gone (its processes, cgroups and directory), then empty, old ``snippet-runner-*`` cgroups
    no sandbox claims. Returns the ids of the sandboxes removed."""
    removed = []
    root = cache_dir.resolve() / "sandboxes"
    for entry in sorted(root.iterdir()) if root.is_dir() else []:
        claim = _claim_if_dead(entry)
        if claim is None:
            continue
        with claim:
            _reap(entry)
        removed.append(entry.name)
    for path in cgroups.cgroup_dirs(CGROUP_PREFIX + "*"):
        with contextlib.suppress(OSError, SandboxError):
            if time.time() - path.stat().st_mtime > STRAY_AGE and not cgroups.pids_in(path):
                cgroups.remove_cgroup(path, timeout=0.2)
    return removed


def _reap(entry: Path) -> None:
    """Kill everything of the dead sandbox in ``entry`` and remove it."""
    # Every process of a sandbox lives in its cgroup: kill by cgroup, which is right in any PID
    # namespace; the recorded init pid is a fallback valid only in the owner's namespace.
    cgroups.kill(entry.name)
    init = _read_json(entry / "init.json")
    if isinstance(init.get("pid"), int) and init.get("pid_ns", "") == _pid_namespace():
        kill_and_wait(init["pid"], init.get("start"))
    with contextlib.suppress(OSError, SandboxError):
        cgroups.remove(entry.name)
    remove_tree(entry)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
