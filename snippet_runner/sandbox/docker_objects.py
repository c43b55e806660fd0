"""What a Docker daemon holds, and removing what a page added (a reset between pages).

Lists are one API call per kind; removal tolerates objects already gone (``--rm``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import docker.errors

from ..errors import SandboxError


@dataclass(frozen=True)
class DockerObjects:
    """What a daemon holds, as far as a reset is concerned."""

    containers: frozenset[str] = frozenset()
    """Container ids."""
    networks: frozenset[str] = frozenset()
    """Network ids."""
    volumes: frozenset[str] = frozenset()
    """Volume names."""
    images: tuple[str, ...] = ()
    """Image ids, newest first (a child image must go before its parent)."""
    tags: frozenset[str] = frozenset()
    """``repository:tag`` names."""


def docker_objects(client: Any) -> DockerObjects:
    """List the daemon's objects, one call per kind (the SDK's ``containers.list`` would
    inspect every container once more)."""
    api = client.api
    images = sorted(api.images(all=True), key=lambda i: i.get("Created", 0), reverse=True)
    return DockerObjects(
        containers=frozenset(c["Id"] for c in api.containers(all=True)),
        networks=frozenset(n["Id"] for n in api.networks()),
        volumes=frozenset(v["Name"] for v in api.volumes().get("Volumes") or []),
        images=tuple(i["Id"] for i in images),
        tags=frozenset(t for i in images for t in i.get("RepoTags") or []
                       if t != "<none>:<none>"),
    )


def remove_new_objects(client: Any, before: DockerObjects, *, images: bool = True
                        ) -> frozenset[str]:
    """Remove what the daemon holds and ``before`` did not (images and tags too unless told
    not to); returns the tags of ``before`` that are gone (a page ran ``docker rmi``)."""
    api, now = client.api, docker_objects(client)
    try:
        for container in now.containers - before.containers:
            gone(api.remove_container, container, force=True, v=True)
        for network in now.networks - before.networks:
            gone(api.remove_network, network)
        for volume in now.volumes - before.volumes:
            gone(api.remove_volume, volume, force=True)
        for tag in now.tags - before.tags if images else ():  # `docker tag`, `build -t`
            gone(api.remove_image, tag)
        for image in (i for i in now.images if i not in before.images) if images else ():
            gone(api.remove_image, image, force=True)
    except docker.errors.APIError as exc:
        raise SandboxError(f"could not reset the sandbox: {exc}") from exc
    return before.tags - now.tags


def gone(remove: Any, *args: Any, **kwargs: Any) -> None:
    """Call a docker ``remove``; an object already gone or being removed (``--rm``) is fine."""
    try:
        remove(*args, **kwargs)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        if exc.status_code != 409:  # 409: "removal already in progress"
            raise

