"""Short ids: one per timer for its life, one per LoopingCall across its ticks."""

from __future__ import annotations

from typing import Any

from reactortrace.core import events as ev
from reactortrace.core.events import Event
from reactortrace.core.snapshot import Snapshot, TimerInfo
from reactortrace.tui.ids import ShortIds

MS = 1_000_000
TICK = "app.beat"
SITE = "app.py:12"


class Stream:
    """Timer events in seq order, as the recorder makes them."""

    def __init__(self) -> None:
        self.ids = ShortIds()
        self.seq = 0

    def see(self, kind: str, ts: int, name: str = TICK, **args: Any) -> str | None:
        self.seq += 1
        return self.ids.see_event(Event(self.seq, ts, 0, kind, name, args))

    def schedule(self, raw: int, delay: int, name: str = TICK, looping: bool = True,
                 site: str = SITE) -> str | None:
        return self.see(ev.TIMER_SCHEDULE, raw, name, timer=raw, site=site, delay=delay,
                        due=raw + delay, looping=looping)

    def fired(self, raw: int, at: int, name: str = TICK, looping: bool = True) -> str | None:
        return self.see(ev.TIMER, at, name, timer=raw, site=SITE, delay=0, late=0,
                        looping=looping)


def ticks(stream: Stream, first: int, count: int, interval: int = 100 * MS,
          name: str = TICK) -> list[str | None]:
    """A LoopingCall's ticks as Twisted records them: the next tick is scheduled
    while the current one runs, so its schedule comes before the firing."""
    ids = [stream.schedule(first, interval, name)]
    raw = first
    for _ in range(count):
        at = raw + interval
        ids.append(stream.schedule(at + MS, interval, name))
        ids.append(stream.fired(raw, at, name))
        raw = at + MS
    return ids


def test_a_looping_call_keeps_one_id_across_its_ticks() -> None:
    stream = Stream()
    assert stream.schedule(1, 5_000 * MS, "app.once", looping=False) == "t1"
    assert set(ticks(stream, 10 * MS, 20)) == {"t2"}
    assert stream.schedule(5_000 * MS, MS, "app.later", looping=False) == "t3"


def test_one_shot_timers_get_a_new_id_each_and_keep_it() -> None:
    stream = Stream()
    first = stream.schedule(1, 10 * MS, looping=False)
    second = stream.schedule(2, 10 * MS, looping=False)
    assert (first, second) == ("t1", "t2")
    assert stream.fired(2, 12 * MS, looping=False) == "t2"
    assert stream.see(ev.TIMER_CANCEL, 13 * MS, timer=1, site="app.py:40") == "t1"


def test_two_looping_calls_of_one_function_keep_their_own_ids() -> None:
    stream = Stream()
    a = stream.schedule(1 * MS, 100 * MS)
    b = stream.schedule(50 * MS, 100 * MS)
    assert (a, b) == ("t1", "t2")
    # a ticks at 101 ms: b is not due until 150 ms, so a's next tick is a's
    assert stream.schedule(102 * MS, 100 * MS) == "t1"
    assert stream.fired(1 * MS, 101 * MS) == "t1"
    assert stream.schedule(152 * MS, 100 * MS) == "t2"
    assert stream.fired(50 * MS, 150 * MS) == "t2"


def test_a_stopped_looping_call_started_again_is_a_new_one() -> None:
    stream = Stream()
    assert set(ticks(stream, 1 * MS, 3)) == {"t1"}
    last = 1 * MS + 3 * (100 * MS + MS)
    assert stream.see(ev.TIMER_CANCEL, last + 10 * MS, timer=last, site="app.py:50") == "t1"
    assert stream.schedule(last + 20 * MS, 100 * MS) == "t2"


def test_ticks_seen_only_in_snapshots_still_follow_their_looping_call() -> None:
    """A viewer that samples the log may miss the events of a tick."""
    ids = ShortIds()

    def snapshot(ts: int, raw: int) -> Snapshot:
        info = TimerInfo(raw, TICK, SITE, raw + 100 * MS - ts, 100 * MS, True)
        return Snapshot(ts, timers=(info,))

    for n in range(5):
        raw = n * 100 * MS
        snap = snapshot(raw + 10 * MS, raw)
        ids.see_snapshot(snap)
        assert ids.of_info(snap.timers[0], snap.ts) == "t1"


def test_memory_is_bounded() -> None:
    stream = Stream()
    stream.ids = ShortIds(limit=10)
    for n in range(100):
        stream.schedule(n, MS, looping=False)
    assert len(stream.ids._timers) == 10
    assert stream.ids.known(99) == "t100" and stream.ids.known(0) is None
