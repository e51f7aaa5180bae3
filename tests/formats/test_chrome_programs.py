"""Chrome exports of a real program, on every reactor family, checked against the format."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from reactortrace.cli import main
from reactortrace.core.events import Event
from reactortrace.formats.chrome import REACTOR_TID

from . import chrome_checker
from .conftest import Recorded

DISPATCH_KINDS = {"timer", "io.read", "io.write", "deferred", "system"}


def slices(doc: dict[str, Any], tid: int | None = None) -> list[dict[str, Any]]:
    return [
        e for e in doc["traceEvents"] if e["ph"] == "X" and (tid is None or e["tid"] == tid)
    ]


def interval(event: dict[str, Any]) -> tuple[int, int]:
    start = round(event["ts"] * 1000)
    return start, start + round(event["dur"] * 1000)


def on_reactor(event: Event) -> bool:
    return event.kind in DISPATCH_KINDS or (
        event.kind == "thread" and event.args["source"] == "reactor"
    )


def test_export_follows_the_chrome_format(recorded: Recorded) -> None:
    chrome_checker.check(recorded.chrome)


def test_every_dispatch_is_one_slice_on_the_reactor_thread(recorded: Recorded) -> None:
    expected = Counter(
        (e.ts, e.args.get("timer"), e.args.get("conn"))
        for e in recorded.trace.events
        if on_reactor(e)
    )
    drawn = Counter(
        (round(s["ts"] * 1000), s["args"].get("timer"), s["args"].get("conn"))
        for s in slices(recorded.chrome, REACTOR_TID)
    )
    assert drawn == expected
    kinds = Counter(e.kind for e in recorded.trace.events if on_reactor(e))
    assert kinds["timer"] >= 5 and kinds["io.read"] >= 5 and kinds["deferred"] >= 5


def test_callbacks_are_nested_in_the_read_that_ran_them(recorded: Recorded) -> None:
    reactor_slices = slices(recorded.chrome, REACTOR_TID)
    reads = [
        interval(s) for s in reactor_slices if s["cat"] == "io" and s["name"].startswith("read")
    ]
    callbacks = [interval(s) for s in reactor_slices if s["name"].endswith("on_echo")]
    assert len(callbacks) == 5  # one per echo round
    for start, end in callbacks:
        assert any(r_start <= start and end <= r_end for r_start, r_end in reads), (start, end)


def test_pool_jobs_are_on_their_worker_threads(recorded: Recorded) -> None:
    doc = recorded.chrome
    names = {
        e["tid"]: e["args"]["name"]
        for e in doc["traceEvents"]
        if e["ph"] == "M" and e["name"] == "thread_name"
    }
    jobs = [s for s in slices(doc) if s["tid"] != REACTOR_TID and s["cat"] == "thread"]
    pool = [e for e in recorded.trace.events if e.kind == "thread" and e.args["source"] == "pool"]
    assert sorted(names[j["tid"]] for j in jobs) == sorted(e.args["thread"] for e in pool)
    assert {j["name"] for j in jobs} == {e.name for e in pool}
    assert all(name.endswith("pool_job") for name in {e.name for e in pool})
    assert names[REACTOR_TID] == "reactor"


def test_flows_go_from_scheduling_to_firing(recorded: Recorded) -> None:
    doc = recorded.chrome
    events = doc["traceEvents"]
    starts = {e["id"]: e for e in events if e["ph"] == "s"}
    finishes = {e["id"]: e for e in events if e["ph"] == "f"}
    timers = {round(s["ts"] * 1000): s for s in slices(doc, REACTOR_TID) if s["cat"] == "timer"}
    schedules = {e.args["timer"]: e for e in recorded.trace.events if e.kind == "timer.schedule"}
    assert len(finishes) >= 4  # the replies scheduled from inside reads, the ticks
    for flow, finish in finishes.items():
        fired = timers[round(finish["ts"] * 1000)]
        scheduled = schedules[fired["args"]["timer"]]
        assert round(starts[flow]["ts"] * 1000) == scheduled.ts
    # the timer scheduled (and cancelled) before the reactor ran has no arrow
    cancelled = {e.args["timer"] for e in recorded.trace.events if e.kind == "timer.cancel"}
    assert cancelled and not cancelled & {t["args"]["timer"] for t in timers.values()}


def test_connections_are_async_slices_keyed_by_connection_id(recorded: Recorded) -> None:
    opened = {e.args["conn"]: e for e in recorded.trace.events if e.kind == "conn.open"}
    begins = {e["id"]: e for e in recorded.chrome["traceEvents"] if e["ph"] == "b"}
    ends = {e["id"]: e for e in recorded.chrome["traceEvents"] if e["ph"] == "e"}
    assert set(begins) == set(ends) == set(opened)
    for conn, event in opened.items():
        assert begins[conn]["cat"] == "connection"
        assert begins[conn]["args"]["fd"] == event.args["fd"]
        assert round(begins[conn]["ts"] * 1000) == event.ts
    tcp = [c for c, e in opened.items() if e.args["type"] == "tcp"]
    closed = {e.args["conn"]: e.ts for e in recorded.trace.events if e.kind == "conn.close"}
    assert tcp and all(round(ends[c]["ts"] * 1000) == closed[c] for c in tcp)


def test_counters_describe_the_loop(recorded: Recorded) -> None:
    counters = [e for e in recorded.chrome["traceEvents"] if e["ph"] == "C"]
    by_name: dict[str, list[float]] = {}
    for counter in counters:
        (value,) = counter["args"].values()
        by_name.setdefault(counter["name"], []).append(value)
    assert set(by_name) == {"loop utilization (%)", "events per second", "pending timers"}
    assert all(0 <= v <= 100 for v in by_name["loop utilization (%)"])
    assert sum(by_name["events per second"]) > 0
    assert all(v >= 0 and v == int(v) for v in by_name["pending timers"])


def test_cli_export_of_the_json_trace_gives_the_same_chrome_trace(
    recorded: Recorded, tmp_path: Path
) -> None:
    out = tmp_path / "again.chrome.json"
    assert main(["export", str(recorded.json_path), "-o", str(out)]) == 0
    again = chrome_checker.load(out)
    assert again["traceEvents"] == recorded.chrome["traceEvents"]


def test_the_json_exported_after_the_chrome_one_counts_every_event(recorded: Recorded) -> None:
    # A Chrome export keeps no snapshot and feeds no state: the JSON export
    # after it feeds the state with every event, and its snapshot says so.
    trace = recorded.trace
    assert trace.snapshot is not None
    assert trace.snapshot.loop.events == len(trace.events) > 100
    drawn = {s["args"].get("timer") for s in slices(recorded.chrome) if s["cat"] == "timer"}
    assert drawn == {e.args["timer"] for e in trace.by_kind("timer")}
