"""Running pages with the real local backend: order, sessions, files, skips, timeouts, jobs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from snippet_runner.api import load_page, verify_pages
from snippet_runner.config import RunConfig
from snippet_runner.model import Page, PageReport

LOCAL = RunConfig(backend="local", jobs=1, command_timeout=20, page_timeout=120)


def page(tmp_path: Path, text: str, name: str = "p.md") -> Page:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_page(path)


def run(tmp_path: Path, text: str, config: RunConfig = LOCAL) -> PageReport:
    [report] = verify_pages([page(tmp_path, text)], config)
    return report


def statuses(report: PageReport) -> list[tuple[int, str]]:
    return [((o.command.location.line if o.command else o.snippet.location.line),
             o.status.value) for o in report.outcomes]


def test_blocks_share_one_shell_in_page_order(tmp_path: Path) -> None:
    report = run(tmp_path, "```console\n$ cd /tmp && X=42\n```\n\n```console\n$ echo $X $PWD\n"
                           "42 /tmp\n```\n")
    assert statuses(report) == [(2, "passed"), (6, "passed")]
    assert report.ok and report.engine_version


def test_named_sessions_are_separate_shells(tmp_path: Path) -> None:
    report = run(tmp_path, '```console\n$ X=main\n```\n\n```console session="other"\n'
                           '$ echo "[$X]"\n[]\n```\n\n```console\n$ echo $X\nmain\n```\n')
    assert report.ok, [o.diff for o in report.outcomes]


def test_file_hidden_script_and_skipped_blocks(tmp_path: Path) -> None:
    text = ('```toml file="/etc/app/config.toml"\nname = "러너"\n```\n\n'
            '```bash hide="true"\ncp "$SNIPPET_ROOT/etc/app/config.toml" ./copy.toml\n```\n\n'
            '```console\n$ cat copy.toml\nname = "러너"\n```\n\n'
            '```bash skip="needs a GPU"\n$ nvidia-smi\n```\n')
    report = run(tmp_path, text)
    assert statuses(report) == [(1, "passed"), (5, "passed"), (10, "passed"), (14, "skipped")]


def test_mismatch_is_a_result_with_a_diff_and_the_page_goes_on(tmp_path: Path) -> None:
    report = run(tmp_path, "```console\n$ echo actual\nexpected\n$ echo next\nnext\n```\n")
    assert statuses(report) == [(2, "failed"), (4, "passed")]
    assert "-expected\n+actual" in report.outcomes[0].diff
    assert not report.ok


def test_exit_option_applies_to_the_last_command(tmp_path: Path) -> None:
    report = run(tmp_path, '```console exit="3"\n$ true\n$ (exit 3)\n```\n\n'
                           '```console\n$ false\n```\n')
    assert statuses(report) == [(2, "passed"), (3, "passed"), (7, "failed")]
    assert report.outcomes[2].diff == "exit status 1, expected 0"


def test_script_block_checks_exit_status_only(tmp_path: Path) -> None:
    report = run(tmp_path, "```bash\necho whatever\nfalse\n```\n")
    assert statuses(report) == [(1, "failed")]
    assert "exit status 1" in report.outcomes[0].diff


def test_timeout_is_reported_at_the_command_and_the_page_goes_on(tmp_path: Path) -> None:
    report = run(tmp_path, '```console timeout="1"\n$ echo start\nstart\n$ sleep 30\n'
                           '$ echo after\nafter\n```\n')
    assert statuses(report) == [(2, "passed"), (4, "timeout"), (5, "passed")]
    assert 'timeout="seconds"' in report.outcomes[1].diff


def test_page_time_limit_stops_the_rest(tmp_path: Path) -> None:
    config = RunConfig(backend="local", jobs=1, command_timeout=20, page_timeout=1)
    report = run(tmp_path, "```console\n$ sleep 5\n$ echo never\nnever\n```\n", config)
    assert statuses(report) == [(2, "timeout"), (3, "timeout")]
    assert "page's time limit of 1 s ran out" in report.outcomes[0].diff
    assert "not run" in report.outcomes[1].diff


def test_stdin_is_typed_into_the_last_command(tmp_path: Path) -> None:
    report = run(tmp_path, '```console stdin="hello\\n"\n$ read -r line; echo "got $line"\n'
                           "...\ngot hello\n```\n")
    assert report.ok, report.outcomes[0].diff


def test_safe_fixes_are_applied_before_running_unless_disabled(tmp_path: Path) -> None:
    text = "```console\n$ echo “quoted”\nquoted\n```\n"
    report = run(tmp_path, text)
    assert report.ok and [f.rule for f in report.outcomes[0].fixes] == ["smart-quotes"] * 2
    raw = RunConfig(backend="local", jobs=1, apply_safe_fixes=False)
    assert not run(tmp_path, text, raw).ok


@pytest.mark.parametrize("jobs", [1, 3])
def test_pages_in_parallel_keep_order_and_are_isolated(tmp_path: Path, jobs: int) -> None:
    pages = [page(tmp_path, f"```console\n$ echo ${{SEEN:-fresh}}; SEEN=dirty\nfresh\n"
                            f"$ echo {i}\n{i}\n```\n", f"p{i}.md") for i in range(5)]
    seen: list[str] = []
    reports = verify_pages(pages, RunConfig(backend="local", jobs=jobs),
                           progress=lambda r: seen.append(r.page.path.name))
    assert [r.page.path.name for r in reports] == [f"p{i}.md" for i in range(5)]
    assert all(r.ok for r in reports), [o.diff for r in reports for o in r.outcomes]
    assert sorted(seen) == [f"p{i}.md" for i in range(5)]


def test_page_with_only_skipped_blocks_starts_nothing(tmp_path: Path) -> None:
    report = run(tmp_path, '```bash skip="demo"\n$ rm -rf /\n```\n',
                 RunConfig(backend="no-such-backend"))
    assert statuses(report) == [(1, "skipped")] and report.ok


def test_unknown_backend_is_a_config_error(tmp_path: Path) -> None:
    from snippet_runner.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown backend"):
        run(tmp_path, "```console\n$ true\n```\n", RunConfig(backend="no-such-backend"))


@pytest.mark.sandbox
def test_docker_command_in_the_real_sandbox(tmp_path: Path) -> None:
    text = ("```console\n$ docker run --rm test:latest echo hi\nhi\n"
            "$ docker run --it test:latest true\nthe input device is not a TTY\n[1]\n```\n")
    report = run(tmp_path, text, RunConfig(backend="sandbox", jobs=1))
    assert report.ok, [o.diff for o in report.outcomes]
    assert report.outcomes[1].fixes[0].replacement == "-it"
    assert report.engine_version.startswith("docker")


def test_a_failing_system_call_in_the_backend_is_an_error_outcome(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A system call failing inside a backend (e.g. a PTY ioctl) becomes a SandboxError at the
    sandbox layer's boundary and reports the page as ERROR; the run goes on."""
    from snippet_runner.sandbox import session

    def broken(self: session.PtySession) -> None:
        raise OSError(25, "Inappropriate ioctl for device")

    monkeypatch.setattr(session.PtySession, "_spawn", broken)
    report = run(tmp_path, "```console\n$ echo a\na\n$ echo b\nb\n```\n\n```bash skip=\"x\"\n"
                           "$ rm -rf /\n```\n")
    assert statuses(report) == [(2, "error"), (4, "error"), (8, "skipped")]
    assert "Inappropriate ioctl" in report.outcomes[0].diff
    assert report.outcomes[2].diff == "skipped: x"


def test_a_crash_in_a_worker_reaches_the_caller(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A programming error surfaces as itself, not as a missing report later."""
    from snippet_runner.sandbox.local import LocalSandbox

    def buggy(self: LocalSandbox) -> None:
        raise ZeroDivisionError("bug in a backend")

    monkeypatch.setattr(LocalSandbox, "open_session", buggy)
    pages = [page(tmp_path, "```console\n$ true\n```\n", f"p{i}.md") for i in range(3)]
    with pytest.raises(ZeroDivisionError, match="bug in a backend"):
        verify_pages(pages, RunConfig(backend="local", jobs=2))
    assert not list(Path("/tmp").glob(f"snippet-runner-local-{os.getpid()}-*"))


# --- a missing image is the command's error, not the sandbox's ----------------------------------

MISSING_IMAGE_PAGE = ("```console\n$ docker run --rm nosuchimage:1 true\n$ echo still-here\n"
                      "still-here\n```\n\n```console\n$ docker run --rm test:latest echo after\n"
                      "after\n```\n")


@pytest.mark.sandbox
def test_missing_image_is_an_error_at_its_command_and_the_page_goes_on(tmp_path: Path,
                                                                       cache_dir: Path) -> None:
    config = RunConfig(backend="sandbox", jobs=1, cache_dir=cache_dir, use_cache=False)
    report = run(tmp_path, MISSING_IMAGE_PAGE, config)
    assert statuses(report) == [(2, "error"), (3, "passed"), (8, "passed")], \
        [o.diff for o in report.outcomes]
    diff = report.outcomes[0].diff
    assert "nosuchimage:1" in diff and "`snippet-runner images lock`" in diff
    assert "docs/_fixtures/nosuchimage/" in diff  # or how to add it as a fixture
    assert not report.ok


@pytest.mark.parametrize(("missing", "expected"), [
    (True, [(2, "error"), (3, "passed"), (8, "passed")]),
    (False, [(2, "error"), (3, "error"), (8, "error")]),
])
def test_only_a_missing_image_lets_the_page_go_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, missing: bool,
        expected: list[tuple[int, str]]) -> None:
    """The same page on the local backend, its `docker` answered the two ways a sandbox can
    fail: a missing image (the shell is fine) or any other SandboxError (it is not)."""
    from snippet_runner.errors import MissingImageError, SandboxError
    from snippet_runner.model import RunResult
    from snippet_runner.sandbox.session import PtySession

    real_run = PtySession.run

    def run_or_fail(self: PtySession, command: str, *, timeout: float,
                    stdin: str | None = None) -> RunResult:
        if "nosuchimage" in command:
            error = MissingImageError if missing else SandboxError
            raise error(f"`{command}` needs the image nosuchimage:1")
        if command.startswith("docker run --rm test:latest echo "):
            command = command.removeprefix("docker run --rm test:latest ")
        return real_run(self, command, timeout=timeout, stdin=stdin)

    monkeypatch.setattr(PtySession, "run", run_or_fail)
    report = run(tmp_path, MISSING_IMAGE_PAGE)
    assert statuses(report) == expected, [o.diff for o in report.outcomes]
    assert "nosuchimage:1" in report.outcomes[0].diff
    if not missing:
        assert report.outcomes[1].diff.startswith("not run: the sandbox failed earlier")



def test_a_verifier_keeps_its_sandbox_warm_and_resets_it_between_calls(tmp_path: Path) -> None:
    """The same sandbox (its root, $SNIPPET_ROOT) serves both calls, started before the first
    and reset between them: the file the first page left is gone; closing the verifier ends it."""
    from snippet_runner.api import Verifier

    shows_root = '```console\n$ echo "$SNIPPET_ROOT"; {then}\n.*snippet-runner-local-.* (re)\n```\n'
    first = page(tmp_path, shows_root.format(then='touch "$HOME/left-over"'), "a.md")
    second = page(tmp_path, shows_root.format(then='ls "$HOME"'), "b.md")
    roots: list[str] = []
    with Verifier(LOCAL, warm=1) as verifier:
        for p in (first, second):
            [report] = verifier.verify([p])
            assert report.ok, [o.diff for o in report.outcomes]
            result = report.outcomes[0].result
            assert result is not None
            roots.append(result.output.strip())
    assert roots[0] == roots[1]
    assert not Path(roots[0]).exists()


def test_a_short_lived_run_leaves_no_sandbox(tmp_path: Path) -> None:
    [report] = verify_pages([page(tmp_path, '```console\n$ echo "$SNIPPET_ROOT"\n'
                                            '.*snippet-runner-local-.* (re)\n```\n')], LOCAL)
    result = report.outcomes[0].result
    assert report.ok and result is not None and not Path(result.output.strip()).exists()
