"""Run by gdb (``gdb -batch -p PID -x gdbinject.py``), in gdb's own Python.

It makes the target's main thread run the bootstrap (one line of Python,
``REACTORTRACE_BOOTSTRAP``) with the GIL taken properly, then leaves. No
function is called at an arbitrary instruction: only at a point where the
thread keeps no live state but its general registers, which are saved and
restored exactly:

- the main thread sits in a system call (a reactor idle in epoll_wait, poll
  or select) and does not hold the GIL: it runs ``PyGILState_Ensure()``,
  ``PyRun_SimpleString()`` and ``PyGILState_Release()`` there;
- else gdb waits, for ``REACTORTRACE_WAIT`` seconds at most, until the main
  thread enters epoll_wait, poll or select (the same as above), or enters one
  of Python's allocator functions (the GIL is held there): it only queues the
  bootstrap with
  ``Py_AddPendingCall``, which the interpreter runs at its next check between
  two bytecodes, as it runs signal handlers.

The calls are made by hand (registers set, ``continue`` until the call
returns to a breakpoint on the program's entry point, never executed again):
gdb's own ``call`` saves the whole extended register state, which some
kernels refuse back (``Couldn't write extended state status`` on CPUs with
AMX). One JSON line, prefixed with ``RESULT``, says what happened.
"""

import json
import os
import struct
import threading

import gdb

RESULT = "REACTORTRACE-GDB "
GPRS = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11",
        "r12", "r13", "r14", "r15", "rip", "eflags", "orig_rax")
ARGS = ("rdi", "rsi", "rdx", "rcx", "r8", "r9")
POLLERS = ("epoll_wait", "poll", "select")
#: Functions only called with the GIL held, often: the entry of one is a safe
#: point to queue a pending call.
GIL_HELD = ("PyObject_Malloc", "PyMem_Malloc", "PyObject_Free", "PyMem_Free")
SYSCALL = b"\x0f\x05"
PROT_RW, MAP_PRIVATE_ANON = 3, 0x22
RED_ZONE = 1024  # below the stack pointer: the red zone (128 bytes) and more


class Failed(Exception):
    """The injection cannot go on; the message says why."""


def report(**fields):
    gdb.write(RESULT + json.dumps(fields) + "\n")
    gdb.flush()


def address(name):
    """The address of function ``name`` in the target, or None."""
    try:
        return int(gdb.parse_and_eval(f"(long)&{name}")) & 0xFFFFFFFFFFFFFFFF
    except gdb.error:
        return None


def register(name):
    return int(gdb.newest_frame().read_register(name)) & 0xFFFFFFFFFFFFFFFF


def set_register(name, value):
    gdb.execute(f"set ${name} = {value}", to_string=True)


def entry_point():
    for line in gdb.execute("info files", to_string=True).splitlines():
        if "Entry point:" in line:
            return int(line.split(":", 1)[1].strip(), 16)
    raise Failed("no entry point")


class Target:
    """The stopped process and its main thread."""

    def __init__(self):
        self.inferior = gdb.selected_inferior()
        threads = [t for t in self.inferior.threads() if t.ptid[1] == self.inferior.pid]
        if not threads:
            raise Failed("no main thread")
        self.main = threads[0]
        self.main.switch()
        self.trap = entry_point()
        self._trap = gdb.Breakpoint(f"*{self.trap}", internal=True)

    def frames(self, limit=40):
        """The main thread's native stack, innermost first (function names)."""
        self.main.switch()
        names, frame = [], gdb.newest_frame()
        while frame is not None and len(names) < limit:
            if frame.name():  # unnamed ones are unwinding guesses without debug information
                names.append(frame.name())
            try:
                frame = frame.older()
            except gdb.error:
                break
        return names

    def in_syscall(self):
        pc = register("rip")
        return bytes(self.inferior.read_memory(pc - 2, 2)) == SYSCALL

    def call(self, function, *args):
        """Call ``function(*args)`` on the main thread; return rax."""
        self.main.switch()
        gdb.newest_frame().select()
        saved = {name: register(name) for name in GPRS}
        sp = ((saved["rsp"] - RED_ZONE) & ~0xF) - 8
        self.inferior.write_memory(sp, struct.pack("<Q", self.trap))
        for name, value in zip(ARGS, args):
            set_register(name, value & 0xFFFFFFFFFFFFFFFF)
        set_register("rsp", sp)
        set_register("rax", 0)
        set_register("orig_rax", -1)  # not a system call to restart
        set_register("rip", function)
        while True:
            gdb.execute("continue", to_string=True)
            thread = gdb.selected_thread()
            if thread is None or not thread.is_valid():
                raise Failed("the process ended")
            if thread.ptid == self.main.ptid and register("rip") == self.trap:
                break
        result = register("rax")
        gdb.newest_frame().select()
        for name in GPRS:
            set_register(name, saved[name])
        return result

    def write_string(self, text):
        """Copy ``text`` into fresh memory of the target; its address and size."""
        data = text.encode() + b"\0"
        size = (len(data) + 4095) & ~4095
        mmap = address("mmap")
        if mmap is None:
            raise Failed("no mmap in the target")
        buffer = self.call(mmap, 0, size, PROT_RW, MAP_PRIVATE_ANON, -1, 0)
        if buffer >= 0xFFFFFFFFFFFFF000:
            raise Failed("mmap failed in the target")
        self.inferior.write_memory(buffer, data)
        return buffer, size

    def finish(self):
        self._trap.delete()


def run_with_gil(target, functions, code):
    """The main thread holds no GIL and keeps no live state: run the code now."""
    buffer, size = target.write_string(code)
    state = target.call(functions["PyGILState_Ensure"]) & 0xFFFFFFFF
    status = target.call(functions["PyRun_SimpleString"], buffer) & 0xFFFFFFFF
    target.call(functions["PyGILState_Release"], state)
    munmap = address("munmap")
    if munmap is not None:
        target.call(munmap, buffer, size)
    return {"path": "syscall", "status": status}


def queue_pending_call(target, functions, code):
    """The main thread holds the GIL at a function's entry: queue the code."""
    buffer, _ = target.write_string(code)
    status = target.call(functions["Py_AddPendingCall"], functions["PyRun_SimpleString"],
                         buffer) & 0xFFFFFFFF
    if status != 0:
        raise Failed("the interpreter's queue of pending calls is full")
    return {"path": "pending", "status": 0}


def holds_no_gil(target, functions):
    return (target.call(functions["PyGILState_Check"]) & 0xFFFFFFFF) == 0


def wait_for_safe_point(target, functions, timeout):
    """Let the program run until its main thread reaches a safe point.

    Returns "poller" or "malloc", or None when ``timeout`` seconds passed.
    """
    stops = {}
    for name in POLLERS:
        where = address(name)
        if where is not None:
            stops[where] = "poller"
    for name in GIL_HELD:
        stops[functions[name]] = "malloc"
    breakpoints = []
    for where in stops:
        breakpoint = gdb.Breakpoint(f"*{where}", internal=True)
        breakpoint.thread = target.main.num
        breakpoints.append(breakpoint)
    waiting = {"on": True, "late": False}

    def interrupt():
        if waiting["on"]:
            waiting["late"] = True
            gdb.execute("interrupt", to_string=True)

    timer = threading.Timer(timeout, lambda: gdb.post_event(interrupt))
    timer.daemon = True
    timer.start()
    try:
        while True:
            gdb.execute("continue", to_string=True)
            thread = gdb.selected_thread()
            if thread is None or not thread.is_valid():
                raise Failed("the process ended")
            if thread.ptid == target.main.ptid:
                where = register("rip")
                if where in stops:
                    return stops[where]
            if waiting["late"]:
                return None
    finally:
        waiting["on"] = False
        timer.cancel()
        for breakpoint in breakpoints:
            breakpoint.delete()


def main():
    gdb.execute("set pagination off")
    gdb.execute("set confirm off")
    gdb.execute("handle SIGINT stop print nopass", to_string=True)
    code = os.environ["REACTORTRACE_BOOTSTRAP"]
    timeout = float(os.environ.get("REACTORTRACE_WAIT") or 1.0)
    names = ("PyGILState_Check", "PyGILState_Ensure", "PyGILState_Release",
             "PyRun_SimpleString", "Py_AddPendingCall", *GIL_HELD)
    functions = {name: address(name) for name in names}
    if any(where is None for where in functions.values()):
        report(error="not-python")
        return
    target = Target()
    try:
        frames = target.frames()
        if target.in_syscall() and "take_gil" not in frames and holds_no_gil(target, functions):
            report(frames=frames, **run_with_gil(target, functions, code))
            return
        reached = wait_for_safe_point(target, functions, timeout)
        if reached is None and target.in_syscall() and holds_no_gil(target, functions):
            reached = "poller"  # it blocked in a system call meanwhile
        if reached == "poller" and holds_no_gil(target, functions):
            report(frames=frames, **run_with_gil(target, functions, code))
        elif reached is not None:
            report(frames=frames, **queue_pending_call(target, functions, code))
        else:
            report(error="blocked", frames=target.frames())
    except Failed as exc:
        report(error=str(exc))
    except gdb.error as exc:
        report(error=f"gdb: {exc}")
    finally:
        target.finish()
        gdb.execute("detach", to_string=True)


main()
