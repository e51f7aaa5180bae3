"""A ticking program that forks; what the child does is argv[2]:

- ``exit-before-run``: forked before ``reactor.run()``; the child prints and
  exits normally (``sys.exit``: atexit handlers run), never running a reactor.
- ``exit-in-callback``: forked from a timer; the child ends with ``os._exit``.
- ``worker``: forked from a timer, ``multiprocessing`` style (fork start method).
- ``preexec``: a timer runs a command through ``subprocess`` with a ``preexec_fn``
  (which runs our fork hooks in the child before it execs).
- ``carry-on``: forked from a timer; the child goes on with the reactor, ticks
  on its own and stops after a few ticks (not with epoll: the two processes
  would share one epoll set, which Twisted does not support).
- ``detach``: as ``carry-on``, but the parent ends at once with ``os._exit``
  (a daemon-style fork from a running reactor).

argv[1] names the reactor (epoll, poll or asyncio). The parent waits for the child, ticks 30 times and
stops; it prints how many ticks each process made.
"""

import os
import sys

which, mode = sys.argv[1], sys.argv[2]
if which == "asyncio":
    from twisted.internet import asyncioreactor

    asyncioreactor.install()
elif which == "poll":
    from twisted.internet import pollreactor

    pollreactor.install()
else:
    from twisted.internet import epollreactor

    epollreactor.install()

from twisted.internet import reactor, task  # noqa: E402

ticks = []
child = []


def square(n):
    return n * n


def fork_child():
    pid = os.fork()
    if pid and mode == "detach":
        os._exit(0)
    if pid:
        child.append(pid)
        return
    if mode == "exit-in-callback":
        os._exit(0)
    # carry-on: this process goes on with the reactor, on its own ticks.
    del ticks[:]
    child.append(0)


def tick():
    ticks.append(1)
    if child == [0]:  # the child that carries on
        if len(ticks) == 5:
            lc.stop()
            reactor.stop()
        return
    if len(ticks) == 3 and mode in ("exit-in-callback", "carry-on", "detach"):
        fork_child()
    if len(ticks) == 3 and mode == "worker":
        import multiprocessing

        # close and join, not terminate: the workers inherit Twisted's SIGTERM
        # handler (traced or not), so terminating them could hang.
        pool = multiprocessing.get_context("fork").Pool(2)
        print("worker results", pool.map(square, range(4)), flush=True)
        pool.close()
        pool.join()
    if len(ticks) == 3 and mode == "preexec":
        import subprocess

        done = subprocess.run([sys.executable, "-c", "print('exec child')"],
                              preexec_fn=os.getpid, capture_output=True, text=True)
        print(done.stdout.strip(), flush=True)
    if len(ticks) == 30:
        lc.stop()
        reactor.stop()


if mode == "exit-before-run":
    pid = os.fork()
    if pid == 0:
        print("child exits", flush=True)
        sys.exit(0)
    child.append(pid)

lc = task.LoopingCall(tick)
lc.start(0.01)
reactor.run()
if child == [0]:
    print("child ticks", len(ticks), flush=True)
    sys.exit(0)
status = os.waitstatus_to_exitcode(os.waitpid(child[0], 0)[1]) if child else 0
print("parent ticks", len(ticks), "child status", status, flush=True)
