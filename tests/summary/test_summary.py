"""``reactortrace summary`` on written traces: the tables, --json, cut-short and broken files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from reactortrace.cli.summary import main as cmd_summary
from reactortrace.core.events import Event
from reactortrace.core.trace import Trace
from reactortrace.errors import ReactorTraceError, TraceFileError, UsageError
from reactortrace.formats.jsonfile import write_json
from reactortrace.formats.jsonl import JsonlWriter, write_jsonl

MS = 1_000_000
S = 1_000_000_000

META: dict[str, Any] = {
    "program": "shop.py",
    "argv": ["shop.py"],
    "pid": 99,
    "python": "3.11.9",
    "twisted": "26.10.0",
    "reactor": "twisted.internet.epollreactor.EPollReactor",
    "start_wall": 1_700_000_000.0,
    # recorded as a test (leftovers warn), with a short pending threshold
    "options": {"slow_ms": 100, "thresholds": {"pending_s": 0.4, "leftovers": True}},
}
STACK = ["shop.py:90 main", "shop.py:41 restock", "shop.py:47 count_stock"]
IN_BYTES = (100, 250)
OUT_BYTES = 4_000


def shop_events() -> list[Event]:
    """A run with one of several problems: slow, late, an unhandled error, leftovers."""
    events: list[Event] = []

    def add(kind: str, ts: int, dur: int = 0, name: str = "", **args: Any) -> None:
        events.append(Event(len(events), ts, dur, kind, name, args))

    def conn(cid: int, type_: str, name: str, peer: str | None = None) -> None:
        add("conn.open", 1 * MS, name=name, conn=cid, fd=cid + 4, type=type_,
            local="127.0.0.1:8000", peer=peer, transport=None, buffer_size=65_536)

    conn(1, "waker", "twisted.internet.posixbase._UnixWaker")
    conn(2, "tcp.listen", "shop.ShopFactory")
    conn(3, "tcp", "shop.ShopProtocol", peer="127.0.0.1:51000")
    add("timer.schedule", 2 * MS, name="shop.expire_carts", timer=1, site="shop.py:60",
        delay=600 * S, due=600 * S + 2 * MS, looping=False)
    add("slow", 1 * S, 120 * MS, name="shop.restock", dispatch="timer", site="shop.py:47",
        function="count_stock", stack=STACK, blocked=120 * MS)
    add("timer", 1 * S, 300 * MS, name="shop.restock", timer=2, site="shop.py:41",
        delay=1 * S, late=0, looping=False, error=None)
    add("timer", 1_300 * MS, 1 * MS, name="shop.greet", timer=3, site="shop.py:30",
        delay=1 * S, late=250 * MS, looping=False, error=None)
    for i, size in enumerate(IN_BYTES):
        add("io.read", 1_400 * MS + i * MS, 50_000, name="shop.ShopProtocol", conn=3, fd=7,
            bytes=size, error=None)
    add("io.write", 1_500 * MS, 80_000, name="shop.ShopProtocol", conn=3, fd=7,
        bytes=OUT_BYTES, buffered=0, error=None)
    add("conn.pause", 1_500 * MS, name="shop.ShopProtocol", conn=3, buffered=70_000)
    add("conn.resume", 1_510 * MS, name="shop.ShopProtocol", conn=3, buffered=0)
    add("conn.pause", 1_550 * MS, name="shop.ShopProtocol", conn=3, buffered=70_000)
    for i in range(3):
        add("deferred", 1_700 * MS + i * MS, 2 * MS, name="shop.price", outcome="success",
            failure=None, errback=False, site="shop.py:70", line=None)
    add("deferred.error", 1_800 * MS, name="shop.price", deferred=77,
        failure="builtins.KeyError", site="shop.py:72")
    add("conn.close", 2 * S + 100, name="shop.ShopProtocol", conn=3,
        reason="twisted.internet.error.ConnectionLost")
    add("system", 2 * S, 1 * MS, name="shutdown", phase="shutdown")
    return events


@pytest.fixture(autouse=True)
def wide_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)


@pytest.fixture
def trace_path(tmp_path: Path) -> Path:
    path = tmp_path / "shop.json"
    write_json(Trace(META, shop_events(), None), path)
    return path


def summary_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    """The --json document (stderr, if wanted, is in ``doc["stderr"]``)."""
    assert cmd_summary([*argv, "--json"]) == 0
    captured = capsys.readouterr()
    return {**orjson.loads(captured.out), "stderr": captured.err}


def test_json_has_every_part_with_stable_keys(
    capsys: pytest.CaptureFixture[str], trace_path: Path
) -> None:
    doc = summary_json(capsys, str(trace_path))
    assert list(doc) == [
        "trace", "thresholds", "warnings", "slowest", "callables", "timers", "connections",
        "omitted", "deferreds", "stderr",
    ]
    assert doc["trace"] == {
        "path": str(trace_path), "program": "shop.py", "reactor": META["reactor"],
        "complete": True, "events": len(shop_events()), "dropped": 0, "duration": 2 * S + 1 * MS, "recording_off": {},
        "written_early": None,
    }
    assert doc["thresholds"] == {  # as the trace was recorded
        "slow_ms": 100, "late_ms": 100, "pending_s": 0.4, "idle_s": 60, "leftovers": True
    }
    assert doc["omitted"] == {"slowest": 0, "callables": 0, "timers": 0, "connections": 0}


def test_json_warnings_name_the_callables_and_where_to_look(
    capsys: pytest.CaptureFixture[str], trace_path: Path
) -> None:
    warnings = summary_json(capsys, str(trace_path))["warnings"]
    about = {(w["code"], w["name"], w["where"], w["subject"]) for w in warnings}
    assert about == {
        ("slow-callback", "shop.restock", "shop.py:47", None),
        ("late-timer", "shop.greet", "shop.py:30", 3),
        ("deferred-error", "shop.price", "shop.py:72", 77),
        ("backpressure", "shop.ShopProtocol", None, 3),
        ("leftover-timer", "shop.expire_carts", "shop.py:60", 1),
        ("leftover-connection", "shop.ShopFactory", None, 2),
        ("leftover-connection", "shop.ShopProtocol", None, 3),
    }
    assert [w["ts"] for w in warnings] == sorted(w["ts"] for w in warnings)
    assert all(w["message"] and "\n" not in w["message"] for w in warnings)


def test_json_tables(capsys: pytest.CaptureFixture[str], trace_path: Path) -> None:
    doc = summary_json(capsys, str(trace_path))
    slowest = doc["slowest"][0]
    assert (slowest["name"], slowest["dur"], slowest["site"], slowest["function"]) == (
        "shop.restock", 300 * MS, "shop.py:47", "count_stock"
    )
    assert slowest["stack"] == STACK
    callables = {(c["name"], c["kind"]): c for c in doc["callables"]}
    assert callables[("shop.price", "deferred")]["count"] == 3
    assert callables[("shop.price", "deferred")]["total"] == 6 * MS
    assert doc["callables"][0]["name"] == "shop.restock"  # busiest first
    timers = {t["site"]: t for t in doc["timers"]}
    assert (timers["shop.py:30"]["count"], timers["shop.py:30"]["max"]) == (1, 250 * MS)
    assert doc["timers"][0]["site"] == "shop.py:30"  # latest first
    conns = {c["conn"]: c for c in doc["connections"]}
    assert set(conns) == {2, 3}  # not the waker
    assert (conns[3]["bytes_in"], conns[3]["bytes_out"]) == (sum(IN_BYTES), OUT_BYTES)
    assert (conns[3]["pauses"], conns[3]["resumes"], conns[3]["closed"]) == (2, 1, 2 * S + 100)
    assert conns[3]["lifetime"] == 2 * S + 100 - 1 * MS
    assert conns[2]["closed"] is None and doc["connections"][0]["conn"] == 3


def test_top_limits_the_lists_and_counts_the_rest(
    capsys: pytest.CaptureFixture[str], trace_path: Path
) -> None:
    doc = summary_json(capsys, str(trace_path), "--top", "1")
    assert [len(doc[k]) for k in ("slowest", "callables", "timers", "connections")] == [1] * 4
    assert doc["omitted"]["connections"] == 1 and doc["omitted"]["timers"] == 1
    assert len(doc["warnings"]) == 7  # warnings are never cut


def test_thresholds_from_the_command_line(
    capsys: pytest.CaptureFixture[str], trace_path: Path
) -> None:
    doc = summary_json(capsys, str(trace_path), "--slow", "400ms", "--late", "0.3s")
    codes = {w["code"] for w in doc["warnings"]}
    assert "slow-callback" not in codes and "late-timer" not in codes
    assert doc["thresholds"]["slow_ms"] == 400 and doc["thresholds"]["late_ms"] == 300
    assert doc["thresholds"]["pending_s"] == 0.4  # the others stay as recorded
    doc = summary_json(capsys, str(trace_path), "--pending", "1")
    assert "backpressure" not in {w["code"] for w in doc["warnings"]}  # paused 0.45 s
    with pytest.raises(UsageError):
        cmd_summary([str(trace_path), "--late", "soon"])
    with pytest.raises(UsageError):
        cmd_summary([str(trace_path), "--top", "0"])


def test_terminal_tables(capsys: pytest.CaptureFixture[str], trace_path: Path) -> None:
    assert cmd_summary([str(trace_path)]) == 0
    out = capsys.readouterr().out
    for title in ("Warnings (7)", "Slowest dispatches", "Hottest callables",
                  "Timer lateness by creation site", "Connections"):
        assert title in out
    assert "\x1b[" not in out  # no colours when not a terminal
    lines = out.splitlines()
    slow_row = next(line for line in lines if line.lstrip().startswith("slow-callback"))
    assert "shop.restock blocked the reactor for 300 ms" in slow_row and "shop.py:47" in slow_row
    stack_at = lines.index("Stack of #1, shop.restock, outermost first:")
    assert [line.strip() for line in lines[stack_at + 1 : stack_at + 4]] == STACK
    assert any("shop.py:30" in line and "250 ms" in line for line in lines)
    assert any("127.0.0.1:8000 <-> 127.0.0.1:51000" in line and "2/1" in line for line in lines)


def test_a_healthy_trace_says_no_warnings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    events = [e for e in shop_events() if e.kind in ("io.read", "io.write", "deferred")]
    path = tmp_path / "ok.json"
    write_json(Trace(META, events, None), path)
    assert cmd_summary([str(path)]) == 0
    assert "No warnings." in capsys.readouterr().out


def test_hot_callables_have_total_and_self_time(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A 250 ms callback fired by a timer counts once: in its own self time, not the timer's."""
    events = [
        Event(0, 10 * MS, 250 * MS, "deferred", "shop.slow_callback",
              {"outcome": "success", "failure": None, "errback": False, "site": None}),
        Event(1, 0, 300 * MS, "timer", "shop.tick",
              {"timer": 1, "site": "shop.py:10", "delay": 0, "late": 0, "error": None}),
        Event(2, 400 * MS, 20 * MS, "io.read", "shop.Echo", {"conn": 3, "bytes": 5}),
    ]
    path = tmp_path / "nested.json"
    write_json(Trace(META, events, None), path)
    doc = summary_json(capsys, str(path))
    rows = {c["name"]: (c["kind"], c["total"], c["self"]) for c in doc["callables"]}
    assert rows == {
        "shop.tick": ("timer", 300 * MS, 50 * MS),
        "shop.slow_callback": ("deferred", 250 * MS, 250 * MS),
        "shop.Echo": ("io.read", 20 * MS, 20 * MS),
    }
    assert cmd_summary([str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if line.lstrip().startswith("callable"))
    assert header.split()[:6] == ["callable", "kind", "count", "total", "self", "mean"]
    tick = next(line for line in lines if line.lstrip().startswith("shop.tick"))
    assert tick.split()[3:7] == ["300", "ms", "50", "ms"]


def test_jsonl_trace_and_one_cut_short(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    whole = tmp_path / "whole.jsonl"
    write_jsonl(Trace(META, shop_events(), None), whole)
    doc = summary_json(capsys, str(whole))
    assert doc["trace"]["complete"] and len(doc["warnings"]) == 7 and doc["stderr"] == ""
    cut = tmp_path / "cut.jsonl"
    writer = JsonlWriter(cut, META)
    writer.write_events(shop_events()[:8])
    writer.close()  # the program died before the end line
    doc = summary_json(capsys, str(cut))
    err = doc["stderr"]
    assert len(err.splitlines()) == 1 and "cut short" in err and str(cut) in err
    assert not doc["trace"]["complete"] and doc["trace"]["events"] == 8
    assert {w["code"] for w in doc["warnings"]} == {"slow-callback", "late-timer"}


def test_missing_and_broken_files_raise_trace_file_errors(tmp_path: Path) -> None:
    with pytest.raises(TraceFileError):
        cmd_summary([str(tmp_path / "absent.json")])
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "reactortrace", "version": 1, "meta": {}, "events": [')
    with pytest.raises(TraceFileError):
        cmd_summary([str(broken)])
    with pytest.raises(ReactorTraceError):
        cmd_summary([])


def pending_view() -> Any:
    from reactortrace.core.snapshot import DeferredInfo, PendingDeferreds

    cycle = "deadlock: #7 → #8 → #7"
    return PendingDeferreds(
        deferreds=(
            DeferredInfo(3, "inlineCallbacks", "shop.checkout", 5 * S, "shop.py:80",
                         "shop.py:84", ("shop.py:84 checkout",), (4,), "deferred",
                         "its generator, waiting on #4", fired_by="timer 9, due in 2s", depth=1),
            DeferredInfo(4, "deferred", "twisted.internet.task.deferLater", 5 * S, "shop.py:84",
                         source="timer", detail="timer 9, due in 2s", timer=9,
                         fired_by="timer 9, due in 2s"),
            DeferredInfo(5, "deferred", "shop.lookup", 1 * S, "shop.py:20"),
            DeferredInfo(7, "deferred", "shop.swap", 100 * MS, "shop.py:30", waits_on=(8,),
                         source="deferred", detail="Deferred #8", fired_by=cycle, depth=2,
                         deadlock=True),
            DeferredInfo(8, "deferred", "shop.swap", 100 * MS, "shop.py:31", waits_on=(7,),
                         source="deferred", detail="Deferred #7", fired_by=cycle, depth=1,
                         deadlock=True),
        ),
        total=9, omitted=4, deadlocks=((7, 8),),
    )


@pytest.fixture
def pending_trace(tmp_path: Path) -> Path:
    from reactortrace.core.snapshot import Snapshot

    path = tmp_path / "pending.json"
    write_json(Trace(META, shop_events(), Snapshot(2 * S, deferreds=pending_view())), path)
    return path


def test_json_lists_the_pending_deferreds_oldest_first_and_every_deadlock(
    capsys: pytest.CaptureFixture[str], pending_trace: Path
) -> None:
    pending = summary_json(capsys, str(pending_trace), "--top", "2")["deferreds"]
    assert [row["id"] for row in pending["oldest"]] == [3, 4, 7, 8]  # top 2, and the cycle
    assert pending["total"] == 9 and pending["omitted"] == 5
    assert pending["deadlocks"] == [[7, 8]]
    assert pending["oldest"][0]["suspended_at"] == "shop.py:84"
    assert pending["oldest"][0]["fired_by"] == "timer 9, due in 2s"


def test_terminal_shows_pending_deferreds_and_the_deadlock(
    capsys: pytest.CaptureFixture[str], pending_trace: Path
) -> None:
    assert cmd_summary([str(pending_trace)]) == 0
    out = capsys.readouterr().out
    assert "Deferreds pending at the end (9), oldest first" in out
    assert "shop.checkout (inlineCallbacks)" in out and "its generator, waiting on #4" in out
    assert "Deadlock: #7 → #8 → #7 wait on each other" in out
    assert "4 more not shown" in out


def test_a_trace_without_the_view_has_no_deferreds_section(
    capsys: pytest.CaptureFixture[str], trace_path: Path
) -> None:
    assert summary_json(capsys, str(trace_path))["deferreds"] is None
    assert cmd_summary([str(trace_path)]) == 0
    assert "Deferreds pending" not in capsys.readouterr().out
