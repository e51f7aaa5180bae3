"""What waits on what, as pure functions: cycles, chain ends, the awaited-by tree."""

from __future__ import annotations

from reactortrace.core.awaiting import (
    chain_ends,
    deadlock_text,
    find_cycles,
    sorted_infos,
    tree,
)
from reactortrace.core.snapshot import DeferredInfo, PendingDeferreds


def test_cycles_are_found_in_waiting_order_and_chains_are_not_cycles() -> None:
    edges = {1: [2], 2: [3], 3: [], 4: [5], 5: [4], 6: [6], 7: [4], 8: [9, 10], 9: [], 10: [8]}
    assert sorted(find_cycles(edges)) == [(4, 5), (6,), (8, 10)]
    assert find_cycles({1: [2], 2: [3], 3: [4], 4: []}) == []
    assert find_cycles({}) == []
    assert deadlock_text((4, 5)) == "deadlock: #4 → #5 → #4"


def test_a_long_chain_needs_no_recursion() -> None:
    edges = {n: [n + 1] for n in range(20_000)}
    assert find_cycles(edges) == []
    ends = chain_ends(edges, {20_000: "timer 1"})
    assert ends[0] == ("timer 1", 20_000)
    edges[20_000] = [0]
    (cycle,) = find_cycles(edges)
    assert len(cycle) == 20_001 and cycle[:3] == (0, 1, 2)


def test_chain_ends_follow_the_first_wait_down_to_what_fires_it() -> None:
    edges = {1: [2], 2: [3], 3: [], 4: [5], 5: [4], 6: []}
    ends = chain_ends(edges, {3: "timer 9", 6: "nothing known"})
    assert ends[1] == ("timer 9", 2) and ends[2] == ("timer 9", 1) and ends[3] == ("timer 9", 0)
    assert ends[4][0].startswith("deadlock") and ends[6] == ("nothing known", 0)


def info(ident: int, age: int | None, *waits: int, name: str = "d", deadlock: bool = False,
         source: str = "nothing", detail: str = "nothing known") -> DeferredInfo:
    if waits:
        source, detail = "deferred", ", ".join(f"#{w}" for w in waits)
    return DeferredInfo(ident, "deferred", name, age, f"app.py:{ident}", waits_on=waits,
                        source=source, detail=detail, deadlock=deadlock)


def sample() -> PendingDeferreds:
    return PendingDeferreds(
        deferreds=(
            info(1, 50, 2, name="handler"),
            info(2, 40, 3, name="fetch"),
            info(3, 30, source="timer", detail="timer 7, due in 1s", name="later"),
            info(4, None, name="old"),
            info(5, 10, 6, name="swap", deadlock=True),
            info(6, 10, 5, name="swap", deadlock=True),
            info(7, 20, 3, 99, name="both"),
        ),
        total=8, deadlocks=((5, 6),),
    )


def test_sorted_by_age_and_filtered_by_name() -> None:
    pending = sample()
    assert [i.id for i in sorted_infos(pending)] == [4, 1, 2, 3, 7, 5, 6]
    assert [i.id for i in sorted_infos(pending, newest_first=True)][:2] == [5, 6]
    assert [i.id for i in sorted_infos(pending, "FETCH")] == [2]
    assert [i.id for i in sorted_infos(pending, "timer 7")] == [3]  # what it waits on counts


def test_tree_puts_each_waiter_over_what_it_waits_on_down_to_the_timer() -> None:
    lines = [(line.prefix, line.info.id if line.info else line.text, line.repeat)
             for line in tree(sample())]
    assert lines == [
        ("", 4, False),
        ("└─ ", "nothing known", False),
        ("", 1, False),
        ("└─ ", 2, False),
        ("   └─ ", 3, False),
        ("      └─ ", "timer 7, due in 1s", False),
        ("", 7, False),
        ("├─ ", 3, True),  # shown above: a DAG is not drawn twice
        ("└─ ", "1 more Deferred(s), not listed", False),
        ("", 5, False),  # a cycle has no root: it starts at its smallest id
        ("└─ ", 6, False),
        ("   └─ ", 5, True),
    ]


def test_tree_filter_keeps_whole_trees_holding_a_match_and_is_bounded() -> None:
    roots = [line.info.id for line in tree(sample(), "later") if line.info and not line.prefix]
    assert roots == [1, 7]
    many = PendingDeferreds(tuple(info(n, n) for n in range(5_000)), total=5_000)
    assert len(tree(many, limit=300)) == 300
