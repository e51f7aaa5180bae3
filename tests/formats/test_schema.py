"""The shipped JSON Schema describes exactly what write_json writes."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from reactortrace.core.events import ARGS, KINDS
from reactortrace.core.state import LoopState
from reactortrace.core.trace import Trace
from reactortrace.formats.jsonfile import write_json
from reactortrace.formats.spec import schema

from ..core.builders import EventLog


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    loaded = schema()
    jsonschema.Draft202012Validator.check_schema(loaded)
    return jsonschema.Draft202012Validator(loaded)


@pytest.fixture
def written(tmp_path: Path, sample_log: EventLog, meta: dict[str, Any]) -> dict[str, Any]:
    state = LoopState()
    state.feed(sample_log.events)
    path = tmp_path / "run.json"
    write_json(Trace(meta, sample_log.events, state.snapshot(), dropped=3), path)
    return orjson.loads(path.read_bytes())


def test_written_file_is_valid(
    validator: jsonschema.Draft202012Validator, written: dict[str, Any]
) -> None:
    assert {e["kind"] for e in written["events"]} == set(KINDS)  # the sample covers every kind
    assert written["snapshot"]["callables"] and written["snapshot"]["warnings"]
    validator.validate(written)


def test_schema_lists_the_kinds_and_args_of_the_event_model() -> None:
    defs = schema()["$defs"]
    assert defs["event"]["properties"]["kind"]["enum"] == list(KINDS)
    for kind in KINDS:
        assert tuple(defs["args_" + kind.replace(".", "_")]["properties"]) == ARGS[kind]


def test_every_arg_may_be_null(
    validator: jsonschema.Draft202012Validator, written: dict[str, Any]
) -> None:
    written["events"] = [
        {"seq": i, "ts": 0, "dur": 0, "kind": kind, "name": "x", "args": dict.fromkeys(ARGS[kind])}
        for i, kind in enumerate(KINDS)
    ]
    validator.validate(written)


def test_absent_snapshot_is_valid(
    validator: jsonschema.Draft202012Validator, written: dict[str, Any]
) -> None:
    written["snapshot"] = None
    validator.validate(written)


def breakages() -> dict[str, Any]:
    def event_arg(index: int, key: str, value: Any) -> Any:
        return lambda doc: doc["events"][index]["args"].__setitem__(key, value)

    return {
        "wrong format": lambda doc: doc.__setitem__("format", "other"),
        "version 2": lambda doc: doc.__setitem__("version", 2),
        "meta without pid": lambda doc: doc["meta"].pop("pid"),
        "event without seq": lambda doc: doc["events"][0].pop("seq"),
        "negative dur": lambda doc: doc["events"][0].__setitem__("dur", -1),
        "unknown kind": lambda doc: doc["events"][0].__setitem__("kind", "bogus"),
        "delay as text": event_arg(2, "delay", "soon"),  # events[2] is a timer.schedule
        "unknown arg": event_arg(2, "colour", "red"),
        "bad outcome": event_arg(7, "outcome", "maybe"),  # events[7] is a deferred
        "snapshot without loop": lambda doc: doc["snapshot"].pop("loop"),
    }


@pytest.mark.parametrize("name", breakages())
def test_schema_rejects_broken_files(
    validator: jsonschema.Draft202012Validator, written: dict[str, Any], name: str
) -> None:
    broken = copy.deepcopy(written)
    breakages()[name](broken)
    assert broken != written
    assert not validator.is_valid(broken)


def test_pending_deferreds_are_valid_and_read_back(
    validator: jsonschema.Draft202012Validator, tmp_path: Path, meta: dict[str, Any]
) -> None:
    from dataclasses import replace

    from reactortrace.core.snapshot import DeferredInfo, PendingDeferreds, Snapshot
    from reactortrace.formats import load

    pending = PendingDeferreds(
        deferreds=(
            DeferredInfo(1, "coroutine", "app.main", 2_000, "app.py:3", "app.py:9",
                         ("app.py:5 main", "app.py:9 fetch"), (2,), "deferred",
                         "its coroutine, waiting on #2", fired_by="timer 7, due in 1s", depth=1),
            DeferredInfo(2, "deferred", "twisted.internet.task.deferLater", None, None,
                         source="timer", detail="timer 7, due in 1s", timer=7,
                         fired_by="timer 7, due in 1s"),
        ),
        total=5, omitted=3, deadlocks=((3, 4),), unscanned=1,
    )
    path = tmp_path / "pending.json"
    write_json(Trace(meta, [], replace(Snapshot(10), deferreds=pending)), path)
    document = orjson.loads(path.read_bytes())
    validator.validate(document)
    assert load(str(path)).snapshot.deferreds == pending  # type: ignore[union-attr]
    document["snapshot"]["deferreds"]["deferreds"][0]["source"] = "magic"
    assert not validator.is_valid(document)
    # A snapshot written before the view existed still reads, without one.
    del document["snapshot"]["deferreds"]
    assert Snapshot.from_dict(document["snapshot"]).deferreds is None
