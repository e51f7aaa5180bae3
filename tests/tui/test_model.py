"""The UI's memory between polls, and the text helpers (no Textual needed)."""

from __future__ import annotations

from reactortrace.core import events as ev
from reactortrace.core.feed import LIVE
from reactortrace.core.replay import ReplayFeed
from reactortrace.core.trace import Trace
from reactortrace.tui import describe
from reactortrace.tui.model import DEFAULT_KINDS, Filter, ViewModel, subjects_of

from .sample import MS, FakeClock, RecordedLiveFeed, S


def fed_model(replay: ReplayFeed, *positions: int, **sizes: int) -> ViewModel:
    model = ViewModel(meta=replay.meta, **sizes)
    model.apply(replay.poll())
    for position in positions:
        replay.seek(position)
        model.apply(replay.poll())
    return model


def test_the_log_keeps_what_the_feed_handed_over(replay: ReplayFeed, trace: Trace) -> None:
    model = fed_model(replay, 2 * S, 4 * S)
    kept = model.events  # in time order: by when each began
    assert sorted(kept, key=lambda e: e.seq) == [e for e in trace.events if e.end <= 4 * S]
    assert [e.ts for e in kept] == sorted(e.ts for e in kept)
    assert model.position == 4 * S
    assert model.snapshot == trace.state_at(4 * S)


def test_everything_kept_is_bounded(replay: ReplayFeed, trace: Trace) -> None:
    model = fed_model(replay, 9 * S, history_events=10, per_subject=3, max_subjects=4,
                      history_size=2)
    replay.seek(9_500 * MS)
    model.apply(replay.poll())
    newest = sorted((e for e in trace.events if e.end <= 9_500 * MS), key=lambda e: e.ts)
    assert 10 <= len(model.events) <= 11  # the bound, and at most a tenth more
    assert model.events[-1].ts == newest[-1].ts
    assert len(model.utilization) == len(model.rate) == 2
    assert len(model._recent) <= 4
    assert all(len(bucket) <= 3 for bucket in model._recent.values())


def test_history_grows_only_when_the_position_moves(replay: ReplayFeed) -> None:
    model = fed_model(replay, 1 * S)
    assert len(model.utilization) == 2
    model.apply(replay.poll())  # paused: same position
    assert len(model.utilization) == 2
    replay.seek(3 * S)
    model.apply(replay.poll())
    assert list(model.rate)[-1] == replay.snapshot().loop.events_per_second


def test_going_back_in_time_starts_the_history_again(replay: ReplayFeed, trace: Trace) -> None:
    model = fed_model(replay, 8 * S)
    changes = model.apply(replay.poll())
    assert not changes.reset
    replay.seek(2 * S)
    changes = model.apply(replay.poll())
    assert changes.reset
    assert {e.seq for e in model.events} == {e.seq for e in trace.events if e.end <= 2 * S}
    assert len(model.utilization) == 1
    # Its reads and writes came after 2 s: forgotten with the rest of the future.
    assert [e.kind for e in model.recent(("conn", 4))] == [ev.CONN_OPEN]


def test_current_row_and_recent_events_of_a_subject(replay: ReplayFeed) -> None:
    model = fed_model(replay, 3 * S)
    assert model.current(("conn", 3)) is not None
    assert [e.kind for e in model.recent(("timer", 4))] == ["timer.schedule", "timer.reset"]
    replay.seek(7_500 * MS)  # the echo client has hung up
    model.apply(replay.poll())
    assert model.current(("conn", 3)) is None
    assert model.current(("conn", 4)).peer == "127.0.0.1:50002"  # type: ignore[union-attr]
    assert model.recent(("conn", 3))[-1].kind == ev.CONN_CLOSE


def test_output_lines_and_viewer_drops_come_from_the_feed(trace: Trace, clock: FakeClock) -> None:
    feed = RecordedLiveFeed(trace, clock, output=["one", "two"])
    feed.viewer_dropped = 5
    model = ViewModel(meta=feed.meta)
    changes = model.apply(feed.poll())
    assert changes.output == ("one", "two")
    assert (model.state, model.viewer_dropped) == (LIVE, 5)


def test_subjects_of_each_kind(trace: Trace) -> None:
    by_kind = {e.kind: e for e in trace.events}
    cancel = by_kind[ev.TIMER_CANCEL]
    assert subjects_of(cancel) == [("timer", 3), ("callable", "demo.program.retry")]
    assert subjects_of(by_kind[ev.IO_READ])[0][0] == "conn"
    assert subjects_of(by_kind[ev.CONN_OPEN]) == [("conn", by_kind[ev.CONN_OPEN].args["conn"])]
    assert subjects_of(by_kind[ev.DEFERRED]) == [("callable", by_kind[ev.DEFERRED].name)]
    assert subjects_of(by_kind[ev.ITERATION]) == []
    assert subjects_of(by_kind[ev.WARNING]) == []


def test_filter_by_kind_and_text(trace: Trace) -> None:
    model = ViewModel()
    model.log.add(trace.events)

    def shown(flt: Filter) -> list[ev.Event]:
        model.log.set_filter(flt.shows_event)
        return [entry.event for entry in model.log.shown]

    default = shown(Filter())
    assert {e.kind for e in default} == {e.kind for e in trace.events} - {ev.ITERATION}
    echo = shown(Filter(text="ECHO"))
    assert echo and all("echo" in (e.name + str(e.args)).lower() for e in echo)
    timers = shown(Filter(kinds=frozenset({ev.TIMER})))
    assert sorted(timers, key=lambda e: e.seq) == [e for e in trace.events if e.kind == ev.TIMER]
    assert Filter().describe_kinds() == "all but iteration"
    assert Filter(kinds=frozenset(ev.KINDS)).describe_kinds() == "all kinds"
    assert Filter(kinds=frozenset({ev.SLOW})).describe_kinds() == "slow"
    assert ev.ITERATION not in DEFAULT_KINDS


def test_slow_threshold_comes_from_the_trace_options() -> None:
    assert ViewModel(meta={"options": {"slow_ms": 50}}).slow_ns == 50 * MS
    assert ViewModel(meta={}).slow_ns == 100 * MS


def test_each_kind_has_a_colour_and_an_account(trace: Trace) -> None:
    seen = {}
    for event in trace.events:
        seen.setdefault(event.kind, event)
    # Kinds the sample screen does not show (diagnosis sources) are described
    # too, including when every arg is unknown.
    for kind in set(ev.KINDS) - set(seen):
        seen[kind] = ev.Event(10_000, 1_000, 0, kind, "x", dict.fromkeys(ev.ARGS[kind]))
    assert set(seen) == set(ev.KINDS)
    for kind, event in seen.items():
        assert describe.kind_style(kind)
        assert describe.about(event), kind
    fields = describe.fields(seen[ev.SLOW])
    assert fields["blocked"] == "210ms"
    assert "time.sleep" in fields["stack"]
    assert describe.about(seen[ev.IO_WRITE]).startswith("c3 ")
    assert describe.about(seen[ev.IO_WRITE], "c9").startswith("c9 ")
