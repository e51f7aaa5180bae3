"""Twisted's own reactor-heavy tests pass the same with and without reactortrace."""

from __future__ import annotations

import pytest

from .twisted_suite import SUBSET, compare


@pytest.mark.timeout(600)
@pytest.mark.parametrize("reactor", ["epoll", "asyncio"])
def test_twisted_suite_unchanged_under_instrumentation(reactor: str) -> None:
    plain, traced = compare(list(SUBSET), reactor)
    assert plain.summary.startswith("PASSED"), plain.output
    assert traced.summary == plain.summary, traced.output
    assert traced.status == plain.status
    assert traced.events > 10_000  # it really was recorded
