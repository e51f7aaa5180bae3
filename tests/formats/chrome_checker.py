"""Checks a Chrome Trace Event file against the rules Perfetto and chrome://tracing rely on.

Written from the format's documentation (the "Trace Event Format" document)
and from how Perfetto imports JSON: timestamps in microseconds turned into
integer nanoseconds (``round(ts * 1000)``; older readers truncate), complete
(``X``) slices of one thread properly nested, flow and async events paired by
id. :func:`problems` lists every rule broken; :func:`check` asserts there are
none.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

#: Fields every event of a phase must have (M: metadata may omit ts).
REQUIRED = {
    "X": ("name", "ph", "ts", "pid", "tid", "dur"),
    "B": ("name", "ph", "ts", "pid", "tid"),
    "E": ("ph", "ts", "pid", "tid"),
    "i": ("name", "ph", "ts", "pid", "tid"),
    "I": ("name", "ph", "ts", "pid", "tid"),
    "C": ("name", "ph", "ts", "pid", "tid", "args"),
    "b": ("name", "ph", "ts", "pid", "tid", "id", "cat"),
    "e": ("name", "ph", "ts", "pid", "tid", "id", "cat"),
    "n": ("name", "ph", "ts", "pid", "tid", "id", "cat"),
    "s": ("name", "ph", "ts", "pid", "tid", "id"),
    "t": ("name", "ph", "ts", "pid", "tid", "id"),
    "f": ("name", "ph", "ts", "pid", "tid", "id"),
    "M": ("name", "ph", "pid", "tid", "args"),
}
METADATA_NAMES = {
    "process_name",
    "process_labels",
    "process_sort_index",
    "thread_name",
    "thread_sort_index",
}
MAX_LISTED = 20

# Ways a reader turns microseconds back into nanoseconds.
CONVERSIONS: dict[str, Callable[[float], int]] = {
    "rounded": lambda us: round(us * 1000),
    "truncated": lambda us: int(us * 1000),
}


def load(path: str | Path) -> dict[str, Any]:
    """The JSON object of a Chrome trace file."""
    return orjson.loads(Path(path).read_bytes())


def _is_number(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def problems(document: Any) -> list[str]:
    """Every rule ``document`` breaks, described; empty if it is valid."""
    if isinstance(document, dict):
        events = document.get("traceEvents")
    else:
        events = document
    if not isinstance(events, list):
        return ["no traceEvents list"]
    found: list[str] = []
    say = found.append
    valid: list[dict[str, Any]] = []
    for index, event in enumerate(events):
        before = len(found)
        _check_fields(index, event, say)
        if len(found) == before:
            valid.append(event)
    _check_metadata(valid, say)
    for label, convert in CONVERSIONS.items():
        _check_nesting(valid, convert, label, say)
    _check_flows(valid, say)
    _check_async(valid, say)
    return found


def check(document: Any) -> None:
    """Assert that ``document`` breaks no rule (listing the first few broken)."""
    found = problems(document)
    listed = "\n".join(found[:MAX_LISTED])
    more = f"\n... and {len(found) - MAX_LISTED} more" if len(found) > MAX_LISTED else ""
    assert not found, f"{len(found)} problems in the Chrome trace:\n{listed}{more}"


def _check_fields(index: int, event: Any, say: Callable[[str], None]) -> None:
    where = f"event #{index}"
    if not isinstance(event, dict):
        say(f"{where}: not an object")
        return
    phase = event.get("ph")
    if phase not in REQUIRED:
        say(f"{where}: unknown phase {phase!r}")
        return
    missing = [key for key in REQUIRED[phase] if key not in event]
    if missing:
        say(f"{where} ({phase}): missing {', '.join(missing)}")
        return
    if "name" in event and not isinstance(event["name"], str):
        say(f"{where}: name is not a string")
    for key in ("pid", "tid"):
        if type(event[key]) is not int:
            say(f"{where}: {key} is not an integer")
    if "ts" in event and not (_is_number(event["ts"]) and event["ts"] >= 0):
        say(f"{where}: ts {event['ts']!r} is not a non-negative number")
    if phase == "X" and not (_is_number(event["dur"]) and event["dur"] >= 0):
        say(f"{where}: dur {event['dur']!r} is not a non-negative number")
    if "id" in event and type(event["id"]) not in (int, str):
        say(f"{where}: id {event['id']!r} is neither an integer nor a string")
    if "args" in event and not isinstance(event["args"], dict):
        say(f"{where}: args is not an object")
    elif phase == "C":
        values = event["args"]
        if not values or not all(_is_number(v) and type(v) is not bool for v in values.values()):
            say(f"{where}: counter {event['name']!r} has non-numeric values {values!r}")
    elif phase == "M":
        if event["name"] not in METADATA_NAMES:
            say(f"{where}: unknown metadata {event['name']!r}")
        elif event["name"].endswith("_name") and not isinstance(event["args"].get("name"), str):
            say(f"{where}: {event['name']} without a name")
    if phase in ("s", "t", "f") and event.get("bp") not in (None, "e"):
        say(f"{where}: binding point {event['bp']!r} is not 'e'")
    if phase in ("i", "I") and event.get("s", "t") not in ("g", "p", "t"):
        say(f"{where}: instant scope {event['s']!r}")


def _check_metadata(events: list[dict[str, Any]], say: Callable[[str], None]) -> None:
    named_processes = {e["pid"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    named_threads = {
        (e["pid"], e["tid"]) for e in events if e["ph"] == "M" and e["name"] == "thread_name"
    }
    used = {(e["pid"], e["tid"]) for e in events if e["ph"] != "M"}
    for pid in sorted({pid for pid, _ in used} - named_processes):
        say(f"process {pid} has no process_name")
    for pid, tid in sorted(used - named_threads):
        say(f"thread {tid} of process {pid} has no thread_name")


def _check_nesting(
    events: list[dict[str, Any]],
    convert: Callable[[float], int],
    label: str,
    say: Callable[[str], None],
) -> None:
    """Slices of a thread, in file order: starts never go back, children end in parents."""
    stacks: dict[tuple[int, int], list[tuple[int, str]]] = defaultdict(list)
    last_start: dict[tuple[int, int], int] = {}
    for event in events:
        if event["ph"] != "X":
            continue
        track = (event["pid"], event["tid"])
        start = convert(event["ts"])
        end = start + convert(event["dur"])
        if start < last_start.get(track, start):
            say(f"{label}: slice {event['name']!r} at {event['ts']} starts before the "
                f"previous slice of thread {track[1]}")
            continue
        last_start[track] = start
        stack = stacks[track]
        while stack and stack[-1][0] <= start:
            stack.pop()
        if stack and end > stack[-1][0]:
            say(f"{label}: slice {event['name']!r} [{start}, {end}] ns overlaps the end of "
                f"its parent {stack[-1][1]!r} ({stack[-1][0]} ns) on thread {track[1]}")
            continue
        stack.append((end, event["name"]))


def _enclosing(events: list[dict[str, Any]]) -> Callable[[dict[str, Any]], bool]:
    """A test: does a slice of the event's thread enclose its timestamp?

    Only the outermost slices matter (nesting was checked): they are disjoint
    and in order, so a binary search finds the one that could hold a time.
    """
    outer: dict[tuple[int, int], tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for event in events:
        if event["ph"] == "X":
            start = round(event["ts"] * 1000)
            end = start + round(event["dur"] * 1000)
            starts, ends = outer[(event["pid"], event["tid"])]
            if not ends or start >= ends[-1]:
                starts.append(start)
                ends.append(end)
            else:
                ends[-1] = max(ends[-1], end)

    def encloses(event: dict[str, Any]) -> bool:
        at = round(event["ts"] * 1000)
        starts, ends = outer.get((event["pid"], event["tid"]), ([], []))
        index = bisect.bisect_right(starts, at) - 1
        return index >= 0 and at < ends[index]

    return encloses


def _check_flows(events: list[dict[str, Any]], say: Callable[[str], None]) -> None:
    """Each flow id has exactly one start and one finish, the finish not earlier."""
    starts = Counter(e["id"] for e in events if e["ph"] == "s")
    finishes = Counter(e["id"] for e in events if e["ph"] == "f")
    for flow, n in (starts + finishes).items():
        if starts[flow] != 1 or finishes[flow] != 1:
            say(f"flow {flow!r}: {starts[flow]} start(s) and {finishes[flow]} finish(es)")
    first = {e["id"]: e["ts"] for e in events if e["ph"] == "s"}
    encloses = _enclosing(events) if first else None
    for event in events:
        if event["ph"] not in ("s", "f"):
            continue
        if event["ph"] == "f" and event["id"] in first and event["ts"] < first[event["id"]]:
            say(f"flow {event['id']!r} finishes before it starts")
        if encloses is not None and not encloses(event):
            say(f"flow {event['id']!r} ({event['ph']}) at {event['ts']} is in no slice "
                f"of thread {event['tid']}: it would not be drawn")


def _check_async(events: list[dict[str, Any]], say: Callable[[str], None]) -> None:
    """Async slices: one begin then one end per (category, id), same name."""
    begun: dict[tuple[Any, Any], dict[str, Any]] = {}
    ended: set[tuple[Any, Any]] = set()
    for event in sorted((e for e in events if e["ph"] in ("b", "e")), key=_async_order):
        key = (event["cat"], event["id"])
        if event["ph"] == "b":
            if key in begun:
                say(f"async {key!r} begins twice")
            begun[key] = event
        elif key not in begun:
            say(f"async {key!r} ends without a begin")
        elif key in ended:
            say(f"async {key!r} ends twice")
        else:
            ended.add(key)
            if begun[key]["name"] != event["name"]:
                say(f"async {key!r} begins as {begun[key]['name']!r} "
                    f"but ends as {event['name']!r}")
    for key in sorted(set(begun) - ended, key=repr):
        say(f"async {key!r} never ends")


def _async_order(event: dict[str, Any]) -> tuple[float, int]:
    return (event["ts"], 0 if event["ph"] == "b" else 1)
