"""The one exception family reactortrace raises to its callers."""


class ReactorTraceError(Exception):
    """Root of every error reactortrace reports on purpose."""


class TraceFileError(ReactorTraceError):
    """A trace file cannot be read: not ours, unknown version, cut short, broken."""


class UsageError(ReactorTraceError):
    """What the user typed on the command line cannot be done."""
