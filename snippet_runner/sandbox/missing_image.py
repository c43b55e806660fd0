"""A command that needed an image the sandbox does not have: the daemon's words → one message.

The sandbox never pulls. When a command fails and its output shows that the daemon wanted to
pull (``Unable to find image …``, a refused proxy, ``pull access denied``), `check_missing_image`
raises `MissingImageError` naming the image and how to provide it; the page goes on.
"""

from __future__ import annotations

import re

from ..errors import MissingImageError
from .fixtures import FIXTURE_TAG

FIXTURE_HINT = (
    "No registry is used: every image a page needs must be a fixture, and fixtures are always "
    "tagged :latest. Add a directory '{name}/' with a Dockerfile to the fixtures directory (the "
    "plugin's fixtures_dir, e.g. docs/_fixtures/{name}/Dockerfile; start it FROM test:latest or "
    "FROM scratch) and it will be built offline as {name}:latest and loaded into every sandbox."
)


_UNABLE = re.compile(r"Unable to find image '([^']+)' locally")
_PULL = re.compile(r"proxyconnect tcp|pull access denied for ([^,\s]+)")

def check_missing_image(command: str, output: str) -> None:
    """Raise `MissingImageError` when ``output`` (of the failed ``command``) shows a pull."""
    unable = _UNABLE.search(output)
    pull = _PULL.search(output)
    if not unable and not pull:
        return
    image = unable.group(1) if unable else (pull.group(1) if pull and pull.group(1) else "")
    words = command.split()
    if not image and len(words) >= 3 and words[1] == "pull":
        image = words[-1]
    if not image:
        from_line = re.search(r"FROM\s+(\S+)", output, re.IGNORECASE)
        image = from_line.group(1) if from_line else ""
    if not image:
        raise MissingImageError(
            f"`{command.strip()}` tried to pull an image from a registry, which the sandbox "
            "never does. " + FIXTURE_HINT.format(name="<name>")
        )
    raise MissingImageError(
        f"`{command.strip()}` needs the image {image}, which is not a fixture. "
        + FIXTURE_HINT.format(name=_repository(image)) + _retag_hint(image)
    )


def _repository(image: str) -> str:
    """``nginx`` for ``docker.io/library/nginx:1.25`` (a registry port is not a tag)."""
    last = image.split("@")[0].split("/")[-1]
    return last.split(":")[0]


def _retag_hint(image: str) -> str:
    """When the page names a tag other than latest, say that the page must change too: a
    fixture directory alone never provides ``nginx:1.25``."""
    last = image.split("@")[0].split("/")[-1]
    tag = last.split(":", 1)[1] if ":" in last else FIXTURE_TAG
    if tag == FIXTURE_TAG and "@" not in image:
        return ""
    name = _repository(image)
    return (f" That image is {name}:{FIXTURE_TAG}, not {image}: change the page to "
            f"use {name}:{FIXTURE_TAG}.")

