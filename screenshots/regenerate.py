"""Take the README's screenshots from a real run of the bundled demo.

    python screenshots/regenerate.py [--size 120x36] [--out screenshots]

The demo runs under ``reactortrace run --no-tui --listen`` and the real TUI
(headless, at a fixed size) watches it through the live socket, exactly as
``reactortrace attach`` would: ``main.svg``, ``timers.svg``,
``connections.svg`` and ``detail.svg`` (the demo's slow callback) are taken
while it runs. The trace it writes at its end is then replayed for a few
seconds and stopped just after the next slow callback, for ``replay.svg``.
``blocked.svg`` watches ``stuck_service.py`` a few seconds into the block of
its report job.

Run it again whenever the UI changes. Numbers differ from run to run: it is a
real program.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from reactortrace.core.replay import ReplayFeed
from reactortrace.formats import load
from reactortrace.live.client import LiveFeed
from reactortrace.live.paths import socket_path
from reactortrace.tui.app import ReactorTraceApp

HERE = Path(__file__).resolve().parent
#: Seconds the demo runs: the slow callback fires at 1 s and then every 5 s.
DEMO_SECONDS = 14
#: Seconds of watching before the first picture: a graph with some history.
WARM_UP = 8.0
#: Replay: this fast, for this many seconds, before going to the next slow callback.
REPLAY_SPEED = 2.0
REPLAY_PLAY = 2.5
#: The stuck service blocks 2 s in; the picture is taken this long after.
STUCK_PICTURE_AT = 6.0


def start_demo(runtime: str, trace: str) -> subprocess.Popen[bytes]:
    return start(runtime, "-o", trace, "-m", "reactortrace.demo", "--duration", str(DEMO_SECONDS))


def start(runtime: str, *args: str) -> subprocess.Popen[bytes]:
    """``reactortrace run --no-tui --listen ARGS`` with its socket in ``runtime``."""
    command = [sys.executable, "-m", "reactortrace", "run", "--no-tui", "--listen", "-q", *args]
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime)
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


def wait_for_socket(runtime: str, demo: subprocess.Popen[bytes]) -> str:
    path = socket_path(demo.pid, os.path.join(runtime, "reactortrace"))
    deadline = time.monotonic() + 30
    while not os.path.exists(path):
        if demo.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the demo did not start")
        time.sleep(0.05)
    return path


def save(app: ReactorTraceApp, out: Path, name: str, title: str) -> None:
    path = out / f"{name}.svg"
    path.write_text(app.export_screenshot(title=title))
    print(f"wrote {path}")


def row_with(table: Any, text: str) -> int:
    """The index of the first row of a table that mentions ``text``."""
    for index in range(table.row_count):
        if any(text in str(getattr(cell, "plain", cell)) for cell in table.get_row_at(index)):
            return index
    raise SystemExit(f"no row with {text!r} in #{table.id}")


async def live_pictures(path: str, out: Path, size: tuple[int, int]) -> None:
    app = ReactorTraceApp(LiveFeed(path))
    async with app.run_test(size=size) as pilot:
        await pilot.pause(WARM_UP)
        save(app, out, "main", "reactortrace demo: the loop, live")
        await pilot.press("2")
        await pilot.pause(0.5)
        save(app, out, "timers", "reactortrace demo: pending timers")
        await pilot.press("3")
        await pilot.pause(0.5)
        save(app, out, "connections", "reactortrace demo: connections")
        await pilot.press("4")
        await pilot.pause(0.5)
        table = app._main_screen.query_one("#callables-table")
        table.move_cursor(row=row_with(table, "slow_report"))
        await pilot.press("enter")
        await pilot.pause(0.5)
        save(app, out, "detail", "reactortrace demo: detail of the slow callback")
        await pilot.press("q")


async def replay_picture(trace: str, out: Path, size: tuple[int, int]) -> None:
    # Play the first seconds at twice the speed (the graph fills), then stop
    # at the next slow callback (the second one, about 6 s in).
    app = ReactorTraceApp(ReplayFeed(load(trace), speed=REPLAY_SPEED))
    async with app.run_test(size=size) as pilot:
        await pilot.pause(REPLAY_PLAY)
        await pilot.press("n")
        await pilot.pause(0.5)
        save(app, out, "replay", "reactortrace view: replay stopped at a slow callback")
        await pilot.press("q")


async def blocked_picture(path: str, out: Path, size: tuple[int, int]) -> None:
    app = ReactorTraceApp(LiveFeed(path))
    async with app.run_test(size=size) as pilot:
        await pilot.pause(STUCK_PICTURE_AT)
        save(app, out, "blocked", "reactortrace: a service stuck in its report job")
        await pilot.press("q")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="120x36", help="terminal size, COLUMNSxROWS")
    parser.add_argument("--out", default=str(HERE), help="folder for the SVG files")
    args = parser.parse_args(argv)
    columns, rows = (int(n) for n in args.size.split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runtime = tempfile.mkdtemp(prefix="rts-", dir="/tmp")
    trace = os.path.join(runtime, "demo.json")
    demo = start_demo(runtime, trace)
    try:
        asyncio.run(live_pictures(wait_for_socket(runtime, demo), out, (columns, rows)))
        if demo.wait(DEMO_SECONDS + 30) != 0:
            raise SystemExit(f"the demo failed with status {demo.returncode}")
        asyncio.run(replay_picture(trace, out, (columns, rows)))
        stuck = start(runtime, "-o", os.path.join(runtime, "stuck.json"),
                      str(HERE / "stuck_service.py"))
        try:
            asyncio.run(blocked_picture(wait_for_socket(runtime, stuck), out, (columns, rows)))
        finally:
            stuck.kill()
            stuck.wait()
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        shutil.rmtree(runtime, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
