"""Splitting pages over CI jobs: K/N and the CI systems' variables, and a split that every job
computes alike, covers every page once and keeps the shards' work even."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snippet_runner.core.shard import (
    DEFAULT_COMMAND_SECONDS,
    Shard,
    estimate_weights,
    parse_shard,
    plan,
    shard_from_env,
)
from snippet_runner.errors import ConfigError


def test_k_of_n_is_one_based() -> None:
    assert parse_shard("2/4") == Shard(2, 4)
    assert parse_shard(" 1 / 1 ") == Shard(1, 1)
    assert str(parse_shard("3/4")) == "3/4"


@pytest.mark.parametrize(("text", "fragment"), [
    ("0/4", "K runs from 1 to N"), ("5/4", "does not exist"), ("1/0", "does not exist"),
    ("2", "must be K/N"), ("a/b", "must be K/N"), ("-1/4", "must be K/N"),
])
def test_bad_shards_are_refused_with_the_rule(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        parse_shard(text)


def test_gitlab_variables_are_one_based() -> None:
    shard = shard_from_env({"CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "4"})
    assert shard is not None and (shard.index, shard.total) == (1, 4)
    assert "GitLab CI, 1-based" in shard.source
    last = shard_from_env({"CI_NODE_INDEX": "4", "CI_NODE_TOTAL": "4"})
    assert last is not None and last.index == 4


def test_circleci_and_buildkite_variables_are_zero_based() -> None:
    circle = shard_from_env({"CIRCLE_NODE_INDEX": "0", "CIRCLE_NODE_TOTAL": "3"})
    assert circle == Shard(1, 3, circle.source) and "0-based" in circle.source
    kite = shard_from_env({"BUILDKITE_PARALLEL_JOB": "2", "BUILDKITE_PARALLEL_JOB_COUNT": "3"})
    assert kite is not None and (kite.index, kite.total) == (3, 3)
    with pytest.raises(ConfigError, match="does not exist"):
        shard_from_env({"CIRCLE_NODE_INDEX": "3", "CIRCLE_NODE_TOTAL": "3"})


def test_the_explicit_variable_wins_and_no_variable_means_every_page() -> None:
    env = {"SNIPPET_RUNNER_SHARD": "2/2", "CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "2"}
    assert shard_from_env(env) == Shard(2, 2, "SNIPPET_RUNNER_SHARD")
    assert shard_from_env({}) is None
    # GitLab sets CI_NODE_TOTAL=1 (and no index) in a job without `parallel:`.
    assert shard_from_env({"CI_NODE_TOTAL": "1"}) is None


def test_half_set_or_bad_variables_are_refused() -> None:
    with pytest.raises(ConfigError, match="CI_NODE_INDEX/CI_NODE_TOTAL"):
        shard_from_env({"CI_NODE_INDEX": "2"})
    with pytest.raises(ConfigError, match="whole numbers"):
        shard_from_env({"CI_NODE_INDEX": "x", "CI_NODE_TOTAL": "2"})


def test_heavy_pages_are_spread_and_light_ones_fill_the_gaps() -> None:
    paths = ["a.md", "b.md", "c.md", "d.md", "e.md", "f.md"]
    split = plan(paths, [10, 9, 1, 1, 1, 8], Shard(1, 2))
    # 10 → 1, 9 → 2, 8 → 2 (17), then the ones go to 1 (11, 12, 13): 13 against 17.
    assert split.assignment == (1, 2, 1, 1, 1, 2)
    assert (split.load(1), split.load(2)) == (13, 17)
    assert split.indexes == (0, 2, 3, 4)


@given(st.lists(st.floats(min_value=0, max_value=1000, allow_nan=False), max_size=40),
       st.integers(min_value=1, max_value=8))
def test_every_page_lands_in_exactly_one_shard_and_loads_stay_close(
        weights: list[float], total: int) -> None:
    paths = [f"docs/{i:02d}.md" for i in range(len(weights))]
    plans = [plan(paths, weights, Shard(k, total)) for k in range(1, total + 1)]
    covered = sorted(i for p in plans for i in p.indexes)
    assert covered == list(range(len(paths)))
    assert len({p.digest for p in plans}) == 1  # every job computes the same split
    loads = [plans[0].load(k) for k in range(1, total + 1)]
    assert max(loads) - min(loads) <= max(plans[0].weights, default=0) + 1e-6


def test_the_split_depends_on_the_weights_and_the_digest_says_so() -> None:
    paths = ["a.md", "b.md", "c.md"]
    one, other = plan(paths, [1, 1, 5], Shard(1, 2)), plan(paths, [5, 1, 1], Shard(1, 2))
    assert one.assignment != other.assignment and one.digest != other.digest
    assert plan(paths, [1, 1, 5], Shard(2, 2)).digest == one.digest


def test_weights_come_from_records_estimates_and_the_cache() -> None:
    # Two timed pages: 6 s over 3 commands = 2 s a command for the untimed 4-command page.
    weights = estimate_weights([4.0, 2.0, None, None, 3.0], [2, 1, 4, 3, 9],
                               [False, False, False, True, True])
    assert weights == [4.0, 2.0, 8.0, 0.0, 0.0]
    assert estimate_weights([None], [0], [False]) == [DEFAULT_COMMAND_SECONDS]
