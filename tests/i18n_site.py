"""The two-language site, built once per test session and served on 127.0.0.1 (used by
test_i18n.py, test_search_ko.py and test_browser.py).

The build is the real one: `mkdocs build` of mkdocs.yml, then of mkdocs.en.yml into its `en/`
sub-directory, as `make site` does, with SITE_URL pointing at the local server so canonical URLs,
sitemaps and hreflang links are those a deployed site has. SNIPPET_RUNNER is passed through
from the environment (the plugin's result cache makes re-verification cheap; set it to `false`
to build without the sandbox).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
MKDOCS = Path(sys.executable).with_name("mkdocs")
POST = "posts/2021-09-13-post-docker-network/"
"""URL path of the post, the same in both editions."""


@dataclass(frozen=True)
class Site:
    """A built two-language site and the local server that serves it."""

    root: Path
    """The Korean site's directory; the English edition is `root / "en"`."""
    url: str
    """`http://127.0.0.1:PORT/`, the root of the Korean edition."""
    server: http.server.ThreadingHTTPServer
    """The server, kept to shut it down."""

    def search_index(self, lang: str) -> dict[str, Any]:
        """The search index Material wrote for one edition."""
        sub = "" if lang == "ko" else f"{lang}/"
        data: dict[str, Any] = json.loads(
            (self.root / sub / "search" / "search_index.json").read_text(encoding="utf-8")
        )
        return data


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # the tests report what matters; a request log per asset is noise


def _build(config: str, site_dir: Path, site_url: str) -> None:
    env = {**os.environ, "SITE_URL": site_url, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [str(MKDOCS), "build", "--strict", "-q", "-f", config, "-d", str(site_dir)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    if proc.returncode != 0:
        pytest.fail(f"mkdocs build -f {config} failed:\n{proc.stdout}\n{proc.stderr}")


@functools.cache
def _site(tmp: Path) -> Site:
    root = tmp / "site"
    # Bind first: the port goes into SITE_URL before the build.
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root))
    )
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    _build("mkdocs.yml", root, url)
    _build("mkdocs.en.yml", root / "en", url)  # after ko: the ko build cleans its site_dir
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return Site(root=root, url=url, server=server)


def built_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The session's site (built on first use; later calls return the same one)."""
    return _site(tmp_path_factory.getbasetemp() / "i18n")
