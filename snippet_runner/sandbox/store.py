"""The image store: locked images fetched once, verified by digest, served to every sandbox.

The store is a distribution registry's own storage layout under ``<cache_dir>/images``
(``docker/registry/v2/blobs/sha256/<xx>/<hex>/data``): content-addressed, so every lock and
every image shares it, and a registry can serve it as it is. It is filled by skopeo through a
short-lived writable ``docker-registry`` on a free loopback port of the host, copying each
image *by digest* with ``--preserve-digests``: skopeo checks every blob against its digest, the
registry checks each upload again, and blobs already there are not downloaded twice. A
multi-platform image's list is stored byte for byte beside the image for this machine's
platform, so ``docker pull`` prints the digest Docker Hub would.

A sandbox never sees the store's own tags. `make_view` writes, from the lock alone, a small tree
of links (which repositories, tags and blobs exist) that the sandbox's registry serves with the
store's blobs mounted read-only beneath it: ``nginx:1.25`` always answers with the pinned
digest, and a blob the lock doesn't name answers 404.

Blobs are checked again when they are used: a stamp (size, mtime) remembers each one hashed, so
a file changed or damaged since is hashed anew, and dropped and fetched again when it no longer
matches its digest.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..config import SANDBOX_PATH
from ..errors import SandboxError
from .lock import Pin, Sources, host_platform, raw_manifest, sha256, skopeo

MIRROR_PORT = 61999
"""Where each sandbox's registry listens (not 5000: tutorials publish that port)."""
_START_TIMEOUT = 20.0


@dataclass(frozen=True)
class FetchReport:
    """What a fetch did."""

    present: tuple[str, ...]
    """Images the store had already (verified)."""
    fetched: tuple[str, ...]
    """Images copied now."""


def blob_path(store: Path, digest: str) -> Path:
    """Where ``digest``'s content lives in the store."""
    hexa = digest.removeprefix("sha256:")
    return store / "docker/registry/v2/blobs/sha256" / hexa[:2] / hexa / "data"


def _verified(store: Path, digest: str) -> bool:
    """Whether the blob is there and still has the content its digest names (a stamp spares
    hashing it again while the file is unchanged); a damaged blob is removed."""
    path = blob_path(store, digest)
    try:
        info = path.stat()
    except FileNotFoundError:
        return False
    stamp = store / "verified" / digest.removeprefix("sha256:")
    seen = f"{info.st_size} {info.st_mtime_ns}"
    with contextlib.suppress(OSError):
        if stamp.read_text() == seen:
            return True
    if _hash_file(path) != digest:
        path.unlink(missing_ok=True)
        stamp.unlink(missing_ok=True)
        return False
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(seen)
    return True


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def _children(store: Path, digest: str) -> list[str]:
    """The config and layers a manifest in the store names."""
    document = json.loads(blob_path(store, digest).read_bytes())
    parts = [document.get("config"), *document.get("layers", [])]
    return [p["digest"] for p in parts if isinstance(p, dict) and "digest" in p]


def needed(store: Path, pin: Pin, wanted: str) -> list[str] | None:
    """Every blob of ``pin`` for platform ``wanted``, or None when one is missing (or
    damaged) in the store."""
    manifest = pin.manifest_for(wanted)
    if manifest is None:
        raise SandboxError(f"{pin.ref} has no image for {wanted} (the lock has "
                           f"{', '.join(pin.platforms) or 'none'}).")
    blobs = [pin.digest] if manifest != pin.digest else []
    if not all(_verified(store, d) for d in [*blobs, manifest]):
        return None
    layers = _children(store, manifest)
    if not all(_verified(store, d) for d in layers):
        return None
    return [*blobs, manifest, *layers]


def fetch(pins: Iterable[Pin], store: Path, sources: Sources, *, offline: bool = False
          ) -> FetchReport:
    """Copy into the store what it lacks of ``pins`` (for this machine's platform)."""
    wanted = host_platform()
    store.mkdir(parents=True, exist_ok=True)
    with open(store / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one fetcher at a time; the others reuse its work
        todo = [pin for pin in pins if needed(store, pin, wanted) is None]
        present = tuple(pin.ref for pin in pins if pin not in todo)
        if todo and offline:
            raise SandboxError(
                f"the image store lacks {', '.join(p.ref for p in todo)}, and fetching is off "
                "(--offline): run `snippet-runner images fetch` where the registry is reachable.")
        if todo:
            with _fill_registry(store) as fill:
                for pin in todo:
                    _copy(pin, wanted, store, sources, fill)
    return FetchReport(present, tuple(p.ref for p in todo))


def _copy(pin: Pin, wanted: str, store: Path, sources: Sources, fill: str) -> None:
    manifest = pin.manifest_for(wanted)
    assert manifest is not None
    skopeo(["copy", "--quiet", "--preserve-digests", *sources.skopeo_args(pin.host, "src-"),
            "--dest-tls-verify=false", sources.url(pin, manifest),
            f"docker://{fill}/{pin.repository}:pin-{manifest[7:19]}"],
           f"fetch {pin.ref} ({wanted})")
    if manifest != pin.digest:  # the multi-platform list itself, byte for byte
        raw = raw_manifest(sources, pin, pin.digest)
        if sha256(raw) != pin.digest:
            raise SandboxError(f"{pin.ref}: the registry's list does not match the lock's "
                               f"digest {pin.digest}; it may have been tampered with.")
        _put_blob(store, raw, pin.digest)
    if needed(store, pin, wanted) is None:
        raise SandboxError(f"{pin.ref}: fetched, but the store still lacks a part of it.")


def _put_blob(store: Path, data: bytes, digest: str) -> None:
    path = blob_path(store, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def _fill_registry(store: Path) -> Iterator[str]:
    """A writable docker-registry on the store, on a free loopback port, for one fetch."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix=".fill-", dir=store) as folder:
        config = Path(folder) / "config.yml"
        config.write_text(registry_config(store, f"127.0.0.1:{port}", writable=True))
        proc = _serve(config)
        try:
            _wait_for(port, proc)
            yield f"127.0.0.1:{port}"
        finally:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _serve(config: Path) -> subprocess.Popen[bytes]:
    program = shutil.which("docker-registry", path=SANDBOX_PATH)
    if program is None:
        raise SandboxError("real images need Debian's docker-registry (apt-get install "
                           "docker-registry skopeo).")
    return subprocess.Popen([program, "serve", str(config)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={"PATH": SANDBOX_PATH})


def _wait_for(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SandboxError("the registry that fills the image store did not start")
        time.sleep(0.01)


def registry_config(root: Path | str, address: str, *, writable: bool) -> str:
    """A docker-registry configuration serving the storage at ``root`` on ``address``."""
    maintenance = ("{uploadpurging: {enabled: false}}" if writable else
                   "{readonly: {enabled: true}, uploadpurging: {enabled: false}}")
    return (
        "version: 0.1\n"
        "log: {level: error, accesslog: {disabled: true}}\n"
        "storage:\n"
        f"  filesystem: {{rootdirectory: {root}}}\n"
        f"  maintenance: {maintenance}\n"
        f'http: {{addr: "{address}", secret: snippet-runner}}\n'
    )


# -- a sandbox's view ---------------------------------------------------------------------------


def make_view(pins: Mapping[str, Pin], store: Path, out: Path) -> list[str]:
    """Write the registry a sandbox serves for ``pins`` into ``out``: its configuration and,
    per image, links to the store's blobs (which the sandbox mounts read-only at
    ``docker/registry/v2/blobs``). Returns the references it serves: Docker Hub's (the
    sandbox's dockerd uses the registry as its mirror, which applies to Docker Hub only)."""
    wanted = host_platform()
    v2 = out / "docker/registry/v2"
    (v2 / "blobs").mkdir(parents=True)
    served = []
    for pin in pins.values():
        if pin.host != "docker.io":
            continue
        blobs = needed(store, pin, wanted)
        if blobs is None:
            continue  # not fetched (offline): its command says so when it runs
        repo = v2 / "repositories" / pin.repository
        manifests = {pin.digest, pin.manifest_for(wanted) or pin.digest}
        for digest in blobs:
            kind = "_manifests/revisions" if digest in manifests else "_layers"
            _link(repo / kind / "sha256" / digest[7:] / "link", digest)
        if pin.tag is not None:
            _link(repo / "_manifests/tags" / pin.tag / "current/link", pin.digest)
        served.append(pin.ref)
    (out / "config.yml").write_text(registry_config("/sbx/registry", f"127.0.0.1:{MIRROR_PORT}",
                                                    writable=False))
    return served


def _link(path: Path, digest: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(digest)


def blobs_dir(store: Path) -> Path:
    """What the sandbox mounts read-only under its view."""
    folder = store / "docker/registry/v2/blobs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
