"""snippet_runner: prove the shell examples of a Markdown site against a private Docker daemon.

Three layers: ``core`` (the pure pipeline: extract → fix → run → compare → report / rewrite),
``sandbox`` (the engines commands run in, behind the protocols of `model`) and ``site``
(rendering and site features). `api` is the one place that wires core to a sandbox; the CLI
and the MkDocs plugin are thin shells over it. What this module exports is the public face.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .api import load_page, page_from_text, verify_pages
from .config import RunConfig
from .errors import ConfigError, MissingImageError, SandboxError, SnippetRunnerError
from .model import Outcome, Page, PageReport, Snippet, Status

__all__ = [
    "ConfigError",
    "MissingImageError",
    "Outcome",
    "Page",
    "PageReport",
    "RunConfig",
    "SandboxError",
    "Snippet",
    "SnippetRunnerError",
    "Status",
    "__version__",
    "load_page",
    "page_from_text",
    "verify_pages",
]
