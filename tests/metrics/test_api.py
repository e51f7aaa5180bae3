"""``reactortrace.instrument(reactor, metrics=..., otlp=...)`` from Python, in the program."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.reactors import REACTORS

from .conftest import ROOT, free_port
from .receiver import Receiver

PROGRAM = """
import asyncio, importlib, socket, sys, threading, time, urllib.request
if sys.argv[3] == "asyncio":
    from twisted.internet import asyncioreactor
    asyncioreactor.install(asyncio.new_event_loop())
else:
    importlib.import_module(f"twisted.internet.{sys.argv[3]}reactor").install()
from twisted.internet import reactor, threads
import reactortrace

port = int(sys.argv[1])
tracer = reactortrace.instrument(reactor, metrics=f"127.0.0.1:{port}", otlp=sys.argv[2],
                                 slow_ms=50)
assert tracer.exports.metrics_port == port

def scrape():
    return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()

def values(text):
    return dict(line.rsplit(" ", 1) for line in text.splitlines() if line and line[0] != "#")

def check(text):
    lines = values(text)
    print("blocked", values(during[0])["twisted_reactor_blocked_seconds"])
    print("pool", lines["twisted_reactor_threadpool_threads"],
          lines["twisted_reactor_threadpool_job_duration_seconds_count"])
    print("bytes", lines['twisted_reactor_network_io_bytes_total{direction="receive"}'])
    reactor.stop()

during = []

def stuck():
    # Scraped from another thread while this callback blocks the loop.
    scraper = threading.Thread(target=lambda: (time.sleep(0.15), during.append(scrape())))
    scraper.start()
    time.sleep(0.4)
    scraper.join()

d = threads.deferToThread(time.sleep, 0.05)
d.addCallback(lambda _: stuck())
d.addCallback(lambda _: threads.deferToThread(scrape))
d.addCallback(check)
reactor.run()
tracer.close()
# The port is free again (for a server: the scrapes' connections may linger in
# TIME_WAIT), and the last export went out.
with socket.socket() as probe:
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    probe.bind(("127.0.0.1", port))
    probe.listen()
print("closed")
"""


@pytest.mark.parametrize("reactor", REACTORS)
def test_instrument_with_metrics_and_otlp(reactor: str, tmp_path: Path) -> None:
    receiver = Receiver()
    try:
        port = free_port()
        result = subprocess.run([sys.executable, "-c", PROGRAM, str(port), receiver.url, reactor],
                                capture_output=True, text=True, timeout=90, cwd=ROOT)
    finally:
        receiver.close()
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # The scrape 0.15 s into the 0.4 s block saw the loop blocked.
    assert lines[0].split()[0] == "blocked" and 0.1 <= float(lines[0].split()[1]) < 0.4
    assert lines[1].split()[0] == "pool" and float(lines[1].split()[1]) >= 1
    assert float(lines[1].split()[2]) == 1  # the sleep job ran on the pool
    assert lines[2] == "bytes 0.0"
    assert lines[-1] == "closed"
    # Without OTEL_* intervals the one export is the last one, at close: it went out.
    assert "twisted.reactor.loop.delay" in receiver.metric_names()
    spans = receiver.spans()
    assert [attrs.key for attrs in spans[0][1].attributes][:1] == ["twisted.dispatch.callable"]
    assert len(spans) == 1
