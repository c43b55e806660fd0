"""Parse a fence info string (``bash skip="why" timeout="30"``) into `SnippetOptions`.

Options are ``key="value"`` pairs separated by spaces: that form survives pymdownx.superfences
and GitHub shows only the first word. Display attributes that Material/superfences understand
(``title``, ``linenums``, ``hl_lines``) are accepted and ignored. Anything else is an error that
names the file and line, because a misspelt option (``skp="..."``) would otherwise silently run
or silently skip a block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path

from ..errors import ConfigError
from ..model import SnippetOptions

RUNNER_KEYS = ("skip", "timeout", "exit", "stdin", "hide", "file", "session")
"""Options snippet_runner acts on (documented in docs/en/guide/snippet-format.md)."""

DISPLAY_KEYS = ("title", "linenums", "hl_lines", "anchor_linenums")
"""Rendering options of pymdownx.superfences / Material: allowed, not interpreted here."""

_PAIR = re.compile(r'([a-zA-Z][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
_SESSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


@dataclass(frozen=True)
class InfoString:
    """A fence info string split into its language and its raw options."""

    lang: str
    """First word, lower-cased (empty when the fence has no info string)."""
    rest: str
    """Everything after the first word, stripped."""
    pairs: tuple[tuple[str, str], ...]
    """``key="value"`` pairs in order, values with escapes decoded."""


def format_options(options: SnippetOptions) -> str:
    """The info-string form of the options that differ from the defaults (what `parse_options`
    reads back), e.g. ``skip="needs a GPU" timeout="30"``."""
    defaults = SnippetOptions()
    pairs: list[str] = []
    for option in fields(SnippetOptions):
        value = getattr(options, option.name)
        if value == getattr(defaults, option.name):
            continue
        if isinstance(value, bool):
            text = str(value).lower()
        elif isinstance(value, float):
            text = str(int(value)) if value.is_integer() else repr(value)
        else:
            text = _escape(str(value))
        pairs.append(f'{option.name}="{text}"')
    return " ".join(pairs)


def _escape(value: str) -> str:
    """The inverse of `_unescape`."""
    return (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\t", "\\t"))


def _unescape(value: str) -> str:
    """Decode ``\\n``, ``\\t``, ``\\"`` and ``\\\\``; other backslashes stay as written."""
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[0]), value)


def language(info: str) -> str:
    """The fence's language: the info string's first word (any whitespace ends it), lower-cased."""
    words = info.split(None, 1)
    return words[0].lower() if words else ""


def split_info(info: str, *, path: Path, line: int) -> InfoString:
    """Split ``info`` into language and ``key="value"`` pairs; ConfigError on anything else."""
    words = info.split(None, 1)
    rest = words[1].strip() if len(words) > 1 else ""
    pairs: list[tuple[str, str]] = []
    pos = 0
    while pos < len(rest):
        if rest[pos].isspace():
            pos += 1
            continue
        match = _PAIR.match(rest, pos)
        if match is None:
            bad = rest[pos:].split(None, 1)[0]
            raise ConfigError(
                f'cannot read the fence option {bad!r}: options are written key="value" '
                f'(double quotes, e.g. skip="needs network"), separated by spaces.',
                path=path, line=line)
        pairs.append((match[1], _unescape(match[2])))
        pos = match.end()
    return InfoString(lang=language(info), rest=rest, pairs=tuple(pairs))


def has_file_option(info: str) -> bool:
    """Whether a fence of any language carries a ``file="..."`` option (cheap pre-check)."""
    return re.search(r'(?:^|\s)file="', info) is not None


def parse_options(info: InfoString, *, path: Path, line: int) -> SnippetOptions:
    """Validate the pairs of ``info`` into `SnippetOptions`."""
    values: dict[str, str] = {}
    for key, value in info.pairs:
        if key in DISPLAY_KEYS:
            continue
        if key not in RUNNER_KEYS:
            known = ", ".join(RUNNER_KEYS + DISPLAY_KEYS)
            raise ConfigError(f"unknown fence option {key!r}; known options are {known}.",
                              path=path, line=line)
        if key in values:
            raise ConfigError(f"fence option {key!r} is given twice.", path=path, line=line)
        values[key] = value
    return SnippetOptions(
        skip=_skip(values, path, line),
        timeout=_timeout(values, path, line),
        exit=_exit(values, path, line),
        stdin=values.get("stdin"),
        hide=_bool(values, "hide", path, line),
        file=_file(values, path, line),
        session=_session(values, path, line),
    )


def _skip(values: dict[str, str], path: Path, line: int) -> str | None:
    if "skip" not in values:
        return None
    if not values["skip"].strip():
        raise ConfigError('skip="" needs a reason readers can see, e.g. skip="needs a GPU".',
                          path=path, line=line)
    return values["skip"]


def _timeout(values: dict[str, str], path: Path, line: int) -> float | None:
    if "timeout" not in values:
        return None
    try:
        seconds = float(values["timeout"])
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 86400:
        raise ConfigError(f'timeout="{values["timeout"]}" must be a number of seconds '
                          f'greater than 0, e.g. timeout="120".', path=path, line=line)
    return seconds


def _exit(values: dict[str, str], path: Path, line: int) -> int:
    raw = values.get("exit", "0")
    if not (raw.isascii() and raw.isdigit()) or int(raw) > 255:  # "²".isdigit() is True
        raise ConfigError(f'exit="{raw}" must be an exit status from 0 to 255, e.g. exit="125".',
                          path=path, line=line)
    return int(raw)


def _bool(values: dict[str, str], key: str, path: Path, line: int) -> bool:
    raw = values.get(key, "false").lower()
    if raw not in ("true", "false"):
        raise ConfigError(f'{key}="{values[key]}" must be "true" or "false".', path=path, line=line)
    return raw == "true"


def _file(values: dict[str, str], path: Path, line: int) -> str | None:
    if "file" not in values:
        return None
    target = values["file"]
    if (not target.startswith("/") or "\x00" in target or target.endswith("/")
            or ".." in target.split("/")):
        raise ConfigError(f'file="{target}" must be an absolute path of a file inside the '
                          f'sandbox, e.g. file="/etc/gitlab-runner/config.toml".',
                          path=path, line=line)
    return target


def _session(values: dict[str, str], path: Path, line: int) -> str:
    name = values.get("session", "main")
    if not _SESSION.fullmatch(name):
        raise ConfigError(f'session="{name}" must be a simple name (letters, digits, "_", "-", '
                          f'"."), e.g. session="server".', path=path, line=line)
    return name
