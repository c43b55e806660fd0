"""The package's layout is kept by reading its imports, not by convention.

* no import circle anywhere (function-local imports count too);
* ``core`` imports neither ``sandbox``, ``site``, the shells, mkdocs nor docker;
* ``sandbox`` imports nothing from ``core``, ``site`` or the shells;
* the leaves (``config``, ``model``, ``errors``) import only each other;
* ``api`` is the only module that imports both ``core`` and ``sandbox``;
* a function-local import says why it is not at the top (a comment on its line or the one
  above), and only ever keeps a heavy dependency off a path that doesn't need it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "snippet_runner"
LEAVES = {"snippet_runner.config", "snippet_runner.model", "snippet_runner.errors"}
SHELLS = {"snippet_runner.cli", "snippet_runner.plugin", "snippet_runner.api"}


@dataclass(frozen=True)
class Import:
    """One import statement of a module."""

    module: str
    """The importing module."""
    target: str
    """The module imported (for ``from x import y``: ``x.y`` when that is a module, else x)."""
    line: int
    """Where."""
    local: bool
    """Inside a function."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (PACKAGE.parent / rel).with_suffix(".py").is_file() or (
        PACKAGE.parent / rel / "__init__.py").is_file()


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports() -> list[Import]:
    found: list[Import] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        local_lines = {n.lineno for f in ast.walk(tree)
                       if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                       for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, path.name == "__init__.py", node)
                targets = [f"{base}.{a.name}" if _is_module(f"{base}.{a.name}") else base
                           for a in node.names]
            else:
                continue
            found.extend(Import(module, t, node.lineno, node.lineno in local_lines)
                         for t in targets if t != "__future__")
    return found


IMPORTS = _imports()


def _internal(name: str) -> bool:
    return name == "snippet_runner" or name.startswith("snippet_runner.")


def _in(name: str, layer: str) -> bool:
    return name == layer or name.startswith(layer + ".")


def test_the_imports_were_found() -> None:
    modules = {i.module for i in IMPORTS}
    assert {"snippet_runner.core.run", "snippet_runner.sandbox.namespace",
            "snippet_runner.site.render", "snippet_runner.api"} <= modules


def test_there_is_no_import_circle() -> None:
    graph: dict[str, set[str]] = {}
    for imp in IMPORTS:
        # The package's __init__ re-exports the public face; importing a submodule runs it,
        # but a submodule importing "snippet_runner" for __version__ is not a dependency on
        # everything __init__ re-exports.
        if _internal(imp.target) and imp.target != "snippet_runner":
            graph.setdefault(imp.module, set()).add(imp.target)
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        seen[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if seen.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt):], nxt]
                pytest.fail("import circle: " + " → ".join(cycle))
            if nxt not in seen:
                visit(nxt)
        stack.pop()
        seen[node] = 2

    for node in sorted(graph):
        if node not in seen:
            visit(node)


@pytest.mark.parametrize(("layer", "forbidden"), [
    ("snippet_runner.core", ("snippet_runner.sandbox", "snippet_runner.site", *SHELLS,
                             "mkdocs", "docker", "requests")),
    ("snippet_runner.sandbox", ("snippet_runner.core", "snippet_runner.site", *SHELLS,
                                "mkdocs")),
    ("snippet_runner.site", ("snippet_runner.sandbox", *SHELLS)),
])
def test_layers_import_only_what_they_may(layer: str, forbidden: tuple[str, ...]) -> None:
    bad = [f"{i.module}:{i.line} imports {i.target}" for i in IMPORTS
           if _in(i.module, layer) and any(_in(i.target, f) for f in forbidden)]
    assert not bad, bad


def test_leaves_import_only_leaves() -> None:
    bad = [f"{i.module}:{i.line} imports {i.target}" for i in IMPORTS
           if i.module in LEAVES and _internal(i.target) and i.target not in LEAVES]
    assert not bad, bad


def test_only_the_api_wires_core_to_a_sandbox() -> None:
    both = {m for m in {i.module for i in IMPORTS}
            if any(_in(i.target, "snippet_runner.core") for i in IMPORTS if i.module == m)
            and any(_in(i.target, "snippet_runner.sandbox") for i in IMPORTS if i.module == m)}
    assert both == {"snippet_runner.api"}


def test_a_function_local_import_says_why() -> None:
    unexplained = []
    for imp in (i for i in IMPORTS if i.local):
        path = PACKAGE.parent / Path(*imp.module.split("."))
        source = (path / "__init__.py" if path.is_dir() else path.with_suffix(".py"))
        lines = source.read_text(encoding="utf-8").split("\n")
        line, above = lines[imp.line - 1], lines[imp.line - 2].strip()
        comment = re.sub(r"type: ignore\[[^]]*\]", "", line.partition("#")[2]).strip()
        if not comment and not above.startswith("#"):
            unexplained.append(f"{imp.module}:{imp.line} {imp.target}")
    assert not unexplained, unexplained


def test_function_local_imports_are_few() -> None:
    """They exist only to keep the Docker SDK and the Korean analyser off paths that don't use
    them: every other import sits at the top of its module."""
    heavy = [i for i in IMPORTS if i.local]
    assert {i.target.split(".")[-1] for i in heavy} <= {"namespace", "external", "kiwipiepy"}, heavy


def test_the_backend_names_are_one_registry() -> None:
    from snippet_runner.config import BACKENDS as NAMES
    from snippet_runner.config import SETTINGS
    from snippet_runner.sandbox import BACKENDS

    assert list(BACKENDS) == list(NAMES)
    assert next(s for s in SETTINGS if s.name == "backend").choices == tuple(NAMES)
