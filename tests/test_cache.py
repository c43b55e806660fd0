"""The result cache on its own: pruning, what its fingerprint costs, and the fixture hint.

The cache through real builds and CLI runs is tested in ``test_plugin.py`` and ``test_cli.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from snippet_runner.api import RunConfig, load_page, verify_pages
from snippet_runner.cache import MAX_AGE_DAYS, ResultCache, fingerprint, page_key
from snippet_runner.errors import MissingImageError, SandboxError


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
    fp = fingerprint(config)
    [entry] = _entries(config.cache_dir)
    assert entry.stem == page_key(load_page(kept), fp)
    assert entry.stat().st_mtime > old


def test_prune_keeps_fresh_entries(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path)
    (tmp_path / "ab").mkdir()
    (tmp_path / "ab" / "abc.json").write_text("{}")
    assert cache.prune() == [] and (tmp_path / "ab" / "abc.json").exists()
    assert cache.prune(max_age_days=-1) == [tmp_path / "ab" / "abc.json"]


def test_the_sandbox_fingerprint_does_not_load_the_docker_sdk(tmp_path: Path) -> None:
    """A warm build must not pay for importing the Docker SDK (about 0.3 s)."""
    code = ("import sys; from pathlib import Path; from snippet_runner.api import RunConfig; "
            "from snippet_runner.cache import fingerprint; "
            f"fp = fingerprint(RunConfig(cache_dir=Path({str(tmp_path)!r}))); "
            "assert fp.fixtures and fp.engine; "
            "print('docker' in sys.modules, 'snippet_runner.sandbox' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]


def test_missing_image_is_a_sandbox_error() -> None:
    assert issubclass(MissingImageError, SandboxError)


@pytest.mark.parametrize(("image", "retag"), [("nosuchimage:1", True),
                                               ("nosuchimage", False),
                                               ("registry:5000/team/nosuchimage:latest", False)])
def test_fixture_hint_never_claims_a_fixture_provides_another_tag(image: str,
                                                                   retag: bool) -> None:
    from snippet_runner.sandbox import _check_missing_image

    with pytest.raises(MissingImageError) as caught:
        _check_missing_image(f"docker run --rm {image} true",
                             f"Unable to find image '{image}' locally\n")
    message = str(caught.value)
    assert "docs/_fixtures/nosuchimage/Dockerfile" in message
    assert "always tagged :latest" in message
    assert "built offline as nosuchimage:latest" in message
    said = "change the page to use nosuchimage:latest" in message
    assert said is retag, message
