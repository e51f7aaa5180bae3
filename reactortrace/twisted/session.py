"""Recording inside a program started by ``reactortrace run``.

The parent process passes its options in one environment variable. Here we
wait for the program to install its reactor (whichever it picks, whenever it
does), instrument it, and write the trace however the program ends: when
``reactor.run()`` returns (``twistd`` kills itself with SIGTERM right after,
so ``atexit`` would be too late), and again at exit if more was recorded.

With ``listen`` in the options, a :class:`~reactortrace.live.server.LiveServer`
serves the recording to viewers from its own thread; it sends its last update
and an end message before the trace is written.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import threading
from typing import Any

from ..core.diagnose import Thresholds
from ..core.snapshot import Snapshot
from .tracer import Tracer, is_real_reactor

ENV_CONFIG = "REACTORTRACE_CONFIG"
ENV_PYTHONPATH = "REACTORTRACE_PYTHONPATH"


class Session:
    """One program's recording: options, the tracer, and writing the trace."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.tracer: Tracer | None = None
        self.live: Any = None  # the LiveServer, when listening
        self.stream: Any = None  # the StreamWriter, when writing JSON Lines
        self._written_upto = -1
        self._lock = threading.Lock()

    def reactor_installed(self, reactor: Any) -> None:
        """Instrument the first real reactor the program installs."""
        if self.tracer is not None or not is_real_reactor(reactor):
            return
        config = self.config
        self.tracer = Tracer(
            reactor,
            max_events=int(config.get("max_events") or 1_000_000),
            slow_ms=float(config.get("slow_ms") or 100.0),
            track_deferreds=bool(config.get("track_deferreds")),
            thresholds=Thresholds.from_options(config.get("thresholds") or {}),
            program=config.get("program"),
            argv=config.get("argv"),
        )
        self._wrap_run(reactor)
        if config.get("listen"):
            self._listen(self.tracer)
        if config.get("format") == "jsonl" and config.get("output"):
            self._stream(self.tracer, config["output"])

    def _stream(self, tracer: Tracer, path: str) -> None:
        """Write the JSON Lines trace as the program runs (survives SIGKILL)."""
        from ..export.stream import StreamWriter

        try:
            self.stream = StreamWriter(path, tracer.meta, tracer.subscribe())
        except Exception as exc:  # noqa: BLE001 - never raise into the program
            _say(f"could not write {path}: {exc}")

    def _listen(self, tracer: Tracer) -> None:
        """Serve the recording on this process's live socket; say where."""
        from ..errors import ReactorTraceError
        from ..live.paths import socket_path
        from ..live.server import LiveServer

        listen = self.config["listen"]
        path = socket_path(os.getpid(), listen if isinstance(listen, str) else None)
        server = LiveServer(TracerSource(tracer), path, say=_say)
        try:
            server.start()
        except (ReactorTraceError, OSError) as exc:
            _say(f"cannot listen on {path}: {exc}")
            return
        self.live = server
        if not self.config.get("quiet") and not self.config.get("tui"):
            _say(f"listening on {path}; watch with: reactortrace attach {os.getpid()}")

    def finish(self, reason: str = "exit") -> None:
        """The program is done: end the live stream, then write the trace."""
        if self.live is not None:
            self.live.finish(reason)
        self.write()

    def _wrap_run(self, reactor: Any) -> None:
        kind = type(reactor)
        original = kind.run
        session = self

        target = self.tracer.recorder.target

        def run(self: Any, *args: Any, **kw: Any) -> Any:
            try:
                return original(self, *args, **kw)
            finally:
                # Only a real stop: trial crash()es the reactor after each test.
                if self is target[0] and getattr(self, "_stopped", True):
                    session.finish("stopped")

        self.tracer.recorder.part("session").patcher.set(kind, "run", run)

    def write(self) -> None:
        """Write the trace if there is anything new; report failures in one line."""
        tracer = self.tracer
        path = self.config.get("output")
        if tracer is None or not path:
            return
        if self.stream is not None:
            self._end_stream(tracer, path)
            return
        with self._lock:
            total = tracer.recorder.ring.total
            if total == self._written_upto:
                return
            try:
                tracer.export(path, self.config.get("format"))
            except Exception as exc:  # noqa: BLE001 - never raise into the program
                _say(f"could not write {path}: {exc}")
                return
            self._written_upto = total
        if not self.config.get("quiet"):
            dropped = f", {tracer.dropped} dropped" if tracer.dropped else ""
            _say(f"wrote {path} ({len(tracer.recorder.ring)} events{dropped})")


    def _end_stream(self, tracer: Tracer, path: str) -> None:
        """Close the JSON Lines stream with the final snapshot (once)."""
        with self._lock:
            if self.stream.closed:
                return
            try:
                self.stream.close(tracer.snapshot, tracer.dropped)
            except Exception as exc:  # noqa: BLE001
                _say(f"could not write {path}: {exc}")
                return
        if not self.config.get("quiet"):
            _say(f"wrote {path} ({self.stream.events_written} events)")


class TracerSource:
    """The live server's view of a tracer: its own subscription, and snapshots."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self.meta = tracer.meta
        self.drain = tracer.subscribe()

    def snapshot(self) -> Snapshot:
        return self.tracer.snapshot()


def _say(message: str) -> None:
    """One line to the real stderr (fd 2), not through the program's logging.

    Programs such as twistd replace ``sys.stderr`` with a log observer; what we
    say must not end up in their logs.
    """
    try:
        os.write(2, f"reactortrace: {message}\n".encode(errors="replace"))
    except OSError:
        pass


def start_from_environment(bootstrap_dir: str) -> Session | None:
    """Start a session if ``reactortrace run`` asked for one; undo its env changes."""
    raw = os.environ.pop(ENV_CONFIG, None)
    _restore_pythonpath(bootstrap_dir)
    if not raw:
        return None
    config = json.loads(raw)
    if config.get("pid") not in (None, os.getpid()):
        return None
    session = Session(config)
    _hook_install(session)
    atexit.register(session.finish)
    return session


def _restore_pythonpath(bootstrap_dir: str) -> None:
    """Children of the program must not be traced too: give back PYTHONPATH."""
    original = os.environ.pop(ENV_PYTHONPATH, None)
    if original is None:
        return
    if original:
        os.environ["PYTHONPATH"] = original
    else:
        os.environ.pop("PYTHONPATH", None)


def _hook_install(session: Session) -> None:
    """Wrap ``installReactor``: every way of picking a reactor goes through it."""
    from twisted.internet import main

    original = main.installReactor

    def installReactor(reactor: Any) -> None:
        original(reactor)
        try:
            session.reactor_installed(reactor)
        except Exception as exc:  # noqa: BLE001
            _say(f"cannot record this reactor: {exc}")

    functools.update_wrapper(installReactor, original)
    main.installReactor = installReactor
