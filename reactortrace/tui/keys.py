"""Every key of the UI, in one table: the app's bindings and the help screen read it."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

GENERAL = "General"
VIEWS = "Views"
REPLAY = "Replay (view)"
TABLES = "Tables and screens"


@dataclass(frozen=True)
class Key:
    """One key: Textual key names, the app action it runs, how the help shows it."""

    keys: str  # comma-separated Textual key names
    action: str
    label: str  # as the user types it
    description: str
    group: str
    short: str = ""  # footer text; keys without one stay out of the footer
    priority: bool = False


#: Keys bound on the app itself.
APP_KEYS: tuple[Key, ...] = (
    Key("question_mark,f1", "help", "? F1", "Help: this list of keys", GENERAL, "Help"),
    Key(
        "q", "quit", "q",
        "Quit: under run this stops the program (d leaves it running); under attach "
        "the program goes on; under view and demo, the viewer closes", GENERAL, "Quit",
    ),
    Key("ctrl+c", "quit", "Ctrl+C", "Quit, like q", GENERAL, priority=True),
    Key(
        "d", "detach", "d", "Quit but leave the program running (run only)", GENERAL,
    ),
    Key(
        "space", "toggle_pause", "space", "Pause / resume (replay: play / pause)",
        GENERAL, "Pause",
    ),
    Key("p", "toggle_pause", "p", "Pause / resume", GENERAL),
    Key(
        "slash", "focus_filter('search')", "/",
        "Search every view: matches highlighted, ] and [ go to the next and previous",
        GENERAL, "Search",
    ),
    Key(
        "backslash", "focus_filter('filter')", "\\",
        "Filter every view by name: other rows hidden (Enter keeps, Esc clears)", GENERAL,
    ),
    Key(
        "i", "toggle_internal", "i",
        "Show or hide the reactor's wakers and Twisted's own timers (hidden at first)", GENERAL,
    ),
    Key("k", "kinds", "k", "Choose the kinds of events the log shows", GENERAL, "Kinds"),
    Key(
        "t", "save_trace", "t",
        "Save the program's whole recording now, to reactortrace-PID-TIME.json (live only)",
        GENERAL,
    ),
    Key("1", "show_tab('loop')", "1", "Loop: graph and event log (and more when wide)", VIEWS),
    Key("2", "show_tab('timers')", "2", "Pending timers", VIEWS),
    Key("3", "show_tab('connections')", "3", "Connections", VIEWS),
    Key("4", "show_tab('callables')", "4", "Hot callables", VIEWS),
    Key("5", "show_tab('warnings')", "5", "Warnings", VIEWS),
    Key("6", "show_tab('output')", "6", "Program output", VIEWS),
    Key("7", "show_tab('deferreds')", "7", "Pending Deferreds: what each waits on", VIEWS),
    Key("full_stop", "step", ".", "Step: show one more event (pauses)", REPLAY, "Step"),
    Key("g", "seek", "g", "Go to a time (12.5, 350ms, 1:02.5)", REPLAY, "Seek"),
    Key("n", "next('slow')", "n", "Next slow event (pauses there)", REPLAY, "Next slow"),
    Key("w", "next('warning')", "w", "Next warning event (pauses there)", REPLAY),
    Key("plus,equals_sign", "speed(2.0)", "+ =", "Play twice as fast (to 64x)", REPLAY, "Faster"),
    Key("minus", "speed(0.5)", "-", "Play half as fast (down to 0.25x)", REPLAY),
    Key("0", "seek_to(0)", "0", "Back to the start", REPLAY),
)

#: Keys bound by widgets and screens, listed in the help all the same.
OTHER_KEYS: tuple[tuple[str, str], ...] = (
    ("↑ ↓ PgUp PgDn", "Move in a table or the log"),
    ("Tab Shift+Tab", "Move between panes"),
    ("Enter", "Details of the selected timer, connection, callable or event"),
    ("Home End", "First or last row of a table"),
    ("s", "Sort a table by the next column (or click a column header)"),
    ("S", "Reverse the sort order"),
    ("f", "Follow the selected row: the cursor stays on it as the table changes"),
    ("] [ F3", "Next or previous row holding the search text"),
    ("s", "Deferreds: oldest or newest first"),
    ("v", "Deferreds: the table, or the awaited-by tree (deadlocks marked ⚠)"),
    ("Esc Backspace", "Close a detail, help, seek or kinds screen"),
    ("space Enter", "Kinds screen: toggle a kind; a: all, i: all but iteration"),
)


def app_bindings() -> list[Binding]:
    """The app's BINDINGS, from :data:`APP_KEYS`."""
    return [
        Binding(
            key.keys,
            key.action,
            key.short or key.description,
            show=bool(key.short),
            key_display=key.label.split()[0],
            priority=key.priority,
        )
        for key in APP_KEYS
    ]
