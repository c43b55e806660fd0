"""The style gate runs with the tests: ruff and mypy (strict), as configured in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_is_clean() -> None:
    proc = _run(str(BIN / "ruff"), "check", "snippet_runner", "tests", "scripts")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_flags_a_real_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n", encoding="utf-8")
    proc = _run(str(BIN / "ruff"), "check", "--no-cache", str(bad))
    assert proc.returncode == 1 and "F401" in proc.stdout


def test_mypy_strict_is_clean() -> None:
    proc = _run(str(BIN / "mypy"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
