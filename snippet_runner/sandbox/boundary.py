"""Errors mapped where they leave the sandbox layer.

Above this layer only `SnippetRunnerError`s travel: a failed system call (``OSError``), a Docker
SDK error or a dropped connection to the daemon becomes a `SandboxError` that says what the
sandbox was doing, so the runner catches one family and a user reads one sentence.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from ..errors import SandboxError, SnippetRunnerError


def _foreign_errors() -> tuple[type[BaseException], ...]:
    """The exception families of the libraries below us that are already imported (the
    Docker SDK and its HTTP layer are not imported by the ``local`` backend at all)."""
    found: list[type[BaseException]] = [OSError]
    docker_errors = sys.modules.get("docker.errors")
    if docker_errors is not None:
        found.append(docker_errors.DockerException)
    requests_exceptions = sys.modules.get("requests.exceptions")
    if requests_exceptions is not None:
        found.append(requests_exceptions.RequestException)
    return tuple(found)


def describe(err: BaseException) -> str:
    """A one-line account of a lower-level error (the SDK's explanation when it has one)."""
    explanation = getattr(err, "explanation", None)
    text = str(explanation or err).strip() or type(err).__name__
    return text.splitlines()[0] if "\n" in text and len(text) > 300 else text


@contextlib.contextmanager
def mapped_errors(doing: str) -> Iterator[None]:
    """Turn a lower-level error raised inside the block into ``SandboxError("could not
    <doing>: …")``; our own errors pass through unchanged."""
    try:
        yield
    except SnippetRunnerError:
        raise
    except _foreign_errors() as err:
        raise SandboxError(f"could not {doing}: {describe(err)}") from err
