"""Real images (issue #12), against a real registry on 127.0.0.1 playing Docker Hub: lock →
fetch (skopeo) → the sandbox's own read-only registry as dockerd's mirror → ``docker pull`` and
``docker run`` in a page. No test reaches outside this machine."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry import PASSWORD, Upstream, upstream

from snippet_runner.api import (
    fetch_images,
    lock_images,
    page_from_text,
    update_images,
    verify_pages,
)
from snippet_runner.config import RunConfig
from snippet_runner.errors import SandboxError
from snippet_runner.model import Status
from snippet_runner.sandbox.lock import read_lock
from snippet_runner.sandbox.store import blob_path

PAGE = """\
# Real images

```console
$ docker pull nginx:1.25
1.25: Pulling from library/nginx
<ID>: Pull complete
<ID>: Pull complete
Digest: {digest}
Status: Downloaded newer image for nginx:1.25
docker.io/library/nginx:1.25
$ docker run --rm nginx:1.25 cat /www/index.html
nginx 1.25
$ docker run --rm alpine cat /etc/image-release
NAME=alpine
VERSION=3.20
ARCH=amd64
$ docker run --rm nicolaka/netshoot cat /www/index.html
netshoot 0.13
```
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    with upstream(tmp_path_factory.mktemp("hub")) as registry:
        registry.push("library/nginx", "1.25", "nginx", "1.25")
        registry.push("library/alpine", "latest", "alpine", "3.20")
        registry.push("nicolaka/netshoot", "latest", "netshoot", "0.13", multi=False)
        yield registry


@pytest.fixture
def site(tmp_path: Path, hub: Upstream, cache_dir: Path,
         monkeypatch: pytest.MonkeyPatch) -> RunConfig:
    """A site whose images come from ``hub``, credentials from the user's docker config."""
    (tmp_path / "docker").mkdir()
    shutil.copy(hub.authfile, tmp_path / "docker" / "config.json")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    shutil.copytree(cache_dir / "fixtures", tmp_path / "cache" / "fixtures")  # built once
    return RunConfig(cache_dir=tmp_path / "cache", images_lock=tmp_path / "images.lock",
                     image_sources=(("docker.io", f"http://{hub.address}"),), jobs=1)


def _page(hub: Upstream, config: RunConfig) -> object:
    pins = read_lock(config.images_lock)
    digest = pins["docker.io/library/nginx:1.25"].digest if pins else "sha256:<DIGEST>"
    return page_from_text(PAGE.format(digest=digest), "docs/real.md")


def test_lock_fetch_and_pull_in_a_page(site: RunConfig, hub: Upstream) -> None:
    page = page_from_text(PAGE.format(digest="x"), "docs/real.md")
    report = lock_images([page], site)
    assert {p.ref for p in report.added} == {"docker.io/library/nginx:1.25",
                                              "docker.io/library/alpine:latest",
                                              "docker.io/nicolaka/netshoot:latest"}
    pins = read_lock(site.images_lock)
    assert set(pins["docker.io/library/nginx:1.25"].platforms) == {"linux/amd64",
                                                                   "linux/arm64/v8"}
    assert pins["docker.io/nicolaka/netshoot:latest"].platforms == {}
    assert "# Images the pages use, pinned by digest" in site.images_lock.read_text()
    [result] = verify_pages([_page(hub, site)], site)  # type: ignore[list-item]
    assert result.ok, [o.diff for o in result.outcomes]
    pulled = result.outcomes[0].result
    assert pulled is not None  # the layer lines a terminal shows (redrawn in place by docker)
    assert pulled.output.count(": Pull complete") + pulled.output.count(": Already exists") == 2
    # alpine was there before the page started, as on its author's machine: no pull shown.
    assert result.outcomes[2].result is not None
    assert "Unable to find image" not in result.outcomes[2].result.output
    # A second run fetches nothing.
    again = fetch_images(site)
    assert again.fetched == () and len(again.present) == 3


def test_a_moved_tag_is_never_followed_silently(site: RunConfig, hub: Upstream) -> None:
    page = page_from_text(PAGE.format(digest="x"), "docs/real.md")
    lock_images([page], site)
    pinned = read_lock(site.images_lock)["docker.io/library/nginx:1.25"].digest
    newer = hub.push("library/nginx", "1.25", "nginx", "1.25.4")
    try:
        check = lock_images([page], site, check=True)
        assert [(old.digest, new.digest) for old, new in check.moved] == [(pinned, newer)]
        assert not check.clean
        [result] = verify_pages([_page(hub, site)], site)  # type: ignore[list-item]
        assert result.ok, [o.diff for o in result.outcomes]  # still the pinned image
        update_images(site, ["nginx:1.25"])
        assert read_lock(site.images_lock)["docker.io/library/nginx:1.25"].digest == newer
    finally:
        hub.push("library/nginx", "1.25", "nginx", "1.25")


def test_an_image_the_lock_lacks_is_an_error_at_its_command(site: RunConfig, hub: Upstream
                                                            ) -> None:
    page = page_from_text("```console\n$ docker run --rm alpine true\n$ docker run --rm redis:7 "
                          "true\n$ echo after\nafter\n```\n", "docs/miss.md")
    lock_images([page_from_text("```console\n$ docker run --rm alpine true\n```\n")], site)
    check = lock_images([page], site, check=True)
    assert [p.ref for p in check.added] == ["docker.io/library/redis:7"] and not check.clean
    [result] = verify_pages([page], site)
    assert [o.status for o in result.outcomes] == [Status.PASSED, Status.ERROR, Status.PASSED]
    message = result.outcomes[1].diff
    assert "redis:7" in message and "`snippet-runner images lock`" in message


def test_wrong_credentials_are_one_sentence_and_never_printed(site: RunConfig, hub: Upstream,
                                                              tmp_path: Path) -> None:
    bad = json.loads(hub.authfile.read_text())
    for entry in bad["auths"].values():
        entry["auth"] = "ZG9jcy1ib3Q6d3Jvbmc="  # docs-bot:wrong
    (tmp_path / "docker" / "config.json").write_text(json.dumps(bad))
    page = page_from_text("```console\n$ docker run --rm alpine true\n```\n")
    with pytest.raises(SandboxError) as caught:
        lock_images([page], site)
    message = str(caught.value)
    assert "unauthorized: authentication required" in message
    assert PASSWORD not in message and "d3Jvbmc" not in message and "\n" not in message


def test_a_damaged_blob_is_caught_by_its_digest_and_fetched_again(site: RunConfig,
                                                                   hub: Upstream) -> None:
    page = page_from_text("```console\n$ docker run --rm alpine cat /www/index.html\n"
                          "alpine 3.20\n```\n", "docs/a.md")
    lock_images([page], site)
    fetch_images(site)
    pin = read_lock(site.images_lock)["docker.io/library/alpine:latest"]
    store = site.cache_dir.resolve() / "images"
    manifest = json.loads(blob_path(store, pin.platforms["linux/amd64"]).read_bytes())
    top = blob_path(store, manifest["layers"][-1]["digest"])
    damaged = bytearray(top.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    top.write_bytes(bytes(damaged))
    assert fetch_images(site).fetched == ("docker.io/library/alpine:latest",)
    [result] = verify_pages([page], site)
    assert result.ok, [o.diff for o in result.outcomes]


def test_offline_a_missing_image_names_the_fetch(site: RunConfig, hub: Upstream) -> None:
    page = page_from_text("```console\n$ docker run --rm alpine true\n```\n", "docs/o.md")
    lock_images([page], site)
    offline = RunConfig(**{**site.__dict__, "offline": True})
    with pytest.raises(SandboxError, match="snippet-runner images fetch"):
        fetch_images(offline)
    [result] = verify_pages([page], offline)
    assert result.outcomes[0].status is Status.ERROR
    assert "`snippet-runner images fetch`" in result.outcomes[0].diff
