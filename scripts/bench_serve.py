#!/usr/bin/env python3
"""Benchmark the writer's loop: ``mkdocs serve``, edit one command, verified page ready.

A temporary site with one page of five docker commands (two ``docker run``, three that only ask
the daemon) runs under a real ``mkdocs serve`` in the real sandbox. Each round edits one command
(the first ``docker run`` gets a new word to echo, and its expected output with it) and measures
the wall time from writing the file to the server answering with the page whose block shows the
new command verified — what a writer waits for. Measured in the same run:

* **edit → verified page** (warm): the server keeps one sandbox warm for the session and resets
  it between pages (`api.Verifier`); target ≤ 1.5 s (median);
* **prose edit → page** : the same loop for an edit outside the blocks (nothing runs): the
  floor of a rebuild, what serving costs without verification;
* **cold check**: ``snippet-runner check`` of the same page in a fresh process, which starts a
  sandbox — what every edit paid when the server started one per rebuild;
* the commands' own time, from the check's JSON report.

Exit status 1 when the target is missed or a round never showed the verified page.

    .venv/bin/python scripts/bench_serve.py [--rounds 5]      (root: the sandbox needs it)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET = 1.5

CONFIG = """\
site_name: serve bench
docs_dir: docs
theme: mkdocs
plugins:
  - snippet-runner
markdown_extensions:
  - pymdownx.superfences
"""

PAGE = """\
# Five docker commands

{prose}

```console
$ docker run --rm test:latest echo {word}
{word}
$ docker network create bench-net
[0-9a-f]{{64}} (re)
$ docker run --rm --network bench-net test:latest sh -c 'ip -4 addr show eth0 | grep -c inet'
1
$ docker network ls --filter name=bench-net --format '{{{{.Name}}}}'
bench-net
$ docker network rm bench-net
bench-net
```
"""


def page_text(word: str, prose: str = "Prose.") -> str:
    return PAGE.format(word=word, prose=prose)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # 127.0.0.1 only
            return str(response.read().decode("utf-8"))
    except OSError:
        return ""


def wait_until(predicate: object, limit: float, what: str) -> float:
    """Poll ``predicate`` every 10 ms; the time it took, or exit with ``what`` after ``limit``."""
    assert callable(predicate)
    started = time.perf_counter()
    while not predicate():
        if time.perf_counter() - started > limit:
            sys.exit(f"bench_serve: timed out waiting for {what}")
        time.sleep(0.01)
    return time.perf_counter() - started


def edit_round(doc: Path, url: str, text: str, ready: str) -> float:
    """Write ``text`` and time until the served page contains ``ready``."""
    time.sleep(1.1)  # the watcher compares modification times (1 s resolution on some disks)
    started = time.perf_counter()
    doc.write_text(text, encoding="utf-8")
    wait_until(lambda: ready in fetch(url), 60, ready)
    return time.perf_counter() - started


def verified(word: str) -> str:
    """What the served page contains once the edited command is drawn verified."""
    return (f'<div class="sr-block sr-block--passed" data-sr-line="5">\n<div class="sr-step">\n'
            f'<div class="highlight sr-command" data-copy="docker run --rm test:latest echo '
            f'{word}">')


def cold_check(tree: Path, doc: Path) -> tuple[float, float]:
    """Seconds of a fresh ``snippet-runner check`` of the page, and of its commands alone."""
    started = time.perf_counter()
    proc = subprocess.run([str(BIN / "snippet-runner"), "check", "--json", "--cache-dir",
                           str(tree / ".cache" / "snippet-runner"), str(doc)], cwd=tree,
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"bench_serve: the page does not pass:\n{proc.stdout}{proc.stderr}")
    commands = sum(o.get("duration") or 0 for p in json.loads(proc.stdout)["pages"]
                   for o in p["outcomes"])
    return seconds, commands


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="edits of each kind")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        tree = Path(tmp)
        (tree / "docs").mkdir()
        (tree / "mkdocs.yml").write_text(CONFIG, encoding="utf-8")
        doc = tree / "docs" / "index.md"
        doc.write_text(page_text("start"), encoding="utf-8")
        images = ROOT / ".cache" / "snippet-runner" / "fixtures"
        if images.is_dir():  # built fixture images are reused: the bench is about the loop
            shutil.copytree(images, tree / ".cache" / "snippet-runner" / "fixtures")
        cold = [cold_check(tree, doc) for _ in range(2)]
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        log = (tree / "serve.log").open("w")
        env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
        env.pop("SNIPPET_RUNNER", None)
        serve = subprocess.Popen([str(BIN / "mkdocs"), "serve", "-a", f"127.0.0.1:{port}"],
                                 cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: verified("start") in fetch(url), 120, "the first build")
            time.sleep(2)  # let the warm sandbox settle (reset after the first page)
            warm, prose = [], []
            for n in range(args.rounds):
                word = f"edit-{n}"
                warm.append(edit_round(doc, url, page_text(word), verified(word)))
                note = f"Prose edit {n}."
                prose.append(edit_round(doc, url, page_text(word, note), note))
        finally:
            serve.send_signal(signal.SIGINT)
            serve.wait(timeout=60)
            log.close()
        served = (tree / "serve.log").read_text(encoding="utf-8")
    if "Traceback" in served:
        print(served, file=sys.stderr)
        return 1
    warm_s, prose_s = statistics.median(warm), statistics.median(prose)
    cold_s = statistics.median(c[0] for c in cold)
    commands_s = statistics.median(c[1] for c in cold)
    print("page              5 docker commands (2 docker run), sandbox backend")
    print(f"edit → verified   {warm_s:6.2f} s   (mkdocs serve, warm sandbox; median of "
          f"{args.rounds}: {' '.join(f'{s:.2f}' for s in warm)}; target ≤ {TARGET})")
    print(f"prose edit → page {prose_s:6.2f} s   (the same rebuild, nothing to run)")
    print(f"cold check        {cold_s:6.2f} s   (snippet-runner check: sandbox start + commands)")
    print(f"commands alone    {commands_s:6.2f} s   (their durations in the check's report)")
    print(f"warm / cold       {warm_s / cold_s:6.2f}")
    return 0 if warm_s <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
