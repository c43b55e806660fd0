"""Files a browser loads: the snippet-runner's own, and a site's shared ``assets/``.

* **The package's assets** (`PACKAGE_ASSETS`: how verified blocks look, and the script that
  makes copy buttons copy commands only) ship inside the wheel. The ``snippet-runner`` plugin
  links them into every page (`link_package_assets`, in ``on_config``) and adds the files to the
  build (`add_package_assets`, in ``on_files``) at ``assets/snippet-runner/<name>``: a site lists
  the plugin and gets styled blocks, with nothing to copy by hand.
* **MkDocs plugin ``shared-assets``**: publish a top-level ``assets/`` in every language's build.
  Diagrams and a site's own stylesheet live once, outside any ``docs_dir``, so the Korean and the
  English builds (``docs/ko``, ``docs/en``) share them. MkDocs only copies files under
  ``docs_dir``; this plugin adds the others as generated files at ``assets/<path>`` so links such
  as ``/assets/diagrams/bridge.ko.svg`` validate in a strict build and land in ``site/``.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config import config_options
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files

log = get_plugin_logger(__name__)

PACKAGE_ASSETS = Path(__file__).with_name("static")
"""The package-data directory of the files the plugin adds to every page."""
PACKAGE_PREFIX = "assets/snippet-runner"
"""Where they appear in the built site."""
STYLESHEETS = ("verified.css", "copy-commands.css")
"""Linked from every page's ``<head>``, before the site's own ``extra_css`` (so a site's
stylesheet can override them)."""
SCRIPTS = ("copy-commands.js",)
"""Loaded by every page."""


def _package_uri(name: str) -> str:
    return f"{PACKAGE_PREFIX}/{name}"


def link_package_assets(config: MkDocsConfig) -> None:
    """Link the package's stylesheets and scripts from every page (idempotent: ``mkdocs serve``
    validates the configuration again on every rebuild, on the same lists)."""
    css = [_package_uri(n) for n in STYLESHEETS if _package_uri(n) not in config.extra_css]
    config.extra_css[:0] = css
    linked = {str(s) for s in config.extra_javascript}
    config.extra_javascript.extend(_package_uri(n) for n in SCRIPTS
                                   if _package_uri(n) not in linked)


def add_package_assets(files: Files, config: MkDocsConfig) -> Files:
    """Add the package's stylesheets and scripts to the build (a file of the same name in
    ``docs_dir`` wins, with a warning: the site chose to replace it)."""
    for name in (*STYLESHEETS, *SCRIPTS):
        uri = _package_uri(name)
        if files.get_file_from_path(uri) is not None:
            log.warning("%s in docs_dir replaces the snippet-runner's own %s", uri, name)
            continue
        files.append(File.generated(config, uri, abs_src_path=str(PACKAGE_ASSETS / name)))
    return files

PUBLISHED_SUFFIXES = frozenset(
    {".svg", ".png", ".jpg", ".jpeg", ".webp", ".gif", ".css", ".js", ".woff2", ".ico"}
)
"""What a browser loads; generator scripts and map files in ``assets/`` stay out of ``site/``."""


class SharedAssetsConfig(Config):  # type: ignore[no-untyped-call]  # mkdocs is untyped here
    """Options under ``plugins: - shared-assets:``."""

    dir = config_options.Type(str, default="assets")
    """Directory to publish, relative to the config file (``mkdocs.yml``)."""
    prefix = config_options.Type(str, default="assets")
    """Where its files appear in the site (``assets`` → ``site/assets/...``)."""


class SharedAssetsPlugin(BasePlugin[SharedAssetsConfig]):  # type: ignore[no-untyped-call]
    """Add every web file under ``dir`` to the build as ``prefix/<relative path>``."""

    def _root(self, config: MkDocsConfig) -> Path:
        base = Path(config.config_file_path or ".").resolve().parent
        return base / self.config.dir

    def on_files(self, files: Files, /, *, config: MkDocsConfig) -> Files:
        """Append the shared files; a docs file of the same name wins, with a warning."""
        root = self._root(config)
        if not root.is_dir():
            raise PluginError(
                f"shared-assets: the directory {root} does not exist; create it or set "
                "'dir:' under the shared-assets plugin in mkdocs.yml."
            )
        prefix = self.config.prefix.strip("/")
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix.lower() not in PUBLISHED_SUFFIXES:
                continue
            uri = f"{prefix}/{path.relative_to(root).as_posix()}"
            if files.get_file_from_path(uri) is not None:
                log.warning("%s exists in docs_dir and shadows %s", uri, path)
                continue
            files.append(File.generated(config, uri, abs_src_path=str(path)))
        return files
