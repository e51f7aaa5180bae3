"""reactortrace: see what a Twisted reactor is doing, and why."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ReactorTraceError, TraceFileError, UsageError

if TYPE_CHECKING:
    from .core.trace import Trace
    from .instrumentation.tracer import Tracer

__all__ = ["ReactorTraceError", "TraceFileError", "UsageError", "instrument", "load", "Tracer", "Trace"]
__version__ = "0.1.0"


def instrument(reactor: Any = None, **options: Any) -> "Tracer":
    """Instrument an installed reactor in place and return its Tracer."""
    from .instrumentation.tracer import instrument as _instrument

    return _instrument(reactor, **options)


def load(path: str) -> "Trace":
    """Read a trace file written by reactortrace (json or jsonl)."""
    from .formats.reader import load as _load

    return _load(path)


def __getattr__(name: str) -> Any:
    if name == "Tracer":
        from .instrumentation.tracer import Tracer

        return Tracer
    if name == "Trace":
        from .core.trace import Trace

        return Trace
    raise AttributeError(name)
