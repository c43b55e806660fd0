"""The pre-commit hooks (.pre-commit-hooks.yaml), tried for real: `pre-commit try-repo` against
this repository installs snippet-runner into its own environment (from PyPI and this checkout)
and runs each hook on the files of a temporary git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")


def test_the_manifest_is_valid() -> None:
    proc = subprocess.run([str(PRE_COMMIT), "validate-manifest",
                           str(ROOT / ".pre-commit-hooks.yaml")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pre-commit's own cache, shared by the tests here: the hooks' environment is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    project = tmp_path / "project"
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    yield project


def _try(repo: Path, home: Path, hook: str, *files: str) -> subprocess.CompletedProcess[str]:
    for name in files:
        subprocess.run(["git", "-C", str(repo), "add", name], check=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run([str(PRE_COMMIT), "try-repo", str(ROOT), hook, "--files", *files],
                          cwd=repo, env=env, capture_output=True, text=True, check=False,
                          timeout=600)


def test_fix_hook_fails_on_a_typo_and_passes_a_clean_page(repo: Path, home: Path) -> None:
    (repo / "typo.md").write_text("```console\n$ docker run --it test:latest sh\n```\n",
                                  encoding="utf-8")
    (repo / "clean.md").write_text("```console\n$ docker run -it test:latest sh\n```\n",
                                   encoding="utf-8")
    bad = _try(repo, home, "snippet-runner-fix", "typo.md")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "typo.md:2: [docker-clustered-short-flags] (safe)" in bad.stdout
    assert "snippet-runner fix --check" in bad.stdout and "Failed" in bad.stdout
    good = _try(repo, home, "snippet-runner-fix", "clean.md")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout


def test_fix_write_hook_repairs_the_page(repo: Path, home: Path) -> None:
    page = repo / "typo.md"
    page.write_text("```console\n$ docker run --it test:latest sh\n```\n", encoding="utf-8")
    proc = _try(repo, home, "snippet-runner-fix-write", "typo.md")
    assert proc.returncode == 1  # pre-commit stops the commit: the files changed
    assert "files were modified by this hook" in proc.stdout
    assert page.read_text(encoding="utf-8") == "```console\n$ docker run -it test:latest sh\n```\n"


@pytest.mark.sandbox
def test_check_hook_runs_the_changed_pages_with_the_cache(repo: Path, home: Path) -> None:
    page = repo / "page.md"
    page.write_text("```console\n$ docker run --rm test:latest echo hi\nhi\n```\n",
                    encoding="utf-8")
    first = _try(repo, home, "snippet-runner-check", "page.md")
    assert first.returncode == 0, first.stdout + first.stderr
    again = _try(repo, home, "snippet-runner-check", "page.md")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 page(s) from the result cache, 0 checked afresh (no sandbox started)" in again.stdout
    page.write_text(page.read_text(encoding="utf-8").replace("\nhi\n", "\nbye\n"),
                    encoding="utf-8")
    failed = _try(repo, home, "snippet-runner-check", "page.md")
    assert failed.returncode == 1
    assert "page.md:2: FAILED $ docker run --rm test:latest echo hi" in failed.stdout
    shutil.rmtree(repo / ".cache", ignore_errors=True)
