"""Only real reactors can be instrumented, and each only once."""

import progkit
from twisted.internet import task
from twisted.internet.testing import MemoryReactor

import reactortrace

kit = progkit.start()
reactor = kit.reactor


def refused(target):
    """The exception type instrument() raises for ``target`` (None if it does not)."""
    try:
        tracer = reactortrace.instrument(target)
    except Exception as exc:  # noqa: BLE001 - we report whatever it is
        return [type(exc).__name__, isinstance(exc, reactortrace.ReactorTraceError)]
    tracer.close()
    return None


kit.program["clock"] = refused(task.Clock())
kit.program["memory"] = refused(MemoryReactor())
kit.program["twice"] = refused(reactor)  # kit has instrumented it already
kit.program["failures"] = kit.tracer.failures
kit.tracer.close()
again = reactortrace.instrument(reactor)  # once closed, it can be instrumented anew
kit.program["again_failures"] = again.failures
again.close()
kit.finish()
