"""One contract, every backend: what the runner may rely on, whichever backend runs a page."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from snippet_runner.config import RunConfig
from snippet_runner.errors import ConfigError, SandboxError
from snippet_runner.model import Sandbox
from snippet_runner.sandbox import get_backend
from snippet_runner.sandbox import namespace as sandbox_module
from snippet_runner.sandbox.cgroups import cgroup_hierarchies
from snippet_runner.sandbox.namespace import REQUIRED_TOOLS, SandboxBackend, missing_tools


@pytest.fixture(params=["local", pytest.param("sandbox", marks=pytest.mark.sandbox)])
def sandbox(request: pytest.FixtureRequest, sandbox_backend: SandboxBackend) -> Iterator[Sandbox]:
    local = RunConfig(backend="local")
    backend = sandbox_backend if request.param == "sandbox" else get_backend(local)
    box = backend.start()
    yield box
    box.close()


def test_output_and_exit_status_of_each_command_are_separate(sandbox: Sandbox) -> None:
    s = sandbox.open_session()
    first = s.run("echo one; echo two >&2", timeout=20)
    second = s.run("echo three; false", timeout=20)
    assert (first.output, first.exit_code) == ("one\ntwo\n", 0)
    assert (second.output, second.exit_code) == ("three\n", 1)
    assert not first.timed_out and not second.timed_out


def test_state_survives_between_commands(sandbox: Sandbox) -> None:
    s = sandbox.open_session()
    s.run("cd /tmp && NAME=kept && export OTHER=also", timeout=20)
    assert s.run('echo "$PWD $NAME $OTHER"', timeout=20).output == "/tmp kept also\n"


def test_environment_is_clean(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    monkeypatch.setenv("LC_ALL", "ko_KR.UTF-8")
    s = sandbox.open_session()
    out = s.run('echo "$LC_ALL|$TZ|$COLUMNS|${DOCKER_HOST-unset}"', timeout=20).output
    assert out == "C.UTF-8|UTC|80|unset\n"


def test_without_stdin_commands_read_dev_null(sandbox: Sandbox) -> None:
    s = sandbox.open_session()
    assert s.run("cat; echo end", timeout=20).output == "end\n"
    tty = s.run("tty", timeout=20)
    assert (tty.output, tty.exit_code) == ("not a tty\n", 1)


def test_stdin_is_typed_into_a_terminal(sandbox: Sandbox) -> None:
    s = sandbox.open_session()
    r = s.run('tty >/dev/null && read -r -p "name? " who && echo "hello $who"', timeout=20,
              stdin="reader")
    assert r.exit_code == 0
    assert r.output == "name? reader\nhello reader\n"


def test_terminal_output_is_normalised(sandbox: Sandbox) -> None:
    s = sandbox.open_session()
    r = s.run(r"printf 'a\r\n\033[1;31mred\033[0m\n\033[?2004hb\n'", timeout=20)
    assert r.output == "a\nred\nb\n"


def test_utf8_output(sandbox: Sandbox) -> None:
    assert sandbox.open_session().run("echo 컨테이너", timeout=20).output == "컨테이너\n"


def test_timeout_kills_the_command_and_the_session_goes_on(sandbox: Sandbox) -> None:
    s = sandbox.open_session()
    s.run("cd / && KEEP=yes", timeout=20)
    r = s.run("echo started; sleep 1000", timeout=2)
    assert r.timed_out and r.exit_code is None
    assert r.output.startswith("started\n")
    assert s.run('echo "$PWD $KEEP"', timeout=20).output == "/ yes\n"


def test_exit_ends_the_shell_and_the_next_command_gets_a_new_one(sandbox: Sandbox) -> None:
    s = sandbox.open_session()
    r = s.run("exit 3", timeout=20)
    assert r.exit_code == 3 and not r.timed_out
    assert s.run("echo again", timeout=20).output == "again\n"


def test_put_file_is_visible_to_sessions(sandbox: Sandbox) -> None:
    sandbox.put_file("/etc/app/config.toml", b"concurrent = 4\n")
    s = sandbox.open_session()
    assert s.run('cat "$SNIPPET_ROOT/etc/app/config.toml"', timeout=20).output == "concurrent = 4\n"


def test_put_file_needs_an_absolute_path(sandbox: Sandbox) -> None:
    with pytest.raises(ConfigError):
        sandbox.put_file("relative/file", b"")


def test_reset_forgets_the_page(sandbox: Sandbox) -> None:
    sandbox.put_file("/etc/app/put.txt", b"x")
    old = sandbox.open_session()
    old.run("echo left >~/home-file", timeout=20)
    sandbox.reset()
    with pytest.raises(SandboxError):
        old.run("true", timeout=20)
    s = sandbox.open_session()
    r = s.run('ls "$SNIPPET_ROOT/etc/app/put.txt" ~/home-file 2>/dev/null; echo $?', timeout=20)
    assert r.output == "2\n"


def test_sessions_of_one_sandbox_are_independent(sandbox: Sandbox) -> None:
    a, b = sandbox.open_session(), sandbox.open_session()
    a.run("cd /tmp; X=a", timeout=20)
    assert b.run('echo "[$X]"', timeout=20).output == "[]\n"
    assert a.run('echo "[$X]"', timeout=20).output == "[a]\n"


def test_identity_for_cache_keys(sandbox: Sandbox) -> None:
    assert sandbox.engine_version
    assert all(d.startswith("sha256:") for d in sandbox.fixture_digests.values())


def test_close_is_idempotent(sandbox: Sandbox) -> None:
    sandbox.open_session().run("true", timeout=20)
    sandbox.close()
    sandbox.close()
    with pytest.raises(SandboxError):
        sandbox.open_session()


def test_unknown_backend_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown backend"):
        get_backend(RunConfig(backend="dind"))


# -- choosing the sandbox backend: its preconditions, in one sentence each ---------------------

V1 = """\
25 1 0:23 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
26 25 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
27 25 0:25 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
28 25 0:26 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
"""
HYBRID = V1 + "29 25 0:27 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
V2 = """\
22 1 0:21 / / rw,relatime - ext4 /dev/vda1 rw
30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw
31 22 0:27 / /my\\040disk rw - ext4 /dev/vdb rw
"""


@pytest.mark.parametrize(
    ("mountinfo", "roots"),
    [
        (V1, ["/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/systemd"]),
        (HYBRID, ["/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory",
                  "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"]),
        (V2, ["/sys/fs/cgroup"]),
    ],
    ids=["v1", "hybrid", "v2"],
)
def test_cgroup_hierarchies_in_every_layout(mountinfo: str, roots: list[str]) -> None:
    assert cgroup_hierarchies(mountinfo) == [Path(r) for r in roots]


def test_this_machines_cgroups_are_found() -> None:
    with open("/proc/self/mountinfo") as f:
        found = cgroup_hierarchies(f.read())
    assert found and all((root / "cgroup.procs").is_file() for root in found)


def _fake_path(tmp_path: Path, *tools: str) -> str:
    for tool in tools:
        (tmp_path / tool).write_text("#!/bin/sh\n")
        (tmp_path / tool).chmod(0o755)
    return str(tmp_path)


def test_missing_tools_name_their_debian_package(tmp_path: Path) -> None:
    everything_but_dockerd = [t for t in REQUIRED_TOOLS if t != "dockerd"]
    assert missing_tools(_fake_path(tmp_path, *everything_but_dockerd)) == {"dockerd": "docker.io"}
    assert missing_tools(_fake_path(tmp_path, "dockerd")) == {}


def test_no_dockerd_is_one_sentence_naming_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_module, "SANDBOX_PATH", _fake_path(tmp_path, "tini", "ip"))
    with pytest.raises(SandboxError) as caught:
        get_backend(RunConfig(cache_dir=tmp_path / "cache"))
    message = str(caught.value)
    assert "dockerd" in message
    assert "apt-get install containerd docker.io runc util-linux" in message
    assert "\n" not in message
    assert not (tmp_path / "cache").exists()  # nothing was started or swept


def test_a_user_without_subordinate_ids_gets_one_sentence(tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(prefix=f"snippet-runner-test-{os.getpid()}-") as tmp:
        os.chmod(tmp, 0o777)  # nobody may write its cache here: the message is about root
        Path(tmp, "page.md").write_text("# T\n\n```console\n$ echo hi\nhi\n```\n")
        done = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             str(Path(sys.executable).with_name("snippet-runner")), "check", "--backend",
             "sandbox", "page.md"],
            cwd=tmp, capture_output=True, text=True, timeout=120,
        )
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    # Without root the sandbox runs in the user's own user namespace: the sentence names what
    # this user lacks for that (nobody has no subordinate ids) and the way out.
    assert "subordinate ids for nobody" in done.stderr and "'local' backend" in done.stderr
