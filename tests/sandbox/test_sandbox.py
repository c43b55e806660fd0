"""The namespaced dockerd against the real engine: what a tutorial does stays in the sandbox."""

from __future__ import annotations

import os
import re
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from snippet_runner.api import load_page, verify_pages
from snippet_runner.config import RunConfig
from snippet_runner.errors import ConfigError, MissingImageError, SandboxError
from snippet_runner.model import Status
from snippet_runner.sandbox import get_backend
from snippet_runner.sandbox.cgroups import CGROUP_PREFIX, cgroup_hierarchies
from snippet_runner.sandbox.fixtures import fixtures_for, fixtures_key
from snippet_runner.sandbox.namespace import NamespaceSandbox, SandboxBackend, SandboxSession

pytestmark = pytest.mark.sandbox

T = 60  # generous per-command limit; no test depends on speed


@pytest.fixture(scope="module")
def box(sandbox_backend: SandboxBackend) -> Iterator[NamespaceSandbox]:
    sandbox = sandbox_backend.start()
    yield sandbox
    sandbox.close()


@pytest.fixture
def sh(box: NamespaceSandbox) -> Iterator[SandboxSession]:
    yield box.open_session()
    box.reset()


def test_docker_run_echo(sh: SandboxSession) -> None:
    r = sh.run("docker run --rm test:latest echo hi", timeout=T)
    assert (r.output, r.exit_code) == ("hi\n", 0)


def test_engine_and_fixture_identity(box: NamespaceSandbox) -> None:
    assert re.match(r"docker 20\.10\.\d+", box.engine_version)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", box.fixture_digests["test:latest"])


def test_test_image_has_bash_and_busybox_tools(sh: SandboxSession) -> None:
    r = sh.run("docker run --rm test:latest bash -c 'echo $BASH_VERSION; wget --help 2>&1 "
               "| head -n 1; command -v httpd'", timeout=T)
    lines = r.output.splitlines()
    assert lines[0].startswith("5.") and lines[1].startswith("BusyBox") and lines[2] == "/bin/httpd"


def _host_listens(port: int) -> bool:
    want = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for row in f.readlines()[1:]:
                cols = row.split()
                if cols[1].endswith(want) and cols[3] == "0A":  # 0A = LISTEN
                    return True
    return False


def test_published_port_is_reachable_inside_and_absent_on_the_host(sh: SandboxSession) -> None:
    assert not _host_listens(4000), "something else listens on the host's port 4000"
    r = sh.run(
        "docker run -d -p 4000:4000 --name web test:latest sh -c "
        "'mkdir -p /w && echo ok-4000 > /w/index.html && httpd -f -p 4000 -h /w' >/dev/null"
        " && for i in $(seq 50); do curl -fs localhost:4000 && break; sleep 0.1; done",
        timeout=T,
    )
    assert r.output == "ok-4000\n"
    inside = sh.run("grep -c ':0FA0 .* 0A ' /proc/net/tcp /proc/net/tcp6 | grep -vc ':0$'",
                    timeout=T)
    assert inside.output != "0\n"  # the sandbox does listen on 4000...
    assert not _host_listens(4000)  # ...the host does not
    with socket.socket() as s, pytest.raises(OSError):
        s.settimeout(2)
        s.connect(("127.0.0.1", 4000))


def test_net_host_shows_only_the_sandbox_interfaces(sh: SandboxSession) -> None:
    container = set(sh.run("docker run --rm --net=host test:latest ls /sys/class/net",
                           timeout=T).output.split())
    sandbox = set(sh.run("ls /sys/class/net", timeout=T).output.split())
    host = set(os.listdir("/sys/class/net"))
    assert container == sandbox
    assert {"lo", "docker0"} <= container
    assert not (host - {"lo", "docker0"}) & container


def test_bind_mounts_of_etc_never_touch_the_host(sh: SandboxSession, box: NamespaceSandbox) -> None:
    name = f"snippet-runner-test-{secrets.token_hex(4)}"
    box.put_file(f"/etc/{name}/config.toml", b"concurrent = 4\n")
    r = sh.run(
        f"docker run --rm -v /etc/{name}/config.toml:/cfg/config.toml "
        f"-v /etc/{name}/new:/data test:latest "
        "sh -c 'cat /cfg/config.toml; echo written > /data/f'"
        f" && cat /etc/{name}/new/f && echo more >> /etc/hostname && cat /etc/resolv.conf",
        timeout=T,
    )
    assert r.output == "concurrent = 4\nwritten\nnameserver 192.0.2.53\n"
    assert not Path(f"/etc/{name}").exists()
    assert "more" not in Path("/etc/hostname").read_text()


def test_interactive_bash_transcript(sh: SandboxSession) -> None:
    r = sh.run("docker container run -it --rm test:latest /bin/bash", timeout=T, stdin="exit")
    assert r.exit_code == 0
    assert re.fullmatch(r"root@[0-9a-f]{12}:/# exit\nexit\n", r.output), r.output


def test_interactive_without_stdin_is_not_a_tty(sh: SandboxSession) -> None:
    r = sh.run("docker container run -it --rm test:latest /bin/bash", timeout=T)
    assert (r.output, r.exit_code) == ("the input device is not a TTY\n", 1)


def test_timeout_kills_the_container_too(sh: SandboxSession, box: NamespaceSandbox) -> None:
    r = sh.run("docker run --name sleeper test:latest sleep 1000", timeout=3)
    assert r.timed_out
    state = sh.run("docker inspect -f '{{.State.Running}}' sleeper", timeout=T)
    assert state.output == "false\n"
    assert sh.run("docker run --rm test:latest echo next", timeout=T).output == "next\n"


def test_missing_image_fails_at_once_naming_the_image(sh: SandboxSession) -> None:
    with pytest.raises(MissingImageError, match=r"nginx:1\.25.*images lock.*_fixtures/nginx/"):
        sh.run("docker run --rm nginx:1.25 true", timeout=T)
    assert sh.run("echo usable", timeout=T).output == "usable\n"


def test_privileged_fails_clearly_instead_of_hanging(sh: SandboxSession) -> None:
    r = sh.run("docker run --rm --privileged test:latest true", timeout=T)
    # This VM's capability bounding set lacks CAP_SYS_RESOURCE; on a machine that allows it,
    # the container runs. Either way the command ends with a status, never a timeout.
    assert not r.timed_out
    assert r.exit_code == 0 or "operation not permitted" in r.output


def test_reset_removes_the_pages_docker_objects_and_keeps_fixtures(box: NamespaceSandbox) -> None:
    s = box.open_session()
    s.run("docker run -d --name keepalive test:latest sleep 1000 && docker network create n1"
          " && docker volume create v1 && docker tag test:latest mine:1", timeout=T)
    box.reset()
    s = box.open_session()
    r = s.run("docker ps -aq | wc -l; docker network ls -q -f name=n1 | wc -l;"
              " docker volume ls -q | wc -l; docker images --format '{{.Repository}}:{{.Tag}}'",
              timeout=T)
    assert r.output == "0\n0\n0\ntest:latest\n"
    box.reset()


def test_reset_gives_the_next_page_a_fresh_private_view(box: NamespaceSandbox) -> None:
    name = f"snippet-runner-test-{secrets.token_hex(4)}"
    made = [f"/etc/{name}", f"/etc/{name}-bind", f"/srv/{name}", f"/var/lib/{name}",
            f"/run/{name}", f"/dev/{name}", f"/{name}"]
    page_a = box.open_session()
    r = page_a.run(
        f"echo page-a > /etc/{name} && echo page-a >> /etc/hosts && hostname page-a"
        " && ipcmk -M 4096 >/dev/null"
        f" && docker run -d -v /etc/{name}-bind:/x test:latest sleep 1000 >/dev/null"
        f" && mkdir {' '.join(made[2:])} && ls -d {' '.join(made)} | wc -l",
        timeout=T,
    )
    assert r.output == f"{len(made)}\n"  # the bind made a directory in the sandbox's /etc
    box.reset()
    page_b = box.open_session()
    r = page_b.run(f"ls -d {' '.join(made)} 2>/dev/null; hostname; grep -c page-a /etc/hosts;"
                   " ipcs -m | grep -c '^0x'", timeout=T)
    assert r.output == "sandbox\n0\n0\n"
    assert page_b.run("cat /etc/resolv.conf; docker run --rm -v /etc/x:/x test:latest echo hi",
                      timeout=T).output == "nameserver 192.0.2.53\nhi\n"
    assert not [p for p in made if Path(p).exists()]  # and the host never had any of it
    box.reset()


def test_reset_ends_what_a_page_detached_from_its_shell(box: NamespaceSandbox) -> None:
    count = "ps -eo args | grep -c '^sleep 4[23]4[23]$'"
    page_a = box.open_session()
    page_a.run("setsid sleep 4242 & (setsid sh -c 'sleep 4343' &)", timeout=T)
    assert page_a.run(f"sleep 0.2; {count}", timeout=T).output == "2\n"
    box.reset()
    r = box.open_session().run(f"{count}; docker run --rm test:latest echo alive", timeout=T)
    assert r.output == "0\nalive\n"
    box.reset()


def test_a_fixture_a_page_removed_is_back_for_the_next(box: NamespaceSandbox) -> None:
    assert box.open_session().run("docker rmi -f test:latest", timeout=T).exit_code == 0
    box.reset()
    r = box.open_session().run("docker run --rm test:latest echo back", timeout=T)
    assert r.output == "back\n"
    box.reset()


def test_cgroups_live_under_the_sandbox_name_in_every_controller(sh: SandboxSession,
                                                                 box: NamespaceSandbox) -> None:
    sh.run("docker run -d test:latest sleep 1000", timeout=T)
    with open("/proc/self/mountinfo") as f:
        controllers = [p for p in cgroup_hierarchies(f.read())
                       if p.name not in ("unified", "systemd")]
    found = [c for c in controllers if (c / f"{CGROUP_PREFIX}{box.id}").is_dir()]
    assert found and len(found) >= len(controllers) - 1, (found, controllers)


def test_put_file_rejects_relative_and_dotdot(box: NamespaceSandbox) -> None:
    for bad in ("etc/x", "/etc/../../x"):
        with pytest.raises(ConfigError):
            box.put_file(bad, b"")


def test_author_fixture_images(tmp_path: Path, cache_dir: Path) -> None:
    fixtures = tmp_path / "_fixtures"
    (fixtures / "hello").mkdir(parents=True)
    (fixtures / "hello" / "Dockerfile").write_text(
        'FROM test:latest\nRUN echo "hello from a fixture" > /greeting\nCMD ["cat", "/greeting"]\n'
    )
    config = RunConfig(cache_dir=cache_dir, fixtures_dir=fixtures)
    key = fixtures_key(fixtures_for(config))
    sandbox = SandboxBackend(config).start()
    try:
        assert set(sandbox.fixture_digests) == {"test:latest", "hello:latest"}
        r = sandbox.open_session().run("docker run --rm hello", timeout=T)
        assert r.output == "hello from a fixture\n"
    finally:
        sandbox.close()
    (fixtures / "hello" / "Dockerfile").write_text("FROM test:latest\n")
    assert fixtures_key(fixtures_for(config)) != key  # editing a Dockerfile rebuilds


def test_fixtures_named_owner_slash_name_with_their_own_tags(tmp_path: Path,
                                                             cache_dir: Path) -> None:
    fixtures = tmp_path / "_fixtures"
    netshoot = fixtures / "nicolaka" / "netshoot"
    (netshoot / "scripts").mkdir(parents=True)
    (netshoot / "Dockerfile").write_text("FROM test:latest\nCOPY scripts/ /s/\n")
    (netshoot / "scripts" / "Dockerfile").write_text("FROM scratch\n")  # its context, no fixture
    (netshoot / "tags").write_text("# what the docs name\nv0.11\nlatest\n")
    config = RunConfig(cache_dir=cache_dir, fixtures_dir=fixtures)
    assert [f.refs for f in fixtures_for(config)] == [
        ("test:latest",), ("nicolaka/netshoot:v0.11", "nicolaka/netshoot:latest")]
    sandbox = SandboxBackend(config).start()
    try:
        r = sandbox.open_session().run(
            "docker run --rm nicolaka/netshoot:v0.11 ls /s; docker image ls nicolaka/netshoot "
            "--format '{{.Tag}}' | sort", timeout=T)
        assert r.output == "Dockerfile\nlatest\nv0.11\n", r.output
    finally:
        sandbox.close()


def test_a_bad_fixture_tag_names_its_line(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "web" / "tags").write_text("1.0\nnot a tag\n")
    with pytest.raises(ConfigError, match=r"tags:2: 'not a tag' is not a valid image tag"):
        fixtures_for(RunConfig(cache_dir=cache_dir, fixtures_dir=tmp_path))


def test_bad_fixture_name_is_a_config_error(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "Bad Name").mkdir()
    (tmp_path / "Bad Name" / "Dockerfile").write_text("FROM scratch\n")
    with pytest.raises(ConfigError, match="Bad Name"):
        fixtures_for(RunConfig(cache_dir=cache_dir, fixtures_dir=tmp_path))


def test_broken_fixture_dockerfile_names_the_file(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "Dockerfile").write_text("FROM test:latest\nRUN false\n")
    backend = SandboxBackend(RunConfig(cache_dir=cache_dir, fixtures_dir=tmp_path))
    with pytest.raises(SandboxError, match=r"broken:latest.*broken/Dockerfile"):
        backend.start()


def test_pages_timeout_at_its_line_and_the_next_page_passes(tmp_path: Path,
                                                            cache_dir: Path) -> None:
    slow = tmp_path / "slow.md"
    slow.write_text('# Slow\n\n```console timeout="3"\n$ sleep 1000\n```\n')
    nxt = tmp_path / "next.md"
    nxt.write_text(
        "# Next\n\n"
        '```console stdin="exit"\n'
        "$ docker container run -it --rm test:latest /bin/bash\n"
        "root@*:/# exit (glob)\n"
        "exit\n"
        "```\n\n"
        "```console\n$ docker run --rm test:latest echo hi\nhi\n```\n"
    )
    config = RunConfig(cache_dir=cache_dir, jobs=1, use_cache=False)
    slow_report, next_report = verify_pages([load_page(slow), load_page(nxt)], config)
    (outcome,) = slow_report.outcomes
    assert outcome.status is Status.TIMEOUT
    assert outcome.command is not None and str(outcome.command.location) == f"{slow}:4"
    assert next_report.ok, [(o.status, o.diff) for o in next_report.outcomes]
    assert [o.status for o in next_report.outcomes] == [Status.PASSED, Status.PASSED]


def test_pull_is_refused_at_once_too(sh: SandboxSession) -> None:
    with pytest.raises(MissingImageError, match=r"alpine:3\.19"):
        sh.run("docker pull alpine:3.19", timeout=T)


def test_external_backend_uses_docker_host_and_warns(
    box: NamespaceSandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{box.host_path('/sbx/docker.sock')}")
    external = get_backend(RunConfig(backend="external")).start()
    try:
        assert "nothing else is isolated" in capsys.readouterr().err
        s = external.open_session()
        r = s.run("docker run -d --name ext test:latest sleep 1000 >/dev/null && "
                  "docker run --rm test:latest echo hi", timeout=T)
        assert r.output == "hi\n"
        external.reset()
        assert box.client.containers.list(all=True) == []
    finally:
        external.close()
    # Without DOCKER_HOST: the docker context, else the default socket (test_docker_endpoint).


def test_put_file_through_an_absolute_symlink_stays_inside(box: NamespaceSandbox) -> None:
    name = f"snippet-runner-test-{secrets.token_hex(4)}"
    s = box.open_session()
    s.run(f"ln -s /tmp /etc/{name}", timeout=T)  # absolute: on the host it would mean /tmp
    box.put_file(f"/etc/{name}/inside.txt", b"ok\n")
    assert s.run("cat /tmp/inside.txt", timeout=T).output == "ok\n"
    assert not Path("/tmp/inside.txt").exists()
    box.reset()
    assert box.open_session().run("ls /tmp | wc -l", timeout=T).output == "0\n"
    box.reset()
