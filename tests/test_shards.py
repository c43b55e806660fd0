"""Shards end to end: four ``check --shard K/4`` runs from one restored cache make up one full
run, their reports merge into the full run's, and the split follows recorded durations."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

EXE = [sys.executable, "-c", "import sys; from snippet_runner.cli import main; sys.exit(main())"]


def cli(*args: str | Path, env: dict[str, str] | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXE, *map(str, args)], capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def _site(root: Path) -> Path:
    docs = root / "docs"
    for n in range(11):
        sub = docs / ("guide" if n % 2 else "posts")
        sub.mkdir(parents=True, exist_ok=True)
        commands = "".join(f"$ echo {n}-{i}\n{n}-{i}\n" for i in range(1 + n % 4))
        (sub / f"page{n:02d}.md").write_text(f"# {n}\n\n```console\n{commands}```\n",
                                             encoding="utf-8")
    (docs / "posts" / "broken.md").write_text("```console\n$ echo actual\nexpected\n```\n",
                                              encoding="utf-8")
    (docs / "posts" / "skipped.md").write_text('```console skip="not here"\n$ nope\n```\n',
                                               encoding="utf-8")
    (docs / "prose.md").write_text("no blocks at all\n", encoding="utf-8")
    return docs


def _restored(snapshot: Path, job: str) -> Path:
    """The cache a CI job starts from: a copy of one snapshot (what one cache key restores in
    every job). Shards that share one live cache directory would see each other's fresh
    durations and split differently; `report merge` refuses their reports."""
    copy = snapshot.with_name(f"{snapshot.name}-{job}")
    if snapshot.exists():
        shutil.copytree(snapshot, copy)
    return copy


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    """A JSON report without what differs between two runs of the same pages (timings)."""
    pages = [{**{k: v for k, v in p.items() if k not in ("duration", "verified_at")},
              "outcomes": [{k: v for k, v in o.items() if k != "duration"}
                           for o in p["outcomes"]]} for p in report["pages"]]
    return {"summary": report["summary"], "pages": pages}


def test_four_shards_make_up_one_full_run(tmp_path: Path) -> None:
    docs = _site(tmp_path)
    restored = tmp_path / "restored-cache"
    base = ["check", "--backend", "local", "--jobs", "2"]
    full = cli(*base, "--json", "--cache-dir", restored, docs)
    assert full.returncode == 1, full.stderr  # broken.md
    assert list((restored / "results" / "durations").glob("*.json")), "no durations recorded"
    shard_pages = []
    for k in range(1, 5):
        cache = _restored(restored, str(k))
        proc = cli(*base, "--shard", f"{k}/4", "--json", "--junit", tmp_path / f"{k}.xml",
                   "--cache-dir", cache, docs)
        assert proc.returncode in (0, 1), proc.stderr
        assert f"shard {k}/4 (from --shard)" in proc.stderr
        (tmp_path / f"{k}.json").write_text(proc.stdout, encoding="utf-8")
        shard_pages.append([p["path"] for p in json.loads(proc.stdout)["pages"]])
    everything = [p for pages in shard_pages for p in pages]
    assert sorted(everything) == sorted(p["path"] for p in json.loads(full.stdout)["pages"])
    assert len(everything) == len(set(everything)) == 14
    assert all(shard_pages), shard_pages  # 14 pages, 4 shards: none is left idle

    merged = cli("report", "merge", "-o", tmp_path / "merged.json",
                 *(tmp_path / f"{k}.json" for k in range(1, 5)))
    assert merged.returncode == 1, merged.stderr  # the merged run has broken.md's failure
    assert "merged of 4 shards: 14 pages" in merged.stderr
    union = json.loads((tmp_path / "merged.json").read_text(encoding="utf-8"))
    assert _comparable(union) == _comparable(json.loads(full.stdout))

    junit = cli("report", "merge", *(tmp_path / f"{k}.xml" for k in range(1, 5)))
    assert junit.returncode == 1, junit.stderr
    suites = ET.fromstring(junit.stdout).findall("testsuite")
    assert [s.get("name") for s in suites] == [p["path"] for p in union["pages"]]


def test_a_missing_shard_fails_the_merge(tmp_path: Path) -> None:
    docs = _site(tmp_path)
    for k in (1, 2):
        proc = cli("check", "--backend", "local", "--shard", f"{k}/3", "--json",
                   "--cache-dir", _restored(tmp_path / "cache", str(k)), docs)
        (tmp_path / f"{k}.json").write_text(proc.stdout, encoding="utf-8")
    merged = cli("report", "merge", tmp_path / "1.json", tmp_path / "2.json")
    assert merged.returncode == 2
    assert "no report from shard(s) 3 of 3" in merged.stderr and "Traceback" not in merged.stderr


def test_shard_auto_reads_the_ci_variables(tmp_path: Path) -> None:
    docs = _site(tmp_path)
    snapshot = tmp_path / "cache"
    assert cli("check", "--backend", "local", "--cache-dir", snapshot, docs).returncode == 1

    def flags(job: str) -> list[str | Path]:
        return ["--backend", "local", "--json", "--cache-dir", _restored(snapshot, job), docs]

    explicit = cli("check", "--shard", "2/4", *flags("a"))
    gitlab = cli("check", "--shard", "auto", *flags("b"),
                 env={"CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "4"})
    assert "CI_NODE_INDEX/CI_NODE_TOTAL (GitLab CI, 1-based)" in gitlab.stderr
    pages = [[p["path"] for p in json.loads(r.stdout)["pages"]] for r in (explicit, gitlab)]
    assert pages[0] == pages[1] and pages[0]
    alone = cli("check", "--shard", "auto", *flags("c"), env={"CI_NODE_TOTAL": "1"})
    assert "checking every page" in alone.stderr
    assert len(json.loads(alone.stdout)["pages"]) == 14
    bad = cli("check", "--shard", "5/4", *flags("d"))
    assert bad.returncode == 2 and "shard 5/4 does not exist" in bad.stderr


def test_the_split_follows_the_recorded_durations(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "slow.md").write_text("```console\n$ sleep 1.5\n```\n", encoding="utf-8")
    for n in range(3):
        (docs / f"fast{n}.md").write_text("```console\n$ true\n$ true\n$ true\n```\n",
                                          encoding="utf-8")
    flags = ["check", "--backend", "local", "--json", "--cache-dir", tmp_path / "cache"]

    def split() -> list[list[str]]:
        return [sorted(Path(p["path"]).name for p in json.loads(
            cli(*flags, "--shard", f"{k}/2", docs).stdout)["pages"]) for k in (1, 2)]

    # Never timed: weighed by commands, the one-command slow page shares a shard.
    before = split()
    assert ["slow.md"] not in before
    assert cli(*flags, docs).returncode == 0  # a full run records every page's duration
    assert sorted(split()) == [["fast0.md", "fast1.md", "fast2.md"], ["slow.md"]]


def test_github_format_annotates_the_pull_request(tmp_path: Path) -> None:
    docs = _site(tmp_path)
    proc = cli("check", "--backend", "local", "--format", "github", "--cache-dir",
               tmp_path / "cache", docs.relative_to(tmp_path), cwd=tmp_path,
               env={"GITHUB_WORKSPACE": str(tmp_path)})
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("::error file=docs/posts/broken.md,line=3,title=snippet-runner%3A "
                               "failed"), proc.stdout
    assert "$ echo actual%0A" in lines[0] and "-expected%0A+actual" in lines[0]
    assert lines[-1] == "14 pages: 26 passed, 1 failed, 1 skipped"
    both = cli("check", "--backend", "local", "--format", "github", "--json", docs)
    assert both.returncode == 2 and "give one of them" in both.stderr
