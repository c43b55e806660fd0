"""Typo rules: what they find, what they leave alone, and the docker flag table's origin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snippet_runner.core.docker_flags_data import DOCKER_VERSION, FLAGS
from snippet_runner.core.extract import extract
from snippet_runner.core.fixes import find_fixes, fixed_command_text, non_overlapping
from snippet_runner.core.rewrite import Edit, apply_edits
from snippet_runner.model import Fix, FixSafety

P = Path("p.md")
ROOT = Path(__file__).resolve().parents[2]
DOCKER = "/usr/local/bin/docker"


def fixes_for(command: str, lang: str = "console") -> list[Fix]:
    text = f"```{lang}\n$ {command}\n```\n"
    return find_fixes(text, extract(text, P), P)


def changes(command: str) -> list[tuple[str, str, str]]:
    return [(f.rule, f.original, f.replacement) for f in fixes_for(command)]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("docker run --it img sh", [("docker-clustered-short-flags", "--it", "-it")]),
        ("docker run --ti img", [("docker-clustered-short-flags", "--ti", "-ti")]),
        ("docker run --dit img", [("docker-clustered-short-flags", "--dit", "-dit")]),
        ("docker container run --rm --it img",
         [("docker-clustered-short-flags", "--it", "-it")]),
        ("docker exec --it c sh", [("docker-clustered-short-flags", "--it", "-it")]),
        ("sudo docker run --it img", [("docker-clustered-short-flags", "--it", "-it")]),
        ("docker run --itp 80:80 img", [("docker-clustered-short-flags", "--itp", "-itp")]),
        ("docker run –it img", [("typographic-dash", "–", "-")]),
        ("docker run —it img", [("typographic-dash", "—it", "-it")]),
        ("curl –version", [("typographic-dash", "–", "--")]),
        ("docker run —rm img", [("typographic-dash", "—", "--")]),
        ("ls –l", [("typographic-dash", "–", "-")]),
        ("echo “hi”", [("smart-quotes", "“", '"'), ("smart-quotes", "”", '"')]),
        ("echo ‘hi’", [("smart-quotes", "‘", "'"), ("smart-quotes", "’", "'")]),
        ("ls\u00a0-l", [("non-breaking-space", "\u00a0", " ")]),
        ("docker run -v /etc/gitlab- runner/c:/c img",
         [("split-path", " ", "")]),
        ("cp gitlab-runner.toml /srv/gitlab-runnet.toml",
         [("near-duplicate-token", "gitlab-runnet.toml", "gitlab-runner.toml")]),
    ],
)
def test_rules_find(command: str, expected: list[tuple[str, str, str]]) -> None:
    assert changes(command) == expected


@pytest.mark.parametrize(
    "command",
    [
        "docker run --rm -it img",
        "docker run --net=host img",
        "docker run --name web -p 4000:4000 img",
        "docker run img ls --it",             # after the image: the container's arguments
        "docker ps --all",
        "docker run --pid=host img",          # real long flag made of short-flag letters
        "docker run --pp img",                # repeated letters are not a cluster
        "docker build --it .",                # build has no -i/-t pair as booleans
        "docker frobnicate --it",             # unknown subcommand: no judgement
        "echo 'it’s fine'",                   # a lone apostrophe
        "echo '“quoted inside”'",             # typographic quotes inside ASCII quotes
        "echo 'a\u00a0b'",                    # NBSP inside quotes is content
        "docker run --name container1 img && docker rm container2",
        "mkdir -p /tmp/a- b",                 # no '/' after the second part
        "grep --it file",                     # not docker
    ],
)
def test_rules_leave_alone(command: str) -> None:
    assert changes(command) == []


def test_safety_of_rules() -> None:
    found = fixes_for("docker run --it -v /etc/gitlab- runner/x:/var/gitlab-runnet img")
    assert {f.rule: f.safety for f in found} == {
        "docker-clustered-short-flags": FixSafety.SAFE,
        "split-path": FixSafety.SUGGESTED,
        "near-duplicate-token": FixSafety.SUGGESTED,
    }


def test_comment_lines_and_scripts_are_checked_but_output_is_not() -> None:
    text = ("```console\n# docker run --it [image]\n$ docker run --it img\ndocker run --it\n```\n"
            "\n```bash\ndocker run --it img\n```\n")
    found = find_fixes(text, extract(text, P), P)
    assert [f.location.line for f in found] == [2, 3, 8]


def test_file_blocks_are_never_fixed() -> None:
    text = '```toml file="/etc/x.toml"\nname = “x” – y\n```\n'
    assert find_fixes(text, extract(text, P), P) == []


def test_fixed_command_text_keeps_continuations_and_indent() -> None:
    text = "* x\n\n  ```console\n  $ docker run \\\n    --it img\n  ```\n"
    snippets = extract(text, P)
    command = snippets[0].commands[0]
    found = find_fixes(text, snippets, P)
    assert [f.location.line for f in found] == [5]
    assert fixed_command_text(text, command, found) == "docker run \\\n  -it img"
    assert command.text == "docker run \\\n  --it img"


def test_seed_post_fixes() -> None:
    seed = Path("/work/shared/seed/2021-09-13-post-docker-network.md")
    text = seed.read_text(encoding="utf-8")
    found = find_fixes(text, extract(text, seed), seed)
    safe = [(f.location.line, f.original) for f in found if f.safety is FixSafety.SAFE]
    assert safe == [(41, "--it"), (42, "--it"), (74, "--it"), (75, "--it")]
    suggested = {f.rule: f.replacement for f in found if f.safety is FixSafety.SUGGESTED}
    assert suggested == {"split-path": "", "near-duplicate-token": "gitlab-runner"}


def test_flag_table_is_what_the_generator_reads_from_docker() -> None:
    """The committed table equals a fresh run of scripts/gen_docker_flags.py on this client."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import gen_docker_flags  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    version, table = gen_docker_flags.build_table(DOCKER)
    assert version == DOCKER_VERSION
    assert table == FLAGS
    assert FLAGS["run"]["short"]["i"] is False and FLAGS["run"]["short"]["p"] is True
    assert "it" not in FLAGS["run"]["long"]


def test_it_really_is_rejected_by_docker() -> None:
    """The fact the main rule rests on: the client refuses --it before talking to a daemon."""
    proc = subprocess.run([DOCKER, "run", "--it", "x"], capture_output=True, text=True,
                          check=False, env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"})
    assert proc.returncode == 125
    assert "unknown flag: --it" in proc.stderr


CASES = sorted((Path(__file__).parent / "cases").glob("fix-*.md"))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden_fix_cases(case: Path) -> None:
    """tests/cases/fix-NAME.md → fix report fix-NAME.fixes.txt and fixed file fix-NAME.fixed."""
    with open(case, encoding="utf-8", newline="") as handle:
        text = handle.read()
    found = find_fixes(text, extract(text, Path(case.name)), Path(case.name))
    report = "".join(f"{f.location.line}: {f.rule} {f.safety.value} {f.original!r} -> "
                     f"{f.replacement!r}\n" for f in found)
    assert report == case.with_suffix(".fixes.txt").read_text(encoding="utf-8")
    safe = [Edit(f.span, f.replacement) for f in found if f.safety is FixSafety.SAFE]
    fixed = case.with_name(case.stem + ".fixed")
    assert apply_edits(text, safe).encode() == fixed.read_bytes()


def test_there_are_golden_cases() -> None:
    assert len(CASES) >= 2


_WORDS = st.sampled_from([
    "docker", "run", "container", "exec", "--it", "--ti", "–it", "—rm", "-p", "80:80", "img",
    "“x”", "‘y’", "'q’'", '"', "'", "/etc/a-", "b/c", "gitlab-runner", "gitlab-runnet", "\\",
    "\u00a0", "ls", "--rm", "-v", "안녕",
])


@settings(max_examples=200)
@given(st.lists(st.lists(_WORDS, min_size=1, max_size=8), min_size=1, max_size=4))
def test_applying_safe_fixes_is_idempotent_and_local(commands: list[list[str]]) -> None:
    body = "".join("$ " + " ".join(words) + "\n" for words in commands)
    text = f"intro\r\n\n```console\n{body}```\n"
    found = [f for f in find_fixes(text, extract(text, P), P) if f.safety is FixSafety.SAFE]
    for fix in found:
        assert text[fix.span.start:fix.span.end] == fix.original
    fixed = apply_edits(text, [Edit(f.span, f.replacement) for f in found])
    again = [f for f in find_fixes(fixed, extract(fixed, P), P) if f.safety is FixSafety.SAFE]
    assert again == []


def test_non_overlapping_keeps_the_first_of_overlapping_fixes() -> None:
    found = fixes_for("docker run --it img")
    clash = Fix("x", FixSafety.SAFE, "m", found[0].location, found[0].span, "--it", "-i")
    assert non_overlapping([clash, *found]) == [clash] or non_overlapping([*found, clash]) == [
        found[0]]
    assert len(non_overlapping([*found, clash])) == 1
