"""The result cache on its own: pruning, what its fingerprint costs, and the fixture hint.

The cache through real builds and CLI runs is tested in ``test_plugin.py`` and ``test_cli.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from snippet_runner.api import fingerprint as api_fingerprint
from snippet_runner.api import load_page, verify_pages
from snippet_runner.config import RunConfig
from snippet_runner.core.cache import (
    MAX_AGE_DAYS,
    ResultCache,
    page_key,
    recorded_fingerprint,
    recorded_report,
)
from snippet_runner.model import Page


def _page(path: Path, word: str) -> Path:
    path.write_text(f"```console\n$ echo {word}\n{word}\n```\n", encoding="utf-8")
    return path


def _entries(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "results").glob("??/*.json"))


def _config(tmp_path: Path) -> RunConfig:
    return RunConfig(backend="local", jobs=1, cache_dir=tmp_path / "cache", use_cache=True)


def test_a_changed_page_replaces_its_entry(tmp_path: Path) -> None:
    config = _config(tmp_path)
    page = _page(tmp_path / "p.md", "one")
    verify_pages([load_page(page)], config)
    [old] = _entries(config.cache_dir)
    _page(page, "two")
    [report] = verify_pages([load_page(page)], config)
    assert report.ok and not report.from_cache
    [new] = _entries(config.cache_dir)
    assert new != old and not old.exists()


def test_an_entry_another_page_uses_in_the_same_run_is_kept(tmp_path: Path) -> None:
    config = _config(tmp_path)
    a, b = _page(tmp_path / "a.md", "one"), _page(tmp_path / "b.md", "two")
    verify_pages([load_page(a), load_page(b)], config)
    assert len(_entries(config.cache_dir)) == 2
    _page(a, "two")  # a now has b's blocks; a's old entry ("one") goes, the shared one stays
    reports = verify_pages([load_page(b), load_page(a)], config)
    assert [r.from_cache for r in reports] == [True, True]
    [shared] = _entries(config.cache_dir)
    _page(b, "three")  # b moves on; a, loaded in the same run, still uses the shared entry
    reports = verify_pages([load_page(a), load_page(b)], config)
    assert [r.from_cache for r in reports] == [True, False]
    assert shared.exists() and len(_entries(config.cache_dir)) == 2


def test_entries_unused_for_long_are_pruned_and_used_ones_refreshed(tmp_path: Path) -> None:
    config = _config(tmp_path)
    gone, kept = _page(tmp_path / "gone.md", "one"), _page(tmp_path / "kept.md", "two")
    verify_pages([load_page(gone), load_page(kept)], config)
    old = time.time() - (MAX_AGE_DAYS + 1) * 86400
    for path in (config.cache_dir / "results").glob("*/*"):
        os.utime(path, (old, old))
    gone.unlink()  # a deleted page: nothing will ever load its entry again
    [report] = verify_pages([load_page(kept)], config)
    assert report.from_cache  # old but still valid: loading it marks it used
    fp = api_fingerprint(config)
    [entry] = _entries(config.cache_dir)
    assert entry.stem == page_key(load_page(kept), fp)
    assert entry.stat().st_mtime > old


_KEYED = """\
```console
# COMMENT
$ echo one
one
```

```console skip="REASON"
$ echo never
never
```

```console exit="1"
$ echo two; false
two
```
"""


@pytest.mark.parametrize(
    ("old", "new", "reruns"),
    [
        ("COMMENT", "a comment in another language", False),
        ("REASON", "another reason", False),
        ("$ echo one", "$ echo  one", True),  # same output, but a different command
        ("one\n```", "o* (glob)\n```", True),  # same verdict, but a different expectation
        ('exit="1"', 'exit="2"', True),
        ("$ echo never", "$ echo never  # a translated note", False),  # never runs
    ],
    ids=["comment", "skip-reason", "command", "expected-line", "exit-option",
         "skipped-command"],
)
def test_only_what_runs_or_is_judged_is_part_of_the_key(tmp_path: Path, old: str, new: str,
                                                        reruns: bool) -> None:
    config = _config(tmp_path)
    page = tmp_path / "p.md"
    page.write_text(_KEYED, encoding="utf-8")
    [first] = verify_pages([load_page(page)], config)
    assert first.ok and not first.from_cache
    assert _KEYED.count(old) == 1
    page.write_text(_KEYED.replace(old, new), encoding="utf-8")
    [second] = verify_pages([load_page(page)], config)
    assert second.from_cache is not reruns


def test_a_cached_skip_shows_the_pages_own_reason(tmp_path: Path) -> None:
    """The stored outcome of a skipped block came from a page with another reason; the report
    must carry the reason the page gives now."""
    config = _config(tmp_path)
    page = tmp_path / "p.md"
    page.write_text(_KEYED, encoding="utf-8")
    verify_pages([load_page(page)], config)
    page.write_text(_KEYED.replace("REASON", "the new reason"), encoding="utf-8")
    [report] = verify_pages([load_page(page)], config)
    assert report.from_cache
    [skipped] = [o for o in report.outcomes if o.snippet.options.skip is not None]
    assert skipped.diff == "skipped: the new reason"


def test_a_skipped_block_that_starts_running_is_a_miss(tmp_path: Path) -> None:
    config = _config(tmp_path)
    page = tmp_path / "p.md"
    page.write_text(_KEYED, encoding="utf-8")
    verify_pages([load_page(page)], config)
    page.write_text(_KEYED.replace(' skip="REASON"', ""), encoding="utf-8")
    [report] = verify_pages([load_page(page)], config)
    assert report.ok and not report.from_cache


_FIXED = """\
```console
# COMMENT
$ echo x; true docker run TYPO test:latest
x
```
"""


def test_a_cached_fix_is_the_commands_own_even_when_comments_add_fixes(tmp_path: Path) -> None:
    """Comments are not keyed but may hold typos too (fixes are found there): a stored fix must
    come back as the command's, not as whatever fix now has its page-wide position."""
    config = _config(tmp_path)
    page = tmp_path / "p.md"
    page.write_text(_FIXED.replace("TYPO", "--it"), encoding="utf-8")
    verify_pages([load_page(page)], config)
    page.write_text(_FIXED.replace("TYPO", "--it").replace("COMMENT", "docker run --it x"),
                    encoding="utf-8")
    loaded = load_page(page)
    assert len(loaded.fixes) == 2  # the comment's fix comes first
    [report] = verify_pages([loaded], config)
    assert report.from_cache
    [outcome] = report.outcomes
    assert [f.location.line for f in outcome.fixes] == [3]


def test_a_page_with_the_typo_already_repaired_does_not_reuse_the_fixed_run(
        tmp_path: Path) -> None:
    """Same command as run, but the stored outcome says a fix was applied: not the same."""
    config = _config(tmp_path)
    page = tmp_path / "p.md"
    page.write_text(_FIXED.replace("TYPO", "--it"), encoding="utf-8")
    verify_pages([load_page(page)], config)
    page.write_text(_FIXED.replace("TYPO", "-it"), encoding="utf-8")
    [report] = verify_pages([load_page(page)], config)
    assert report.ok and not report.from_cache
    assert report.outcomes[0].fixes == ()


def test_prune_keeps_fresh_entries(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path)
    (tmp_path / "ab").mkdir()
    (tmp_path / "ab" / "abc.json").write_text("{}")
    assert cache.prune() == [] and (tmp_path / "ab" / "abc.json").exists()
    assert cache.prune(max_age_days=-1) == [tmp_path / "ab" / "abc.json"]


def test_the_sandbox_fingerprint_does_not_load_the_docker_sdk(tmp_path: Path) -> None:
    """A warm build must not pay for importing the Docker SDK (about 0.3 s)."""
    code = ("import sys; from pathlib import Path; from snippet_runner.config import RunConfig; "
            "from snippet_runner.api import fingerprint; "
            f"fp = fingerprint(RunConfig(cache_dir=Path({str(tmp_path)!r}))); "
            "assert fp.fixtures and fp.engine; "
            "print('docker' in sys.modules, 'snippet_runner.sandbox.namespace' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]


def test_a_check_without_reuse_records_what_passed_and_forgets_what_failed(
        tmp_path: Path) -> None:
    """``check`` records without reusing: a passing page is stored (with the run's fingerprint
    beside it) and found by a host that only draws; when the same blocks fail later (the world
    changed, not the page), that record goes."""
    config = replace(_config(tmp_path), use_cache=False, record_results=True)
    results = config.cache_dir / "results"
    flag = tmp_path / "flag"
    flag.write_text("on\n")
    path = tmp_path / "p.md"
    path.write_text(f"```console\n$ cat {flag}\non\n```\n", encoding="utf-8")
    [report] = verify_pages([load_page(path)], config)
    assert report.ok and not report.from_cache
    assert recorded_fingerprint(results) == api_fingerprint(config)
    drawn = recorded_report(load_page(path), results)
    assert drawn is not None and drawn.ok and drawn.from_cache
    [again] = verify_pages([load_page(path)], config)
    assert again.ok and not again.from_cache  # recorded, not reused
    other = path.read_text().replace("\non\n", "\non \n")
    assert recorded_report(load_page_text(tmp_path, other), results) is None  # other blocks
    flag.write_text("off\n")
    [failed] = verify_pages([load_page(path)], config)
    assert not failed.ok
    assert recorded_report(load_page(path), results) is None


def load_page_text(tmp_path: Path, text: str) -> Page:
    path = tmp_path / "other.md"
    path.write_text(text, encoding="utf-8")
    return load_page(path)


def test_restoring_the_text_that_passed_comes_from_the_cache(tmp_path: Path) -> None:
    """An edit that fails does not cost the entry of the text that passed before it."""
    config = _config(tmp_path)
    path = _page(tmp_path / "p.md", "one")
    verify_pages([load_page(path)], config)
    good = path.read_text()
    path.write_text(good.replace("\none\n", "\nwrong\n"), encoding="utf-8")
    [failed] = verify_pages([load_page(path)], config)
    assert not failed.ok
    path.write_text(good, encoding="utf-8")
    [restored] = verify_pages([load_page(path)], config)
    assert restored.ok and restored.from_cache
