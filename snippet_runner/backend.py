"""The seam between "what to run" and "where it runs".

A `Backend` starts `Sandbox`es; a sandbox hands out `Session`s (persistent shells). The runner
knows nothing about namespaces or Docker; the sandbox knows nothing about Markdown. Every backend
(the namespaced dockerd, a plain local shell, later dind or a remote daemon) passes the same
contract tests in ``tests/test_backend_contract.py``.
"""

from __future__ import annotations

from typing import Protocol

from .model import RunResult


class Session(Protocol):
    """One persistent shell: ``cd``, variables and background jobs survive between commands."""

    def run(self, command: str, *, timeout: float, stdin: str | None = None) -> RunResult:
        """Run one command line and return its normalised output and exit status.

        Without ``stdin`` the command's standard input is ``/dev/null`` (so ``docker run -it``
        reports "the input device is not a TTY", as in a CI log); with ``stdin`` the command
        gets a terminal and the text is typed once it waits for input. On timeout the command's
        process group (and the containers it started) are killed and ``timed_out`` is set;
        the session stays usable.
        """
        ...

    def close(self) -> None:
        """End the shell and everything it started."""
        ...


class Sandbox(Protocol):
    """A disposable environment in which a page's sessions run."""

    @property
    def engine_version(self) -> str:
        """E.g. ``docker 20.10.24`` or ``local bash 5.2``; part of cache keys and the page mark."""
        ...

    @property
    def fixture_digests(self) -> dict[str, str]:
        """Image name → content digest of every fixture image loaded; part of cache keys."""
        ...

    def open_session(self) -> Session:
        """A fresh shell with a clean environment (LC_ALL=C.UTF-8, TZ=UTC, COLUMNS=80)."""
        ...

    def put_file(self, path: str, content: bytes) -> None:
        """Create ``path`` (absolute, inside the sandbox's private view) with ``content``."""
        ...

    def reset(self) -> None:
        """Forget the last page: close its sessions, remove the containers, networks, volumes
        and files it created; keep fixture images."""
        ...

    def close(self) -> None:
        """Tear everything down; idempotent; safe from signal handlers and ``finally``."""
        ...


class Backend(Protocol):
    """A way to get sandboxes (``sandbox``: namespaced dockerd; ``local``: host bash)."""

    name: str

    def start(self) -> Sandbox:
        """Start one sandbox, ready to run (fixtures loaded)."""
        ...
