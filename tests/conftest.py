"""Shared fixtures. Sandbox tests need root and Debian's docker.io, tini, busybox-static and
bash-static (``make test`` installs them); the fixture images are built once into the same cache
as ``make site`` uses."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from leakcheck import host_state, leaks

from snippet_runner.config import RunConfig
from snippet_runner.sandbox.namespace import SandboxBackend

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / ".cache" / "snippet-runner"


@pytest.fixture(scope="session", autouse=True)
def no_leaks_after_the_suite() -> Iterator[None]:
    """Fails the run if the suite leaves sandbox processes, mounts, cgroups or temp dirs."""
    before = host_state(CACHE_DIR, {os.getpid()})
    yield
    from snippet_runner.sandbox.cleanup import close_all

    close_all()  # what atexit would do; anything still found below is a real leak
    left = leaks(before, host_state(CACHE_DIR, {os.getpid()}))
    assert not left, f"the test suite leaked: {left}"


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    """The cache shared with `make site` (fixture images are built once)."""
    return CACHE_DIR


@pytest.fixture(scope="session")
def sandbox_backend(cache_dir: Path) -> SandboxBackend:
    """The namespaced-dockerd backend; fixture images are ready after its first start."""
    return SandboxBackend(RunConfig(cache_dir=cache_dir))
