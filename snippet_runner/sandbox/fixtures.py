"""What the fixture images are made of, described from files alone (no Docker SDK here).

The sandbox builds these images (`images`); the result cache only needs their fingerprint, and
importing the Docker SDK for that would cost every warm build about 0.3 s. So the description
lives here, free of the SDK.

A fixture is a directory ``<name>/`` holding a Dockerfile; it is built offline and tagged
``<name>:latest`` — always ``:latest``, so a page names fixture images with that tag.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..config import RunConfig
from ..errors import ConfigError, SandboxError

BUILTIN_FIXTURES = Path(__file__).with_name("builtin_images")
"""The package-data directory of the built-in images (``test``)."""
STATIC_BINARIES = {"busybox": "/bin/busybox", "bash": "/usr/bin/bash-static"}
"""Files copied into the ``test`` fixture's build context (Debian busybox-static, bash-static)."""
FIXTURE_TAG = "latest"
"""The one tag every fixture image gets."""

_IMAGE_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")


@dataclass(frozen=True)
class Fixture:
    """One image built from a directory with a Dockerfile."""

    name: str
    """Repository name; the image is ``<name>:latest``."""
    context: Path
    """The build context (the directory holding the Dockerfile)."""
    extra: tuple[tuple[str, str], ...] = ()
    """(file name in the context, host file) copied in before building."""

    @property
    def tag(self) -> str:
        """``<name>:latest``."""
        return f"{self.name}:{FIXTURE_TAG}"


def fixtures_for(config: RunConfig) -> list[Fixture]:
    """``test`` first (authors' images may build FROM it), then the authors' images by name."""
    found = [Fixture("test", BUILTIN_FIXTURES / "test", tuple(STATIC_BINARIES.items()))]
    if config.fixtures_dir is not None:
        root = Path(config.fixtures_dir)
        if not root.is_dir():
            raise ConfigError(f"the fixtures directory {root} does not exist", path=root)
        for dockerfile in sorted(root.glob("*/Dockerfile")):
            name = dockerfile.parent.name
            if not _IMAGE_NAME.match(name):
                raise ConfigError(
                    f"fixture directory name {name!r} is not a valid image name "
                    "(use lower-case letters, digits, '.', '_' and '-')", path=dockerfile,
                )
            if name == "test":
                raise ConfigError("the fixture name 'test' is built in; choose another name",
                                  path=dockerfile)
            found.append(Fixture(name, dockerfile.parent))
    return found


def context_files(fixture: Fixture) -> Iterator[tuple[str, Path]]:
    """Every file of the build context as (name in the context, file to read), sorted."""
    for path in sorted(fixture.context.rglob("*")):
        if path.is_file():
            yield path.relative_to(fixture.context).as_posix(), path
    for name, host in fixture.extra:
        yield name, Path(host)


def fixtures_key(fixtures: list[Fixture]) -> str:
    """A hash of every byte that goes into the fixture images."""
    digest = hashlib.sha256()
    for fixture in fixtures:
        digest.update(f"\0image {fixture.name}\0".encode())
        for rel, path in context_files(fixture):
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise SandboxError(
                    f"cannot read {path} for fixture image {fixture.tag}: {exc} "
                    "(the test image needs Debian's busybox-static and bash-static)"
                ) from exc
            digest.update(f"\0file {rel} {len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()[:20]
