"""snapshot(), bounded memory and trace files, from real runs on every reactor family."""

from __future__ import annotations

import json

import jsonschema
import pytest

from reactortrace.formats.spec import schema

from .tracecheck import Run, Runner

S = 1_000_000_000


@pytest.fixture
def snap(runner: Runner, reactor: str) -> Run:
    return runner.run("snapshot", reactor, "--dump-events").check()


def _timer(snapshot: dict, name: str) -> dict:
    [timer] = [t for t in snapshot["timers"] if t["name"] == name]
    return timer


def test_snapshot_shows_pending_timers(snap: Run) -> None:
    snapshot = snap.tracer["snapshot"]
    far = _timer(snapshot, "far_away")
    assert far["site"] == snap.site("far")
    assert far["looping"] is False
    assert far["delay"] == 60 * S
    assert 59 * S < far["due_in"] <= 60 * S
    loop = _timer(snapshot, "every_half_minute")
    assert loop["site"] == snap.site("looping")
    assert loop["looping"] is True
    assert 29 * S < loop["due_in"] <= 30 * S
    assert "far_away" not in snap.program and "ticks" not in snap.program


def test_snapshot_shows_open_connections_with_their_bytes(snap: Run) -> None:
    snapshot = snap.tracer["snapshot"]
    sent = sum(snap.program["sent"])
    port = snap.program["server_port"]
    [server] = [c for c in snapshot["connections"] if c["type"] == "tcp"]
    [client] = [c for c in snapshot["connections"] if c["type"] == "tcp.client"]
    [listening] = [c for c in snapshot["connections"] if c["type"] == "tcp.listen"]
    assert server["protocol"] == "__main__.Echo"
    assert server["local"] == client["peer"] == listening["local"] == f"127.0.0.1:{port}"
    assert client["local"] == f"127.0.0.1:{snap.tracer['client_port']}"
    for conn in (server, client):
        assert conn["bytes_in"] == conn["bytes_out"] == sent
        assert conn["reads"] >= len(snap.program["sent"])
        assert conn["write_buffer"] == 0
        assert 0 <= conn["opened"] <= conn["last_activity"] <= snapshot["ts"]
        assert conn["age"] == snapshot["ts"] - conn["opened"]


def test_snapshot_counts_calls_per_callable(snap: Run) -> None:
    snapshot = snap.tracer["snapshot"]
    [counted] = [c for c in snapshot["callables"] if c["name"] == "counted"]
    assert counted["kind"] == "timer"
    assert counted["count"] == snap.program["counted"] == 7
    assert counted["errors"] == 0
    assert 0 < counted["max"] <= counted["total"]
    assert counted["mean"] == pytest.approx(counted["total"] / counted["count"], abs=1)


def test_snapshot_has_loop_statistics(snap: Run) -> None:
    loop = snap.tracer["snapshot"]["loop"]
    assert loop["iterations"] > 0
    assert loop["events"] > 0
    assert 0.0 <= loop["utilization"] <= 1.0
    assert loop["busy"] > 0 and loop["wait"] >= 0
    assert snap.tracer["snapshot"]["dropped"] == 0


def test_export_and_load_round_trip(snap: Run) -> None:
    assert snap.trace is not None
    assert [e.to_dict() for e in snap.trace.events] == snap.tracer["events"]
    assert snap.trace.dropped == 0
    assert snap.trace.meta["reactor"].rsplit(".", 1)[-1].lower().startswith(
        {"epoll": "epoll", "poll": "poll", "select": "select", "asyncio": "asyncio"}[snap.reactor]
    )
    # the exported snapshot is taken a moment after the one the program kept
    final = snap.tracer["final_snapshot"]
    loaded = json.loads(json.dumps(snap.trace.snapshot.to_dict()))
    assert loaded["callables"] == final["callables"]
    assert loaded["dropped"] == final["dropped"]
    for key, moving in (("timers", "due_in"), ("connections", "age")):
        assert [{**item, moving: 0} for item in loaded[key]] == [
            {**item, moving: 0} for item in final[key]
        ], key


def test_exported_traces_validate_against_the_schema(runner: Runner, reactor: str) -> None:
    validator = jsonschema.Draft202012Validator(schema())
    for name, flags in (("timers", ()), ("echo", ()), ("threads", ()), ("deferreds", ())):
        run = runner.run(name, reactor, *flags).check()
        document = json.loads(run.out.read_text())
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
        assert errors == [], f"{name}: {errors[:5]}"


def test_ring_keeps_the_last_events_and_counts_the_rest(runner: Runner, reactor: str) -> None:
    run = runner.run("bounded", reactor).check()
    timers = run.program["timers"]
    assert run.program["ticks"] == timers
    events = run.events
    assert len(events) == 100
    total = events[-1].seq + 1  # sequence numbers count every event from 0
    assert [e.seq for e in events] == list(range(total - 100, total))
    assert total >= 2 * timers  # each timer was scheduled and fired
    assert run.trace.dropped == total - 100
    assert run.tracer["snapshot_dropped"] == run.tracer["dropped"] == total - 100
    assert run.trace.snapshot.dropped == total - 100


def test_timers_kept_in_the_ring_are_named_even_if_their_schedule_was_dropped(
    runner: Runner, reactor: str
) -> None:
    run = runner.run("bounded", reactor).check()
    fired = run.of("timer")
    assert len(fired) > 50
    unnamed = [e for e in fired if e.name == "?" or e.args["site"] is None]
    assert unnamed == [], f"{len(unnamed)} of {len(fired)} fired timers lost their name and site"
    assert "tick" in {e.name for e in fired}
