"""MkDocs plugin ``shared-assets``: publish the top-level ``assets/`` in every language's build.

Diagrams, the stylesheet and the copy script live once, outside any ``docs_dir``, so the Korean
and the English builds (``docs/ko``, ``docs/en``) share them.  MkDocs only copies files under
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
