"""The ``external`` backend against a real dockerd: what a page creates is labelled and exactly
that is removed — between pages, on Ctrl-C and SIGTERM, after a SIGKILL by the next run — and
what the daemon's owner had stays as it was.

The daemon is a private one in its own namespaces (a `NamespaceSandbox` started without
fixtures), never the host's: the backend reaches it through ``DOCKER_HOST``, as it would reach
Docker Desktop. Objects created with ``docker -H`` straight on it play the user's own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from snippet_runner.config import RunConfig
from snippet_runner.model import Sandbox, Session
from snippet_runner.sandbox import get_backend
from snippet_runner.sandbox.docker_endpoint import Endpoint
from snippet_runner.sandbox.docker_proxy import LABEL, Ledger
from snippet_runner.sandbox.external import (
    ExternalSandbox,
    ensure_fixtures_on,
    remove_sandbox_objects,
)
from snippet_runner.sandbox.fixtures import fixtures_for
from snippet_runner.sandbox.namespace import NamespaceSandbox, SandboxBackend

EXE = [sys.executable, "-c", "import sys; from snippet_runner.cli import main; sys.exit(main())"]


class Daemon:
    """The private dockerd the tests point the external backend at."""

    def __init__(self, box: NamespaceSandbox) -> None:
        self.box = box
        self.host = f"unix://{box.host_path('/sbx/docker.sock')}"

    def docker(self, *args: str, check: bool = True) -> str:
        """The user's own docker, straight on the daemon."""
        proc = subprocess.run(["docker", "-H", self.host, *args], capture_output=True,
                              text=True, timeout=120, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)}: {proc.stderr}")
        return proc.stdout

    def state(self) -> dict[str, list[str]]:
        """Everything the daemon holds, as names, ids and image references."""
        return {
            "containers": sorted(self.docker("ps", "-a", "--format", "{{.Names}}").split()),
            "volumes": sorted(self.docker("volume", "ls", "-q").split()),
            "networks": sorted(self.docker("network", "ls", "--format", "{{.Name}}").split()),
            "images": sorted(self.docker("images", "-a", "-q", "--no-trunc").split()),
            "tags": sorted(self.docker("images", "--format",
                                       "{{.Repository}}:{{.Tag}}={{.ID}}").split()),
        }

    def labelled(self) -> list[str]:
        """Objects that carry a sandbox label."""
        found = []
        for kind in ("container ls -a", "volume ls", "network ls", "image ls -a"):
            out = self.docker(*kind.split(), "-q", "--filter", f"label={LABEL}")
            found += [f"{kind.split()[0]} {x}" for x in out.split()]
        return found


@pytest.fixture(scope="module")
def daemon(sandbox_backend: SandboxBackend, cache_dir: Path) -> Iterator[Daemon]:
    box = NamespaceSandbox.start(RunConfig(cache_dir=cache_dir), None)
    try:
        daemon = Daemon(box)
        # What the backend does first on any daemon: build the fixture images there.
        ensure_fixtures_on(Endpoint(daemon.host, "the test"), fixtures_for(RunConfig()))
        yield daemon
    finally:
        box.close()


@pytest.fixture
def user_objects(daemon: Daemon) -> Iterator[dict[str, list[str]]]:
    """The user's own: a running container with a volume, an unused volume, network and image,
    and a tag of the fixture image; the daemon's state with them."""
    daemon.docker("run", "-d", "--name", "users-db", "-v", "users-data:/data", "test:latest",
                  "sleep", "1000")
    daemon.docker("volume", "create", "users-spare")
    daemon.docker("network", "create", "users-net")
    daemon.docker("commit", "users-db", "users-img:1")
    daemon.docker("tag", "test:latest", "app:latest")
    yield daemon.state()
    daemon.docker("rm", "-f", "-v", "users-db", check=False)
    daemon.docker("volume", "rm", "users-data", "users-spare", check=False)
    daemon.docker("network", "rm", "users-net", check=False)
    daemon.docker("rmi", "app:latest", "users-img:1", check=False)


@pytest.fixture
def external(daemon: Daemon, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
             ) -> Iterator[Sandbox]:
    monkeypatch.setenv("DOCKER_HOST", daemon.host)
    box = get_backend(RunConfig(backend="external", cache_dir=cache_dir)).start()
    try:
        yield box
    finally:
        box.close()


def run(session: Session, command: str, timeout: float = 120) -> tuple[str, int | None]:
    result = session.run(command, timeout=timeout)
    return result.output, result.exit_code


PAGE_CREATES = [
    "docker run -d --name web -v named:/n -v /anon test:latest sleep 1000",
    "printf 'FROM test:latest\\nRUN echo built > /built\\n' > Dockerfile && "
    "docker build -q -t app:latest . && docker build -q -t page-only:1 .",
    "docker tag test:latest mine:1 && docker commit web committed:1",
    "docker network create pagenet && docker volume create pagevol",
    "docker save -o img.tar mine:1 && docker rmi mine:1 && docker load -i img.tar",
    "docker create --name stopped -v /anon2 test:latest true && docker rm stopped",
]
"""Every way a page makes something: containers with a named and anonymous volumes, builds
(one over the user's tag), tags, a commit, a network, a volume, a load, and an anonymous
volume its container no longer holds."""


def test_what_a_page_creates_is_removed_and_what_the_user_had_is_kept(
        daemon: Daemon, user_objects: dict[str, list[str]], external: Sandbox) -> None:
    session = external.open_session()
    for command in PAGE_CREATES:
        out, code = run(session, command)
        assert code == 0, (command, out)
    during = daemon.state()
    assert {"web"} <= set(during["containers"]) and "pagevol" in during["volumes"]
    assert "pagenet" in during["networks"] and "named" in during["volumes"]
    assert any(t.startswith("committed:1=") for t in during["tags"])
    app_now = next(t for t in during["tags"] if t.startswith("app:latest="))
    assert app_now not in user_objects["tags"], "the page's build moved the user's tag"
    # Everything the page created carries its sandbox's label, from the daemon's own view.
    label = daemon.docker("inspect", "-f", f'{{{{index .Config.Labels "{LABEL}"}}}}', "web")
    assert label.strip() == external.label  # type: ignore[attr-defined]
    external.reset()
    assert daemon.state() == user_objects  # the user's tag points at their image again
    assert daemon.labelled() == []


def test_a_page_may_not_touch_what_it_did_not_create(
        daemon: Daemon, user_objects: dict[str, list[str]], external: Sandbox) -> None:
    session = external.open_session()
    for command, what in [("docker rm -f users-db", "container 'users-db'"),
                          ("docker stop users-db", "container 'users-db'"),
                          ("docker exec users-db ls", "container 'users-db'"),
                          ("docker volume rm users-data", "volume 'users-data'"),
                          ("docker network rm users-net", "network 'users-net'"),
                          ("docker rmi app:latest", "image 'app:latest'")]:
        out, code = run(session, command)
        assert code != 0, command
        assert out.startswith(f"Error response from daemon: snippet-runner: the {what} was not "
                              "created by this page; with the external backend a page may "), out
    # The page sees and prunes only its own.
    assert run(session, "docker run -d --name mine test:latest sleep 100 >/dev/null && "
                        "docker ps -a --format '{{.Names}}'") == ("mine\n", 0)
    out, code = run(session, "docker rm -f mine >/dev/null && docker volume create vol >/dev/null"
                             " && docker system prune -af --volumes")
    assert code == 0, out
    after = daemon.state()
    for kind in ("containers", "volumes", "networks", "tags"):
        assert set(user_objects[kind]) <= set(after[kind]), kind
    assert "vol" not in after["volumes"] and "mine" not in after["containers"]
    external.reset()
    assert daemon.state() == user_objects


def test_a_timed_out_command_has_its_containers_killed(daemon: Daemon, external: Sandbox
                                                       ) -> None:
    session = external.open_session()
    result = session.run("docker run --name slow test:latest sleep 300", timeout=3)
    assert result.timed_out
    deadline = time.monotonic() + 20
    while "running" in daemon.docker("inspect", "-f", "{{.State.Status}}", "slow"):
        assert time.monotonic() < deadline, "the timed-out command's container still runs"
        time.sleep(0.2)
    assert run(session, "echo still usable") == ("still usable\n", 0)
    external.reset()
    assert "slow" not in daemon.state()["containers"]


def test_buildkit_images_are_found_by_the_time_they_appeared(daemon: Daemon,
                                                             user_objects: dict[str, list[str]],
                                                             cache_dir: Path) -> None:
    """A BuildKit build (a /grpc session, not rewritable) labels nothing: what appeared while
    it ran is the page's. No buildx here, so the build is made as BuildKit would, unlabelled,
    straight on the daemon, after the proxy noted the session."""
    ledger = Ledger(buildkit_since=time.time(),
                    images_before_buildkit=set(user_objects["images"]),
                    tags_before_buildkit={t.split("=")[0]: t.split("=")[1]
                                          for t in user_objects["tags"]})
    context = cache_dir.parent / "bk-context"
    context.mkdir(exist_ok=True)
    (context / "Dockerfile").write_text("FROM test:latest\nRUN echo bk > /bk\n")
    daemon.docker("build", "-q", "-t", "app:latest", "-t", "bk:1", str(context))
    assert daemon.state() != user_objects
    remove_sandbox_objects(Endpoint(daemon.host, "test"), "no-such-label", ledger)
    assert daemon.state() == user_objects


def _cli(daemon: Daemon, page: Path, cache_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "DOCKER_HOST": daemon.host}
    return subprocess.Popen([*EXE, "check", "--backend", "external", "--cache-dir",
                             str(cache_dir), str(page)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def _wait_for(daemon: Daemon, name: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while name not in daemon.docker("ps", "--format", "{{.Names}}").split():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.1)


LONG_PAGE = """\
```console
$ docker run -d --name held -v held-data:/d test:latest sleep 1000 >/dev/null
$ docker network create held-net >/dev/null
$ sleep 300
```
"""


@pytest.mark.parametrize(("signum", "status", "how"),
                         [(signal.SIGINT, 130, "interrupted (Ctrl-C)"),
                          (signal.SIGTERM, 143, "terminated (SIGTERM)")])
def test_ctrl_c_and_sigterm_remove_what_the_page_created(
        daemon: Daemon, user_objects: dict[str, list[str]], tmp_path: Path, cache_dir: Path,
        signum: int, status: int, how: str) -> None:
    page = tmp_path / "page.md"
    page.write_text(LONG_PAGE, encoding="utf-8")
    proc = _cli(daemon, page, cache_dir)
    _wait_for(daemon, "held", proc)
    time.sleep(0.5)  # the network too
    os.killpg(proc.pid, signum)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == status, stderr
    assert stderr.count("WARNING: the 'external' backend runs the pages on this machine") == 1
    assert (f"snippet-runner: {how}: stopped the commands running on 1 page(s) ({page}); "
            "1 sandbox(es) closed, what they created on the Docker daemon was removed."
            ) in stderr, stderr
    assert daemon.state() == user_objects and daemon.labelled() == []


def test_what_a_sigkilled_run_left_is_removed_by_the_next_run(
        daemon: Daemon, user_objects: dict[str, list[str]], tmp_path: Path,
        cache_dir: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(LONG_PAGE, encoding="utf-8")
    killed = _cli(daemon, page, cache_dir)
    _wait_for(daemon, "held", killed)
    time.sleep(0.5)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.communicate(timeout=60)
    assert daemon.labelled(), "nothing was left to sweep: the test proves nothing"
    quick = tmp_path / "quick.md"
    quick.write_text("```console\n$ docker run --rm test:latest echo ok\nok\n```\n",
                     encoding="utf-8")
    nxt = _cli(daemon, quick, cache_dir)
    out, err = nxt.communicate(timeout=300)
    assert nxt.returncode == 0, out + err
    assert daemon.state() == user_objects and daemon.labelled() == []
    assert not list((cache_dir / "external").glob(f"{killed.pid}-*.json"))


def test_pages_run_one_at_a_time_and_each_starts_clean(daemon: Daemon, tmp_path: Path,
                                                       cache_dir: Path) -> None:
    """Two pages name the same container and volume: on a shared daemon they can't overlap,
    and the second sees nothing of the first."""
    page = ("```console\n$ docker run -d --name same -v same:/d test:latest sleep 100 "
            ">/dev/null\n$ docker ps -a --format '{{.Names}}'; docker volume ls -q\nsame\nsame\n"
            "```\n")
    for name in ("a.md", "b.md"):
        (tmp_path / name).write_text(page, encoding="utf-8")
    env = {**os.environ, "DOCKER_HOST": daemon.host}
    proc = subprocess.run([*EXE, "check", "--backend", "external", "--jobs", "2",
                           "--cache-dir", str(cache_dir), str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 pages: 4 passed" in proc.stdout
    assert daemon.labelled() == []


def test_the_ledger_names_only_what_is_gone_after_a_clean_close(daemon: Daemon,
                                                                external: Sandbox,
                                                                cache_dir: Path) -> None:
    assert isinstance(external, ExternalSandbox)
    record = json.loads(next((cache_dir / "external").glob(f"{os.getpid()}-*.json")).read_text())
    assert record["label"] == external.label
    external.close()
    assert not list((cache_dir / "external").glob(f"{os.getpid()}-*.json"))
