"""Attaching to a running process that was not started by reactortrace.

``process`` checks what can be checked from ``/proc``; ``debugger`` runs gdb
with ``gdbinject`` to make the process run ``bootstrap``, which finds the
reactor and imports ``agent`` to instrument it on its own thread;
``attacher`` drives it all from the attaching side.
"""
