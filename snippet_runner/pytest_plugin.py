"""The pytest plugin ``snippet-runner`` (entry point ``pytest11``): Markdown pages as tests.

Opt-in, so a project's own ``pytest`` runs never change: nothing is collected unless
``--snippets`` is given or the ini file says ``snippets = true``. Then every ``*.md`` file
pytest collects (``pytest --snippets docs/``) is a test file and, by default, each verified
block of it a test item (``docs/guide.md::line-12``); ``--snippets-items=page`` makes each page
one item instead. So ``-k``, ``-x``, ``--lf``, pytest-xdist, pytest-split and every reporter
work as for any test. ``-k`` also matches the block's language and the first word of each of
its commands (``-k docker``).

A page is one shell session: the first of its items to run verifies the page — every block up
to the last selected one, through `api.verify_pages` — and each item then reports its own
block's outcome. So selecting one block still runs the blocks above it (it depends on them),
but none below it. With pytest-xdist, keep a page's items on one worker (``--dist loadfile``);
otherwise each worker that gets one of them runs the page again.

Settings are `config.SETTINGS`, as flags (``--snippets-backend local``, ``--snippets-timeout
30``, ``--snippets-no-fixes``…) or ini keys (``snippets_backend = local``), with the defaults of
the CLI and the MkDocs plugin; ``--snippets-cache`` reuses the result cache as ``check
--cache`` does. ``jobs`` is not offered: pytest runs one item at a time per worker.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import api
from .config import SETTINGS, RunConfig, Setting
from .core.report import failure_heading, title
from .errors import ConfigError, SnippetRunnerError
from .model import Outcome, Page, PageReport, Snippet, Status

ITEMS = ("block", "page")
"""What one test item is: a block (the default), or a whole page."""

_UNOFFERED = {"jobs"}
"""Settings pytest runs without (one item at a time per worker)."""

_PROBLEMS = (Status.FAILED, Status.TIMEOUT, Status.ERROR)


def _flag(setting: Setting) -> str:
    return "--snippets-" + setting.flag.removeprefix("--")


def _ini(setting: Setting) -> str:
    return f"snippets_{setting.name}"


def _offered() -> list[Setting]:
    return [s for s in SETTINGS if s.name not in _UNOFFERED]


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--snippets`` and the settings, as flags and ini keys."""
    group = parser.getgroup("snippet-runner", "verify the shell blocks of Markdown pages")
    group.addoption("--snippets", action=argparse.BooleanOptionalAction, default=None,
                    help="collect *.md files as tests of their shell blocks (default: the "
                         "'snippets' ini option, else off)")
    parser.addini("snippets", type="bool", default=False,
                  help="collect *.md files as tests of their shell blocks")
    group.addoption("--snippets-items", choices=ITEMS, default=None,
                    help="one test item per block (default) or per page")
    parser.addini("snippets_items", default="block", help="'block' or 'page'")
    group.addoption("--snippets-cache", action=argparse.BooleanOptionalAction, default=None,
                    help="reuse recorded results of pages whose blocks did not change (as "
                         "`snippet-runner check --cache`)")
    parser.addini("snippets_cache", type="bool", default=False,
                  help="reuse recorded results of unchanged pages")
    for setting in _offered():
        if setting.negated:
            group.addoption(_flag(setting), dest=_ini(setting), action="store_false",
                            default=None, help=setting.help)
        else:
            group.addoption(_flag(setting), dest=_ini(setting), default=None,
                            metavar=setting.metavar, choices=setting.choices or None,
                            help=setting.help)
        parser.addini(_ini(setting), default=None, help=setting.help)


def _enabled(config: pytest.Config) -> bool:
    flag = config.getoption("snippets")
    return bool(config.getini("snippets")) if flag is None else bool(flag)


def _run_config(config: pytest.Config) -> RunConfig:
    """The settings from flags (relative paths from the working directory) and ini keys
    (relative to the ini file's directory), each checked under its own name."""
    values: dict[str, Any] = {}
    for setting in _offered():
        flag = config.getoption(_ini(setting))
        if flag is not None:
            raw, where, base = flag, _flag(setting), Path.cwd()
        else:
            ini = config.getini(_ini(setting))
            if ini is None or not str(ini).strip():
                continue
            raw, where, base = ini, f"ini option {_ini(setting)}", config.rootpath
            if setting.negated:  # the ini key is the setting itself: true or false
                raw = _ini_bool(str(ini), where)
        values[setting.name] = setting.parse(raw, where, base)
    cache = config.getoption("snippets_cache")
    use_cache = bool(config.getini("snippets_cache")) if cache is None else bool(cache)
    return RunConfig.from_settings(values, jobs=1, use_cache=use_cache)


def _ini_bool(raw: str, where: str) -> bool:
    word = raw.strip().lower()
    if word in ("true", "1", "yes", "on"):
        return True
    if word in ("false", "0", "no", "off"):
        return False
    raise ConfigError(f"{where} must be true or false, not {raw!r}.")


_SETTINGS_KEY = pytest.StashKey[RunConfig]()
"""The session's `RunConfig`, parsed once in `pytest_configure`."""


def pytest_configure(config: pytest.Config) -> None:
    """Check the settings before collecting, when the plugin is on (a bad value is a usage
    error naming the flag or ini key)."""
    if not _enabled(config):
        return
    try:
        config.stash[_SETTINGS_KEY] = _run_config(config)
    except SnippetRunnerError as err:
        raise pytest.UsageError(f"snippet-runner: {err}") from None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> MarkdownPage | None:
    """A ``*.md`` file is a `MarkdownPage`, when the plugin is on."""
    if file_path.suffix == ".md" and _enabled(parent.config):
        page: MarkdownPage = MarkdownPage.from_parent(parent, path=file_path)
        return page
    return None


class SnippetFailure(Exception):
    """An item's block (or page) did not pass: its outcomes say how."""

    def __init__(self, outcomes: list[Outcome]) -> None:
        super().__init__(f"{len(outcomes)} problem(s)")
        self.outcomes = outcomes
        """The failed, timed-out or errored outcomes."""


class MarkdownPage(pytest.File):
    """One Markdown file; verified once, when the first of its items runs."""

    page: Page | None = None
    report: PageReport | None = None

    def collect(self) -> Iterator[pytest.Item]:
        """One item per block, or one for the page."""
        try:
            self.page = api.load_page(self._display_path())
        except SnippetRunnerError as err:
            raise self.CollectError(f"snippet-runner: {err}") from None
        if not self.page.snippets:
            return
        items = self.config.getoption("snippets_items") or self.config.getini("snippets_items")
        if items not in ITEMS:
            raise self.CollectError(f"snippet-runner: ini option snippets_items must be one of "
                                    f"{', '.join(ITEMS)}, not {items!r}.")
        if items == "page":
            yield PageItem.from_parent(self, name="page")
            return
        for snippet in self.page.snippets:
            yield BlockItem.from_parent(self, name=f"line-{snippet.location.line}",
                                        snippet=snippet)

    def _display_path(self) -> Path:
        """The file as messages name it: relative to where pytest started, when inside."""
        try:
            return self.path.relative_to(Path.cwd())
        except ValueError:
            return self.path

    def verified(self) -> PageReport:
        """The page's report, running it on first use: the blocks up to the last one whose
        item this session runs (those below it are not needed)."""
        if self.report is None:
            assert self.page is not None
            selected = [i for i in self.session.items if i.parent is self]
            last = max((i.snippet.index for i in selected if isinstance(i, BlockItem)),
                       default=len(self.page.snippets) - 1)
            page = dataclasses.replace(self.page, snippets=self.page.snippets[:last + 1])
            (self.report,) = api.verify_pages([page], self.config.stash[_SETTINGS_KEY])
        return self.report


class _SnippetItem(pytest.Item):
    """What block and page items share: run, judge, explain a failure."""

    def _outcomes(self) -> list[Outcome]:
        raise NotImplementedError

    def _where(self) -> Snippet:
        raise NotImplementedError

    def runtest(self) -> None:
        """Fail with the problems; skip when nothing ran because everything is skipped."""
        outcomes = self._outcomes()
        problems = [o for o in outcomes if o.status in _PROBLEMS]
        if problems:
            raise SnippetFailure(problems)
        if outcomes and all(o.status is Status.SKIPPED for o in outcomes):
            pytest.skip("; ".join(sorted({o.snippet.options.skip or "" for o in outcomes})))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        """``path:line: status`` and the diff of each problem, as the CLI prints them."""
        if isinstance(excinfo.value, SnippetFailure):
            return "\n\n".join(f"{failure_heading(o)}\n    {title(o)}\n{o.diff.rstrip()}"
                               for o in excinfo.value.outcomes)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        """The block's file and line (pytest counts lines from 0)."""
        snippet = self._where()
        return self.path, snippet.location.line - 1, f"{snippet.location}"


class BlockItem(_SnippetItem):
    """One block of a page."""

    def __init__(self, *, snippet: Snippet, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.snippet = snippet
        """The block."""
        words = {snippet.lang, *(c.text.split(maxsplit=1)[0] for c in snippet.commands
                                 if c.text.split())}
        for word in words:
            self.extra_keyword_matches.add(word)  # -k docker: the blocks that run docker

    def _outcomes(self) -> list[Outcome]:
        assert isinstance(self.parent, MarkdownPage)
        return [o for o in self.parent.verified().outcomes
                if o.snippet.index == self.snippet.index]

    def _where(self) -> Snippet:
        return self.snippet


class PageItem(_SnippetItem):
    """A whole page."""

    def _outcomes(self) -> list[Outcome]:
        assert isinstance(self.parent, MarkdownPage)
        return list(self.parent.verified().outcomes)

    def _where(self) -> Snippet:
        assert isinstance(self.parent, MarkdownPage) and self.parent.page is not None
        return self.parent.page.snippets[0]
