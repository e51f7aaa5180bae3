"""Play a recorded trace through the same :class:`Feed` interface as a live program.

:class:`ReplayFeed` walks the events of a :class:`Trace` with a cursor that a
clock moves forward at a chosen speed. The state at the cursor comes from
:class:`LoopState`, fed the events in ``seq`` order, exactly as a live viewer's
would be. Seeking backwards rebuilds the state from the nearest checkpoint
(a copy of the state taken every ``checkpoint_every`` events) or from the start.

An event is shown once the cursor passes its end: the running maximum of end
times in ``seq`` order, so the events shown are always a prefix of the trace.

A trace still being read (a large file) comes with a :class:`Loading`: each
poll takes the events read since the last, so the first screen shows before
the whole file is in; the trace's end is known once it is done.
"""

from __future__ import annotations

import bisect
import copy
import time
from dataclasses import replace
from typing import Callable, Protocol, runtime_checkable

from reactortrace.core import events as ev
from reactortrace.core.diagnose import Thresholds
from reactortrace.core.events import Event
from reactortrace.core.feed import ENDED, PAUSED, REPLAY, Feed, FeedUpdate
from reactortrace.core.snapshot import Snapshot
from reactortrace.core.state import DEFAULT_WINDOW_NS, LoopState
from reactortrace.core.trace import Trace

MIN_SPEED = 0.25
MAX_SPEED = 64.0
#: Events handed over by one poll at most; the rest still count in the snapshot.
MAX_EVENTS_PER_POLL = 500
CHECKPOINT_EVERY = 50_000


class Loading(Protocol):
    """Events of a trace still being read, handed over as they come."""

    @property
    def done(self) -> bool:
        """Whether every event is read (the trace's snapshot and ``complete`` are set)."""

    def take(self) -> list[Event]:
        """The events read since the last call, in ``seq`` order (thread-safe)."""


@runtime_checkable
class ReplayControls(Feed, Protocol):
    """A feed the viewer can move around in: what the replay keys act on."""

    speed: float

    @property
    def playing(self) -> bool:
        """Whether the clock moves the cursor."""

    def step(self) -> Event | None:
        """Show one more event."""

    def seek(self, ts_ns: int) -> None:
        """Move the cursor to a time."""

    def seek_next(self, kind: str = ev.SLOW) -> Event | None:
        """Move the cursor just past the next event of a kind."""


class ReplayFeed:
    """A :class:`Feed` over a loaded trace, with play, pause, step, seek and speed.

    ``clock`` returns seconds (default :func:`time.monotonic`); tests pass a fake
    one. Playback starts at the beginning of the trace, playing unless
    ``playing`` is False, and stops at the end (state ``ended``).
    """

    def __init__(
        self,
        trace: Trace,
        *,
        clock: Callable[[], float] = time.monotonic,
        speed: float = 1.0,
        playing: bool = True,
        max_events: int = MAX_EVENTS_PER_POLL,
        checkpoint_every: int = CHECKPOINT_EVERY,
        window_ns: int = DEFAULT_WINDOW_NS,
        loading: Loading | None = None,
    ) -> None:
        if max_events < 1 or checkpoint_every < 1:
            raise ValueError("max_events and checkpoint_every must be positive")
        self.trace = trace
        self.meta = trace.meta
        self._events = trace.events
        self._release = _running_max_end(self._events)
        last_end = self._release[-1] if self._release else 0
        final_ts = trace.snapshot.ts if trace.snapshot is not None else 0
        #: ns from trace start to the end of the trace.
        self.duration = max(last_end, final_ts)
        self._clock = clock
        self._speed = _clamp_speed(speed)
        self._max_events = max_events
        self._checkpoint_every = checkpoint_every
        self._window_ns = window_ns
        self._checkpoints: dict[int, LoopState] = {}
        self._state = self._fresh_state()
        self._index = 0  # events[:index] are fed to the state
        self._reported = 0  # events[:reported] were handed to the viewer
        self._position = 0
        self._playing = False
        self._last_clock = 0.0
        self._cached: tuple[tuple[int, int], Snapshot] | None = None
        self.closed = False
        self._loading = loading  # taken from at each poll
        self._apply_until(self._visible_at(0))
        if playing:
            self.resume()

    # -- Feed ------------------------------------------------------------

    def poll(self) -> FeedUpdate:
        """Advance by the clock and return the state at the cursor."""
        self._take_loaded()
        self._advance()
        start = max(self._reported, self._index - self._max_events)
        events = tuple(self._events[start : self._index])
        self._reported = self._index
        return FeedUpdate(
            snapshot=self.snapshot(),
            events=events,
            state=self.state,
            position=self._position,
            duration=self.duration,
        )

    def pause(self) -> None:
        """Stop the cursor where the clock has brought it."""
        self._advance()
        self._playing = False

    def resume(self) -> None:
        """Play from the cursor; from the start if the cursor is at the end."""
        if self._playing:
            return
        if self._position >= self.duration and self.duration > 0 and not self.loading:
            self.seek(0)
        self._playing = True
        self._last_clock = self._clock()

    def close(self) -> None:
        """Stop playing; the trace stays in memory for whoever holds it."""
        self.pause()
        self.closed = True

    # -- replay controls ---------------------------------------------------

    @property
    def playing(self) -> bool:
        """Whether the clock moves the cursor."""
        return self._playing

    @property
    def loading(self) -> bool:
        """Whether the trace is still being read (its end is not known yet)."""
        return self._loading is not None

    @property
    def state(self) -> str:
        """``replay`` while playing, ``ended`` at the end, else ``paused``."""
        if self._playing:
            return REPLAY
        if self._position >= self.duration and not self.loading:
            return ENDED
        return PAUSED

    @property
    def position(self) -> int:
        """Where the cursor is, in ns since trace start."""
        return self._position

    @property
    def index(self) -> int:
        """How many events are behind the cursor."""
        return self._index

    @property
    def speed(self) -> float:
        """Trace seconds played per clock second, kept within 0.25..64."""
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._advance()  # time already played counts at the old speed
        self._speed = _clamp_speed(value)

    def step(self) -> Event | None:
        """Pause and show exactly one more event; ``None`` at the end."""
        self.pause()
        if self._index >= len(self._events):
            self._position = self.duration
            return None
        event = self._events[self._index]
        self._apply_until(self._index + 1)
        self._position = max(self._position, self._release[self._index - 1])
        return event

    def seek(self, ts_ns: int) -> None:
        """Move the cursor to ``ts_ns`` (clamped to the trace); keeps playing if it was."""
        self._advance()
        self._position = min(max(0, int(ts_ns)), self.duration)
        self._move_to(self._visible_at(self._position))
        if self._playing:
            self._last_clock = self._clock()
            if self._position >= self.duration:
                self._playing = False

    def seek_next(self, kind: str = ev.SLOW) -> Event | None:
        """Pause just after the next event of ``kind``; ``None`` (and no move) if none."""
        self.pause()
        for i in range(self._index, len(self._events)):
            if self._events[i].kind == kind:
                self._apply_until(i + 1)
                self._position = max(self._position, self._release[i])
                return self._events[i]
        return None

    def snapshot(self) -> Snapshot:
        """The state at the cursor (cached until the cursor moves)."""
        key = (self._index, self._position)
        if self._cached is None or self._cached[0] != key:
            self._state.ended = self._position >= self.duration
            snapshot = self._state.snapshot(self._position)
            final = self.trace.snapshot
            if self._state.ended and final is not None and final.deferreds is not None:
                # Pending Deferreds are known only as the trace was written: at its end.
                snapshot = replace(snapshot, deferreds=final.deferreds)
            self._cached = (key, snapshot)
        return self._cached[1]

    # -- internals ---------------------------------------------------------

    def _fresh_state(self) -> LoopState:
        state = LoopState(self._window_ns, thresholds=Thresholds.from_meta(self.trace.meta))
        state.dropped = self.trace.dropped
        return state

    def _advance(self) -> None:
        """Move the cursor by the clock time since the last look, at the speed."""
        if not self._playing:
            return
        now = self._clock()
        elapsed = max(0.0, now - self._last_clock)
        self._last_clock = now
        self._position = min(
            self.duration, self._position + int(elapsed * self._speed * 1e9)
        )
        if self._position >= self.duration and not self.loading:
            self._playing = False
        self._apply_until(self._visible_at(self._position))

    def _take_loaded(self) -> None:
        """Take in the events read since the last look (and the end, once read)."""
        loading = self._loading
        if loading is None:
            return
        done = loading.done  # before taking: then nothing read is left behind
        events = loading.take()
        if events:
            self._events.extend(events)
            self._release.extend(_running_max_end(events, self._release[-1] if self._release else 0))
            self.duration = max(self.duration, self._release[-1])
        if done:
            self._loading = None
            self._cached = None
            if self.trace.snapshot is not None:
                self.duration = max(self.duration, self.trace.snapshot.ts)

    def _visible_at(self, ts: int) -> int:
        """How many events have ended by ``ts``."""
        return bisect.bisect_right(self._release, ts)

    def _move_to(self, target: int) -> None:
        """Make ``events[:target]`` exactly the events fed to the state."""
        if target < self._index:
            self._rewind(target)
            self._reported = max(0, target - self._max_events)
        self._apply_until(target)

    def _rewind(self, target: int) -> None:
        """Restart the state from the last checkpoint at or before ``target``."""
        best = max((i for i in self._checkpoints if i <= target), default=0)
        if best:
            self._state = copy.deepcopy(self._checkpoints[best])
        else:
            self._state = self._fresh_state()
        self._index = best

    def _apply_until(self, target: int) -> None:
        """Feed events up to ``target``, taking checkpoints on the way."""
        every = self._checkpoint_every
        while self._index < target:
            stop = min(target, (self._index // every + 1) * every)
            self._state.feed(self._events[self._index : stop])
            self._index = stop
            if stop % every == 0 and stop not in self._checkpoints:
                self._checkpoints[stop] = copy.deepcopy(self._state)


def _running_max_end(events: list[Event], latest: int = 0) -> list[int]:
    """For each event, the latest end among it and the events before it
    (and ``latest``, the end of those before the list)."""
    out: list[int] = []
    for event in events:
        end = event.ts + event.dur
        if end > latest:
            latest = end
        out.append(latest)
    return out


def _clamp_speed(value: float) -> float:
    return min(MAX_SPEED, max(MIN_SPEED, float(value)))
