"""Which daemon the external backend reaches, found as the docker CLI finds it, and what a user
reads when it can't be reached: one sentence, never a traceback. (Against a real daemon:
tests/sandbox/test_external.py.)"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from snippet_runner.errors import ConfigError, SandboxError
from snippet_runner.sandbox.docker_endpoint import DEFAULT_HOST, connect, resolve

EXE = [sys.executable, "-c", "import sys; from snippet_runner.cli import main; sys.exit(main())"]


def _context(config_dir: Path, name: str, host: str, *, tls: bool = False) -> Path:
    """A context as `docker context create` writes it."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = config_dir / "contexts" / "meta" / digest / "meta.json"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"Name": name, "Metadata": {},
                                "Endpoints": {"docker": {"Host": host,
                                                         "SkipTLSVerify": False}}}))
    if tls:
        certs = config_dir / "contexts" / "tls" / digest / "docker"
        certs.mkdir(parents=True)
        for pem in ("ca.pem", "cert.pem", "key.pem"):
            (certs / pem).write_text("")
    return meta


def test_docker_host_comes_first(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "desktop-linux"}))
    env = {"DOCKER_HOST": "tcp://10.0.0.5:2375", "DOCKER_CONTEXT": "other",
           "DOCKER_CONFIG": str(tmp_path)}
    endpoint = resolve(env)
    assert (endpoint.host, endpoint.origin, endpoint.tls) == ("tcp://10.0.0.5:2375",
                                                             "DOCKER_HOST", False)
    tls = resolve({"DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "1",
                   "DOCKER_CERT_PATH": str(tmp_path)})
    assert tls.tls and tls.ca_cert == tmp_path / "ca.pem"


def test_the_current_context_is_read_from_the_clis_files(tmp_path: Path) -> None:
    """Docker Desktop for Linux: ``docker context use desktop-linux``."""
    sock = tmp_path / "desktop" / "docker.sock"
    _context(tmp_path, "desktop-linux", f"unix://{sock}")
    (tmp_path / "config.json").write_text(json.dumps({"auths": {},
                                                      "currentContext": "desktop-linux"}))
    endpoint = resolve({"DOCKER_CONFIG": str(tmp_path)})
    assert endpoint.host == f"unix://{sock}" and endpoint.unix_path == str(sock)
    assert endpoint.origin == (f"the docker context 'desktop-linux' (currentContext in "
                               f"{tmp_path / 'config.json'})")
    # DOCKER_CONTEXT overrides config.json; the home's .docker is the default directory.
    _context(tmp_path / "home" / ".docker", "remote", "tcp://build.example:2376", tls=True)
    remote = resolve({"HOME": str(tmp_path / "home"), "DOCKER_CONTEXT": "remote"})
    assert remote.host == "tcp://build.example:2376" and remote.tls
    assert remote.client_cert is not None and remote.origin.endswith("(DOCKER_CONTEXT)")


def test_without_anything_it_is_the_default_socket(tmp_path: Path) -> None:
    endpoint = resolve({"DOCKER_CONFIG": str(tmp_path)})
    assert endpoint.host == DEFAULT_HOST == "unix:///var/run/docker.sock"
    assert "DOCKER_HOST, DOCKER_CONTEXT and a current docker context are not set" in \
        endpoint.origin
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "default"}))
    assert resolve({"DOCKER_CONFIG": str(tmp_path)}).host == DEFAULT_HOST


@pytest.mark.parametrize(("env", "message"), [
    ({"DOCKER_CONTEXT": "gone"}, "the docker context 'gone' (DOCKER_CONTEXT) does not exist"),
    ({"DOCKER_HOST": "ssh://me@build"}, "forward the remote socket instead"),
    ({"DOCKER_HOST": "npipe:////./pipe/docker_engine"}, "run snippet-runner inside WSL 2"),
])
def test_what_cannot_be_used_is_said_in_one_sentence(tmp_path: Path, env: dict[str, str],
                                                     message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as err:
        resolve({"DOCKER_CONFIG": str(tmp_path), **env})
    assert "\n" not in str(err.value)


def test_an_unreachable_daemon_is_one_sentence_saying_what_was_tried(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.sock"
    with pytest.raises(SandboxError) as err:
        connect(resolve({"DOCKER_HOST": f"unix://{missing}"}))
    assert str(err.value) == (
        f"could not reach the Docker daemon at unix://{missing} (from DOCKER_HOST): there is "
        "no socket at that path; start Docker (Docker Desktop, or the docker service), or "
        "point DOCKER_HOST or 'docker context use NAME' at a daemon that runs.")
    closed = tmp_path / "closed.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(closed))
    listener.close()  # the file stays, nobody listens
    with pytest.raises(SandboxError, match="nothing accepts connections there"):
        connect(resolve({"DOCKER_HOST": f"unix://{closed}"}))


@pytest.mark.parametrize("where", ["DOCKER_HOST", "context"])
def test_the_cli_says_it_in_one_line_without_a_traceback(tmp_path: Path, where: str) -> None:
    page = tmp_path / "p.md"
    page.write_text("```console\n$ docker ps\n```\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    if where == "DOCKER_HOST":
        env["DOCKER_HOST"] = "tcp://127.0.0.1:1"
        tried = "tcp://127.0.0.1:1 (from DOCKER_HOST): nothing accepts connections there"
    else:
        config = tmp_path / "docker-config"
        _context(config, "desktop-linux", f"unix://{tmp_path}/desktop.sock")
        (config / "config.json").write_text(json.dumps({"currentContext": "desktop-linux"}))
        env["DOCKER_CONFIG"] = str(config)
        tried = (f"unix://{tmp_path}/desktop.sock (from the docker context 'desktop-linux' "
                 f"(currentContext in {config / 'config.json'})): there is no socket")
    proc = subprocess.run([*EXE, "check", "--backend", "external", "--cache-dir",
                           str(tmp_path / "cache"), str(page)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.startswith("snippet-runner: could not run: could not reach the Docker "
                                  f"daemon at {tried}"), proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
