"""The ``external`` backend: pages run on this machine against a Docker daemon of the user's
(Docker Desktop, a local dockerd, a remote one), found as the docker CLI finds it
(`docker_endpoint`: ``DOCKER_HOST``, else the current docker context).

What it isolates, and what it can't:

* everything a page creates on the daemon is labelled with its sandbox's id (a
  `docker_proxy.LabellingProxy` sits between the page's ``docker`` and the daemon) and exactly
  that is removed after the page — between pages, at the end of the run, on Ctrl-C and SIGTERM;
  what a run killed with SIGKILL left is removed by the next run (by label, and from the
  ledger each sandbox keeps under ``<cache_dir>/external/``);
* a page may not remove, or act on, containers and other objects it did not create;
* each page gets a temporary ``$HOME`` (no docker credentials, no contexts of the user's);
* nothing else: ports a page publishes bind on the daemon's host — this machine, or Docker
  Desktop's VM, which forwards them here — and bind mounts reach that host's files
  (``-v /:/host`` is the user's disk). Commands run as the user. This is said once per run.

Fixture images (``test:latest`` and those of ``fixtures_dir``) are built on the daemon once,
labelled ``io.snippet-runner.fixture=<key>``, and kept for later runs (an image of the same name
that is not snippet-runner's is left alone and used as it is). Pages run one at a time: they
share the daemon's container names and the host's ports.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import shutil
import socket
import tarfile
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from ..config import RunConfig
from ..errors import SandboxError
from ..model import Sandbox
from .boundary import mapped_errors
from .docker_endpoint import Endpoint, call, call_json, resolve
from .docker_proxy import FIXTURE_LABEL, LABEL, LabellingProxy, Ledger, normalise_ref
from .fixtures import Fixture, context_files, fixtures_for, fixtures_key
from .local import LocalSandbox, warn
from .procfs import alive, start_time
from .session import PtySession

TEMP_PREFIX = "snippet-runner-external-"
"""Prefix of each sandbox's private directory (the proxy's socket), then ``<pid>-``."""


def limits_warning(endpoint: Endpoint) -> str:
    """What the external backend does not isolate (printed once per run, and in the guide)."""
    return (
        f"the 'external' backend runs the pages on this machine, against the Docker daemon at "
        f"{endpoint.host} (from {endpoint.origin}). What a page creates there (containers, "
        f"networks, volumes, images, tags) is labelled {LABEL} and removed after the page, and "
        "a page may not remove or act on what it did not create; nothing else is isolated: "
        "ports a page publishes (-p 8080:80) bind on this machine, a bind mount (-v /:/host) "
        "reaches its files, and the commands run as you. Verify only docs you would run "
        "yourself."
    )


class ExternalBackend:
    """Sandboxes on the user's daemon: a labelling proxy and a temporary home per page."""

    name = "external"
    max_parallel = 1
    """Pages share the daemon's container names and the host's ports: one at a time."""

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self.endpoint = resolve()
        self.version = _engine_version(self.endpoint)
        self.ledgers = config.cache_dir.resolve() / "external"
        sweep_external(self.endpoint, self.ledgers)
        ensure_fixtures_on(self.endpoint, fixtures_for(config))
        warn(limits_warning(self.endpoint))

    def start(self) -> Sandbox:
        with mapped_errors("prepare a page for the Docker daemon"):
            return ExternalSandbox(self)


def _engine_version(endpoint: Endpoint) -> str:
    """``docker <version>`` of the daemon; the first call, so its errors are the one-sentence
    'could not reach' ones."""
    status, info = call_json(endpoint, "GET", "/version")
    if status != 200 or not isinstance(info, dict) or "Version" not in info:
        raise SandboxError(f"{endpoint.host} (from {endpoint.origin}) answered /version with "
                           f"status {status}: it does not look like a Docker daemon.")
    return f"docker {info['Version']}"


class ExternalSandbox(LocalSandbox):
    """`LocalSandbox` (a temporary home) whose shells reach the daemon through a labelling
    proxy; `reset` and `close` remove exactly what the page created."""

    def __init__(self, backend: ExternalBackend) -> None:
        super().__init__()
        self._endpoint = backend.endpoint
        self._version = backend.version
        self.label = f"{socket.gethostname()}/{os.getpid()}/{start_time(os.getpid())}/" \
                     f"{secrets.token_hex(4)}"
        self.ledger = Ledger()
        backend.ledgers.mkdir(parents=True, exist_ok=True)
        self._ledger_file = backend.ledgers / f"{os.getpid()}-{secrets.token_hex(4)}.json"
        self._private = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-"))
        self._closed = False
        try:
            self.proxy = LabellingProxy(self._endpoint, self.label, self._private, self.ledger,
                                        on_change=self._save_ledger)
        except OSError as err:
            shutil.rmtree(self._private, ignore_errors=True)
            super().close()
            raise SandboxError(f"could not start the Docker proxy for the page: {err}") from err
        self._save_ledger()

    @property
    def engine_version(self) -> str:
        return self._version

    def open_session(self) -> PtySession:
        if self._closed:
            raise SandboxError("this external sandbox was closed")
        session = PtySession(env={
            "HOME": str(self.root / "home"), "SNIPPET_ROOT": str(self.root),
            "DOCKER_HOST": self.proxy.host,
        }, on_timeout=self._kill_containers_since)
        self._sessions.append(session)
        return session

    def _kill_containers_since(self, started: float) -> None:
        """A timed-out command's containers: the page's running ones created since it began."""
        with contextlib.suppress(SandboxError):
            for container in _listed(self._endpoint, "/containers/json", self.label):
                if container.get("Created", 0) >= started - 1.0:
                    call(self._endpoint, "POST", f"/containers/{container['Id']}/kill")

    def _save_ledger(self) -> None:
        data = {"label": self.label, "ledger": self.ledger.to_json()}
        with contextlib.suppress(OSError):
            tmp = self._ledger_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(data))
            tmp.replace(self._ledger_file)

    def reset(self) -> None:
        super().reset()
        self.proxy.forget_page()
        remove_sandbox_objects(self._endpoint, self.label, self.ledger)
        self.ledger = Ledger()
        self.proxy.ledger = self.ledger
        self._save_ledger()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._close_sessions()
        self.proxy.close()
        try:
            remove_sandbox_objects(self._endpoint, self.label, self.ledger)
            self._ledger_file.unlink(missing_ok=True)
        except SandboxError as err:  # close must not fail; the next run's sweep finishes it
            warn(f"could not remove what a page created on the Docker daemon ({err}); the next "
                 "run with the external backend removes it.")
        finally:
            shutil.rmtree(self._private, ignore_errors=True)
            super().close()


# -- removing what a page created -------------------------------------------------------------


def _filters(label: str | None) -> str:
    value = LABEL if label is None else f"{LABEL}={label}"
    return urlencode({"filters": json.dumps({"label": {value: True}})})


def _listed(endpoint: Endpoint, path: str, label: str | None, *, all_: bool = False
            ) -> list[dict[str, Any]]:
    """The objects of one kind that carry the sandbox's label (any sandbox's, for None)."""
    query = _filters(label) + ("&all=1" if all_ else "")
    status, found = call_json(endpoint, "GET", f"{path}?{query}")
    if status != 200:
        raise SandboxError(f"could not list {path} on {endpoint.host}: status {status}")
    if isinstance(found, dict):  # /volumes answers {"Volumes": [...]}
        found = found.get("Volumes")
    return [item for item in found or [] if isinstance(item, dict)]


def _remove(endpoint: Endpoint, path: str) -> bool:
    """DELETE ``path``; True if it was removed (gone already, or in use by someone: False)."""
    status, _ = call(endpoint, "DELETE", path)
    return status in (200, 204)


def remove_sandbox_objects(endpoint: Endpoint, label: str, ledger: Ledger) -> int:
    """Remove what the sandbox ``label`` created (labelled, or in its ``ledger``) and point the
    image references it moved back where they were; returns how many objects were removed."""
    removed = 0
    for container in _listed(endpoint, "/containers/json", label, all_=True):
        removed += _remove(endpoint, f"/containers/{container['Id']}?force=1&v=1")
    for network in _listed(endpoint, "/networks", label):
        removed += _remove(endpoint, f"/networks/{network['Id']}")
    suspects = _restore_refs(endpoint, ledger)
    labelled = sorted(_listed(endpoint, "/images/json", label, all_=True),
                      key=lambda i: i.get("Created", 0), reverse=True)
    for image in labelled:
        removed += _remove(endpoint, f"/images/{image['Id']}?force=1")
    for image_id in sorted(ledger.images | suspects):
        removed += _remove(endpoint, f"/images/{image_id}")
    volumes = {str(v["Name"]) for v in _listed(endpoint, "/volumes", label)} | ledger.volumes
    for volume in sorted(volumes):
        removed += _remove(endpoint, f"/volumes/{quote(volume, safe='')}?force=1")
    return removed


def _image_id(endpoint: Endpoint, ref: str) -> str | None:
    status, info = call_json(endpoint, "GET", f"/images/{quote(ref, safe='/:@')}/json")
    return str(info["Id"]) if status == 200 and isinstance(info, dict) else None


def _restore_refs(endpoint: Endpoint, ledger: Ledger) -> set[str]:
    """Give every reference the page moved its old image back (or remove a new one); returns
    the unlabelled images the page brought that this leaves without a name."""
    refs = dict(ledger.refs)
    suspects: set[str] = set()
    if ledger.buildkit_since is not None:  # BuildKit: no label; what appeared meanwhile
        status, images = call_json(endpoint, "GET", "/images/json?all=1")
        for image in images if status == 200 and isinstance(images, list) else []:
            if (image.get("Created", 0) >= ledger.buildkit_since - 1
                    and image["Id"] not in ledger.images_before_buildkit):
                suspects.add(str(image["Id"]))
                for tag in image.get("RepoTags") or []:
                    if tag != "<none>:<none>":
                        refs.setdefault(tag, ledger.tags_before_buildkit.get(tag))
    for ref, before in refs.items():
        now = _image_id(endpoint, ref)
        if now == before:
            continue
        if now is not None:
            suspects.add(now)
        if before is not None and _image_id(endpoint, before) is not None:
            repo, _, tag = normalise_ref(ref).rpartition(":")
            call(endpoint, "POST", f"/images/{before}/tag?{urlencode({'repo': repo, 'tag': tag})}")
        elif now is not None:
            _remove(endpoint, f"/images/{quote(ref, safe='/:@')}")
    return suspects


def sweep_external(endpoint: Endpoint, ledgers: Path) -> int:
    """Remove what sandboxes of dead runs on this machine left on the daemon (a SIGKILL): from
    their ledger files, then whatever still carries a label of theirs."""
    removed = 0
    for record in sorted(ledgers.glob("*.json")) if ledgers.is_dir() else []:
        try:
            data = json.loads(record.read_text())
            label = str(data["label"])
        except (OSError, ValueError, KeyError, TypeError):
            record.unlink(missing_ok=True)
            continue
        if _dead(label):
            removed += remove_sandbox_objects(endpoint, label, Ledger.from_json(data["ledger"]))
            record.unlink(missing_ok=True)
    labels: set[str] = set()
    for path in ("/containers/json", "/networks", "/images/json", "/volumes"):
        for item in _listed(endpoint, path, None, all_=path != "/networks"):
            found = item.get("Labels") or {}
            labels.add(str(found.get(LABEL, "")))
    for label in sorted(label for label in labels if label and _dead(label)):
        removed += remove_sandbox_objects(endpoint, label, Ledger())
    for stale in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*-*"):
        owner = stale.name[len(TEMP_PREFIX):].split("-", 1)[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            shutil.rmtree(stale, ignore_errors=True)
    return removed


def _dead(label: str) -> bool:
    """Whether the run that owns ``label`` (``host/pid/start/hex``) ran here and is gone."""
    parts = label.split("/")
    if len(parts) != 4 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    start = int(parts[2]) if parts[2].isdigit() else None
    return not alive(int(parts[1]), start)


# -- fixture images on the daemon -------------------------------------------------------------


def ensure_fixtures_on(endpoint: Endpoint, fixtures: list[Fixture]) -> None:
    """Build each fixture image on the daemon unless it holds the current one (same key);
    an image of that name which is not snippet-runner's is the user's: used, never replaced."""
    key = fixtures_key(fixtures)
    for fixture in fixtures:
        status, info = call_json(endpoint, "GET",
                                 f"/images/{quote(fixture.tag, safe='/:')}/json")
        labels = ((info or {}).get("Config") or {}).get("Labels") or {} if status == 200 else {}
        if status == 200 and labels.get(FIXTURE_LABEL) == key:
            continue
        if status == 200 and FIXTURE_LABEL not in labels:
            warn(f"the Docker daemon already has an image {fixture.tag} that snippet-runner "
                 "did not build; pages use it as it is (remove it to get the fixture).")
            continue
        _build_fixture(endpoint, fixture, key, old=str(info["Id"]) if status == 200 else None)


def _build_fixture(endpoint: Endpoint, fixture: Fixture, key: str, old: str | None) -> None:
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, path in context_files(fixture):
            tar.add(path, arcname=name)
        end = tar.offset + 2 * tarfile.BLOCKSIZE
    # Without tarfile's padding to a whole record: the daemon stops reading at the two zero
    # blocks that end an archive, and closing on unread bytes resets the connection.
    query = urlencode([*(("t", ref) for ref in fixture.refs),  # every tag of its tags file
                       ("labels", json.dumps({FIXTURE_LABEL: key})),
                       ("rm", "1"), ("forcerm", "1"), ("pull", "0")])
    status, body = call(endpoint, "POST", f"/build?{query}", data=context.getvalue()[:end],
                        content_type="application/x-tar")
    failure = _build_error(body) if status == 200 else body.decode(errors="replace")
    if failure:
        raise SandboxError(f"building fixture image {fixture.tag} from "
                           f"{fixture.context / 'Dockerfile'} on {endpoint.host} failed: "
                           f"{failure.strip()}")
    if old is not None:  # the previous fixture, now without a name
        _remove(endpoint, f"/images/{old}")


def _build_error(stream: bytes) -> str:
    """The error a build's progress stream ends with, '' when it succeeded."""
    decoder = json.JSONDecoder()
    text, pos, error = stream.decode("utf-8", errors="replace"), 0, ""
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        try:
            item, pos = decoder.raw_decode(text, pos)
        except ValueError:
            break
        if isinstance(item, dict) and item.get("error"):
            error = str(item["error"])
    return error
