"""Split a site's pages over the jobs of a CI matrix: ``check --shard K/N``.

Every job computes the same split on its own, with no coordinator, so the split must be a pure
function of what all jobs see alike: the page paths, N, and each page's *weight* — the seconds
it is expected to take, from the durations the result cache recorded (`durations`), 0 for a
page the result cache will answer (``--cache``) or that has nothing to run, and an estimate from
its number of commands for a page never timed. Pages are dealt heaviest first to the shard with
the least work so far (ties: the lower shard, then the page path), which keeps the shards within
one page's weight of each other.

The split is summed up in a *plan digest* that every shard writes into its reports; ``report
merge`` refuses reports whose digests differ (two jobs that saw different durations would
otherwise run some pages twice and others never) and names a missing shard.

``--shard auto`` reads the index and count the CI system sets for parallel jobs
(`CI_VARIABLES`); which ones are 1-based is written there, because mixing them up silently
drops a shard's pages.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import ConfigError

DEFAULT_COMMAND_SECONDS = 1.0
"""Estimated seconds per command when no page of the site was ever timed."""


@dataclass(frozen=True)
class Shard:
    """Which part of the pages this job checks."""

    index: int
    """1-based: shard ``index`` of ``total``."""
    total: int
    """How many shards share the pages."""
    source: str = "--shard"
    """Where the numbers came from, for messages (a flag, or the CI variables read)."""

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


@dataclass(frozen=True)
class CiVariables:
    """The environment variables one CI system sets for a job of a parallel set."""

    index: str
    """The job's index."""
    total: str
    """The number of jobs."""
    first: int
    """The index of the first job: 1 or 0."""
    system: str
    """Whose variables these are."""


CI_VARIABLES: tuple[CiVariables, ...] = (
    # GitLab CI `parallel: N`: CI_NODE_INDEX runs from 1 to CI_NODE_TOTAL.
    CiVariables("CI_NODE_INDEX", "CI_NODE_TOTAL", 1, "GitLab CI"),
    # CircleCI `parallelism: N`: CIRCLE_NODE_INDEX runs from 0 to CIRCLE_NODE_TOTAL - 1.
    CiVariables("CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", 0, "CircleCI"),
    # Buildkite `parallelism: N`: BUILDKITE_PARALLEL_JOB runs from 0.
    CiVariables("BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT", 0, "Buildkite"),
    # Semaphore `parallelism: N`: SEMAPHORE_JOB_INDEX runs from 1 to SEMAPHORE_JOB_COUNT.
    CiVariables("SEMAPHORE_JOB_INDEX", "SEMAPHORE_JOB_COUNT", 1, "Semaphore"),
)
"""What ``--shard auto`` reads, after ``SNIPPET_RUNNER_SHARD`` (``K/N``, 1-based, for GitHub
Actions, which sets no such variables: ``SNIPPET_RUNNER_SHARD: ${{ matrix.shard }}/4``)."""

ENV_SHARD = "SNIPPET_RUNNER_SHARD"
"""``K/N`` for ``--shard auto`` on a CI system that sets no variables of its own."""

_SPEC = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def parse_shard(text: str, source: str = "--shard") -> Shard:
    """``K/N`` (1 ≤ K ≤ N) as a `Shard`; ConfigError naming ``source`` otherwise."""
    match = _SPEC.fullmatch(text)
    if not match:
        raise ConfigError(f"{source} must be K/N, e.g. 2/4 for the second of four shards "
                          f"(or 'auto' to read the CI system's variables), not {text!r}.")
    index, total = int(match[1]), int(match[2])
    if total < 1 or not 1 <= index <= total:
        raise ConfigError(f"{source}: shard {index}/{total} does not exist; K runs from 1 to "
                          "N (the first of four shards is 1/4).")
    return Shard(index, total, source)


def shard_from_env(env: Mapping[str, str]) -> Shard | None:
    """The shard the CI system's variables name, or None when no job index is set (a job that
    is not part of a parallel set checks every page; GitLab sets ``CI_NODE_TOTAL=1`` there
    and no index). ConfigError for an index without a count, or numbers that are not."""
    if env.get(ENV_SHARD, "").strip():
        return parse_shard(env[ENV_SHARD], ENV_SHARD)
    for names in CI_VARIABLES:
        index, total = env.get(names.index, "").strip(), env.get(names.total, "").strip()
        if not index:
            continue
        where = f"{names.index}/{names.total} ({names.system}, {names.first}-based)"
        if not (index.isdigit() and total.isdigit()):
            raise ConfigError(f"--shard auto: {where} must both be whole numbers, not "
                              f"{index!r} and {total!r}.")
        return parse_shard(f"{int(index) + 1 - names.first}/{total}", where)
    return None


@dataclass(frozen=True)
class ShardPlan:
    """Which shard checks each page."""

    shard: Shard
    """The shard this job checks."""
    paths: tuple[str, ...]
    """Every page of the run, in run order."""
    assignment: tuple[int, ...]
    """The 1-based shard of each page, in the order of ``paths``."""
    weights: tuple[float, ...]
    """Each page's expected seconds, in the order of ``paths``."""

    @property
    def indexes(self) -> tuple[int, ...]:
        """Positions (in ``paths``) of the pages this shard checks, in run order."""
        return tuple(i for i, k in enumerate(self.assignment) if k == self.shard.index)

    def load(self, index: int) -> float:
        """Expected seconds of shard ``index``."""
        return sum(w for w, k in zip(self.weights, self.assignment, strict=True) if k == index)

    @property
    def digest(self) -> str:
        """A hash of the split itself (which page goes where), the same in every shard that
        saw the same pages and weights."""
        data = json.dumps([self.shard.total, list(zip(self.paths, self.assignment, strict=True))],
                          ensure_ascii=False)
        return hashlib.sha256(data.encode()).hexdigest()[:16]


def plan(paths: Sequence[str], weights: Sequence[float], shard: Shard) -> ShardPlan:
    """Deal the pages to ``shard.total`` shards, heaviest first to the least loaded."""
    if len(paths) != len(weights):
        raise ValueError("one weight per page")
    rounded = [round(max(0.0, w), 3) for w in weights]  # the same digits in every job
    loads = [0.0] * shard.total
    assignment = [0] * len(paths)
    for i in sorted(range(len(paths)), key=lambda i: (-rounded[i], paths[i], i)):
        lightest = min(range(shard.total), key=lambda k: (loads[k], k))
        assignment[i] = lightest + 1
        loads[lightest] += rounded[i]
    return ShardPlan(shard, tuple(paths), tuple(assignment), tuple(rounded))


def estimate_weights(recorded: Sequence[float | None], commands: Sequence[int],
                     free: Sequence[bool]) -> list[float]:
    """Each page's expected seconds: 0 when ``free`` (nothing to run, or answered by the
    result cache), its recorded duration when there is one, else its number of commands times
    the site's recorded seconds per command (`DEFAULT_COMMAND_SECONDS` when nothing was ever
    timed). Every page that runs counts at least a little, so empty-looking pages spread out."""
    timed = [(r, c) for r, c, f in zip(recorded, commands, free, strict=True)
             if r is not None and not f]
    seconds = sum(r for r, _ in timed)
    count = sum(c for _, c in timed)
    per_command = seconds / count if count and seconds > 0 else DEFAULT_COMMAND_SECONDS
    weights = []
    for r, c, f in zip(recorded, commands, free, strict=True):
        if f:
            weights.append(0.0)
        elif r is not None:
            weights.append(max(r, 0.001))
        else:
            weights.append(max(c, 1) * per_command)
    return weights
