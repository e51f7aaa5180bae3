"""``export --redact``: a trace fit to share, still whole enough to read."""

from __future__ import annotations

import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reactortrace.formats import load

from .conftest import PROGRAMS, Recorded
from .hostile import as_json, base, run_cli

SECRETS = ("hunter2", "secret-host", "/home/ann", "10.1.2.3", "192.168.7.7", "140234567890",
           "0x7f00deadbeef")


def crafted() -> dict[str, Any]:
    document = base()
    document["meta"].update(argv=["/home/ann/shop/server.py", "--password", "hunter2"],
                            program="/home/ann/shop/server.py", host="secret-host")
    events = document["events"]
    events[1]["args"].update(local="10.1.2.3:8080", peer="192.168.7.7:5555")
    events[2]["args"]["site"] = "/home/ann/shop/app.py:10"
    events[9]["args"].update(deferred=140234567890, site="/home/ann/shop/app.py:60")
    events[13]["args"]["stack"] = ["/home/ann/shop/app.py:1 main", "/home/ann/shop/app.py:90 block"]
    events[14]["args"]["message"] = "app.Echo (tcp 10.1.2.3:8080 <-> 192.168.7.7:5555): slow"
    events[5]["name"] = "app.<lambda> at 0x7f00deadbeef"
    connection = document["snapshot"]["connections"][0]
    connection.update(local="10.1.2.3:8080", peer="192.168.7.7:5555")
    return document


def test_redacted_export_holds_no_secret_and_still_reads(tmp_path: Path) -> None:
    source = tmp_path / "trace.json"
    source.write_bytes(as_json(crafted()))
    out = tmp_path / "shared.json"
    outcome = run_cli("export", str(source), "-o", str(out), "--redact")
    assert outcome.status == 0, outcome.err
    data = out.read_text()
    for secret in SECRETS:
        assert secret not in data, secret
    trace = load(out)
    assert trace.meta["argv"] == ["server.py"] and trace.meta["program"] == "server.py"
    assert "host" not in trace.meta
    events = trace.events
    assert events[2].args["site"] == "app.py:10"
    assert events[13].args["stack"] == ["app.py:1 main", "app.py:90 block"]
    assert events[9].args["deferred"] == 1
    assert events[5].name == "app.<lambda> at 0x…"
    # One address, one hash: in the event, the message and the snapshot alike.
    local, peer = events[1].args["local"], events[1].args["peer"]
    assert local.startswith("addr-") and peer.startswith("addr-") and local != peer
    assert events[14].args["message"] == f"app.Echo (tcp {local} <-> {peer}): slow"
    assert trace.snapshot is not None
    assert (trace.snapshot.connections[0].local, trace.snapshot.connections[0].peer) == (local, peer)
    assert run_cli("summary", str(out)).status == 0


def test_two_redactions_hash_differently(tmp_path: Path) -> None:
    """The salt is new each time: hashes cannot be compared across files or looked up."""
    source = tmp_path / "trace.json"
    source.write_bytes(as_json(crafted()))
    peers = []
    for number in range(2):
        out = tmp_path / f"shared{number}.jsonl"
        assert run_cli("export", str(source), "-o", str(out), "--redact").status == 0
        peers.append(load(out).events[1].args["peer"])
    assert peers[0] != peers[1]


def test_a_real_trace_redacted_has_no_directory_or_host(
    tmp_path: Path, recorded: Recorded
) -> None:
    out = tmp_path / "shared.json"
    assert run_cli("export", str(recorded.json_path), "-o", str(out), "--redact").status == 0
    data = out.read_text()
    original = recorded.json_path.read_text()
    programs = str(Path(__file__).parent / "programs")
    assert programs in original and programs not in data
    assert f'"{platform.node()}"' not in data
    trace = load(out)
    assert len(trace.events) == len(recorded.trace.events)
    assert trace.meta["argv"] == ["busy.py"]


@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".chrome.json"])
def test_run_redact_writes_the_trace_redacted(tmp_path: Path, suffix: str) -> None:
    """``run --redact``: the file as written (streamed, for jsonl) holds no argv
    after the program's name, no directory, no host, no address; each address
    has one hash throughout; the program is unchanged."""
    out = tmp_path / f"talk{suffix}"
    done = subprocess.run(
        [sys.executable, "-m", "reactortrace", "run", "--no-tui", "--redact", "-o", str(out),
         str(PROGRAMS / "talk.py"), "hunter2", "--token=swordfish"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "argv ['hunter2', '--token=swordfish']" in done.stdout
    data = out.read_text()
    for secret in ("hunter2", "swordfish", str(PROGRAMS), "127.0.0.1", f'"{platform.node()}"'):
        assert secret not in data, secret
    assert re.search(r"0x[0-9a-fA-F]{6,}", data) is None
    if suffix == ".chrome.json":
        assert "addr-" in data
        return
    trace = load(out)
    assert trace.complete and trace.meta["argv"] == ["talk.py"] and "host" not in trace.meta
    opened = {e.args["conn"]: e.args for e in trace.by_kind("conn.open")}
    addresses = {a[key] for a in opened.values() for key in ("local", "peer") if a.get(key)}
    assert addresses and all(a.startswith("addr-") for a in addresses)
    # The client's peer is the server's local address: one address, one hash.
    assert len(addresses) < sum(1 for a in opened.values() for k in ("local", "peer") if a.get(k))
