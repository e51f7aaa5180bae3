"""The terminal UI (Textual): the only package that imports textual.

Entry point: :func:`reactortrace.tui.run.show`.
"""
