"""The Chrome checker itself: it must catch each rule being broken."""

from __future__ import annotations

from typing import Any

import pytest

from . import chrome_checker


def meta(tid: int = 1) -> list[dict[str, Any]]:
    return [
        {"name": "process_name", "ph": "M", "pid": 1, "tid": tid, "args": {"name": "p"}},
        {"name": "thread_name", "ph": "M", "pid": 1, "tid": tid, "args": {"name": "t"}},
    ]


def x(ts: float, dur: float, name: str = "s", tid: int = 1) -> dict[str, Any]:
    return {"name": name, "ph": "X", "ts": ts, "dur": dur, "pid": 1, "tid": tid}


def flow(phase: str, ts: float, flow_id: int) -> dict[str, Any]:
    return {"name": "f", "ph": phase, "ts": ts, "pid": 1, "tid": 1, "id": flow_id, "bp": "e"}


VALID = [
    x(0, 10, "parent"),
    x(1, 2, "child"),
    x(5, 5, "second child"),
    x(10, 1, "next"),
    flow("s", 1.5, 1),
    flow("f", 10, 1),
    {"name": "c", "cat": "connection", "ph": "b", "id": 7, "ts": 0, "pid": 1, "tid": 1},
    {"name": "c", "cat": "connection", "ph": "e", "id": 7, "ts": 11, "pid": 1, "tid": 1},
    {"name": "n", "ph": "C", "ts": 0, "pid": 1, "tid": 1, "args": {"v": 1.5}},
    *meta(),
]


def test_a_valid_trace_passes() -> None:
    assert chrome_checker.problems({"traceEvents": VALID}) == []


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda t: t[1].pop("dur"), "missing dur"),
        (lambda t: t[0].pop("pid"), "missing pid"),
        (lambda t: t[6].pop("id"), "missing id"),
        (lambda t: t.insert(2, x(2, 20, "overlapping")), "overlaps the end"),
        (lambda t: t.append(x(0.5, 1, "late")), "starts before the previous"),
        (lambda t: t[2].update(dur=5.001), "overlaps the end"),  # by one ns
        (lambda t: t.append(flow("f", 12, 1)), "2 finish"),
        (lambda t: t.append(flow("s", 11, 2)), "0 finish"),
        (lambda t: t.append(flow("s", 20, 3)) or t.append(flow("f", 21, 3)), "in no slice"),
        (lambda t: t[8].update(args={"v": "high"}), "non-numeric"),
        (lambda t: t[8].update(args={"v": True}), "non-numeric"),
        (lambda t: t.append(x(0, 1, tid=2)), "thread 2 of process 1 has no thread_name"),
        (lambda t: t.pop(7), "never ends"),
        (lambda t: t[7].update(name="other"), "ends as 'other'"),
        (lambda t: t.append({"name": "z", "ph": "Q", "ts": 0, "pid": 1, "tid": 1}), "phase"),
        (lambda t: t[0].update(ts=-1), "non-negative"),
    ],
)
def test_each_broken_rule_is_reported(change: Any, says: str) -> None:
    events = [dict(e) for e in VALID]
    change(events)
    found = chrome_checker.problems({"traceEvents": events})
    assert any(says in problem for problem in found), found
    with pytest.raises(AssertionError):
        chrome_checker.check({"traceEvents": events})
