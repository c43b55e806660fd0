#!/usr/bin/env python3
"""Benchmark the sandbox: cold start, and what the page session costs per command.

* cold start = launch → dockerd answers (``ready``) → fixture images loaded (``loaded``), with the
  fixture tars already built and cached (the build is a one-off, keyed by the build contexts);
* isolation = cold start in a user namespace (the default) against plain namespaces as real root
  (the fallback), interleaved, ratio;
* real images = cold start of a sandbox that serves three locked images (its own registry, the
  mirror setting) against one with the built-in fixture only, interleaved, ratio; and what
  having the three images there before a page costs (pulled from that registry);
* reset = what the sandbox does between two pages, after an idle one and after a busy one;
* per-command overhead = the same commands run (a) by a page session (PTY, job control, marker
  framing, clean environment) and (b) by one plain ``bash -s`` fed through a pipe, entered into
  the same sandbox's namespaces, on the same daemon, in the same run; ratio = (a) / (b).

Usage: scripts/bench_sandbox.py [--rounds N] [--cache-dir DIR]   (root; ``make bench``)
"""

from __future__ import annotations

import argparse
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from snippet_runner.api import lock_images, page_from_text
from snippet_runner.config import RunConfig
from snippet_runner.sandbox.cleanup import close_all
from snippet_runner.sandbox.images import ensure_fixtures
from snippet_runner.sandbox.namespace import INSIDE_PATH, NamespaceSandbox, SandboxBackend

COMMANDS = [
    ("true", "true"),
    ("echo", "echo hello"),
    ("cd + variables", "cd /tmp && X=1 && echo $X"),
    ("docker version", "docker version --format '{{.Server.Version}}'"),
    ("docker run --rm", "docker run --rm test:latest echo hi"),
]


class PlainBash:
    """One ``bash -s`` in the sandbox's namespaces: the baseline a page session is compared to."""

    def __init__(self, sandbox: NamespaceSandbox) -> None:
        self.proc = subprocess.Popen(
            [*sandbox.enter_argv(), f"PATH={INSIDE_PATH}", "HOME=/root",
             "bash", "--noprofile", "--norc", "-s"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        self.run("true")

    def run(self, command: str) -> bytes:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{command} </dev/null\necho __END__$?\n".encode())
        self.proc.stdin.flush()
        out = b""
        fd = self.proc.stdout.fileno()
        while b"__END__" not in out or not out.endswith(b"\n"):
            select.select([fd], [], [])
            out += os.read(fd, 65536)
        return out

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


PAGE = ("echo x > /etc/bench && mkdir -p /srv/bench /data\n"
        "setsid sleep 1000 &\n"
        "docker run -d -v /etc/bench-dir:/x test:latest sleep 1000 >/dev/null"
        " && docker network create bench >/dev/null")
"""A page that leaves something of every kind a reset removes."""


def _bench_reset(sandbox: NamespaceSandbox, rounds: int) -> None:
    """Time `reset` after an idle page and after `PAGE`."""
    idle, busy = [], []
    for _ in range(rounds):
        sandbox.open_session().run("true", timeout=60)
        t = time.perf_counter()
        sandbox.reset()
        idle.append(time.perf_counter() - t)
        assert sandbox.open_session().run(PAGE, timeout=60).exit_code == 0
        t = time.perf_counter()
        sandbox.reset()
        busy.append(time.perf_counter() - t)
    print(f"\nreset between pages, median of {rounds}:")
    print(f"  after an idle page  {_ms(statistics.median(idle))}")
    print(f"  after a busy page   {_ms(statistics.median(busy))}  (container, network, files "
          "in /etc /srv /, a detached process)")


def _starts(backends: dict[str, SandboxBackend], count: int) -> dict[str, float]:
    """Median seconds to a ready sandbox with fixtures, per backend, interleaved."""
    times: dict[str, list[float]] = {name: [] for name in backends}
    for _ in range(count):
        for name, backend in backends.items():
            t = time.perf_counter()
            sandbox = backend.start()
            times[name].append(time.perf_counter() - t)
            sandbox.close()
    return {name: statistics.median(values) for name, values in times.items()}


def _bench_isolation(config: RunConfig, count: int) -> None:
    found = _starts({"user namespace": SandboxBackend(config),
                     "plain namespaces": SandboxBackend(replace(config,
                                                                isolation="namespaces"))}, count)
    a, b = found["user namespace"], found["plain namespaces"]
    print(f"\nisolation, cold start with fixtures, median of {count} (interleaved):")
    print(f"  user namespace      {_ms(a)}")
    print(f"  plain namespaces    {_ms(b)}  (the fallback)")
    print(f"  ratio               {a / b:8.2f}")


def _bench_images(config: RunConfig, count: int) -> None:
    """A sandbox serving three locked images against one with the built-in fixture only."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from registry import upstream  # the tests' real registry, once tests/ is on the path

    with tempfile.TemporaryDirectory(prefix=f"snippet-runner-bench-{os.getpid()}-") as tmp, \
            upstream(Path(tmp) / "hub") as hub:
        for repository, name in (("library/nginx", "nginx"), ("library/alpine", "alpine"),
                                 ("nicolaka/netshoot", "netshoot")):
            hub.push(repository, "latest", name, "1")
        docker = Path(tmp) / "docker"
        docker.mkdir()
        (docker / "config.json").write_text(hub.authfile.read_text())
        os.environ["DOCKER_CONFIG"] = str(docker)
        with_images = replace(config, images_lock=Path(tmp) / "images.lock",
                              image_sources=(("docker.io", f"http://{hub.address}"),))
        page = page_from_text("```console\n$ docker run nginx\n$ docker run alpine\n"
                              "$ docker run nicolaka/netshoot\n```\n")
        lock_images([page], with_images)
        backends = {"3 locked images": SandboxBackend(with_images),
                    "fixture only": SandboxBackend(config)}
        found = _starts(backends, count)
        sandbox = backends["3 locked images"].start()
        try:
            t = time.perf_counter()
            sandbox.preload(["docker.io/library/nginx:latest", "docker.io/library/alpine:latest",
                             "docker.io/nicolaka/netshoot:latest"])
            preload = time.perf_counter() - t
        finally:
            sandbox.close()
    a, b = found["3 locked images"], found["fixture only"]
    print(f"\nreal images, cold start, median of {count} (interleaved):")
    print(f"  serving 3 locked images  {_ms(a)}  (the sandbox's own registry, the mirror)")
    print(f"  built-in fixture only    {_ms(b)}")
    print(f"  ratio                    {a / b:8.2f}  (target <= 1.5)")
    print(f"  the 3 images there before a page (pulled from that registry): {_ms(preload)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="runs of each command")
    parser.add_argument("--starts", type=int, default=5, help="cold starts to time")
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/snippet-runner"))
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench_sandbox: needs root (the sandbox creates namespaces)", file=sys.stderr)
        return 2
    config = RunConfig(cache_dir=args.cache_dir)
    backend = SandboxBackend(config)
    with tempfile.TemporaryDirectory(prefix=f"snippet-runner-bench-{os.getpid()}-") as tmp:
        t = time.perf_counter()
        empty = RunConfig(cache_dir=Path(tmp))
        ensure_fixtures(empty, lambda: NamespaceSandbox.start(empty, None))
        print(f"fixture build into an empty cache (once): {_ms(time.perf_counter() - t)}")
    backend.start().close()  # warm-up (builds into the real cache if it lacks the fixtures)

    ready, loaded, stops = [], [], []
    for _ in range(args.starts):
        t = time.perf_counter()
        sandbox = backend.start()
        loaded.append(time.perf_counter() - t)
        ready.append(sandbox.started_in)
        t = time.perf_counter()
        sandbox.close()
        stops.append(time.perf_counter() - t)
    print(f"\ncold start, median of {args.starts}:")
    print(f"  daemon ready        {_ms(statistics.median(ready))}")
    print(f"  + fixtures loaded   {_ms(statistics.median(loaded))}")
    print(f"  teardown            {_ms(statistics.median(stops))}")
    _bench_isolation(config, args.starts)
    _bench_images(config, args.starts)

    sandbox = backend.start()
    try:
        t = time.perf_counter()
        session = sandbox.open_session()
        opened = time.perf_counter() - t
        plain = PlainBash(sandbox)
        print(f"\nopen a page session: {_ms(opened)}")
        print(f"\nper command, median of {args.rounds} (same daemon, same run):")
        print(f"  {'command':18} {'session':>11} {'plain bash':>11} {'overhead':>11} ratio")
        for label, command in COMMANDS:
            ours, base = [], []
            for _ in range(args.rounds):  # interleaved, so drift hits both equally
                t = time.perf_counter()
                result = session.run(command, timeout=60)
                ours.append(time.perf_counter() - t)
                assert result.exit_code == 0, result
                t = time.perf_counter()
                plain.run(command)
                base.append(time.perf_counter() - t)
            a, b = statistics.median(ours), statistics.median(base)
            print(f"  {label:18} {_ms(a)} {_ms(b)} {_ms(a - b)} {a / b:5.2f}")
        plain.close()
        _bench_reset(sandbox, args.rounds)
    finally:
        sandbox.close()
        close_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
