"""How to verify: the run settings, defined once, parsed once.

`SETTINGS` is the one registry of what a user may set. Each entry names its field of
`RunConfig`, its key under ``plugins: - snippet-runner:`` in ``mkdocs.yml``, its command-line
flag and its help text; the default is the field's own default, and the choices of ``backend``
come from `BACKENDS`. The CLI builds its flags (and ``--help``) from it, the MkDocs plugin its
``config_scheme``, and both hand the raw values to `RunConfig.from_settings`, which validates
them the same way for both and says where a bad value came from.

A leaf module: it imports nothing of snippet_runner but `errors`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

BACKENDS: Mapping[str, str] = {
    "sandbox": "a private dockerd in its own namespaces (Linux, root)",
    "local": "a bash on this host: no docker, no isolation",
    "external": "your daemon, e.g. Docker Desktop: what pages create is labelled and removed",
}
"""Backend name → what it is. `snippet_runner.sandbox.BACKENDS` maps the same names to the
classes (a test keeps the two in step)."""

ISOLATIONS: Mapping[str, str] = {
    "auto": "a user namespace where one can be made, else plain namespaces (said once)",
    "user-namespace": "a user namespace or nothing: fail where none can be made",
    "namespaces": "plain namespaces as real root (weaker: for machines without user namespaces)",
}
"""How the ``sandbox`` backend isolates a page (`snippet_runner.sandbox.isolation`)."""

SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""The ``PATH`` of every page shell and of the sandbox's own processes."""

SESSION_ENV: Mapping[str, str] = {
    "PATH": SANDBOX_PATH,
    "LC_ALL": "C.UTF-8",
    "LANG": "C.UTF-8",
    "TZ": "UTC",
    "COLUMNS": "80",
    "LINES": "24",
    "TERM": "xterm",
}
"""The environment every page shell starts from. Nothing is inherited from the runner: a
``DOCKER_HOST`` would point commands at the wrong daemon, and a secret would be one ``env``
away from being published on a page."""


@dataclass(frozen=True)
class RunConfig:
    """How to verify; built by `from_settings` from CLI flags or plugin options."""

    backend: str = "sandbox"
    """Where pages run: one of `BACKENDS`."""
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    """How many pages run at once, each in its own sandbox."""
    command_timeout: float = 60.0
    """Default per-command limit in seconds (a block's ``timeout`` option overrides it)."""
    page_timeout: float = 600.0
    """Limit for a whole page, in seconds."""
    cache_dir: Path = Path(".cache/snippet-runner")
    """Where fixture images, sandbox data roots and the result cache live."""
    fixtures_dir: Path | None = None
    """Directory of ``<image-name>/Dockerfile`` fixture images added by docs authors."""
    apply_safe_fixes: bool = True
    """Run commands with safe typo fixes applied (the source file is not changed)."""
    isolation: str = "auto"
    """How the sandbox is isolated: one of `ISOLATIONS`."""
    pids_limit: int = 4096
    """Processes and threads one sandbox may have at once (its containers included)."""
    memory_limit: int = 4 * 2**30
    """Bytes of memory one sandbox may use, its tmpfs files included."""
    cpu_limit: float = 1.5
    """CPUs' worth of time one sandbox may use."""
    tmpfs_size: int = 512 * 2**20
    """Bytes each of the sandbox's scratch file systems (/tmp, /root, /home, ...) may hold."""
    images_lock: Path = Path("images.lock")
    """The lock file pinning the real images pages use (see ``snippet-runner images``)."""
    image_sources: tuple[tuple[str, str], ...] = ()
    """Registry host → where its images are fetched from instead (a mirror, a registry of
    one's own; ``http://`` for one without TLS)."""
    offline: bool = False
    """Never fetch images during a run; an image missing from the store is an error at its
    command."""
    use_cache: bool = False
    """Reuse recorded results when nothing that could change them changed (the result cache
    under ``cache_dir/results``); pages that run are recorded. The plugin always uses it, the
    CLI with ``check --cache``."""
    record_results: bool = False
    """Record what ran in the result cache even when not reusing it: a page that passed is
    stored, the entry of one that failed is dropped, and the fingerprint of the run is written
    beside them, so a host that only draws (Zensical, plain Python-Markdown) shows exactly what
    was proven. ``check`` records; ``update`` does not (it rewrites the pages it ran)."""

    @classmethod
    def from_settings(cls, values: Mapping[str, Any], *, base_dir: Path | None = None,
                      origin: str = "cli", **extra: Any) -> RunConfig:
        """Validate raw ``values`` (setting name → value; a missing or None value keeps the
        default) into a config. Relative paths are taken from ``base_dir`` (the directory of
        ``mkdocs.yml`` for the plugin). ``origin`` (``cli`` or ``mkdocs``) names the source of
        a bad value in the ConfigError. ``extra`` sets fields that are not user settings
        (``use_cache``, ``record_results``)."""
        unknown = set(values) - {s.name for s in SETTINGS}
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}.")
        parsed: dict[str, Any] = {}
        for setting in SETTINGS:
            raw = values.get(setting.name)
            if raw is None and isinstance(setting.default, Path) and base_dir is not None:
                raw = setting.default  # a relative default is relative to mkdocs.yml too
            if raw is not None:
                parsed[setting.name] = setting.parse(raw, setting.where(origin), base_dir)
        return replace(cls(), **parsed, **extra)

    def result_settings(self) -> str:
        """The settings that can change a verdict, as one canonical string (a part of every
        result-cache key): where it ran, the time limits, whether fixes were applied."""
        return json.dumps({name: getattr(self, name) for name in _RESULT_FIELDS},
                          sort_keys=True)

    def digest(self) -> str:
        """A short hash of `result_settings`."""
        return hashlib.sha256(self.result_settings().encode()).hexdigest()[:16]


_RESULT_FIELDS = ("backend", "command_timeout", "page_timeout", "apply_safe_fixes")


# -- the registry ---------------------------------------------------------------------------

Parse = Callable[[Any, str, "Path | None"], Any]
"""``(raw value, where it was set, base directory) → value``; ConfigError when invalid."""


@dataclass(frozen=True)
class Setting:
    """One user setting of `RunConfig`."""

    name: str
    """The `RunConfig` field, which is also the key in ``mkdocs.yml``."""
    flag: str
    """The command-line flag (``--timeout``)."""
    help: str
    """One sentence for ``--help`` and the README; the default is added from `RunConfig`."""
    parse: Parse
    """Validates a raw value."""
    metavar: str | None = None
    """The flag's argument in ``--help``; None for a switch."""
    short: str | None = None
    """A one-letter alias (``-j``)."""
    negated: bool = False
    """The flag turns the setting off (``--no-fixes`` for ``apply_safe_fixes``)."""
    switch: bool = False
    """The flag turns the setting on, taking no value (``--offline``)."""

    @property
    def default(self) -> Any:
        """The field's default in `RunConfig`."""
        return getattr(RunConfig(), self.name)

    options: Mapping[str, str] = field(default_factory=dict)
    """The accepted values and what each means, when they are a fixed set."""
    accepts: tuple[type, ...] = (str,)
    """The YAML types ``mkdocs.yml`` may give it as (``parse`` then validates the value)."""
    repeatable: bool = False
    """The flag may be given several times (its values are collected into a list)."""

    @property
    def choices(self) -> tuple[str, ...]:
        """The accepted values, when they are a fixed set."""
        return tuple(self.options)

    def where(self, origin: str) -> str:
        """How a message names this setting: its flag, or its key in mkdocs.yml."""
        return self.flag if origin == "cli" else f"'{self.name}' of the snippet-runner plugin"


def _one_of(options: Mapping[str, str], what: str) -> Parse:
    def parse(raw: Any, where: str, base: Path | None) -> str:
        if raw not in options:
            known = "; ".join(f"{name}: {meaning}" for name, meaning in options.items())
            raise ConfigError(f"{where}: unknown {what} {raw!r}; choose one of {known}.")
        return str(raw)
    return parse


def _count(low: int) -> Parse:
    def parse(raw: Any, where: str, base: Path | None) -> int:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            value = low - 1
        if isinstance(raw, bool) or value < low or str(value) != str(raw).strip():
            raise ConfigError(f"{where} must be a whole number, at least {low}, not {raw!r}.")
        return value
    return parse


def _sources(raw: Any, where: str, base: Path | None) -> tuple[tuple[str, str], ...]:
    items = list(raw.items()) if isinstance(raw, dict) else [
        str(entry).split("=", 1) if "=" in str(entry) else (str(entry), "")
        for entry in (raw if isinstance(raw, (list, tuple)) else [raw])]
    pairs = []
    for host, source in items:
        host, source = str(host).strip(), str(source).strip()
        if not host or not source or "/" in host:
            raise ConfigError(f"{where} maps a registry host to where its images come from, "
                              f"e.g. docker.io=http://127.0.0.1:5000, not {raw!r}.")
        pairs.append((host, source))
    return tuple(pairs)


_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def _bytes(raw: Any, where: str, base: Path | None) -> int:
    text = str(raw).strip().lower().removesuffix("b").removesuffix("i")
    unit = text[-1:] if text[-1:] in _UNITS else ""
    number = text[: len(text) - len(unit)]
    try:
        value = int(float(number) * _UNITS[unit])
    except ValueError:
        value = 0
    if isinstance(raw, bool) or value < 2**20:
        raise ConfigError(f"{where} must be a size of at least 1m, such as 512m or 4g, not "
                          f"{raw!r}.")
    return value


def _jobs(raw: Any, where: str, base: Path | None) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if isinstance(raw, bool) or value < 1 or str(value) != str(raw).strip():
        raise ConfigError(f"{where} must be a whole number of pages, at least 1, not {raw!r}.")
    return value


def _positive(unit: str) -> Parse:
    def parse(raw: Any, where: str, base: Path | None) -> float:
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = math.nan
        if isinstance(raw, bool) or not (math.isfinite(value) and value > 0):
            raise ConfigError(f"{where} must be a positive number of {unit}, not {raw!r}.")
        return value
    return parse


_seconds = _positive("seconds")


def _path(raw: Any, where: str, base: Path | None) -> Path:
    if not isinstance(raw, (str, os.PathLike)) or not str(raw).strip():
        raise ConfigError(f"{where} must be a directory path, not {raw!r}.")
    path = Path(raw).expanduser()
    return path if base is None or path.is_absolute() else base / path


def _bool(raw: Any, where: str, base: Path | None) -> bool:
    if not isinstance(raw, bool):
        raise ConfigError(f"{where} must be true or false, not {raw!r}.")
    return raw


SETTINGS: tuple[Setting, ...] = (
    Setting("backend", "--backend", "where commands run: "
            + "; ".join(f"'{name}' ({what})" for name, what in BACKENDS.items()),
            _one_of(BACKENDS, "backend"), metavar="NAME", options=BACKENDS),
    Setting("jobs", "--jobs", "pages verified at once, each in its own sandbox (default: the "
            "number of CPUs)", _jobs, metavar="N", short="-j", accepts=(int,)),
    Setting("command_timeout", "--timeout", 'limit per command unless a block sets '
            'timeout="..."', _seconds, metavar="SECONDS", accepts=(int, float)),
    Setting("page_timeout", "--page-timeout", "limit for a whole page", _seconds,
            metavar="SECONDS", accepts=(int, float)),
    Setting("cache_dir", "--cache-dir", "where fixture images, sandbox data and the result "
            "cache live (the CLI and the MkDocs plugin share it)", _path, metavar="DIR"),
    Setting("fixtures_dir", "--fixtures-dir", "directory of <image-name>/Dockerfile fixture "
            "images built offline for the sandbox", _path, metavar="DIR"),
    Setting("apply_safe_fixes", "--no-fixes", "run commands exactly as written, without safe "
            "typo fixes", _bool, negated=True, accepts=(bool,)),
    Setting("isolation", "--isolation", "how the sandbox backend isolates a page: "
            + "; ".join(f"'{name}' ({what})" for name, what in ISOLATIONS.items()),
            _one_of(ISOLATIONS, "isolation"), metavar="HOW", options=ISOLATIONS),
    Setting("pids_limit", "--pids-limit", "processes and threads one sandbox may have",
            _count(64), metavar="N", accepts=(int,)),
    Setting("memory_limit", "--memory-limit", "memory one sandbox may use (e.g. 4g), its "
            "tmpfs files included", _bytes, metavar="SIZE", accepts=(str, int)),
    Setting("cpu_limit", "--cpu-limit", "CPUs' worth of time one sandbox may use",
            _positive("CPUs"), metavar="CPUS", accepts=(int, float)),
    Setting("images_lock", "--images-lock", "the lock file pinning the real images pages use",
            _path, metavar="FILE"),
    Setting("image_sources", "--image-source", "fetch a registry's images from elsewhere, "
            "e.g. docker.io=http://127.0.0.1:5000 (a mirror; may be given again)", _sources,
            metavar="HOST=URL", accepts=(dict,), repeatable=True),
    Setting("offline", "--offline", "never fetch images: one missing from the store is an "
            "error at its command", _bool, accepts=(bool,), switch=True),
    Setting("tmpfs_size", "--tmpfs-size", "size of each of the sandbox's scratch file systems "
            "(/tmp, /root, /home, ...)", _bytes, metavar="SIZE", accepts=(str, int)),
)
"""Every user setting, in the order ``--help`` lists them."""
