#!/usr/bin/env python3
"""Interrupt `snippet-runner check` again and again and count what is left behind.

Each run checks a page that has started a container and sleeps; it gets a first signal, then a
second one 5–80 ms later (while the first teardown runs), in every order of SIGINT and SIGTERM.
After each run the host is compared with before it (processes, mounts, cgroups, temp and sandbox
directories, network interfaces: tests/leakcheck.py) and the exit status is checked.

Usage: scripts/stress_interrupts.py [--runs 45] [--cache-dir DIR]   (root)
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from leakcheck import host_state, leaks  # the tests' own snapshot (tests/ is on the path)

PAGE = """\
```console
$ docker run -d -p 4000:4000 test:latest sleep 1000 >/dev/null && echo started
started
$ sleep {duration}
```
"""
SIGNALS = [(signal.SIGINT, signal.SIGINT), (signal.SIGINT, signal.SIGTERM),
           (signal.SIGTERM, signal.SIGINT), (signal.SIGTERM, signal.SIGTERM)]


def _sleeping(duration: str) -> bool:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/cmdline").read_bytes() == f"sleep\0{duration}\0".encode():
                    return True
            except OSError:
                continue
    return False


def one_run(folder: Path, cache: Path, first: int, second: int,
            gap: float) -> tuple[int, dict[str, list[str]]]:
    duration = f"{300 + random.random():.6f}"
    page = folder / "page.md"
    page.write_text(PAGE.format(duration=duration), encoding="utf-8")
    exe = Path(sys.executable).with_name("snippet-runner")
    proc = subprocess.Popen([str(exe), "check", "--jobs", "1", "--cache-dir", str(cache),
                             str(page)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True, text=True)
    before = host_state(cache, {proc.pid})
    deadline = time.monotonic() + 120
    while not _sleeping(duration):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the page never started: {proc.communicate()[1]}")
        time.sleep(0.02)
    os.killpg(proc.pid, first)
    time.sleep(gap)
    os.killpg(proc.pid, second)
    proc.communicate(timeout=120)
    return proc.returncode, leaks(before, host_state(cache, {proc.pid}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=45)
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/snippet-runner"))
    args = parser.parse_args()
    left, wrong = 0, 0
    with tempfile.TemporaryDirectory(prefix="snippet-runner-stress-") as tmp:
        for n in range(args.runs):
            first, second = SIGNALS[n % len(SIGNALS)]
            gap = random.uniform(0.005, 0.08)
            status, found = one_run(Path(tmp), args.cache_dir.resolve(), first, second, gap)
            expected = 130 if first == signal.SIGINT else 143
            left += sum(len(v) for v in found.values())
            wrong += status != expected
            print(f"run {n + 1:2}: {first.name}+{second.name} {gap * 1000:4.0f} ms apart → "
                  f"exit {status}, {sum(len(v) for v in found.values())} item(s) left"
                  + (f" {found}" if found else ""), flush=True)
    print(f"\n{args.runs} runs: {left} item(s) left behind, {wrong} wrong exit status(es)")
    return 1 if left or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
