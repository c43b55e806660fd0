#!/usr/bin/env python3
"""Benchmark a large site: does ``snippet-runner check`` stay linear and small?

Two generated sites of the same mix — every page three blocks of one command each, nine in ten
an ``echo``, one in ten ``docker run --rm test:latest echo …`` — one of ``--pages`` pages
(1,000 by default) and a baseline of a tenth as many, checked with ``--jobs 2`` in the sandbox
(root), as a user's CI would: ``snippet-runner check`` in a process of its own, result cache off.
For each: wall time, time per page, and memory — the runner's own peak resident set (VmHWM,
read from /proc while it runs, and the peak wait4 reports), and the peak of the whole process
tree (runner, sandboxes, dockerd, containerd, shims) summed at each sample.

Targets (issue 14): runner peak RSS ≤ 300 MB on the large site; time per page on the large
site ≤ 1.2 × the baseline's (linear: the large site costs no more per page). Because the two
sites run one after the other, a machine whose load changes in between moves that ratio; the
large run's own page times (from its JSON report), first tenth of the pages against the last,
show the same thing from within one run.

Usage: scripts/bench_scale.py [--pages N] [--jobs N] [--cache-dir DIR]   (root; ``make bench``)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = 3
DOCKER_EVERY = 10
RSS_TARGET_MB = 300.0
LINEAR_TARGET = 1.2


def make_site(directory: Path, pages: int) -> int:
    """Write ``pages`` pages; returns how many blocks run docker."""
    docker = 0
    for n in range(pages):
        blocks = []
        for b in range(BLOCKS):
            k = n * BLOCKS + b
            if k % DOCKER_EVERY == DOCKER_EVERY - 1:
                docker += 1
                blocks.append(f"```console\n$ docker run --rm test:latest echo d{k}\nd{k}\n```\n")
            else:
                blocks.append(f"```console\n$ echo page {n} block {b}\npage {n} block {b}\n```\n")
        sub = directory / f"section{n // 100:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"page{n:04d}.md").write_text(f"# Page {n}\n\n" + "\nText.\n\n".join(blocks),
                                             encoding="utf-8")
    return docker


@dataclass
class Memory:
    """Peaks seen while the run went on."""

    runner_kb: int = 0
    """The runner's VmHWM (its own peak resident set)."""
    tree_kb: int = 0
    """The largest sum of VmRSS over the runner and all its descendants at one sample."""


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _watch(pid: int, memory: Memory, stop: threading.Event) -> None:
    while not stop.wait(0.25):
        memory.runner_kb = max(memory.runner_kb, _status_kb(pid, "VmHWM"))
        tree = sum(_status_kb(p, "VmRSS") for p in _descendants(pid))
        memory.tree_kb = max(memory.tree_kb, tree)


@dataclass(frozen=True)
class Run:
    """One timed check of one site."""

    pages: int
    seconds: float
    memory: Memory
    maxrss_kb: int
    """ru_maxrss from wait4: the largest single process among the runner and those it reaped."""
    summary: str
    page_seconds: list[float]
    """Each page's run time, in page order (the JSON report's ``duration``)."""

    def tenth(self, which: int) -> float:
        """Mean run time of the pages in tenth ``which`` (0 = the first 10 %)."""
        size = max(1, len(self.page_seconds) // 10)
        chunk = self.page_seconds[which * size:(which + 1) * size]
        return sum(chunk) / max(1, len(chunk))


def check(site: Path, pages: int, jobs: int, cache_dir: Path) -> Run:
    report = site.with_suffix(".json")
    command = [sys.executable, "-m", "snippet_runner.cli", "check", "--jobs", str(jobs),
               "--cache-dir", str(cache_dir), "--no-progress", "--json-report", str(report),
               str(site)]
    memory, stop = Memory(), threading.Event()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        proc = subprocess.Popen(command, stdout=out, stderr=err, text=True, cwd=ROOT)
        watcher = threading.Thread(target=_watch, args=(proc.pid, memory, stop), daemon=True)
        watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage, not the others'
        seconds = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        watcher.join()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        sys.exit(f"bench_scale: check failed ({proc.returncode}):\n{stdout[-3000:]}\n"
                 f"{stderr[-3000:]}")
    durations = [p["duration"] for p in json.loads(report.read_text(encoding="utf-8"))["pages"]]
    return Run(pages, seconds, memory, usage.ru_maxrss, stdout.strip().splitlines()[-1],
               durations)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".cache" / "snippet-runner")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench_scale: the sandbox backend needs root; run `sudo make bench`.")
    baseline_pages = max(1, args.pages // 10)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        small, large = Path(tmp) / "small", Path(tmp) / "large"
        make_site(small, baseline_pages)
        docker = make_site(large, args.pages)
        print(f"bench_scale: {args.pages} pages × {BLOCKS} blocks ({docker} run docker), "
              f"baseline {baseline_pages} pages, --jobs {args.jobs}, sandbox backend")
        base = check(small, baseline_pages, args.jobs, args.cache_dir)
        big = check(large, args.pages, args.jobs, args.cache_dir)
    per_base, per_big = base.seconds / base.pages, big.seconds / big.pages
    ratio = per_big / per_base
    print(f"{'site':>11} {'wall':>9} {'per page':>10} {'runner peak RSS':>16} "
          f"{'largest process':>16} {'process tree peak':>18}")
    for run in (base, big):
        per_page = run.seconds / run.pages * 1000
        print(f"{run.pages:>5} pages {run.seconds:>8.1f}s {per_page:>8.1f}ms "
              f"{run.memory.runner_kb / 1024:>13.1f} MB {run.maxrss_kb / 1024:>13.1f} MB "
              f"{run.memory.tree_kb / 1024:>15.1f} MB   ({run.summary})")
    first, last = big.tenth(0), big.tenth(9)
    print(f"large site, mean page run time: first tenth {first * 1000:.1f} ms, last tenth "
          f"{last * 1000:.1f} ms (ratio {last / first:.2f})")
    load = os.getloadavg()[0]
    print(f"load average at the end: {load:.1f} on {os.cpu_count()} CPUs"
          + (" — the machine was busy: rerun on a quiet one for stable ratios" if load > 2.5
             else ""))
    rss_mb = max(big.memory.runner_kb, 1) / 1024
    print(f"time per page, large / baseline: {ratio:.2f} (target ≤ {LINEAR_TARGET}: "
          f"{'met' if ratio <= LINEAR_TARGET else 'MISSED'})")
    print(f"runner peak RSS on the large site: {rss_mb:.1f} MB (target ≤ {RSS_TARGET_MB:.0f} MB: "
          f"{'met' if rss_mb <= RSS_TARGET_MB else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
