"""Durations, sizes and rates: what users type, and how we print them."""

from __future__ import annotations

import pytest

from reactortrace.core import units
from reactortrace.core.units import MS, S


@pytest.mark.parametrize(
    ("ns", "text"),
    [(None, "-"), (0, "0ns"), (999, "999ns"), (1_500, "1.5µs"), (999_999, "1ms"),
     (12_345_678, "12.3ms"), (210 * MS, "210ms"), (1_500 * MS, "1.5s"), (75 * S, "1m15s"),
     (3 * 3600 * S + 5 * 60 * S, "3h05m"), (-2 * MS, "-2ms")],
)
def test_durations_read_short(ns: int | None, text: str) -> None:
    assert units.duration(ns) == text


def test_messages_put_a_space_before_the_unit() -> None:
    assert units.duration(105 * MS, spaced=True) == "105 ms"
    assert units.size(65_536, spaced=True) == "64 KiB"


def test_clock_size_rate_percent() -> None:
    assert units.clock(62_345 * MS) == "01:02.345"
    assert units.clock(3_700 * S) == "1:01:40.000"
    assert (units.size(100), units.size(1536), units.size(None)) == ("100B", "1.5K", "-")
    assert units.size(3 * 1024**3) == "3G"
    assert (units.rate(950), units.rate(12_345), units.rate(2e6)) == ("950", "12.3k", "2M")
    assert units.percent(0.456) == "46%"


@pytest.mark.parametrize(
    ("typed", "ns"),
    [("12", 12 * S), ("1.5s", 1_500 * MS), ("350ms", 350 * MS), ("1:02.5", 62_500 * MS),
     ("1:00:00", 3_600 * S), (".5", 500 * MS), ("2m", 120 * S), (" 40 us ", 40_000),
     ("1h", 3600 * S)],
)
def test_times_a_user_types(typed: str, ns: int) -> None:
    assert units.parse_duration(typed) == ns


@pytest.mark.parametrize(("typed", "ns"), [("50", 50 * MS), ("50ms", 50 * MS), ("0.05s", 50 * MS)])
def test_a_bare_number_is_in_the_option_s_unit(typed: str, ns: int) -> None:
    assert units.parse_duration(typed, MS) == ns


@pytest.mark.parametrize("typed", ["", "soon", "1:2:3:4", "-3", "12 parsecs", "5 furlongs"])
def test_times_that_are_not(typed: str) -> None:
    with pytest.raises(ValueError):
        units.parse_duration(typed)


@pytest.mark.parametrize("value", [-1, float("nan"), True])
def test_numbers_that_are_not_durations(value: float) -> None:
    with pytest.raises(ValueError):
        units.parse_duration(value)
