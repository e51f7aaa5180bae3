"""``reactortrace doctor``: which parts of the recording work with this Twisted and Python.

Each reactor family is instrumented in a fresh interpreter
(:mod:`reactortrace.instrumentation.selfcheck`) and exercised; the table says,
per family and part, ``ok``, ``off`` and why, or which records did not come.
The exit status is 0 when everything works, 1 otherwise.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from . import options as opts

FAMILIES = ("epoll", "poll", "select", "asyncio")
TIMEOUT = 60.0


def probe(family: str) -> dict[str, Any]:
    """The self-check of one family, or ``{"error": ...}``."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "reactortrace.instrumentation.selfcheck", family],
            capture_output=True, text=True, timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return {"family": family, "error": f"did not finish in {TIMEOUT:g} s"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"family": family, "error": f"status {done.returncode}: {last}"}
    try:
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"family": family, "error": "unreadable result"}
    return result


def verdict(status: dict[str, Any]) -> tuple[bool, str]:
    """Whether a part works, and the words for it."""
    if not status.get("on"):
        return False, f"off: {status.get('why')}"
    if status.get("missing"):
        return False, f"no {', '.join(status['missing'])} records"
    if status.get("notes"):
        return True, "ok (" + "; ".join(status["notes"]) + ")"
    return True, "ok"


def main(argv: Sequence[str]) -> int:
    """Check every reactor family; print a table (or JSON)."""
    parser = opts.parser("doctor", __doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--reactor", choices=FAMILIES, action="append",
                        help="check only this family (repeatable)")
    args = parser.parse_args(argv)
    results = [probe(family) for family in (args.reactor or FAMILIES)]
    healthy = all(
        "error" not in result and all(verdict(s)[0] for s in result["parts"].values())
        for result in results
    )
    if args.json:
        sys.stdout.write(json.dumps(results, indent=2) + "\n")
        return 0 if healthy else 1
    from rich.console import Console
    from rich.table import Table

    console = Console()
    first = next((r for r in results if "error" not in r), None)
    if first is not None:
        console.print(f"Twisted {first['twisted']}, Python {first['python']}", markup=False)
    table = Table("reactor", "part", "state")
    for result in results:
        if "error" in result:
            table.add_row(result["family"], "-", f"check failed: {result['error']}")
            continue
        for name, status in result["parts"].items():
            ok, words = verdict(status)
            table.add_row(result["family"], name, words, style="" if ok else "bold red")
    console.print(table)
    if first is not None:
        facts = ", ".join(f"{key}: {value}" for key, value in first["facts"].items())
        console.print(f"Found in this Twisted: {facts}", markup=False)
    console.print("Every part works." if healthy else "Some parts do not work: see above.")
    return 0 if healthy else 1
