"""The ``local`` backend: a bash on the host in a private temporary directory.

No Docker, no isolation: for docs whose snippets don't touch Docker, and for developing
snippet_runner itself. `put_file` never writes the host's path: it writes under the sandbox's
temporary root, which sessions find in ``$SNIPPET_ROOT`` (empty in the real sandbox, so a page may
portably write ``cat "$SNIPPET_ROOT/etc/app.conf"``).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..config import RunConfig
from ..errors import ConfigError, SandboxError
from ..model import Sandbox, Session
from .boundary import mapped_errors
from .session import PtySession

TEMP_PREFIX = "snippet-runner-local-"
"""Prefix of the local backend's temporary roots, followed by the owner's pid and ``-`` (the
leak tests look for it)."""


@functools.cache
def bash_version() -> str:
    """The host bash's version, e.g. ``5.2.15(1)-release`` (asked once: every local page's
    sandbox needs it)."""
    try:
        out = subprocess.run(
            ["bash", "-c", "echo $BASH_VERSION"], capture_output=True, text=True, check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise SandboxError(f"bash is needed to run snippets and could not start: {exc}") from exc
    return out.stdout.strip()


class LocalBackend:
    """Host bash sessions in a private temporary directory."""

    name = "local"

    def __init__(self, config: RunConfig | None = None) -> None:
        with mapped_errors("remove what earlier local runs left"):
            sweep_local()

    def start(self) -> Sandbox:
        with mapped_errors("create the local sandbox's temporary directory"):
            return LocalSandbox()


class LocalSandbox:
    """A temporary directory as the page's world: ``$HOME`` and the root of `put_file`."""

    def __init__(self) -> None:
        self._version = f"local bash {bash_version()}"
        self._root = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-"))
        self._sessions: list[PtySession] = []
        self._make_home()

    @property
    def root(self) -> Path:
        """The temporary root (``$SNIPPET_ROOT`` in sessions)."""
        return self._root

    def _make_home(self) -> None:
        (self._root / "home").mkdir(parents=True, exist_ok=True)

    @property
    def engine_version(self) -> str:
        return self._version

    @property
    def fixture_digests(self) -> dict[str, str]:
        return {}

    def open_session(self) -> Session:
        if not self._root.is_dir():
            raise SandboxError("this local sandbox was closed")
        with mapped_errors("start a shell in the local sandbox"):
            session = PtySession(
                env={"HOME": str(self._root / "home"), "SNIPPET_ROOT": str(self._root)}
            )
        self._sessions.append(session)
        return session

    def preload(self, images: Sequence[str]) -> None:
        """Nothing to do: a host bash has no images (``external`` uses the daemon's own)."""

    def put_file(self, path: str, content: bytes) -> None:
        target = _under(self._root, path)
        with mapped_errors(f"write {path} in the local sandbox"):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)

    def reset(self) -> None:
        self._close_sessions()
        if not self._root.is_dir():
            raise SandboxError("this local sandbox was closed")
        with mapped_errors("reset the local sandbox"):
            for child in self._root.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
            self._make_home()

    def close(self) -> None:
        self._close_sessions()
        shutil.rmtree(self._root, ignore_errors=True)

    def _close_sessions(self) -> None:
        while self._sessions:
            self._sessions.pop().close()


def sweep_local() -> None:
    """Remove the temporary roots of local sandboxes whose process is gone (SIGKILL)."""
    for path in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*-*"):
        owner = path.name[len(TEMP_PREFIX):].split("-", 1)[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            shutil.rmtree(path, ignore_errors=True)


def _under(root: Path, path: str) -> Path:
    """``path`` (absolute) re-rooted at ``root``; refuses to climb out with ``..``."""
    if not path.startswith("/"):
        raise ConfigError(f"file paths must be absolute, got {path!r}")
    target = (root / path.lstrip("/")).resolve()
    if not target.is_relative_to(root.resolve()):
        raise ConfigError(f"file path {path!r} leaves the sandbox")
    return target


def warn(message: str) -> None:
    """A loud, one-paragraph warning on stderr."""
    print(f"snippet-runner: WARNING: {message}", file=sys.stderr)
