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

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_HOST = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
TAGS_FILE = "tags"
"""A fixture's optional list of tags, one per line (``#`` starts a comment); else ``latest``."""


@dataclass(frozen=True)
class Fixture:
    """One image built from a directory with a Dockerfile."""

    name: str
    """Repository: the directory's path under the fixtures directory (``web``,
    ``nicolaka/netshoot``, ``ghcr.io/acme/app``)."""
    context: Path
    """The build context (the directory holding the Dockerfile)."""
    extra: tuple[tuple[str, str], ...] = ()
    """(file name in the context, host file) copied in before building."""
    tags: tuple[str, ...] = (FIXTURE_TAG,)
    """The tags it gets (from its ``tags`` file; ``latest`` without one)."""

    @property
    def refs(self) -> tuple[str, ...]:
        """Every ``name:tag`` the image answers to."""
        return tuple(f"{self.name}:{tag}" for tag in self.tags)

    @property
    def tag(self) -> str:
        """The first of `refs` (what it is built as; the others are tags of it)."""
        return self.refs[0]

    @property
    def archive(self) -> str:
        """The file name of its saved image."""
        return self.name.replace("/", "__") + ".tar"


def fixtures_for(config: RunConfig) -> list[Fixture]:
    """``test`` first (authors' images may build FROM it), then the authors' images by name.

    A fixture is a directory with a Dockerfile anywhere under the fixtures directory; its
    path is the image's name (``nicolaka/netshoot/Dockerfile`` → ``nicolaka/netshoot``), its
    subdirectories are its build context's own."""
    found = [Fixture("test", BUILTIN_FIXTURES / "test", tuple(STATIC_BINARIES.items()))]
    if config.fixtures_dir is None:
        return found
    root = Path(config.fixtures_dir)
    if not root.is_dir():
        raise ConfigError(f"the fixtures directory {root} does not exist", path=root)
    folders = sorted(d.parent for d in root.rglob("Dockerfile") if d.is_file())
    for folder in folders:
        if any(other in folder.parents for other in folders):
            continue  # a Dockerfile inside another fixture's context
        name = folder.relative_to(root).as_posix()
        _check_name(name, folder / "Dockerfile")
        found.append(Fixture(name, folder, tags=_tags(folder)))
    return found


def _check_name(name: str, dockerfile: Path) -> None:
    parts = name.split("/")
    host_ok = len(parts) > 1 and _HOST.match(parts[0]) is not None
    if not all(_COMPONENT.match(p) for p in (parts[1:] if host_ok else parts)):
        raise ConfigError(
            f"fixture directory {name!r} is not a valid image name (each part lower-case "
            "letters and digits, with '.', '_' or '-' between them; a first part with a dot is "
            "a registry host)", path=dockerfile)
    if name == "test":
        raise ConfigError("the fixture name 'test' is built in; choose another name",
                          path=dockerfile)


def _tags(folder: Path) -> tuple[str, ...]:
    path = folder / TAGS_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return (FIXTURE_TAG,)
    tags = [line.split("#", 1)[0].strip() for line in lines]
    tags = [t for t in tags if t]
    for number, tag in enumerate(tags, 1):
        if not _TAG.match(tag):
            raise ConfigError(f"{tag!r} is not a valid image tag (letters, digits, '_', '.', "
                              "'-'; at most 128)", path=path, line=number)
    return tuple(dict.fromkeys(tags)) or (FIXTURE_TAG,)


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
