"""Findings on real Twisted programs, on every reactor family, live and replayed:
a healthy corpus that must give none, and a troubled one, a program per
warning code, that must give exactly its own.

Each program in ``programs/`` runs in its own interpreter, traced, and writes
its trace. Lines the findings must point at carry a ``# @name`` comment. The
trace's final snapshot holds what the live tracer found; :func:`summarize`
finds it again from the events: both must agree.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import reactortrace
from reactortrace.core.diagnose import Thresholds
from reactortrace.core.trace import Trace
from reactortrace.formats.summary import summarize

PROGRAMS = Path(__file__).resolve().parent / "programs"
from ..reactors import REACTORS

#: Programs with nothing wrong: each must give no warning at all.
HEALTHY = ("healthy", "chat", "poller", "web", "endpoint")
#: One program per warning code not shown above, and exactly what it must give:
#: (code, the marker of the line it points at, the end of the name it is about).
TROUBLED: dict[str, list[tuple[str, str, str]]] = {
    "ticks": [("missed-ticks", "loop_start", "tick")],
    "pending": [("deferred-pending", "never", "Deferred")],
    "buffering": [("backpressure", "port", "Firehose")],  # no producer, the buffer grows
    "idle": [("idle-connection", "port", "Listener"), ("idle-connection", "connect", "Greeter")],
    "halfclosed": [("half-closed", "port", "Patient"), ("half-closed", "connect", "Quitter")],
}
NAMES = ("slow", "trouble", "crowd", *TROUBLED, *HEALTHY)
TIMEOUT = 60
#: Programs running at once.
AT_ONCE = 8


def site(program: str, marker: str) -> str:
    """``/abs/path/program.py:LINE`` of the line ending in ``# @marker``."""
    path = PROGRAMS / f"{program}.py"
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if re.search(rf"#\s*@{marker}\b", line):
            return f"{path}:{number}"
    raise AssertionError(f"no @{marker} in {path}")


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Trace]:
    """Every program on every reactor, AT_ONCE at a time: timing findings
    (late timers, slow callbacks) must come from the programs, not from a
    machine starved by dozens of interpreters starting together."""
    out = tmp_path_factory.mktemp("diagnosis")
    waiting = [(name, reactor) for name in NAMES for reactor in REACTORS]
    running: list[tuple[tuple[str, str], Path, subprocess.Popen[str]]] = []
    loaded = {}
    while waiting or running:
        while waiting and len(running) < AT_ONCE:
            name, reactor = key = waiting.pop(0)
            path = out / f"{name}-{reactor}.json"
            command = [sys.executable, str(PROGRAMS / f"{name}.py"), reactor, str(path)]
            running.append((key, path, subprocess.Popen(
                command, cwd=PROGRAMS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )))
        key, path, process = running.pop(0)
        try:
            _, stderr = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
        assert process.returncode == 0 and path.exists(), f"{key}: {stderr[-3000:]}"
        loaded[key] = reactortrace.load(str(path))
    return loaded


def about(warnings: Any) -> set[tuple[Any, ...]]:
    return {(w["code"], w["name"], w["where"], w["subject"]) for w in warnings}


def found(trace: Trace, thresholds: Thresholds | None = None) -> list[dict[str, Any]]:
    """The findings replayed from the events, checked against the live ones."""
    replayed = summarize(trace, thresholds)["warnings"]
    if thresholds is None:
        assert trace.snapshot is not None
        assert about(trace.snapshot.warnings) == about(replayed)
    return replayed


@pytest.mark.parametrize("reactor", REACTORS)
def test_slow_callbacks_name_the_blocking_line(
    traces: dict[tuple[str, str], Trace], reactor: str
) -> None:
    warnings = found(traces[("slow", reactor)])
    slow = {w["where"]: w for w in warnings if w["code"] == "slow-callback"}
    expected = {
        site("slow", "timer_block"): ("block_in_timer", "block_in_timer"),
        site("slow", "read_block"): ("Server.dataReceived", "Server.dataReceived"),
        site("slow", "deferred_block"): ("fire_deferred", "block_in_callback"),
        site("slow", "inline_block"): ("inline_flow", "inline_flow"),
    }
    assert set(slow) == set(expected), warnings
    for where, (name, function) in expected.items():
        assert slow[where]["name"].endswith(name)
        assert f"in {function}:" in slow[where]["message"]
        blocked = re.search(r"for (\d+) ms", slow[where]["message"])
        assert blocked and 240 <= int(blocked.group(1)) < 1000
    (late,) = [w for w in warnings if w["code"] == "late-timer"]
    assert late["where"] == site("slow", "late_timer") and late["name"].endswith("on_time")
    assert "blocked then by block_in_timer" in late["message"]
    assert len(warnings) == 5


def test_slowest_dispatches_keep_the_stack(traces: dict[tuple[str, str], Trace]) -> None:
    slowest = summarize(traces[("slow", "epoll")])["slowest"][:4]
    for row in slowest:
        assert row["dur"] >= 240_000_000 and row["stack"]
        assert row["stack"][-1].startswith(row["site"])


@pytest.mark.parametrize("reactor", REACTORS)
def test_hot_callables_count_every_dispatch_kind_with_self_time(
    traces: dict[tuple[str, str], Trace], reactor: str
) -> None:
    """The read handler is a hot callable; a timer whose Deferred callback
    blocked 250 ms has that in its total, not in its self time."""
    trace = traces[("slow", reactor)]
    summary = [(c["name"], c["kind"], c["total"], c["self"]) for c in summarize(trace)["callables"]]
    assert trace.snapshot is not None  # the live figures: the same (summary shows the top 10)
    live = {(c.name, c.kind, c.total, c.self_time) for c in trace.snapshot.callables}
    assert set(summary) <= live
    # (by short name: two lambdas of different modules may share one; those are not read here)
    rows = {(name.rpartition(".")[2], kind): (total, own) for name, kind, total, own in summary}
    read_total, read_self = rows[("Server", "io.read")]
    assert read_total >= 240_000_000 and read_self >= 240_000_000
    callback_total, callback_self = rows[("block_in_callback", "deferred")]
    assert callback_self >= 240_000_000
    timer_total, timer_self = rows[("fire_deferred", "timer")]
    assert timer_total >= callback_total and timer_self < 50_000_000
    assert rows[("block_in_timer", "timer")][1] >= 240_000_000


@pytest.mark.parametrize("reactor", REACTORS)
def test_errors_stuck_deferreds_backpressure_and_leftovers(
    traces: dict[tuple[str, str], Trace], reactor: str
) -> None:
    trace = traces[("trouble", reactor)]
    warnings = found(trace)
    by_code: dict[str, list[dict[str, Any]]] = {}
    for w in warnings:
        by_code.setdefault(w["code"], []).append(w)
    (error,) = by_code["deferred-error"]
    assert error["where"] == site("trouble", "raise") and "ValueError" in error["message"]
    (timer,) = by_code["leftover-timer"]
    assert timer["where"] == site("trouble", "forgotten") and timer["name"].endswith("forgotten")
    ports = [w for w in by_code["leftover-connection"] if "tcp.listen" in w["message"]]
    assert len(ports) == 1 and "stopListening" in ports[0]["message"]
    # connections are sited where the user made them: an accepted one at its port's line
    # (the listening port is named by the protocol its Factory.forProtocol makes)
    conns = sorted((w["name"].rpartition(".")[2], w["where"])
                   for w in by_code["leftover-connection"])
    assert conns == [("Flood", site("trouble", "port")), ("Flood", site("trouble", "port")),
                     ("Sleeper", site("trouble", "connect"))]
    # 10 s by default: the run is shorter than a stuck Deferred or producer needs
    assert "deferred-pending" not in by_code and "backpressure" not in by_code
    short = found(trace, Thresholds(pending_s=0.2, leftovers=True))
    stuck = {w["where"] for w in short if w["code"] == "deferred-pending"}
    assert site("trouble", "never") in stuck
    (pressure,) = [w for w in short if w["code"] == "backpressure"]
    assert pressure["name"].endswith("Flood") and "paused 1 time" in pressure["message"]
    assert not [w for w in found(trace, Thresholds()) if w["code"].startswith("leftover")]


@pytest.mark.parametrize("name", sorted(TROUBLED))
@pytest.mark.parametrize("reactor", REACTORS)
def test_each_troubled_program_gives_exactly_its_warnings(
    traces: dict[tuple[str, str], Trace], reactor: str, name: str
) -> None:
    """Live and replayed (see :func:`found`), each at the user's line."""
    warnings = found(traces[(name, reactor)])
    got = sorted((w["code"], w["where"], w["name"].rpartition(".")[2]) for w in warnings)
    expected = sorted((code, site(name, marker), who) for code, marker, who in TROUBLED[name])
    assert got == expected, [w["message"] for w in warnings]


@pytest.mark.parametrize("reactor", REACTORS)
def test_too_many_warnings_of_one_code_are_counted(
    traces: dict[tuple[str, str], Trace], reactor: str
) -> None:
    """61 connections and the port left open, as a test: 100 warnings kept, the rest counted."""
    warnings = found(traces[("crowd", reactor)])
    (many,) = [w for w in warnings if w["code"] == "too-many-warnings"]
    kept = [w for w in warnings if w["code"] == "leftover-connection"]
    assert len(kept) == 100 and len(warnings) == 101
    assert {w["where"] for w in kept} <= {site("crowd", "port"), site("crowd", "connect")}
    assert many["name"] == "leftover-connection" and many["where"] is None
    more = re.match(r"(\d+) more leftover-connection warnings were not kept", many["message"])
    assert more and 1 <= int(more.group(1)) <= 2 * 60 + 1 - 100


@pytest.mark.parametrize("name", HEALTHY)
@pytest.mark.parametrize("reactor", REACTORS)
def test_a_healthy_program_has_no_warning(
    traces: dict[tuple[str, str], Trace], reactor: str, name: str
) -> None:
    """The healthy corpus: flow control pausing producers, clients still connected
    at ``reactor.stop()``, Twisted's own timers, a wrapped poller idling."""
    trace = traces[(name, reactor)]
    assert found(trace) == []
    assert trace.snapshot is not None and trace.snapshot.warnings == ()
    # Nor a deadlock among the Deferreds it left (the Deferreds view is on with tracking).
    assert trace.snapshot.deferreds is not None and trace.snapshot.deferreds.deadlocks == ()
    assert summarize(trace)["deferreds"]["deadlocks"] == []


@pytest.mark.parametrize("reactor", REACTORS)
def test_what_healthy_programs_do_is_still_recorded(
    traces: dict[tuple[str, str], Trace], reactor: str
) -> None:
    """No warning because nothing is wrong, not because nothing was seen."""
    web = traces[("web", reactor)]
    assert web.by_kind("conn.pause") and web.by_kind("conn.resume")  # flow control engaged
    chat = traces[("chat", reactor)]
    assert chat.snapshot is not None and chat.snapshot.timers  # the safety net, pending
    poller = traces[("poller", reactor)]
    assert not poller.by_kind("slow")  # the idle waits (3x --slow) were never a dispatch
    waits = [e.args.get("wait") or 0 for e in poller.by_kind("iteration")]
    assert sum(1 for wait in waits if wait >= 600_000_000) >= 3  # long idle waits happened


@pytest.mark.parametrize("reactor", REACTORS)
def test_timers_are_sited_at_the_users_line(
    traces: dict[tuple[str, str], Trace], reactor: str
) -> None:
    """A LoopingCall whose function returns a Deferred ticks at ``loop.start(...)``;
    ``deferLater`` at its call; the log-date clock HTTPFactory keeps at ``listenTCP``."""
    web = traces[("web", reactor)]
    sites: dict[str, set[str]] = {}
    for event in web.by_kind("timer.schedule"):
        sites.setdefault(event.name, set()).add(event.args["site"])
    assert sites["refresh"] == {site("web", "loop_start")}
    assert sites["refresh.<locals>.<lambda>"] == {site("web", "defer_later")}
    assert sites["twisted.web.http.HTTPFactory._updateLogDateTime"] == {site("web", "listen")}
    opened = {(e.name, e.args["site"]) for e in web.by_kind("conn.open")}
    assert ("twisted.web.server.Site", site("web", "listen")) in opened  # its factory
    assert ("twisted.web.http.HTTPChannel", site("web", "listen")) in opened  # accepted there
    # Agent's HostnameEndpoint connects after resolving the name: still the user's line
    clients = {s for name, s in opened if name.endswith("HTTP11ClientProtocol")}
    assert clients == {site("web", "request")}
    made = {(e.args["site"], e.args["waits"]) for e in web.by_kind("deferred.new")}
    assert (site("web", "fetch"), "deferred") in made  # an inlineCallbacks function's call
    assert (site("web", "request"), "connection") in made  # Agent.request in it
    wakers = {s for name, s in opened if "Waker" in name}
    assert wakers == {None}  # made before the tracer came: no site, not the instrument() line
    # Twisted's timers for a connection it accepted (HTTPChannel's TimeoutMixin,
    # the file producer's cooperator): at the port's line; Agent's connection
    # attempts after the name was resolved: at the request's line
    assert sites["twisted.protocols.policies.TimeoutMixin.__timedOut"] == {site("web", "listen")}
    assert sites["twisted.internet.task.Cooperator._tick"] == {site("web", "listen")}
    for name, made in sites.items():
        if name.startswith(("twisted.internet.tcp._BaseBaseClient", "twisted.internet.endpoints")):
            assert made == {site("web", "request")}, name


def schedules(trace: Trace) -> dict[str, set[tuple[str, bool]]]:
    """Timer name -> {(site, whether flagged as Twisted's own)}."""
    out: dict[str, set[tuple[str, bool]]] = {}
    for event in trace.by_kind("timer.schedule"):
        name = event.name.rpartition(".")[2]
        out.setdefault(name, set()).add((event.args["site"], event.args.get("own") is True))
    return out


@pytest.mark.parametrize("reactor", REACTORS)
def test_timers_twisted_makes_after_an_asynchronous_step(
    traces: dict[tuple[str, str], Trace], reactor: str
) -> None:
    """``HostnameEndpoint.connect`` resolves the name on a thread, then its
    attempts (a LoopingCall, the client's connect timers) come from callbacks;
    ``TimeoutMixin`` timers come from the protocols: all at the user's lines."""
    made = schedules(traces[("endpoint", reactor)])
    connect = {(site("endpoint", "connect"), False)}
    assert made["iterateEndpoint"] == connect
    assert made["resolveAddress"] == connect and made["failIfNotConnected"] == connect
    assert made["__timedOut"] == {
        (site("endpoint", "server_timeout"), False), (site("endpoint", "client_timeout"), False)
    }
