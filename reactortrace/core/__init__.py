"""The pure-Python model of a trace: events, the ring, the state of the loop
aggregated from events, findings, the Trace object, feeds and replay, units.

Nothing under this package imports Twisted, Textual or another layer of
reactortrace (``tests/test_layers.py`` checks it).
"""
