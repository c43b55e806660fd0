"""The snippet-runner command line: exit codes, messages, fix/update/list/check end to end."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from snippet_runner.cli import main

SEED = Path("/work/shared/seed/2021-09-13-post-docker-network.md")
EXE = [sys.executable, "-c", "import sys; from snippet_runner.cli import main; sys.exit(main())"]


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXE, *map(str, args)], capture_output=True, text=True, check=False)


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
