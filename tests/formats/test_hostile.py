"""Hostile trace files: every reader command exits 0 or 2 with one line, never a traceback.

The corpus (:mod:`.hostile`) holds files broken in every way found so far;
hypothesis mutates a valid trace (values swapped for odd ones, fields removed,
bytes cut or flipped) and checks the same of ``summary``, ``summary --json``
and ``export`` to each format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reactortrace.errors import TraceFileError
from reactortrace.formats import load

from .hostile import (
    EVIL,
    ODD_VALUES,
    as_json,
    as_jsonl,
    base,
    check_outcome,
    corpus,
    paths,
    replaced,
    run_cli,
)

CORPUS = corpus()
COMMANDS = (
    ("summary",),
    ("summary", "--json"),
    ("export", "-o", "{out}.json"),
    ("export", "-o", "{out}.jsonl"),
    ("export", "-o", "{out}.chrome.json"),
)


def run_all(path: Path, workdir: Path) -> list[Any]:
    """Every reader command on ``path``; each outcome checked."""
    outcomes = []
    for number, command in enumerate(COMMANDS):
        args = [arg.format(out=workdir / f"out{number}") for arg in command]
        outcome = run_cli(args[0], str(path), *args[1:])
        check_outcome(outcome)
        outcomes.append(outcome)
    return outcomes


@pytest.mark.parametrize("name", CORPUS, ids=CORPUS)
def test_corpus(tmp_path: Path, name: str) -> None:
    path = tmp_path / "trace.json"
    path.write_bytes(CORPUS[name])
    outcomes = run_all(path, tmp_path)
    # A command either reads the file or not: all agree.
    assert len({o.status for o in outcomes}) == 1, [(o.status, o.err) for o in outcomes]


def test_valid_files_are_read(tmp_path: Path) -> None:
    for name in ("valid", "valid jsonl", "evil names everywhere", "evil names jsonl", "jsonl cut"):
        path = tmp_path / "trace.json"
        path.write_bytes(CORPUS[name])
        assert all(o.status == 0 for o in run_all(path, tmp_path)), name


@pytest.mark.parametrize(
    "name, expected",
    [
        ("NaN", "not a JSON file"),
        ("Infinity", "not a JSON file"),
        ("huge float", 'malformed snapshot: "loop.utilization": number out of range'),
        ("huge int", 'event #3: "args.bytes": integer value out of range'),
        ("nested meta", "nested too deeply"),
        ("nested args", "nested too deeply"),
        ("long jsonl line", "line 2: longer than 16 MiB"),
        ("duplicate seq", "event #1: seq 0 does not follow 0"),
        ("unknown kind", "event #2: unknown event kind 'gc.pause'"),
        ("data after end", "data after the end line"),
        ("zeros", "not a JSON file"),
    ],
)
def test_refusals_name_the_problem(tmp_path: Path, name: str, expected: str) -> None:
    path = tmp_path / "trace.json"
    path.write_bytes(CORPUS[name])
    outcome = run_cli("summary", str(path))
    assert outcome.status == 2 and expected in outcome.err, outcome.err


def test_out_of_range_values_are_refused(tmp_path: Path) -> None:
    good = base()
    for path, value, expected in [
        (("events", 3, "args", "bytes"), 2**70, '"args.bytes": expected an integer <= '),
        (("events", 3, "args", "bytes"), -1, '"args.bytes": expected an integer >= 0'),
        (("events", 1, "args", "type"), 7, '"args.type": expected a string or null'),
        (("events", 2, "args", "due"), [1], '"args.due": expected an integer or null, got a list'),
        (("events", 5, "args", "site"), {"a": 1}, '"args.site": expected a string or null'),
        (("snapshot", "loop", "utilization"), 1.5, '"loop.utilization": expected a number <= 1'),
        (("meta", "argv"), "x", '"meta": "argv": expected a list'),
        (("meta", "options", "slow_ms"), "fast", '"meta": "options.slow_ms"'),
        (("dropped",), -(2**70), '"dropped": expected an integer >= 0'),
    ]:
        file = tmp_path / "trace.json"
        file.write_bytes(as_json(replaced(good, path, value)))
        with pytest.raises(TraceFileError) as info:
            load(file)
        assert expected in str(info.value), (path, str(info.value))


def test_evil_names_are_shown_as_text(tmp_path: Path) -> None:
    """Markup in names is printed as it is, escapes as visible text, in every table."""
    path = tmp_path / "trace.json"
    path.write_bytes(CORPUS["evil names everywhere"])
    outcome = run_cli("summary", str(path))
    assert outcome.status == 0
    assert "[bold red]red[/bold red]" in outcome.out
    assert "\\x1b]2;PWNED\\x07" in outcome.out
    assert "over\\rwrite" in outcome.out
    as_json_out = run_cli("summary", "--json", str(path))
    assert as_json_out.status == 0 and "\\\\x1b" in as_json_out.out  # JSON-escaped backslash
    trace = load(path)
    shown = [e.name for e in trace.events] + list(trace.meta["argv"])
    assert all(s.isprintable() for s in shown)


def test_summary_in_a_terminal_sends_no_escape_from_the_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With colours on, the only escapes are Rich's own styles (SGR), never the trace's."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "trace.json"
    path.write_bytes(CORPUS["evil names everywhere"])
    outcome = run_cli("summary", str(path))
    assert outcome.status == 0
    assert "\x1b[" in outcome.out  # styled
    import re

    leftover = re.sub(r"\x1b\[[0-9;]*m", "", outcome.out)
    assert "\x1b" not in leftover and "\x07" not in leftover and "\r" not in leftover


def test_a_device_is_refused_at_once(tmp_path: Path) -> None:
    outcome = run_cli("summary", "/dev/zero")
    check_outcome(outcome)
    assert outcome.status == 2 and "not a regular file" in outcome.err


def test_a_fifo_without_writer_does_not_hang(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    outcome = run_cli("summary", str(fifo))
    check_outcome(outcome)
    assert outcome.status == 2 and "empty" in outcome.err


# -- mutation ---------------------------------------------------------------

GOOD = base()
PATHS = [p for p in paths(GOOD) if p and p[0] not in ("format", "version")]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
    | st.sampled_from(EVIL) | st.sampled_from(ODD_VALUES),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=5,
)


def value_at(document: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        document = document[key]
    return document


def plausible(value: Any) -> st.SearchStrategy[Any]:
    """Values of the same JSON type as ``value``: most of them pass the checks."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.sampled_from((0, 1, 2**62, -5)) | st.integers(0, 2**62)
    if isinstance(value, float):
        return st.floats(0, 1)
    if isinstance(value, str):
        return st.sampled_from(EVIL) | st.text(max_size=30)
    if isinstance(value, list):
        return st.lists(st.sampled_from(value), max_size=5) if value else st.just([])
    return st.just(value)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid trace changed in one to four places, as JSON or JSON Lines, maybe cut.

    Most changes keep a field's type (so that the file passes and what reads
    it is tried); others put anything anywhere, or remove a field.
    """
    document: Any = GOOD
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(PATHS))
        try:
            old = value_at(document, path)
            choice = draw(st.integers(0, 9))
            if choice < 7:
                value = draw(plausible(old))
            else:
                value = draw(st.just(...) | json_values)
            document = replaced(document, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed the path
    try:
        data = as_jsonl(document) if draw(st.booleans()) else as_json(document)
    except (TypeError, AttributeError):  # the top level itself was replaced
        data = as_json(document)
    if draw(st.integers(0, 19)) == 0:
        data = data[: draw(st.integers(1, len(data)))]  # (empty: in the corpus)
    if draw(st.integers(0, 19)) == 0 and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.data_too_large])
@given(data=mutated())
def test_mutations_never_crash(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    workdir = tmp_path_factory.mktemp("mutant")
    path = workdir / "trace.json"
    path.write_bytes(data)
    outcomes = run_all(path, workdir)
    assert len({o.status for o in outcomes}) == 1, [(o.status, o.err) for o in outcomes]


def test_jsonl_of_valid_trace_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_bytes(as_jsonl(GOOD))
    trace = load(path)
    assert trace.complete and len(trace.events) == len(GOOD["events"])
    assert trace.snapshot is not None and trace.snapshot.timers[0].due_in == -5
