"""The code injected into the target: as little as possible, on any thread.

:func:`code` makes the one line of Python that gdb has the target run. That
line runs this module's source in a namespace of its own (nothing is added to
the program's ``__main__``), and :func:`_start` only starts a thread and
returns: whatever thread the line interrupted goes on at once.

The thread (``reactortrace-attach``) reports to the attaching process over
the private Unix socket it listens on, then:

1. finds the running reactor in ``sys.modules`` (no import of Twisted), or
   says there is none;
2. asks the reactor thread to run one empty call (``callFromThread``, which
   wakes an idle reactor through Twisted's own waker); if that call has not
   run after ``probe`` seconds the reactor is blocked, and the thread sends
   the reactor thread's stack instead of waiting;
3. imports ``reactortrace.inject.agent`` (from the attacher's install
   location, put on ``sys.path`` only for that import), which instruments
   the reactor on its own thread and serves until the attacher detaches.

Only modules a Twisted program has already loaded are used before step 3.
"""

from __future__ import annotations

from typing import Any

#: The namespace name the injected source runs under.
NAME = "__reactortrace_bootstrap__"


def code(params: dict[str, Any]) -> str:
    """The line of Python the target runs: this module's source, with ``params``."""
    with open(__file__, encoding="utf-8") as source:
        text = source.read()
    return f"exec({text!r}, {{'__name__': {NAME!r}, 'PARAMS': {params!r}}})"


def _start(params: dict[str, Any]) -> None:
    """Start the helper thread; never raise (this runs inside the program)."""
    try:
        import threading

        threading.Thread(target=_helper, args=(params,), name="reactortrace-attach",
                         daemon=True).start()
    except BaseException:  # noqa: BLE001 - the program must not see it
        pass


def _helper(params: dict[str, Any]) -> None:
    import json
    import socket

    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.settimeout(5.0)
        conn.connect(params["report"])
        conn.settimeout(None)
    except OSError:
        conn.close()
        return  # the attacher has gone: nothing was added

    def send(**fields: Any) -> None:
        conn.sendall((json.dumps(fields) + "\n").encode())

    keep = False
    try:
        send(state="hello")
        reactor = _reactor(send)
        if reactor is not None and _responsive(reactor, params, send):
            agent = _import_agent(params, send)
            if agent is not None:
                keep = True
                agent.serve(reactor, conn, params)
    except BaseException as exc:  # noqa: BLE001 - never into the program
        try:
            send(state="failed", reason=f"{type(exc).__name__}: {exc}")
        except OSError:
            pass
    finally:
        if not keep:
            conn.close()


def _reactor(send: Any) -> Any:
    """The running reactor, or None once the refusal was sent."""
    import sys

    reactor = sys.modules.get("twisted.internet.reactor")
    if "twisted" not in sys.modules:
        send(state="refused", reason="no-twisted")
        return None
    if reactor is None or not hasattr(reactor, "callFromThread"):
        send(state="refused", reason="no-reactor")
        return None
    if not getattr(reactor, "running", False):
        send(state="refused", reason="not-running", reactor=type(reactor).__qualname__)
        return None
    agent = sys.modules.get("reactortrace.inject.agent")
    current = getattr(agent, "current", None)
    if current is not None and current() is not None:
        send(state="already", socket=current().socket)
        return None
    return reactor


def _responsive(reactor: Any, params: dict[str, Any], send: Any) -> bool:
    """Whether the reactor thread runs a call within ``probe`` seconds;
    if not, send its stack."""
    import sys
    import threading

    ran = threading.Event()
    reactor.callFromThread(ran.set)
    if ran.wait(float(params.get("probe") or 1.0)):
        return True
    import traceback

    threadable = sys.modules.get("twisted.python.threadable")
    ident = getattr(threadable, "ioThread", None) or threading.main_thread().ident
    frame = sys._current_frames().get(int(ident or 0))
    stack = traceback.format_stack(frame) if frame is not None else []
    send(state="blocked", stack=[line.rstrip("\n") for line in stack])
    return False


def _import_agent(params: dict[str, Any], send: Any) -> Any:
    """``reactortrace.inject.agent``, found where the attacher's copy lives."""
    import importlib
    import sys

    path = params["path"]
    added = path not in sys.path
    if added:
        sys.path.append(path)
    try:
        return importlib.import_module("reactortrace.inject.agent")
    except Exception as exc:  # noqa: BLE001
        send(state="refused", reason="no-import", path=path, error=f"{type(exc).__name__}: {exc}")
        return None
    finally:
        if added and path in sys.path:
            sys.path.remove(path)


if __name__ == NAME:
    _start(globals()["PARAMS"])
