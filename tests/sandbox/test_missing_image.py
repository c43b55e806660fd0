"""The missing-image message: what the daemon printed → one sentence naming a recipe."""

from __future__ import annotations

import pytest

from snippet_runner.errors import MissingImageError, SandboxError
from snippet_runner.sandbox.missing_image import check_missing_image


def test_missing_image_is_a_sandbox_error() -> None:
    assert issubclass(MissingImageError, SandboxError)


@pytest.mark.parametrize(("image", "retag"), [("nosuchimage:1", True),
                                               ("nosuchimage", False),
                                               ("registry:5000/team/nosuchimage:latest", False)])
def test_fixture_hint_never_claims_a_fixture_provides_another_tag(image: str,
                                                                   retag: bool) -> None:
    with pytest.raises(MissingImageError) as caught:
        check_missing_image(f"docker run --rm {image} true",
                             f"Unable to find image '{image}' locally\n")
    message = str(caught.value)
    assert "docs/_fixtures/nosuchimage/Dockerfile" in message
    assert "always tagged :latest" in message
    assert "built offline as nosuchimage:latest" in message
    said = "change the page to use nosuchimage:latest" in message
    assert said is retag, message
