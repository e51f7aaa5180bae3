"""A small, realistic recorded run for the TUI tests, and feeds to drive the app with.

The run lasts about ten seconds: a web port and an echo port listening, an echo
client that talks every 250 ms and hangs up at 7 s, an HTTP request whose
answer stays in the write buffer, a LoopingCall every second, timers that are
scheduled, reset, cancelled and fired, thread-pool work, deferred callbacks and
an errback, loop iterations, and one callback at 5 s that blocks for 210 ms
(a ``slow`` event and a warning).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reactortrace.core.events import Event
from reactortrace.core.feed import LIVE, PAUSED, FeedUpdate
from reactortrace.core.replay import ReplayFeed
from reactortrace.core.snapshot import BlockedInfo, DeferredInfo, PendingDeferreds
from reactortrace.core.trace import Trace

MS = 1_000_000
S = 1_000_000_000

META: dict[str, Any] = {
    "program": "/srv/demo/program.py",
    "argv": ["program.py", "--port", "8000"],
    "pid": 4242,
    "python": "3.11.9",
    "twisted": "26.10.0",
    "reactor": "twisted.internet.epollreactor.EPollReactor",
    "start_wall": 1_700_000_000.0,
    "options": {"slow_ms": 100, "max_events": 1_000_000},
}

SLOW_AT = 5 * S
SLOW_DUR = 210 * MS
WARNING_AT = SLOW_AT + SLOW_DUR + 1 * MS
CLIENT_CLOSED_AT = 7 * S
TIMEOUT = "twisted.protocols.policies.TimeoutMixin.__timedOut"


class FakeClock:
    """A clock the tests move by hand (seconds, like time.monotonic)."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def sample_events() -> list[Event]:
    """The run's events in recording order (by end time), numbered from 0."""
    raw: list[tuple[int, int, str, str, dict[str, Any]]] = []

    def add(kind: str, ts: int, dur: int = 0, name: str = "", **args: Any) -> None:
        raw.append((ts, dur, kind, name, args))

    add("system", 0, name="startup", phase="startup")
    add("conn.open", 1 * MS, name="twisted.web.server.Site", conn=1, fd=5,
        type="tcp.port", local="0.0.0.0:8000", peer=None, transport="twisted.internet.tcp.Port")
    add("conn.open", 2 * MS, name="demo.echo.EchoFactory", conn=2, fd=6,
        type="tcp.port", local="0.0.0.0:9000", peer=None, transport="twisted.internet.tcp.Port")
    _timers(add)
    _echo_client(add)
    _http_request(add)
    _threads_and_deferreds(add)
    _slow_callback(add)
    _iterations(add)
    add("system", 9_900 * MS, name="shutdown", phase="before")
    raw.sort(key=lambda item: (item[0] + item[1], item[0]))
    return [Event(seq, *fields) for seq, fields in enumerate(raw)]


def _timers(add: Any) -> None:
    add("timer.schedule", 3 * MS, name="demo.program.heartbeat", timer=1,
        site="demo/program.py:41", delay=1 * S, due=1 * S + 3 * MS, looping=True)
    add("timer.schedule", 4 * MS, name="demo.program.give_up", timer=2,
        site="demo/program.py:58", delay=30 * S, due=30 * S + 4 * MS, looping=False)
    add("timer.schedule", 5 * MS, name="demo.program.retry", timer=3,
        site="demo/program.py:63", delay=2 * S, due=2 * S + 5 * MS, looping=False)
    add("timer.schedule", 6 * MS, name=TIMEOUT, timer=4, site="demo/web.py:22", delay=5 * S,
        due=5 * S + 6 * MS, looping=False)
    add("timer.schedule", 7 * MS, name="demo.program.blocking", timer=5,
        site="demo/program.py:77", delay=SLOW_AT - 7 * MS, due=SLOW_AT, looping=False)
    add("timer.cancel", 1_500 * MS, name="demo.program.retry", timer=3, site="demo/program.py:63")
    add("timer.reset", 2_500 * MS, name=TIMEOUT, timer=4, site="demo/web.py:22", due=8 * S)
    add("timer", 8 * S + 300_000, 90_000, name=TIMEOUT, timer=4, site="demo/web.py:22",
        delay=5 * S, late=300_000, looping=False, error=None)
    # The LoopingCall: each firing schedules the next DelayedCall, with a new id.
    timer_id, due = 1, 1 * S + 3 * MS
    for beat in range(1, 10):
        late = (beat * 37 % 5) * 100_000
        fired = due + late
        add("timer", fired, 150_000, name="demo.program.heartbeat", timer=timer_id,
            site="demo/program.py:41", delay=1 * S, late=late, looping=True, error=None)
        next_id = 100 + beat
        due = due + 1 * S
        add("timer.schedule", fired + 100_000, name="demo.program.heartbeat", timer=next_id,
            site="demo/program.py:41", delay=due - fired - 100_000, due=due, looping=True)
        timer_id = next_id


def _echo_client(add: Any) -> None:
    add("conn.open", 500 * MS, name="demo.echo.Echo", conn=3, fd=7, type="tcp",
        local="127.0.0.1:9000", peer="127.0.0.1:50001", transport="twisted.internet.tcp.Server")
    at = 750 * MS
    while at < CLIENT_CLOSED_AT:
        add("io.read", at, 40_000, name="demo.echo.Echo", conn=3, fd=7, bytes=64, error=None)
        add("io.write", at + 50_000, 20_000, name="demo.echo.Echo", conn=3, fd=7,
            bytes=64, buffered=0, error=None)
        at += 250 * MS
    add("conn.close", CLIENT_CLOSED_AT, name="demo.echo.Echo", conn=3, reason="ConnectionDone")


def _http_request(add: Any) -> None:
    add("conn.open", 2 * S, name="twisted.web.http.HTTPChannel", conn=4, fd=8, type="tcp",
        local="127.0.0.1:8000", peer="127.0.0.1:50002", transport="twisted.internet.tcp.Server")
    add("io.read", 2 * S + 10 * MS, 300_000, name="twisted.web.http.HTTPChannel", conn=4, fd=8,
        bytes=310, error=None)
    add("deferred", 2 * S + 20 * MS, 2 * MS, name="demo.web.render_page", outcome="success",
        failure=None, errback=False, site="demo/web.py:35", line=None)
    add("io.write", 2 * S + 30 * MS, 500_000, name="twisted.web.http.HTTPChannel", conn=4, fd=8,
        bytes=16_384, buffered=48_000, error=None)


def _threads_and_deferreds(add: Any) -> None:
    add("thread", 3 * S, 40 * MS, name="demo.program.crunch", source="pool", wait=2 * MS,
        thread="PoolThread-twisted.internet.reactor-1", error=None)
    add("deferred", 3 * S + 45 * MS, 300_000, name="demo.program.on_crunched", outcome="success",
        failure=None, errback=False, site="demo/program.py:90", line=None)
    add("thread", 3 * S + 50 * MS, 50_000, name="demo.program.report", source="reactor",
        wait=1 * MS, thread="MainThread", error=None)
    add("deferred", 4 * S, 120_000, name="demo.program.on_error", outcome="failure",
        failure="builtins.ValueError", errback=True, site="demo/program.py:95", line=None)


def _slow_callback(add: Any) -> None:
    add("timer", SLOW_AT, SLOW_DUR, name="demo.program.blocking", timer=5,
        site="demo/program.py:77", delay=SLOW_AT - 7 * MS, late=0, looping=False, error=None)
    add("slow", SLOW_AT, SLOW_DUR, name="demo.program.blocking", dispatch="timer",
        stack="demo/program.py:80 in blocking\n  time.sleep(0.21)", blocked=SLOW_DUR)
    add("warning", WARNING_AT, name="slow-callback", code="slow-callback",
        message="demo.program.blocking blocked the reactor for 210ms", where="demo/program.py:77")


def _iterations(add: Any) -> None:
    at = 0
    while at < 9_900 * MS:
        if at == SLOW_AT:
            dur, busy = SLOW_DUR + 5 * MS, SLOW_DUR + 2 * MS
        else:
            dur, busy = 100 * MS, (3 + at // S) * MS
        add("iteration", at, dur, name="iteration", wait=dur - busy)
        at += dur


def sample_trace(**overrides: Any) -> Trace:
    """The run as a loaded trace."""
    fields: dict[str, Any] = {
        "meta": dict(META),
        "events": sample_events(),
        "snapshot": None,
        "dropped": 0,
        "complete": True,
        "path": None,
    }
    fields.update(overrides)
    return Trace(**fields)


class RecordedLiveFeed:
    """A stand-in for the live feed: recorded events arrive as time passes.

    It plays the sample through a :class:`ReplayFeed` but reports itself as
    ``live``, with program output and viewer drops, as a live feed would.
    """

    def __init__(self, trace: Trace, clock: FakeClock, output: list[str] | None = None) -> None:
        self.meta = trace.meta
        self._replay = ReplayFeed(trace, clock=clock)
        self._output = list(output or [])
        self.viewer_dropped = 0
        self.paused = False
        self.closed = 0

    def poll(self) -> FeedUpdate:
        update = self._replay.poll()
        output, self._output = tuple(self._output), []
        return FeedUpdate(
            snapshot=update.snapshot,
            events=update.events,
            state=PAUSED if self.paused else LIVE,
            viewer_dropped=self.viewer_dropped,
            position=update.position,
            duration=update.position,
            output=output,
        )

    def add_output(self, *lines: str) -> None:
        self._output.extend(lines)

    def pause(self) -> None:
        self.paused = True
        self._replay.pause()

    def resume(self) -> None:
        self.paused = False
        self._replay.resume()

    def close(self) -> None:
        self.closed += 1


#: The stack of the sample's block, as the watchdog reports it: the program's
#: frames first (the blocking one last of them), then the library's.
BLOCKED_STACK = (
    "/srv/app/jobs.py:31 job_that_waits",
    "/srv/app/storage.py:88 wait_for_the_disk",
    "/usr/lib/python3.11/socket.py:705 readinto",
)


class BlockedLiveFeed(RecordedLiveFeed):
    """The live stand-in, with the reactor blocked from ``since`` (trace ns) until
    ``until`` (or for good): its snapshots carry the block as a live feed's do."""

    def __init__(self, trace: Trace, clock: FakeClock, since: int, until: int | None = None,
                 waiting: bool = True) -> None:
        super().__init__(trace, clock)
        self.since, self.until, self.waiting = since, until, waiting

    def poll(self) -> FeedUpdate:
        update = super().poll()
        now = update.snapshot.ts
        if now < self.since or (self.until is not None and now >= self.until):
            return update
        elapsed = now - self.since
        blocked = BlockedInfo(
            since=self.since, elapsed=elapsed, name="app.jobs.job_that_waits", kind="timer",
            made_at="/srv/app/jobs.py:12", site="/srv/app/storage.py:88",
            function="wait_for_the_disk", stack=BLOCKED_STACK, user_frames=2,
            cpu=2 * MS, on_cpu=0.01 if self.waiting else 0.98, gc=3 * MS,
            samples=elapsed // (25 * MS), moves=0,
        )
        loop = replace(update.snapshot.loop, utilization=1.0, lag=elapsed)
        return replace(update, snapshot=replace(update.snapshot, blocked=blocked, loop=loop))


def sample_pending(now: int, extra: int = 0) -> PendingDeferreds:
    """Pending Deferreds as a live program's snapshot at ``now`` would list them:
    a request handler's coroutine waiting on a chain that a timer fires, an
    ``inlineCallbacks`` poller on ``deferLater``, a coroutine on a thread job,
    a protocol's Deferred waiting on connection 4's data, two Deferreds waiting
    on each other; ``extra`` more plain ones (the youngest) to show bounds."""
    def made(age: int) -> int:  # ages grow as the program runs
        return age + now // 10

    cycle = "deadlock: #31 → #32 → #31"
    infos = [
        DeferredInfo(11, "coroutine", "app.web.handle_order", made(2 * S), "/srv/app/web.py:40",
                     "/srv/app/web.py:52", ("/srv/app/web.py:52 handle_order",), (12,),
                     "deferred", "its coroutine, waiting on #12", None, None,
                     "timer 2, due in 25.0s", 2),
        DeferredInfo(12, "deferred", "app.store.fetch", made(2 * S + 1 * MS), "/srv/app/store.py:17",
                     None, (), (13,), "deferred", "Deferred #13", None, None,
                     "timer 2, due in 25.0s", 1),
        DeferredInfo(13, "deferred", "app.store.retry_later", made(2 * S + 2 * MS),
                     "/srv/app/store.py:30", None, (), (), "timer", "timer 2, due in 25.0s", 2,
                     None, "timer 2, due in 25.0s", 0),
        DeferredInfo(21, "inlineCallbacks", "app.poll.poller", made(1 * S), "/srv/app/poll.py:8",
                     "/srv/app/poll.py:14", ("/srv/app/poll.py:14 poller",), (22,), "deferred",
                     "its generator, waiting on #22", None, None, "timer 1, due in 0.4s", 1),
        DeferredInfo(22, "deferred", "twisted.internet.task.deferLater", made(1 * S),
                     "/srv/app/poll.py:14", None, (), (), "timer", "timer 1, due in 0.4s", 1, None,
                     "timer 1, due in 0.4s", 0),
        DeferredInfo(25, "coroutine", "app.jobs.resize", made(3 * S), "/srv/app/jobs.py:20",
                     "/srv/app/jobs.py:24", ("/srv/app/jobs.py:24 resize",), (26,), "deferred",
                     "its coroutine, waiting on #26", None, None,
                     "thread-pool job app.jobs.crunch", 1),
        DeferredInfo(26, "deferred", "twisted.internet.threads.deferToThreadPool", made(3 * S),
                     "/srv/app/jobs.py:24", None, (), (), "thread", "thread-pool job app.jobs.crunch",
                     None, None, "thread-pool job app.jobs.crunch", 0),
        DeferredInfo(28, "deferred", "app.client.LineClient.connectionMade", made(4 * S),
                     "/srv/app/client.py:12", None, (), (), "connection",
                     "data on connection 4 (LineClient)", None, 4,
                     "data on connection 4 (LineClient)", 0),
        DeferredInfo(31, "deferred", "app.locks.swap", made(500 * MS), "/srv/app/locks.py:9",
                     None, (), (32,), "deferred", "Deferred #32", None, None, cycle, 2, True),
        DeferredInfo(32, "deferred", "app.locks.swap", made(500 * MS), "/srv/app/locks.py:10",
                     None, (), (31,), "deferred", "Deferred #31", None, None, cycle, 1, True),
    ]
    infos += [
        DeferredInfo(100 + n, "deferred", "app.cache.lookup", made(n * MS), "/srv/app/cache.py:5")
        for n in range(extra)
    ]
    infos.sort(key=lambda i: -(i.age or 0))
    return PendingDeferreds(tuple(infos), total=len(infos) + 40 * bool(extra),
                            omitted=40 * bool(extra), deadlocks=((31, 32),))


class DeferredsLiveFeed(RecordedLiveFeed):
    """The live stand-in, with the pending Deferreds a live program's snapshots carry."""

    def __init__(self, trace: Trace, clock: FakeClock, extra: int = 0) -> None:
        super().__init__(trace, clock)
        self.extra = extra

    def poll(self) -> FeedUpdate:
        update = super().poll()
        pending = sample_pending(update.snapshot.ts, self.extra)
        return replace(update, snapshot=replace(update.snapshot, deferreds=pending))
