"""The live server and the viewer's feed, on a fake program (no Twisted)."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time

import pytest

from reactortrace.core.feed import ENDED, LIVE, PAUSED
from reactortrace.errors import ReactorTraceError
from reactortrace.live import protocol
from reactortrace.live.client import LiveFeed
from reactortrace.live.server import LiveServer

from .fakes import META, FakeProgram, read_messages, wait_until


def collect(feed: LiveFeed, count: int, timeout: float = 10.0) -> list[int]:
    """Poll until ``count`` events have come; their seq numbers."""
    seqs: list[int] = []

    def enough() -> bool:
        seqs.extend(event.seq for event in feed.poll().events)
        return len(seqs) >= count

    wait_until(enough, timeout)
    return seqs


def test_hello_gives_meta_and_recent_history_before_the_feed_returns(
    program: FakeProgram, server: LiveServer
) -> None:
    program.add_timers(5)
    wait_until(lambda: program.drain_times)  # the server has seen them
    feed = LiveFeed(server.path)
    try:
        assert feed.meta == META
        update = feed.poll()
        assert [e.seq for e in update.events] == [0, 1, 2, 3, 4]
        assert update.state == LIVE
        assert update.viewer_dropped == 0
    finally:
        feed.close()


def test_every_event_arrives_once_in_order_with_the_snapshot(
    program: FakeProgram, server: LiveServer
) -> None:
    feed = LiveFeed(server.path)
    try:
        for _ in range(4):
            program.add_timers(50)
            time.sleep(0.01)
        seqs = collect(feed, 200)
        assert seqs == list(range(200))
        snapshot = wait_until(lambda: (s := feed.poll().snapshot).loop.events == 200 and s)
        assert snapshot.callables[0].name == "shop.Shop.restock"
        assert snapshot.callables[0].count == 200
        assert feed.poll().viewer_dropped == 0
    finally:
        feed.close()


def test_several_viewers_each_get_everything(program: FakeProgram, server: LiveServer) -> None:
    feeds = [LiveFeed(server.path) for _ in range(3)]
    try:
        wait_until(lambda: server.viewers == 3)
        program.add_timers(120)
        for feed in feeds:
            assert collect(feed, 120) == list(range(120))
    finally:
        for feed in feeds:
            feed.close()


def test_position_only_grows_and_polls_without_news_return_the_same_snapshot(
    program: FakeProgram, server: LiveServer
) -> None:
    feed = LiveFeed(server.path)
    try:
        positions = []
        for _ in range(5):
            update = wait_until(lambda: (u := feed.poll()).position > max(positions, default=-1)
                                and u)
            positions.append(update.position)
            assert update.duration >= update.position
        assert positions == sorted(positions)
        feed.pause()
        paused = feed.poll()
        program.add_timers(10)
        wait_until(lambda: program.recorded == 10 and len(program.drain_times) > 3)
        again = feed.poll()
        assert paused.state == again.state == PAUSED
        assert again.snapshot is paused.snapshot
        assert again.position == paused.position
        assert again.events == ()
        feed.resume()
        assert wait_until(lambda: feed.poll().snapshot.loop.events == 10)
        assert feed.poll().state == LIVE
    finally:
        feed.close()


def test_every_record_arrives_however_many_updates_it_takes(
    program: FakeProgram, server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(protocol, "UPDATE_RECORDS", 7)
    feed = LiveFeed(server.path, max_events=1_000)
    try:
        program.add_timers(100)
        assert collect(feed, 100) == list(range(100))
        assert feed.poll().viewer_dropped == 0
        assert wait_until(lambda: feed.poll().snapshot.loop.events == 100)
    finally:
        feed.close()


def test_a_busy_program_s_log_is_sampled_and_the_rest_counted_a_quiet_one_s_is_not(
    program: FakeProgram, server: LiveServer
) -> None:
    feed = LiveFeed(server.path, max_events=10_000, sample=50)
    try:
        program.add_timers(60)  # quiet: 60 events, all shown
        wait_until(lambda: feed._snapshot.loop.events == 60)
        assert len(feed.poll().events) == 60
        program.add_timers(3_000)  # busy: more than 1,000 a second
        wait_until(lambda: feed._snapshot.loop.events == 3_060)
        assert feed._snapshot.loop.events_per_second >= 1_000
        update = feed.poll()
        assert [e.seq for e in update.events] == list(range(3_010, 3_060))  # the newest
        assert update.viewer_dropped == 2_950
        # The counts are every record's, however few the log shows.
        assert update.snapshot.callables[0].count == 3_060
    finally:
        feed.close()


def test_a_viewer_that_polls_rarely_keeps_the_newest_events_and_counts_the_rest(program: FakeProgram, server: LiveServer) -> None:
    feed = LiveFeed(server.path, max_events=40)
    try:
        program.add_timers(100)
        wait_until(lambda: feed._snapshot.loop.events == 100)
        update = feed.poll()
        assert [e.seq for e in update.events] == list(range(60, 100))
        assert update.viewer_dropped == 60
    finally:
        feed.close()


def test_a_stalled_viewer_neither_holds_the_program_nor_grows_and_is_told_what_it_lost(
    sock_dir: str,
) -> None:
    program = FakeProgram(ring=6_000)
    limit = 64 * 1024
    server = LiveServer(program, f"{sock_dir}/3.sock", interval=0.03, max_queue=limit)
    server.start()
    stalled = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(server.path)  # and never reads
    healthy = LiveFeed(server.path, max_events=100_000, sample=100_000)
    try:
        wait_until(lambda: server.viewers == 2)
        total = 0
        seqs: list[int] = []
        largest = 0
        while total < 12_000:
            program.add_timers(200, pad=400)  # about 120 KB a batch
            total += 200
            seqs.extend(event.seq for event in healthy.poll().events)
            largest = max(largest, *server.viewer_queues())
            time.sleep(0.03)
        # The stalled viewer's queue stayed bounded: one update past the limit at most.
        assert largest < limit + protocol.UPDATE_RECORDS * 700, largest
        # The program went on: every batch was taken at the server's pace.
        gaps = [b - a for a, b in zip(program.drain_times, program.drain_times[1:])]
        assert max(gaps) < 1.0, gaps
        # The healthy viewer got every event, none dropped or lost.
        seqs += collect(healthy, total - len(seqs))
        assert seqs == list(range(total))
        assert healthy.poll().viewer_dropped == 0
        # The stalled one, once it reads, is told how many records it lost.
        messages = read_messages(stalled, lambda ms: any(m.get("lost") for m in ms))
        lost = sum(m.get("lost") or 0 for m in messages)
        assert 0 < lost <= total - program.ring
        assert max(server.viewer_losses()) == lost
    finally:
        stalled.close()
        healthy.close()
        server.finish()


def test_what_viewers_send_is_ignored(program: FakeProgram, server: LiveServer) -> None:
    chatty = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    chatty.connect(server.path)
    feed = LiveFeed(server.path)
    try:
        commands = [
            b'{"type": "exec", "code": "import os; os._exit(1)"}\n',
            b'{"type": "pause"}\n',
            b"quit\n",
            os.urandom(4096),
        ]
        for _ in range(20):
            for command in commands:
                chatty.sendall(command)
        program.add_timers(30)
        assert collect(feed, 30) == list(range(30))
        messages = read_messages(chatty, lambda ms: sum(m.get("count", 0) for m in ms) >= 30)
        assert messages[0]["type"] == "hello"
        assert server.viewers == 2
        assert set(program.calls) <= {"advance", "take", "extras"}
        assert server.failed is None
    finally:
        chatty.close()
        feed.close()


def test_a_viewer_that_dies_is_forgotten(program: FakeProgram, server: LiveServer) -> None:
    feeds = [LiveFeed(server.path) for _ in range(2)]
    try:
        wait_until(lambda: server.viewers == 2)
        feeds[0]._sock.close()  # gone without a goodbye
        wait_until(lambda: server.viewers == 1)
        program.add_timers(10)
        assert collect(feeds[1], 10) == list(range(10))
        assert server.failed is None
    finally:
        for feed in feeds:
            feed.close()


def test_socket_is_owner_only_in_an_owner_only_directory(server: LiveServer) -> None:
    assert stat.S_IMODE(os.stat(server.path).st_mode) == 0o600
    assert stat.S_ISSOCK(os.stat(server.path).st_mode)
    assert stat.S_IMODE(os.stat(os.path.dirname(server.path)).st_mode) == 0o700


def test_a_directory_open_to_others_is_refused(program: FakeProgram, sock_dir: str) -> None:
    os.chmod(sock_dir, 0o755)
    server = LiveServer(program, f"{sock_dir}/4.sock")
    with pytest.raises(ReactorTraceError, match="open to other users"):
        server.start()
    assert not os.path.exists(f"{sock_dir}/4.sock")


def test_the_end_is_sent_and_the_socket_removed(program: FakeProgram, server: LiveServer) -> None:
    feed = LiveFeed(server.path)
    try:
        program.add_timers(3)
        server.finish("stopped")
        update = wait_until(lambda: (u := feed.poll()).state == ENDED and u)
        assert feed.end_reason == "stopped"
        # The last update came before the end: nothing recorded is missing.
        assert update.snapshot.loop.events == 3
        assert not os.path.exists(server.path)
    finally:
        feed.close()
        feed.close()  # idempotent


def test_a_failing_program_side_stops_the_server_once_and_quietly(
    program: FakeProgram, sock_dir: str
) -> None:
    said: list[str] = []
    server = LiveServer(program, f"{sock_dir}/5.sock", interval=0.05, idle_interval=0.05,
                        say=said.append)
    server.start()
    feed = LiveFeed(server.path)
    program.fail = RuntimeError("resolver broke")
    try:
        wait_until(lambda: feed.poll().state == ENDED)
        assert said == ["live view stopped: RuntimeError: resolver broke"]
        assert not os.path.exists(server.path)
    finally:
        feed.close()
        server.finish()


def test_connecting_to_nothing_is_one_clear_error(sock_dir: str) -> None:
    with pytest.raises(ReactorTraceError, match="no such socket"):
        LiveFeed(f"{sock_dir}/missing.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(f"{sock_dir}/stale.sock")
    stale.close()  # bound, never listening: what a killed program leaves
    with pytest.raises(ReactorTraceError, match="nothing listens"):
        LiveFeed(f"{sock_dir}/stale.sock")


def fake_server(sock_dir: str, lines: list[bytes], close: bool) -> str:
    """A one-shot server that sends ``lines`` to the first viewer."""
    path = f"{sock_dir}/fake.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)

    def serve() -> None:
        conn, _ = listener.accept()
        for line in lines:
            conn.sendall(line)
        if close:
            conn.close()
        else:
            threading.Event().wait(5)
            conn.close()
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return path


def hello_line() -> bytes:
    return protocol.hello(META, 0.1, FakeProgram.clock, FakeProgram.thresholds, 0, -1)


def test_a_connection_that_closes_without_an_end_is_an_end(sock_dir: str) -> None:
    feed = LiveFeed(fake_server(sock_dir, [hello_line()], close=True))
    try:
        wait_until(lambda: feed.poll().state == ENDED)
        assert feed.end_reason == "connection closed"
    finally:
        feed.close()


def test_garbage_after_the_hello_makes_poll_raise(sock_dir: str) -> None:
    feed = LiveFeed(fake_server(sock_dir, [hello_line(), b"garbage\n"], close=False))
    try:
        def raises() -> bool:
            try:
                feed.poll()
            except ReactorTraceError:
                return True
            return False

        wait_until(raises)
    finally:
        feed.close()


def test_a_server_that_says_no_hello_is_refused(sock_dir: str) -> None:
    path = fake_server(sock_dir, [protocol.end("x")], close=True)
    with pytest.raises(ReactorTraceError, match="no hello"):
        LiveFeed(path)


def test_a_fresh_attach_counts_no_drops(program: FakeProgram, server: LiveServer) -> None:
    program.add_timers(500)  # more history than a poll takes
    wait_until(lambda: program.drain_times)
    feed = LiveFeed(server.path, max_events=100)
    try:
        program.add_timers(5)  # an update arrives before the first poll
        wait_until(lambda: feed._snapshot.loop.events == 505)
        update = feed.poll()
        assert update.viewer_dropped == 0
        assert [e.seq for e in update.events][-5:] == list(range(500, 505))
        assert update.snapshot.callables[0].count == 505  # the history counts in full
    finally:
        feed.close()
