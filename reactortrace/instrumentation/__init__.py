"""The only package that touches Twisted: instrument a reactor in place and record
its dispatches into a ring.

``tracer`` is the public object; ``rewrite`` recompiles a Twisted function with
one statement timed; ``timers``, ``io``, ``loop``, ``threads``, ``deferreds`` and
``diagnosis`` each instrument one concern; ``watchdog`` samples the reactor
thread; ``resolve`` turns raw records into events.
"""
