"""The wire format: one JSON object per line; raw records resolved by the viewer's replica."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from reactortrace.core.diagnose import Thresholds
from reactortrace.core.events import Event
from reactortrace.core.snapshot import LoopStats, Snapshot, TimerInfo
from reactortrace.errors import ReactorTraceError
from reactortrace.instrumentation import records as R
from reactortrace.instrumentation.capture import facts_of
from reactortrace.instrumentation.resolve import Resolver
from reactortrace.instrumentation.shipping import Shipment
from reactortrace.live import protocol
from reactortrace.live.replica import Replica

SNAPSHOT = Snapshot(
    ts=5_000,
    timers=(TimerInfo(7, "shop.Shop.restock", "shop.py:12", 1_000, 2_000, True),),
    loop=LoopStats(3, 0.25, 120.0, 10, 100, 300, 9, 5_000),
    warnings=({"code": "slow-callback", "message": "m"},),
)
EVENTS = [Event(1, 10, 5, "timer", "shop.Shop.restock", {"timer": 7, "site": "shop.py:12"})]


HELLO = {"type": "hello", "protocol": protocol.PROTOCOL, "meta": {"pid": 9},
         "interval_ms": 100, "clock": {"start": 100.0, "start_wall": 1_700_000_000.0},
         "thresholds": {"slow_ms": 50.0}, "first": 0, "last": -1}


def ship(first: int, records: list[object], facts: dict[int, object] | None = None,
         snapshot: Snapshot | None = None) -> dict[str, object]:
    """An update of ``records`` (packed bytes, or resolved rare events) as a viewer decodes it."""
    packed = b"".join(r for r in records if isinstance(r, bytes))
    rare = [(seq, r) for seq, r in enumerate(records, first) if not isinstance(r, bytes)]
    shipment = Shipment(first, len(records), packed, rare, len(facts or {}))
    line = protocol.update(shipment, (facts or {}).items(), snapshot, 0)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    return protocol.decode(line[:-1])


def test_hello_carries_meta_clock_thresholds_and_the_records_held() -> None:
    line = protocol.hello({"pid": 9}, 0.1, {"start": 1.0, "start_wall": 2.0, "before": None},
                          Thresholds(slow_ms=50.0), 3, 41)
    message = protocol.decode(line[:-1])
    assert message["type"] == protocol.HELLO
    assert message["protocol"] == protocol.PROTOCOL
    assert message["meta"] == {"pid": 9}
    assert message["interval_ms"] == 100
    assert (message["first"], message["last"]) == (3, 41)
    assert message["thresholds"]["slow_ms"] == 50.0


def test_records_become_the_events_the_program_would_resolve() -> None:
    """Packed records and the facts of what they name, resolved by the viewer,
    give what the program's own resolver gives; rare records come resolved."""
    code = test_records_become_the_events_the_program_would_resolve.__code__
    objects: list[object] = [None, "shop.checkout", code]
    packed = [
        R.ITERATION_FMT.pack(100.5, 100.75, R.ITERATION),
        R.DEFERRED_FMT.pack(100.75, 100.76, 1, 0, -1, 0, R.DEFERRED),
    ]
    rare = Event(1, 600_000_000, 0, "warning", "shop", {"code": "x", "message": "m"})
    facts = {ref: facts_of(obj) for ref, obj in enumerate(objects) if ref}
    replica = Replica(HELLO)
    events, lost = replica.take(ship(0, [packed[0], rare, packed[1]], facts))
    program = list(Resolver(100.0, 1_700_000_000.0, objects).resolve(
        [packed[0], (R.WARNING, 100.6, "x", "m", None, None, "shop"), packed[1]], 0))
    assert lost == 0
    assert [e.kind for e in events] == ["iteration", "warning", "deferred"]
    assert events[0] == program[0] and events[2] == program[2]
    assert events[1] == rare
    snapshot = replica.snapshot(Snapshot(ts=900_000_000, dropped=2))
    assert snapshot.dropped == 2 and snapshot.ts == 900_000_000
    assert snapshot.callables[0].name == "shop.checkout"
    assert snapshot.loop.events == 3


@pytest.mark.parametrize("spoil", [
    lambda m: m.update(packed="not base64!"),
    lambda m: m.update(packed=base64.b64encode(b"\x00" * 10).decode()),  # no such layout
    lambda m: m.update(count=m["count"] + 1),  # records do not add up
    lambda m: m.update(rare=[[99, None]]),  # outside the update
    lambda m: m.update(first=-1),
    lambda m: m.update(facts=[["x"]]),
    lambda m: m.update(packed=base64.b64encode(
        R.ITERATION_FMT.pack(float("nan"), 1.0, R.ITERATION)).decode()),
])
def test_records_that_do_not_decode_are_a_protocol_error(spoil: Any) -> None:
    message = ship(0, [R.ITERATION_FMT.pack(100.5, 100.75, R.ITERATION)])
    spoil(message)
    with pytest.raises(protocol.ProtocolError):
        Replica(HELLO).take(message)


def test_records_out_of_order_are_a_protocol_error() -> None:
    replica = Replica(HELLO)
    record = R.ITERATION_FMT.pack(100.5, 100.75, R.ITERATION)
    replica.take(ship(0, [record, record]))
    with pytest.raises(protocol.ProtocolError, match="out of order"):
        replica.take(ship(1, [record]))
    events, lost = replica.take(ship(5, [record]))  # the ring dropped three meanwhile
    assert lost == 3 and events[0].seq == 5


def test_splitter_keeps_unfinished_lines_across_chunks() -> None:
    splitter = protocol.LineSplitter()
    data = protocol.end("stopped") + protocol.update(None, (), SNAPSHOT, 0) + protocol.end("exit")
    lines: list[bytes] = []
    for i in range(0, len(data), 7):
        lines += splitter.feed(data[i : i + 7])
    assert [protocol.decode(line)["type"] for line in lines] == ["end", "update", "end"]
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
    message = protocol.decode(protocol.update(None, (), snapshot, 0)[:-1])
    # Only what the program alone knows goes: the rest is the viewer's replica's.
    assert protocol.read_snapshot(message) == Snapshot(ts=snapshot.ts, deferreds=pending)
