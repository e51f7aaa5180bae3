"""The ring: bounded, counts what falls out, hands out only what is new."""

from __future__ import annotations

from reactortrace.core.ring import Ring


def filled(size: int, count: int) -> Ring:
    ring = Ring(size)
    for value in range(count):
        ring.append((ring.next_seq(), value))
    return ring


def test_keeps_the_newest_and_counts_the_dropped() -> None:
    ring = filled(5, 8)
    assert [r[0] for r in ring.records] == [3, 4, 5, 6, 7]
    assert ring.total == 8 and ring.dropped == 3


def test_since_returns_only_newer_records_even_after_the_ring_wrapped() -> None:
    ring = filled(5, 8)
    assert [r[0] for r in ring.since(5)] == [6, 7]
    assert ring.since(7) == []
    assert [r[0] for r in ring.since(-1)] == [3, 4, 5, 6, 7]  # the oldest fell out
    assert [r[0] for r in ring.since(1)] == [3, 4, 5, 6, 7]


def test_since_copes_with_records_appended_out_of_order() -> None:
    ring = Ring(10)
    first, second = ring.next_seq(), ring.next_seq()
    ring.append((second, "b"))  # two threads: the later number appended first
    ring.append((first, "a"))
    assert sorted(r[0] for r in ring.since(-1)) == [0, 1]
    ring.append((ring.next_seq(), "c"))
    assert [r[1] for r in ring.since(1)] == ["c"]
