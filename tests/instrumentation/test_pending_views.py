"""A costly walk over thousands of pending Deferreds is not made for every live update."""

from __future__ import annotations

from typing import Any

import pytest

from reactortrace.core.snapshot import DeferredInfo, PendingDeferreds
from reactortrace.instrumentation import waits


def test_a_costly_walk_is_made_again_only_when_due(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    walks: list[float] = []

    def walk(*_: Any) -> PendingDeferreds:
        walks.append(clock[0])
        clock[0] += 0.1  # this walk takes 100 ms: the next is due a second later
        return PendingDeferreds((DeferredInfo(1, "deferred", "app.wait", 5, None),), total=1)

    monkeypatch.setattr(waits, "_clock", lambda: clock[0])
    monkeypatch.setattr(waits, "pending_view", walk)
    views = waits.PendingViews(None, None, None)  # type: ignore[arg-type]
    assert views().deferreds[0].age == 5
    clock[0] += 0.5
    later = views()
    assert len(walks) == 1
    age = later.deferreds[0].age
    assert age is not None and abs(age - (5 + 600_000_000)) < 1_000  # the same view, aged
    clock[0] += 0.5
    views()
    assert len(walks) == 2
    views(fresh=True)  # a trace being written wants it as it is now
    assert len(walks) == 3


def test_a_cheap_walk_is_made_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    walks: list[int] = []

    def walk(*_: Any) -> PendingDeferreds:
        walks.append(1)
        return PendingDeferreds()

    monkeypatch.setattr(waits, "pending_view", walk)
    views = waits.PendingViews(None, None, None)  # type: ignore[arg-type]
    for _ in range(3):
        views()
    assert len(walks) == 3
