"""The reusable GitHub Action (action.yml): valid by GitHub's schema and actionlint, its shell
scripts clean by shellcheck, and its steps run for real here, as a runner would run them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_workflows import _actionlint

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
BIN = Path(sys.executable).parent
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def _action() -> dict[str, Any]:
    data = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_action_metadata_matches_githubs_schema(tmp_path: Path) -> None:
    check = [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-actions"]
    proc = subprocess.run([*check, str(ACTION)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    broken = tmp_path / "action.yml"  # a composite `run:` step must name its shell
    broken.write_text("name: x\ndescription: y\nruns:\n  using: composite\n  steps:\n"
                      "    - run: echo hi\n", encoding="utf-8")
    proc = subprocess.run([*check, str(broken)], capture_output=True, text=True, check=False)
    assert proc.returncode == 1, proc.stdout


def test_a_workflow_using_the_action_passes_actionlint(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)  # actionlint's project
    shutil.copy(ACTION, tmp_path / "action.yml")
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    good = workflows / "docs.yml"
    good.write_text(
        "on: pull_request\njobs:\n  docs:\n    runs-on: ubuntu-latest\n    strategy:\n"
        "      matrix:\n        shard: [1, 2]\n    steps:\n      - uses: actions/checkout@v5\n"
        "      - uses: ./\n        with:\n          paths: docs README.md\n"
        "          shard: ${{ matrix.shard }}/2\n          json-report: report.json\n",
        encoding="utf-8")
    proc = _actionlint(good, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    good.write_text(good.read_text(encoding="utf-8").replace("json-report:", "json-reprot:"),
                    encoding="utf-8")
    proc = _actionlint(good, cwd=tmp_path)  # actionlint reads our inputs from action.yml
    assert proc.returncode == 1 and "json-reprot" in proc.stdout, proc.stdout


@dataclass(frozen=True)
class Runner:
    """What a GitHub runner gives a composite action's steps."""

    workspace: Path
    temp: Path
    path_file: Path

    def context(self, inputs: dict[str, str]) -> dict[str, str]:
        values = {f"inputs.{k}": v for k, v in _defaults().items()}
        values.update({f"inputs.{k}": v for k, v in inputs.items()})
        values.update({"github.action_path": str(ROOT), "runner.temp": str(self.temp)})
        return values

    def run_steps(self, inputs: dict[str, str], names: tuple[str, ...] = ()
                  ) -> list[subprocess.CompletedProcess[str]]:
        """Run the action's steps (those named, else all) as the runner does: each `run:` with
        `bash --noprofile --norc -eo pipefail`, its `env:` evaluated, `if:` honoured."""
        context = self.context(inputs)
        done = []
        for step in _action()["runs"]["steps"]:
            if names and step["name"] not in names:
                continue
            if "if" in step and not _condition(step["if"], context):
                continue
            env = {**os.environ, "GITHUB_WORKSPACE": str(self.workspace),
                   "GITHUB_PATH": str(self.path_file), "RUNNER_TEMP": str(self.temp),
                   **{k: _expand(str(v), context) for k, v in step.get("env", {}).items()}}
            script = self.temp / "step.sh"
            script.write_text(_expand(step["run"], context), encoding="utf-8")
            done.append(subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=self.workspace, env=env, capture_output=True, text=True, check=False))
        return done


def _defaults() -> dict[str, str]:
    return {k: str(v.get("default", "")) for k, v in _action()["inputs"].items()}


def _expand(text: str, context: dict[str, str]) -> str:
    """`${{ … }}` in the action: only inputs, the action's path and the runner's temp dir."""
    def value(match: re.Match[str]) -> str:
        assert match[1] in context, f"unexpected expression {match[0]} in action.yml"
        return context[match[1]]
    return EXPRESSION.sub(value, text)


def _condition(text: str, context: dict[str, str]) -> bool:
    """`if:` in the action: comparisons of inputs with strings, joined by `&&`."""
    result = True
    for part in text.split("&&"):
        match = re.fullmatch(r"(inputs\.[\w-]+) (==|!=) '([^']*)'", part.strip())
        assert match, f"unexpected condition {text!r} in action.yml"
        result &= (context[match[1]] == match[3]) == (match[2] == "==")
    return result


def test_every_run_script_passes_shellcheck(tmp_path: Path) -> None:
    runner = Runner(tmp_path, tmp_path, tmp_path / "path")
    context = runner.context({})
    for step in _action()["runs"]["steps"]:
        assert step["shell"] == "bash"
        script = tmp_path / "step.sh"
        script.write_text("#!/bin/bash\n" + _expand(step["run"], context), encoding="utf-8")
        proc = subprocess.run([str(BIN / "shellcheck"), "-s", "bash", str(script)],
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"{step['name']}:\n{proc.stdout}"


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    """A runner on which the action installed snippet-runner (from this checkout, with pip)."""
    base = tmp_path_factory.mktemp("runner")
    made = Runner(base / "workspace", base / "temp", base / "github_path")
    made.workspace.mkdir()
    made.temp.mkdir()
    (install,) = made.run_steps({}, ("Install snippet-runner",))
    assert install.returncode == 0, install.stdout + install.stderr
    assert made.path_file.read_text().strip() == str(made.temp / "snippet-runner-venv" / "bin")
    assert install.stdout.strip().endswith("snippet-runner 0.1.0")
    yield made


def _docs(workspace: Path) -> None:
    docs = workspace / "docs"
    shutil.rmtree(docs, ignore_errors=True)
    shutil.rmtree(workspace / ".cache", ignore_errors=True)
    docs.mkdir()
    (docs / "good.md").write_text("```console\n$ echo ok\nok\n```\n", encoding="utf-8")
    (docs / "bad.md").write_text("# Bad\n\n```console\n$ echo 100%\n50%\n```\n",
                                 encoding="utf-8")


def test_the_check_step_annotates_and_writes_reports(runner: Runner) -> None:
    _docs(runner.workspace)
    (check,) = runner.run_steps({"backend": "local", "json-report": "report.json",
                                 "junit": "junit.xml", "shard": "1/1", "args": "--jobs 2"},
                                ("snippet-runner check",))
    assert check.returncode == 1, check.stdout + check.stderr
    assert check.stdout.startswith("::error file=docs/bad.md,line=5,"), check.stdout
    assert "-50%25%0A+100%25" in check.stdout  # % escaped, the diff on one line
    assert "shard 1/1 (from --shard)" in check.stderr
    report = json.loads((runner.workspace / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["failed"] == 1 and report["shard"]["total"] == 1
    assert ET.parse(runner.workspace / "junit.xml").getroot().get("failures") == "1"


def test_the_engine_step_is_skipped_for_the_local_backend(runner: Runner) -> None:
    steps = runner.run_steps({"backend": "local"}, ("Install the sandbox engine",))
    assert steps == []


def test_the_merge_mode_merges_the_shards_reports(runner: Runner) -> None:
    _docs(runner.workspace)
    for k in (1, 2):  # each job starts from the same (here: empty) cache
        (check,) = runner.run_steps({"backend": "local", "shard": f"{k}/2",
                                     "json-report": f"report-{k}.json",
                                     "cache-dir": f".cache/job-{k}"},
                                    ("snippet-runner check",))
        assert "shard" in check.stderr
    steps = runner.run_steps({"merge": "report-*.json", "merge-output": "merged.json"},
                             ("Install the sandbox engine", "snippet-runner check",
                              "snippet-runner report merge"))
    assert len(steps) == 1  # the engine and check steps are skipped
    merge = steps[0]
    assert merge.returncode == 1, merge.stdout + merge.stderr  # bad.md failed
    assert "merged of 2 shards: 2 pages" in merge.stderr
    merged = json.loads((runner.workspace / "merged.json").read_text(encoding="utf-8"))
    assert sorted(p["path"] for p in merged["pages"]) == ["docs/bad.md", "docs/good.md"]
    (missing,) = runner.run_steps({"merge": "nothing-*.json"}, ("snippet-runner report merge",))
    assert missing.returncode == 2 and "no report matches nothing-*.json" in missing.stdout


@pytest.mark.sandbox
def test_the_action_runs_pages_in_the_sandbox(runner: Runner, cache_dir: Path) -> None:
    _docs(runner.workspace)
    (runner.workspace / "docs" / "bad.md").unlink()
    (runner.workspace / "docs" / "docker.md").write_text(
        "```console\n$ docker run --rm test:latest echo hi\nhi\n```\n", encoding="utf-8")
    engine, check = runner.run_steps({"cache-dir": str(cache_dir), "cache": "true"},
                                     ("Install the sandbox engine", "snippet-runner check"))
    assert engine.returncode == 0, engine.stdout + engine.stderr
    assert "installing" not in engine.stdout  # this machine has every package
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout == "2 pages: 2 passed\n"
