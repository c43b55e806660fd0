"""``snippet-runner``: a thin command line over `snippet_runner.api`.

Exit codes: 0 all good; 1 a mismatch, timeout or failure (or, for ``fix --check``, a pending
safe fix); 2 a usage or configuration error (bad option, unreadable file). Errors are printed
as one paragraph, never a traceback.

One configuration: the run settings come from the MkDocs configuration the build uses (found as
``mkdocs build`` finds it, see `site.mkdocs_config`), and the flags given override them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from . import __version__
from .api import (
    LockReport,
    Stopped,
    Terminated,
    fetch_images,
    load_page,
    lock_images,
    plan_shard,
    sigterm_as_interrupt,
    update_images,
    verify_pages,
)
from .config import SETTINGS, RunConfig
from .core.fixes import applied_fixes, safe_fixes
from .core.github import to_github
from .core.merge import ReportFile, merge
from .core.options import format_options
from .core.progress import Progress
from .core.report import (
    fix_line,
    page_dict,
    print_terminal,
    snippet_kind,
    summary_line,
    to_json,
    to_junit,
)
from .core.rewrite import Edit, ensure_writable, rewrite_file, sweep_beside
from .core.shard import CI_VARIABLES, ENV_SHARD, ShardPlan, parse_shard, shard_from_env
from .core.update import update_edits
from .errors import ConfigError, SnippetRunnerError
from .model import Fix, FixSafety, Page, PageReport, Status
from .site.importer import import_jekyll, load_image_map
from .site.mkdocs_config import CONFIG_NAMES, SiteConfig, find_config_file, read_site_config

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130
"""128 + SIGINT, what shells report for Ctrl-C."""
EXIT_TERMINATED = 143
"""128 + SIGTERM."""
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: what a shell reports for a writer whose reader went away."""

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

DOCS_URL = "https://snippet-runner.github.io/snippet-runner/en/"
"""The published guide (GitHub Pages, project-site form ``https://<owner>.github.io/<repo>/``,
where .github/workflows/ci.yml deploys the site; pyproject.toml's Documentation URL)."""
FORMAT_GUIDE = DOCS_URL + "guide/snippet-format/"
WHERE_GUIDE = DOCS_URL + "guide/where-it-runs/"

DESCRIPTION = f"""\
Prove the shell examples of Markdown pages: extract every bash, console, sh,
shell and shell-session block, repair known typos, run the commands in a
private, disposable Docker daemon and compare what they print with what the
page says.

A verified block looks like this (options go in the fence line as key="value"):

    ```console
    # comment lines are shown, never run
    $ docker run --rm test:latest echo hello
    hello
    ```

Settings come from the MkDocs configuration the build uses (-f FILE, else
mkdocs.yml or mkdocs.yaml here; INHERIT honoured): the options under
`plugins: - snippet-runner:`. Flags override them. Without a PATH, the
configuration's docs_dir is checked.

Guides: the snippet format, and where it runs (Linux, Docker Desktop, CI):
  {FORMAT_GUIDE}
  {WHERE_GUIDE}
"""

WIDTH = 79
"""Help text is wrapped for an 80-column terminal."""

_GUIDES = ("guides:", f"  {FORMAT_GUIDE}", f"  {WHERE_GUIDE}")


def _examples(examples: tuple[tuple[str, str], ...]) -> list[str]:
    """Each example as a shell comment saying what it does, then the command line."""
    lines = ["examples:"]
    for command, why in examples:
        if why:
            lines.append(f"  # {why}")
        lines.append(f"  {command}")
    return lines


def _statuses(exits: tuple[tuple[int, str], ...]) -> list[str]:
    lines = ["exit status:"]
    for code, when in exits:
        lines.extend(textwrap.wrap(when, WIDTH, initial_indent=f"  {code:<5}",
                                   subsequent_indent=" " * 7))
    return lines


@dataclass(frozen=True)
class CommandHelp:
    """What ``snippet-runner COMMAND --help`` teaches about one subcommand."""

    summary: str
    """One line for the top-level list of commands."""
    description: str
    """What the command does and what it prints (one paragraph, wrapped here)."""
    examples: tuple[tuple[str, str], ...]
    """``(command line, what it does)`` pairs."""
    exits: tuple[tuple[int, str], ...]
    """``(status, when)`` pairs, besides the usage error and the interrupt every command has."""

    def wrapped_description(self) -> str:
        """The description wrapped to `WIDTH`."""
        return textwrap.fill(self.description, WIDTH)

    def epilog(self) -> str:
        """The examples, exit statuses and guides, as the text after the options."""
        return "\n".join([*_examples(self.examples), "",
                          *_statuses((*self.exits, *COMMON_EXITS)), "", *_GUIDES])


COMMON_EXITS = (
    (EXIT_USAGE, "bad input (a wrong fence option, an unclosed fence, an unreadable, missing or "
                 "read-only file, a bad flag): one paragraph on stderr names file:line"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C; 143 for SIGTERM); running commands are stopped "
                       "and their sandboxes removed first"),
)
"""Exit statuses every subcommand shares."""

HELP = {
    "check": CommandHelp(
        summary="run every block and compare its output with the page",
        description="Run every verified block of the pages, in page order, and compare what "
                    "each command prints with the lines below it. Each mismatch prints "
                    "path:line of the command and a diff (expected → actual); the run goes on "
                    "with the rest and ends with one summary line. What passed is recorded in "
                    "the result cache, where a site build that only draws (Zensical, the "
                    "snippet_runner Markdown extension) finds it.",
        examples=(("snippet-runner check docs/", "every *.md under docs/, in the sandbox"),
                  ("snippet-runner check --backend local docs/en/guide/snippet-format.md",
                   "in a host bash (no docker)"),
                  ("snippet-runner check --junit out/junit.xml --json docs/ > report.json",
                   "reports for CI"),
                  ("snippet-runner check --cache docs/",
                   "while writing: re-run only the pages whose blocks changed"),
                  ("snippet-runner check --shard 2/4 --format github --json docs/ > 2.json",
                   "the second of four CI jobs; failures annotate the pull request"),
                  ("snippet-runner check --shard auto docs/",
                   "the shard from CI_NODE_INDEX/CI_NODE_TOTAL (GitLab) and the like")),
        exits=((EXIT_OK, "every block matched (or was skipped)"),
               (EXIT_FAILED, "a mismatch, a timeout, or a block that could not run"))),
    "fix": CommandHelp(
        summary="report typo fixes (--check) or apply the safe ones (--write)",
        description="Find typos in commands: docker short flags behind two dashes (--it), "
                    "typographic dashes and quotes, non-breaking spaces (safe: applied by "
                    "--write), paths split by a space and near-duplicate words (suggested: "
                    "only reported). --write changes only the fixed characters; line ends, "
                    "BOM and every other byte stay as they are, and a second run changes "
                    "nothing. Read-only files are refused before any file is written.",
        examples=(("snippet-runner fix --check docs/", "in CI or a pre-commit hook"),
                  ("snippet-runner fix --write docs/", "rewrite the files in place")),
        exits=((EXIT_OK, "no safe fix pending (or --write applied them)"),
               (EXIT_FAILED, "safe fixes are pending (--check, the default)"))),
    "update": CommandHelp(
        summary="rewrite expected output from what actually ran",
        description="Run every block and write the actual output into the page where it "
                    "differs. Lines that still match (..., (re), (glob), redacted ids) are "
                    "kept as written; timed-out and failed-to-run commands are left alone. A "
                    "page with pending safe fixes in its commands is refused (its output would "
                    "belong to the fixed command): run `fix --write` first, or pass --no-fixes.",
        examples=(("snippet-runner update --backend local docs/guide.md && git diff",
                   "record, then review"),),
        exits=((EXIT_OK, "every page is up to date (possibly after rewriting it)"),
               (EXIT_FAILED, "a command timed out or could not run; its output was kept"))),
    "list": CommandHelp(
        summary="show each block with its location, options and pending fixes",
        description="List the blocks snippet-runner would verify, without running anything: "
                    "path:line, language, kind (commands, script or file), options, each "
                    "command with its number of expected lines, and the typo fixes found.",
        examples=(("snippet-runner list docs/guide.md", "a quick look"),
                  ("snippet-runner list --json docs/ | jq '.[].fixes'", "for scripts")),
        exits=((EXIT_OK, "listed"),)),
    "images": CommandHelp(
        summary="pin the real images pages use (lock), move a pin (update), fetch them",
        description="Real images come from a lock file beside the site's configuration "
                    "(images.lock): every image the pages run, pull, build FROM or name in a "
                    "compose file, pinned by digest for each platform. `images lock PATH...` "
                    "adds what the pages use and drops what they no longer use; with --check "
                    "it writes nothing and exits 1 when a page uses an image the lock lacks "
                    "or a pinned tag moved upstream. `images update [REF...]` moves pins on "
                    "purpose. `images fetch` copies what the store lacks (skopeo, verified by "
                    "digest); check and the build do that too, unless --offline.",
        examples=(("snippet-runner images lock docs/ && git diff images.lock",
                   "pin the images the pages use, then review the pins"),
                  ("snippet-runner images lock --check docs/", "in CI: fail on a moved tag"),
                  ("snippet-runner images update nginx:1.25", "move one pin on purpose"),
                  ("snippet-runner images fetch", "fill the store (cache it in CI, keyed on "
                   "images.lock)")),
        exits=((EXIT_OK, "done (--check: the lock matches the pages and upstream)"),
               (EXIT_FAILED, "--check found a missing, unused or moved pin; or a registry "
                             "could not be read"))),
    "report": CommandHelp(
        summary="merge the JSON or JUnit reports of a run's shards into one",
        description="report merge reads the reports the shards of one run wrote (check --shard "
                    "K/N --json, or --junit FILE) and writes one report in the same format, "
                    "pages in the order of the whole run, totals counted again. It refuses "
                    "reports that do not make up one run: a page in two reports, shards that "
                    "split the pages differently, and (JSON) a shard without a report.",
        examples=(("snippet-runner report merge -o report.json shard-*/report.json",
                   "one JSON report; exit 1 if anything failed"),
                  ("snippet-runner report merge -o junit.xml shard-*/junit.xml",
                   "one JUnit report for the CI's test view")),
        exits=((EXIT_OK, "merged, and every block passed or was skipped"),
               (EXIT_FAILED, "merged, and a block failed, timed out or could not run"))),
    "import-jekyll": CommandHelp(
        summary="convert a Jekyll post into a page of this site",
        description="Convert a Jekyll post (Minimal Mistakes front matter) into a Material "
                    "page: front matter mapped (excerpt → description, dates as timestamps), "
                    "headings promoted, list continuations re-indented, image paths pointed "
                    "at assets/. Questionable input (a malformed date, a missing image) gives "
                    "a warning naming file:line and a documented fallback.",
        examples=(("snippet-runner import-jekyll _posts/2021-09-13-post.md docs/ko/posts/post.md",
                   "a post and its images become a page of this site"),),
        exits=((EXIT_OK, "the page was written (warnings, if any, on stderr)"),)),
}
"""Help texts by subcommand name."""


TOP_EXAMPLES = (
    ("snippet-runner check", "verify the docs_dir of ./mkdocs.yml, with its plugin settings"),
    ("snippet-runner check -f mkdocs.en.yml --backend local",
     "another configuration, one setting overridden"),
    ("snippet-runner check docs/", "verify every page under docs/ in the sandbox"),
    ("snippet-runner check --backend local README.md",
     "run in a host bash (no docker, no isolation)"),
    ("snippet-runner check --junit report.xml docs/", "also write a JUnit report for CI"),
    ("snippet-runner fix --check docs/", "exit 1 if safe typo fixes are pending"),
    ("snippet-runner fix --write docs/", "apply them (only the fixed characters change)"),
    ("snippet-runner update docs/guide.md", "rewrite expected output from a real run"),
    ("snippet-runner list docs/guide.md", "show blocks, options and pending fixes"),
)
"""The examples of ``snippet-runner --help``."""


def _epilog() -> str:
    """The top-level examples and exit statuses."""
    statuses = textwrap.fill(
        "exit status: 0 all good, 1 a mismatch, timeout or failure (or pending fixes for fix "
        "--check), 2 bad input or usage (one paragraph on stderr names file:line), "
        "130 interrupted.", WIDTH)
    return "\n".join([*_examples(TOP_EXAMPLES), "", statuses, "",
                      textwrap.fill("`snippet-runner COMMAND --help` shows each command's "
                                    "examples and exit statuses.", WIDTH)])


def _add_command(commands: Subparsers, name: str,
                 parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    text = HELP[name]
    return commands.add_parser(name, parents=parents, help=text.summary,
                               description=text.wrapped_description(), epilog=text.epilog(),
                               formatter_class=argparse.RawDescriptionHelpFormatter)


def _paths_parser() -> argparse.ArgumentParser:
    paths = argparse.ArgumentParser(add_help=False)
    paths.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                       help="Markdown files, or directories searched for *.md (default: the "
                            "docs_dir of the MkDocs configuration)")
    return paths


def _config_file_parser() -> argparse.ArgumentParser:
    config_file = argparse.ArgumentParser(add_help=False)
    config_file.add_argument("-f", "--config-file", type=Path, metavar="FILE",
                             help="the MkDocs configuration whose snippet-runner options (and "
                                  f"docs_dir) apply (default: {' or '.join(CONFIG_NAMES)} in "
                                  "the working directory, if there is one)")
    return config_file


def _running_parser() -> argparse.ArgumentParser:
    """The flags of the commands that run pages: one per `config.SETTINGS` entry, plus the
    report options. Every flag defaults to None ("not given"), so the setting's own default —
    shown in ``--help`` — applies unless it is given."""
    running = argparse.ArgumentParser(add_help=False)
    for setting in SETTINGS:
        names = [setting.flag, *([setting.short] if setting.short else [])]
        default = setting.default
        shown = "" if setting.negated or setting.switch or setting.repeatable or \
            setting.name == "jobs" or default is None else (
            f" (default: {default:g})" if isinstance(default, float) else f" (default: {default})")
        if setting.negated or setting.switch:
            running.add_argument(*names, dest=setting.name, default=None, help=setting.help,
                                 action="store_false" if setting.negated else "store_true")
        elif setting.repeatable:
            running.add_argument(*names, dest=setting.name, action="append", default=None,
                                 metavar=setting.metavar, help=setting.help)
        else:
            running.add_argument(*names, dest=setting.name, default=None,
                                 metavar=setting.metavar, choices=setting.choices or None,
                                 help=setting.help + shown)
    running.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML here")
    running.add_argument("--json", action="store_true",
                         help="print a JSON report on stdout instead of the text report")
    running.add_argument("--verbose", "-v", action="store_true",
                         help="list passed and skipped commands too")
    _ci_flags(running)
    return running


FORMATS = ("text", "json", "github")
"""What ``--format`` prints on stdout."""


def _ci_flags(running: argparse.ArgumentParser) -> None:
    """The report format and progress flags of the commands that run pages."""
    running.add_argument(
        "--format", choices=FORMATS, default=None,
        help="what to print on stdout: 'text' (default: path:line and a diff per problem), "
             "'json' (as --json), 'github' (GitHub Actions workflow commands: each problem "
             "becomes an annotation on its line of the pull request)")
    running.add_argument("--json-report", type=Path, metavar="FILE",
                         help="also write the JSON report here (what `report merge` reads), "
                              "whatever --format prints")
    running.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None,
        help="show each command as it runs, on stderr (default: only on a terminal, where one "
             "line is redrawn; --progress in a CI log prints a line per command)")


def _shard_flag(check: argparse.ArgumentParser) -> None:
    variables = ", ".join(f"{v.index}/{v.total} ({v.system}, {v.first}-based)"
                          for v in CI_VARIABLES)
    check.add_argument(
        "--shard", metavar="K/N",
        help="check only shard K of N (1-based) of the pages, split the same way in every job "
             "and balanced by the durations recorded in the cache directory; 'auto' reads "
             f"{ENV_SHARD}=K/N or {variables}, and checks every page when none is set")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="snippet-runner", description=DESCRIPTION,
                                     epilog=_epilog(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    paths, running = [_paths_parser(), _config_file_parser()], _running_parser()
    check = _add_command(commands, "check", [*paths, running])
    _shard_flag(check)
    check.add_argument(
        "--cache", action=argparse.BooleanOptionalAction, default=False,
        help="reuse the recorded result of a page none of whose blocks (nor the engine, "
             "fixture images or settings) changed since it last passed, starting no sandbox "
             "for it. Off by default because a check is usually CI's proof that the pages "
             "work now, on this machine: a fresh run also catches what no key can see (a "
             "flaky command, a changed host). Use --cache while writing; the build uses it "
             "always")
    mode = _add_command(commands, "fix", paths).add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="only report; exit 1 when safe fixes are pending (the default)")
    mode.add_argument("--write", action="store_true",
                      help="apply the safe fixes to the files, atomically")
    _add_command(commands, "update", [*paths, running])
    _add_command(commands, "list", paths).add_argument("--json", action="store_true",
                                                       help="print JSON")
    images = _add_command(commands, "images", [_config_file_parser(), running])
    images.add_argument("action", choices=("lock", "update", "fetch"),
                        help="lock: pin what the pages use; update: move pins; fetch: fill "
                             "the store")
    images.add_argument("targets", nargs="*", metavar="PATH|REF",
                        help="lock: Markdown files or directories; update: images to move "
                             "(all when none is given)")
    images.add_argument("--check", action="store_true",
                        help="lock: write nothing; exit 1 unless the lock is complete and "
                             "no pinned tag moved upstream")
    _add_report_command(commands)
    importer = _add_command(commands, "import-jekyll", [])
    importer.add_argument("src", type=Path, help="the Jekyll post")
    importer.add_argument("dest", type=Path, help="the page to write")
    importer.add_argument("--images", type=Path, metavar="FILE",
                          help="image map (default: assets/imported-images.yml beside the "
                               "nearest mkdocs.yml)")
    return parser


def _add_report_command(commands: Subparsers) -> None:
    report = _add_command(commands, "report", [])
    actions = report.add_subparsers(dest="report_command", required=True, metavar="ACTION")
    text = HELP["report"]
    merge_parser = actions.add_parser("merge", help=text.summary,
                                      description=text.wrapped_description(),
                                      epilog=text.epilog(),
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
    merge_parser.add_argument("reports", nargs="+", type=Path, metavar="REPORT",
                              help="the shards' JSON reports, or their JUnit reports")
    merge_parser.add_argument("--output", "-o", type=Path, metavar="FILE",
                              help="write the merged report here (default: stdout)")


def expand(paths: Sequence[Path]) -> list[Path]:
    """Files as given, directories as their ``*.md`` files (sorted).

    ConfigError for a missing path and for a directory without any ``*.md``: both are
    usually a mistyped argument, and "0 pages, all good" would hide it.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            pages = sorted(p for p in path.rglob("*.md") if p.is_file())
            if not pages:
                raise ConfigError("this directory has no Markdown (*.md) files.", path=path)
            found.extend(pages)
        elif path.exists():
            found.append(path)
        else:
            raise ConfigError("no such file or directory.", path=path)
    return found


def _site(args: argparse.Namespace) -> SiteConfig | None:
    """The MkDocs configuration that applies (read once per command), None without one."""
    if not hasattr(args, "site_config"):
        found = find_config_file(args.config_file, Path.cwd())
        args.site_config = read_site_config(found) if found is not None else None
    site: SiteConfig | None = args.site_config
    return site


def _load(args: argparse.Namespace, given: Sequence[Path] | None = None) -> list[Page]:
    """The pages of the PATHs given (``given``, else the command's PATHs), else of the
    configuration's docs_dir."""
    paths = list(args.paths if given is None else given)
    if not paths:
        site = _site(args)
        if site is None:
            raise ConfigError("name the Markdown files or directories to use, or run this in "
                              f"the directory of the site's {CONFIG_NAMES[0]} (its docs_dir is "
                              "used), or give it with -f/--config-file.")
        paths = [_near(site.docs_dir)]
    return [load_page(p) for p in expand(paths)]


def _near(path: Path) -> Path:
    """``path`` relative to the working directory when inside it: messages name files the way
    the build does."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else Path(relative)


def _config(args: argparse.Namespace) -> RunConfig:
    """The run configuration: the plugin's options in the MkDocs configuration (relative paths
    from its directory, as the build takes them), then the flags given (relative to here).
    ``check`` records its results (what a host that only draws, such as Zensical, shows);
    ``update`` does not: it rewrites the pages it ran."""
    site = _site(args)
    from_file = RunConfig()
    if site is not None:
        settings = {s.name for s in SETTINGS}
        values = {k: v for k, v in site.plugin_options.items() if k in settings}
        try:
            from_file = RunConfig.from_settings(values, base_dir=site.base_dir, origin="mkdocs")
        except ConfigError as err:
            raise ConfigError(err.message, path=site.path) from None
    flags = {s.name: getattr(args, s.name) for s in SETTINGS if getattr(args, s.name) is not None}
    from_flags = RunConfig.from_settings(flags, origin="cli")
    return replace(from_file, **{name: getattr(from_flags, name) for name in flags},
                   use_cache=getattr(args, "cache", False),
                   record_results=args.command == "check")


def _verify(pages: list[Page], args: argparse.Namespace) -> list[PageReport]:
    config = _config(args)
    if args.junit:
        _check_report_path(args.junit)
    if args.json_report:
        _check_report_path(args.json_report, "--json-report")
    _output_format(args)  # a contradiction is refused before anything runs
    mode = {None: "auto", True: "always", False: "never"}[args.progress]
    progress = Progress(len(pages), mode=mode)
    try:
        return verify_pages(pages, config, progress.page, progress.step,
                            on_stop=_note_stopped(args))
    finally:
        progress.finish()


def _output_format(args: argparse.Namespace) -> str:
    """``--format``, with ``--json`` as ``--format json``; ConfigError when they disagree."""
    if args.json and args.format not in (None, "json"):
        raise ConfigError(f"--json and --format {args.format} ask for two reports on stdout; "
                          "give one of them.")
    return "json" if args.json else args.format or "text"


def _shard_plan(pages: list[Page], args: argparse.Namespace) -> ShardPlan | None:
    """The split ``--shard`` asks for (None: every page), told on stderr."""
    if args.shard.strip().lower() == "auto":
        which = shard_from_env(os.environ)
        if which is None:
            names = ", ".join([ENV_SHARD, *(v.index for v in CI_VARIABLES)])
            sys.stderr.write(f"snippet-runner: --shard auto: no shard is set ({names}); "
                             "checking every page.\n")
            return None
    else:
        which = parse_shard(args.shard)
    plan = plan_shard(pages, _config(args), which)
    mine = plan.indexes
    sys.stderr.write(
        f"snippet-runner: shard {which} (from {which.source}): {len(mine)} of {len(pages)} "
        f"page(s), about {plan.load(which.index):.0f} s of {sum(plan.weights):.0f} s "
        f"(plan {plan.digest}).\n")
    return plan


def _note_stopped(args: argparse.Namespace) -> Callable[[Stopped], None]:
    """Keep what an interrupted run stopped, for the message `main` prints."""
    def note(stopped: Stopped) -> None:
        args.stopped = stopped
    return note


def _check_report_path(path: Path, flag: str = "--junit") -> None:
    """ConfigError before anything runs when a report file could not be written after."""
    folder = path.parent
    if path.is_dir():
        raise ConfigError(f"{flag} needs a file name, but this is a directory.", path=path)
    if not folder.is_dir():
        raise ConfigError(f"{flag}: the directory {folder} does not exist; create it first.",
                          path=path)
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists()
                                                     and not os.access(path, os.W_OK)):
        raise ConfigError(f"{flag}: this file cannot be written (permission denied).",
                          path=path)


def _report(reports: list[PageReport], args: argparse.Namespace,
            plan: ShardPlan | None = None) -> None:
    """The text, JSON or GitHub report on stdout, then the JUnit file (its failure is reported
    last, after the results are already on screen)."""
    output = _output_format(args)
    if output == "json":
        sys.stdout.write(to_json(reports, plan) + "\n")
    elif output == "github":
        workspace = os.environ.get("GITHUB_WORKSPACE")
        sys.stdout.write(to_github(reports, Path(workspace) if workspace else None))
        sys.stdout.write(summary_line(reports))
    else:
        print_terminal(reports, sys.stdout, color=_color(sys.stdout), verbose=args.verbose)
    if args.json_report:
        try:
            args.json_report.write_text(to_json(reports, plan) + "\n", encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"--json-report: cannot write the report: {err.strerror}.",
                              path=args.json_report) from err
    if args.junit:
        try:
            args.junit.write_text(to_junit(reports, plan), encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"--junit: cannot write the report: {err.strerror}.",
                              path=args.junit) from err


def _color(stream: TextIO) -> bool:
    """Colour for a terminal, unless NO_COLOR is set to anything but "" (no-color.org)."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def cmd_check(args: argparse.Namespace) -> int:
    """``check``: verify and report."""
    pages = _load(args)
    plan = _shard_plan(pages, args) if args.shard else None
    if plan is not None:
        pages = [pages[i] for i in plan.indexes]
    reports = _verify(pages, args)
    if args.cache:
        cached = sum(r.from_cache for r in reports)
        sys.stderr.write(f"snippet-runner: {cached} page(s) from the result cache, "
                         f"{len(reports) - cached} checked afresh"
                         + (" (no sandbox started)\n" if cached == len(reports) else "\n"))
    _report(reports, args, plan)
    return EXIT_OK if all(r.ok for r in reports) else EXIT_FAILED


def _safe_fixes(page: Page) -> list[Fix]:
    """The safe fixes ``fix --write`` applies to the page (overlaps dropped)."""
    return safe_fixes(page.fixes)


def _sweep_rewrites(pages: list[Page]) -> None:
    """Before rewriting: clear what killed rewrites left beside the pages."""
    for note in sweep_beside(p.path for p in pages):
        sys.stderr.write(f"snippet-runner: {note}\n")


def cmd_fix(args: argparse.Namespace) -> int:
    """``fix``: report fixes, or apply the safe ones."""
    pages = _load(args)
    if args.write:  # all or nothing: refuse before the first file is touched
        _sweep_rewrites(pages)
        for page in pages:
            if _safe_fixes(page):
                ensure_writable(page.path)
    pending = 0
    for page in pages:
        safe = _safe_fixes(page)
        for fix in page.fixes:
            applied = args.write and fix.safety is FixSafety.SAFE
            sys.stdout.write(fix_line(fix, applied=applied))
        if args.write and safe:
            rewrite_file(page.path, page.text, [Edit(f.span, f.replacement) for f in safe])
        elif safe:
            pending += len(safe)
    if pending:
        sys.stdout.write(f"{pending} safe fix(es) pending; apply them with "
                         "`snippet-runner fix --write`.\n")
        return EXIT_FAILED
    return EXIT_OK


def _refuse_pending_fixes(pages: list[Page]) -> None:
    """ConfigError when a command would run with a safe fix the page doesn't have yet.

    ``update`` would then record the fixed command's output under the unfixed command, and the
    page would contradict itself (``check --no-fixes`` fails on it).
    """
    for page in pages:
        for command in (c for s in page.snippets for c in s.commands):
            pending = applied_fixes(page.fixes, command)
            if pending:
                rules = ", ".join(sorted({f.rule for f in pending}))
                raise ConfigError(
                    f"this command has pending safe fixes ({rules}), and `update` would record "
                    "the output of the fixed command under the unfixed one. Apply them first "
                    f"with `snippet-runner fix --write {page.path}`, or record the command as "
                    "written with `update --no-fixes`.", path=command.location.path,
                    line=command.location.line)


def cmd_update(args: argparse.Namespace) -> int:
    """``update``: rewrite expected output where it differs from a real run."""
    pages = _load(args)
    _sweep_rewrites(pages)
    for page in pages:  # refuse before a long run whose results could not be written
        if any(s.commands for s in page.snippets):
            ensure_writable(page.path)
    if args.apply_safe_fixes is not False:  # --no-fixes records commands as written
        _refuse_pending_fixes(pages)
    reports = _verify(pages, args)
    for report in reports:
        edits = update_edits(report.page.text, report.outcomes)
        if edits and rewrite_file(report.page.path, report.page.text, edits):
            sys.stdout.write(f"{report.page.path}: updated the output of {len(edits)} "
                             f"command(s)\n")
    unfixable = [r for r in reports for o in r.outcomes
                 if o.status in (Status.TIMEOUT, Status.ERROR)]
    if unfixable:
        _report(reports, args)
        return EXIT_FAILED
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    """``list``: snippets, options and pending fixes, without running anything."""
    pages = _load(args)
    if args.json:
        sys.stdout.write(json.dumps([page_dict(p) for p in pages], ensure_ascii=False,
                                    indent=2) + "\n")
        return EXIT_OK
    for page in pages:
        for snippet in page.snippets:
            kind = snippet_kind(snippet)
            if kind == "transcript":
                kind = f"{len(snippet.commands)} command(s)"
            line = f"{snippet.location}: {snippet.lang} {kind} {format_options(snippet.options)}"
            sys.stdout.write(line.rstrip() + "\n")
            for command in snippet.commands:
                first = command.text.split("\n", 1)[0]
                sys.stdout.write(f"    {command.location}: $ {first}  "
                                 f"[{len(command.expected)} expected line(s)]\n")
        for fix in page.fixes:
            sys.stdout.write(fix_line(fix))
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    """``import-jekyll``: convert one Jekyll post."""
    images = load_image_map(args.images) if args.images else None
    for warning in import_jekyll(args.src, args.dest, images=images):
        sys.stderr.write(f"warning: {warning}\n")
    sys.stdout.write(f"wrote {args.dest}\n")
    return EXIT_OK


def cmd_images(args: argparse.Namespace) -> int:
    """``images``: the lock file and the image store."""
    config = _config(args)
    if args.action == "fetch":
        done = fetch_images(config)
        for ref in done.fetched:
            sys.stdout.write(f"fetched {ref}\n")
        sys.stdout.write(f"{len(done.present)} image(s) already in the store, "
                         f"{len(done.fetched)} fetched\n")
        return EXIT_OK
    if args.action == "update":
        report = update_images(config, args.targets)
    else:
        report = lock_images(_load(args, [Path(t) for t in args.targets]), config,
                             check=args.check)
    _print_lock_report(report, config, checking=args.check)
    return EXIT_FAILED if args.check and not report.clean else EXIT_OK


def _print_lock_report(report: LockReport, config: RunConfig, *, checking: bool) -> None:
    where = {use.ref: use.location for use in reversed(report.uses)}
    verb = ("lacks", "pins, but no page uses", "moved upstream") if checking else (
        "pinned", "dropped", "moved")
    for pin in report.added:
        sys.stdout.write(f"{where.get(pin.ref, config.images_lock)}: {verb[0]} {pin.ref}"
                         + (f" ({pin.digest})" if pin.digest else "") + "\n")
    for ref in report.removed:
        sys.stdout.write(f"{config.images_lock}: {verb[1]} {ref}\n")
    for old, new in report.moved:
        sys.stdout.write(f"{config.images_lock}: {verb[2]} {old.ref}: {old.digest} → "
                         f"{new.digest}" + (" (run `snippet-runner images update` to move "
                                            "it)" if checking else "") + "\n")
    sys.stdout.write(f"{config.images_lock}: {report.kept} pin(s) unchanged\n")


def cmd_report(args: argparse.Namespace) -> int:
    """``report merge``: one report from the reports of a run's shards."""
    files = []
    for path in args.reports:
        try:
            files.append(ReportFile(path, path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as err:
            why = err.strerror if isinstance(err, OSError) else "it is not UTF-8 text"
            raise ConfigError(f"cannot read this report: {why}.", path=path) from err
    merged = merge(files)
    if args.output:
        try:
            args.output.write_text(merged.text, encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"cannot write the merged report: {err.strerror}.",
                              path=args.output) from err
    else:
        sys.stdout.write(merged.text)
    sys.stderr.write(f"snippet-runner: {merged.summary()}\n")
    return EXIT_OK if merged.ok else EXIT_FAILED


COMMANDS = {"check": cmd_check, "fix": cmd_fix, "update": cmd_update, "list": cmd_list,
            "images": cmd_images, "report": cmd_report, "import-jekyll": cmd_import}


def _silence_stdout() -> None:
    """Point stdout at /dev/null so flushing it at exit doesn't raise BrokenPipeError again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (also used by ``python -m snippet_runner``)."""
    args = _parser().parse_args(argv)
    with sigterm_as_interrupt():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    """Run the command; every way it can end becomes an exit status and at most a paragraph."""
    try:
        if hasattr(args, "config_file"):
            _site(args)  # a bad configuration is reported before any page is read
        return COMMANDS[args.command](args)
    except ConfigError as err:
        sys.stderr.write(f"snippet-runner: error: {err}\n")
        return EXIT_USAGE
    except SnippetRunnerError as err:
        sys.stderr.write(f"snippet-runner: could not run: {err}\n")
        return EXIT_FAILED
    except BrokenPipeError:  # `snippet-runner list docs/ | head`: the reader has had enough
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt as err:
        terminated = isinstance(err, Terminated)
        how = "terminated (SIGTERM)" if terminated else "interrupted (Ctrl-C)"
        stopped: Stopped = getattr(args, "stopped", Stopped((), 0, ""))
        sys.stderr.write(f"snippet-runner: {stopped.describe(how)}\n")
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
