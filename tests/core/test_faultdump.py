"""Reading faulthandler's dumps: the reactor thread's stack, what it dispatched to."""

from __future__ import annotations

import os

from reactortrace.core.faultdump import blocked_from_dump, reactor_stack

TWISTED = "/venv/lib/python3.11/site-packages/twisted/internet/base.py"
DUMP = """reactor 0x7f00000000aa
Timeout (0:00:01)!
Thread 0x00007f00000000bb (most recent call first):
  File "/usr/lib/python3.11/threading.py", line 331 in wait

Thread 0x00007f00000000aa (most recent call first):
  File "/srv/app/old.py", line 1 in earlier
Timeout (0:00:01)!
Thread 0x00007f00000000bb (most recent call first):
  File "/usr/lib/python3.11/threading.py", line 331 in wait

Thread 0x00007f00000000aa (most recent call first):
  File "{re}", line 166 in match
  File "/srv/app/jobs.py", line 21 in match_the_log
  File "/srv/app/jobs.py", line 9 in run_job
  File "{twisted}", line 991 in runUntilCurrent
  File "/srv/app/main.py", line 30 in <module>
""".format(re=os.path.join(os.path.dirname(os.__file__), "re", "__init__.py"), twisted=TWISTED)


def test_the_reactor_threads_stack_in_the_latest_dump_outermost_first() -> None:
    stack = reactor_stack(DUMP)
    assert stack is not None
    assert stack[0] == "/srv/app/main.py:30 <module>" and stack[-1].endswith(":166 match")
    assert "/srv/app/old.py:1 earlier" not in stack  # an older dump
    assert not any("threading.py" in frame for frame in stack)  # another thread


def test_no_stack_without_the_header_or_a_dump() -> None:
    assert reactor_stack("") is None
    assert reactor_stack(DUMP.split("\n", 1)[1]) is None  # no reactor named
    assert reactor_stack("reactor 0x7f00000000aa\n") is None  # armed, never fired
    assert reactor_stack("reactor 0x1\n" + DUMP.split("\n", 1)[1]) is None  # not its thread


def test_the_block_is_what_the_reactor_dispatched_the_programs_line_marked() -> None:
    stack = reactor_stack(DUMP)
    assert stack is not None
    blocked = blocked_from_dump(stack, since=5, elapsed=2_000_000_000)
    assert blocked.name == "run_job" and blocked.kind == "holding the interpreter lock"
    assert blocked.stack[0] == "/srv/app/jobs.py:9 run_job" and len(blocked.stack) == 3
    assert blocked.user_frames == 2  # re's frame is the standard library's
    assert (blocked.site, blocked.function) == ("/srv/app/jobs.py:21", "match_the_log")
    assert (blocked.since, blocked.elapsed) == (5, 2_000_000_000)
