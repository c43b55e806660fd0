"""The MkDocs configuration as the command line reads it: one configuration for CLI and build.

``snippet-runner check`` finds the configuration the way ``mkdocs build`` does — the file given
with ``-f/--config-file``, else ``mkdocs.yml`` or ``mkdocs.yaml`` in the working directory — and
reads it with MkDocs' own YAML loader, so ``INHERIT``, ``!ENV`` and the other tags mean what they
mean to the build. What it takes from it: the options under ``plugins: - snippet-runner:`` (the
run settings of `config.SETTINGS`, relative paths taken from the file's directory, as the plugin
takes them) and ``docs_dir`` (what ``check`` verifies when given no path).

Nothing else is validated here: the build does that. Options of the plugin that are not run
settings (``enabled``, rendering options) are left to the build.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from mkdocs.exceptions import ConfigurationError
from mkdocs.utils.yaml import yaml_load

from ..errors import ConfigError

CONFIG_NAMES = ("mkdocs.yml", "mkdocs.yaml")
"""What ``mkdocs build`` looks for in the working directory, in this order."""
PLUGIN = "snippet-runner"
"""The plugin's name in ``plugins:``."""


@dataclass(frozen=True)
class SiteConfig:
    """What the command line uses of an MkDocs configuration."""

    path: Path
    """The configuration file (the one given or found; an INHERITed parent is merged in)."""
    plugin_listed: bool
    """Whether ``plugins:`` names snippet-runner (else the build never verifies)."""
    plugin_options: Mapping[str, Any] = field(default_factory=dict)
    """The options under ``plugins: - snippet-runner:``, as written."""
    docs_dir: Path = Path("docs")
    """The site's Markdown directory (absolute)."""

    @property
    def base_dir(self) -> Path:
        """The directory relative paths in the file are taken from."""
        return self.path.parent


def find_config_file(given: Path | None, cwd: Path) -> Path | None:
    """The configuration ``mkdocs build`` would use: ``given`` (ConfigError if missing), else
    the first of `CONFIG_NAMES` in ``cwd``; None when there is none."""
    if given is not None:
        if not given.is_file():
            raise ConfigError("-f/--config-file: no such configuration file.", path=given)
        return given
    return next((cwd / name for name in CONFIG_NAMES if (cwd / name).is_file()), None)


def read_site_config(path: Path) -> SiteConfig:
    """Read ``path`` as MkDocs does (``INHERIT`` merged); ConfigError naming the file when it is
    not a configuration MkDocs could read."""
    path = path.resolve()
    try:
        with open(path, "rb") as source:
            raw = yaml_load(source)
    except OSError as err:
        raise ConfigError(f"cannot read this MkDocs configuration: {err.strerror}.",
                          path=path) from err
    except ConfigurationError as err:
        raise _unreadable(err, path) from err
    if not isinstance(raw, dict):
        raise ConfigError("an MkDocs configuration is a mapping of settings.", path=path)
    listed, options = _plugin_options(raw.get("plugins"), path)
    docs_dir = raw.get("docs_dir") or "docs"
    if not isinstance(docs_dir, str):
        raise ConfigError(f"docs_dir must be a directory path, not {docs_dir!r}.", path=path)
    return SiteConfig(path=path, plugin_listed=listed, plugin_options=options,
                      docs_dir=(path.parent / docs_dir).resolve())


def _unreadable(err: ConfigurationError, path: Path) -> ConfigError:
    """One paragraph for a configuration MkDocs could not load: where the YAML broke (MkDocs
    wraps the parser's error, whose mark names the file and line), else MkDocs' message."""
    cause = err.__context__
    mark = getattr(cause, "problem_mark", None)
    if isinstance(cause, yaml.MarkedYAMLError) and mark is not None:
        what = "; ".join(p for p in (cause.context, cause.problem) if p)
        return ConfigError(f"cannot read this MkDocs configuration: {what}.",
                           path=mark.name or path, line=mark.line + 1)
    return ConfigError("cannot read this MkDocs configuration: "
                       + " ".join(str(err).split()), path=path)


def _plugin_options(plugins: Any, path: Path) -> tuple[bool, Mapping[str, Any]]:
    """Whether snippet-runner is listed, and its options; ``plugins`` may be a list of names
    and one-key mappings, or one mapping (both are MkDocs forms)."""
    entries: list[tuple[Any, Any]]
    if plugins is None:
        entries = [("search", None)]  # MkDocs' default
    elif isinstance(plugins, dict):
        entries = list(plugins.items())
    elif isinstance(plugins, list):
        entries = [next(iter(item.items())) if isinstance(item, dict) and len(item) == 1
                   else (item, None) for item in plugins]
    else:
        raise ConfigError("plugins must be a list (or a mapping) of plugin names.", path=path)
    for name, options in entries:
        if name != PLUGIN:
            continue
        if options is not None and not isinstance(options, dict):
            raise ConfigError(f"the options of the {PLUGIN} plugin must be a mapping of "
                              f"option: value, not {options!r}.", path=path)
        return True, dict(options or {})
    return False, {}
