"""The ``sandbox`` backend: a private dockerd in its own mount, network, PID, UTS and IPC
namespaces.

Layout under ``<cache_dir>`` (``RunConfig.cache_dir``):

    sandboxes/<owner-pid>-<hex>/   one running sandbox (owner.json, init.pid, dockerd.log,
                                   sock/ with daemon.json and the socket, data/ = data root)
    fixtures/<key>/<name>.tar      ``docker save`` of each fixture image (see `images`)

A sandbox is started with ``unshare ... init.sh start``: the script builds a private root and
execs ``tini -- dockerd``; pages' shells join it with ``nsenter``. Between pages,
`NamespaceSandbox.reset` removes the page's Docker objects and runs ``init.sh reset``, which
gives back the private root as it was (a fresh /etc overlay, empty scratch file systems).
Teardown is one SIGKILL to the namespace's PID 1 (the kernel ends dockerd, containerd, shims and
containers, and drops every mount), then the cgroup directories dockerd created and the sandbox
directory are removed (`cleanup` does the same for sandboxes of runs that were killed).

The sandbox never pulls: dockerd's proxy points at a closed port, and a command that needs a
missing image raises `MissingImageError` (`missing_image`).

Honest limit: namespaces keep tutorial commands from touching the host by accident; root code
that wants out of them gets out. This is not a security boundary.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import docker
import docker.errors

from ..config import SANDBOX_PATH, RunConfig
from ..errors import ConfigError, SandboxError
from ..model import RunResult
from . import cleanup
from .boundary import mapped_errors
from .docker_objects import DockerObjects, docker_objects, remove_new_objects
from .fixtures import Fixture
from .images import ensure_fixtures
from .missing_image import check_missing_image
from .procfs import CGROUP_PREFIX, fs_type, kill_and_wait, remove_cgroups, start_time
from .session import PtySession

INIT_SCRIPT = Path(__file__).with_name("init.sh")
"""Fixture sets kept in the cache (one per combination of build contexts recently used)."""
API_VERSION = "1.41"
"""dockerd 20.10's API; pinned so the SDK needn't ask first."""
START_TIMEOUT = 60.0
REQUIRED_TOOLS = {
    "dockerd": "docker.io", "docker": "docker.io", "containerd": "containerd", "runc": "runc",
    "tini": "tini", "unshare": "util-linux", "nsenter": "util-linux", "ip": "iproute2",
}
"""Programs a sandbox runs → the Debian package that has them."""

# -- the sandbox ------------------------------------------------------------------------------


class NamespaceSandbox:
    """One private dockerd; implements `model.Sandbox`. Create with `start`."""

    def __init__(self, sandbox_id: str, directory: Path, proc: subprocess.Popen[bytes],
                 fixtures: tuple[list[Fixture], Path] | None) -> None:
        self.id = sandbox_id
        self.dir = directory
        self._proc = proc
        self._fixtures = fixtures
        self._init_pid = 0
        self._init_start: int | None = None
        self._closed = False
        self._lock = threading.RLock()  # re-entrant: close() may run from a signal handler
        self._sessions: list[SandboxSession] = []
        self._before = DockerObjects()
        self._run_names: list[str] = []
        self._digests: dict[str, str] = {}
        self._version = ""
        self.client: Any = None
        self.started_in = 0.0
        """Seconds from launch until the daemon answered."""

    @classmethod
    def start(cls, config: RunConfig, fixtures: tuple[list[Fixture], Path] | None
              ) -> NamespaceSandbox:
        """Launch, wait until dockerd answers, load ``fixtures`` (images and their tars)."""
        cleanup.install_handlers()
        sandbox_id = f"{os.getpid()}-{secrets.token_hex(4)}"
        with mapped_errors("start the sandbox"):
            directory = _prepare_dir(config.cache_dir.resolve() / "sandboxes" / sandbox_id)
            t0 = time.monotonic()
            sandbox = cls(sandbox_id, directory, _launch(directory, sandbox_id), fixtures)
        cleanup.register(sandbox)
        try:
            with mapped_errors("start the sandbox"):
                sandbox._start_up(t0)
        except BaseException:
            sandbox.close()
            raise
        return sandbox

    def _start_up(self, t0: float) -> None:
        """Wait for the daemon, load the fixtures, note what `reset` goes back to."""
        self._wait_ready(t0)
        if self._fixtures is not None:
            self._load(self._fixtures[0])
        # What `reset` goes back to: the Docker objects and dockerd's own names in /run
        # (plus the two it creates only later, with the first container and iptables rule).
        self._before = docker_objects(self.client)
        self._run_names = sorted(
            {*os.listdir(self.host_path("/run")), "containerd", "xtables.lock"}
        )

    def _log_tail(self) -> str:
        try:
            return (self.dir / "dockerd.log").read_text(errors="replace")[-1500:]
        except OSError:
            return ""

    def _wait_ready(self, t0: float) -> None:
        deadline = t0 + START_TIMEOUT
        self._wait_init(deadline)
        self._connect(deadline)
        self.started_in = time.monotonic() - t0
        self._version = f"docker {self.client.version().get('Version', '?')}"

    def _wait_init(self, deadline: float) -> None:
        """Learn the namespaces' PID 1 (unshare's only child) and note it for `sweep`."""
        children = f"/proc/{self._proc.pid}/task/{self._proc.pid}/children"
        while not self._init_pid:
            with contextlib.suppress(OSError, ValueError, IndexError):
                self._init_pid = int(Path(children).read_text().split()[0])
                self._init_start = start_time(self._init_pid)
                (self.dir / "init.json").write_text(
                    json.dumps({"pid": self._init_pid, "start": self._init_start})
                )
            self._check_running(deadline)

    def _connect(self, deadline: float) -> None:
        """Wait until dockerd answers on its socket."""
        socket = self.host_path("/sbx/docker.sock")  # short, whatever cache_dir is
        while True:
            if socket.exists():
                with contextlib.suppress(Exception):
                    client = docker.DockerClient(
                        base_url=f"unix://{socket}", version=API_VERSION, timeout=120,
                    )
                    if client.ping():
                        self.client = client
                        return
            self._check_running(deadline)
            time.sleep(0.01)

    def _check_running(self, deadline: float) -> None:
        if self._proc.poll() is not None:
            raise SandboxError(
                "the sandbox's dockerd exited while starting (this needs Linux, root and "
                "Debian's docker.io, tini and util-linux). Its log ends:\n" + self._log_tail()
            )
        if time.monotonic() > deadline:
            raise SandboxError(
                f"the sandbox's dockerd did not answer within {START_TIMEOUT:.0f} s. "
                "Its log ends:\n" + self._log_tail()
            )
        time.sleep(0.002)

    def _load(self, fixtures: list[Fixture]) -> None:
        """``docker load`` the fixtures' saved images."""
        assert self._fixtures is not None
        for fixture in fixtures:
            with open(self._fixtures[1] / f"{fixture.name}.tar", "rb") as f:
                (image,) = self.client.images.load(f)
            self._digests[fixture.tag] = image.id

    # -- the Sandbox protocol --------------------------------------------------------------

    @property
    def engine_version(self) -> str:
        return self._version

    @property
    def fixture_digests(self) -> dict[str, str]:
        return dict(self._digests)

    @property
    def init_pid(self) -> int:
        """Host pid of the namespaces' PID 1 (tini)."""
        return self._init_pid

    def host_path(self, path: str) -> Path:
        """Where the sandbox's absolute ``path`` is, seen from the host."""
        if not path.startswith("/") or "/../" in f"{path}/":
            raise ConfigError(f"sandbox file paths must be absolute without '..', got {path!r}")
        return Path(f"/proc/{self._init_pid}/root{path}")

    def open_session(self) -> SandboxSession:
        if self._closed:
            raise SandboxError("this sandbox was closed")
        prefix = ["nsenter", "-t", str(self._init_pid), "-m", "-n", "-p", "-u", "-i", "--"]
        with mapped_errors("start a shell in the sandbox"):
            session = SandboxSession(self, prefix)
        with self._lock:
            self._sessions.append(session)
        return session

    def put_file(self, path: str, content: bytes) -> None:
        self.host_path(path)  # validates
        # Written from inside the mount namespace, not through /proc/PID/root: there, an
        # absolute symlink in the sandbox (/etc/localtime -> /usr/share/...) would resolve
        # against the host's root and the write would land on the host.
        self._inside(["sh", "-c", 'mkdir -p -- "$(dirname -- "$1")" && cat >"$1"', "sh", path],
                     "write in", content)

    def _inside(self, argv: list[str], doing: str, stdin: bytes = b"") -> None:
        """Run ``argv`` in the sandbox's mount, UTS, IPC and PID namespaces (mount and umount
        need the PID one: they read /proc/self), clean environment."""
        command = ["nsenter", "-t", str(self._init_pid), "-m", "-u", "-i", "-p", "--",
                   "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", *argv]
        try:
            done = subprocess.run(command, input=stdin, capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxError(f"could not {doing} the sandbox: {exc}") from exc
        if done.returncode != 0:
            raise SandboxError(
                f"could not {doing} the sandbox: " + done.stderr.decode(errors="replace").strip()
            )

    def reset(self) -> None:
        """Forget the last page: close its sessions; remove the containers, networks, volumes,
        images and tags created since the sandbox was ready (and load again a fixture the page
        removed); give back the file view `start` made — a fresh /etc, empty /tmp, /root,
        /home and the other scratch file systems, nothing added to the root, /dev or /run —
        the hostname, and no IPC objects (``reset`` in init.sh, one process)."""
        self._close_sessions()
        with mapped_errors("reset the sandbox"):
            lost = remove_new_objects(self.client, self._before)
            if lost and self._fixtures is not None:
                self._load([f for f in self._fixtures[0] if f.tag in lost])
        self._inside(["bash", "-c", INIT_SCRIPT.read_text(), INIT_SCRIPT.name, "reset",
                      *self._run_names], "reset")

    def kill_containers_since(self, started: float) -> None:
        """Kill running containers created at or after ``started`` (a timed-out command's)."""
        api = self.client.api
        with contextlib.suppress(docker.errors.DockerException, OSError):
            for container in api.containers():  # running ones; "Created" in whole seconds
                if container.get("Created", 0) >= started - 1.0:
                    with contextlib.suppress(docker.errors.APIError):
                        api.kill(container["Id"])

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._close_sessions()
        with contextlib.suppress(Exception):
            if self.client is not None:
                self.client.close()
        if self._init_pid:
            kill_and_wait(self._init_pid, self._init_start)
        with contextlib.suppress(ProcessLookupError):
            self._proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=10)
        try:
            remove_cgroups(self.id)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
            cleanup.unregister(self)

    def _close_sessions(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    def __enter__(self) -> NamespaceSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _prepare_dir(directory: Path) -> Path:
    """The sandbox's directory on the host: owner record, dockerd's config, data root."""
    (directory / "sock").mkdir(parents=True)
    (directory / "data").mkdir()
    (directory / "owner.json").write_text(
        json.dumps({"pid": os.getpid(), "start": start_time(os.getpid())})
    )
    # key.json would otherwise be written to /etc/docker, which `reset` gives back fresh.
    (directory / "sock" / "daemon.json").write_text(json.dumps({
        "deprecated-key-path": "/run/docker-key.json",
        "log-level": "warn",
        "storage-driver": "overlay2",
    }))
    return directory


def _launch(directory: Path, sandbox_id: str) -> subprocess.Popen[bytes]:
    """Start ``init.sh start`` as PID 1 of new namespaces; dockerd logs to the dir."""
    data_mode = "tmpfs" if fs_type(directory) in ("overlay", "overlayfs") else "disk"
    with open(directory / "dockerd.log", "wb") as log:
        return subprocess.Popen(
            ["unshare", "--mount", "--net", "--pid", "--uts", "--ipc", "--fork",
             "bash", str(INIT_SCRIPT), "start", str(directory),
             f"/{CGROUP_PREFIX}{sandbox_id}", data_mode],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal's Ctrl-C reaches us, and we tear down
        )


class SandboxSession:
    """A `PtySession` inside the sandbox: kills a timed-out command's containers, and turns
    "needs an image from a registry" into `MissingImageError`."""

    def __init__(self, sandbox: NamespaceSandbox, prefix: list[str]) -> None:
        self._sandbox = sandbox
        self._shell = PtySession(prefix, env={"HOME": "/root"},
                                 on_timeout=sandbox.kill_containers_since,
                                 ptmx=str(sandbox.host_path("/dev/pts/ptmx")))

    def run(self, command: str, *, timeout: float, stdin: str | None = None) -> RunResult:
        result = self._shell.run(command, timeout=timeout, stdin=stdin)
        if result.exit_code not in (0, None):
            check_missing_image(command, result.output)
        return result

    def close(self) -> None:
        self._shell.close()


# -- backends ---------------------------------------------------------------------------------


class SandboxBackend:
    """Private namespaced dockerds; fixtures built once per process (and cached on disk)."""

    name = "sandbox"

    def __init__(self, config: RunConfig) -> None:
        _check_preconditions()
        self.config = config
        self._fixtures: tuple[list[Fixture], Path] | None = None
        self._lock = threading.Lock()
        cleanup.install_handlers()  # here, usually on the main thread; workers cannot
        with mapped_errors("remove what earlier runs left"):
            cleanup.sweep(config.cache_dir)

    def start(self) -> NamespaceSandbox:
        with self._lock, mapped_errors("build the fixture images"):
            if self._fixtures is None:
                self._fixtures = ensure_fixtures(
                    self.config, lambda: NamespaceSandbox.start(self.config, None))
        return NamespaceSandbox.start(self.config, self._fixtures)


def missing_tools(path: str) -> dict[str, str]:
    """The programs the sandbox runs that are not on ``path``, each with its Debian package."""
    return {tool: package for tool, package in REQUIRED_TOOLS.items()
            if shutil.which(tool, path=path) is None}


def _check_preconditions() -> None:
    """Root and the programs, checked before anything starts: one sentence, not a traceback
    from deep inside ``unshare``."""
    if os.geteuid() != 0:
        raise SandboxError(
            "the sandbox backend needs root (it creates namespaces and runs dockerd); "
            "run as root, or choose the 'local' backend for snippets without docker."
        )
    missing = missing_tools(SANDBOX_PATH)
    if missing:
        packages = " ".join(sorted(set(missing.values())))
        raise SandboxError(
            f"the sandbox backend needs {', '.join(missing)}, not found on {SANDBOX_PATH}: "
            f"install Debian's {packages} (apt-get install {packages}), "
            "or choose the 'local' backend for snippets without docker."
        )

