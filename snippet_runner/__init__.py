"""snippet_runner: prove the shell examples of a Markdown site against a private Docker daemon.

The modules read as the pipeline: extract → fixes → run → compare → report / rewrite;
`cli` and `plugin` are thin shells over `api`.
"""

from __future__ import annotations

__version__ = "0.1.0"
