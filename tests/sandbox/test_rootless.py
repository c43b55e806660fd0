"""Without root: a real ordinary user (made here with useradd) verifies a page of docker
commands in its own user namespace, with the same verdicts and output as root, contained the
same way, and leaves nothing behind."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from snippet_runner.config import SANDBOX_PATH

USER = f"sr-t{os.getpid()}"
"""A user of this run alone (other runs on the machine may test the same way at once)."""
EXE = Path(sys.executable).with_name("snippet-runner")

PAGE = """\
# A page

```console
$ docker run --rm test:latest echo hello
hello
$ docker network create demo >/dev/null && docker run --rm --net demo test:latest \\
    sh -c 'ip -o -4 addr show eth0 | wc -l'
1
$ docker volume create notes >/dev/null && docker run --rm -v notes:/n test:latest \\
    sh -c 'echo kept > /n/f' && docker run --rm -v notes:/n test:latest cat /n/f
kept
$ docker run -d --name web -p 4000:4000 test:latest \\
    sh -c 'mkdir /w && echo up > /w/index.html && httpd -f -p 4000 -h /w' >/dev/null; sleep 1
$ curl -s localhost:4000
up
```

```console
$ id -u; mount -o remount,bind,rw /usr 2>/dev/null || echo refused
0
refused
$ sysctl -w vm.max_map_count=262144 2>&1 | tail -1
sysctl: permission denied on key "vm.max_map_count"
```
"""


@pytest.fixture(scope="module")
def user() -> Iterator[pwd.struct_passwd]:
    subprocess.run(["userdel", "-r", USER], capture_output=True, check=False)
    subprocess.run(["useradd", "-m", "-s", "/bin/bash", USER], check=True)
    entry = pwd.getpwnam(USER)
    if not any(line.startswith(f"{USER}:") for line in Path("/etc/subuid").read_text().split()):
        first = 400000 + (os.getpid() % 500) * 65536  # a range of this run's own
        span = f"{first}-{first + 65535}"
        subprocess.run(["usermod", "--add-subuids", span, "--add-subgids", span, USER],
                       check=True)
    yield entry
    subprocess.run(["pkill", "-KILL", "-u", USER], capture_output=True, check=False)
    subprocess.run(["userdel", "-r", USER], capture_output=True, check=False)


def _check(as_user: pwd.struct_passwd | None, folder: Path) -> subprocess.CompletedProcess[str]:
    argv = [str(EXE), "check", "--json", "--jobs", "1", "--cache-dir", str(folder / "cache"),
            str(folder / "page.md")]
    env = {"PATH": SANDBOX_PATH, "HOME": str(folder), "LC_ALL": "C.UTF-8"}
    if as_user is not None:
        argv = ["runuser", "-u", as_user.pw_name, "--", "env", "-i",
                *(f"{k}={v}" for k, v in env.items()), "HOME=" + as_user.pw_dir, *argv]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600,
                          check=False, cwd=folder)


def _verdicts(done: subprocess.CompletedProcess[str]) -> list[tuple[int, str, str]]:
    report = json.loads(done.stdout)
    return [(o["line"], o["status"], o["output"]) for p in report["pages"]
            for o in p["outcomes"]]


def test_an_ordinary_user_gets_the_same_verdicts_as_root(user: pwd.struct_passwd) -> None:
    mine = Path(tempfile.mkdtemp(prefix="snippet-runner-rootless-"))
    theirs = Path(tempfile.mkdtemp(prefix="snippet-runner-rootless-"))
    try:
        for folder in (mine, theirs):
            (folder / "page.md").write_text(PAGE, encoding="utf-8")
        os.chown(theirs, user.pw_uid, user.pw_gid)
        os.chown(theirs / "page.md", user.pw_uid, user.pw_gid)
        as_root, as_user = _check(None, mine), _check(user, theirs)
        assert as_user.returncode == 0, as_user.stdout + as_user.stderr
        assert as_root.returncode == 0, as_root.stdout + as_root.stderr
        assert _verdicts(as_user) == _verdicts(as_root)
        assert "without root" in as_user.stderr  # it says what is weaker: no memory/CPU limit
        left = subprocess.run(["pgrep", "-u", user.pw_name], capture_output=True, text=True)
        assert left.stdout == "", left.stdout  # nothing of the user's sandbox still runs
        assert not list((theirs / "cache" / "sandboxes").iterdir())
    finally:
        shutil.rmtree(mine, ignore_errors=True)
        shutil.rmtree(theirs, ignore_errors=True)
