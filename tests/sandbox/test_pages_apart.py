"""Pages don't see each other (issue #10): a page's verdict is the same alone, after another
page in the same sandbox, and with one or two workers — Docker's network addresses included."""

from __future__ import annotations

from pathlib import Path

from snippet_runner.api import page_from_text, verify_pages
from snippet_runner.config import RunConfig
from snippet_runner.model import PageReport

NETWORKS = """\
```console
$ docker network create {name} >/dev/null
$ docker network inspect {name} --format '{{{{(index .IPAM.Config 0).Subnet}}}}'
172.18.0.0/16
$ docker run --rm --net {name} test:latest ip -o -4 addr show eth0 | awk '{{print $4}}'
172.18.0.2/16
$ docker run -d --name {name}-c test:latest sleep 100 >/dev/null; echo $((1 + 1))
2
```
"""


def _outputs(report: PageReport) -> list[tuple[str, str]]:
    return [(o.status.value, o.result.output if o.result else "") for o in report.outcomes]


def test_a_page_alone_after_another_and_with_two_workers(cache_dir: Path) -> None:
    first = page_from_text(NETWORKS.format(name="one"), "docs/one.md")
    second = page_from_text(NETWORKS.format(name="two"), "docs/two.md")
    alone = verify_pages([second], RunConfig(cache_dir=cache_dir, jobs=1))
    after = verify_pages([first, second], RunConfig(cache_dir=cache_dir, jobs=1))
    parallel = verify_pages([first, second, first, second],
                            RunConfig(cache_dir=cache_dir, jobs=2))
    assert alone[0].ok, [o.diff for o in alone[0].outcomes]
    expected = _outputs(alone[0])
    assert _outputs(after[1]) == expected
    assert all(_outputs(r) == expected for r in parallel)
