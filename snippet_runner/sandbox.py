"""The sandbox: a private dockerd in its own mount, network, PID, UTS and IPC namespaces.

Layout under ``<cache_dir>`` (``RunConfig.cache_dir``):

    sandboxes/<owner-pid>-<hex>/   one running sandbox (owner.json, init.pid, dockerd.log,
                                   sock/ with daemon.json and the socket, data/ = data root)
    fixtures/<key>/<name>.tar      ``docker save`` of each fixture image; <key> hashes every
                                   build context, so editing a Dockerfile rebuilds

A sandbox is started with ``unshare ... sandbox_init.sh start``: the script builds a private
root and execs ``tini -- dockerd``; pages' shells join it with ``nsenter``. Between pages,
`NamespaceSandbox.reset` removes the page's Docker objects and runs ``sandbox_init.sh reset``,
which gives back the private root as it was (a fresh /etc overlay, empty scratch file systems).
Teardown is one SIGKILL to the namespace's PID 1 (the kernel ends dockerd, containerd, shims and
containers, and drops every mount), then the cgroup directories dockerd created
(``/snippet-runner-<id>`` at the top of every cgroup hierarchy: each v1 controller, or the one
v2 tree, as /proc/self/mountinfo lists them) and the sandbox directory are removed. `sweep`
does the same for sandboxes whose owning process is gone (a SIGKILLed run) and runs before
every new start.

The sandbox never pulls: dockerd's proxy points at a closed port, and a command that needs a
missing image raises `MissingImageError` naming the image and how to add it as a fixture.

Honest limit: namespaces keep tutorial commands from touching the host by accident; root code
that wants out of them gets out. This is not a security boundary.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import docker
import docker.errors

from .api import RunConfig
from .backend import Sandbox
from .backends import LocalSandbox, warn
from .errors import ConfigError, MissingImageError, SandboxError
from .fixture_images import FIXTURE_TAG, Fixture, context_files, fixtures_for, fixtures_key
from .model import RunResult
from .session import PtySession, proc_stat

INIT_SCRIPT = Path(__file__).with_name("sandbox_init.sh")
CGROUP_PREFIX = "snippet-runner-"
"""dockerd's ``--cgroup-parent`` is ``/snippet-runner-<sandbox id>`` in every controller."""
KEEP_FIXTURE_SETS = 4
"""Fixture sets kept in the cache (one per combination of build contexts recently used)."""
API_VERSION = "1.41"
"""dockerd 20.10's API; pinned so the SDK needn't ask first."""
START_TIMEOUT = 60.0
SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""Where the sandbox looks for programs (its PATH; /usr is the host's)."""
REQUIRED_TOOLS = {
    "dockerd": "docker.io", "docker": "docker.io", "containerd": "containerd", "runc": "runc",
    "tini": "tini", "unshare": "util-linux", "nsenter": "util-linux", "ip": "iproute2",
}
"""Programs a sandbox runs → the Debian package that has them."""
FIXTURE_HINT = (
    "No registry is used: every image a page needs must be a fixture, and fixtures are always "
    "tagged :latest. Add a directory '{name}/' with a Dockerfile to the fixtures directory (the "
    "plugin's fixtures_dir, e.g. docs/_fixtures/{name}/Dockerfile; start it FROM test:latest or "
    "FROM scratch) and it will be built offline as {name}:latest and loaded into every sandbox."
)


# -- processes and cgroups -------------------------------------------------------------------


def _start_time(pid: int) -> int | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), None if it doesn't exist;
    stored with every pid so that a recycled pid is never mistaken for ours."""
    stat = proc_stat(pid)
    return int(stat[1][19]) if stat is not None else None


def _alive(pid: int, start: int | None) -> bool:
    return start is not None and _start_time(pid) == start


def _kill_and_wait(pid: int, start: int | None, timeout: float = 10.0) -> None:
    """SIGKILL ``pid`` if it is still the process we started, and wait until it is gone."""
    if not _alive(pid, start):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while _alive(pid, start) and time.monotonic() < deadline:
        time.sleep(0.005)


def _kill_processes_naming(*needles: str) -> None:
    """SIGKILL every process whose command line contains one of ``needles``."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if any(needle in cmdline for needle in needles):
            _kill_and_wait(int(entry), _start_time(int(entry)))


def _mounts(mountinfo: str) -> Iterator[tuple[str, str]]:
    """(mount point, file system type) of each line of a ``/proc/PID/mountinfo`` text."""
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields = left.split()
        if len(fields) > 4 and right:
            yield fields[4].replace("\\040", " "), right.split()[0]


def cgroup_hierarchies(mountinfo: str) -> list[Path]:
    """Where the cgroup hierarchies are mounted: one per v1 controller (cgroup v1), the v1 ones
    plus ``unified`` (hybrid), or just ``/sys/fs/cgroup`` (v2). Read from mountinfo rather
    than guessed from the directory tree, so every layout is handled by the same code."""
    return [Path(point) for point, fstype in _mounts(mountinfo)
            if fstype in ("cgroup", "cgroup2")]


def _cgroup_dirs(pattern: str) -> list[Path]:
    """The directories matching ``pattern`` at the top of every mounted cgroup hierarchy
    (dockerd's ``--cgroup-parent`` is absolute, so its cgroups are there)."""
    with open("/proc/self/mountinfo") as f:
        hierarchies = cgroup_hierarchies(f.read())
    return [path for root in hierarchies for path in root.glob(pattern) if path.is_dir()]


def _remove_cgroup(path: Path, timeout: float = 5.0) -> None:
    """rmdir a cgroup bottom-up; retries while dying tasks still hold it (EBUSY)."""
    deadline = time.monotonic() + timeout
    for sub in sorted((p for p, _, _ in os.walk(path)), key=len, reverse=True):
        while True:
            try:
                os.rmdir(sub)
                break
            except FileNotFoundError:
                break
            except OSError as exc:
                if exc.errno not in (errno.EBUSY, errno.ENOTEMPTY) or time.monotonic() > deadline:
                    raise SandboxError(f"could not remove cgroup {sub}: {exc}") from exc
                time.sleep(0.02)


def _remove_cgroups(sandbox_id: str) -> None:
    for path in _cgroup_dirs(CGROUP_PREFIX + sandbox_id):
        _remove_cgroup(path)


def _fs_type(path: Path) -> str:
    """File system type of the mount holding ``path``."""
    target = str(path.resolve())
    best, fstype = "", "unknown"
    with open("/proc/self/mountinfo") as f:
        for point, kind in _mounts(f.read()):
            inside = target == point or target.startswith(point.rstrip("/") + "/")
            if inside and len(point) >= len(best):
                best, fstype = point, kind
    return fstype


def sweep(cache_dir: Path) -> list[str]:
    """Remove what dead runs left: sandboxes whose owner is gone, and stray cgroup
    directories named after a dead owner pid. Returns the ids removed."""
    removed = []
    root = cache_dir.resolve() / "sandboxes"
    for entry in sorted(root.iterdir()) if root.is_dir() else []:
        record = _read_json(entry / "owner.json")
        owner = record.get("pid")
        if isinstance(owner, int) and _alive(owner, record.get("start")):
            continue
        init = _read_json(entry / "init.json")
        if isinstance(init.get("pid"), int):
            _kill_and_wait(init["pid"], init.get("start"))
        # Killed before init.json was written? Its processes still name the sandbox.
        _kill_processes_naming(f"sandboxes/{entry.name}", CGROUP_PREFIX + entry.name)
        _remove_cgroups(entry.name)
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry.name)
    # Cgroups of a run whose cache_dir was elsewhere: the owner pid is part of the name.
    for path in _cgroup_dirs(CGROUP_PREFIX + "*"):
        owner_text = path.name[len(CGROUP_PREFIX):].split("-", 1)[0]
        if owner_text.isdigit() and not Path(f"/proc/{owner_text}").exists():
            _kill_processes_naming(path.name)  # its dockerd, if still running
            with contextlib.suppress(SandboxError):  # busy: leave it, don't fail the run
                _remove_cgroup(path)
    return removed


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# -- teardown on every exit path --------------------------------------------------------------

_LIVE: weakref.WeakSet[NamespaceSandbox] = weakref.WeakSet()
_LIVE_LOCK = threading.RLock()  # re-entrant: a signal handler may close while we hold it
_HANDLERS_INSTALLED = False


def close_all() -> None:
    """Tear down every sandbox of this process (atexit, SIGINT, SIGTERM)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for sandbox in live:
        sandbox.close()


def _install_handlers() -> None:
    """atexit plus SIGINT/SIGTERM handlers that tear down, then do what was done before."""
    global _HANDLERS_INSTALLED
    if _HANDLERS_INSTALLED:
        return
    _HANDLERS_INSTALLED = True
    atexit.register(close_all)
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread; atexit still runs
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(signum)

        def handler(num: int, frame: FrameType | None, previous: Any = previous) -> None:
            close_all()
            if callable(previous):
                previous(num, frame)
            elif previous == signal.SIG_IGN:
                return
            elif num == signal.SIGINT:
                raise KeyboardInterrupt
            else:
                signal.signal(num, signal.SIG_DFL)
                os.kill(os.getpid(), num)

        signal.signal(signum, handler)


# -- fixture images ---------------------------------------------------------------------------

def ensure_fixtures(config: RunConfig) -> tuple[list[Fixture], Path]:
    """Build and ``docker save`` the fixture images unless the cache has them; returns the
    fixtures and the directory holding one tar per image."""
    fixtures = fixtures_for(config)
    base = config.cache_dir.resolve() / "fixtures"
    base.mkdir(parents=True, exist_ok=True)
    target = base / fixtures_key(fixtures)
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder; the others wait and reuse its result
        if (target / "done").exists():
            os.utime(target)  # recently used: kept by the pruning below
            return fixtures, target
        builder = NamespaceSandbox.start(config, fixtures=None)
        try:
            staging = Path(tempfile.mkdtemp(prefix=".build-", dir=base))
            try:
                for fixture in fixtures:
                    _build(builder, fixture, staging)
                (staging / "done").write_text("")
                staging.rename(target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            _prune(base, keep=KEEP_FIXTURE_SETS)
        finally:
            builder.close()
    return fixtures, target


def _prune(base: Path, keep: int) -> None:
    """Delete all but the ``keep`` most recently used fixture sets."""
    sets = sorted((p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in sets[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def _build(builder: NamespaceSandbox, fixture: Fixture, out_dir: Path) -> None:
    with tempfile.TemporaryDirectory(prefix=f"snippet-runner-ctx-{os.getpid()}-") as tmp:
        context = Path(tmp)
        for rel, path in context_files(fixture):
            (context / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, context / rel)
        try:
            builder.client.images.build(
                path=str(context), tag=fixture.tag, rm=True, forcerm=True, pull=False,
            )
        except (docker.errors.BuildError, docker.errors.APIError) as exc:
            if isinstance(exc, docker.errors.BuildError):
                log = "".join(str(item.get("stream", item.get("error", "")))
                              for item in exc.build_log)
                why = f"{exc.msg}\n{log[-1500:]}"
            else:
                why = str(exc.explanation or exc)
            raise SandboxError(
                f"building fixture image {fixture.tag} from {fixture.context / 'Dockerfile'} "
                f"failed: {why}"
            ) from exc
    with open(out_dir / f"{fixture.name}.tar", "wb") as f:
        for chunk in builder.client.api.get_image(fixture.tag):
            f.write(chunk)


# -- the sandbox ------------------------------------------------------------------------------


class NamespaceSandbox:
    """One private dockerd; implements `backend.Sandbox`. Create with `start`."""

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
        self._before = _DockerObjects()
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
        _install_handlers()
        sandbox_id = f"{os.getpid()}-{secrets.token_hex(4)}"
        directory = _prepare_dir(config.cache_dir.resolve() / "sandboxes" / sandbox_id)
        t0 = time.monotonic()
        sandbox = cls(sandbox_id, directory, _launch(directory, sandbox_id), fixtures)
        with _LIVE_LOCK:
            _LIVE.add(sandbox)
        try:
            sandbox._wait_ready(t0)
            if fixtures is not None:
                sandbox._load(fixtures[0])
            # What `reset` goes back to: the Docker objects and dockerd's own names in /run
            # (plus the two it creates only later, with the first container and iptables rule).
            sandbox._before = _docker_objects(sandbox.client)
            sandbox._run_names = sorted(
                {*os.listdir(sandbox.host_path("/run")), "containerd", "xtables.lock"}
            )
        except BaseException:
            sandbox.close()
            raise
        return sandbox

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
                self._init_start = _start_time(self._init_pid)
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
        the hostname, and no IPC objects (``reset`` in sandbox_init.sh, one process)."""
        self._close_sessions()
        lost = _remove_new_objects(self.client, self._before)
        if lost and self._fixtures is not None:
            self._load([f for f in self._fixtures[0] if f.tag in lost])
        self._inside(["bash", "-c", INIT_SCRIPT.read_text(), INIT_SCRIPT.name, "reset",
                      *self._run_names], "reset")

    def kill_containers_since(self, started: float) -> None:
        """Kill running containers created at or after ``started`` (a timed-out command's)."""
        api = self.client.api
        with contextlib.suppress(docker.errors.APIError):
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
            _kill_and_wait(self._init_pid, self._init_start)
        with contextlib.suppress(ProcessLookupError):
            self._proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=10)
        try:
            _remove_cgroups(self.id)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
            with _LIVE_LOCK:
                _LIVE.discard(self)

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
        json.dumps({"pid": os.getpid(), "start": _start_time(os.getpid())})
    )
    # key.json would otherwise be written to /etc/docker, which `reset` gives back fresh.
    (directory / "sock" / "daemon.json").write_text(json.dumps({
        "deprecated-key-path": "/run/docker-key.json",
        "log-level": "warn",
        "storage-driver": "overlay2",
    }))
    return directory


def _launch(directory: Path, sandbox_id: str) -> subprocess.Popen[bytes]:
    """Start ``sandbox_init.sh start`` as PID 1 of new namespaces; dockerd logs to the dir."""
    data_mode = "tmpfs" if _fs_type(directory) in ("overlay", "overlayfs") else "disk"
    with open(directory / "dockerd.log", "wb") as log:
        return subprocess.Popen(
            ["unshare", "--mount", "--net", "--pid", "--uts", "--ipc", "--fork",
             "bash", str(INIT_SCRIPT), "start", str(directory),
             f"/{CGROUP_PREFIX}{sandbox_id}", data_mode],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal's Ctrl-C reaches us, and we tear down
        )


@dataclass(frozen=True)
class _DockerObjects:
    """What a daemon holds, as far as a reset is concerned."""

    containers: frozenset[str] = frozenset()
    """Container ids."""
    networks: frozenset[str] = frozenset()
    """Network ids."""
    volumes: frozenset[str] = frozenset()
    """Volume names."""
    images: tuple[str, ...] = ()
    """Image ids, newest first (a child image must go before its parent)."""
    tags: frozenset[str] = frozenset()
    """``repository:tag`` names."""


def _docker_objects(client: Any) -> _DockerObjects:
    """List the daemon's objects, one call per kind (the SDK's ``containers.list`` would
    inspect every container once more)."""
    api = client.api
    images = sorted(api.images(all=True), key=lambda i: i.get("Created", 0), reverse=True)
    return _DockerObjects(
        containers=frozenset(c["Id"] for c in api.containers(all=True)),
        networks=frozenset(n["Id"] for n in api.networks()),
        volumes=frozenset(v["Name"] for v in api.volumes().get("Volumes") or []),
        images=tuple(i["Id"] for i in images),
        tags=frozenset(t for i in images for t in i.get("RepoTags") or []
                       if t != "<none>:<none>"),
    )


def _remove_new_objects(client: Any, before: _DockerObjects, *, images: bool = True
                        ) -> frozenset[str]:
    """Remove what the daemon holds and ``before`` did not (images and tags too unless told
    not to); returns the tags of ``before`` that are gone (a page ran ``docker rmi``)."""
    api, now = client.api, _docker_objects(client)
    try:
        for container in now.containers - before.containers:
            _gone(api.remove_container, container, force=True, v=True)
        for network in now.networks - before.networks:
            _gone(api.remove_network, network)
        for volume in now.volumes - before.volumes:
            _gone(api.remove_volume, volume, force=True)
        for tag in now.tags - before.tags if images else ():  # `docker tag`, `build -t`
            _gone(api.remove_image, tag)
        for image in (i for i in now.images if i not in before.images) if images else ():
            _gone(api.remove_image, image, force=True)
    except docker.errors.APIError as exc:
        raise SandboxError(f"could not reset the sandbox: {exc}") from exc
    return before.tags - now.tags


def _gone(remove: Any, *args: Any, **kwargs: Any) -> None:
    """Call a docker ``remove``; an object already gone or being removed (``--rm``) is fine."""
    try:
        remove(*args, **kwargs)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        if exc.status_code != 409:  # 409: "removal already in progress"
            raise


_UNABLE = re.compile(r"Unable to find image '([^']+)' locally")
_PULL = re.compile(r"proxyconnect tcp|pull access denied for ([^,\s]+)")


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
            _check_missing_image(command, result.output)
        return result

    def close(self) -> None:
        self._shell.close()


def _check_missing_image(command: str, output: str) -> None:
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


# -- backends ---------------------------------------------------------------------------------


class SandboxBackend:
    """Private namespaced dockerds; fixtures built once per process (and cached on disk)."""

    name = "sandbox"

    def __init__(self, config: RunConfig) -> None:
        _check_preconditions()
        self.config = config
        self._fixtures: tuple[list[Fixture], Path] | None = None
        self._lock = threading.Lock()
        _install_handlers()  # here, usually on the main thread: workers cannot set handlers
        sweep(config.cache_dir)

    def start(self) -> NamespaceSandbox:
        with self._lock:
            if self._fixtures is None:
                self._fixtures = ensure_fixtures(self.config)
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


class ExternalBackend:
    """Pages run on the host against the daemon in ``DOCKER_HOST``: no isolation at all."""

    name = "external"

    def __init__(self, config: RunConfig) -> None:
        host = os.environ.get("DOCKER_HOST")
        if not host:
            raise ConfigError(
                "the 'external' backend uses the Docker daemon named by DOCKER_HOST, "
                "which is not set."
            )
        self.host = host
        warn(
            f"the 'external' backend runs every snippet on THIS machine against {host}, "
            "without any isolation: ports, files and containers are real. Reset removes only "
            "the containers, networks and volumes created during a page."
        )

    def start(self) -> Sandbox:
        return ExternalSandbox(self.host)


class ExternalSandbox(LocalSandbox):
    """`LocalSandbox` plus ``DOCKER_HOST`` and a reset of the page's Docker objects."""

    def __init__(self, host: str) -> None:
        super().__init__()
        self._host = host
        self.client: Any = docker.DockerClient(base_url=host, timeout=120)
        self._version = f"docker {self.client.version().get('Version', '?')} (external)"
        self._before = _docker_objects(self.client)

    def open_session(self) -> PtySession:
        session = PtySession(env={
            "HOME": str(self.root / "home"), "SNIPPET_ROOT": str(self.root),
            "DOCKER_HOST": self._host,
        })
        self._sessions.append(session)
        return session

    def reset(self) -> None:
        super().reset()
        # Images stay: on a real daemon, a rebuilt tag's old image would be left untagged.
        _remove_new_objects(self.client, self._before, images=False)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.reset()
        super().close()
        self.client.close()
