"""LogHistogram: bounded buckets, quantiles within the promised precision."""

from __future__ import annotations

import math
import random

import pytest

from reactortrace.core.stats import LogHistogram, bucket_bounds, bucket_index


def exact_quantile(values: list[int], q: float) -> int:
    return sorted(values)[max(1, math.ceil(q * len(values))) - 1]


def test_every_value_falls_inside_its_bucket_and_buckets_are_ordered() -> None:
    rng = random.Random(1)
    values = sorted(
        {rng.randrange(0, 1 << rng.randrange(1, 63)) for _ in range(5000)} | set(range(200))
    )
    previous = -1
    for value in values:
        index = bucket_index(value)
        low, high = bucket_bounds(index)
        assert low <= value <= high
        assert (high - low) <= low / 32  # the promised precision
        assert index >= previous
        previous = index


@pytest.mark.parametrize("q", [0.5, 0.9, 0.95, 0.99])
def test_quantiles_of_a_wide_distribution(q: float) -> None:
    rng = random.Random(3)
    values = [int(rng.paretovariate(1.5) * 10_000) for _ in range(50_000)]
    hist = LogHistogram()
    for value in values:
        hist.add(value)
    assert hist.quantile(q) == pytest.approx(exact_quantile(values, q), rel=0.02)
    assert (hist.count, hist.total, hist.max, hist.min) == (
        len(values),
        sum(values),
        max(values),
        min(values),
    )
    assert hist.mean == sum(values) // len(values)


def test_small_values_are_exact() -> None:
    hist = LogHistogram()
    for value in [5, 1, 3, 2, 4]:
        hist.add(value)
    assert [hist.quantile(q) for q in (0.2, 0.4, 0.6, 0.8, 1.0)] == [1, 2, 3, 4, 5]


def test_memory_does_not_grow_with_the_number_of_values() -> None:
    hist = LogHistogram()
    for value in range(0, 10**9, 997):  # a million distinct values
        hist.add(value)
    assert len(hist.buckets) < 32 * 31


def test_merge_equals_adding_everything() -> None:
    a, b, both = LogHistogram(), LogHistogram(), LogHistogram()
    for i, value in enumerate(range(1, 100_000, 37)):
        (a if i % 3 else b).add(value)
        both.add(value)
    a.merge(b)
    assert (a.count, a.total, a.min, a.max, a.buckets) == (
        both.count,
        both.total,
        both.min,
        both.max,
        both.buckets,
    )


def test_empty_histogram_reads_zero() -> None:
    hist = LogHistogram()
    assert (hist.quantile(0.95), hist.mean, hist.count) == (0, 0, 0)
