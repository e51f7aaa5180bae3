"""One measurement in a fresh process: ``child.py WORKLOAD --size N [--traced]``.

Installs the asked-for reactor before anything imports the global one, then
(if traced) instruments it exactly as a user would, runs the workload and
prints its result as one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

REACTORS = ("epoll", "poll", "select", "asyncio")


def install_reactor(name: str) -> Any:
    """Install the named reactor and return it."""
    if name == "asyncio":
        import asyncio

        from twisted.internet import asyncioreactor

        asyncioreactor.install(asyncio.new_event_loop())
    else:
        module = importlib.import_module(f"twisted.internet.{name}reactor")
        module.install()
    from twisted.internet import reactor

    return reactor


def scrape_every_second(port: int) -> None:
    """Scrape ``/metrics`` every second from a thread, as a 1 s Prometheus would."""
    import threading
    import time
    import urllib.request

    def scrape() -> None:
        while True:
            time.sleep(1.0)
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()

    threading.Thread(target=scrape, name="benchmark-scraper", daemon=True).start()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("workload")
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--reactor", choices=REACTORS, default="epoll")
    parser.add_argument("--traced", action="store_true")
    parser.add_argument(
        "--no-diagnostics", action="store_true",
        help="traced without the watchdog and the diagnosis hooks (issue 4's baseline)",
    )
    parser.add_argument(
        "--metrics", action="store_true",
        help="traced with the Prometheus endpoint on (any free port) and scraped every second",
    )
    parser.add_argument(
        "--deferred-view", action="store_true",
        help="traced with the Deferreds view (off by default)",
    )
    args = parser.parse_args()

    reactor = install_reactor(args.reactor)
    tracer = None
    if args.traced:
        import reactortrace

        tracer = reactortrace.instrument(
            reactor, diagnostics=not args.no_diagnostics,
            deferred_view=args.deferred_view,
            metrics="127.0.0.1:0" if args.metrics else None,
        )
        if args.metrics:
            scrape_every_second(tracer.exports.metrics_port)
    workload = importlib.import_module(f"workloads.{args.workload.split('+')[0]}")
    result = workload.run(reactor, args.size, tracer)
    if tracer is not None:
        tracer.close()
    result.update(workload=args.workload, traced=args.traced, size=args.size)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
