"""Recording inside a program started by ``reactortrace run``.

The bootstrap starts a :class:`Session` from the options the launcher put in
the environment. The session waits for the program to install its reactor
(whichever it picks, whenever it does), instruments it, and writes the trace
however the program ends: when ``reactor.run()`` returns after a real stop
(``twistd`` kills itself with SIGTERM right after, so ``atexit`` would be too
late), and again at exit if more was recorded. Asked to stop by a signal
while its reactor is blocked (or not stopping a second later), it writes the
trace from its own thread before the program's handling of the signal goes on
(:mod:`reactortrace.launch.signals`).

With ``listen`` in the options, a :class:`~reactortrace.live.server.LiveServer`
serves the recording to viewers from its own thread; it sends its last update
and an end message before the trace is written.

Forks: which process writes the path asked for, and which ones write
``NAME-PID.EXT`` beside it, is :mod:`reactortrace.launch.claim`'s rule. A
forked child lets go of the parent's stream and live socket at once (it never
writes to them). It records as its own only once it goes on with Twisted: its
reactor starts (``twistd`` daemonizing), or dispatches again (forked from a
callback). Then its watchdog, stream and live server start anew, the socket
named for its pid. A child that never does (a worker, ``os.fork`` then
``_exit``, ``subprocess``'s ``preexec_fn``) writes nothing at all.
"""

from __future__ import annotations

import atexit
import dataclasses
import os
import signal
import threading
from typing import Any

from ..core import forks
from ..core.diagnose import Thresholds
from ..core.periodic import Periodic
from ..errors import ReactorTraceError
from ..say import say
from .claim import OutputClaim
from .env import take_config
from .signals import StopGuard

#: Seconds the reactor has to stop after a stop signal before the trace is written anyway.
STOP_GRACE = 1.0
#: Seconds a signal handler waits for the trace written while the reactor is blocked.
BLOCKED_WRITE_WAIT = 2.5
#: ...and when the signal's default action will end the process right after.
ENDING_WRITE_WAIT = 10.0
#: A ring holding at most this many records is written in the program, at
#: once (in tens of milliseconds), rather than by the writer process, which
#: may still be starting: a small trace written on a stop signal does not wait.
IN_PROCESS_UP_TO = 20_000
#: Seconds between two looks, in a child forked from a running reactor, at
#: whether it goes on with that reactor.
FORK_WATCH_INTERVAL = 0.1


class Session:
    """One program's recording: options, the tracer, and writing the trace."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.tracer: Any = None  # the Tracer, once the program has a reactor
        self.live: Any = None  # the LiveServer, when listening
        self.stacks: Any = None  # the StackSwitch beside it (see live.deadman)
        self.stream: Any = None  # the StreamWriter, when writing JSON Lines in-process
        self.capture: Any = None  # the Capture, when a writer process writes the trace
        self._written_upto = -1
        self._lock = threading.Lock()
        self._said: set[str] = set()
        self._ended = False
        self.guard = StopGuard(self.stop_requested)
        output = config.get("output")
        #: Decides the path this process writes (None: no trace file).
        self.claim = OutputClaim(output) if output else None
        self._stream_tried = False
        self._redacting: Any = None
        # Forks: this process records for itself (a forked child does once it
        # goes on with its reactor); the process it was forked from; the
        # ring's count at the fork (then: how far a child has looked for
        # dispatches of its own); sockets of ancestors to remove.
        self._pid = os.getpid()
        self._own = True
        self._parent: int | None = None
        self._forked_at = 0
        self._orphans: list[Any] = []
        self._carry_lock = threading.RLock()
        self._fork_watch: Periodic | None = None
        forks.in_child(self._forked)

    def reactor_installed(self, reactor: Any) -> None:
        """Instrument the first real reactor the program installs."""
        from ..instrumentation.tracer import DEFAULT_SLOW_MS, Tracer, is_real_reactor

        if self.tracer is not None or not is_real_reactor(reactor):
            return
        config = self.config
        self.tracer = tracer = Tracer(
            reactor,
            max_events=int(config.get("max_events") or 1_000_000),
            slow_ms=float(config.get("slow_ms") or DEFAULT_SLOW_MS),
            track_deferreds=bool(config.get("track_deferreds")),
            deferred_view=bool(config.get("deferred_view")) or None,
            thresholds=Thresholds.from_options(config.get("thresholds") or {}),
            program=config.get("program"),
            argv=config.get("argv"),
        )
        tracer.when_stopped(lambda: self.finish("stopped"))
        tracer.when_running(self._running)
        if not self._own:
            self._forked_at = 0  # installed in a forked child: all it records is its own
        else:
            if config.get("listen"):
                self._listen(tracer)
            self._start_capture(tracer)
        if config.get("metrics") or config.get("otlp"):
            self._export_metrics(tracer)

    def _running(self) -> None:
        """The reactor has started in this process (after its startup triggers)."""
        # Twisted (and twistd, and many programs) put their signal handlers
        # in place as the reactor starts: wrap them then.
        self.guard.install()
        self.guard.install_where_default()
        self._carry_on()
        self._open_output()

    def _open_output(self) -> str | None:
        """The path this process writes (decided now if not yet); with JSON
        Lines, the stream starts then (survives SIGKILL)."""
        if self.claim is None or self.tracer is None:
            return None
        with self._carry_lock:  # the reactor's thread and the fork watch may both ask
            path = self.claim.take()
            capture = self.capture
            if not self._stream_tried and not self._ended:
                self._stream_tried = True
                self._capture(self.tracer, path)
            elif capture is not None and capture.path is None:
                if not capture.set_path(path) and self._streams_instead(capture):
                    self._stream(self.tracer, path)
        return path

    def _start_capture(self, tracer: Any) -> None:
        """Start the writer process as soon as the reactor is instrumented:
        it starts up, and takes records, while the program does (which may do
        much before its reactor runs); the path it writes is decided later."""
        from ..formats import FORMATS

        fmt = self.config.get("format")
        if self.claim is None or fmt not in FORMATS or self._redactor() is not None:
            return
        with self._carry_lock:
            if not self._stream_tried and not self._ended:
                self._stream_tried = True
                self._capture(tracer, None)

    def _streams_instead(self, capture: Any) -> bool:
        """Whether the failed ``capture``'s JSON Lines are to be streamed in-process."""
        return (capture.format == "jsonl" and self.capture is capture and not self._ended
                and self.stream is None)

    def _capture(self, tracer: Any, path: str | None) -> None:
        """Traces are written by a writer process fed raw records as the
        program runs (``path`` None: decided later); JSON Lines in-process if
        that cannot start."""
        from ..formats import FORMATS
        from ..instrumentation.capture import Capture

        fmt = self.config.get("format")  # `run` names it, from the extension if need be
        if self._redactor() is not None:  # redacted in the program, never shipped raw
            if fmt == "jsonl" and path is not None:
                self._stream(tracer, path)
            return
        if fmt not in FORMATS:
            return

        def failed(_: str) -> None:  # on the capture's thread
            with self._carry_lock:
                if capture.path is not None and self._streams_instead(capture):
                    self._stream(tracer, capture.path)

        capture = Capture(tracer, path, fmt, on_error=failed)
        self.capture = capture

    def _stream(self, tracer: Any, path: str) -> None:
        """Write the JSON Lines trace as the program runs, from the start."""
        from ..formats.stream import StreamWriter

        limit = max(500_000, tracer.recorder.ring.size)
        drain = tracer.subscribe(limit, history=True)
        meta, redactor = tracer.meta, self._redactor()
        if redactor is not None:
            meta = redactor.meta(meta)
            drain = _RedactedDrain(drain, redactor)
        try:
            self.stream = StreamWriter(path, meta, drain, on_error=self._say_once)
        except Exception as exc:  # noqa: BLE001 - never raise into the program
            drain.close()
            self._failed(path, exc)

    def _listen(self, tracer: Any) -> None:
        """Serve the recording on this process's live socket; say where."""
        from ..instrumentation.shipping import RecordShipper
        from ..live.paths import socket_path
        from ..live.server import LiveServer

        listen = self.config["listen"]
        path = socket_path(os.getpid(), listen if isinstance(listen, str) else None)
        server = LiveServer(RecordShipper(tracer), path, say=say, orphans=self._orphans)
        try:
            server.start()
        except (ReactorTraceError, OSError) as exc:
            say(f"cannot listen on {path}: {exc}")
            return
        self.live = server
        self._watch_the_lock(path)
        if not self.config.get("quiet") and not self.config.get("tui"):
            forked = f" (forked from {self._parent})" if self._parent else ""
            say(f"listening on {path}{forked}; watch with: reactortrace attach {os.getpid()}")

    def _watch_the_lock(self, socket: str) -> None:
        """Let viewers see the reactor's stack even while C code holds the GIL."""
        from ..instrumentation.watchdog import reactor_thread
        from ..live.deadman import switch_beside

        self.stacks = switch_beside(socket, reactor_thread)

    def _export_metrics(self, tracer: Any) -> None:
        """Serve ``/metrics`` and/or push to an OTLP collector; say where."""
        metrics, otlp = self.config.get("metrics"), self.config.get("otlp")
        try:
            exports = tracer.export_metrics(metrics=metrics, otlp=otlp)
        except ReactorTraceError as exc:  # checked before the start: a port taken since
            say(str(exc))
            return
        if not self.config.get("quiet") and not self.config.get("tui"):
            if exports.metrics_port is not None:
                host = str(metrics).rpartition(":")[0] or "0.0.0.0"
                say(f"metrics on http://{host}:{exports.metrics_port}/metrics")
            if otlp:
                say(f"exporting metrics and slow-dispatch spans to {otlp}")

    def finish(self, reason: str = "exit") -> None:
        """The program is done: end the live stream and the OTLP export, then write the trace.

        When the reactor stops, the last OTLP exports only start (the program
        goes on at once); at exit they are waited for, a bounded time.
        """
        self._carries_on()
        self._ended = True
        if self.live is not None:
            self.live.finish(reason)
        stacks, self.stacks = self.stacks, None
        if stacks is not None:
            stacks.stop()
        exports = self.tracer.exports if self.tracer is not None else None
        if exports is not None:
            exports.finish(wait=reason != "stopped")
        self.write()
        if reason == "exit" and self.capture is not None and self._carries_on():
            self.capture.close()  # nothing more will be recorded

    # -- forks ---------------------------------------------------------------

    def _forked(self) -> None:
        """In every forked child, at once: let go of the parent's stream and
        socket; record for itself only if it goes on with the reactor."""
        self._parent, self._pid = self._pid, os.getpid()
        self._own = False
        self._lock = threading.Lock()
        self._carry_lock = threading.RLock()
        self._written_upto = -1
        self._said = set()
        self._ended = False
        self._stream_tried = False
        self._fork_watch = None
        for writer in (self.stream, self.capture):
            if writer is not None:
                writer.abandon()
        self.stream = self.capture = None
        self.stacks = None  # forgotten in the child by the switch's own fork hook
        live, self.live = self.live, None
        if live is not None:
            orphan = live.orphaned()
            if orphan is not None:
                self._orphans.append(orphan)
            live.abandon()
        tracer = self.tracer
        if tracer is None:
            return
        self._forked_at = tracer.recorder.ring.total
        if getattr(tracer.reactor, "running", False):
            # Forked from a callback: the child goes on with the reactor if
            # the callback returns. Watch for it from a thread.
            self._fork_watch = Periodic(lambda: not self._carries_on(), FORK_WATCH_INTERVAL,
                                        "reactortrace-fork-watch")
            self._fork_watch.start()

    def _carries_on(self) -> bool:
        """Whether this process records for itself: never forked, or a child
        whose reactor dispatched since the fork (it is made to, then)."""
        if self._own:
            return True
        with self._carry_lock:
            tracer = self.tracer
            if not self._own and tracer is not None:
                dispatched, self._forked_at = tracer.dispatched_since(self._forked_at)
                if dispatched:
                    self._carry_on()
        return self._own

    def _carry_on(self) -> None:
        """A forked child goes on with its reactor: record it as its own.

        Everything is in place before others see it (``_own``); the fork
        watch, if any, ends at its next look.
        """
        with self._carry_lock:
            if self._own:
                return
            tracer = self.tracer
            tracer.carry_on_in_child(self._parent)
            if self.config.get("listen") and self.live is None and not self._ended:
                self._listen(tracer)
            self._open_output()
            self._own = True

    def stop_requested(self, signum: int, ends_now: bool) -> None:
        """A stop signal arrived (called in the signal handler, before the program's).

        Blocked, or about to be ended by the default action: write the trace
        now. Otherwise the reactor should stop by itself; if it has not a
        second later, write the trace then.
        """
        if self.tracer is None or self.claim is None or self._ended:
            return
        if not self._carries_on():
            return  # a forked child that never went on with the reactor
        if ends_now or self.tracer.blocked() is not None:
            writer = threading.Thread(target=self.write_early, args=(signum,),
                                      name="reactortrace-write", daemon=True)
            writer.start()
            # On another thread: this one may hold what the writer needs. The
            # default action ends the process on return: wait longer then.
            writer.join(ENDING_WRITE_WAIT if ends_now else BLOCKED_WRITE_WAIT)
            return
        later = threading.Timer(STOP_GRACE, self._not_stopped, (signum,))
        later.name = "reactortrace-stop-grace"
        later.daemon = True
        later.start()

    def _not_stopped(self, signum: int) -> None:
        if not self._ended:
            self.write_early(signum)

    def write_early(self, signum: int) -> None:
        """Write the trace as it is now, the reactor still running (or stuck)."""
        tracer = self.tracer
        blocked = tracer.blocked(tracer.now())
        name = signal.Signals(signum).name
        self.write({"signal": name, "blocked": dataclasses.asdict(blocked) if blocked else None})
        if blocked is not None and not self.config.get("quiet"):
            from ..core.units import duration

            where = f" at {blocked.site}" if blocked.site else ""
            say(f"{name} while the reactor is blocked in {blocked.name}{where} "
                f"for {duration(blocked.elapsed)}: the trace was written first")

    def write(self, on_signal: dict[str, Any] | None = None) -> None:
        """Write the trace if there is anything new; report failures in one line.

        ``on_signal``: written early because of a stop signal (it goes in
        ``meta.written_on_signal``), whether or not anything is new.
        """
        tracer = self.tracer
        if tracer is None or self.claim is None or not self._carries_on():
            return  # nothing recorded, or a forked child's parent's recording
        path = self._open_output()
        assert path is not None
        if self.stream is not None:
            if on_signal is None:
                self._end_stream(tracer, path)
            return  # the stream is on disk already, as it goes
        streaming = self.config.get("format") == "jsonl"
        if streaming and on_signal is not None and self.capture is not None:
            return  # the writer process has the stream on disk as it goes
        with self._lock:
            total = tracer.recorder.ring.total
            if total == self._written_upto and on_signal is None:
                return
            meta = None if on_signal is None else {"written_on_signal": on_signal}
            try:
                redactor = self._redactor()
                if redactor is None:
                    written = self._written_by_capture(meta, final=on_signal is None)
                    if written is None:
                        written = tracer.export(path, self.config.get("format"), meta=meta)
                else:
                    written = self._write_redacted(tracer, path, meta, redactor)
            except Exception as exc:  # noqa: BLE001 - never raise into the program
                self._failed(path, exc)
                return
            if self.capture is not None and not self.capture.closed:
                # what was recorded while the writer wrote is in the file too
                total = max(total, self.capture.records_written)
            self._written_upto = total
        if streaming and not os.path.exists(path):
            self._say_once(f"{path} was removed while it was being written: the trace is lost")
        elif not self.config.get("quiet"):
            dropped = f", {tracer.dropped} dropped" if tracer.dropped else ""
            say(f"wrote {path} ({written} events{dropped})")

    def _write_redacted(
        self, tracer: Any, path: str, meta: dict[str, Any] | None, redactor: Any,
    ) -> int:
        """With ``--redact`` the trace is redacted whole, in the program (no
        writer process sees the raw recording); returns the events written."""
        from ..formats import write
        from ..formats.redact import redact

        trace = tracer.trace()
        trace.meta.update(meta or {})
        trace = redact(trace, redactor)
        write(trace, path, self.config.get("format"))
        return len(trace.events)

    def _written_by_capture(self, meta: dict[str, Any] | None, final: bool) -> int | None:
        """Events the writer process wrote, or None if it cannot (the ring
        holds everything still: the caller writes in-process)."""
        capture = self.capture
        if capture is None or capture.closed:
            return None
        ring = self.tracer.recorder.ring
        # (a stream's events that fell out of the ring are only in the writer's file)
        if ring.total <= IN_PROCESS_UP_TO and (capture.format != "jsonl" or not ring.dropped):
            if final:
                capture.discard()
            return None
        try:
            return int(capture.write(meta, final=final))
        except RuntimeError:
            return None

    def _end_stream(self, tracer: Any, path: str) -> None:
        """Close the JSON Lines stream with the final snapshot (once)."""
        with self._lock:
            if self.stream.closed:
                return
            redactor = self._redactor()
            snapshot = tracer.snapshot
            if redactor is not None:
                def snapshot() -> Any:
                    return redactor.snapshot(tracer.snapshot())
            try:
                self.stream.close(snapshot, tracer.dropped)
            except Exception as exc:  # noqa: BLE001
                self._failed(path, exc)
                return
        if not os.path.exists(path):
            self._say_once(f"{path} was removed while it was being written: the trace is lost")
        elif not self.config.get("quiet"):
            say(f"wrote {path} ({self.stream.events_written} events)")

    def _redactor(self) -> Any:
        """With ``--redact``, the run's one Redactor (the same hashes and ids in
        every write); else None."""
        if not self.config.get("redact"):
            return None
        if self._redacting is None:
            from ..formats.redact import Redactor

            self._redacting = Redactor()
        return self._redacting

    def _failed(self, path: str, exc: Exception) -> None:
        """Writing ``path`` failed: say it once (trace file errors name the file)."""
        from ..errors import TraceFileError

        self._say_once(str(exc) if isinstance(exc, TraceFileError) else
                       f"could not write {path}: {type(exc).__name__}: {exc}")

    def _say_once(self, message: str) -> None:
        """A failure is said once, however many times writing is tried."""
        if message not in self._said:
            self._said.add(message)
            say(message)


class _RedactedDrain:
    """A stream's subscription whose events come out redacted."""

    def __init__(self, drain: Any, redactor: Any) -> None:
        self._drain = drain
        self._redactor = redactor

    def __call__(self) -> list[Any]:
        return self._redactor.events(self._drain())

    def close(self) -> None:
        self._drain.close()


def start_from_environment() -> Session | None:
    """Start a session if ``reactortrace run`` asked for one (the bootstrap calls this)."""
    config = take_config()
    if config is None or config.get("pid") not in (None, os.getpid()):
        return None
    from ..instrumentation.installs import watch_installs

    session = Session(config)

    def installed(reactor: Any) -> None:
        try:
            session.reactor_installed(reactor)
        except Exception as exc:  # noqa: BLE001 - the program must run regardless
            say(f"cannot record this reactor: {exc}")

    watch_installs(installed)
    atexit.register(session.finish)
    # A program that leaves SIGTERM to its default action (a reactor on
    # another thread, say), or SIGHUP (the terminal closed), would end
    # without a word: write the trace first.
    session.guard.install_where_default()
    return session
