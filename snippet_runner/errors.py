"""The one root exception for "could not run". Mismatches are results, never exceptions."""

from __future__ import annotations

from pathlib import Path


class SnippetRunnerError(Exception):
    """Something prevented verification: a bad option, an unreadable file, a sandbox that failed.

    The message is one paragraph a user can act on; `path` and `line` locate it when known.
    """

    def __init__(self, message: str, *, path: Path | str | None = None, line: int | None = None):
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        where = f"{self.path}:{self.line}" if self.line is not None else str(self.path)
        return f"{where}: {self.message}"


class ConfigError(SnippetRunnerError):
    """The user's input is wrong (bad fence option, unreadable file, bad config): exit code 2."""


class SandboxError(SnippetRunnerError):
    """The sandbox could not be started, reset or used."""


class MissingImageError(SandboxError):
    """A command needed an image that is not a fixture (the sandbox never pulls): an ERROR at
    that command; the page goes on."""
