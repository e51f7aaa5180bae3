"""I/O on every reactor family: TCP echo, UDP, UNIX sockets, a child process, TLS."""

from __future__ import annotations

import pytest

from .tracecheck import Run, Runner

DONE = "twisted.internet.error.ConnectionDone"


@pytest.fixture
def echo(runner: Runner, reactor: str) -> Run:
    return runner.run("echo", reactor).check()


def _only(events: list, what: str):
    assert len(events) == 1, f"expected one {what}, got {events}"
    return events[0]


def _named(events: list, name: str) -> list:
    return [e for e in events if e.name == name]


def _server_and_client(run: Run, server_type: str, client_type: str) -> tuple:
    server = _only(run.opened(type=server_type), f"{server_type} connection")
    client = _only(run.opened(type=client_type), f"{client_type} connection")
    assert server.args["conn"] != client.args["conn"]
    return server, client


def _byte_total(run: Run, conn: int, kind: str) -> int:
    return sum(e.args["bytes"] for e in run.io(conn, kind))


def test_echo_connections_are_opened_with_types_addresses_and_protocols(echo: Run) -> None:
    port = echo.program["server_port"]
    listening = _only(echo.opened(type="tcp.listen"), "listening port")
    assert listening.args["local"] == f"127.0.0.1:{port}"
    assert listening.args["transport"] == "twisted.internet.tcp.Port"
    assert listening.name == "__main__.EchoServer"  # Factory.forProtocol(EchoServer)
    server, client = _server_and_client(echo, "tcp", "tcp.client")
    assert server.name == "__main__.EchoServer"
    assert server.args["transport"] == "twisted.internet.tcp.Server"
    assert server.args["local"] == f"127.0.0.1:{port}"
    assert server.args["peer"] == echo.program["client_local"]
    assert client.args["transport"] == "twisted.internet.tcp.Client"
    assert client.args["local"] == echo.program["client_local"]
    assert client.args["peer"] == f"127.0.0.1:{port}"
    assert len({listening.args["conn"], server.args["conn"], client.args["conn"]}) == 3


def test_echo_client_connection_is_named_by_its_protocol(echo: Run) -> None:
    _, client = _server_and_client(echo, "tcp", "tcp.client")
    assert client.name == "__main__.EchoClient"
    conn = client.args["conn"]
    assert {e.name for e in echo.io(conn) + echo.io(conn, "io.write")} == {"__main__.EchoClient"}


def test_echo_reads_and_bytes_match_the_round_trips(echo: Run) -> None:
    sent = echo.program["client_sent"]
    server, client = _server_and_client(echo, "tcp", "tcp.client")
    for side in (server, client):
        conn = side.args["conn"]
        reads = echo.io(conn)
        assert len(reads) >= len(sent)
        assert all(e.args["fd"] == side.args["fd"] for e in reads)
        assert _byte_total(echo, conn, "io.read") == sum(sent)
        assert _byte_total(echo, conn, "io.write") == sum(sent)
        assert all(e.dur >= 0 and e.args["error"] is None for e in reads)
    assert {e.name for e in echo.io(server.args["conn"])} == {"__main__.EchoServer"}


def test_echo_connections_close_with_their_reason(echo: Run) -> None:
    server, client = _server_and_client(echo, "tcp", "tcp.client")
    listening = _only(echo.opened(type="tcp.listen"), "listening port")
    closes = {e.args["conn"]: e for e in echo.of("conn.close")}
    assert closes[server.args["conn"]].args["reason"] == DONE
    assert closes[client.args["conn"]].args["reason"] == DONE
    assert echo.program["server_lost"] == echo.program["client_lost"] == ["ConnectionDone"]
    assert listening.args["conn"] in closes
    assert closes[server.args["conn"]].name == server.name
    for conn in (server, client):
        # The dispatch that closes a connection is recorded when it ends, after
        # the close: compare when the dispatches began instead.
        last_io_start = max(e.ts for e in echo.io(conn.args["conn"]))
        assert closes[conn.args["conn"]].seq > conn.seq
        assert last_io_start <= closes[conn.args["conn"]].ts


def test_every_dispatch_is_attributed_to_a_connection(runner: Runner, reactor: str) -> None:
    for name in ("echo", "unix", "child"):
        run = runner.run(name, reactor).check()
        opened = {e.args["conn"] for e in run.of("conn.open")}
        strays = [e for e in run.of("io.read") + run.of("io.write") if e.args["conn"] not in opened]
        assert strays == [], f"{name}: dispatches with no connection: {strays}"


def test_no_event_is_named_after_reactortrace_itself(runner: Runner, reactor: str) -> None:
    for name in ("echo", "unix"):
        run = runner.run(name, reactor).check()
        leaked = [(e.kind, e.name) for e in run.events if e.name.startswith("reactortrace.")]
        assert leaked == [], f"{name}: {leaked}"


def test_udp_ports_and_datagrams(runner: Runner, reactor: str) -> None:
    run = runner.run("udp", reactor).check()
    receiver_port, sender_port = run.program["ports"]
    receiver = _only(_named(run.opened(type="udp"), "__main__.Receiver"), "receiver")
    sender = _only(_named(run.opened(type="udp"), "__main__.Sender"), "sender")
    assert receiver.args["local"] == f"127.0.0.1:{receiver_port}"
    assert sender.args["local"] == f"127.0.0.1:{sender_port}"
    assert receiver.args["transport"] == sender.args["transport"] == "twisted.internet.udp.Port"
    assert run.program["received"] == run.program["sent"]
    assert run.program["answer"] == ["ok"]
    assert 1 <= len(run.io(receiver.args["conn"])) <= len(run.program["sent"])
    assert len(run.io(sender.args["conn"])) == 1
    assert {e.name for e in run.io(receiver.args["conn"])} == {"__main__.Receiver"}
    closed = {e.args["conn"] for e in run.of("conn.close")}
    assert {receiver.args["conn"], sender.args["conn"]} <= closed


def test_unix_socket_server_and_client(runner: Runner, reactor: str) -> None:
    run = runner.run("unix", reactor).check()
    path = run.program["path"]
    listening = _only(run.opened(type="unix.listen"), "unix listening port")
    assert listening.args["local"] == path
    server, client = _server_and_client(run, "unix", "unix.client")
    assert server.name == "__main__.UnixEcho"
    assert client.name == "__main__.UnixClient"
    assert server.args["local"] == client.args["peer"] == path
    assert _byte_total(run, server.args["conn"], "io.read") == sum(run.program["server_received"])
    assert _byte_total(run, client.args["conn"], "io.read") == sum(run.program["client_received"])
    closes = {e.args["conn"]: e.args["reason"] for e in run.of("conn.close")}
    assert closes[server.args["conn"]] == closes[client.args["conn"]] == DONE
    assert listening.args["conn"] in closes


def test_unix_client_without_a_bound_address_has_no_local_address(
    runner: Runner, reactor: str
) -> None:
    run = runner.run("unix", reactor).check()
    _, client = _server_and_client(run, "unix", "unix.client")
    # connectUNIX binds no name: Twisted says UNIXAddress(None), which is "unknown"
    assert client.args["local"] is None


def test_child_process_pipes(runner: Runner, reactor: str) -> None:
    run = runner.run("child", reactor).check()
    assert run.program == {"output": "HELLO CHILD", "exit_code": 7}
    pipes = run.opened(type="process")
    transports = sorted(e.args["transport"] for e in pipes)
    assert transports == [
        "twisted.internet.process.ProcessReader",
        "twisted.internet.process.ProcessReader",
        "twisted.internet.process.ProcessWriter",
    ]
    closed = {e.args["conn"] for e in run.of("conn.close")}
    assert {e.args["conn"] for e in pipes} <= closed
    readers = [e.args["conn"] for e in pipes if e.args["transport"].endswith("Reader")]
    assert sum(len(run.io(conn)) for conn in readers) >= 1


def test_child_process_pipes_are_named_by_the_process_protocol(
    runner: Runner, reactor: str
) -> None:
    run = runner.run("child", reactor).check()
    assert {e.name for e in run.opened(type="process")} == {"__main__.Child"}


TLS_HINT = (
    "TLS needs pyOpenSSL in the test environment (pip install pyOpenSSL); "
    "add it to the test extra.\n"
)


def test_tls_connections_are_typed_tls_and_named_by_the_application(
    runner: Runner, reactor: str
) -> None:
    run = runner.run("tls", reactor)
    assert "No module named 'OpenSSL'" not in run.stderr, TLS_HINT + run.describe()
    run.check()
    assert run.program["server_received"] == run.program["client_received"] == [6]
    server, client = _server_and_client(run, "tls/tcp", "tls/tcp.client")
    assert server.name == "__main__.TlsEcho"
    assert client.name == "__main__.TlsClient"
    # the transport counts ciphertext: the handshake alone is more than the message
    assert _byte_total(run, server.args["conn"], "io.read") > 6
    assert _byte_total(run, client.args["conn"], "io.read") > 6
