"""Building the fixture images once and keeping them: ``docker save`` tars under the cache.

``<cache_dir>/fixtures/<key>/<name>.tar``: <key> hashes every build context
(`fixtures.fixtures_key`), so editing a Dockerfile rebuilds; the most recently used sets are kept.
The build runs in a sandbox of its own (``start_builder``), never on the host's daemon.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import docker.errors

from ..config import RunConfig
from ..errors import SandboxError
from .fixtures import Fixture, context_files, fixtures_for, fixtures_key

KEEP_FIXTURE_SETS = 4
"""Fixture sets kept in the cache (one per combination of build contexts recently used)."""


class Builder(Protocol):
    """A started sandbox whose daemon builds the images."""

    client: Any

    def close(self) -> None: ...


def ensure_fixtures(config: RunConfig, start_builder: Callable[[], Builder]
                    ) -> tuple[list[Fixture], Path]:
    """Build and ``docker save`` the fixture images unless the cache has them; returns the
    fixtures and the directory holding one tar per image."""
    fixtures = fixtures_for(config)
    base = config.cache_dir.resolve() / "fixtures"
    base.mkdir(parents=True, exist_ok=True)
    target = base / fixtures_key(fixtures)
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder; the others wait and reuse its result
        if (target / "done").exists():
            os.utime(target)  # recently used: kept by the pruning below
            return fixtures, target
        # Holding the lock, we are the only builder: a staging directory left here is a killed
        # build's (its context too), and goes.
        for stale in base.glob(".build-*"):
            shutil.rmtree(stale, ignore_errors=True)
        builder = start_builder()
        try:
            staging = Path(tempfile.mkdtemp(prefix=".build-", dir=base))
            try:
                for fixture in fixtures:
                    _build(builder, fixture, staging)
                (staging / "done").write_text("")
                staging.rename(target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            _prune(base, keep=KEEP_FIXTURE_SETS)
        finally:
            builder.close()
    return fixtures, target


def _prune(base: Path, keep: int) -> None:
    """Delete all but the ``keep`` most recently used fixture sets."""
    sets = sorted((p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in sets[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def _build(builder: Builder, fixture: Fixture, out_dir: Path) -> None:
    # The context lives in the staging directory, so a build killed half-way leaves nothing
    # outside the cache (the next build removes it).
    with tempfile.TemporaryDirectory(prefix=".context-", dir=out_dir) as tmp:
        context = Path(tmp)
        for rel, path in context_files(fixture):
            (context / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, context / rel)
        try:
            builder.client.images.build(
                path=str(context), tag=fixture.tag, rm=True, forcerm=True, pull=False,
            )
        except (docker.errors.BuildError, docker.errors.APIError) as exc:
            if isinstance(exc, docker.errors.BuildError):
                log = "".join(str(item.get("stream", item.get("error", "")))
                              for item in exc.build_log)
                why = f"{exc.msg}\n{log[-1500:]}"
            else:
                why = str(exc.explanation or exc)
            raise SandboxError(
                f"building fixture image {fixture.tag} from {fixture.context / 'Dockerfile'} "
                f"failed: {why}"
            ) from exc
    for ref in fixture.refs[1:]:
        repository, tag = ref.rsplit(":", 1)
        builder.client.api.tag(fixture.tag, repository, tag)
    with open(out_dir / fixture.archive, "wb") as f:  # the repository: all its tags
        for chunk in builder.client.api.get_image(fixture.name):
            f.write(chunk)

