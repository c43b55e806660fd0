"""The snippet-runner command line: exit codes, messages, fix/update/list/check end to end."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from snippet_runner import cli as cli_module
from snippet_runner.cli import main
from snippet_runner.config import RunConfig

SEED = Path("/work/shared/seed/2021-09-13-post-docker-network.md")
EXE = [sys.executable, "-c", "import sys; from snippet_runner.cli import main; sys.exit(main())"]
NEUTRAL = Path(tempfile.mkdtemp(prefix="snippet-runner-cli-cwd-"))
"""The working directory of `cli` unless told: no mkdocs.yml there (the repository has one)."""


def cli(*args: str | Path, cwd: Path = NEUTRAL,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXE, *map(str, args)], capture_output=True, text=True, check=False,
                          cwd=cwd, env=env)


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    copy = tmp_path / "2021-09-13-post-docker-network.md"
    shutil.copyfile(SEED, copy)
    return copy


def test_fix_check_reports_the_seed_typos_at_their_lines(seed: Path) -> None:
    proc = cli("fix", "--check", seed)
    assert proc.returncode == 1
    lines = [ln for ln in proc.stdout.splitlines() if "docker-clustered-short-flags" in ln]
    assert [ln.split(": [")[0] for ln in lines] == [f"{seed}:{n}" for n in (41, 42, 74, 75)]
    assert "(suggested)" in proc.stdout and "gitlab-runner" in proc.stdout
    assert "4 safe fix(es) pending" in proc.stdout


def test_fix_write_changes_only_the_typos_and_is_idempotent(seed: Path) -> None:
    before = seed.read_bytes()
    assert cli("fix", "--write", seed).returncode == 0
    after = seed.read_bytes()
    lines_before, lines_after = before.split(b"\n"), after.split(b"\n")
    assert len(lines_before) == len(lines_after)
    changed = [i + 1 for i, (a, b) in enumerate(zip(lines_before, lines_after, strict=True))
               if a != b]
    assert changed == [41, 42, 74, 75]
    assert after == before.replace(b"run --it ", b"run -it ")
    assert cli("fix", "--check", seed).returncode == 0
    assert cli("fix", "--write", seed).returncode == 0
    assert seed.read_bytes() == after


def test_fix_write_keeps_crlf_bom_and_korean(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_bytes("\ufeff# 한국어\r\n\r\n```console\r\n$ docker run --it test:latest\r\n```\r\n"
                     .encode())
    assert main(["fix", "--write", str(page)]) == 0
    assert page.read_bytes() == ("\ufeff# 한국어\r\n\r\n```console\r\n$ docker run -it test:latest"
                                 "\r\n```\r\n").encode()


def test_fix_default_is_check_and_never_writes(seed: Path) -> None:
    before = seed.read_bytes()
    assert cli("fix", seed).returncode == 1
    assert seed.read_bytes() == before


def test_check_exit_codes_for_match_and_mismatch(tmp_path: Path) -> None:
    good = tmp_path / "good.md"
    good.write_text("```console\n$ echo 안녕\n안녕\n```\n", encoding="utf-8")
    bad = tmp_path / "bad.md"
    bad.write_text("# x\n\n```console\n$ echo 안녕\n잘가\n$ echo more\nmore\n```\n",
                   encoding="utf-8")
    assert cli("check", "--backend", "local", good).returncode == 0
    proc = cli("check", "--backend", "local", good, bad)
    assert proc.returncode == 1
    assert f"{bad}:4: FAILED $ echo 안녕" in proc.stdout
    assert "-잘가" in proc.stdout and "+안녕" in proc.stdout
    assert "2 pages: 2 passed, 1 failed" in proc.stdout


def test_unknown_option_is_exit_2_with_file_line_and_no_traceback(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text('text\n\n```bash tiemout="5"\n$ true\n```\n', encoding="utf-8")
    for command in (["check", "--backend", "local"], ["fix", "--check"], ["list"], ["update"]):
        proc = cli(*command, page)
        assert proc.returncode == 2, command
        assert proc.stderr == (f"snippet-runner: error: {page}:3: unknown fence option "
                               "'tiemout'; known options are skip, timeout, exit, stdin, hide, "
                               "file, session, title, linenums, hl_lines, anchor_linenums.\n")
        assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "args",
    [["check", "/nonexistent/page.md"], ["check"], ["frobnicate", "x.md"],
     ["fix", "--check", "--write", "x.md"], ["check", "--jobs", "0", "x.md"],
     ["check", "--backend", "nosuch", "BAD"]],
)
def test_usage_errors_are_exit_2(args: list[str], tmp_path: Path) -> None:
    if args[-1] == "BAD":
        args[-1] = str(tmp_path / "x.md")
        (tmp_path / "x.md").write_text("```sh\n$ true\n```\n", encoding="utf-8")
    proc = cli(*args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_unreadable_file_is_exit_2(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_bytes(b"\xff\xfe not utf-8")
    proc = cli("list", page)
    assert proc.returncode == 2 and "is not UTF-8" in proc.stderr


def test_help_teaches_with_examples() -> None:
    proc = cli("--help")
    assert proc.returncode == 0
    for needle in ("$ docker run --rm test:latest echo hello", "snippet-runner fix --write",
                   "exit status: 0", "check", "update", "list", "import-jekyll"):
        assert needle in proc.stdout
    assert "--backend" in cli("check", "--help").stdout


def test_list_shows_snippets_options_and_fixes(seed: Path, tmp_path: Path) -> None:
    proc = cli("list", seed)
    assert proc.returncode == 0
    assert f"{seed}:40: bash 1 command(s)" in proc.stdout
    assert f"    {seed}:42: $ docker container run --it" in proc.stdout
    data = json.loads(cli("list", "--json", tmp_path).stdout)
    assert [s["line"] for s in data[0]["snippets"]] == [30, 40, 57, 73]
    assert len(data[0]["fixes"]) == 6


def test_check_json_and_junit(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text('```console\n$ echo a\nb\n```\n\n```sh skip="later"\n$ x\n```\n',
                    encoding="utf-8")
    junit = tmp_path / "out" / "junit.xml"
    junit.parent.mkdir()
    proc = cli("check", "--backend", "local", "--json", "--junit", junit, page)
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["summary"]["failed"] == 1 and data["summary"]["skipped"] == 1
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"


def test_update_then_check_passes(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("```console\n$ echo one; echo two\none\nOLD\n$ ls -d /\n```\n",
                    encoding="utf-8")
    assert cli("check", "--backend", "local", page).returncode == 1
    proc = cli("update", "--backend", "local", page)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert page.read_text(encoding="utf-8") == ("```console\n$ echo one; echo two\none\ntwo\n"
                                                "$ ls -d /\n/\n```\n")
    assert cli("check", "--backend", "local", page).returncode == 0


def test_directories_are_searched_for_markdown(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.md").write_text("```sh\n$ docker run --it x\n```\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("```sh\n$ docker run --it x\n```\n", encoding="utf-8")
    proc = cli("fix", "--check", tmp_path)
    assert proc.returncode == 1 and proc.stdout.count("docker-clustered-short-flags") == 1


def test_import_jekyll_converts_the_seed(seed: Path, tmp_path: Path) -> None:
    dest = tmp_path / "site" / "docs" / "post.md"
    dest.parent.mkdir(parents=True)
    proc = cli("import-jekyll", seed, dest)
    assert proc.returncode == 0, proc.stderr
    assert dest.exists() and "Host" in dest.read_text(encoding="utf-8")


@pytest.mark.sandbox
def test_check_in_the_real_sandbox(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("```console\n$ docker run --rm test:latest echo hi\nhi\n```\n\n"
                    "```console\n$ docker run --rm test:latest echo hi\nbye\n```\n",
                    encoding="utf-8")
    proc = cli("check", "--backend", "sandbox", "--jobs", "1", page)
    assert proc.returncode == 1, proc.stderr
    assert f"{page}:7: FAILED" in proc.stdout and f"{page}:2:" not in proc.stdout


DOCS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "en" / "guide" / "snippet-format.md"


def test_format_reference_page_passes_with_the_local_backend() -> None:
    proc = cli("check", "--backend", "local", DOCS_PAGE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 failed" not in proc.stdout and "passed" in proc.stdout
    assert cli("fix", "--check", DOCS_PAGE).returncode == 0


def test_format_reference_examples_match_their_live_twins() -> None:
    """Each ````markdown example on the page is followed by the same block(s), live."""
    text = DOCS_PAGE.read_text(encoding="utf-8")
    parts = text.split("````markdown\n")[1:]
    assert len(parts) >= 8
    for part in parts:
        example, after = part.split("\n````\n", 1)
        assert after.lstrip("\n").startswith(example), example


@pytest.mark.sandbox
def test_format_reference_page_passes_in_the_sandbox() -> None:
    proc = cli("check", "--backend", "sandbox", DOCS_PAGE)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_update_leaves_timeouts_alone_and_exits_1(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    original = ('```console timeout="1"\n$ echo hi\nold\n```\n\n'
                '```console timeout="1"\n$ sleep 20\nstill waiting\n```\n')
    page.write_text(original, encoding="utf-8")
    proc = cli("update", "--backend", "local", page)
    assert proc.returncode == 1
    assert f"{page}:7: TIMEOUT $ sleep 20" in proc.stdout
    assert page.read_text(encoding="utf-8") == original.replace("hi\nold\n", "hi\nhi\n")


# --- a demanding user's bad input: one paragraph naming file:line, never a traceback ----------

def one_paragraph(proc: subprocess.CompletedProcess[str], where: str) -> str:
    """The single error line of an exit-2 run, checked to start with ``where``."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"snippet-runner: error: {where}: "), proc.stderr
    return proc.stderr


ALL_COMMANDS = (["check", "--backend", "local"], ["update", "--backend", "local"],
                ["fix", "--check"], ["fix", "--write"], ["list"])


@pytest.mark.parametrize(
    ("info", "fragment"),
    [("bash skip=unquoted", "cannot read the fence option 'skip=unquoted'"),
     ('bash timeout="abc"', 'timeout="abc" must be a number of seconds'),
     ('bash exit="-"', 'exit="-" must be an exit status from 0 to 255'),
     ('bash exit="1" exit="2"', "fence option 'exit' is given twice"),
     ('bash skip="a" skip="a"', "fence option 'skip' is given twice")],
)
def test_malformed_info_strings(tmp_path: Path, info: str, fragment: str) -> None:
    page = tmp_path / "p.md"
    page.write_text(f"# t\n\n```{info}\n$ echo hi\nhi\n```\n", encoding="utf-8")
    for command in ALL_COMMANDS:
        assert fragment in one_paragraph(cli(*command, page), f"{page}:3")


def test_unclosed_fence_is_exit_2_for_every_command(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    text = "# t\n\n```console\n$ echo hi\nhi\n\nA paragraph the fence swallows.\n"
    page.write_text(text, encoding="utf-8")
    for command in ALL_COMMANDS:
        assert "never closed" in one_paragraph(cli(*command, page), f"{page}:3")
    assert page.read_text(encoding="utf-8") == text


def test_non_utf8_file_names_line_and_column(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_bytes(b"# t\n\n```sh\n$ echo caf\xe9\n```\n")
    for command in ALL_COMMANDS:
        message = one_paragraph(cli(*command, page), str(page))
        assert "is not UTF-8 text: line 4, column 11 has byte 0xE9" in message


def test_binary_file_is_exit_2(tmp_path: Path) -> None:
    page = tmp_path / "image.md"
    page.write_bytes(bytes(range(256)) * 4)
    assert "is not UTF-8 text" in one_paragraph(cli("check", page), str(page))


def test_directory_arguments(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("```sh\n$ true\n```\n", encoding="utf-8")
    for command in ALL_COMMANDS:
        assert "no Markdown (*.md) files" in one_paragraph(cli(*command, empty), str(empty))
    proc = cli("import-jekyll", empty, tmp_path / "out.md")
    assert "cannot read the post" in one_paragraph(proc, str(empty))


def test_nonexistent_path_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.md"
    for command in ALL_COMMANDS:
        assert "no such file" in one_paragraph(cli(*command, missing), str(missing))


def test_empty_file_is_a_page_without_snippets(tmp_path: Path) -> None:
    page = tmp_path / "empty.md"
    page.write_bytes(b"")
    proc = cli("check", "--backend", "local", page)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "1 page: no snippets\n", "")
    for command in (["fix", "--check"], ["fix", "--write"], ["list"]):
        proc = cli(*command, page)
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", ""), command
    assert page.read_bytes() == b""


def test_fix_write_refuses_read_only_files_before_touching_any(tmp_path: Path) -> None:
    text = "```sh\n$ docker run --it x\n```\n"
    writable, locked = tmp_path / "a.md", tmp_path / "b.md"
    writable.write_text(text, encoding="utf-8")
    locked.write_text(text, encoding="utf-8")
    locked.chmod(0o444)
    proc = cli("fix", "--write", writable, locked)
    assert "is read-only" in one_paragraph(proc, str(locked))
    assert writable.read_text(encoding="utf-8") == text == locked.read_text(encoding="utf-8")
    assert cli("fix", "--check", locked).returncode == 1  # reading it is fine


def test_fix_write_sweeps_what_killed_rewrites_left(tmp_path: Path) -> None:
    """Temporary files of a rewrite that was killed (no lock on them: tests/core/test_rewrite.py
    kills real ones) are removed; a journal that can't be settled is named on stderr."""
    page = tmp_path / "p.md"
    page.write_text("```sh\n$ docker run --it x\n```\n", encoding="utf-8")
    stale = tmp_path / ".p.md.k3j4h5g6.snippet-runner.tmp"
    stale.write_text("half a page", encoding="utf-8")
    journal = tmp_path / ".p.md.z9y8x7w6.snippet-runner-journal.tmp"
    journal.write_text(json.dumps({"kind": "snippet-runner in-place rewrite", "page": "p.md",
                                   "old": "before", "new": "after"}), encoding="utf-8")
    proc = cli("fix", "--write", page)
    assert proc.returncode == 0 and not stale.exists() and journal.exists()
    assert proc.stderr == (f"snippet-runner: {journal}: kept; a rewrite of {page} was "
                           "interrupted and the page was changed since. The journal holds the "
                           "text before and after that rewrite: compare, then delete it.\n")
    assert "-it x" in page.read_text(encoding="utf-8")


def test_update_refuses_a_page_with_pending_safe_fixes(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    text = "# t\n\n```console\n$ echo \u201chi there\u201d\n\u201chi there\u201d\n```\n"
    page.write_text(text, encoding="utf-8")
    message = one_paragraph(cli("update", "--backend", "local", page), f"{page}:4")
    assert "pending safe fixes (smart-quotes)" in message and "fix --write" in message
    assert page.read_text(encoding="utf-8") == text
    # as written, the command prints its quotes: nothing to update, and the page still agrees
    assert cli("update", "--backend", "local", "--no-fixes", page).returncode == 0
    assert page.read_text(encoding="utf-8") == text
    assert cli("fix", "--write", page).returncode == 0
    assert cli("update", "--backend", "local", page).returncode == 0
    assert page.read_text(encoding="utf-8") == text.replace("\u201c", '"').replace(
        "\u201d", '"').replace('\n"hi there"\n```', "\nhi there\n```")


@pytest.mark.parametrize("where", ["missing-dir/r.xml", "a-directory"])
def test_unwritable_junit_path_is_exit_2_before_anything_runs(tmp_path: Path,
                                                               where: str) -> None:
    (tmp_path / "a-directory").mkdir()
    marker = tmp_path / "ran"
    page = tmp_path / "p.md"
    page.write_text(f"```console\n$ touch {marker}\n```\n", encoding="utf-8")
    junit = tmp_path / where
    message = one_paragraph(cli("check", "--backend", "local", "--junit", junit, page),
                            str(junit))
    assert "--junit" in message
    assert not marker.exists()


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_timeouts_must_be_finite_and_positive(tmp_path: Path, value: str) -> None:
    page = tmp_path / "p.md"
    page.write_text("```console\n$ true\n```\n", encoding="utf-8")
    for flag in ("--timeout", "--page-timeout"):
        proc = cli("check", "--backend", "local", flag, value, page)
        assert proc.returncode == 2 and "positive number of seconds" in proc.stderr
        assert "Traceback" not in proc.stderr


def _processes_running(argv: list[str]) -> list[int]:
    """Pids whose command line is exactly ``argv``."""
    wanted = "\0".join(argv).encode() + b"\0"
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "cmdline").read_bytes() == wanted:
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


@pytest.mark.parametrize(("signum", "status", "word"),
                         [(signal.SIGINT, 130, "interrupted (Ctrl-C)"),
                          (signal.SIGTERM, 143, "terminated (SIGTERM)")])
def test_ctrl_c_stops_the_run_and_leaves_nothing_behind(tmp_path: Path, signum: int,
                                                        status: int, word: str) -> None:
    """A signal to the process group (Ctrl-C in a terminal, a cancelled CI job) while a
    command sleeps."""
    import time

    duration = f"{300 + os.getpid() % 1000 / 1000:.3f}"  # unique, to find our own sleep
    page = tmp_path / "p.md"
    # The trap makes the sleep survive the hangup a closing terminal sends: only killing the
    # session's processes ends it.
    page.write_text(f"```console\n$ trap '' HUP; sleep {duration}\n```\n\n```console\n"
                    "$ echo after\nafter\n```\n", encoding="utf-8")
    proc = subprocess.Popen([*EXE, "check", "--backend", "local", str(page)], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    while not _processes_running(["sleep", duration]):  # synchronise: the command is running
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    os.killpg(proc.pid, signum)
    stdout, stderr = proc.communicate(timeout=120)  # a hang fails here rather than never
    assert proc.returncode == status
    assert stderr.startswith(f"snippet-runner: {word}") and stderr.count("\n") == 1
    # It says what it stopped and cleaned up.
    assert (f": stopped the commands running on 1 page(s) ({page}); 1 sandbox(es) closed, "
            "their temporary directories were removed.") in stderr, stderr
    assert "Traceback" not in stderr and stdout == ""
    assert _processes_running(["sleep", duration]) == []
    assert not list(Path(tempfile.gettempdir()).glob(f"snippet-runner-local-{proc.pid}-*"))


def test_update_refuses_a_read_only_page_before_running(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    page = tmp_path / "p.md"
    text = f"```console\n$ touch {marker}; echo new\nold\n```\n"
    page.write_text(text, encoding="utf-8")
    page.chmod(0o444)
    assert "is read-only" in one_paragraph(cli("update", "--backend", "local", page), str(page))
    assert not marker.exists() and page.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("command", ["check", "fix", "update", "list", "import-jekyll"])
def test_each_command_help_teaches_examples_and_exit_statuses(command: str) -> None:
    proc = subprocess.run([*EXE, command, "--help"], capture_output=True, text=True,
                          check=False, env={**os.environ, "COLUMNS": "80"})
    assert proc.returncode == 0
    examples = proc.stdout.split("\nexamples:\n", 1)[1].split("\n\n", 1)[0]
    assert f"  snippet-runner {command} " in examples and "  # " in examples
    statuses = proc.stdout.split("\nexit status:\n", 1)[1]
    assert [ln.split()[0] for ln in statuses.splitlines() if ln[2:3].isdigit()][-2:] == [
        "2", "130"]
    assert statuses.lstrip().startswith("0 ")
    assert max(map(len, proc.stdout.splitlines())) <= 80


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """``snippet-runner list docs/ | head -1``: no BrokenPipeError traceback."""
    page = tmp_path / "p.md"
    page.write_text("".join(f"```console\n$ echo {i}\n{i}\n```\n\n" for i in range(3000)),
                    encoding="utf-8")
    proc = subprocess.Popen([*EXE, "list", str(page)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(str(page).encode())
    proc.stdout.close()  # the reader goes away, as `head -1` does
    stderr = proc.stderr.read().decode()
    assert proc.wait() == 141 and stderr == ""


# --- blocks inside admonitions, details and content tabs ----------------------------------------

CONTAINERS = ('# 탭과 경고\n\n!!! warning "오타"\n    설명.\n\n    ```console\n'
              '    $ echo hi --it\n    hi --it\n    $ docker run --it test:latest\n    ```\n\n'
              '=== "Linux"\n\n    ```console\n    $ echo linux\n    linux\n    ```\n\n'
              '=== "Korean"\n\n    ???+ note\n\n        ```console\n        $ echo 안녕\n'
              '        잘가\n        ```\n')


def test_fix_write_inside_an_admonition_touches_only_the_typo(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_bytes(CONTAINERS.replace("\n", "\r\n").encode())
    proc = cli("fix", "--check", page)
    assert proc.returncode == 1 and f"{page}:9: [docker-clustered-short-flags]" in proc.stdout
    assert cli("fix", "--write", page).returncode == 0
    assert page.read_bytes() == CONTAINERS.replace("$ docker run --it", "$ docker run -it") \
        .replace("\n", "\r\n").encode()
    assert cli("fix", "--check", page).returncode == 0


def test_mismatch_inside_a_nested_tab_is_reported_at_its_line(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text(CONTAINERS.replace("    $ docker run --it test:latest\n", ""),
                    encoding="utf-8")
    proc = cli("check", "--backend", "local", page)
    assert proc.returncode == 1, proc.stderr
    assert f"{page}:23: FAILED $ echo 안녕" in proc.stdout
    assert "-잘가" in proc.stdout and "+안녕" in proc.stdout
    assert "1 page: 2 passed, 1 failed" in proc.stdout, proc.stdout


def test_update_inside_a_nested_tab_keeps_the_indentation(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    text = CONTAINERS.replace("    $ docker run --it test:latest\n", "")
    page.write_text(text, encoding="utf-8")
    proc = cli("update", "--backend", "local", page)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert page.read_text(encoding="utf-8") == text.replace("        잘가\n", "        안녕\n")
    assert cli("check", "--backend", "local", page).returncode == 0


def test_check_cache_reuses_unchanged_pages_and_reruns_changed_blocks(tmp_path: Path) -> None:
    counter = tmp_path / "ran.txt"  # one line per real run: the proof, besides the log
    page = tmp_path / "p.md"
    page.write_text(f"# t\n\n```console\n$ echo run >> {counter}; echo hi\nhi\n```\n",
                    encoding="utf-8")
    flags = ["check", "--backend", "local", "--cache-dir", tmp_path / "cache"]
    first = cli(*flags, "--cache", page)
    assert first.returncode == 0, first.stderr
    assert "0 page(s) from the result cache, 1 checked afresh" in first.stderr
    again = cli(*flags, "--cache", page)
    assert again.returncode == 0, again.stderr
    assert "1 page(s) from the result cache, 0 checked afresh (no sandbox started)" in again.stderr
    assert counter.read_text().splitlines() == ["run"]
    assert "1 page: 1 passed" in again.stdout
    page.write_text(page.read_text(encoding="utf-8").replace("# t\n", "# t\n\nprose\n"),
                    encoding="utf-8")
    prose = cli(*flags, "--cache", page)  # prose is not part of the key
    assert "1 page(s) from the result cache" in prose.stderr and len(counter.read_text()) == 4
    page.write_text(page.read_text(encoding="utf-8").replace("echo hi", "echo  hi"),
                    encoding="utf-8")
    changed = cli(*flags, "--cache", page)
    assert changed.returncode == 0, changed.stderr
    assert "0 page(s) from the result cache, 1 checked afresh" in changed.stderr
    assert counter.read_text().splitlines() == ["run", "run"]
    # The superseded entry is pruned: one page, one entry.
    assert len(list((tmp_path / "cache" / "results").glob("??/*.json"))) == 1


def test_check_runs_afresh_by_default(tmp_path: Path) -> None:
    counter = tmp_path / "ran.txt"
    page = tmp_path / "p.md"
    page.write_text(f"```console\n$ echo run >> {counter}; echo hi\nhi\n```\n", encoding="utf-8")
    flags = ["check", "--backend", "local", "--cache-dir", tmp_path / "cache"]
    assert cli(*flags, "--cache", page).returncode == 0
    plain = cli(*flags, page)
    assert plain.returncode == 0 and "result cache" not in plain.stderr
    assert cli(*flags, "--no-cache", page).returncode == 0
    assert counter.read_text().splitlines() == ["run"] * 3
    assert "Off by default because" in " ".join(cli("check", "--help").stdout.split())


def test_mismatch_names_the_first_differing_output_line_like_the_build(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("```console\n$ printf 'a\\nb\\nc\\n'\na\nB\nc\n```\n", encoding="utf-8")
    proc = cli("check", "--backend", "local", page)
    assert proc.returncode == 1
    assert f"{page}:2: FAILED $ printf" in proc.stdout
    assert f"    {page}:4: the output differs from this line\n" in proc.stdout


# -- one configuration: the MkDocs configuration's plugin options, flags on top ---------------

WHICH_BACKEND = """\
```console
$ test -n "$SNIPPET_ROOT" && echo local || echo sandbox
local
```
"""
"""Passes only on the local backend (the sandbox's $SNIPPET_ROOT is empty)."""


def _project(root: Path, config: str, name: str = "mkdocs.yml") -> Path:
    (root / "docs").mkdir(parents=True, exist_ok=True)
    (root / "docs" / "index.md").write_text(WHICH_BACKEND, encoding="utf-8")
    (root / name).write_text(config, encoding="utf-8")
    return root


def _run_config(argv: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch) -> RunConfig:
    monkeypatch.chdir(cwd)
    return cli_module._config(cli_module._parser().parse_args(argv))


def test_check_without_paths_uses_mkdocs_yml_its_docs_dir_and_plugin_options(
        tmp_path: Path) -> None:
    project = _project(tmp_path, "site_name: x\nplugins:\n  - snippet-runner:\n"
                                 "      backend: local\n      command_timeout: 0.2\n")
    (project / "docs" / "index.md").write_text(WHICH_BACKEND + "\n```console\n$ sleep 1\n```\n",
                                               encoding="utf-8")
    timed_out = cli("check", cwd=project)
    assert timed_out.returncode == 1, timed_out.stdout + timed_out.stderr
    assert "docs/index.md:7: TIMEOUT" in timed_out.stdout and "1 passed" in timed_out.stdout
    # A flag overrides the file; the file's backend still applies (the first block passes).
    proc = cli("check", "--timeout", "30", cwd=project)
    assert proc.returncode == 0 and "1 page: 2 passed" in proc.stdout, proc.stdout + proc.stderr
    (project / "mkdocs.yml").rename(project / "mkdocs.yaml")  # found too, as by mkdocs
    assert "docs/index.md:7: TIMEOUT" in cli("check", cwd=project).stdout


def test_settings_from_the_file_are_relative_to_it_and_flags_to_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _project(tmp_path / "site", "site_name: x\nplugins:\n  - search\n"
                    "  - snippet-runner:\n      fixtures_dir: docs/_fixtures\n"
                    "      cache_dir: build-cache\n      command_timeout: 7\n"
                    "      jobs: 3\n      enabled: true\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = _run_config(["check", "-f", str(site / "mkdocs.yml")], elsewhere, monkeypatch)
    assert config.fixtures_dir == site.resolve() / "docs/_fixtures"
    assert config.cache_dir == site.resolve() / "build-cache"
    assert (config.command_timeout, config.jobs, config.backend) == (7.0, 3, "sandbox")
    config = _run_config(["check", "-f", str(site / "mkdocs.yml"), "--fixtures-dir", "mine",
                          "--timeout", "9"], elsewhere, monkeypatch)
    assert config.fixtures_dir == Path("mine") and config.command_timeout == 9.0
    assert config.cache_dir == site.resolve() / "build-cache"  # not given: still the file's
    # Without any configuration, the defaults, relative to the working directory.
    bare = _run_config(["check", "x.md"], elsewhere, monkeypatch)
    assert bare.cache_dir == Path(".cache/snippet-runner") and bare.fixtures_dir is None


def test_the_plugins_default_cache_dir_is_beside_mkdocs_yml_as_in_the_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _project(tmp_path, "site_name: x\nplugins: [snippet-runner]\n")
    (site / "docs").mkdir(exist_ok=True)
    config = _run_config(["check", "-f", str(site / "mkdocs.yml")], site / "docs", monkeypatch)
    assert config.cache_dir == site.resolve() / ".cache/snippet-runner"


def test_inherit_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As mkdocs.en.yml INHERITs mkdocs.yml: the child's docs_dir, the parent's plugins."""
    _project(tmp_path, "site_name: x\ndocs_dir: docs\nplugins:\n  - snippet-runner:\n"
                       "      backend: local\n      page_timeout: 42\n")
    (tmp_path / "docs-en").mkdir()
    (tmp_path / "docs-en" / "page.md").write_text(WHICH_BACKEND, encoding="utf-8")
    (tmp_path / "mkdocs.en.yml").write_text("INHERIT: mkdocs.yml\ndocs_dir: docs-en\n",
                                            encoding="utf-8")
    config = _run_config(["check", "-f", "mkdocs.en.yml"], tmp_path, monkeypatch)
    assert (config.backend, config.page_timeout) == ("local", 42.0)
    proc = cli("check", "-f", "mkdocs.en.yml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "docs-en/page.md" in cli("list", "-f", "mkdocs.en.yml", cwd=tmp_path).stdout


@pytest.mark.parametrize(("config", "message"), [
    ("plugins:\n  - snippet-runner:\n      command_timeout: soon\n",
     "mkdocs.yml: 'command_timeout' of the snippet-runner plugin must be a positive number "
     "of seconds, not 'soon'."),
    ("plugins:\n  - snippet-runner:\n      backend: docker\n",
     "mkdocs.yml: 'backend' of the snippet-runner plugin: unknown backend 'docker'"),
    ("plugins: [snippet-runner\n", "mkdocs.yml:2: cannot read this MkDocs configuration: "
     "while parsing a flow sequence; expected ',' or ']', but got '<stream end>'."),
    ("INHERIT: base.yml\n", "mkdocs.yml: cannot read this MkDocs configuration: Inherited "
     "config file 'base.yml' does not exist"),
])
def test_a_bad_configuration_is_one_paragraph_naming_the_file(tmp_path: Path, config: str,
                                                             message: str) -> None:
    _project(tmp_path, config)
    proc = cli("check", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"snippet-runner: error: {tmp_path.resolve()}/{message}"), \
        proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_a_missing_config_file_or_no_paths_without_one_is_a_usage_error(tmp_path: Path) -> None:
    proc = cli("check", "-f", tmp_path / "nope.yml", tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == (f"snippet-runner: error: {tmp_path}/nope.yml: -f/--config-file: no "
                           "such configuration file.\n")
    proc = cli("check", cwd=tmp_path)
    assert proc.returncode == 2 and "name the Markdown files or directories" in proc.stderr


def _on_a_terminal(argv: list[str], env: dict[str, str]) -> str:
    """What the CLI writes to a terminal (a real pseudo-terminal as its stdout)."""
    master, slave = os.openpty()
    proc = subprocess.Popen([*EXE, *argv], stdout=slave, stderr=subprocess.DEVNULL,
                            cwd=NEUTRAL, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the writer is gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode()


def test_no_color_is_honoured(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("```console\n$ echo a\nb\n```\n", encoding="utf-8")
    argv = ["check", "--backend", "local", str(page)]
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert "\x1b[31m" in _on_a_terminal(argv, env)  # FAILED in red on a terminal
    plain = _on_a_terminal(argv, {**env, "NO_COLOR": "1"})
    assert "FAILED" in plain and "\x1b[3" not in plain
    assert "\x1b[31m" in _on_a_terminal(argv, {**env, "NO_COLOR": ""})  # empty: not set


def test_help_links_the_published_guides() -> None:
    text = cli("--help").stdout
    for url in (cli_module.FORMAT_GUIDE, cli_module.WHERE_GUIDE):
        assert url in text
        assert url in cli("check", "--help").stdout
    assert all(len(line) <= 79 for line in text.splitlines()), "wrap --help for 80 columns"
    # The guides exist in the docs at the URLs' paths (the site publishes docs/en under en/).
    root = Path(__file__).resolve().parent.parent
    for url in (cli_module.FORMAT_GUIDE, cli_module.WHERE_GUIDE):
        page = url.removeprefix(cli_module.DOCS_URL).rstrip("/") + ".md"
        assert (root / "docs" / "en" / page).is_file(), page
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["urls"]["Documentation"] == cli_module.DOCS_URL


@pytest.mark.sandbox
def test_check_uses_the_builds_fixtures_dir(tmp_path: Path) -> None:
    """The issue's case: fixtures_dir set in mkdocs.yml; `check` must find the image."""
    (tmp_path / "docs" / "_fixtures" / "web").mkdir(parents=True)
    (tmp_path / "docs" / "_fixtures" / "web" / "Dockerfile").write_text(
        'FROM test:latest\nCMD ["echo", "served"]\n', encoding="utf-8")
    (tmp_path / "docs" / "index.md").write_text(
        "```console\n$ docker run --rm web:latest\nserved\n```\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: x\nplugins:\n  - snippet-runner:\n      fixtures_dir: docs/_fixtures\n"
        "      jobs: 1\n", encoding="utf-8")
    proc = cli("check", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
