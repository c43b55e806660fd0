#!/usr/bin/env python3
"""Benchmark `mkdocs build` with snippet verification: cold, warm and switched off.

On a copy of this repository (without .git, .venv, caches and site/) in a temporary directory:

1. cold — empty result cache: every page with blocks runs in a sandbox (fixture images already
   built in this repository's cache are reused, so image building is not counted);
2. warm — the same tree again: nothing changed, so no sandbox may start (the build log must say
   "no snippet ran"), only the cache lookup and rendering cost remain;
3. disabled — ``SNIPPET_RUNNER=false``: the same build without verification.

Warm and disabled run ``--repeat`` times each, interleaved, and the medians are compared; the
target is warm ≤ 1.15 × disabled. Exit status 1 when the target is missed or the warm build ran
a snippet.

    .venv/bin/python scripts/bench_build.py [--repeat 5] [--config mkdocs.yml]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MKDOCS = Path(sys.executable).parent / "mkdocs"
TARGET = 1.15
WARM_LINE = "no snippet ran"
_SKIPPED_ANYWHERE = shutil.ignore_patterns(
    ".git", ".venv", ".cache", "*_cache", ".hypothesis", "__pycache__", "*.egg-info"
)


def SKIPPED(folder: str, names: list[str]) -> set[str]:  # a copytree `ignore` callable
    """What a copy of the tree leaves out; ``site`` only at the top, where the build goes
    (``snippet_runner/site`` is source)."""
    skipped = set(_SKIPPED_ANYWHERE(folder, names))
    if Path(folder).resolve() == ROOT and "site" in names:
        skipped.add("site")
    return skipped


def copy_site(dest: Path) -> None:
    """The repository's sources, without history, environments, caches or a previous build
    (config files may name hooks and assets anywhere in the tree)."""
    shutil.copytree(ROOT, dest, ignore=SKIPPED, dirs_exist_ok=True)
    images = ROOT / ".cache" / "snippet-runner" / "fixtures"
    if images.is_dir():  # built fixture images are reused: "cold" means no cached results
        shutil.copytree(images, dest / ".cache" / "snippet-runner" / "fixtures")


def build(tree: Path, config: str, *, enabled: bool) -> tuple[float, str]:
    """Wall-clock seconds of one build, and its log."""
    env = {**os.environ, "SNIPPET_RUNNER": "true" if enabled else "false"}
    env["NO_MKDOCS_2_WARNING"] = "1"
    started = time.perf_counter()
    proc = subprocess.run(
        [str(MKDOCS), "build", "-f", config, "-d", str(tree / "site")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"build failed ({'enabled' if enabled else 'disabled'}):\n{proc.stderr}")
    return seconds, proc.stderr + proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="warm/disabled builds each")
    parser.add_argument("--config", default="mkdocs.yml", help="config file to build")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        tree = Path(tmp)
        copy_site(tree)
        cold, _ = build(tree, args.config, enabled=True)
        warm: list[float] = []
        off: list[float] = []
        for _ in range(args.repeat):
            seconds, log = build(tree, args.config, enabled=True)
            if WARM_LINE not in log:
                print(f"warm build ran snippets (no '{WARM_LINE}' line):\n{log}", file=sys.stderr)
                return 1
            warm.append(seconds)
            off.append(build(tree, args.config, enabled=False)[0])
    warm_s, off_s = statistics.median(warm), statistics.median(off)
    ratio = warm_s / off_s
    print(f"config            {args.config}")
    print(f"cold build        {cold:6.2f} s   (every page run in a sandbox)")
    print(f"warm build        {warm_s:6.2f} s   (median of {args.repeat}; no sandbox started)")
    print(f"disabled build    {off_s:6.2f} s   (SNIPPET_RUNNER=false, median of {args.repeat})")
    print(f"warm / disabled   {ratio:6.3f}     (target ≤ {TARGET})")
    print(f"cold / disabled   {cold / off_s:6.2f}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
