"""Crafted trace files, and the commands that must survive them.

:func:`corpus` makes the hostile files (broken, cut, wrong-typed, out of range,
deeply nested, huge, unknown kinds, names that are markup or terminal escapes);
:func:`run_cli` runs a ``reactortrace`` command in this process and
:func:`check_outcome` says whether what it did is allowed: exit 0 with output
free of control characters, or exit 2 with one line on stderr, never anything
else (a traceback would escape ``run_cli`` as an exception).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reactortrace.cli import main

#: Strings a crafted trace uses to restyle or take over a terminal.
EVIL = (
    "[bold red]red[/bold red]",
    "[/]",
    "[/bold]",
    "[link=file:///etc/passwd]x[/link]",
    "\x1b[2J\x1b[H",
    "\x1b]2;PWNED\x07",
    "over\rwrite",
    "bell\x07",
    "\u202eevil",
    "\x9b31m",
)
#: Control characters no output may carry from a trace (newline and tab aside).
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def base() -> dict[str, Any]:
    """A small valid trace: one event of most kinds, a snapshot, a meta."""
    events = [
        ("system", 0, 0, "startup", {"phase": "before"}),
        ("conn.open", 1_000, 0, "app.Echo", {"conn": 1, "fd": 7, "type": "tcp",
                                             "local": "127.0.0.1:8080", "peer": "127.0.0.1:5",
                                             "transport": "tcp.Server", "buffer_size": 65536}),
        ("timer.schedule", 2_000, 0, "app.tick", {"timer": 1, "site": "app.py:10",
                                                  "delay": 5_000_000, "due": 5_002_000,
                                                  "looping": True}),
        ("io.read", 10_000, 4_000, "app.Echo", {"conn": 1, "fd": 7, "bytes": 512, "error": None}),
        ("io.write", 20_000, 2_000, "app.Echo", {"conn": 1, "fd": 7, "bytes": 512,
                                                 "buffered": 0, "error": None}),
        ("deferred", 30_000, 1_000, "app.on_result", {"outcome": "failure",
                                                      "failure": "builtins.ValueError",
                                                      "errback": False, "site": "app.py:33",
                                                      "line": None}),
        ("thread", 40_000, 3_000, "app.compute", {"source": "pool", "wait": 500,
                                                  "thread": "PoolThread-1", "error": None}),
        ("conn.pause", 50_000, 0, "app.Echo", {"conn": 1, "buffered": 70_000}),
        ("conn.resume", 60_000, 0, "app.Echo", {"conn": 1, "buffered": 1_000}),
        ("deferred.new", 80_000, 0, "Deferred", {"deferred": 11, "site": "app.py:60",
                                                 "waits": "timer"}),
        ("deferred.error", 100_000, 0, "builtins.KeyError", {"deferred": 12,
                                                             "failure": "builtins.KeyError",
                                                             "site": "app.py:70"}),
        ("timer", 5_010_000, 7_000, "app.tick", {"timer": 1, "site": "app.py:10",
                                                 "delay": 5_000_000, "late": 8_000,
                                                 "looping": True, "error": None}),
        ("iteration", 5_020_000, 9_000, "iteration", {"wait": 2_000}),
        ("slow", 6_000_000, 200_000_000, "app.block", {
            "dispatch": "app.block", "site": "app.py:90", "function": "block",
            "stack": ["app.py:1 main", "app.py:90 block"], "blocked": 150_000_000}),
        ("warning", 6_100_000, 0, "app.block", {"code": "slow-callback", "message": "slow",
                                                "where": "app.py:90", "subject": None}),
        ("conn.close", 7_000_000, 0, "app.Echo", {"conn": 1, "reason": "ConnectionDone"}),
    ]
    return {
        "format": "reactortrace",
        "version": 1,
        "meta": {"program": "server.py", "argv": ["server.py", "--port", "8080"], "pid": 42,
                 "python": "3.11.7", "twisted": "24.7.0", "reactor": "EPollReactor",
                 "start_wall": 1_700_000_000.5, "options": {"slow_ms": 100, "max_events": 1000}},
        "dropped": 0,
        "events": [
            {"seq": seq, "ts": ts, "dur": dur, "kind": kind, "name": name, "args": args}
            for seq, (kind, ts, dur, name, args) in enumerate(events)
        ],
        "snapshot": {
            "ts": 8_000_000,
            "timers": [{"timer": 3, "name": "app.later", "site": "app.py:20", "due_in": -5,
                        "delay": 9_000_000, "looping": False}],
            "connections": [{"conn": 2, "type": "tcp-listen", "protocol": "app.Factory",
                             "local": "0.0.0.0:8080", "peer": None, "fd": 5, "opened": 0,
                             "age": 8_000_000, "bytes_in": 0, "bytes_out": 0, "reads": 0,
                             "writes": 0, "last_activity": None, "write_buffer": 0}],
            "callables": [{"name": "app.tick", "kind": "timer", "count": 1, "total": 7_000,
                           "mean": 7_000, "max": 7_000, "p95": 7_000, "errors": 0}],
            "loop": {"iterations": 1, "utilization": 0.5, "events_per_second": 2.0, "lag": 8_000,
                     "busy": 7_000, "wait": 2_000, "events": 16, "uptime": 8_000_000},
            "dropped": 0,
            "warnings": [{"code": "late-timer", "message": "late", "where": "app.py:10",
                          "subject": 1, "name": "app.tick", "ts": 5_010_000}],
        },
    }


def _dumps(value: Any) -> bytes:
    """JSON as a hostile writer may make it: integers of any size, no escaping forced."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode(
        errors="surrogatepass"
    )


def as_json(document: Any) -> bytes:
    return _dumps(document)


def as_jsonl(document: Any, *, end: bool = True) -> bytes:
    """The same trace as JSON Lines."""
    records: list[Any] = [{"format": document.get("format"), "version": document.get("version"),
                           "type": "meta", "meta": document.get("meta")}]
    records += [{"type": "event", **e} if isinstance(e, dict) else e
                for e in document.get("events", [])]
    if end:
        records.append({"type": "snapshot", "snapshot": document.get("snapshot")})
        records.append({"type": "end", "dropped": document.get("dropped")})
    return b"".join(_dumps(r) + b"\n" for r in records)


#: Values put where a field should be: each wrong somewhere.
ODD_VALUES: tuple[Any, ...] = (
    None, True, -1, 0, 2**63, 2**70, -(2**70), 1.5, 1e308, "", "12", [], [1, [2]], {}, {"a": 1},
    *EVIL,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (dict keys and list indexes)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``document`` with the value at ``path`` replaced (or removed if ``...``)."""
    if not path:
        return value
    result = copy.deepcopy(document)
    parent = result
    for key in path[:-1]:
        parent = parent[key]
    if value is ...:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return result


def corpus() -> dict[str, bytes]:
    """Hostile trace files by name."""
    good = base()
    files: dict[str, bytes] = {
        "valid": as_json(good),
        "valid jsonl": as_jsonl(good),
        "empty": b"",
        "zeros": b"\x00" * 4096,
        "not json": b"{hello",
        "NaN": as_json(good).replace(b'"dropped":0', b'"dropped":NaN'),
        "Infinity": as_json(good).replace(b'"utilization":0.5', b'"utilization":Infinity'),
        "huge float": as_json(good).replace(b'"utilization":0.5', b'"utilization":1e999'),
        "huge int": as_json(good).replace(b'"bytes":512', b'"bytes":' + b"9" * 5000),
        "nested meta": as_json(good).replace(
            b'"meta":{', b'"meta":{"deep":' + b"[" * 200_000 + b"]" * 200_000 + b","
        ),
        "nested args": as_json(good).replace(
            b'"args":{"phase"', b'"args":{"x":' + b"[" * 200_000 + b"]" * 200_000 + b',"phase"'
        ),
        "long jsonl line": as_jsonl(good).replace(
            b'"phase":"before"', b'"phase":"' + b"x" * (17 * 1024 * 1024) + b'"'
        ),
        "duplicate seq": as_json(replaced(good, ("events", 1, "seq"), 0)),
        "unknown kind": as_json(replaced(good, ("events", 2, "kind"), "gc.pause")),
        "data after end": as_jsonl(good) + _dumps({"type": "event", **good["events"][0]}),
        "jsonl cut": as_jsonl(good)[:-7],
        "evil names everywhere": as_json(_evil(good)),
        "evil names jsonl": as_jsonl(_evil(good)),
    }
    for cut in (1, 10, 100, 1000, 2000):
        files[f"cut at {cut}"] = as_json(good)[:cut]
    for index, value in enumerate(ODD_VALUES):
        for path in (("events", 3, "args", "bytes"), ("events", 1, "args", "type"),
                     ("events", 2, "args", "due"), ("events", 5, "args", "site"),
                     ("snapshot", "loop", "utilization"), ("snapshot", "timers", 0, "due_in"),
                     ("meta", "argv"), ("meta", "options", "slow_ms"), ("dropped",),
                     ("events", 0, "ts"), ("events", 4, "name"), ("snapshot", "warnings", 0)):
            files[f"{'.'.join(map(str, path))} = {value!r:.20}#{index}"] = as_json(
                replaced(good, path, value)
            )
    return files


def _evil(document: dict[str, Any]) -> dict[str, Any]:
    """Every string of the trace replaced by one of :data:`EVIL` (format fields kept)."""
    result = copy.deepcopy(document)
    count = 0

    def swap(value: Any) -> Any:
        nonlocal count
        if isinstance(value, str):
            count += 1
            return value[:3] + EVIL[count % len(EVIL)]
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    for event in result["events"]:
        event["name"] = swap(event["name"])
        event["args"] = {
            key: swap(v) if key not in ("outcome", "source", "waits", "side") else v
            for key, v in event["args"].items()
        }
    result["meta"] = swap(result["meta"])
    result["snapshot"] = swap(result["snapshot"])
    return result


@dataclass
class Outcome:
    status: int
    out: str
    err: str


def run_cli(*args: str) -> Outcome:
    """``reactortrace ARGS`` in this process: its status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return Outcome(status, out.getvalue(), err.getvalue())


def check_outcome(outcome: Outcome) -> None:
    """Exit 0 with clean output, or exit 2 with one clean line on stderr."""
    assert outcome.status in (0, 2), outcome
    assert "Traceback" not in outcome.err, outcome.err
    for text in (outcome.out, outcome.err):
        found = CONTROL.search(text)
        assert found is None, f"control character {found.group()!r} in {text[:2000]!r}"
    if outcome.status == 2:
        lines = outcome.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("reactortrace: error: "), outcome.err
        assert not outcome.out
