"""Content-hash result cache: a rebuild with no snippet change starts no sandbox.

What a page's verdict depends on, and so what the key hashes:

* every block of the page, in order — each block's key chains the key of the block before it
  (``k_i = H(k_{i-1}, block_i)``), because a page is one shell session: a block's result depends
  on the blocks above it. The page is stored under its last block's key. Prose between blocks is
  not part of the key (editing a sentence re-runs nothing), and neither is the file name;
* the runner version and the settings that change results (backend, timeouts, safe fixes);
* the engine version and the fixture images — *without starting a daemon*, since the point is to
  start none: the engine is fingerprinted by ``dockerd --version`` (``bash --version`` for the
  ``local`` backend), and the fixture images by `snippet_runner.sandbox.fixtures_key`, the hash
  of every byte that goes into them (Dockerfiles, build contexts, the static busybox/bash) that
  the sandbox also keys its image cache on. Same inputs ⇒ same images, so it stands in for the
  image digests the sandbox reports after loading them.

Entries hold the verdicts *and* the output each command printed, positions left out (snippet
and command indexes instead of lines), so a cached page renders exactly like the run that
produced it even after prose above a block moved it. Only pages that passed are stored: a failure
is always re-run, so a flaky timeout cannot stick.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .api import Page, PageReport, RunConfig
from .model import Outcome, RunResult, Status

FORMAT = 1
"""Version of the entry layout; bump it when the stored JSON changes shape."""


@dataclass(frozen=True)
class Fingerprint:
    """Everything outside the page that a verdict depends on."""

    runner: str
    """snippet_runner version (and cache entry format)."""
    engine: str
    """Engine version line, read from its binary without starting it."""
    fixtures: str
    """Hash of the fixture images' build inputs."""
    settings: str
    """The run settings that change results."""

    def digest(self) -> str:
        """One hash of all four."""
        return _sha(self.runner, self.engine, self.fixtures, self.settings)


def fingerprint(config: RunConfig) -> Fingerprint:
    """The fingerprint of ``config``'s backend, engine and fixtures (one short subprocess)."""
    settings = json.dumps(
        {
            "backend": config.backend,
            "command_timeout": config.command_timeout,
            "page_timeout": config.page_timeout,
            "apply_safe_fixes": config.apply_safe_fixes,
        },
        sort_keys=True,
    )
    return Fingerprint(
        runner=f"{__version__}/{FORMAT}",
        engine=engine_version(config.backend),
        fixtures=fixture_hash(config),
        settings=settings,
    )


def engine_version(backend: str) -> str:
    """The engine's version line, read from its binary (never from a running daemon)."""
    if backend == "external":
        # Someone else's daemon: its version can't be read without asking it, so the key
        # names the daemon instead; point DOCKER_HOST elsewhere and everything runs again.
        return f"external daemon at {os.environ.get('DOCKER_HOST', 'the default socket')}"
    argv = ["bash", "--version"] if backend == "local" else ["dockerd", "--version"]
    if shutil.which(argv[0]) is None:
        return f"{argv[0]} not installed"
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
    lines = (proc.stdout or proc.stderr).splitlines()
    return lines[0].strip() if lines else f"{argv[0]} exit {proc.returncode}"


def fixture_hash(config: RunConfig) -> str:
    """Hash of every fixture image's build inputs — the sandbox's own key for its image cache,
    computed from files alone. The ``local`` backend has no images."""
    if config.backend == "local":
        return "no fixture images"
    # Imported here: it loads the Docker SDK, which a `local` build never needs.
    from .sandbox import fixtures_for, fixtures_key

    return fixtures_key(fixtures_for(config))


def block_keys(page: Page, fp: Fingerprint) -> list[str]:
    """One key per block: the block's text and options chained onto the key of the block above."""
    keys: list[str] = []
    previous = fp.digest()
    for snippet in page.snippets:
        block = page.text[snippet.span.start : snippet.span.end].replace("\r\n", "\n")
        previous = _sha(previous, block)
        keys.append(previous)
    return keys


def page_key(page: Page, fp: Fingerprint) -> str:
    """The key a page's whole result is stored under (its last block's key)."""
    keys = block_keys(page, fp)
    return keys[-1] if keys else fp.digest()


class ResultCache:
    """Verified page results on disk, one JSON file per key."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        """Where entries live (``<cache_dir>/results``)."""

    def load(self, page: Page, fp: Fingerprint) -> PageReport | None:
        """The stored report of ``page``, rebuilt onto its current positions; None on a miss."""
        path = self._path(page_key(page, fp))
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            return _report_from_entry(page, entry)
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            # A missing, old or damaged entry is a miss: the page simply runs again.
            return None

    def store(self, report: PageReport, fp: Fingerprint) -> bool:
        """Store ``report`` if it passed; True when stored."""
        if not report.ok:
            return False
        path = self._path(page_key(report.page, fp))
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(_entry_from_report(report), ensure_ascii=False, indent=1)
        # Atomic: a build killed mid-write must not leave an entry that parses to garbage.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(data)
        os.replace(tmp, path)
        return True

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"


@dataclass(frozen=True)
class CachedRun:
    """The reports of a verification that used the cache."""

    reports: tuple[PageReport, ...]
    """One per page with blocks, in the order given."""
    ran: tuple[Path, ...]
    """Pages that were run in a sandbox."""
    cached: tuple[Path, ...]
    """Pages whose results came from the cache."""


Verifier = Callable[[Sequence[Page], RunConfig], Sequence[PageReport]]
"""Runs pages (``api.verify_pages`` with its progress callback bound)."""


def verify_cached(
    pages: Iterable[Page], config: RunConfig, cache: ResultCache, verify: Verifier
) -> CachedRun:
    """Verify ``pages``: take what the cache has, run only the rest, store what passed."""
    pages = [p for p in pages if p.snippets]
    fp = fingerprint(config)
    found = {p.path: cache.load(p, fp) for p in pages} if config.use_cache else {}
    to_run = [p for p in pages if found.get(p.path) is None]
    fresh = {r.page.path: r for r in (verify(to_run, config) if to_run else ())}
    for report in fresh.values():
        cache.store(report, fp)
    reports = tuple(found.get(p.path) or fresh[p.path] for p in pages)
    return CachedRun(
        reports=reports,
        ran=tuple(p.path for p in to_run),
        cached=tuple(p.path for p in pages if found.get(p.path) is not None),
    )


# -- entries -------------------------------------------------------------------------------


def _entry_from_report(report: PageReport) -> dict[str, Any]:
    page = report.page
    return {
        "format": FORMAT,
        "engine_version": report.engine_version,
        "verified_at": report.verified_at,
        "outcomes": [_outcome_entry(page, o) for o in report.outcomes],
    }


def _outcome_entry(page: Page, outcome: Outcome) -> dict[str, Any]:
    snippet = outcome.snippet
    command = None if outcome.command is None else snippet.commands.index(outcome.command)
    result = outcome.result
    return {
        "snippet": snippet.index,
        "command": command,
        "status": outcome.status.value,
        "diff": outcome.diff,
        "fixes": [page.fixes.index(f) for f in outcome.fixes],
        "result": None
        if result is None
        else {
            "output": result.output,
            "exit_code": result.exit_code,
            "duration": result.duration,
            "timed_out": result.timed_out,
        },
    }


def _report_from_entry(page: Page, entry: dict[str, Any]) -> PageReport:
    if entry["format"] != FORMAT:
        raise ValueError("old cache entry format")
    outcomes = []
    for item in entry["outcomes"]:
        snippet = page.snippets[item["snippet"]]
        index = item["command"]
        raw = item["result"]
        outcomes.append(
            Outcome(
                snippet=snippet,
                command=None if index is None else snippet.commands[index],
                status=Status(item["status"]),
                result=None if raw is None else RunResult(**raw),
                diff=item["diff"],
                fixes=tuple(page.fixes[i] for i in item["fixes"]),
            )
        )
    return PageReport(
        page=page,
        outcomes=tuple(outcomes),
        engine_version=entry["engine_version"],
        verified_at=entry["verified_at"],
        from_cache=True,
    )


def _sha(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8") + b"\0")
    return h.hexdigest()
