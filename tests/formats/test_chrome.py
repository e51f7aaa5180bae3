"""The Chrome converter on hand-made event sequences: nesting, flows, tracks, counters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reactortrace.core.trace import Trace
from reactortrace.formats import chrome, format_for, write
from reactortrace.formats.chrome import REACTOR_TID, micros

from ..core.builders import EventLog as Log
from . import chrome_checker

META = {"program": "/srv/app/server.py", "argv": ["server.py"], "pid": 321}
MS = 1_000_000


def export(tmp_path: Path, events: list[Any], meta: dict[str, Any] = META) -> dict[str, Any]:
    path = tmp_path / "out.chrome.json"
    write(Trace(meta, events, None), str(path))
    doc = chrome_checker.load(path)
    chrome_checker.check(doc)
    return doc


def of(doc: dict[str, Any], phase: str) -> list[dict[str, Any]]:
    return [e for e in doc["traceEvents"] if e["ph"] == phase]


def ns(us: float) -> int:
    return round(us * 1000)


def test_chrome_format_is_chosen_by_name_or_explicitly() -> None:
    assert format_for("run.chrome.json") == "chrome"
    assert format_for("RUN.CHROME.JSON") == "chrome"
    assert format_for("run.json") == "json"
    assert format_for("run.json", "chrome") == "chrome"


def test_micros_converts_back_to_the_same_nanoseconds_rounded_or_truncated() -> None:
    values = range(0, 10**13, 999_999_937)  # spread over about three hours
    awkward = [n for n in values if int(n / 1000 * 1000) != n]
    assert awkward  # plain division would lose a nanosecond on these
    for n in values:
        us = micros(n)
        assert int(us * 1000) == n == round(us * 1000)
        assert abs(us - n / 1000) <= 1e-9 * max(1.0, us)


def test_callbacks_nest_in_their_dispatch_and_children_are_cut_at_the_parent_end(
    tmp_path: Path,
) -> None:
    log = Log()
    # Recorded in the order they ended: callbacks before the timer that ran them.
    log.add("deferred", 1_100, 200, name="app.first", outcome="success")
    log.add("deferred", 1_900, 300, name="app.overlong", outcome="success")  # ends at 2_200
    log.add("timer", 1_000, 1_000, name="app.tick", timer=1)
    log.add("io.read", 3_000, 500, name="app.Proto", conn=4, fd=9)
    doc = export(tmp_path, log.events)
    xs = of(doc, "X")
    assert [x["name"] for x in xs] == ["app.tick", "app.first", "app.overlong", "read app.Proto"]
    assert {x["tid"] for x in xs} == {REACTOR_TID}
    overlong = xs[2]
    assert ns(overlong["ts"]) == 1_900 and ns(overlong["ts"]) + ns(overlong["dur"]) == 2_000
    assert ns(xs[1]["dur"]) == 200  # children that fit keep their times


def test_a_parent_and_child_starting_at_once_are_written_parent_first(tmp_path: Path) -> None:
    log = Log()
    for start in (0, 10_000):  # runs of ties in two places
        log.add("deferred", start, 100, name="app.inner", outcome="success")
        log.add("deferred", start, 300, name="app.middle", outcome="success")
        log.add("timer", start, 500, name="app.outer", timer=start)
    doc = export(tmp_path, log.events)
    names = [x["name"] for x in of(doc, "X")]
    assert names == ["app.outer", "app.middle", "app.inner"] * 2


def test_pool_jobs_get_one_track_per_worker_thread(tmp_path: Path) -> None:
    log = Log()
    for index, thread in enumerate(["pool-0", "pool-1", "pool-0"]):
        log.add("thread", index * 1_000, 5_000, name="app.job", source="pool", thread=thread)
    log.add("thread", 500, 100, name="app.from_thread", source="reactor", thread=None)
    doc = export(tmp_path, log.events)
    names = {e["tid"]: e["args"]["name"] for e in of(doc, "M") if e["name"] == "thread_name"}
    jobs = [x for x in of(doc, "X") if x["name"] == "app.job"]
    assert [names[j["tid"]] for j in jobs] == ["pool-0", "pool-1", "pool-0"]
    assert jobs[0]["tid"] == jobs[2]["tid"] != jobs[1]["tid"]
    (reactor_call,) = [x for x in of(doc, "X") if x["name"] == "app.from_thread"]
    assert reactor_call["tid"] == REACTOR_TID and names[REACTOR_TID] == "reactor"


def test_flows_link_each_scheduling_inside_a_dispatch_to_its_firing(tmp_path: Path) -> None:
    log = Log()
    log.add("timer.schedule", 50, name="app.early", timer=1)  # outside any dispatch
    log.add("timer.schedule", 1_100, name="app.b", timer=2)
    log.add("timer.schedule", 1_200, name="app.c", timer=3)
    log.add("timer.cancel", 1_300, name="app.c", timer=3)
    log.add("io.read", 1_000, 500, name="app.Proto", conn=1)
    log.add("timer", 2_000, 100, name="app.early", timer=1)
    log.add("timer", 3_000, 100, name="app.b", timer=2)
    log.add("timer.schedule", 3_050, name="app.d", timer=4)
    log.add("timer", 4_000, 100, name="app.d", timer=4)
    doc = export(tmp_path, log.events)
    starts, finishes = of(doc, "s"), of(doc, "f")
    assert [ns(s["ts"]) for s in starts] == [1_100, 3_050]
    assert [ns(f["ts"]) for f in finishes] == [3_000, 4_000]
    assert [s["id"] for s in starts] == [f["id"] for f in finishes]
    assert len({s["id"] for s in starts}) == 2
    assert all(e["bp"] == "e" for e in starts + finishes)


def test_connections_are_keyed_by_connection_id_and_closed_at_the_end(tmp_path: Path) -> None:
    log = Log()
    log.add("conn.close", 100, name="app.Old", conn=3, reason="ConnectionDone")
    log.add("conn.open", 200, name="app.Proto", conn=7, fd=3, type="tcp", local="a", peer="b")
    log.add("conn.pause", 300, name="app.Proto", conn=7, buffered=70_000)
    log.add("io.read", 400, 5_000, name="app.Proto", conn=7, fd=3)
    doc = export(tmp_path, log.events)
    begins, ends = of(doc, "b"), of(doc, "e")
    assert {b["id"]: ns(b["ts"]) for b in begins} == {3: 0, 7: 200}
    assert {e["id"]: ns(e["ts"]) for e in ends} == {3: 100, 7: 5_400}  # 7: the trace's end
    (mark,) = of(doc, "n")
    assert (mark["id"], mark["name"], ns(mark["ts"])) == (7, "pause", 300)
    assert {e["cat"] for e in begins + ends + [mark]} == {"connection"}


def test_counters_follow_iterations_events_and_pending_timers(tmp_path: Path) -> None:
    log = Log()
    # Two iterations of 100 ms: busy 25 ms then 80 ms (the rest waiting in poll).
    log.add("timer.schedule", 1_000, name="app.a", timer=1)
    log.add("timer.schedule", 2_000, name="app.b", timer=2)
    log.add("iteration", 0, 100 * MS, name="iteration", wait=75 * MS)
    log.add("timer", 150 * MS, MS, name="app.a", timer=1)
    log.add("iteration", 100 * MS, 100 * MS, name="iteration", wait=20 * MS)
    doc = export(tmp_path, log.events)
    series: dict[str, dict[int, float]] = {}
    for counter in of(doc, "C"):
        (value,) = counter["args"].values()
        series.setdefault(counter["name"], {})[ns(counter["ts"])] = value
    assert series["loop utilization (%)"] == {0: 25.0, 100 * MS: 80.0}
    assert series["pending timers"] == {0: 2, 100 * MS: 1, 200 * MS: 1}
    # counted when they end: two schedules; the first iteration and the timer; the last one
    assert series["events per second"] == pytest.approx({0: 20.0, 100 * MS: 20.0, 200 * MS: 10.0})


def test_slow_events_warnings_and_deferred_marks_have_their_places(tmp_path: Path) -> None:
    log = Log()
    log.add("slow", 1_000, 150 * MS, name="app.blocking", dispatch="timer", site="app.py:3",
            function="blocking", stack=["app.py:3 blocking"], blocked=150 * MS)
    log.add("deferred.error", 151 * MS, name="app.cb", deferred=5, failure="KeyError", site=None)
    log.add("timer", 1_000, 152 * MS, name="app.blocking", timer=1)
    log.add("warning", 153 * MS, name="slow-callback", code="slow", message="m", where="app.py:3",
            subject=None)
    doc = export(tmp_path, log.events)
    (slow,) = [x for x in of(doc, "X") if x["cat"] == "slow"]
    names = {e["tid"]: e["args"]["name"] for e in of(doc, "M") if e["name"] == "thread_name"}
    assert slow["tid"] != REACTOR_TID and names[slow["tid"]] == "slow dispatches"
    instants = {e["cat"]: e for e in of(doc, "i")}
    assert instants["deferred"]["s"] == "t" and instants["deferred"]["tid"] == REACTOR_TID
    assert instants["warning"]["s"] == "p"


def test_the_output_is_the_same_whatever_the_chunk_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = Log()
    for index in range(50):
        log.add("deferred", index * 1_000 + 10, 100, name="app.cb", outcome="success")
        log.add("timer", index * 1_000, 500, name="app.t", timer=index)
    from_events = export(tmp_path, log.events)
    monkeypatch.setattr(chrome, "CHUNK", 7)
    in_small_chunks = export(tmp_path, log.events)
    assert in_small_chunks == from_events
    assert len(of(in_small_chunks, "X")) == 100


def test_process_name_and_metadata(tmp_path: Path) -> None:
    log = Log()
    log.add("timer", 0, 10, name="app.t", timer=1)
    doc = export(tmp_path, log.events)
    (process,) = [e for e in of(doc, "M") if e["name"] == "process_name"]
    assert process["pid"] == META["pid"] and process["args"]["name"].startswith("server.py")
    assert {e["pid"] for e in doc["traceEvents"]} == {META["pid"]}
    assert doc["otherData"]["reactortrace"]["events"] == 1


def test_an_empty_trace_is_a_valid_chrome_trace(tmp_path: Path) -> None:
    doc = export(tmp_path, [], meta={})
    assert not of(doc, "X") and of(doc, "M")
