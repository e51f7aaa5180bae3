"""Every way of writing a live recording writes the same trace, field by field.

``busy.py --compare`` records one run (every kind of dispatch, Deferreds
tracked) and writes it four ways: by writer processes fed raw records as it
runs (JSON and JSON Lines; and Chrome, compared with Chrome written from the
same list of events), streamed chunk by chunk into the file by
``Tracer.export``, and from one list of resolved events
(``write(tracer.trace())``, the way every trace used to be written); and a
live viewer resolves the same raw records itself. The files are compared as
raw JSON: every event, every field, the snapshot, the meta and the drop count
(the viewer's events and snapshot).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

import reactortrace
from reactortrace.core.encoding import dumps
from reactortrace.core.events import Event
from reactortrace.formats.jsonfile import encode_events

from ..reactors import REACTORS
from .conftest import Recorded, run_busy


def document(path: Path) -> dict[str, Any]:
    """A trace file as raw JSON: a JSON Lines trace as the JSON document it stands for."""
    if path.suffix != ".jsonl":
        parsed: dict[str, Any] = orjson.loads(path.read_bytes())
        return parsed
    records = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    head, *events, snapshot, end = records
    assert (head["type"], snapshot["type"], end["type"]) == ("meta", "snapshot", "end")
    assert all(event.pop("type") == "event" for event in events)
    return {"format": head["format"], "version": head["version"], "meta": head["meta"],
            "dropped": end["dropped"], "events": events, "snapshot": snapshot["snapshot"]}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, Any]]]:
    """``{reactor: {way: document}}`` for busy.py --compare on every reactor family."""
    prefixes = run_busy(tmp_path_factory.mktemp("equivalence"), "--compare")
    return {reactor: {way: document(Path(f"{prefix}.{way}"))
                      for way in ("whole.json", "json", "capture.json", "capture.jsonl",
                                  "live.json", "whole.chrome.json", "capture.chrome.json")}
            for reactor, prefix in prefixes.items()}


@pytest.mark.parametrize("reactor", REACTORS)
@pytest.mark.parametrize("way", ["json", "capture.json", "capture.jsonl", "live.json"])
def test_every_way_writes_the_trace_one_list_of_events_gives(
    written: dict[str, dict[str, dict[str, Any]]], reactor: str, way: str
) -> None:
    whole, other = written[reactor]["whole.json"], written[reactor][way]
    kinds = {event["kind"] for event in whole["events"]}
    # The run made every kind of record there is to resolve, rare and packed.
    assert {"timer", "timer.schedule", "timer.cancel", "io.read", "io.write", "conn.open",
            "conn.close", "thread", "deferred", "deferred.new", "deferred.fired",
            "iteration", "system"} <= kinds
    assert len(other["events"]) == len(whole["events"]) > 100
    for old, new in zip(whole["events"], other["events"]):
        assert new == old
    assert other["snapshot"] == whole["snapshot"]
    assert other["snapshot"]["connections"] or other["snapshot"]["callables"]
    if way == "live.json":  # a viewer has no meta or drops of its own to compare
        assert other["dropped"] == whole["dropped"] == 0
        return
    meta = dict(whole["meta"])
    if way.endswith(".jsonl"):  # its meta line went out as the stream began
        del meta["recording"]
    assert (other["meta"], other["dropped"]) == (meta, whole["dropped"])


@pytest.mark.parametrize("reactor", REACTORS)
def test_the_writer_process_writes_the_chrome_trace_one_list_of_events_gives(
    written: dict[str, dict[str, dict[str, Any]]], reactor: str
) -> None:
    whole, other = written[reactor]["whole.chrome.json"], written[reactor]["capture.chrome.json"]
    assert len(other["traceEvents"]) == len(whole["traceEvents"]) > 100
    for old, new in zip(whole["traceEvents"], other["traceEvents"]):
        assert new == old
    assert other["otherData"] == whole["otherData"]
    assert {e["ph"] for e in other["traceEvents"]} >= {"X", "s", "f", "b", "e", "C", "M"}


@pytest.mark.parametrize("reactor", REACTORS)
def test_what_the_writer_process_wrote_loads_as_the_tracer_exported_it(
    written: dict[str, dict[str, dict[str, Any]]], reactor: str, tmp_path: Path
) -> None:
    for way in ("json", "capture.json"):
        path = tmp_path / f"{way}.json"
        path.write_bytes(orjson.dumps(written[reactor][way]))
    exported, captured = (reactortrace.load(str(tmp_path / f"{way}.json"))
                          for way in ("json", "capture.json"))
    assert captured.events == exported.events
    assert captured.snapshot == exported.snapshot


def test_events_encode_to_the_bytes_their_dicts_would(recorded: Recorded) -> None:
    odd = Event(1, 2, 3, "warning", "n\u00e9\x01\u2028", {
        "message": 'tab\t"q"\\ \ud7ff', "subject": 3.5, "where": 1e-7, "code": [1, (2, 3)],
        "big": 10**17, "none": None, "yes": True, "path": Path("/x"),
    })
    events = [*recorded.trace.events, odd]
    assert encode_events(events) == dumps([event.to_dict() for event in events])[1:-1]
