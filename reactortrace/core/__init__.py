"""Pure-Python model of a trace: events, ring, aggregation, files.

Nothing under this package imports Twisted or Textual (a test enforces it).
"""
