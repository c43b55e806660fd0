"""Nothing left behind: teardown on every exit path of this process, and a sweep of what a
killed run left.

Every live sandbox registers here (`register`); `close_all` runs at exit and from the SIGINT and
SIGTERM handlers that `install_handlers` sets. A run killed with SIGKILL can't clean up: the
next run's `sweep` removes what it left, judging "dead" by the owner record each sandbox
directory holds.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import threading
import weakref
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from ..errors import SandboxError
from .procfs import (
    CGROUP_PREFIX,
    alive,
    cgroup_dirs,
    kill_and_wait,
    kill_processes_naming,
    remove_cgroup,
    remove_cgroups,
)


class Closable(Protocol):
    """Anything `close_all` tears down."""

    def close(self) -> None: ...


_LIVE: weakref.WeakSet[Closable] = weakref.WeakSet()
_LIVE_LOCK = threading.RLock()  # re-entrant: a signal handler may close while we hold it
_HANDLERS_INSTALLED = False


def close_all() -> None:
    """Tear down every sandbox of this process (atexit, SIGINT, SIGTERM)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for sandbox in live:
        sandbox.close()


def install_handlers() -> None:
    """atexit plus SIGINT/SIGTERM handlers that tear down, then do what was done before."""
    global _HANDLERS_INSTALLED
    if _HANDLERS_INSTALLED:
        return
    _HANDLERS_INSTALLED = True
    atexit.register(close_all)
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread; atexit still runs
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(signum)

        def handler(num: int, frame: FrameType | None, previous: Any = previous) -> None:
            close_all()
            if callable(previous):
                previous(num, frame)
            elif previous == signal.SIG_IGN:
                return
            elif num == signal.SIGINT:
                raise KeyboardInterrupt
            else:
                signal.signal(num, signal.SIG_DFL)
                os.kill(os.getpid(), num)

        signal.signal(signum, handler)


def register(sandbox: Closable) -> None:
    """Tear ``sandbox`` down with the others at exit or on a signal, unless closed first."""
    with _LIVE_LOCK:
        _LIVE.add(sandbox)


def unregister(sandbox: Closable) -> None:
    """``sandbox`` was closed."""
    with _LIVE_LOCK:
        _LIVE.discard(sandbox)


def sweep(cache_dir: Path) -> list[str]:
    """Remove what dead runs left: sandboxes whose owner is gone, and stray cgroup
    directories named after a dead owner pid. Returns the ids removed."""
    removed = []
    root = cache_dir.resolve() / "sandboxes"
    for entry in sorted(root.iterdir()) if root.is_dir() else []:
        record = _read_json(entry / "owner.json")
        owner = record.get("pid")
        if isinstance(owner, int) and alive(owner, record.get("start")):
            continue
        init = _read_json(entry / "init.json")
        if isinstance(init.get("pid"), int):
            kill_and_wait(init["pid"], init.get("start"))
        # Killed before init.json was written? Its processes still name the sandbox.
        kill_processes_naming(f"sandboxes/{entry.name}", CGROUP_PREFIX + entry.name)
        remove_cgroups(entry.name)
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry.name)
    # Cgroups of a run whose cache_dir was elsewhere: the owner pid is part of the name.
    for path in cgroup_dirs(CGROUP_PREFIX + "*"):
        owner_text = path.name[len(CGROUP_PREFIX):].split("-", 1)[0]
        if owner_text.isdigit() and not Path(f"/proc/{owner_text}").exists():
            kill_processes_naming(path.name)  # its dockerd, if still running
            with contextlib.suppress(SandboxError):  # busy: leave it, don't fail the run
                remove_cgroup(path)
    return removed


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}

