"""The package as a user gets it: sdist and wheel built (``python -m build``, ``twine check``),
the wheel installed into a fresh venv of Debian's own ``/usr/bin/python3`` outside the
repository, and a new site of three lines of ``mkdocs.yml`` built with it — styled, verified
blocks with nothing copied by hand.

Offline: the build uses this venv's setuptools (``--no-isolation``), and the fresh venv installs
the wheel's dependencies from the wheelhouse ``scripts/bootstrap.sh`` downloads
(``.venv/wheelhouse``), so a missing or wrong dependency in the metadata fails here.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WHEELHOUSE = ROOT / ".venv" / "wheelhouse"
DEBIAN_PYTHON = Path("/usr/bin/python3")
PIP = [sys.executable, "-m", "pip"]
STATIC = ROOT / "snippet_runner" / "site" / "static"
SHIPPED = (*(f"snippet_runner/site/static/{name}" for name in
              ("verified.css", "copy-commands.css", "copy-commands.js")),
           "snippet_runner/sandbox/init.sh",
           "snippet_runner/sandbox/builtin_images/test/Dockerfile", "snippet_runner/py.typed")


@dataclass(frozen=True)
class Installed:
    """The built distributions and the fresh venv that has the wheel."""

    sdist: Path
    wheel: Path
    venv: Path
    """A venv of /usr/bin/python3 with the wheel (no extras), outside the repository."""

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name


def _run(argv: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                          check=False, timeout=600, **kwargs)  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{argv}:\n{proc.stdout}\n{proc.stderr}"
    return proc  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    assert WHEELHOUSE.is_dir(), "run scripts/bootstrap.sh: it downloads .venv/wheelhouse"
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"  # what git tracks, so the build can't pick up local leftovers
    files = _run(["git", "ls-files", "-z"], cwd=ROOT).stdout.split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    dist = work / "dist"
    # sdist first, then the wheel built from the unpacked sdist: both must carry everything.
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, source])
    (sdist,), (wheel,) = dist.glob("*.tar.gz"), dist.glob("*.whl")
    twine = _run([Path(sys.executable).with_name("twine"), "check", "--strict", sdist, wheel])
    assert twine.stdout.count("PASSED") == 2, twine.stdout
    venv = work / "venv"
    # This venv's pip installs into it (--python): the same install, without seeding a pip
    # of its own; no byte-compiling (Material alone has thousands of files).
    _run([DEBIAN_PYTHON, "-m", "venv", "--without-pip", venv])
    _run([*PIP, "--python", venv / "bin" / "python", "install", "-q", "--no-compile",
          "--no-index", "--find-links", WHEELHOUSE, wheel])
    return Installed(sdist, wheel, venv)


def test_the_distributions_carry_the_browser_files_and_the_sandbox_scripts(
        installed: Installed) -> None:
    wheel = set(zipfile.ZipFile(installed.wheel).namelist())
    assert set(SHIPPED) <= wheel, set(SHIPPED) - wheel
    with tarfile.open(installed.sdist) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert {*SHIPPED, "README.md", "pyproject.toml"} <= names
    meta = zipfile.ZipFile(installed.wheel).read(
        next(n for n in wheel if n.endswith(".dist-info/METADATA"))).decode()
    assert "Requires-Dist: kiwipiepy" in meta and 'extra == "ko"' in meta
    entry_points = zipfile.ZipFile(installed.wheel).read(
        next(n for n in wheel if n.endswith(".dist-info/entry_points.txt"))).decode()
    for plugin in ("snippet-runner =", "snippet-runner/editions =",
                   "snippet-runner/korean-search ="):
        assert plugin in entry_points


def test_the_fresh_venv_is_debians_python_with_no_korean_analyser(installed: Installed) -> None:
    version = _run([installed.bin("python"), "-c", "import sys; print(sys.version.split()[0])"])
    expected = _run([DEBIAN_PYTHON, "-c", "import sys; print(sys.version.split()[0])"])
    assert version.stdout == expected.stdout  # 3.11.2 on Debian 12
    python = ["--python", installed.bin("python")]
    assert _run([*PIP, *python, "check"]).returncode == 0  # every dependency is there
    listed = _run([*PIP, *python, "list", "--format", "json"]).stdout
    names = {p["name"].lower() for p in json.loads(listed)}
    assert "snippet-runner" in names and not names & {"kiwipiepy", "kiwipiepy-model", "numpy"}
    assert not str(installed.venv).startswith(str(ROOT))


THREE_LINES_LOCAL = """\
site_name: My docs
theme: material
plugins: [search, snippet-runner: {backend: local}]
"""

THREE_LINES = """\
site_name: My docs
theme: material
plugins: [search, snippet-runner]
"""

PAGE = """\
# Hello

```console
# a comment
$ echo hello
hello
```
"""

DOCKER_PAGE = PAGE + """
```console
$ docker run --rm test:latest echo from a container
from a container
```
"""


def _project(tmp_path: Path, config: str, page: str) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(page, encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")
    assert len(config.splitlines()) == 3
    return tmp_path


def _build(installed: Installed, project: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("SNIPPET_RUNNER", "VIRTUAL_ENV")}
    env["NO_MKDOCS_2_WARNING"] = "1"
    env["PATH"] = f"{installed.venv / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin"
    proc = _run([installed.bin("mkdocs"), "build", "--strict"], cwd=project, env=env)
    return proc.stderr


def _assert_styled_and_verified(project: Path, blocks: int) -> str:
    html = (project / "site" / "index.html").read_text(encoding="utf-8")
    assert html.count('class="sr-block sr-block--passed"') == blocks, html
    assert html.count("sr-mark--passed") >= blocks
    for name in ("verified.css", "copy-commands.css", "copy-commands.js"):
        assert f'"assets/snippet-runner/{name}"' in html, name
        built = project / "site" / "assets" / "snippet-runner" / name
        assert hashlib.sha256(built.read_bytes()).digest() == hashlib.sha256(
            (STATIC / name).read_bytes()).digest(), name
    assert not (project / "docs" / "assets").exists()  # nothing was copied by hand
    return html


def test_a_three_line_site_gets_styled_verified_blocks(installed: Installed,
                                                       tmp_path: Path) -> None:
    project = _project(tmp_path, THREE_LINES_LOCAL, PAGE)
    log = _build(installed, project)
    assert "snippet-runner: ran docs/index.md: 1 passed" in log, log
    _assert_styled_and_verified(project, blocks=1)


@pytest.mark.sandbox
def test_a_three_line_site_verifies_a_docker_block_in_the_sandbox(installed: Installed,
                                                                  tmp_path: Path) -> None:
    project = _project(tmp_path, THREE_LINES, DOCKER_PAGE)
    log = _build(installed, project)
    assert "snippet-runner: ran docs/index.md: 2 passed" in log, log
    html = _assert_styled_and_verified(project, blocks=2)
    assert re.search(r"docker 20\.10|Docker Engine 20\.10", html)
    # The installed command line reads the same mkdocs.yml: same backend, same cache.
    check = _run([installed.bin("snippet-runner"), "check", "--cache"], cwd=project)
    assert "1 page: 2 passed" in check.stdout and "1 page(s) from the result cache" in \
        check.stderr


def test_korean_search_without_the_extra_says_what_it_adds(installed: Installed,
                                                           tmp_path: Path) -> None:
    config = ("site_name: 문서\ntheme: {name: material, language: ko}\n"
              "plugins: [search, snippet-runner/korean-search]\n")
    project = _project(tmp_path, config, "# 시작\n\n컨테이너가 있습니다.\n")
    log = _build(installed, project)
    assert "pip install 'snippet-runner[ko]' adds them" in log, log
    index = json.loads((project / "site" / "search" / "search_index.json").read_text())
    assert "(?<=[가-힣]{2})" in index["config"]["separator"]  # the particle cuts
    assert "keywords" not in index["config"]["fields"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # a request log per asset is noise


@dataclass(frozen=True)
class _Served:
    url: str
    server: http.server.ThreadingHTTPServer


@pytest.fixture
def served_site(installed: Installed, tmp_path: Path) -> Iterator[_Served]:
    project = _project(tmp_path, THREE_LINES_LOCAL, PAGE)
    _build(installed, project)
    handler = functools.partial(_QuietHandler, directory=str(project / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield _Served(f"http://127.0.0.1:{server.server_address[1]}/", server)
    finally:
        server.shutdown()


@pytest.mark.browser
def test_the_blocks_are_styled_in_a_browser(served_site: _Served) -> None:
    """The stylesheet the plugin added really applies: the verified block's bar and the
    output box are drawn as verified.css says, and the copy button copies the command."""
    from playwright.sync_api import sync_playwright  # the browser only for this test

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update"])
        try:
            context = browser.new_context()
            context.route(re.compile(r"^(?!http://127\.0\.0\.1).*"), lambda r: r.abort())
            page = context.new_page()
            page.goto(served_site.url)
            page.wait_for_load_state("load")
            applied = page.evaluate(APPLIED_RULES)
            copied = page.locator("[data-copy]").first.get_attribute("data-copy")
        finally:
            browser.close()
    # Each stylesheet loaded, and rules of it style elements of the verified block.
    assert applied["verified.css"] > 0 and applied["copy-commands.css"] > 0, applied
    assert copied == "echo hello"


APPLIED_RULES = """() => {
  const counts = {};
  for (const sheet of document.styleSheets) {
    const name = (sheet.href || "").split("/assets/snippet-runner/")[1];
    if (!name) continue;
    counts[name] = 0;
    for (const rule of sheet.cssRules) {
      if (!rule.selectorText || !/sr-|highlight/.test(rule.selectorText)) continue;
      const hit = [...document.querySelectorAll(".sr-block, .sr-block *")].some(
        e => { try { return e.matches(rule.selectorText); } catch (_) { return false; } });
      if (hit) counts[name] += 1;
    }
  }
  return counts;
}"""
