"""Every subscriber gets every event, whoever else drains the tracer."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

PROGRAM = textwrap.dedent(
    """
    import json
    from twisted.internet import reactor
    import reactortrace

    tracer = reactortrace.instrument(reactor)
    stream, viewer = tracer.subscribe(), tracer.subscribe()
    seen = {"stream": [], "viewer": [], "late": []}
    late = []

    def tick(n):
        if n % 3 == 0:
            tracer.snapshot()  # drains the ring: must not take events away
        if n == 5:  # joins late, with everything recorded so far
            late.append(tracer.subscribe(history=True))
        seen["stream"].extend(e.seq for e in stream())
        if n < 9:
            reactor.callLater(0, tick, n + 1)
        else:
            reactor.stop()

    reactor.callLater(0, tick, 0)
    reactor.run()
    seen["stream"].extend(e.seq for e in stream())
    seen["viewer"].extend(e.seq for e in viewer())
    seen["late"].extend(e.seq for e in late[0]())
    seen["all"] = [e.seq for e in tracer.events()]
    viewer.close()
    tracer.snapshot()
    seen["after_close"] = len(viewer())
    print(json.dumps(seen))
    """
)


def test_subscribers_get_every_event_once_despite_snapshots() -> None:
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["stream"] == seen["viewer"]  # both got the same events, in order
    assert seen["late"] == seen["stream"]  # history=True: the earlier ones too, once each
    assert len(seen["stream"]) == len(set(seen["stream"]))  # each once
    assert set(seen["stream"]) == set(seen["all"])  # none lost to snapshot()
    assert len(seen["stream"]) > 20
    assert seen["after_close"] == 0


ASYNCIO_FROM_THREAD = textwrap.dedent(
    """
    import json, threading
    from twisted.internet import asyncioreactor
    asyncioreactor.install()
    from twisted.internet import reactor
    import reactortrace

    tracer = reactortrace.instrument(reactor)
    ran = []

    def from_thread():
        ran.append(threading.current_thread().name)
        reactor.stop()

    reactor.callWhenRunning(lambda: threading.Thread(
        target=reactor.callFromThread, args=(from_thread,)).start())
    reactor.run()
    events = tracer.events()
    print(json.dumps({
        "dropped": tracer.dropped,
        "threads": [e.name for e in events if e.kind == "thread"],
        "ran": ran,
    }))
    """
)


def test_asyncio_calls_from_threads_drop_nothing() -> None:
    # asyncio runs callFromThread calls as callLater(0): their schedule record
    # makes no event, but must not be counted as dropped either.
    done = subprocess.run(
        [sys.executable, "-c", ASYNCIO_FROM_THREAD], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["ran"] == ["MainThread"]
    assert [name.rsplit(".", 1)[-1] for name in seen["threads"]] == ["from_thread"]
    assert seen["dropped"] == 0
