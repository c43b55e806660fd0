"""A command that needed an image the sandbox does not have: the daemon's words → one message.

The sandbox never pulls from a registry outside: its images are fixtures (built offline) and
the real images the lock file pins (served by the sandbox's own registry). When a command fails
and its output shows that the daemon wanted another image (``Unable to find image …``, the
refused proxy it falls back to, ``pull access denied``, a manifest the sandbox's registry lacks),
`check_missing_image` raises `MissingImageError` naming the image and a recipe that really
provides it; the page goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MissingImageError

_UNABLE = re.compile(r"Unable to find image '([^']+)' locally")
_PULL = re.compile(r"proxyconnect tcp|pull access denied for ([^,\s]+)|"
                   r"manifest for (\S+) not found|manifest unknown")
_FROM = re.compile(r"FROM\s+(?:--platform=\S+\s+)?(\S+)", re.IGNORECASE)


@dataclass(frozen=True)
class ImageHints:
    """What the sandbox has, to say what the page's image needs."""

    lock: Path = Path("images.lock")
    """The lock file (which may not exist)."""
    pinned: frozenset[str] = frozenset()
    """The lock's images, as Docker names them (``nginx:1.25``)."""
    served: frozenset[str] = frozenset()
    """Those the sandbox's registry serves (fetched, from Docker Hub)."""
    fixtures: frozenset[str] = field(default_factory=lambda: frozenset({"test:latest"}))
    """The fixture images, ``name:tag``."""


def familiar(image: str) -> str:
    """Docker's short name, with a tag (``docker.io/library/nginx`` → ``nginx:latest``)."""
    name = image.removeprefix("docker.io/").removeprefix("index.docker.io/")
    name = name.removeprefix("library/")
    last = name.rsplit("/", 1)[-1]
    return name if "@" in last or ":" in last else f"{name}:latest"


def check_missing_image(command: str, output: str, hints: ImageHints | None = None) -> None:
    """Raise `MissingImageError` when ``output`` (of the failed ``command``) shows that the
    daemon wanted an image the sandbox lacks."""
    unable = _UNABLE.search(output)
    pull = _PULL.search(output)
    if not unable and not pull:
        return
    image = _named_image(command, output, unable, pull)
    hints = hints or ImageHints()
    if not image:
        raise MissingImageError(
            f"`{command.strip()}` needs an image the sandbox doesn't have. Pin the real images "
            f"the pages use in {hints.lock.name} with `snippet-runner images lock`, or add the "
            "image as a fixture (a directory with a Dockerfile in the fixtures directory).")
    raise MissingImageError(f"`{command.strip()}` needs the image {image}, which the sandbox "
                            f"doesn't have. {_recipe(familiar(image), hints)}")


def _named_image(command: str, output: str, unable: re.Match[str] | None,
                 pull: re.Match[str] | None) -> str:
    if unable:
        return unable.group(1)
    if pull and (pull.group(1) or pull.group(2)):
        return str(pull.group(1) or pull.group(2))
    words = command.split()
    if len(words) >= 3 and words[1] == "pull":
        return words[-1]
    found = _FROM.search(output)
    return found.group(1) if found else ""


def _recipe(image: str, hints: ImageHints) -> str:
    """How to provide ``image`` (Docker's short name with its tag)."""
    if image in hints.pinned and image not in hints.served:
        first = image.split("/", 1)[0] if "/" in image else ""
        host = first if "." in first or ":" in first else ""
        if host:
            return (f"{hints.lock.name} pins it, but images from {host} can't be served in the "
                    "sandbox yet (only Docker Hub's): add it as a fixture instead.")
        return (f"{hints.lock.name} pins it, but the image store doesn't have it yet: run "
                "`snippet-runner images fetch` where the registry is reachable.")
    repository, _, tag = image.partition("@")[0].rpartition(":")
    fixture = (f"or, for an image of your own, add the fixture directory "
               f"docs/_fixtures/{repository}/ with a Dockerfile (FROM test:latest or FROM "
               f"scratch)" + ("" if tag == "latest" else f" and a line '{tag}' in its 'tags' "
                             "file") + ", built offline and loaded into every sandbox.")
    return (f"For the real image, pin it: `snippet-runner images lock` adds every image the "
            f"pages use to {hints.lock.name} (then commit it); " + fixture)
