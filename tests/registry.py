"""A real upstream registry on 127.0.0.1 for tests: Debian's docker-registry with htpasswd
credentials, filled with small images built here, offline, and pushed with skopeo.

Each image is Debian's busybox-static plus a tiny layer of its own (``/etc/image-release`` and a
``/www/index.html``), published as a multi-platform index (linux/amd64 and linux/arm64/v8) or
as a single manifest. Layers are deterministic, so digests repeat from run to run.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import io
import json
import socket
import subprocess
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MTIME = 1_700_000_000
APPLETS = ("sh", "ls", "cat", "echo", "wget", "httpd", "sleep", "uname", "ip", "env", "true")
USER, PASSWORD = "docs-bot", "s3cret-Pa55word"


def _tar_gz(entries: list[tuple[str, str, bytes | str | None, int]]) -> tuple[bytes, str]:
    """A gzipped layer of (path, kind, payload, mode) entries and its uncompressed digest."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, kind, payload, mode in entries:
            info = tarfile.TarInfo(path)
            info.mtime, info.mode = MTIME, mode
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, str(payload)
                tar.addfile(info)
            else:
                assert isinstance(payload, bytes)
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    plain = raw.getvalue()
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0) as f:
        f.write(plain)
    return packed.getvalue(), "sha256:" + hashlib.sha256(plain).hexdigest()


class Layout:
    """An OCI image layout being written."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
        self.refs: list[dict[str, object]] = []
        busybox = Path("/bin/busybox").read_bytes()
        self.base = _tar_gz([("bin", "dir", None, 0o755), ("bin/busybox", "file", busybox, 0o755),
                             *((f"bin/{a}", "link", "busybox", 0o777) for a in APPLETS),
                             ("tmp", "dir", None, 0o1777)])

    def blob(self, data: bytes, media: str) -> dict[str, object]:
        digest = hashlib.sha256(data).hexdigest()
        (self.root / "blobs" / "sha256" / digest).write_bytes(data)
        return {"mediaType": media, "digest": f"sha256:{digest}", "size": len(data)}

    def _platform_image(self, name: str, version: str, arch: str) -> dict[str, object]:
        release = f"NAME={name}\nVERSION={version}\nARCH={arch}\n".encode()
        top = _tar_gz([("etc", "dir", None, 0o755), ("etc/image-release", "file", release, 0o644),
                       ("www", "dir", None, 0o755),
                       ("www/index.html", "file", f"{name} {version}\n".encode(), 0o644)])
        layers = [self.blob(self.base[0], "application/vnd.oci.image.layer.v1.tar+gzip"),
                  self.blob(top[0], "application/vnd.oci.image.layer.v1.tar+gzip")]
        config = {"architecture": arch, "os": "linux", "created": "2023-11-14T00:00:00Z",
                  "config": {"Cmd": ["sh"], "Env": ["PATH=/bin"]},
                  "rootfs": {"type": "layers", "diff_ids": [self.base[1], top[1]]}}
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": self.blob(json.dumps(config).encode(),
                                        "application/vnd.oci.image.config.v1+json"),
                    "layers": layers}
        return self.blob(json.dumps(manifest).encode(),
                         "application/vnd.oci.image.manifest.v1+json")

    def add(self, ref: str, name: str, version: str, *, multi: bool = True) -> None:
        """An image under ``ref`` in the layout: an index of two platforms, or one manifest."""
        amd64 = self._platform_image(name, version, "amd64")
        if multi:
            arm64 = self._platform_image(name, version, "arm64")
            index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                     "manifests": [{**amd64, "platform": {"architecture": "amd64", "os": "linux"}},
                                   {**arm64, "platform": {"architecture": "arm64", "os": "linux",
                                                          "variant": "v8"}}]}
            top = self.blob(json.dumps(index).encode(), "application/vnd.oci.image.index.v1+json")
        else:
            top = amd64
        self.refs = [r for r in self.refs if r["annotations"] != {  # type: ignore[comparison-overlap]
            "org.opencontainers.image.ref.name": ref}]
        self.refs.append({**top, "annotations": {"org.opencontainers.image.ref.name": ref}})
        (self.root / "index.json").write_text(json.dumps(
            {"schemaVersion": 2, "manifests": self.refs}))


@dataclass
class Upstream:
    """A running registry playing Docker Hub (or any registry) for a test."""

    address: str
    """``127.0.0.1:PORT``."""
    authfile: Path
    """A docker-style config.json with its credentials."""
    storage: Path
    """Its storage directory (a test may damage a blob there)."""
    layout: Layout
    """Where images are built before they are pushed."""

    def push(self, repository: str, tag: str, name: str, version: str, *,
             multi: bool = True) -> str:
        """Build an image and push it as ``repository:tag``; returns the digest pushed."""
        key = f"{repository.replace('/', '_')}-{tag}"
        self.layout.add(key, name, version, multi=multi)
        subprocess.run(["skopeo", "copy", "--quiet", "--all", "--preserve-digests",
                        "--dest-tls-verify=false", "--dest-authfile", str(self.authfile),
                        f"oci:{self.layout.root}:{key}",
                        f"docker://{self.address}/{repository}:{tag}"], check=True,
                       capture_output=True)
        done = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                               "--authfile", str(self.authfile),
                               f"docker://{self.address}/{repository}:{tag}"],
                              check=True, capture_output=True)
        return "sha256:" + hashlib.sha256(done.stdout).hexdigest()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def upstream(folder: Path) -> Iterator[Upstream]:
    """A docker-registry on a free loopback port, with htpasswd auth, for the test's life."""
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    htpasswd = subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], check=True,
                              capture_output=True, text=True).stdout
    (folder / "htpasswd").write_text(htpasswd)
    (folder / "config.yml").write_text(
        "version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\n"
        f"storage: {{filesystem: {{rootdirectory: {folder / 'storage'}}}, "
        "delete: {enabled: true}}\n"
        f'http: {{addr: "127.0.0.1:{port}", secret: upstream}}\n'
        f"auth: {{htpasswd: {{realm: upstream, path: {folder / 'htpasswd'}}}}}\n")
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    authfile = folder / "auth.json"
    authfile.write_text(json.dumps({"auths": {f"127.0.0.1:{port}": {"auth": auth}}}))
    proc = subprocess.Popen(["docker-registry", "serve", str(folder / "config.yml")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            assert proc.poll() is None and time.monotonic() < deadline, "registry did not start"
            time.sleep(0.02)
        yield Upstream(f"127.0.0.1:{port}", authfile, folder / "storage",
                       Layout(folder / "layout"))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
