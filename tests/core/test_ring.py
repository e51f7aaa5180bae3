"""The ring: bounded, numbers records by position, counts what falls out,
hands out only what is new."""

from __future__ import annotations

import threading

from reactortrace.core.ring import Keeper, Ring


def filled(size: int, count: int) -> Ring:
    ring = Ring(size)
    for value in range(count):
        ring.append(value)
    return ring


def test_keeps_the_newest_and_counts_the_dropped() -> None:
    ring = filled(5, 8)
    assert ring.since(-1) == (3, [3, 4, 5, 6, 7])
    assert ring.total == 8 and ring.dropped == 3 and len(ring) == 5


def test_since_returns_only_newer_records_even_after_the_ring_wrapped() -> None:
    ring = filled(5, 8)
    assert ring.since(5) == (6, [6, 7])
    assert ring.since(7) == (8, [])
    assert ring.since(1) == (3, [3, 4, 5, 6, 7])  # the oldest fell out


def test_seal_frees_what_fell_out_without_renumbering() -> None:
    ring = Ring(32)  # sealed in tuples of 2
    for value in range(33):
        ring.append(value)
    ring.seal()
    assert ring.held == 33  # the first tuple holds 0 and 1: 1 is still in
    assert ring.since(-1) == (1, list(range(1, 33)))
    ring.append(33)
    ring.seal()
    assert ring.held == 32 and ring.dropped == 2
    assert ring.since(30) == (31, [31, 32, 33])
    ring.append(34)  # not sealed yet: read all the same
    assert ring.since(32) == (33, [33, 34]) and ring.total == 35


def test_sealed_tuples_are_not_tracked_by_the_garbage_collector() -> None:
    import gc

    ring = Ring(1_000)
    for value in range(2_000):
        ring.append(b"%d" % value)
    ring.seal()
    gc.collect()
    assert ring._chunks and not any(gc.is_tracked(chunk) for chunk in ring._chunks)


def test_numbers_stay_exact_while_other_threads_append_and_a_keeper_trims() -> None:
    ring = Ring(1000)
    keeper = Keeper(ring, interval=0.001)
    keeper.start()
    seen: list[int] = []
    last = -1

    def writer(base: int) -> None:
        for n in range(20_000):
            ring.append(base + n)

    threads = [threading.Thread(target=writer, args=(k * 100_000,)) for k in range(3)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        first, records = ring.since(last)
        assert first > last
        seen.extend(records)
        last = first + len(records) - 1
    for thread in threads:
        thread.join()
    keeper.stop()
    first, records = ring.since(last)
    seen.extend(records)
    assert ring.total == 60_000 and ring.dropped == 59_000
    ring.seal()
    assert ring.held <= 1000 + 1000 // 16 and ring.since(-1)[0] == 59_000
    # Whatever was read came in the order each writer appended it, never twice.
    for k in range(3):
        mine = [v - k * 100_000 for v in seen if k * 100_000 <= v < (k + 1) * 100_000]
        assert mine == sorted(set(mine))
    assert seen[-1] in (19_999, 119_999, 219_999)


def test_the_keeper_frees_memory_nobody_reads() -> None:
    ring = filled(100, 10_000)
    keeper = Keeper(ring, interval=0.001)
    keeper.start()
    try:
        for _ in range(5_000):  # up to 5 s, well past many intervals
            if ring.held <= 100 + 100 // 16:
                break
            threading.Event().wait(0.001)
    finally:
        keeper.stop()
    assert ring.since(-1) == (9_900, list(range(9_900, 10_000)))


def test_the_keeper_goes_on_in_a_forked_child() -> None:
    import os

    ring = Ring(100)
    keeper = Keeper(ring, interval=0.001)
    keeper.start()
    try:
        pid = os.fork()
        if pid == 0:  # the child: only the keeper started anew can free this
            status = 1
            try:
                for value in range(10_000):
                    ring.append(value)
                for _ in range(5_000):
                    if ring.held <= 100 + 100 // 16:
                        status = 0
                        break
                    threading.Event().wait(0.001)
            finally:
                os._exit(status)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        keeper.stop()


def test_seals_of_a_quiet_program_top_up_chunks_instead_of_piling_them_up() -> None:
    ring = Ring(1_600)  # tuples of 100
    for value in range(1_000):
        ring.append(value)
        ring.seal()  # a seal for every record, as a quiet program gets
    assert len(ring._chunks) == 10
    assert ring.since(-1) == (0, list(range(1_000)))
    assert ring.since(949) == (950, list(range(950, 1_000)))


def test_since_hands_out_at_most_a_limit_of_the_oldest_newer_records() -> None:
    ring = Ring(32)  # sealed in tuples of 2
    for value in range(40):
        ring.append(value)
        if value % 3 == 0:
            ring.seal()
    assert ring.since(-1, 5) == (8, [8, 9, 10, 11, 12])
    assert ring.since(30, 4) == (31, [31, 32, 33, 34])
    assert ring.since(37, 10) == (38, [38, 39])
    assert ring.since(39, 10) == (40, [])
