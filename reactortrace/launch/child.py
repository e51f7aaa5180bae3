"""A program run under the TUI: a child process, its output, and its live feed.

The child runs in its own session (the TUI owns the terminal; keys typed there
never reach the program), with stdin from ``/dev/null`` and stdout and stderr
on one pipe, so their lines keep their order. That pipe goes to a relay
process (:mod:`.forward`) and on to the viewer: if the viewer dies without a
word (SIGKILL), the relay appends the rest of the output to the file a
detached program's would go to, and the program never gets a broken pipe.
A reader thread cuts the pipe into lines for the output pane. Stopping is SIGINT, then SIGTERM, then
SIGKILL, each after a grace period. Detaching hands the pipe to a small
forwarder process that appends it to a file, so the program can go on
printing after the viewer has gone.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import replace
from typing import Any, Callable

from reactortrace.core.feed import ENDED, FeedUpdate
from reactortrace.errors import ReactorTraceError
from reactortrace.live.client import LiveFeed
from reactortrace.live.paths import output_path, socket_path

#: Seconds between SIGINT and SIGTERM, and between SIGTERM and SIGKILL.
GRACE = 3.0
#: Output lines kept for the pane between two polls at most.
MAX_OUTPUT_LINES = 10_000
#: A line longer than this is cut (a program printing without newlines).
MAX_LINE_BYTES = 16_384


class OutputPipe:
    """Reads a pipe on a thread and keeps its lines until someone takes them."""

    def __init__(self, fd: int, max_lines: int = MAX_OUTPUT_LINES) -> None:
        self.fd = fd
        self._lines: deque[str] = deque()
        self._max_lines = max_lines
        self._dropped = 0
        self._lock = threading.Lock()
        self._stop_r, self._stop_w = os.pipe()
        self.eof = False
        #: The end of the output that is not a whole line yet (once stopped).
        self.tail = b""
        self._thread = threading.Thread(target=self._read, name="reactortrace-output", daemon=True)
        self._thread.start()

    def take(self) -> list[str]:
        """The lines read since the last call (and a note if some were lost)."""
        with self._lock:
            lines = list(self._lines)
            self._lines.clear()
            if self._dropped:
                lines.insert(0, f"[reactortrace: {self._dropped} lines of output skipped]")
                self._dropped = 0
        return lines

    def stop(self) -> None:
        """Stop reading (what is left stays in the pipe) and wait for the thread."""
        try:
            os.write(self._stop_w, b"x")
        except OSError:
            pass
        self._thread.join(2.0)

    def wait_eof(self, timeout: float) -> bool:
        """Wait until the program has closed its end of the pipe."""
        self._thread.join(timeout)
        return self.eof

    def _read(self) -> None:
        tail = b""
        try:
            while True:
                ready, _, _ = select.select([self.fd, self._stop_r], [], [])
                if self._stop_r in ready:
                    break
                data = os.read(self.fd, 65_536)
                if not data:
                    self.eof = True
                    break
                *lines, tail = (tail + data).split(b"\n")
                while len(tail) > MAX_LINE_BYTES:
                    lines.append(tail[:MAX_LINE_BYTES])
                    tail = tail[MAX_LINE_BYTES:]
                self._keep(lines)
        except OSError:
            self.eof = True
        if tail and self.eof:
            self._keep([tail])
        else:
            self.tail = tail
        os.close(self._stop_r)
        os.close(self._stop_w)

    def _keep(self, lines: list[bytes]) -> None:
        if not lines:
            return
        text = [line.decode(errors="replace").rstrip("\r") for line in lines]
        with self._lock:
            self._lines.extend(text)
            excess = len(self._lines) - self._max_lines
            for _ in range(max(0, excess)):
                self._lines.popleft()
            self._dropped += max(0, excess)


class ChildProgram:
    """The program, started with ``argv`` and ``env``; see the module docstring."""

    def __init__(
        self, argv: list[str], env: dict[str, str], directory: str, name: str | None = None
    ) -> None:
        self.argv = argv
        #: How messages name the program (its script), else its command.
        self.name = name or os.path.basename(argv[0])
        self.directory = directory
        program_output, output = os.pipe()
        try:
            self.process = subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,
                # A runner started in the background may ignore SIGINT; the
                # program must not inherit that, or quitting could not stop it.
                preexec_fn=_default_signals,
            )
        except OSError as exc:
            os.close(program_output)
            raise ReactorTraceError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
        finally:
            os.close(output)
        try:
            relay = subprocess.Popen(
                [sys.executable, "-m", "reactortrace.launch.forward", "--relay",
                 output_path(self.process.pid, directory)],
                stdin=program_output, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            os.close(program_output)
        assert relay.stdout is not None
        self._relay = relay
        self._pipe_file = relay.stdout
        self.output = OutputPipe(self._pipe_file.fileno())
        self.detached_to: str | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def socket(self) -> str:
        """Where the program will listen."""
        return socket_path(self.pid, self.directory)

    def running(self) -> bool:
        return self.process.poll() is None

    def connect(
        self, on_wait: Callable[[float], None] | None = None, poll: float = 0.05
    ) -> LiveFeed | None:
        """Wait for the program's live socket and connect; ``None`` if it ended first.

        ``on_wait(seconds)`` is called now and then while waiting.
        """
        started = time.monotonic()
        while True:
            if os.path.exists(self.socket):
                try:
                    return LiveFeed(self.socket)
                except ReactorTraceError:
                    pass  # bound but not listening yet, or it just ended
            if not self.running():
                return None
            if on_wait is not None:
                on_wait(time.monotonic() - started)
            time.sleep(poll)

    def stop(self, grace: float = GRACE, say: Callable[[str], None] | None = None) -> int:
        """Stop the program: SIGINT, SIGTERM, SIGKILL; return its exit status."""
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            if not self.running():
                break
            if say is not None and signum != signal.SIGINT:
                say(f"{self.name} (pid {self.pid}) did not stop; "
                    f"sending {signal.Signals(signum).name}")
            self._signal(signum)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                continue
        return self.wait()

    def kill(self) -> None:
        """SIGKILL, at once."""
        self._signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the program to end; its exit status (128+N if killed by signal N)."""
        code = self.process.wait(timeout)
        return 128 - code if code < 0 else code

    def detach(self) -> str:
        """Leave the program running; its output goes on into a file, whose path is returned."""
        self.output.stop()
        path = output_path(self.pid, self.directory)
        left = "".join(line + "\n" for line in self.output.take()).encode()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, left + self.output.tail)
        finally:
            os.close(fd)
        forwarder = [sys.executable, "-m", "reactortrace.launch.forward", path]
        subprocess.Popen(
            forwarder,
            stdin=self._pipe_file.fileno(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._pipe_file.close()
        self.detached_to = path
        return path

    def close(self) -> None:
        """Release the pipe (after the program has ended) and the stale socket."""
        if self.detached_to is None:
            self.output.wait_eof(1.0)
            self.output.stop()
            self._pipe_file.close()
            if not self.running():
                try:
                    self._relay.wait(1.0)  # it ends at the end of the output
                except subprocess.TimeoutExpired:
                    pass
        if not self.running():
            try:
                os.unlink(self.socket)
            except OSError:
                pass

    def _signal(self, signum: int) -> None:
        try:
            self.process.send_signal(signum)
        except ProcessLookupError:
            pass


def _default_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class ProgramFeed:
    """The live feed of a child program, with its output and its end.

    Once the program has exited, the state is ``ended`` and one more output
    line tells its exit status. ``detachable``: the program can be left
    running when the viewer goes (the app returns ``"detach"`` to ask for it).
    The viewer can also stop it and wait for it (:meth:`stop_program`), as it
    does when quitting while the reactor is blocked.
    ``shown``: the program's latest output lines handed to the viewer, to print
    in the terminal once it closes.
    """

    detachable = True
    shows_output = True

    def __init__(self, child: ChildProgram, live: LiveFeed) -> None:
        self.child = child
        self.live = live
        self.meta: dict[str, Any] = live.meta
        self.shown: deque[str] = deque(maxlen=MAX_OUTPUT_LINES)
        self._told_exit = False

    def poll(self) -> FeedUpdate:
        update = self.live.poll()
        output = self.child.output.take()
        self.shown.extend(output)
        code = self.child.process.poll()
        if code is not None and not self._told_exit and self.child.output.eof:
            self._told_exit = True
            output.append(f"[reactortrace] the program exited with status {self.child.wait()}")
        state = ENDED if code is not None else update.state
        return replace(update, output=tuple(output), state=state)

    def save_trace(self) -> Any:
        """The program's whole recording, asked for over its live socket."""
        return self.live.save_trace()

    def stop_program(self) -> None:
        """Ask the program to stop, on a thread of its own (SIGINT, then SIGTERM
        and SIGKILL if it does not end): the viewer stays open meanwhile. A
        blocked program writes its trace from reactortrace's thread first."""
        threading.Thread(
            target=self.child.stop, name="reactortrace-stop", daemon=True
        ).start()

    def kill_program(self) -> None:
        """End the program now (SIGKILL)."""
        self.child.kill()

    def program_ended(self) -> bool:
        """Whether the program has exited."""
        return not self.child.running()

    def pause(self) -> None:
        self.live.pause()

    def resume(self) -> None:
        self.live.resume()

    def close(self) -> None:
        self.live.close()
