"""The live view's transport: a traced program serves, viewers read.

``server`` runs in the traced process (its own thread, a Unix socket in a
private directory, see ``paths``); ``client`` is the viewer's
:class:`~reactortrace.core.feed.Feed`; ``protocol`` is what goes between them.
Nothing here imports Twisted or Textual.
"""
