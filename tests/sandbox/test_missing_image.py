"""The missing-image message: what the daemon printed → one sentence naming a recipe that
really provides the image (a pin in the lock, a fixture with the page's tag)."""

from __future__ import annotations

from pathlib import Path

import pytest

from snippet_runner.errors import MissingImageError, SandboxError
from snippet_runner.sandbox.missing_image import ImageHints, check_missing_image, familiar


def test_missing_image_is_a_sandbox_error() -> None:
    assert issubclass(MissingImageError, SandboxError)


def _message(image: str, output: str | None = None, hints: ImageHints | None = None) -> str:
    with pytest.raises(MissingImageError) as caught:
        check_missing_image(f"docker run --rm {image} true",
                            output or f"Unable to find image '{image}' locally\n", hints)
    return str(caught.value)


@pytest.mark.parametrize(("image", "directory", "tags_line"), [
    ("nosuchimage:1", "docs/_fixtures/nosuchimage/", "a line '1' in its 'tags' file"),
    ("nosuchimage", "docs/_fixtures/nosuchimage/", None),
    ("nicolaka/netshoot:v0.11", "docs/_fixtures/nicolaka/netshoot/", "a line 'v0.11'"),
    ("ghcr.io/acme/app:2", "docs/_fixtures/ghcr.io/acme/app/", "a line '2'"),
])
def test_the_recipe_provides_exactly_the_image_the_page_names(image: str, directory: str,
                                                              tags_line: str | None) -> None:
    message = _message(image)
    assert f"needs the image {image}" in message
    assert "`snippet-runner images lock`" in message  # the real image, pinned
    assert directory in message  # or a fixture of that name ...
    assert (tags_line in message) if tags_line else "'tags' file" not in message  # ... and tag


def test_a_pinned_image_the_store_lacks_names_the_fetch() -> None:
    hints = ImageHints(lock=Path("site/images.lock"), pinned=frozenset({"nginx:1.25"}))
    message = _message("nginx:1.25", hints=hints)
    assert "images.lock pins it" in message and "`snippet-runner images fetch`" in message


def test_the_mirrors_fallback_is_recognised_too() -> None:
    output = ('Error response from daemon: Get "https://registry-1.docker.io/v2/": proxyconnect '
              "tcp: dial tcp 127.0.0.1:9: connect: connection refused\n")
    with pytest.raises(MissingImageError, match="needs the image redis:7"):
        check_missing_image("docker pull redis:7", output)


@pytest.mark.parametrize(("ref", "short"), [
    ("docker.io/library/nginx:1.25", "nginx:1.25"), ("nginx", "nginx:latest"),
    ("docker.io/nicolaka/netshoot", "nicolaka/netshoot:latest")])
def test_familiar_names(ref: str, short: str) -> None:
    assert familiar(ref) == short
