"""The banner shown while a dispatch blocks the loop: what, where, and the stack now.

It also says when a live program has gone silent: its threads (ours among
them) cannot run, which is what C code holding the interpreter lock does.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widget import Widget

from reactortrace.core import units
from reactortrace.core.diagnose.codes import short_site
from reactortrace.core.snapshot import BlockedInfo
from reactortrace.tui.model import ViewModel

#: Stack lines shown at most (user frames first).
STACK_LINES = 6
#: Seconds without a word from a live program before the banner says so
#: (it sends several updates a second while someone watches).
SILENT_AFTER = 1.0


def silent_line(seconds: float) -> Text:
    """A live program sent nothing for ``seconds``."""
    line = Text()
    line.append(f" NO UPDATE {units.duration(seconds * 1e9)} ", style="bold black on dark_orange")
    line.append("  no thread of the program runs: C code holds the interpreter lock, "
                "or the process is stopped", style="bold")
    return line


def headline(blocked: BlockedInfo) -> Text:
    """``BLOCKED 7.4s in job (timer made at app.py:31)``, and what kind of block."""
    line = Text()
    line.append(f" BLOCKED {units.duration(blocked.elapsed)} ", style="bold white on red")
    line.append(f" in {blocked.name}", style="bold")
    if blocked.made_at:
        line.append(f" ({blocked.kind} made at {short_site(blocked.made_at)})", style="dim")
    elif blocked.kind:
        line.append(f" ({blocked.kind})", style="dim")
    if blocked.waiting is not None:
        what = "waiting (system call, sleep or lock)" if blocked.waiting else "burning CPU"
        line.append(f"  {what}", style="yellow")
    if blocked.gc:
        line.append(f"  gc {units.duration(blocked.gc)}", style="yellow")
    if blocked.moves:
        line.append(f"  moved {blocked.moves}x", style="dim")
    return line


def stack_lines(blocked: BlockedInfo, limit: int = STACK_LINES) -> list[Text]:
    """The stack now, the program's frames first; the blocking line stands out."""
    lines = []
    for index, frame in enumerate(blocked.stack[:limit]):
        where, _, function = frame.partition(" ")
        mine = index < blocked.user_frames
        blocking = index == blocked.user_frames - 1
        text = Text("  → " if blocking else "    ", style="bold red" if blocking else "")
        text.append(short_site(where) or where, style="bold" if blocking else ("" if mine else "dim"))
        text.append(f"  {function}", style="bold red" if blocking else ("cyan" if mine else "dim"))
        lines.append(text)
    left = len(blocked.stack) - limit
    if left > 0:
        lines.append(Text(f"    … {left} more frames", style="dim"))
    return lines


class BlockedBanner(Widget):
    """Hidden until the snapshot says a dispatch blocks the loop."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._blocked: BlockedInfo | None = None
        self._silent = 0.0
        #: What the viewer is doing about the block (quitting while it lasts).
        self._notice: str | None = None
        self.display = False

    def say(self, notice: str) -> None:
        """Show ``notice`` on top of the banner from now on."""
        self._notice = notice
        self.display = True
        self.refresh(layout=True)

    def show(self, model: ViewModel) -> None:
        """Redraw from the model; hide when nothing blocks and the program talks."""
        blocked = model.snapshot.blocked
        silent = round(model.silent, 1) if model.silent >= SILENT_AFTER else 0.0
        if blocked == self._blocked and silent == self._silent:
            return
        self._blocked, self._silent = blocked, silent
        self.display = blocked is not None or silent > 0 or self._notice is not None
        self.refresh(layout=True)

    def render(self) -> Text:
        lines = [Text(self._notice, style="bold yellow")] if self._notice else []
        if self._silent:
            lines.append(silent_line(self._silent))
        blocked = self._blocked
        if blocked is not None:
            lines += [headline(blocked), *stack_lines(blocked)]
        return Text("\n").join(lines)
