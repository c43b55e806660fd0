"""The pre-commit hooks (.pre-commit-hooks.yaml), tried for real: `pre-commit try-repo` against
this repository installs snippet-runner into an environment of its own (from PyPI and this
checkout, as a user's pre-commit would from a tag) and runs every hook on the staged files of
a temporary git repository."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")


def test_the_manifest_is_valid() -> None:
    proc = subprocess.run([str(PRE_COMMIT), "validate-manifest",
                           str(ROOT / ".pre-commit-hooks.yaml")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.sandbox
def test_try_repo_runs_every_hook_on_the_staged_pages(tmp_path: Path) -> None:
    """One `try-repo` (it builds a fresh environment each time, about a minute): every hook of
    the manifest, in order, on two staged pages."""
    repo = tmp_path / "project"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    typo = repo / "typo.md"  # an em dash where `--rm` belongs: a safe fix
    typo.write_text("```console\n$ docker run \u2014rm test:latest echo hi\nhi\n```\n",
                    encoding="utf-8")
    (repo / "page.md").write_text("```console\n$ echo fine\nfine\n```\n", encoding="utf-8")
    (repo / "notes.txt").write_text("$ docker run \u2014rm x\n", encoding="utf-8")
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "home"), "PRE_COMMIT_COLOR": "never"}
    proc = subprocess.run([str(PRE_COMMIT), "try-repo", str(ROOT), "--verbose", "--all-files"],
                          cwd=repo, env=env, capture_output=True, text=True, check=False,
                          timeout=900)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    hooks = _sections(out)
    assert set(hooks) == {"fix --check", "fix --write", "check --cache"}, out
    # fix --check: fails, naming the typo (Markdown files only: notes.txt is not passed).
    verdict, text = hooks["fix --check"]
    assert verdict == "Failed" and "typo.md:2: [typographic-dash] (safe)" in text, out
    assert "notes.txt" not in out
    # fix --write: repairs it; pre-commit stops the commit because a file changed.
    verdict, text = hooks["fix --write"]
    assert verdict == "Failed" and "files were modified by this hook" in text
    assert typo.read_text(encoding="utf-8") == (
        "```console\n$ docker run --rm test:latest echo hi\nhi\n```\n")
    # check --cache: both pages run in the sandbox (the typo fixed for the run) and pass.
    verdict, text = hooks["check --cache"]
    assert verdict == "Passed", out
    assert "0 page(s) from the result cache, 2 checked afresh" in text
    assert "2 pages: 2 passed" in text


_HOOK = re.compile(r"^snippet-runner (.+?)\.{3,}(Passed|Failed)$", re.MULTILINE)


def _sections(out: str) -> dict[str, tuple[str, str]]:
    """Each hook's verdict and the text pre-commit prints under it (``--verbose``)."""
    heads = list(_HOOK.finditer(out))
    return {m[1]: (m[2], out[m.end():heads[n + 1].start() if n + 1 < len(heads) else None])
            for n, m in enumerate(heads)}
