"""Choosing where pages run: `get_backend` by name.

* ``sandbox`` — a private dockerd in its own namespaces (`sandbox.py`); needs Linux and root.
* ``local`` — a bash on the host in a private temporary directory; no Docker, no isolation.
  For docs whose snippets don't touch Docker, and for developing snippet_runner itself.
  `put_file` never writes the host's path: it writes under the sandbox's temporary root, which
  sessions find in ``$SNIPPET_ROOT`` (empty in the real sandbox, so a page may portably write
  ``cat "$SNIPPET_ROOT/etc/app.conf"``).
* ``external`` — sessions on the host with ``DOCKER_HOST`` taken from the environment: whatever
  that daemon is, pages act on it directly. Loudly warned about; reset removes only what the
  page created.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .api import RunConfig
from .backend import Backend, Sandbox, Session
from .errors import ConfigError, SandboxError
from .session import PtySession

BACKENDS = ("sandbox", "local", "external")

TEMP_PREFIX = "snippet-runner-local-"
"""Prefix of the local backend's temporary roots, followed by the owner's pid and ``-`` (the
leak tests look for it)."""


def get_backend(name: str, config: RunConfig) -> Backend:
    """The backend called ``name`` (one of `BACKENDS`), configured by ``config``."""
    if name == "local":
        return LocalBackend()
    if name == "sandbox":
        from .sandbox import SandboxBackend

        return SandboxBackend(config)
    if name == "external":
        from .sandbox import ExternalBackend

        return ExternalBackend(config)
    raise ConfigError(
        f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)} "
        "(sandbox: private dockerd, needs root; local: host bash without docker)."
    )


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

    def __init__(self) -> None:
        sweep_local()

    def start(self) -> Sandbox:
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
        session = PtySession(
            env={"HOME": str(self._root / "home"), "SNIPPET_ROOT": str(self._root)}
        )
        self._sessions.append(session)
        return session

    def put_file(self, path: str, content: bytes) -> None:
        target = _under(self._root, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)

    def reset(self) -> None:
        self._close_sessions()
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
