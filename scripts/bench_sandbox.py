#!/usr/bin/env python3
"""Benchmark the sandbox: cold start, and what the page session costs per command.

* cold start = launch → dockerd answers (``ready``) → fixture images loaded (``loaded``), with the
  fixture tars already built and cached (the build is a one-off, keyed by the build contexts);
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
from pathlib import Path

from snippet_runner.config import RunConfig
from snippet_runner.sandbox.cleanup import close_all
from snippet_runner.sandbox.images import ensure_fixtures
from snippet_runner.sandbox.namespace import NamespaceSandbox, SandboxBackend

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
            ["nsenter", "-t", str(sandbox.init_pid), "-m", "-n", "-p", "-u", "-i", "--",
             "env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             "HOME=/root", "bash", "--noprofile", "--norc", "-s"],
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
