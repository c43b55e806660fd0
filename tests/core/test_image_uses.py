"""Which images a page uses, read from its commands as the docker CLI reads them."""

from __future__ import annotations

import pytest
from factory import page

from snippet_runner.core.images import canonical, familiar, images_to_preload, page_images


@pytest.mark.parametrize(("written", "ref", "short"), [
    ("nginx", "docker.io/library/nginx:latest", "nginx:latest"),
    ("nginx:1.25", "docker.io/library/nginx:1.25", "nginx:1.25"),
    ("library/nginx:1.25", "docker.io/library/nginx:1.25", "nginx:1.25"),
    ("nicolaka/netshoot", "docker.io/nicolaka/netshoot:latest", "nicolaka/netshoot:latest"),
    ("ghcr.io/foo/bar:1", "ghcr.io/foo/bar:1", "ghcr.io/foo/bar:1"),
    ("localhost:5000/app", "localhost:5000/app:latest", "localhost:5000/app:latest"),
    ("alpine@sha256:" + "a" * 64, "docker.io/library/alpine@sha256:" + "a" * 64,
     "alpine@sha256:" + "a" * 64),
])
def test_references_are_canonical(written: str, ref: str, short: str) -> None:
    assert canonical(written) == ref
    assert familiar(ref) == short


@pytest.mark.parametrize("word", ["Nginx", "-d", "nginx:", "a b", ""])
def test_what_is_not_a_reference(word: str) -> None:
    assert canonical(word) is None


TEXT = """\
```console
$ docker run -d --name web -p 8080:80 -e A=b --network=x nginx:1.25 nginx -g 'daemon off;'
$ docker pull alpine && docker run --rm alpine echo hi
hi
$ docker container run -it --rm -v "$PWD:/w" -w /w busybox sh
$ FOO=1 docker create --restart=always redis:7 >/dev/null
$ docker run --rm $IMAGE true; docker build -t myapp . && docker run --rm myapp
$ docker tag nginx:1.25 mine:v1; docker run --rm mine:v1 true
$ docker ps -a
```

```bash skip="not run"
$ docker run --rm skipped:1
```

```dockerfile file="/src/Dockerfile"
FROM golang:1.22 AS build
FROM build AS test
FROM --platform=linux/amd64 debian:12-slim
FROM scratch
```

```yaml file="/src/compose.yaml"
services:
  web: {image: "nginx:1.26"}
  db: {image: postgres:16, environment: {X: "1"}}
  app: {build: .}
```
"""


def test_every_image_a_page_names_and_none_it_makes() -> None:
    uses = page_images(page(TEXT))
    assert [u.written for u in uses] == ["nginx:1.25", "alpine", "alpine", "busybox", "redis:7",
                                         "nginx:1.25", "golang:1.22", "debian:12-slim",
                                         "nginx:1.26", "postgres:16"]
    assert [u.location.line for u in uses[:5]] == [2, 3, 3, 5, 6]
    assert uses[1].pulled and not uses[2].pulled


def test_what_is_already_there_when_the_page_starts() -> None:
    text = ("```console\n$ docker run --rm busybox true\n$ docker pull alpine\n"
            "$ docker run --rm alpine true\n$ docker pull busybox\n```\n")
    assert images_to_preload(page_images(page(text))) == ["docker.io/library/busybox:latest"]
