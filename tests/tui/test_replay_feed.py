"""ReplayFeed: the clock moves the cursor; step, seek and next-slow put it where asked."""

from __future__ import annotations

import pytest

from reactortrace.core import events as ev
from reactortrace.core.feed import ENDED, PAUSED, REPLAY
from reactortrace.core.replay import MAX_SPEED, MIN_SPEED, ReplayControls, ReplayFeed
from reactortrace.core.trace import Trace

from .sample import SLOW_AT, SLOW_DUR, WARNING_AT, FakeClock, S, sample_trace


def ended_by(trace: Trace, ts: int) -> list[ev.Event]:
    return [e for e in trace.events if e.end <= ts]


def test_is_a_feed_with_replay_controls(replay: ReplayFeed) -> None:
    assert isinstance(replay, ReplayControls)  # a runtime-checkable Feed with controls
    assert replay.meta["pid"] == 4242


def test_starts_at_the_beginning_paused_when_asked(replay: ReplayFeed, trace: Trace) -> None:
    update = replay.poll()
    assert update.state == PAUSED
    assert update.position == 0
    assert update.duration == trace.duration
    assert list(update.events) == ended_by(trace, 0)
    assert update.snapshot == trace.state_at(0)


def test_playing_follows_the_clock(trace: Trace, clock: FakeClock) -> None:
    feed = ReplayFeed(trace, clock=clock)
    assert feed.poll().state == REPLAY
    clock.advance(1.5)
    update = feed.poll()
    assert update.position == int(1.5 * S)
    assert update.snapshot == trace.state_at(int(1.5 * S))
    clock.advance(1.0)
    second = feed.poll()
    # Each poll hands over only what ended since the previous one, in seq order.
    assert list(second.events) == [
        e for e in trace.events if int(1.5 * S) < e.end <= int(2.5 * S)
    ]


def test_pause_stops_the_cursor_and_resume_goes_on(trace: Trace, clock: FakeClock) -> None:
    feed = ReplayFeed(trace, clock=clock)
    clock.advance(1.0)
    feed.pause()
    clock.advance(5.0)
    update = feed.poll()
    assert (update.state, update.position) == (PAUSED, 1 * S)
    feed.resume()
    clock.advance(0.5)
    assert feed.poll().position == int(1.5 * S)


def test_speed_scales_clock_time_and_is_clamped(trace: Trace, clock: FakeClock) -> None:
    feed = ReplayFeed(trace, clock=clock, speed=4.0)
    clock.advance(0.5)
    assert feed.poll().position == 2 * S
    feed.speed = 0.5  # the time played so far counted at 4x
    clock.advance(2.0)
    assert feed.poll().position == 3 * S
    feed.speed = 1_000
    assert feed.speed == MAX_SPEED
    feed.speed = 0.001
    assert feed.speed == MIN_SPEED


def test_playback_ends_at_the_end_and_play_restarts_it(trace: Trace, clock: FakeClock) -> None:
    feed = ReplayFeed(trace, clock=clock)
    clock.advance(60.0)
    update = feed.poll()
    assert (update.state, update.position) == (ENDED, trace.duration)
    assert not feed.playing
    assert feed.index == len(trace.events)
    feed.resume()
    update = feed.poll()
    assert (update.state, update.position) == (REPLAY, 0)


def test_step_shows_one_event_at_a_time(replay: ReplayFeed, trace: Trace) -> None:
    replay.poll()
    shown = replay.index
    for expected in trace.events[shown : shown + 5]:
        assert replay.step() is expected
        update = replay.poll()
        assert update.events == (expected,)
        assert update.state == PAUSED
        assert update.position >= expected.end


def test_step_pauses_playback_and_stops_at_the_end(trace: Trace, clock: FakeClock) -> None:
    feed = ReplayFeed(trace, clock=clock)
    feed.step()
    assert not feed.playing
    feed.seek(trace.duration)
    assert feed.step() is None
    assert feed.poll().state == ENDED


@pytest.mark.parametrize("checkpoint_every", [10, 50_000])
def test_seeking_back_and_forth_gives_the_state_of_a_fresh_replay(
    trace: Trace, clock: FakeClock, checkpoint_every: int
) -> None:
    feed = ReplayFeed(trace, clock=clock, playing=False, checkpoint_every=checkpoint_every)
    target = int(5.5 * S)
    for position in (7 * S, 2 * S, 9 * S, 1 * S, target):
        feed.seek(position)
        feed.poll()
    fresh = ReplayFeed(trace, clock=FakeClock(), playing=False)
    fresh.seek(target)
    assert feed.poll().snapshot == fresh.poll().snapshot == trace.state_at(target)
    assert feed.index == fresh.index == len(ended_by(trace, target))


def test_a_backward_seek_resends_the_latest_events_before_the_cursor(
    trace: Trace, clock: FakeClock
) -> None:
    feed = ReplayFeed(trace, clock=clock, playing=False, max_events=5)
    feed.seek(8 * S)
    feed.poll()
    feed.seek(3 * S)
    update = feed.poll()
    assert update.position == 3 * S
    assert list(update.events) == ended_by(trace, 3 * S)[-5:]


def test_a_poll_hands_over_a_bounded_number_of_events(trace: Trace, clock: FakeClock) -> None:
    feed = ReplayFeed(trace, clock=clock, playing=False, max_events=7)
    feed.seek(trace.duration)
    update = feed.poll()
    assert list(update.events) == trace.events[-7:]
    assert update.snapshot.loop.events == len(trace.events)  # the rest still counted


def test_seek_keeps_playing_and_is_clamped(trace: Trace, clock: FakeClock) -> None:
    feed = ReplayFeed(trace, clock=clock)
    feed.seek(4 * S)
    clock.advance(0.25)
    assert feed.poll().position == int(4.25 * S)
    feed.seek(-5)
    assert feed.poll().position == 0
    feed.seek(10 * trace.duration)
    assert feed.poll().state == ENDED


def test_next_slow_event_pauses_just_after_it(replay: ReplayFeed, trace: Trace) -> None:
    found = replay.seek_next()
    assert found is not None and found.kind == ev.SLOW
    update = replay.poll()
    assert update.position == SLOW_AT + SLOW_DUR
    assert update.events[-1] is found
    assert update.state == PAUSED
    assert any(c.name == "demo.program.blocking" for c in update.snapshot.callables)
    # There is only one: the cursor stays where it is.
    assert replay.seek_next(ev.SLOW) is None
    assert replay.poll().position == SLOW_AT + SLOW_DUR


def test_next_warning_reaches_the_warning(replay: ReplayFeed) -> None:
    found = replay.seek_next(ev.WARNING)
    assert found is not None and found.name == "slow-callback"
    update = replay.poll()
    assert update.position == WARNING_AT
    assert [w["code"] for w in update.snapshot.warnings] == ["slow-callback"]


def test_dropped_events_of_the_trace_show_in_every_snapshot(clock: FakeClock) -> None:
    feed = ReplayFeed(sample_trace(dropped=12), clock=clock, playing=False)
    assert feed.poll().snapshot.dropped == 12
    feed.seek(3 * S)
    assert feed.poll().snapshot.dropped == 12


def test_an_empty_trace_is_ended_at_once(clock: FakeClock) -> None:
    feed = ReplayFeed(Trace(meta={}, events=[]), clock=clock)
    update = feed.poll()
    assert (update.state, update.position, update.duration, update.events) == (ENDED, 0, 0, ())
    assert feed.step() is None


def test_close_stops_playing(trace: Trace, clock: FakeClock) -> None:
    feed = ReplayFeed(trace, clock=clock)
    feed.close()
    feed.close()
    clock.advance(3.0)
    assert feed.closed
    assert feed.poll().position == 0


def test_pending_deferreds_are_shown_only_at_the_end_the_trace_knows_them_at(
    clock: FakeClock,
) -> None:
    from reactortrace.core.snapshot import Snapshot

    from .sample import sample_pending

    pending = sample_pending(10 * S)
    trace = sample_trace(snapshot=Snapshot(10 * S, deferreds=pending))
    feed = ReplayFeed(trace, clock=clock, playing=False)
    assert feed.poll().snapshot.deferreds is None  # at the start: not known then
    feed.seek(feed.duration)
    assert feed.poll().snapshot.deferreds == pending
