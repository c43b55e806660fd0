"""The ``sandbox`` backend: a private dockerd in its own user, mount, network, PID, UTS, IPC and
cgroup namespaces, inside a cgroup of its own with limits.

A sandbox is started with ``unshare --mount … init.sh outer``, which builds a private root with
read-only binds of the host's /usr and makes the inner namespaces; their PID 1 (``init.sh
inner``) pivots into that root and execs ``tini -- dockerd``. Page shells join with
``nsenter -U …`` (always into the user namespace: without it a shell would be real root). How it
is isolated on this machine — a user namespace as root or without root, or plain namespaces
where none can be made — is `isolation.detect`'s call, made once per run.

Between pages, `NamespaceSandbox.reset` removes the page's Docker objects and runs ``init.sh
reset``, which gives back the private root as it was. Teardown kills the sandbox's PID 1 (the
kernel ends everything in its PID namespace and drops every mount), then whatever is still in its
cgroup (the host-side half of page shells), removes the cgroup and the sandbox directory.
`cleanup.sweep` does the same for sandboxes of runs that were killed.

The sandbox never pulls: dockerd's proxy points at a closed port, and a command that needs a
missing image raises `MissingImageError` (`missing_image`).
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import docker
import docker.errors

from ..config import SANDBOX_PATH, RunConfig
from ..errors import ConfigError, SandboxError
from ..model import RunResult
from . import cgroups, cleanup, rootfs
from .boundary import mapped_errors
from .docker_objects import DockerObjects, docker_objects, remove_new_objects
from .fixtures import Fixture
from .images import ensure_fixtures
from .isolation import MAP_COUNT, Isolation, detect
from .local import warn
from .lock import Pin, Sources, default_authfile, read_lock
from .missing_image import ImageHints, check_missing_image, familiar
from .privileges import refusal_note
from .procfs import fs_type, kill_and_wait, start_time
from .session import PtySession
from .store import MIRROR_PORT, blobs_dir, fetch, make_view

INIT_SCRIPT = Path(__file__).with_name("init.sh")
API_VERSION = "auto"
"""The SDK asks the daemon which API it speaks (20.10's is 1.41; a newer engine, as on a CI
runner, refuses one that old)."""
START_TIMEOUT = 60.0
REQUIRED_TOOLS = {
    "dockerd": "docker.io", "docker": "docker.io", "containerd": "containerd", "runc": "runc",
    "tini": "tini", "unshare": "util-linux", "nsenter": "util-linux", "setpriv": "util-linux",
    "ip": "iproute2",
}
"""Programs a sandbox runs → the Debian package that has them."""
INSIDE_PATH = "/sbx/bin:" + SANDBOX_PATH
"""PATH inside: the sandbox's own bin/ (the docker client matching the daemon) first."""
LAUNCH_ENV = {"PATH": SANDBOX_PATH, "HOME": "/root", "LC_ALL": "C.UTF-8"}
"""The whole environment the sandbox is launched with: nothing of the runner's (a token, a
cloud key, DOCKER_HOST) reaches any process in it."""
NPROC_WITHOUT_ROOT = 4096
"""A non-root runner's sandbox: processes and threads of its creator at most (RLIMIT_NPROC, the
only bound without a cgroup)."""


# -- the sandbox ------------------------------------------------------------------------------


class NamespaceSandbox:
    """One private dockerd; implements `model.Sandbox`. Create with `start`."""

    def __init__(self, sandbox_id: str, directory: Path, isolation: Isolation,
                 fixtures: tuple[list[Fixture], Path] | None, images: ImageSupply) -> None:
        self.id = sandbox_id
        self.dir = directory
        self.isolation = isolation
        self._fixtures = fixtures
        self._images = images
        self._served: list[str] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock_file: IO[bytes] | None = None
        self._init_pid = 0
        self._init_start: int | None = None
        self._closed = False
        self._lock = threading.RLock()  # re-entrant: close() may run from a signal handler
        self._sessions: list[SandboxSession] = []
        self._before = DockerObjects()
        self._run_names: list[str] = []
        self._skeleton = b""
        self._mounts = ""
        self._digests: dict[str, str] = {}
        self._version = ""
        self.client: Any = None
        self.started_in = 0.0
        """Seconds from launch until the daemon answered."""

    @classmethod
    def start(cls, config: RunConfig, fixtures: tuple[list[Fixture], Path] | None,
              images: ImageSupply | None = None) -> NamespaceSandbox:
        """Launch, wait until dockerd answers, load ``fixtures`` (images and their tars);
        serve ``images`` (the locked real images) from the sandbox's own registry."""
        cleanup.install_handlers()
        isolation = detect(config.isolation)
        sandbox_id = f"{os.getpid()}-{secrets.token_hex(4)}"
        directory = config.cache_dir.resolve() / "sandboxes" / sandbox_id
        sandbox = cls(sandbox_id, directory, isolation, fixtures, images or ImageSupply())
        cleanup.register(sandbox)  # before anything exists, so nothing can escape a teardown
        try:
            t0 = time.monotonic()
            with mapped_errors("start the sandbox"):
                sandbox._prepare(config)
                sandbox._launch(config)
                sandbox._start_up(t0)
        except BaseException:
            sandbox.close()
            raise
        return sandbox

    # -- starting -------------------------------------------------------------------------

    def _prepare(self, config: RunConfig) -> None:
        """The sandbox's directory on the host and its cgroup."""
        (self.dir.parent).mkdir(parents=True, exist_ok=True)
        self.dir.mkdir()
        self._lock_file = cleanup.hold_owner_lock(self.dir)
        owner = self.isolation.host_owner
        if self._images.pins:
            self._served = make_view(self._images.pins, self._images.store,
                                     self.dir / "registry")
        rootfs.write_daemon_config(self.dir / "conf", {
            # key.json would otherwise be written to /etc/docker, which `reset` gives back fresh.
            "deprecated-key-path": "/run/docker-key.json",
            "log-level": "warn",
            "storage-driver": "overlay2",
            # Without root there is no cgroup to hand runc: containers then stay in dockerd's
            # own, under the sandbox's process limit.
            **({"rootless": True} if self.isolation.mode == "rootless" else {}),
            # The locked images: pulls of Docker Hub images go to the sandbox's registry (on
            # loopback, where no proxy applies); anything else to the closed proxy.
            **({"registry-mirrors": [f"http://127.0.0.1:{MIRROR_PORT}"]} if self._served
               else {}),
        })
        rootfs.build_etc(self.dir / "etc", owner)
        rootfs.make_bin(self.dir / "bin", rootfs.choose_client())
        (self.dir / "data").mkdir(mode=0o700)
        if owner != os.geteuid():
            os.chown(self.dir / "data", owner, owner)
        if self.isolation.limited:
            limits = cgroups.Limits(config.pids_limit, config.memory_limit, config.cpu_limit)
            cgroups.create(self.id, limits,
                           owner=owner if self.isolation.mode == "userns" else None)

    def _launch(self, config: RunConfig) -> None:
        """Start ``init.sh outer`` in a private mount namespace; dockerd logs to the dir."""
        data = "tmpfs" if fs_type(self.dir) in ("overlay", "overlayfs") else "disk"
        env = {**LAUNCH_ENV, "SBX_MODE": self.isolation.mode, "SBX_MAP": self.isolation.uid_map,
               "SBX_UID": str(self.isolation.owner), "SBX_DATA": data,
               "SBX_TMPFS": str(config.tmpfs_size), "SBX_DATA_SIZE": str(config.memory_limit),
               "SBX_CGROUPS": "\n".join(map(str, cgroups.sandbox_dirs(self.id))),
               "SBX_BLOBS": str(blobs_dir(self._images.store)) if self._served else ""}
        outer = ["unshare", "--mount", "--propagation", "private",
                 "bash", str(INIT_SCRIPT), "outer", str(self.dir)]
        holder: subprocess.Popen[bytes] | None = None
        if self.isolation.mode == "rootless":
            holder = _user_namespace_holder(self.isolation)
            outer = ["prlimit", f"--nproc={NPROC_WITHOUT_ROOT}", "--",
                     "nsenter", "-t", str(holder.pid), "-U", "--", *outer]
        try:
            with open(self.dir / "dockerd.log", "wb") as log:
                self._proc = subprocess.Popen(
                    outer, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    env=env, start_new_session=True,  # a terminal's Ctrl-C reaches us only
                )
        finally:
            if holder is not None:
                _end(holder, after=self._proc)

    def _start_up(self, t0: float) -> None:
        """Wait for the daemon, load the fixtures, note what `reset` goes back to."""
        deadline = t0 + START_TIMEOUT
        self._wait_init(deadline)
        self._connect(deadline)
        self.started_in = time.monotonic() - t0
        self._version = f"docker {self.client.version().get('Version', '?')}"
        if self._fixtures is not None:
            self._load(self._fixtures[0])
        # What `reset` goes back to: the Docker objects, the files of the private root and
        # dockerd's own names in /run (plus the two it creates only later, with the first
        # container and iptables rule).
        self._before = docker_objects(self.client)
        self._skeleton = self.host_path("/sbx/skeleton").read_bytes()
        self._mounts = self.host_path("/sbx/mounts").read_text()
        self._run_names = sorted(
            {*os.listdir(self.host_path("/run")), "containerd", "xtables.lock"}
        )

    def _log_tail(self) -> str:
        try:
            return (self.dir / "dockerd.log").read_text(errors="replace")[-1500:]
        except OSError:
            return ""

    def _wait_init(self, deadline: float) -> None:
        """Learn the namespaces' PID 1 (``init.sh outer`` notes it) and record it."""
        record = self.dir / "init.pid"
        while not self._init_pid:
            with contextlib.suppress(OSError, ValueError):
                self._init_pid = int(record.read_text())
                self._init_start = start_time(self._init_pid)
                (self.dir / "init.json").write_text(json.dumps({
                    "pid": self._init_pid, "start": self._init_start,
                    "pid_ns": os.readlink("/proc/self/ns/pid"),
                }))
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
        if self._proc is not None and self._proc.poll() is not None:
            raise SandboxError(
                "the sandbox's dockerd exited while starting (this needs Linux and Debian's "
                "docker.io, tini and util-linux). Its log ends:\n" + self._log_tail()
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
            with open(self._fixtures[1] / fixture.archive, "rb") as f:
                loaded = self.client.images.load(f)  # one entry per tag, one image
            self._digests[fixture.tag] = loaded[0].id

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

    def enter_argv(self, *, cgroup: str = "pages", network: bool = True) -> list[str]:
        """The argv prefix that runs a program inside: it joins the sandbox's cgroup (``pages``
        for page shells; ``""``, the sandbox's own, for the runner's chores, so a page's fork
        bomb there can't stop a reset), then enters every namespace — the user namespace
        included — with a clean environment on both sides of ``nsenter``."""
        namespaces = ["-m", "-u", "-i", "-p", "-C", "-r", "-w"] + (["-n"] if network else [])
        if self.isolation.mode != "namespaces":
            namespaces = ["-U", *namespaces]
        joins = cgroups.join_paths(self.id, cgroup) if self.isolation.limited else []
        return ["/usr/bin/env", "-i", f"PATH={SANDBOX_PATH}", "/bin/sh", "-c", _JOIN, "sh",
                *joins, "--", "nsenter", "-t", str(self._init_pid), *namespaces, "--",
                "/usr/bin/env", "-i"]

    def open_session(self) -> SandboxSession:
        if self._closed:
            raise SandboxError("this sandbox was closed")
        with mapped_errors("start a shell in the sandbox"):
            session = SandboxSession(self, self.enter_argv())
        with self._lock:
            self._sessions.append(session)
        return session

    def preload(self, images: Sequence[str]) -> None:
        served = set(self._served)
        for ref in images:
            if ref in served:
                with mapped_errors(f"preload {ref} from the sandbox's registry"):
                    repository, tag = ref.rsplit(":", 1)
                    self.client.api.pull(repository, tag)

    @property
    def image_hints(self) -> ImageHints:
        """What a missing-image message needs to know."""
        fixtures = frozenset(r for f in (self._fixtures[0] if self._fixtures else ())
                             for r in f.refs)
        return ImageHints(lock=self._images.lock,
                          pinned=frozenset(familiar(r) for r in self._images.pins),
                          served=frozenset(familiar(r) for r in self._served),
                          fixtures=fixtures)

    def put_file(self, path: str, content: bytes) -> None:
        self.host_path(path)  # validates
        # Written from inside the mount namespace, not through /proc/PID/root: there, an
        # absolute symlink in the sandbox (/etc/localtime -> /usr/share/...) would resolve
        # against the host's root and the write would land on the host.
        self._inside(["sh", "-c", 'mkdir -p -- "$(dirname -- "$1")" && cat >"$1"', "sh", path],
                     f"write {path} in", content)

    def _inside(self, argv: list[str], doing: str, stdin: bytes = b"", *,
                restart: bool = False) -> None:
        """Run ``argv`` inside as the sandbox's root, from the sandbox's own cgroup."""
        command = [*self.enter_argv(cgroup=""), f"PATH={INSIDE_PATH}",
                   f"SBX_MODE={self.isolation.mode}", f"SBX_MOUNTS={self._mounts}",
                   f"SBX_RESTART={int(restart)}", *argv]
        try:
            done = subprocess.run(command, input=stdin, capture_output=True, timeout=60,
                                  env=LAUNCH_ENV)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxError(f"could not {doing} the sandbox: {exc}") from exc
        if done.returncode != 0:
            raise SandboxError(
                f"could not {doing} the sandbox: " + done.stderr.decode(errors="replace").strip()
            )

    def reset(self) -> None:
        """Forget the last page: close its sessions (and kill what they left in the pages
        cgroup); remove the containers, networks, volumes, images and tags created since the
        sandbox was ready (and load again a fixture the page removed); give back the file view
        `start` made — a fresh /etc, empty /tmp, /root, /home and the other scratch file
        systems, nothing added to the root, /dev or /run — the hostname, and no IPC objects
        (``reset`` in init.sh, one process); then make sure the daemon still answers."""
        self._close_sessions()
        if self.isolation.limited:
            with mapped_errors("stop what the page left running"):
                cgroups.kill(self.id, "pages")
        with mapped_errors("reset the sandbox"):
            made_networks = bool(docker_objects(self.client).networks - self._before.networks)
            lost = remove_new_objects(self.client, self._before)
            if lost and self._fixtures is not None:
                self._load([f for f in self._fixtures[0] if set(f.refs) & lost])
        self._inside(["bash", "-c", INIT_SCRIPT.read_text(), INIT_SCRIPT.name, "reset",
                      *self._run_names], "reset", self._skeleton,
                     restart=made_networks)
        with mapped_errors("reach the sandbox's daemon after the reset"):
            self._await_daemon(time.monotonic() + START_TIMEOUT)
            if made_networks:  # a new daemon: its built-in networks have new ids
                self._before = docker_objects(self.client)

    def _await_daemon(self, deadline: float) -> None:
        """Until the daemon answers (again, after a restart)."""
        while True:
            try:
                self.client.ping()
                return
            except Exception:  # refused, reset, not yet listening: all mean "not yet"
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def kill_containers_since(self, started: float) -> None:
        """Kill running containers created at or after ``started`` (a timed-out command's)."""
        api = self.client.api
        with contextlib.suppress(docker.errors.DockerException, OSError):
            for container in api.containers():  # running ones; "Created" in whole seconds
                if container.get("Created", 0) >= started - 1.0:
                    with contextlib.suppress(docker.errors.DockerException, OSError):
                        api.kill(container["Id"])

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        with cleanup.shielded():
            try:
                self._teardown()
            finally:
                cleanup.unregister(self)

    def _teardown(self) -> None:
        """Kill everything, then remove the cgroup and the directory; the owner lock goes
        last, so a sweep never races a teardown."""
        self._close_sessions()
        with contextlib.suppress(Exception):
            if self.client is not None:
                self.client.close()
        if self._init_pid:
            kill_and_wait(self._init_pid, self._init_start)
        if self._proc is not None:
            # The launcher reaps the inner `unshare` once PID 1 is gone; killed first, it would
            # leave that process to the host's init, which may not reap (a zombie).
            try:
                self._proc.wait(timeout=10 if self._init_pid else 0.1)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self._proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=10)
        try:
            if self.isolation.limited:
                cgroups.kill(self.id)
                cgroups.remove(self.id)
        finally:
            rootfs.remove_tree(self.dir)
            if self._lock_file is not None:
                self._lock_file.close()

    def _close_sessions(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    def __enter__(self) -> NamespaceSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_JOIN = 'while [ "$1" != -- ]; do echo $$ >"$1"; shift; done; shift; exec "$@"'
"""Join every cgroup named before ``--`` (by writing our pid), then exec the rest."""


def _user_namespace_holder(isolation: Isolation) -> subprocess.Popen[bytes]:
    """A non-root runner's first user namespace: a process sitting in a new one that Debian's
    setuid ``newuidmap``/``newgidmap`` map onto the user (0) and its subordinate ids (1…)."""
    assert isolation.subordinate is not None
    holder = subprocess.Popen(["unshare", "--user", "--", "setpriv", "--pdeathsig", "KILL",
                               "sleep", "600"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=LAUNCH_ENV)
    own = os.readlink("/proc/self/ns/user")
    deadline = time.monotonic() + 10
    while os.readlink(f"/proc/{holder.pid}/ns/user") == own:
        if time.monotonic() > deadline or holder.poll() is not None:
            _end(holder)
            raise SandboxError("could not make a user namespace for the sandbox")
        time.sleep(0.001)
    uid, gid = isolation.subordinate
    for tool, own_id, first in (("newuidmap", os.getuid(), uid), ("newgidmap", os.getgid(), gid)):
        done = subprocess.run([tool, str(holder.pid), "0", str(own_id), "1", "1", str(first),
                               str(MAP_COUNT)], capture_output=True, text=True, env=LAUNCH_ENV,
                              check=False, timeout=30)
        if done.returncode != 0:
            _end(holder)
            raise SandboxError(f"{tool} refused to map the sandbox's ids: "
                               f"{done.stderr.strip() or done.returncode}")
    return holder


def _end(holder: subprocess.Popen[bytes], after: subprocess.Popen[bytes] | None = None) -> None:
    """Kill the holder once ``after`` (which entered its namespace) has left our own."""
    if after is not None:
        own = os.readlink("/proc/self/ns/user")
        deadline = time.monotonic() + 10
        with contextlib.suppress(OSError):
            while os.readlink(f"/proc/{after.pid}/ns/user") == own \
                    and after.poll() is None and time.monotonic() < deadline:
                time.sleep(0.001)
    holder.kill()
    holder.wait()


class SandboxSession:
    """A `PtySession` inside the sandbox: kills a timed-out command's containers, and turns
    "needs an image from a registry" into `MissingImageError`."""

    def __init__(self, sandbox: NamespaceSandbox, prefix: list[str]) -> None:
        self._sandbox = sandbox
        self._shell = PtySession(prefix, env={"HOME": "/root", "PATH": INSIDE_PATH},
                                 on_timeout=sandbox.kill_containers_since,
                                 ptmx=str(sandbox.host_path("/dev/pts/ptmx")))

    def run(self, command: str, *, timeout: float, stdin: str | None = None) -> RunResult:
        result = self._shell.run(command, timeout=timeout, stdin=stdin)
        if result.exit_code not in (0, None):
            check_missing_image(command, result.output, self._sandbox.image_hints)
            if note := refusal_note(result.output):
                return replace(result, note=note)
        return result

    def close(self) -> None:
        self._shell.close()


# -- the backend ------------------------------------------------------------------------------


class SandboxBackend:
    """Private namespaced dockerds; fixtures built once per process (and cached on disk); the
    locked real images fetched into the store once per run."""

    name = "sandbox"

    def __init__(self, config: RunConfig) -> None:
        _check_preconditions()
        self.config = config
        self._fixtures: tuple[list[Fixture], Path] | None = None
        self._lock = threading.Lock()
        cleanup.install_handlers()  # here, usually on the main thread; workers cannot
        with mapped_errors("remove what earlier runs left"):
            cleanup.sweep(config.cache_dir)
        isolation = detect(config.isolation)
        self.images = ImageSupply.prepare(config)
        for note in (isolation.warning, rootfs.choose_client().note, self.images.problem):
            if note:
                _warn_once(note)

    def start(self) -> NamespaceSandbox:
        with self._lock, mapped_errors("build the fixture images"):
            if self._fixtures is None:
                self._fixtures = ensure_fixtures(
                    self.config, lambda: NamespaceSandbox.start(self.config, None))
        return NamespaceSandbox.start(self.config, self._fixtures, self.images)


@dataclass(frozen=True)
class ImageSupply:
    """The real images a run's sandboxes serve: the lock's pins, and the store holding them."""

    pins: Mapping[str, Pin] = field(default_factory=dict)
    """The lock file's images."""
    store: Path = Path()
    """The image store."""
    lock: Path = Path("images.lock")
    """Where the lock file is."""
    problem: str = ""
    """Why some pinned images could not be fetched (said once; their commands fail)."""

    @classmethod
    def prepare(cls, config: RunConfig) -> ImageSupply:
        """Read the lock and fetch what the store lacks (unless ``offline``)."""
        pins = read_lock(config.images_lock)
        store = config.cache_dir.resolve() / "images"
        if not pins:
            return cls({}, store, config.images_lock)
        sources = Sources(dict(config.image_sources), default_authfile())
        try:
            fetch(pins.values(), store, sources, offline=config.offline)
        except SandboxError as err:
            return cls(pins, store, config.images_lock,
                       f"{err} Pages that use those images fail at their commands.")
        return cls(pins, store, config.images_lock)


_WARNED: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _WARNED:
        _WARNED.add(message)
        warn(message)


def missing_tools(path: str) -> dict[str, str]:
    """The programs the sandbox runs that are not on ``path``, each with its Debian package."""
    return {tool: package for tool, package in REQUIRED_TOOLS.items()
            if shutil.which(tool, path=path) is None}


def _check_preconditions() -> None:
    """The programs, checked before anything starts: one sentence, not a traceback from deep
    inside ``unshare`` (whether this machine can make a user namespace is `detect`'s)."""
    missing = missing_tools(SANDBOX_PATH)
    if missing:
        packages = " ".join(sorted(set(missing.values())))
        raise SandboxError(
            f"the sandbox backend needs {', '.join(missing)}, not found on {SANDBOX_PATH}: "
            f"install Debian's {packages} (apt-get install {packages}), "
            "or choose the 'local' backend for snippets without docker."
        )
