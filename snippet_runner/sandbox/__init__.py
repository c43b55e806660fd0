"""Where commands run: the engines behind the `model.Backend` protocol, one module per backend.

* ``sandbox`` (`namespace`): a private dockerd in its own namespaces; Linux and root.
* ``local`` (`local`): a bash on the host in a temporary directory; no Docker, no isolation.
* ``external`` (`external`): the user's daemon (``DOCKER_HOST``, else the current docker
  context, `docker_endpoint`), reached through a labelling proxy (`docker_proxy`).

Beside them: the page shell (`session`), fixture images (`fixtures`, `images`), procfs and cgroup
plumbing (`procfs`), teardown and the sweep of killed runs (`cleanup`), Docker-object diffs
(`docker_objects`), the missing-image message (`missing_image`) and the error boundary
(`boundary`). This layer knows nothing about Markdown and imports nothing from ``core``.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Callable, Mapping

from ..config import BACKENDS as BACKEND_NAMES
from ..config import RunConfig
from ..errors import ConfigError
from ..model import Backend
from .cleanup import shielded
from .docker_endpoint import resolve as resolve_docker_endpoint
from .fixtures import fixtures_for, fixtures_key
from .local import LocalBackend


def _namespace(config: RunConfig) -> Backend:
    from .namespace import SandboxBackend  # the Docker SDK (~0.3 s) only when it is used

    return SandboxBackend(config)


def _local(config: RunConfig) -> Backend:
    return LocalBackend(config)


def _external(config: RunConfig) -> Backend:
    from .external import ExternalBackend  # the proxy and its threads only when they are used

    return ExternalBackend(config)


BACKENDS: Mapping[str, Callable[[RunConfig], Backend]] = {
    "sandbox": _namespace,
    "local": _local,
    "external": _external,
}
"""Backend name (`config.BACKENDS`) → factory."""


def get_backend(config: RunConfig) -> Backend:
    """The backend ``config.backend`` names, configured by ``config``."""
    factory = BACKENDS.get(config.backend)
    if factory is None:
        raise ConfigError(f"unknown backend {config.backend!r}: choose one of "
                          f"{', '.join(BACKEND_NAMES)}.")
    return factory(config)


# -- identity without starting anything (for result-cache keys) ------------------------------


def engine_identity(config: RunConfig) -> str:
    """The engine's version line, read from its binary, never from a running daemon."""
    if config.backend == "external":
        # Someone else's daemon: its version can't be read without asking it, so the key
        # names the daemon instead; point DOCKER_HOST or the docker context elsewhere and
        # everything runs again.
        return f"external daemon at {resolve_docker_endpoint().host}"
    return _version_line("bash" if config.backend == "local" else "dockerd")


@functools.cache
def _version_line(program: str) -> str:
    """``<program> --version``'s first line, once per process (``mkdocs serve`` rebuilds often,
    and the binary does not change under a running server)."""
    if shutil.which(program) is None:
        return f"{program} not installed"
    try:
        proc = subprocess.run([program, "--version"], capture_output=True, text=True,
                              check=False, timeout=30)
    except (OSError, subprocess.SubprocessError) as err:
        return f"{program} unusable ({err})"
    lines = (proc.stdout or proc.stderr).splitlines()
    return lines[0].strip() if lines else f"{program} exit {proc.returncode}"


def images_identity(config: RunConfig) -> str:
    """Hash of every fixture image's build inputs — the sandbox's own key for its image cache,
    computed from files alone. The ``local`` backend has no images."""
    if config.backend == "local":
        return "no fixture images"
    return fixtures_key(fixtures_for(config))


__all__ = ["BACKENDS", "engine_identity", "get_backend", "images_identity", "shielded"]
