"""The labelling proxy: how the ``external`` backend knows exactly what a page created.

A page's shell gets ``DOCKER_HOST`` pointing at a private socket served by `LabellingProxy`, which
passes every Docker API request on to the real daemon, unchanged but for these:

* **Labels on what is created**: containers, networks and volumes get the label
  ``io.snippet-runner.sandbox=<this sandbox>`` in their create request; an image a page builds
  (``/build``) or commits gets it through the request's ``labels``/``changes``; a named volume
  that ``docker run -v name:/path`` would create on the fly is created first, labelled. Removing
  exactly what a page made is then one filtered list per kind, and a run killed with SIGKILL is
  swept by the next one, by label.
* **A ledger of what can't carry a label**: image references a page points somewhere
  (``docker pull``, ``tag``, ``build -t``, ``load``, ``commit``), with the image each named
  before, so that afterwards a new reference is removed and an overwritten one points back at
  the user's image; the anonymous volumes of its containers; and, when a page builds with
  BuildKit (a ``/grpc`` session, whose requests can't be rewritten), the images and tags that
  appeared while it did.
* **The user's objects stay the user's**: prunes (``docker system prune``) are limited to the
  page's label; ``docker ps`` lists the page's containers only; and removing — or acting on —
  a container, or removing a network, volume or image, that the page did not create is refused
  with an error response, as the daemon would refuse it, naming why.

Why a proxy and not a before/after comparison of the daemon's objects: the daemon is the user's
(Docker Desktop), used by other programs — and by the other pages of the run — at the same time;
a comparison would remove whatever anyone created meanwhile, and after a SIGKILL nothing would
say what was ours. The proxy needs no change to the page, and whatever client the page runs
(``docker``, ``docker compose``, an SDK) goes through it.

Limits, said in the guide: a page that names another daemon itself (``docker -H …``) bypasses
it; swarm objects (services, secrets, configs) and the build cache are not tracked.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from io import BufferedReader
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from .docker_endpoint import Endpoint, call_json, connect, dechunk, split_response

LABEL = "io.snippet-runner.sandbox"
"""The label every object a page creates carries; its value names the sandbox."""
FIXTURE_LABEL = "io.snippet-runner.fixture"
"""The label of fixture images the backend built (value: the fixtures' key)."""

_MAX_HEAD = 64 * 1024
_MAX_TEE = 8 * 1024 * 1024
"""Response bytes kept for a request whose answer the proxy reads (create, load)."""
_VERSION = re.compile(r"^/v\d+(?:\.\d+)?(?=/)")


@dataclass
class Ledger:
    """What a page created that carries no label; shared by the proxy's threads (``lock``)."""

    refs: dict[str, str | None] = field(default_factory=dict)
    """Image reference (``repo:tag``) the page made point somewhere → the image id it named
    before (None: it did not exist)."""
    images: set[str] = field(default_factory=set)
    """Image ids the page brought in unlabelled (pulled, loaded, built with BuildKit)."""
    volumes: set[str] = field(default_factory=set)
    """Anonymous volumes of the page's containers."""
    buildkit_since: float | None = None
    """When the page first opened a BuildKit session (images created since are suspects)."""
    images_before_buildkit: set[str] = field(default_factory=set)
    """The daemon's image ids at that moment."""
    tags_before_buildkit: dict[str, str] = field(default_factory=dict)
    """And its tags (→ image id): a build may move one of the user's."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    """Guards every field."""

    def to_json(self) -> dict[str, Any]:
        """What `from_json` reads (a run killed with SIGKILL is cleaned up from it)."""
        with self.lock:
            return {"refs": dict(self.refs), "images": sorted(self.images),
                    "volumes": sorted(self.volumes), "buildkit_since": self.buildkit_since,
                    "images_before_buildkit": sorted(self.images_before_buildkit),
                    "tags_before_buildkit": dict(self.tags_before_buildkit)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ledger:
        """The ledger `to_json` wrote."""
        return cls(refs=dict(data.get("refs") or {}), images=set(data.get("images") or ()),
                   volumes=set(data.get("volumes") or ()),
                   buildkit_since=data.get("buildkit_since"),
                   images_before_buildkit=set(data.get("images_before_buildkit") or ()),
                   tags_before_buildkit=dict(data.get("tags_before_buildkit") or {}))

    def note_ref(self, ref: str, before: str | None) -> None:
        """``ref`` is about to change; the first image it named is the one to restore."""
        with self.lock:
            self.refs.setdefault(ref, before)


def normalise_ref(ref: str) -> str:
    """``repo:tag`` as the daemon lists it: the default tag added, Docker Hub's prefix off."""
    name, _, digest = ref.partition("@")
    if digest:
        return ref
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        name += ":latest"
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


# -- HTTP/1.1, as much as the Docker API uses -------------------------------------------------


@dataclass
class Request:
    """One request from the page's client."""

    method: str
    target: str
    """Path and query, as sent (``/v1.50/containers/create?name=web``)."""
    headers: list[tuple[str, str]]

    def header(self, name: str) -> str | None:
        """A header's value (the first, case-insensitively)."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def path(self) -> str:
        """The path without the API version prefix and without the query."""
        return _VERSION.sub("", self.target.split("?", 1)[0])

    @property
    def version_prefix(self) -> str:
        match = _VERSION.match(self.target)
        return match.group(0) if match else ""

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.target.partition("?")[2], keep_blank_values=True)

    def with_query(self, pairs: list[tuple[str, str]]) -> None:
        """Replace the query string."""
        base = self.target.split("?", 1)[0]
        self.target = f"{base}?{urlencode(pairs)}" if pairs else base

    @property
    def upgrade(self) -> bool:
        """A hijacked connection (attach, exec, BuildKit): raw bytes both ways after the head."""
        return self.header("Upgrade") is not None

    def head(self, *, close: bool) -> bytes:
        """The request line and headers as sent upstream."""
        lines = [f"{self.method} {self.target} HTTP/1.1"]
        for name, value in self.headers:
            if close and name.lower() in ("connection", "keep-alive"):
                continue
            lines.append(f"{name}: {value}")
        if close:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _read_head(stream: BufferedReader) -> bytes | None:
    """Bytes up to and including the blank line; None at a clean end of stream."""
    data = bytearray()
    while not data.endswith(b"\r\n\r\n"):
        line = stream.readline(_MAX_HEAD)
        if not line:
            if data:
                raise ConnectionError("the connection ended inside an HTTP head")
            return None
        if not data and line in (b"\r\n", b"\n"):
            continue  # stray line ends between requests
        data += line
        if len(data) > _MAX_HEAD:
            raise ConnectionError("HTTP head too long")
    return bytes(data)


def _parse_request(head: bytes) -> Request:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = [tuple(s.strip() for s in line.split(":", 1)) for line in lines[1:] if ":" in line]
    return Request(method, target, [(k, v) for k, v in headers])


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines if ln)}


def _body_chunks(stream: BufferedReader, headers: dict[str, str]) -> Iterator[bytes]:
    """A message body exactly as it travels (chunk framing kept), ending where it ends."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size_line = stream.readline(1024)
            if not size_line:
                raise ConnectionError("the connection ended inside a chunked body")
            yield size_line
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then the blank line
                    trailer = stream.readline(_MAX_HEAD)
                    yield trailer
                    if trailer in (b"\r\n", b"\n", b""):
                        return
            yield _read_exact(stream, size + 2)
    else:
        left = int(headers.get("content-length", "0") or "0")
        while left > 0:
            chunk = stream.read1(min(left, 65536))
            if not chunk:
                raise ConnectionError("the connection ended inside a body")
            left -= len(chunk)
            yield chunk


def _read_exact(stream: BufferedReader, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise ConnectionError("the connection ended inside a chunk")
    return data


def _split_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body content) of a whole response read until the connection closed."""
    status, body = split_response(raw)
    return status, _headers(raw.partition(b"\r\n\r\n")[0] + b"\r\n"), body


def refusal(message: str, status: int = 403) -> bytes:
    """An error response the docker CLI prints as ``Error response from daemon: <message>``."""
    body = json.dumps({"message": f"snippet-runner: {message}"}).encode()
    reason = {403: "Forbidden", 400: "Bad Request", 502: "Bad Gateway"}.get(status, "Error")
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


# -- the proxy --------------------------------------------------------------------------------


class Refused(Exception):
    """A request the page may not make; the message goes back as an error response."""


After = Callable[[bytes], None]
"""Told the whole response (up to `_MAX_TEE` bytes) once it was relayed."""


class LabellingProxy:
    """One page sandbox's Docker endpoint: a unix socket in ``directory`` (see the module
    docstring). Threads: one accepting, one per client connection (two while hijacked)."""

    def __init__(self, upstream: Endpoint, sandbox_label: str, directory: Path,
                 ledger: Ledger, on_change: Callable[[], None] = lambda: None) -> None:
        self.upstream = upstream
        self.label = sandbox_label
        self.ledger = ledger
        self._on_change = on_change
        self.socket_path = directory / "docker.sock"
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(self.socket_path))
        self.socket_path.chmod(0o600)
        self._listener.listen(64)
        self._open: set[socket.socket] = set()
        self._owned_containers: set[str] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="snippet-runner-proxy",
                                        daemon=True)
        self._thread.start()

    @property
    def host(self) -> str:
        """The ``DOCKER_HOST`` of the page's shell."""
        return f"unix://{self.socket_path}"

    def forget_page(self) -> None:
        """A new page begins (its containers are gone)."""
        with self._lock:
            self._owned_containers.clear()

    def close(self) -> None:
        """Stop accepting and end every connection (a client blocked on one sees it close)."""
        with self._lock:
            self._closed = True
            sockets = [self._listener, *self._open]
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        self._thread.join(timeout=5)
        with contextlib.suppress(OSError):
            self.socket_path.unlink()

    # -- connections -----------------------------------------------------------------------

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            if not self._track(client):
                client.close()
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True,
                             name="snippet-runner-proxy-conn").start()

    def _track(self, sock: socket.socket) -> bool:
        with self._lock:
            if self._closed:
                return False
            self._open.add(sock)
            return True

    def _untrack(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        with contextlib.suppress(OSError):
            sock.close()

    def _serve(self, client: socket.socket) -> None:
        """Requests of one client connection, one upstream connection each."""
        stream = client.makefile("rb")
        try:
            while True:
                head = _read_head(stream)
                if head is None:
                    return
                if not self._exchange(client, stream, _parse_request(head)):
                    return
        except (OSError, ConnectionError, ValueError):
            return  # the page's client went away, or spoke something else
        finally:
            stream.close()
            self._untrack(client)

    def _exchange(self, client: socket.socket, stream: BufferedReader, req: Request) -> bool:
        """Relay one request and its response; False when the connection is done."""
        try:
            body, after = self._rewrite(req, stream)
        except Refused as why:
            for _ in _body_chunks(stream, _headers(req.head(close=False))):
                pass  # the client's body, unread, would be taken for the next request
            client.sendall(refusal(str(why)))
            return True
        try:
            upstream = connect(self.upstream)
        except Exception as err:  # a SandboxError: say it to the page's client, as a daemon
            client.sendall(refusal(str(err), 502))
            return False
        if not self._track(upstream):
            upstream.close()
            return False
        try:
            upstream.sendall(req.head(close=not req.upgrade))
            if body is None:
                for chunk in _body_chunks(stream, _headers(req.head(close=False))):
                    upstream.sendall(chunk)
            else:
                upstream.sendall(body)
            if req.upgrade:
                self._pump(client, stream, upstream)
                return False
            raw = self._relay_response(upstream, client, keep=after is not None)
        finally:
            self._untrack(upstream)
        if after is not None:
            after(raw)
        return True

    def _relay_response(self, upstream: socket.socket, client: socket.socket, *,
                        keep: bool) -> bytes:
        """Pass the response on (told ``Connection: close``, since its upstream connection
        ends with it); the bytes, when ``keep``."""
        kept = bytearray()
        with upstream.makefile("rb") as reply:
            head = _read_head(reply)
            if head is None:
                raise ConnectionError("the daemon closed the connection without answering")
            lines = [ln for ln in head.decode("latin-1").split("\r\n")[:-2]
                     if not ln.lower().startswith(("connection:", "keep-alive:"))]
            fixed = ("\r\n".join([*lines, "Connection: close"]) + "\r\n\r\n").encode("latin-1")
            client.sendall(fixed)
            if keep:
                kept += head
            while chunk := reply.read1(65536):
                client.sendall(chunk)
                if keep and len(kept) < _MAX_TEE:
                    kept += chunk
        client.shutdown(socket.SHUT_WR)  # Go's client then drops this connection
        return bytes(kept)

    def _pump(self, client: socket.socket, stream: BufferedReader,
              upstream: socket.socket) -> None:
        """Raw bytes both ways until either side closes (attach, exec, BuildKit)."""
        def down() -> None:
            with contextlib.suppress(OSError):
                while data := upstream.recv(65536):
                    client.sendall(data)
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_WR)

        thread = threading.Thread(target=down, daemon=True, name="snippet-runner-proxy-down")
        thread.start()
        with contextlib.suppress(OSError, ValueError):
            while data := stream.read1(65536):
                upstream.sendall(data)
        with contextlib.suppress(OSError):
            upstream.shutdown(socket.SHUT_WR)
        thread.join()

    # -- asking the daemon itself ----------------------------------------------------------

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One request of the proxy's own: (status, decoded JSON or None)."""
        return call_json(self.upstream, method, path, body)

    def image_id(self, ref: str) -> str | None:
        """The id of the image ``ref`` names, None if none."""
        status, info = self.api("GET", f"/images/{quote(ref, safe='/:@')}/json")
        return str(info.get("Id")) if status == 200 and isinstance(info, dict) else None

    def _mine(self, labels: Any) -> bool:
        return isinstance(labels, dict) and labels.get(LABEL) == self.label

    # -- what changes in a request ----------------------------------------------------------

    def _rewrite(self, req: Request, stream: BufferedReader
                 ) -> tuple[bytes | None, After | None]:
        """Adjust ``req`` in place; returns its new body (None: pass the body through as it
        comes) and what to do with the response (None: nothing)."""
        path, method = req.path, req.method
        create = re.fullmatch(r"/(containers|networks|volumes)/create", path)
        if method == "POST" and create:
            return self._labelled_create(req, stream, create.group(1))
        if method == "POST" and path in ("/build", "/commit", "/images/create"):
            self._label_image_request(req, path)
            return None, None
        if method == "POST" and path == "/images/load":
            return None, self._after_load(self._tags_now())
        tag = re.fullmatch(r"/images/(.+)/tag", path)
        if method == "POST" and tag:
            pairs = dict(req.query)
            self._note(f"{pairs.get('repo', '')}:{pairs.get('tag') or 'latest'}")
            return None, None
        prune = re.fullmatch(r"/(containers|images|networks|volumes)/prune", path)
        if method == "POST" and prune:
            self._add_label_filter(req)
            return None, None
        if method == "GET" and path == "/containers/json":
            self._add_label_filter(req)
            return None, None
        if path in ("/grpc", "/session") and req.upgrade:
            self._buildkit_begins()
            return None, None
        self._check_owner(method, path)
        return None, None

    def _labelled_create(self, req: Request, stream: BufferedReader, kind: str
                         ) -> tuple[bytes, After | None]:
        raw = b"".join(_body_chunks(stream, _headers(req.head(close=False))))
        if "chunked" in (req.header("Transfer-Encoding") or "").lower():
            raw = dechunk(raw)
        try:
            spec = json.loads(raw or b"{}")
        except ValueError:
            spec = None
        if not isinstance(spec, dict):  # let the daemon say what is wrong with it
            return self._body(req, raw), None
        spec["Labels"] = {**(spec.get("Labels") or {}), LABEL: self.label}
        after: After | None = None
        if kind == "containers":
            self._create_named_volumes(spec)
            after = self._after_container_create
        return self._body(req, json.dumps(spec).encode()), after

    @staticmethod
    def _body(req: Request, body: bytes) -> bytes:
        req.headers = [(k, v) for k, v in req.headers
                       if k.lower() not in ("content-length", "transfer-encoding")]
        req.headers.append(("Content-Length", str(len(body))))
        return body

    def _create_named_volumes(self, spec: dict[str, Any]) -> None:
        """Create, labelled, the named volumes the container would create on the fly."""
        host = spec.get("HostConfig") or {}
        wanted: dict[str, dict[str, Any]] = {}
        for bind in host.get("Binds") or []:
            source = str(bind).split(":", 1)[0]
            if source and not source.startswith(("/", ".")) and ":" in str(bind):
                wanted.setdefault(source, {})
        for mount in host.get("Mounts") or []:
            if isinstance(mount, dict) and mount.get("Type") == "volume" and mount.get("Source"):
                driver = (mount.get("VolumeOptions") or {}).get("DriverConfig") or {}
                wanted[str(mount["Source"])] = {k: v for k, v in (
                    ("Driver", driver.get("Name")), ("DriverOpts", driver.get("Options")))
                    if v}
        for name, options in wanted.items():
            status, _ = self.api("GET", f"/volumes/{quote(name, safe='')}")
            if status == 404:
                self.api("POST", "/volumes/create",
                         {"Name": name, "Labels": {LABEL: self.label}, **options})

    def _after_container_create(self, raw: bytes) -> None:
        status, _, body = _split_response(raw)
        try:
            created = json.loads(body)
        except ValueError:
            return
        if status != 201 or not isinstance(created, dict) or "Id" not in created:
            return
        with self._lock:
            self._owned_containers.add(str(created["Id"]))
        _, info = self.api("GET", f"/containers/{created['Id']}/json")
        anonymous = {str(m.get("Name")) for m in (info or {}).get("Mounts") or []
                     if m.get("Type") == "volume" and re.fullmatch(r"[0-9a-f]{64}",
                                                                   str(m.get("Name")))}
        if anonymous:
            with self.ledger.lock:
                self.ledger.volumes |= anonymous
            self._on_change()

    def _label_image_request(self, req: Request, path: str) -> None:
        """Builds and commits carry the label; the references they (or a pull) set are noted."""
        pairs = req.query
        params = dict(pairs)
        if path == "/build":
            labels = json.loads(params.get("labels") or "{}")
            labels[LABEL] = self.label
            pairs = [(k, v) for k, v in pairs if k != "labels"] + [("labels", json.dumps(labels))]
            for key, value in req.query:
                if key == "t" and value:
                    self._note(value)
        elif path == "/commit" or params.get("fromSrc"):
            pairs.append(("changes", f'LABEL {LABEL}="{self.label}"'))
            if params.get("repo"):
                self._note(f"{params['repo']}:{params.get('tag') or 'latest'}")
        elif params.get("fromImage") and params.get("tag"):
            image, tag = params["fromImage"], params["tag"]
            self._note(f"{image}@{tag}" if tag.startswith("sha256:") else f"{image}:{tag}")
        req.with_query(pairs)

    def _note(self, ref: str) -> None:
        """``ref`` is about to be set by the page: remember what it named before."""
        ref = normalise_ref(ref)
        if ref.startswith(":"):
            return
        self.ledger.note_ref(ref, self.image_id(ref))
        self._on_change()

    def _tags_now(self) -> tuple[dict[str, str], set[str]]:
        status, images = self.api("GET", "/images/json?all=1")
        if status != 200 or not isinstance(images, list):
            return {}, set()
        tags = {t: str(i["Id"]) for i in images for t in i.get("RepoTags") or []
                if t != "<none>:<none>"}
        return tags, {str(i["Id"]) for i in images}

    def _after_load(self, before: tuple[dict[str, str], set[str]]) -> After:
        tags_before, ids_before = before

        def after(raw: bytes) -> None:
            tags_now, ids_now = self._tags_now()
            for tag, image in tags_now.items():
                if tags_before.get(tag) != image:
                    self.ledger.note_ref(tag, tags_before.get(tag))
            with self.ledger.lock:
                self.ledger.images |= ids_now - ids_before
            self._on_change()
        return after

    def _buildkit_begins(self) -> None:
        with self.ledger.lock:
            if self.ledger.buildkit_since is not None:
                return
        tags, ids = self._tags_now()
        with self.ledger.lock:
            if self.ledger.buildkit_since is None:
                self.ledger.buildkit_since = time.time()
                self.ledger.images_before_buildkit = ids
                self.ledger.tags_before_buildkit = tags
        self._on_change()

    def _add_label_filter(self, req: Request) -> None:
        pairs = req.query
        raw = dict(pairs).get("filters") or "{}"
        try:
            filters = json.loads(raw)
        except ValueError:
            return  # the daemon will reject it
        mine = f"{LABEL}={self.label}"
        # The map form ({"label": {"k=v": true}}) is the one every API version reads; the
        # list form is accepted only by newer daemons (prune on 1.41 rejects it).
        label = filters.get("label")
        given = label if isinstance(label, dict) else dict.fromkeys(label or (), True) \
            if isinstance(label, list) else {}
        filters["label"] = {**given, mine: True}
        req.with_query([(k, v) for k, v in pairs if k != "filters"]
                       + [("filters", json.dumps(filters))])

    # -- what a page may touch ---------------------------------------------------------------

    def _check_owner(self, method: str, path: str) -> None:
        """Refused: acting on a container, or removing a network, volume or image, that this
        page did not create."""
        container = re.fullmatch(r"/containers/([^/]+)(/.*)?", path)
        if container and container.group(1) not in ("create", "json", "prune"):
            self._check_container(container.group(1))
            return
        if method != "DELETE":
            return
        kind = re.fullmatch(r"/(networks|volumes|images)/(.+)", path)
        if kind is None:
            return
        what, name = kind.groups()
        if what == "images":
            self._check_image(name)
            return
        status, info = self.api("GET", path)
        if status != 200 or not isinstance(info, dict):
            return  # the daemon answers the removal itself (no such object)
        with self.ledger.lock:
            anonymous = what == "volumes" and name in self.ledger.volumes
        if not (anonymous or self._mine(info.get("Labels"))):
            single = what[:-1]
            raise Refused(f"the {single} {name!r} was not created by this page; with the "
                          f"external backend a page may remove only what it created.")

    def _check_container(self, name: str) -> None:
        with self._lock:
            if name in self._owned_containers:  # the CLI names its own by full id
                return
        status, info = self.api("GET", f"/containers/{quote(name, safe='')}/json")
        if status != 200 or not isinstance(info, dict):
            return
        if self._mine((info.get("Config") or {}).get("Labels")):
            with self._lock:
                self._owned_containers.add(str(info.get("Id")))
            return
        raise Refused(f"the container {name!r} was not created by this page; with the "
                      "external backend a page may act only on the containers it created.")

    def _check_image(self, name: str) -> None:
        ref = normalise_ref(name)
        with self.ledger.lock:
            if ref in self.ledger.refs:
                return
        status, info = self.api("GET", f"/images/{quote(name, safe='/:@')}/json")
        if status != 200 or not isinstance(info, dict):
            return
        with self.ledger.lock:
            brought = str(info.get("Id")) in self.ledger.images
        if brought or self._mine((info.get("Config") or {}).get("Labels")):
            return
        raise Refused(f"the image {name!r} was not created by this page; with the external "
                      "backend a page may remove only the images it built, pulled or tagged.")
