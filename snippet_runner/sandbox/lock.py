"""The image lock file: every real image the pages use, pinned by digest, per platform.

It sits beside the MkDocs configuration (``images.lock``), is written by ``snippet-runner images
lock`` and reviewed like code: a changed digest means the pages now run against another image.
A tag that moved upstream is never followed silently: only ``images update`` moves a pin.

    # Images the pages use, pinned by digest — written by `snippet-runner images lock`.
    images:
      docker.io/library/nginx:1.25:
        digest: sha256:…            what the tag named when it was locked (a list or manifest)
        platforms:                  for a multi-platform image: each platform's own manifest
          linux/amd64: sha256:…
          linux/arm64/v8: sha256:…

Tags are resolved with skopeo (Debian's package: a maintained registry client, no daemon) from
each registry's source: Docker Hub unless a setting names a mirror or a registry of one's own.
Credentials come from the user's docker configuration and are handed to skopeo as a file,
never printed, never copied into a sandbox.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..config import SANDBOX_PATH
from ..errors import ConfigError, SandboxError

HEADER = (
    "# Images the pages use, pinned by digest — written by `snippet-runner images lock`.\n"
    "# Review a change here like code: a new digest means the pages now run against another\n"
    "# image. `snippet-runner images update REF` moves one pin on purpose.\n"
)
INDEX_TYPES = frozenset({"application/vnd.oci.image.index.v1+json",
                         "application/vnd.docker.distribution.manifest.list.v2+json"})
"""Media types of a multi-platform image (an index, a manifest list)."""
SKOPEO_TIMEOUT = 600.0


@dataclass(frozen=True)
class Pin:
    """One locked image."""

    ref: str
    """Canonical reference, ``registry/repository:tag``."""
    digest: str
    """What the tag named when it was locked: a manifest, or a multi-platform list."""
    platforms: Mapping[str, str] = field(default_factory=dict)
    """Platform (``linux/amd64``) → its manifest's digest; empty for a single manifest."""

    @property
    def host(self) -> str:
        """The registry host (``docker.io``)."""
        return self.ref.split("/", 1)[0]

    @property
    def repository(self) -> str:
        """The repository within it (``library/nginx``)."""
        return self.ref.split("/", 1)[1].rsplit("@", 1)[0].rsplit(":", 1)[0]

    @property
    def tag(self) -> str | None:
        """The tag (None for a reference by digest)."""
        last = self.ref.rsplit("/", 1)[-1]
        return None if "@" in last or ":" not in last else last.rsplit(":", 1)[1]

    def manifest_for(self, wanted: str) -> str | None:
        """The manifest digest for ``wanted`` platform (or the image's own digest when it has
        a single one); None when the image has none for it."""
        if not self.platforms:
            return self.digest
        return self.platforms.get(wanted) or next(
            (d for p, d in self.platforms.items() if p.startswith(wanted + "/")), None)


def host_platform() -> str:
    """This machine's platform as images name it (``linux/amd64``, ``linux/arm64``)."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm/v7"}.get(machine, machine)
    return f"linux/{arch}"


def read_lock(path: Path) -> dict[str, Pin]:
    """The pins of the lock file at ``path`` (none when there is no file)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return {}
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"cannot read the image lock: {err}", path=path) from err
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, dict):
        raise ConfigError("the image lock has no 'images:' mapping; write it again with "
                          "`snippet-runner images lock`.", path=path)
    pins = {}
    for ref, entry in images.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("digest"), str)):
            raise ConfigError(f"the image lock's entry {ref!r} has no digest; write it again "
                              "with `snippet-runner images lock`.", path=path)
        platforms = entry.get("platforms") or {}
        pins[str(ref)] = Pin(str(ref), entry["digest"], {str(k): str(v)
                                                          for k, v in platforms.items()})
    return pins


def write_lock(path: Path, pins: Mapping[str, Pin]) -> None:
    """Write the lock file (sorted, so a review shows only what changed), atomically."""
    images = {ref: {"digest": pin.digest, **({"platforms": dict(sorted(pin.platforms.items()))}
                                             if pin.platforms else {})}
              for ref, pin in sorted(pins.items())}
    text = HEADER + yaml.safe_dump({"images": images}, sort_keys=False, width=200)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# -- where images come from -------------------------------------------------------------------


@dataclass(frozen=True)
class Sources:
    """Where each registry's images are fetched from, and with which credentials."""

    mapping: Mapping[str, str] = field(default_factory=dict)
    """Registry host → a mirror or another registry (``http://127.0.0.1:5000``)."""
    authfile: Path | None = None
    """A docker-style config.json with credentials (the user's own, by default)."""

    def location(self, host: str) -> tuple[str, bool]:
        """(``host[:port]`` to ask, whether to verify TLS) for images of ``host``."""
        source = self.mapping.get(host, host)
        plain = source.startswith("http://")
        return source.removeprefix("http://").removeprefix("https://").rstrip("/"), not plain

    def skopeo_args(self, host: str, prefix: str = "") -> list[str]:
        """skopeo's options to read images of ``host`` (``prefix``: ``src-`` for ``copy``)."""
        _, verify = self.location(host)
        args = [] if verify else [f"--{prefix}tls-verify=false"]
        if self.authfile is not None:
            args += [f"--{prefix}authfile", str(self.authfile)]
        return args

    def url(self, pin_or_ref: Pin | str, reference: str) -> str:
        """skopeo's ``docker://`` address of ``reference`` (a tag or digest) in the image's
        repository."""
        pin = pin_or_ref if isinstance(pin_or_ref, Pin) else Pin(pin_or_ref, "")
        where, _ = self.location(pin.host)
        separator = "@" if reference.startswith("sha256:") else ":"
        return f"docker://{where}/{pin.repository}{separator}{reference}"


def default_authfile() -> Path | None:
    """The user's docker configuration, where ``docker login`` keeps credentials."""
    folder = os.environ.get("DOCKER_CONFIG")
    path = Path(folder) / "config.json" if folder else Path.home() / ".docker" / "config.json"
    return path if path.is_file() else None


def skopeo(args: list[str], doing: str) -> bytes:
    """Run skopeo; SandboxError with its last line (never credentials: skopeo prints none)."""
    try:
        done = subprocess.run(["skopeo", *args], capture_output=True, timeout=SKOPEO_TIMEOUT,
                              check=False, env={"PATH": SANDBOX_PATH, "HOME": str(Path.home())})
    except FileNotFoundError as err:
        raise SandboxError("real images need skopeo (Debian's package: apt-get install "
                           "skopeo docker-registry).") from err
    except (OSError, subprocess.SubprocessError) as err:
        raise SandboxError(f"could not {doing}: {err}") from err
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        reason = said[-1] if said else f"skopeo exit status {done.returncode}"
        reason = reason.split('msg="', 1)[-1].rstrip('"').replace('\\"', '"')
        raise SandboxError(f"could not {doing}: {reason}")
    return done.stdout


def raw_manifest(sources: Sources, pin_or_ref: Pin | str, reference: str) -> bytes:
    """A manifest (or list) exactly as the registry serves it."""
    pin = pin_or_ref if isinstance(pin_or_ref, Pin) else Pin(pin_or_ref, "")
    where, _ = sources.location(pin.host)
    return skopeo(["inspect", "--raw", *sources.skopeo_args(pin.host),
                   sources.url(pin, reference)],
                  f"read {pin.ref if reference in pin.ref else f'{pin.ref} ({reference})'} "
                  f"from {where}")


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def resolve(ref: str, sources: Sources) -> Pin:
    """Pin ``ref`` to what its tag names now (with each platform's manifest)."""
    probe = Pin(ref, "")
    reference = probe.tag or ref.rsplit("@", 1)[1]
    raw = raw_manifest(sources, probe, reference)
    try:
        document = json.loads(raw)
    except ValueError as err:
        raise SandboxError(f"{ref}: the registry's manifest is not JSON") from err
    platforms: dict[str, str] = {}
    if document.get("mediaType") in INDEX_TYPES or "manifests" in document:
        for entry in document.get("manifests", []):
            spec = entry.get("platform") or {}
            if spec.get("os") == "unknown" or not spec.get("architecture"):
                continue  # attestations and other non-images
            name = "/".join(p for p in (spec.get("os"), spec.get("architecture"),
                                        spec.get("variant")) if p)
            platforms.setdefault(name, entry["digest"])
    return Pin(ref, sha256(raw), platforms)
