"""Everything under tests/sandbox needs root and Debian's docker.io (``make test`` installs it):
each test here is marked ``sandbox``, so ``pytest -m "not sandbox"`` leaves them all out."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.sandbox)
