"""Korean compounds split in the reader's query, in the browser, by Material's own worker.

The index side (``search_ko``) already finds `엔진` inside `도커엔진이`. The other way round — a
reader typing `웹서버` on a page that writes `웹 서버` — needs the query cut into words, and only
the index knows which words exist. Material's search worker receives the whole index when the
page starts it; ``search_ko_query.js``, prepended to that worker in the built site, learns the
index's words from the same message and also asks for a compound's parts (all required), adding
those hits to the ones of the query as typed. Nothing new is downloaded: the worker file just
grows by about 6 kB (2.3 kB gzipped).
"""

from __future__ import annotations

from pathlib import Path

from snippet_runner.errors import SnippetRunnerError

PRELUDE = Path(__file__).with_name("search_ko_query.js")
"""The script put in front of Material's worker."""
MARK = "/* snippet-runner korean-search: compound words split in the query"
"""How the prelude starts: a worker that begins with it already has it."""


def material_worker(site_dir: Path) -> Path:
    """Material's search worker in a built site; SnippetRunnerError when there is not exactly
    one (a theme that is not Material, or a stale copy next to the new one)."""
    workers = sorted((site_dir / "assets" / "javascripts" / "workers").glob("search.*.min.js"))
    if len(workers) != 1:
        raise SnippetRunnerError(
            f"{site_dir}: expected Material's search worker "
            "(assets/javascripts/workers/search.*.min.js), found "
            f"{len(workers)}; is the theme Material for MkDocs?")
    return workers[0]


def add_query_splitting(site_dir: Path) -> Path:
    """Prepend the query splitter to the site's search worker (once); the worker's path."""
    worker = material_worker(site_dir)
    code = worker.read_text(encoding="utf-8")
    if not code.startswith(MARK):
        worker.write_text(PRELUDE.read_text(encoding="utf-8") + code, encoding="utf-8")
    return worker
