"""Memory the tracer keeps per recorded event, measured with tracemalloc.

Runs a ``callLater(0)`` chain and compares traced memory before and after, in
the last call of the chain (so reactor start-up and shutdown do not count).
Traced: bytes retained per record in the tracer's ring. Untraced: bytes
retained per timer, the noise floor (expected near 0).
"""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

from ._common import Finish, run_reactor
from .call_later_chain import start_chain


def ring_length(tracer: Any) -> int:
    """How many records the tracer holds now."""
    recorder = getattr(tracer, "recorder", None)
    ring = getattr(recorder, "ring", None)
    if ring is not None:
        return ring.held if hasattr(ring, "held") else len(ring.records)
    return len(tracer.events())


def run(reactor: Any, size: int, tracer: Any) -> dict[str, Any]:
    def begin(finish: Finish) -> None:
        records_before = ring_length(tracer) if tracer is not None else 0
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]

        def last() -> None:
            gc.collect()
            retained = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
            records = ring_length(tracer) - records_before if tracer is not None else 0
            finish(
                {
                    "value": retained / (records or size),
                    "retained": retained,
                    "records": records,
                }
            )

        start_chain(reactor, size, last)

    return run_reactor(reactor, begin)
