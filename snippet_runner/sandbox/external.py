"""The ``external`` backend: pages run on the host against the daemon ``DOCKER_HOST`` names.

No isolation at all, and loudly said so: ports, files and containers are real. A reset removes
the containers, networks and volumes created during a page.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import docker

from ..config import RunConfig
from ..errors import ConfigError
from ..model import Sandbox
from .docker_objects import docker_objects, remove_new_objects
from .local import LocalSandbox, warn
from .session import PtySession


class ExternalBackend:
    """Pages run on the host against the daemon in ``DOCKER_HOST``: no isolation at all."""

    name = "external"

    def __init__(self, config: RunConfig) -> None:
        host = os.environ.get("DOCKER_HOST")
        if not host:
            raise ConfigError(
                "the 'external' backend uses the Docker daemon named by DOCKER_HOST, "
                "which is not set."
            )
        self.host = host
        warn(
            f"the 'external' backend runs every snippet on THIS machine against {host}, "
            "without any isolation: ports, files and containers are real. Reset removes only "
            "the containers, networks and volumes created during a page."
        )

    def start(self) -> Sandbox:
        return ExternalSandbox(self.host)


class ExternalSandbox(LocalSandbox):
    """`LocalSandbox` plus ``DOCKER_HOST`` and a reset of the page's Docker objects."""

    def __init__(self, host: str) -> None:
        super().__init__()
        self._host = host
        self.client: Any = docker.DockerClient(base_url=host, timeout=120)
        self._version = f"docker {self.client.version().get('Version', '?')} (external)"
        self._before = docker_objects(self.client)

    def open_session(self) -> PtySession:
        session = PtySession(env={
            "HOME": str(self.root / "home"), "SNIPPET_ROOT": str(self.root),
            "DOCKER_HOST": self._host,
        })
        self._sessions.append(session)
        return session

    def reset(self) -> None:
        super().reset()
        # Images stay: on a real daemon, a rebuilt tag's old image would be left untagged.
        remove_new_objects(self.client, self._before, images=False)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.reset()
        super().close()
        self.client.close()

