"""Which images a page uses: the commands that name one, read like the docker CLI reads them.

``docker run``/``create`` (and ``container run``/``create``) name an image as their first
argument after the options — which options take a value comes from the real CLI's flag table
(`docker_flags_data`); ``docker pull`` names one; a ``file=`` block written as a Dockerfile
names them in ``FROM`` lines, and one written as a compose file in ``image:`` keys. Images the
page makes itself (``docker build -t``, ``docker tag``, ``docker commit``, a build stage) are
not images to fetch. A word with a shell variable in it can't be known before running and is
left out.

References are canonical (`canonical`): ``nginx`` is ``docker.io/library/nginx:latest``, as
Docker resolves it, so the lock file names every image one way.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

import yaml

from ..model import Location, Page, Snippet
from .docker_flags_data import FLAGS
from .fixes import applied_fixes, fixed_command_text

DEFAULT_REGISTRY = "docker.io"
"""Where an image without a registry host comes from."""

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    rf"(?:(?P<host>[a-zA-Z0-9.-]+(?::\d+)?|localhost)/)?"
    rf"(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
)
_OPERATORS = {"&&", "||", ";", "|", "&", "(", ")", "|&", ";;"}
_DOCKERFILE = re.compile(r"(?:^|[./])(?:Dockerfile|Containerfile)(?:\..*)?$|\.dockerfile$",
                         re.IGNORECASE)
_COMPOSE = re.compile(r"(?:^|/)(?:docker-)?compose(?:\.[\w-]+)?\.ya?ml$")
_FROM = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", re.IGNORECASE)


@dataclass(frozen=True)
class ImageUse:
    """One image a page names."""

    ref: str
    """Canonical reference: ``registry/repository:tag`` (or ``@sha256:…``)."""
    written: str
    """As the page writes it (``nginx:1.25``)."""
    location: Location
    """The command or ``file=`` block that names it."""
    pulled: bool
    """Named by ``docker pull`` (the page shows it being fetched)."""


def canonical(image: str) -> str | None:
    """Docker's full name for ``image``, or None when it is not an image reference."""
    match = _REFERENCE.fullmatch(image)
    if match is None:
        return None
    host, path, tag, digest = match["host"], match["path"], match["tag"], match["digest"]
    if host is not None and not ("." in host or ":" in host or host == "localhost"):
        path, host = f"{host}/{path}", None  # `nicolaka/netshoot`: a Docker Hub namespace
    if host is not None and host.lower() != host:
        return None
    host = host or DEFAULT_REGISTRY
    if host == DEFAULT_REGISTRY and "/" not in path:
        path = f"library/{path}"
    if digest is not None:
        return f"{host}/{path}@{digest}"
    return f"{host}/{path}:{tag or 'latest'}"


def familiar(ref: str) -> str:
    """The short name Docker prints for a canonical reference (``nginx:1.25``)."""
    name = ref.removeprefix(f"{DEFAULT_REGISTRY}/")
    return name.removeprefix("library/") if name.startswith("library/") else name


def page_images(page: Page, *, apply_fixes: bool = True) -> list[ImageUse]:
    """Every image ``page`` uses, in page order (one entry per use), minus what it makes."""
    uses: list[ImageUse] = []
    made: set[str] = set()
    for snippet in page.snippets:
        if snippet.options.skip is not None:
            continue
        if snippet.options.file is not None:
            uses.extend(_file_images(snippet, made))
            continue
        for command in snippet.commands:
            text = fixed_command_text(page.text, command,
                                      applied_fixes(page.fixes, command, apply=apply_fixes))
            uses.extend(_command_images(text, command.location, made))
        if snippet.script is not None:
            uses.extend(_command_images(snippet.script, snippet.location, made))
    return [u for u in uses if u.ref not in made]


def images_to_preload(uses: list[ImageUse]) -> list[str]:
    """The images a page finds already there when it starts: all it uses, but those it first
    names in ``docker pull`` — the page shows them being fetched, as its author did."""
    first: dict[str, bool] = {}
    for use in uses:
        first.setdefault(use.ref, use.pulled)
    return [ref for ref, pulled in first.items() if not pulled]


def _words(text: str) -> list[list[str]]:
    """The simple commands of a shell text, each as its words (operators split them)."""
    lexer = shlex.shlex(text.replace("\\\n", " "), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        tokens = list(lexer)
    except ValueError:  # an unbalanced quote: the shell would refuse it too
        return []
    commands: list[list[str]] = [[]]
    for token in tokens:
        if token in _OPERATORS or set(token) <= set("&|;()<>"):
            commands.append([])
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def _command_images(text: str, where: Location, made: set[str]) -> Iterator[ImageUse]:
    for words in _words(text):
        while words and "=" in words[0] and not words[0].startswith("-"):
            words = words[1:]  # VAR=value docker ...
        if words[:1] == ["sudo"]:
            words = words[1:]
        if not words or PurePosixPath(words[0]).name != "docker":
            continue
        yield from _docker_images(words[1:], where, made)


_ALIASES = {"tag": "image tag"}
"""Short forms the flag table lists under their long name."""


def _subcommand(args: list[str]) -> tuple[str, list[str]]:
    """The flag-table key of ``docker ARGS`` and the words after it."""
    if args and args[0] in _ALIASES:
        return _ALIASES[args[0]], args[1:]
    for size in (2, 1):
        key = " ".join(args[:size])
        if len(args) >= size and key in FLAGS:
            return key, args[size:]
    return "", args


def _positionals(args: list[str], table: dict[str, dict[str, bool]]) -> list[str]:
    """The arguments after the options (which options take a value: the CLI's table)."""
    i = 0
    while i < len(args):
        word = args[i]
        if word == "--":
            return args[i + 1:]
        if not word.startswith("-") or word == "-":
            return args[i:]
        if word.startswith("--"):
            name = word[2:].split("=", 1)[0]
            i += 2 if "=" not in word and table["long"].get(name, False) else 1
            continue
        cluster = word[1:]
        takes = next((k for k, c in enumerate(cluster) if table["short"].get(c, False)), None)
        i += 2 if takes is not None and takes == len(cluster) - 1 else 1
    return []


def _option_values(args: list[str], names: set[str]) -> Iterator[str]:
    for i, word in enumerate(args):
        for name in names:
            if word == name and i + 1 < len(args):
                yield args[i + 1]
            elif word.startswith(f"{name}=") and name.startswith("--"):
                yield word.split("=", 1)[1]


def _docker_images(args: list[str], where: Location, made: set[str]) -> Iterator[ImageUse]:
    key, rest = _subcommand(args)
    verb = key.split()[-1] if key else ""
    if verb in ("build",) and key in ("build", "image build", "builder build"):
        made.update(r for v in _option_values(rest, {"-t", "--tag"}) if (r := canonical(v)))
        return
    if verb in ("tag", "commit"):
        names = _positionals(rest, FLAGS[key])
        if len(names) >= 2 and (ref := canonical(names[-1])):
            made.add(ref)
        if verb == "tag" and names and (source := canonical(names[0])):
            yield ImageUse(source, names[0], where, pulled=False)  # it must be there
        return
    if verb not in ("run", "create", "pull"):
        return
    names = _positionals(rest, FLAGS[key])
    if not names or "$" in names[0] or "`" in names[0]:
        return
    ref = canonical(names[0])
    if ref is not None:
        yield ImageUse(ref, names[0], where, pulled=verb == "pull")


def _file_images(snippet: Snippet, made: set[str]) -> Iterator[ImageUse]:
    path = snippet.options.file or ""
    if _DOCKERFILE.search(path):
        stages: set[str] = set()
        for line in snippet.body.splitlines():
            found = _FROM.match(line)
            if found is None:
                continue
            image, stage = found[1], found[2]
            if stage:
                stages.add(stage.lower())
            if image.lower() in stages or image == "scratch" or "$" in image:
                continue
            if (ref := canonical(image)) is not None:
                yield ImageUse(ref, image, snippet.location, pulled=False)
    elif _COMPOSE.search(path):
        try:
            data = yaml.safe_load(snippet.body)
        except yaml.YAMLError:
            return
        services = data.get("services") if isinstance(data, dict) else None
        for service in services.values() if isinstance(services, dict) else ():
            image = service.get("image") if isinstance(service, dict) else None
            if isinstance(image, str) and "$" not in image and (ref := canonical(image)):
                yield ImageUse(ref, image, snippet.location, pulled=False)
