"""Which Docker daemon the ``external`` backend talks to, found as the docker CLI finds it.

In the docker CLI's order: ``DOCKER_HOST`` (with ``DOCKER_TLS_VERIFY`` and ``DOCKER_CERT_PATH``),
else the context ``DOCKER_CONTEXT`` names, else the ``currentContext`` of ``config.json`` in
``DOCKER_CONFIG`` (default ``~/.docker``), else the default socket. A context is read from the
files the CLI writes — ``contexts/meta/<sha256 of the name>/meta.json`` for the endpoint and
``contexts/tls/<same>/docker/`` for its TLS files — so no ``docker`` program is needed (Docker
Desktop's ``desktop-linux`` context, a rootless daemon's ``rootless`` context, a remote daemon
over TCP and TLS).

`connect` opens one stream socket to the daemon (the labelling proxy's upstream), and every
failure to reach it is one sentence: what was tried, where that came from, what to do.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError, SandboxError

DEFAULT_HOST = "unix:///var/run/docker.sock"
"""The docker CLI's default endpoint on Linux and macOS."""
CONNECT_TIMEOUT = 10.0
"""Seconds to wait for the daemon to accept a connection."""


@dataclass(frozen=True)
class Endpoint:
    """A Docker daemon's address and how to speak to it."""

    host: str
    """``unix:///path`` or ``tcp://host:port``."""
    origin: str
    """Where it came from, for messages: ``DOCKER_HOST``, ``the docker context 'x' (…)``."""
    tls: bool = False
    """Speak TLS (``tcp://`` only)."""
    verify: bool = True
    """Check the daemon's certificate against ``ca_cert`` (TLS only)."""
    ca_cert: Path | None = None
    """The CA certificate (``ca.pem``)."""
    client_cert: tuple[Path, Path] | None = None
    """The client certificate and key (``cert.pem``, ``key.pem``)."""

    @property
    def unix_path(self) -> str | None:
        """The socket path of a ``unix://`` host."""
        return urlsplit(self.host).path if self.host.startswith("unix://") else None

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS settings of the connection, None for plain connections."""
        if not self.tls:
            return None
        context = ssl.create_default_context(
            cafile=str(self.ca_cert) if self.ca_cert and self.verify else None)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.client_cert is not None:
            context.load_cert_chain(*map(str, self.client_cert))
        return context


def docker_config_dir(env: Mapping[str, str]) -> Path:
    """``DOCKER_CONFIG``, else ``~/.docker``."""
    return Path(env.get("DOCKER_CONFIG") or Path(env.get("HOME") or Path.home()) / ".docker")


def resolve(env: Mapping[str, str] | None = None) -> Endpoint:
    """The daemon the docker CLI would use with this environment (see the module docstring).
    ConfigError for a context that does not exist or can't be read."""
    env = os.environ if env is None else env
    if env.get("DOCKER_HOST"):
        return _from_docker_host(env)
    config_dir = docker_config_dir(env)
    name = env.get("DOCKER_CONTEXT") or _current_context(config_dir)
    why = ("DOCKER_CONTEXT" if env.get("DOCKER_CONTEXT")
           else f"currentContext in {config_dir / 'config.json'}")
    if not name:
        return Endpoint(DEFAULT_HOST, "the default: DOCKER_HOST, DOCKER_CONTEXT and a current "
                                      "docker context are not set")
    if name == "default":  # the CLI's built-in context: DOCKER_HOST or the default socket
        return Endpoint(DEFAULT_HOST, f"the docker context 'default' ({why})")
    return _from_context(name, config_dir, why)


def _from_docker_host(env: Mapping[str, str]) -> Endpoint:
    host = env["DOCKER_HOST"]
    _check_scheme(host, "DOCKER_HOST")
    tls = bool(env.get("DOCKER_TLS_VERIFY")) or host.startswith("https://")
    certs = Path(env.get("DOCKER_CERT_PATH") or docker_config_dir(env))
    return Endpoint(host.replace("https://", "tcp://", 1), "DOCKER_HOST", tls=tls,
                    ca_cert=certs / "ca.pem" if tls else None,
                    client_cert=_client_cert(certs) if tls else None)


def _current_context(config_dir: Path) -> str | None:
    try:
        config = json.loads((config_dir / "config.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot read the docker configuration: {err}",
                          path=config_dir / "config.json") from err
    name = config.get("currentContext") if isinstance(config, dict) else None
    return str(name) if name else None


def _from_context(name: str, config_dir: Path, why: str) -> Endpoint:
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta_file = config_dir / "contexts" / "meta" / digest / "meta.json"
    origin = f"the docker context '{name}' ({why})"
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        docker = meta["Endpoints"]["docker"]
        host = str(docker["Host"])
    except FileNotFoundError:
        raise ConfigError(f"{origin} does not exist: there is no {meta_file}. Choose an "
                          "existing one (docker context ls), or set DOCKER_HOST.") from None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ConfigError(f"cannot read {origin}: {err!r} in {meta_file}.") from err
    _check_scheme(host, origin)
    tls_dir = config_dir / "contexts" / "tls" / digest / "docker"
    tls = (tls_dir / "ca.pem").is_file() or (tls_dir / "cert.pem").is_file()
    return Endpoint(host, origin, tls=tls and host.startswith("tcp://"),
                    verify=not docker.get("SkipTLSVerify", False),
                    ca_cert=tls_dir / "ca.pem" if (tls_dir / "ca.pem").is_file() else None,
                    client_cert=_client_cert(tls_dir))


def _client_cert(directory: Path) -> tuple[Path, Path] | None:
    cert, key = directory / "cert.pem", directory / "key.pem"
    return (cert, key) if cert.is_file() and key.is_file() else None


def _check_scheme(host: str, origin: str) -> None:
    scheme = host.split("://", 1)[0] if "://" in host else ""
    if scheme in ("unix", "tcp", "https"):
        return
    hint = {"ssh": "forward the remote socket instead (ssh -NL /tmp/docker.sock:"
                   "/var/run/docker.sock HOST) and set DOCKER_HOST=unix:///tmp/docker.sock",
            "npipe": "run snippet-runner inside WSL 2, where Docker Desktop's WSL integration "
                     "gives unix:///var/run/docker.sock"}.get(
        scheme, "use unix:///path/to/docker.sock or tcp://host:port")
    raise ConfigError(f"the Docker host {host!r} from {origin} can't be used by the external "
                      f"backend (it speaks unix:// and tcp:// only): {hint}.")


def connect(endpoint: Endpoint, timeout: float = CONNECT_TIMEOUT) -> socket.socket:
    """A connected stream socket to the daemon; SandboxError (one sentence) if unreachable."""
    try:
        path = endpoint.unix_path
        if path is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(timeout)
                sock.connect(path)
            except BaseException:
                sock.close()
                raise
        else:
            parts = urlsplit(endpoint.host)
            sock = socket.create_connection((parts.hostname or "localhost", parts.port or 2375),
                                            timeout=timeout)
            context = endpoint.ssl_context()
            if context is not None:
                sock = context.wrap_socket(sock, server_hostname=parts.hostname)
        sock.settimeout(None)
        return sock
    except (OSError, ssl.SSLError) as err:
        raise unreachable(endpoint, err) from err


def unreachable(endpoint: Endpoint, err: BaseException) -> SandboxError:
    """The one sentence for a daemon that can't be reached."""
    if isinstance(err, FileNotFoundError):
        why = "there is no socket at that path"
    elif isinstance(err, ConnectionRefusedError):
        why = "nothing accepts connections there"
    elif isinstance(err, PermissionError):
        why = ("permission denied (add your user to the 'docker' group and log in again, or "
               "use a daemon you may reach)")
    elif isinstance(err, (TimeoutError, socket.timeout)):
        why = f"it did not answer within {CONNECT_TIMEOUT:.0f} s"
    elif isinstance(err, ssl.SSLError):
        why = f"the TLS handshake failed ({err.reason or err})"
    else:
        why = getattr(err, "strerror", None) or str(err) or type(err).__name__
    return SandboxError(
        f"could not reach the Docker daemon at {endpoint.host} (from {endpoint.origin}): {why}; "
        "start Docker (Docker Desktop, or the docker service), or point DOCKER_HOST or "
        "'docker context use NAME' at a daemon that runs."
    )


def call(endpoint: Endpoint, method: str, path: str, *, body: Any = None,
         data: bytes | None = None, content_type: str = "application/json",
         timeout: float = 300.0) -> tuple[int, bytes]:
    """One Docker API request: (status, body content). ``body`` is sent as JSON, ``data`` as
    it is. SandboxError when the daemon can't be reached or the connection breaks."""
    payload = json.dumps(body).encode() if body is not None else (data or b"")
    head = (f"{method} {path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n"
            + (f"Content-Type: {content_type}\r\n" if body is not None or data else "")
            + f"Content-Length: {len(payload)}\r\n\r\n").encode()
    sock = connect(endpoint)
    try:
        sock.settimeout(timeout)
        sock.sendall(head + payload)
        raw = bytearray()
        with contextlib.suppress(ConnectionResetError):  # a reset after the answer is its end
            while chunk := sock.recv(65536):
                raw += chunk
        if not raw.startswith(b"HTTP/"):
            raise ConnectionResetError(errno.ECONNRESET, "the connection closed without an "
                                                         "answer")
    except OSError as err:
        raise SandboxError(f"the Docker daemon at {endpoint.host} stopped answering during "
                           f"{method} {path}: {err}") from err
    finally:
        sock.close()
    return split_response(bytes(raw))


def split_response(raw: bytes) -> tuple[int, bytes]:
    """(status, body content) of a whole HTTP response (chunked framing removed)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    fields = status_line.split(" ")
    status = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0
    if b"transfer-encoding: chunked" in head.lower():
        body = dechunk(body)
    return status, body


def dechunk(raw: bytes) -> bytes:
    """A chunked body's content (as much as arrived)."""
    out, pos = bytearray(), 0
    while True:
        end = raw.find(b"\r\n", pos)
        if end < 0:
            return bytes(out)
        try:
            size = int(raw[pos:end].split(b";")[0] or b"0", 16)
        except ValueError:
            return bytes(out)
        if size == 0:
            return bytes(out)
        out += raw[end + 2:end + 2 + size]
        pos = end + 2 + size + 2


def call_json(endpoint: Endpoint, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """`call`, its answer decoded from JSON (None when empty or not JSON)."""
    status, content = call(endpoint, method, path, body=body)
    try:
        return status, json.loads(content) if content.strip() else None
    except ValueError:
        return status, None
