"""The wire format: one JSON object per line, decoded back into the core model."""

from __future__ import annotations

import pytest

from reactortrace.core.events import Event
from reactortrace.core.snapshot import LoopStats, Snapshot, TimerInfo
from reactortrace.errors import ReactorTraceError
from reactortrace.live import protocol

SNAPSHOT = Snapshot(
    ts=5_000,
    timers=(TimerInfo(7, "shop.Shop.restock", "shop.py:12", 1_000, 2_000, True),),
    loop=LoopStats(3, 0.25, 120.0, 10, 100, 300, 9, 5_000),
    warnings=({"code": "slow-callback", "message": "m"},),
)
EVENTS = [Event(1, 10, 5, "timer", "shop.Shop.restock", {"timer": 7, "site": "shop.py:12"})]


def test_an_update_is_one_line_that_decodes_to_the_same_snapshot_and_events() -> None:
    line = protocol.update(EVENTS, 3, SNAPSHOT)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    message = protocol.decode(line[:-1])
    assert message["type"] == protocol.UPDATE
    assert message["omitted"] == 3
    assert protocol.read_snapshot(message) == SNAPSHOT
    assert protocol.read_events(message) == EVENTS


def test_hello_carries_meta_history_and_interval() -> None:
    message = protocol.decode(protocol.hello({"pid": 9}, SNAPSHOT, EVENTS, 0.15)[:-1])
    assert message["type"] == protocol.HELLO
    assert message["protocol"] == protocol.PROTOCOL
    assert message["meta"] == {"pid": 9}
    assert message["interval_ms"] == 150
    assert protocol.read_events(message) == EVENTS


def test_splitter_keeps_unfinished_lines_across_chunks() -> None:
    splitter = protocol.LineSplitter()
    data = protocol.end("stopped") + protocol.drops(4) + protocol.end("exit")
    lines: list[bytes] = []
    for i in range(0, len(data), 7):
        lines += splitter.feed(data[i : i + 7])
    assert [protocol.decode(line)["type"] for line in lines] == ["end", "drops", "end"]
    assert splitter.pending == 0


def test_splitter_refuses_an_endless_line() -> None:
    splitter = protocol.LineSplitter(max_line=100)
    splitter.feed(b"x" * 60)
    with pytest.raises(protocol.ProtocolError):
        splitter.feed(b"x" * 60)


@pytest.mark.parametrize(
    "line", [b"not json", b"[1, 2]", b'{"type": "exec", "code": "boom"}', b'{"no": "type"}']
)
def test_what_is_not_a_message_is_a_reactortrace_error(line: bytes) -> None:
    with pytest.raises(ReactorTraceError):
        protocol.decode(line)


def test_a_bad_snapshot_or_event_is_a_protocol_error() -> None:
    with pytest.raises(protocol.ProtocolError):
        protocol.read_snapshot({"type": "update", "snapshot": {"timers": []}})
    with pytest.raises(protocol.ProtocolError):
        protocol.read_events({"type": "update", "events": [{"seq": 1}]})


def test_pending_deferreds_cross_the_wire_as_they_are() -> None:
    from dataclasses import replace

    from reactortrace.core.snapshot import DeferredInfo, PendingDeferreds

    pending = PendingDeferreds(
        deferreds=(
            DeferredInfo(4, "coroutine", "shop.checkout", 9_000, "shop.py:3", "shop.py:7",
                         ("shop.py:7 checkout",), (5,), "deferred",
                         "its coroutine, waiting on #5", fired_by="nothing known", depth=1),
            DeferredInfo(5, "deferred", "shop.lookup", None, None),
        ),
        total=3, omitted=1, deadlocks=((8, 9),),
    )
    snapshot = replace(SNAPSHOT, deferreds=pending)
    message = protocol.decode(protocol.update([], 0, snapshot)[:-1])
    assert protocol.read_snapshot(message) == snapshot
