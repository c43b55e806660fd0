"""Content-hash result cache: a rebuild with no snippet change starts no sandbox.

What a page's verdict depends on, and so what the key hashes:

* every block of the page, in order — each block's key chains the key of the block before it
  (``k_i = H(k_{i-1}, block_i)``), because a page is one shell session: a block's result depends
  on the blocks above it. The page is stored under its last block's key. Of a block, only what
  runs and what it is judged against counts (`block_content`): commands as run, with their safe
  fixes, expected output, script and file bodies, and the options that change the run. Prose
  between blocks, ``#`` comment lines of a transcript, skipped blocks' reasons and commands,
  ``hide`` and the file name are not part of the key: editing them re-runs nothing, and a
  translated page whose comments and skip reasons are translated is served from the original's
  run;
* the runner version and the settings that change results (backend, timeouts, safe fixes);
* the engine version and the fixture images — *without starting a daemon*, since the point is to
  start none. The API asks the sandbox layer for both (`snippet_runner.sandbox.engine_identity`:
  ``dockerd --version``, or ``bash --version`` for the ``local`` backend;
  `snippet_runner.sandbox.images_identity`: the hash of every byte that goes into the fixture
  images, which the sandbox also keys its image cache on) and hands them in as a `Fingerprint`;
  this module never looks at an engine itself. Same inputs ⇒ same images, so the hash stands in
  for the image digests the sandbox reports after loading them.

Entries hold the verdicts *and* the output each command printed, positions left out (snippet
and command indexes instead of lines, fixes counted within their command), so a cached page
renders exactly like the run that produced it even after prose above a block moved it. Only
pages that passed are stored: a failure is always re-run, so a flaky timeout cannot stick, and a
page that fails drops what is stored under the keys of its blocks from the first failing one on
(an older pass of the same blocks is no longer true), and the blocks above it, which passed in
this very run, are stored as a page of just those blocks.

`verify_cached` is what `api.verify_pages` calls when ``RunConfig.use_cache`` or
``RunConfig.record_results`` is set, so the CLI (``check``, ``check --cache``) and the plugin
share one cache under ``<cache_dir>/results``. Each such run also writes its `Fingerprint` to
``results/fingerprint.json``: a host that only draws (the Markdown extension under Zensical or
plain Python-Markdown, where nothing may start an engine) computes keys with it
(`recorded_report`), so it finds exactly the results of the blocks as written, or none. A stored
pass also records, under each earlier block's key, a pointer to itself (``<key>.prefix``): after
an edit, the blocks above it — whose chained keys did not change — still find their result.

Pruning, so the directory does not grow with every edit: each page remembers (in
``results/pages/``, by its absolute path) the key it last passed under; when a page passes under
a new key, the entry of its old key is deleted — unless another page used that entry in the same
run (identical blocks share an entry). A page that fails keeps its old entry, so restoring the
text that passed is served from the cache. Entries no run has used for `MAX_AGE_DAYS` (deleted
or renamed pages, other branches) are deleted at the end of every run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import RunConfig
from ..model import Command, Fix, Outcome, Page, PageDone, PageReport, RunResult, Snippet, Status
from .fixes import applied_fixes, fixed_command_text, fixes_in
from .run import skipped_outcome

FORMAT = 2
"""Version of the entry layout; bump it when the stored JSON changes shape."""
FINGERPRINT_FILE = "fingerprint.json"
"""The fingerprint of the last run that recorded results, beside the entries: what a host that
only draws (and cannot ask an engine) computes keys with."""
MAX_AGE_DAYS = 30
"""Entries no run has used (loaded or stored) for this long are deleted."""


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


def fingerprint(config: RunConfig, *, engine: str, images: str) -> Fingerprint:
    """The fingerprint of a run with ``config`` on the engine and images so identified (the
    API reads both from the sandbox layer without starting anything)."""
    return Fingerprint(runner=f"{__version__}/{FORMAT}", engine=engine, fixtures=images,
                       settings=config.result_settings())


def block_keys(page: Page, fp: Fingerprint, *, apply_fixes: bool = True) -> list[str]:
    """One key per block: what the block runs and expects, chained onto the key of the block
    above (``apply_fixes`` as in `RunConfig.apply_safe_fixes`)."""
    keys: list[str] = []
    previous = fp.digest()
    for snippet in page.snippets:
        previous = _sha(previous, block_content(page, snippet, apply_fixes=apply_fixes))
        keys.append(previous)
    return keys


def block_content(page: Page, snippet: Snippet, *, apply_fixes: bool = True) -> str:
    """The part of a block its result depends on, as one canonical string.

    Only what runs and what it is judged against: each command as the shell gets it (safe fixes
    applied) with the fixes themselves — a cached outcome names the fixes it applied, so a page
    where the typo is already repaired must not reuse one that says it was fixed — its expected
    lines, a script's or ``file=`` block's whole body, and the options that change the run.
    Left out, because they never run: ``#`` comment lines of a transcript, everything of a
    skipped block but the fact that it is skipped (its reason, and its commands: a skipped
    command may carry a translated trailing comment), ``hide`` (a hidden block runs like any
    other; the renderer reads it from the page) and the fence's language word. So a translated
    page whose comments and skip reasons are in another language shares the original's results.
    """
    options = snippet.options
    if options.skip is not None:
        # Nothing of a skipped block runs: only that it is there, and skipped, counts.
        return json.dumps({"skipped": True})
    commands = []
    for command in snippet.commands:
        applied = applied_fixes(page.fixes, command, apply=apply_fixes)
        commands.append({
            "run": fixed_command_text(page.text, command, applied),
            "fixes": [[f.rule, f.span.start - command.span.start, f.original, f.replacement]
                      for f in applied],
            "expected": list(command.expected),
        })
    return json.dumps(
        {
            "skipped": False,
            "timeout": options.timeout,
            "exit": options.exit,
            "stdin": options.stdin,
            "file": options.file,
            "session": options.session,
            "commands": commands,
            # A transcript's body is its commands and comments; a script or file body runs (or is
            # written) whole, comments and all.
            "body": None if snippet.commands else snippet.body.replace("\r\n", "\n"),
        },
        sort_keys=True,
        ensure_ascii=False,
    )


def page_key(page: Page, fp: Fingerprint, *, apply_fixes: bool = True) -> str:
    """The key a page's whole result is stored under (its last block's key)."""
    keys = block_keys(page, fp, apply_fixes=apply_fixes)
    return keys[-1] if keys else fp.digest()


class ResultCache:
    """Verified page results on disk, one JSON file per key."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        """Where entries live (``<cache_dir>/results``)."""
        self._started = time.time()
        """When this run began (pruning by age counts from here)."""
        self._used: set[Path] = set()
        """Entries this run loaded or stored: never deleted by it."""

    def load(self, page: Page, key: str) -> PageReport | None:
        """The report stored under ``key``, rebuilt onto ``page``'s current positions; None on
        a miss. A hit marks the entry as used (its modification time)."""
        path = self._path(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            report = _report_from_entry(page, entry)
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            # A missing, old or damaged entry is a miss: the page simply runs again.
            return None
        self._used.add(path)
        # Recently used: safe from pruning by age (a host that only reads may not write here).
        with contextlib.suppress(OSError):
            os.utime(path)
        return report

    def store(self, report: PageReport, key: str, prefixes: Sequence[str] = ()) -> bool:
        """Store ``report`` under ``key`` if it passed; True when stored. ``prefixes``: the keys
        of its blocks before the last (`block_keys`), each recorded as pointing at this entry
        for its first blocks (`load_prefix`)."""
        if not report.ok:
            return False
        path = self._path(key)
        self._used.add(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(_entry_from_report(report), ensure_ascii=False, indent=1)
        _write_atomic(path, data)
        for count, prefix in enumerate(prefixes, 1):
            pointer = self._path(prefix).with_suffix(".prefix")
            pointer.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(pointer, json.dumps({"entry": key, "blocks": count}))
        return True

    def load_prefix(self, page: Page, chain: Sequence[str]) -> PageReport | None:
        """The longest run of ``page``'s first blocks that a stored pass covers, as a report of
        those blocks only: ``chain`` is the page's `block_keys`, and a block's key covers it and
        every block above it, so a pass recorded for a page that began with exactly these
        blocks is theirs (what came after them never changes what they did). None when not
        even the first block has one."""
        for count in range(len(chain) - 1, 0, -1):
            key = chain[count - 1]
            for entry_key in (key, self._pointed_at(key, count)):  # a page of just these blocks
                try:
                    entry = json.loads(self._path(entry_key or "").read_text(encoding="utf-8"))
                    return _report_from_entry(page, entry, blocks=count)
                except (OSError, ValueError, KeyError, IndexError, TypeError):
                    continue
        return None

    def _pointed_at(self, prefix: str, count: int) -> str | None:
        """The entry a prefix pointer names, if it is about ``count`` blocks."""
        try:
            pointer = json.loads(self._path(prefix).with_suffix(".prefix")
                                 .read_text(encoding="utf-8"))
            return str(pointer["entry"]) if pointer["blocks"] == count else None
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def forget(self, keys: Sequence[str]) -> None:
        """Drop what speaks for the blocks under ``keys`` — the keys of a page's blocks from the
        first one that just failed on: their entries, their prefix pointers, and the entry a
        pointer names (another page that begins with these very blocks)."""
        for key in keys:
            pointer = self._path(key).with_suffix(".prefix")
            paths = [self._path(key), pointer]
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                paths.append(self._path(str(json.loads(pointer.read_text(encoding="utf-8"))
                                            ["entry"])))
            for path in paths:
                with contextlib.suppress(OSError):
                    path.unlink()

    def record_fingerprint(self, fp: Fingerprint) -> None:
        """Write the fingerprint of this run beside the entries (`recorded_fingerprint`), unless
        it is there already: a host that re-renders when the file changes (Zensical with the
        results directory under ``watch:``) must not re-render after every run."""
        if recorded_fingerprint(self.directory) == fp:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.directory / FINGERPRINT_FILE, json.dumps(asdict(fp), indent=1))

    def remember(self, page: Page, key: str) -> None:
        """Record ``key`` as ``page``'s current key; delete the entry of its previous key unless
        this run used it (another page with the same blocks)."""
        index = self.directory / "pages" / f"{_sha(str(page.path.resolve()))}.key"
        try:
            old = index.read_text(encoding="utf-8").strip()
        except OSError:
            old = ""
        if old == key:
            return
        if old and self._path(old) not in self._used:
            with contextlib.suppress(OSError):
                self._path(old).unlink()
        index.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(index, key)

    def prune(self, max_age_days: float = MAX_AGE_DAYS) -> list[Path]:
        """Delete entries and page records unused for ``max_age_days``; returns what went."""
        limit = self._started - max_age_days * 86400
        gone: list[Path] = []
        for path in self.directory.glob("*/*.*"):
            try:
                if path.stat().st_mtime < limit:
                    path.unlink()
                    gone.append(path)
            except OSError:  # another build pruned it first
                continue
        return gone

    def holds(self, key: str) -> bool:
        """Whether an entry is stored under ``key`` (a damaged one counts: rare, and then the
        page merely runs where it was weighed as free)."""
        return self._path(key).is_file()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"


def _write_atomic(path: Path, data: str) -> None:
    """Write via a temporary file and rename: a build killed mid-write must not leave an entry
    that parses to garbage."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(data)
    os.replace(tmp, path)


Verifier = Callable[[Sequence[Page]], list[PageReport]]
"""Runs pages without the cache (``api.verify_pages``' own workers), reports in order."""


def verify_cached(pages: Sequence[Page], config: RunConfig, fp: Fingerprint, verify: Verifier,
                  progress: PageDone | None = None) -> list[PageReport]:
    """Verify ``pages`` and record the results: with ``config.use_cache``, take what the cache
    has (``from_cache`` reports, told to ``progress`` at once) and run only the rest through
    ``verify``; without it, run them all. Store what passed, drop the entry of what failed,
    write the run's fingerprint, then prune.

    A page that failed keeps its record of the key it last passed under: restoring its text
    (the usual end of an experiment in ``mkdocs serve``) is served from the cache again.
    """
    cache = ResultCache(config.cache_dir / "results")
    chains = {i: block_keys(p, fp, apply_fixes=config.apply_safe_fixes)
              for i, p in enumerate(pages) if p.runnable}
    keys = {i: chain[-1] for i, chain in chains.items()}
    found: dict[int, PageReport] = {}
    for i, key in keys.items() if config.use_cache else ():
        hit = cache.load(pages[i], key)
        if hit is not None:
            found[i] = hit
            if progress:
                progress(hit)
    to_run = [i for i in range(len(pages)) if i not in found]
    fresh = dict(zip(to_run, verify([pages[i] for i in to_run]) if to_run else [], strict=True))
    passed = set(found)
    for i, report in fresh.items():
        if i not in keys:
            continue
        if cache.store(report, keys[i], chains[i][:-1]):
            passed.add(i)
            continue
        first = _first_failed(report)
        cache.forget(chains[i][first:])
        if first:  # the blocks above the failure passed in this run: their record is theirs
            above = tuple(o for o in report.outcomes if o.snippet.index < first)
            cache.store(replace(report, outcomes=above), chains[i][first - 1],
                        chains[i][: first - 1])
    for i in sorted(passed & set(keys)):  # after every load and store: what this run used
        cache.remember(pages[i], keys[i])
    cache.record_fingerprint(fp)
    cache.prune()
    return [found[i] if i in found else fresh[i] for i in range(len(pages))]


def _first_failed(report: PageReport) -> int:
    """Index of the first block that did not pass (a verdict on the whole page counts as its
    last block's): the blocks above it passed in this very run."""
    return min((o.snippet.index for o in report.outcomes
                if o.status not in (Status.PASSED, Status.SKIPPED)),
               default=len(report.page.snippets) - 1)


def recorded_fingerprint(directory: Path) -> Fingerprint | None:
    """The fingerprint of the last run that recorded results in ``directory``; None when no
    run did (or the file is unreadable)."""
    try:
        data = json.loads((directory / FINGERPRINT_FILE).read_text(encoding="utf-8"))
        return Fingerprint(**{f.name: str(data[f.name]) for f in fields(Fingerprint)})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def recorded_report(page: Page, directory: Path) -> PageReport | None:
    """The recorded result of exactly ``page``'s blocks, for a host that draws without running
    anything: looked up under the keys the last recording run (`recorded_fingerprint`) would give
    them, with that run's fix setting — the whole page's, else that of its longest run of first
    blocks that passed as they are written now (`ResultCache.load_prefix`: the blocks after an
    edit have none). None when nothing was recorded for them — blocks changed from the first
    one on, or whose last run under that fingerprint failed."""
    fp = recorded_fingerprint(directory)
    if fp is None or not page.snippets:
        return None
    chain = block_keys(page, fp, apply_fixes=applies_fixes(fp))
    cache = ResultCache(directory)
    return cache.load(page, chain[-1]) or cache.load_prefix(page, chain)


def applies_fixes(fp: Fingerprint) -> bool:
    """Whether the run ``fp`` names applied safe typo fixes (`RunConfig.apply_safe_fixes`)."""
    try:
        return bool(json.loads(fp.settings).get("apply_safe_fixes", True))
    except (ValueError, AttributeError):
        return True


def stored_pages(pages: Sequence[Page], config: RunConfig, fp: Fingerprint) -> set[int]:
    """Indexes of the runnable pages whose results the cache holds (looked up, not loaded:
    ``--shard`` weighs them as free without touching any entry)."""
    cache = ResultCache(config.cache_dir / "results")
    return {i for i, p in enumerate(pages) if p.runnable
            and cache.holds(page_key(p, fp, apply_fixes=config.apply_safe_fixes))}


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
        "fixes": [_fixes_of(page, outcome.snippet, outcome.command).index(f)
                  for f in outcome.fixes],
        "result": None
        if result is None
        else {
            "output": result.output,
            "exit_code": result.exit_code,
            "duration": result.duration,
            "timed_out": result.timed_out,
        },
    }


def _report_from_entry(page: Page, entry: dict[str, Any],
                       blocks: int | None = None) -> PageReport:
    """The entry's report on ``page`` (only its first ``blocks`` blocks' outcomes, if given)."""
    if entry["format"] != FORMAT:
        raise ValueError("old cache entry format")
    outcomes = []
    for item in entry["outcomes"]:
        if blocks is not None and item["snippet"] >= blocks:
            continue
        snippet = page.snippets[item["snippet"]]
        index = item["command"]
        raw = item["result"]
        skipped = item["status"] == Status.SKIPPED.value and snippet.options.skip is not None
        outcomes.append(
            Outcome(
                snippet=snippet,
                command=None if index is None else snippet.commands[index],
                status=Status(item["status"]),
                result=None if raw is None else RunResult(**raw),
                # The reason is not part of the key: the stored one may be another edition's.
                diff=skipped_outcome(snippet).diff if skipped else item["diff"],
                fixes=tuple(_fixes_of(page, snippet, snippet.commands[index] if index is not None
                                      else None)[i] for i in item["fixes"]),
            )
        )
    return PageReport(
        page=page,
        outcomes=tuple(outcomes),
        engine_version=entry["engine_version"],
        verified_at=entry["verified_at"],
        from_cache=True,
    )


def _fixes_of(page: Page, snippet: Snippet, command: Command | None) -> list[Fix]:
    """The fixes an outcome may name, counted within its command (or block): an entry is shared
    by pages whose comments or skipped blocks differ, so their page-wide fix lists may not."""
    return fixes_in(page.fixes, snippet.span if command is None else command.span)


def _sha(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8") + b"\0")
    return h.hexdigest()
