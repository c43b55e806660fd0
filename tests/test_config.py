"""The run settings: one registry, read by the CLI and the plugin alike."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from snippet_runner.cli import _parser
from snippet_runner.config import SETTINGS, RunConfig
from snippet_runner.errors import ConfigError
from snippet_runner.plugin import CONFIG_SCHEME
from snippet_runner.site.extension import OPTIONS as DRAW_OPTIONS


def test_every_field_but_the_cache_switches_is_a_setting() -> None:
    switches = {"use_cache", "record_results"}
    assert {s.name for s in SETTINGS} | switches == {f.name for f in fields(RunConfig)}


def test_the_cli_and_the_plugin_offer_the_same_settings() -> None:
    help_text = _parser().parse_args(["check", "x"]).__dict__
    assert {s.name for s in SETTINGS} <= set(help_text)
    drawing = {o.name for o in DRAW_OPTIONS if o.plugin}
    assert drawing == {"show_fixes"}
    assert {name for name, _ in CONFIG_SCHEME} == {s.name for s in SETTINGS} | {"enabled"} | drawing


def test_defaults_come_from_the_config_and_show_in_help(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["check", "--help"])
    out = capsys.readouterr().out
    assert "(default: 60)" in out and "(default: sandbox)" in out
    assert "'local' (a bash on this host: no docker, no isolation)" in " ".join(out.split())


@pytest.mark.parametrize(("values", "origin", "message"), [
    ({"jobs": 0}, "cli", "--jobs must be a whole number of pages, at least 1, not 0"),
    ({"command_timeout": "soon"}, "mkdocs",
     "'command_timeout' of the snippet-runner plugin must be a positive number of seconds"),
    ({"backend": "dind"}, "cli", "--backend: unknown backend 'dind'"),
    ({"page_timeout": float("inf")}, "cli", "--page-timeout must be a positive number"),
])
def test_a_bad_value_names_where_it_was_set(values: dict[str, object], origin: str,
                                             message: str) -> None:
    with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        RunConfig.from_settings(values, origin=origin)


def test_relative_paths_are_taken_from_the_config_files_directory(tmp_path: Path) -> None:
    config = RunConfig.from_settings({"fixtures_dir": "fx"}, base_dir=tmp_path, origin="mkdocs")
    assert config.fixtures_dir == tmp_path / "fx"
    assert config.cache_dir == tmp_path / ".cache" / "snippet-runner"
    assert RunConfig.from_settings({}).cache_dir == Path(".cache/snippet-runner")


def test_the_config_hashes_what_changes_results_only() -> None:
    base = RunConfig()
    assert RunConfig(jobs=7, cache_dir=Path("/x")).digest() == base.digest()
    assert RunConfig(command_timeout=5).digest() != base.digest()
