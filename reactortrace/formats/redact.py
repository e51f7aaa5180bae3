"""A trace fit to share: what identifies the machine, the user or the data is removed.

A trace never holds the environment, payloads or call arguments, but it does
hold the command line, the host name, absolute paths of the program's files,
network addresses and object ids. :func:`redact` returns a copy of a trace
without them:

* ``meta``: ``argv`` keeps only the program's file name; ``program`` becomes a
  file name; ``host`` is removed;
* every path in a site, a stack, a warning or a name keeps its file name only
  (``/home/ann/shop/app.py:12`` becomes ``app.py:12``);
* addresses (``local``, ``peer``) become ``addr-`` and a hash salted afresh for
  each redaction: within the trace the same address has the same hash (so
  connections can still be matched), across traces it cannot be compared or
  looked up;
* heap addresses in names (``0x7f...``) become ``0x…``, and Deferred ids
  (object ids) are renumbered 1, 2, 3 in order of appearance.

A :class:`Redactor` also redacts a trace as it is written (``run --redact``):
addresses are learnt from each batch of events before it is redacted, so an
address is hashed in text from its connection's first event on.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from ..core.events import Event
from ..core.snapshot import Snapshot
from ..core.trace import Trace

#: An absolute path: its directories go, its file name stays.
_PATH = re.compile(r"(?<![\w.])/(?:[^\s/:'\"<>()]+/)+(?=[^\s/:'\"<>()]+)")
_HEAP = re.compile(r"0x[0-9a-fA-F]{6,}")
_ADDRESS_KEYS = ("local", "peer")


class Redactor:
    """Redacts the strings of one trace consistently (one salt, one id map).

    ``addresses`` (those the trace holds, and those :meth:`learn` is told
    later) are hashed wherever they appear, warning messages included.
    """

    def __init__(self, addresses: Iterable[str] = ()) -> None:
        self._salt = secrets.token_bytes(16)
        self._ids: dict[Any, int] = {}
        self._known: set[str] = set()
        self._addresses: re.Pattern[str] | None = None
        self.learn(addresses)

    def learn(self, addresses: Iterable[str]) -> None:
        """Hash these addresses too wherever they appear in text from now on."""
        new = {a for a in addresses if a} - self._known
        if new:
            self._known |= new
            ordered = sorted(self._known, key=len, reverse=True)  # longest first
            self._addresses = re.compile("|".join(map(re.escape, ordered)))

    def text(self, value: Any) -> Any:
        """A string without directories of absolute paths, addresses or heap addresses."""
        if not isinstance(value, str):
            return value
        if self._addresses is not None:
            value = self._addresses.sub(lambda found: self.address(found[0]), value)
        return _HEAP.sub("0x…", _PATH.sub("", value))

    def address(self, value: Any) -> Any:
        """An address as a salted hash (None stays None)."""
        if not isinstance(value, str) or not value:
            return value
        digest = hashlib.blake2b(value.encode(), key=self._salt, digest_size=5).hexdigest()
        return f"addr-{digest}"

    def ident(self, value: Any) -> Any:
        """An object id as a small number, the same for the same id."""
        if value is None:
            return None
        return self._ids.setdefault(value, len(self._ids) + 1)

    def args(self, args: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in args.items():
            if key in _ADDRESS_KEYS:
                out[key] = self.address(value)
            elif key == "deferred":
                out[key] = self.ident(value)
            elif isinstance(value, list):
                out[key] = [self.text(item) for item in value]
            else:
                out[key] = self.text(value)
        return out

    def event(self, event: Event) -> Event:
        return Event(event.seq, event.ts, event.dur, event.kind, self.text(event.name),
                     self.args(event.args))

    def events(self, events: Iterable[Event]) -> list[Event]:
        """A batch of events redacted, once the addresses it holds are learnt."""
        batch = list(events)
        self.learn(_event_addresses(batch))
        return [self.event(event) for event in batch]

    def meta(self, meta: dict[str, Any]) -> dict[str, Any]:
        out = {key: value for key, value in meta.items() if key != "host"}
        argv = meta.get("argv")
        if isinstance(argv, list):
            out["argv"] = [os.path.basename(str(argv[0]))] if argv else []
        if isinstance(meta.get("program"), str):
            out["program"] = os.path.basename(meta["program"])
        return out

    def snapshot(self, snapshot: Snapshot | None) -> Snapshot | None:
        if snapshot is None:
            return None
        self.learn(a for c in snapshot.connections for a in (c.local, c.peer) if a)
        return replace(
            snapshot,
            timers=tuple(replace(t, name=self.text(t.name), site=self.text(t.site))
                         for t in snapshot.timers),
            connections=tuple(replace(c, protocol=self.text(c.protocol),
                                      local=self.address(c.local), peer=self.address(c.peer))
                              for c in snapshot.connections),
            callables=tuple(replace(c, name=self.text(c.name)) for c in snapshot.callables),
            warnings=tuple(self._warning(w) for w in snapshot.warnings),
        )

    def _warning(self, warning: dict[str, Any]) -> dict[str, Any]:
        out = {key: self.text(value) for key, value in warning.items()}
        if str(warning.get("code") or "").startswith("deferred"):
            out["subject"] = self.ident(warning.get("subject"))
        return out


def _event_addresses(events: Iterable[Event]) -> set[str]:
    return {
        value for event in events for key in _ADDRESS_KEYS
        if isinstance(value := event.args.get(key), str) and value
    }


def addresses_in(trace: Trace) -> set[str]:
    """Every local and peer address of the trace's connections."""
    found = _event_addresses(trace.events)
    if trace.snapshot is not None:
        found |= {a for c in trace.snapshot.connections for a in (c.local, c.peer) if a}
    return found


def redact(trace: Trace, redactor: Redactor | None = None) -> Trace:
    """A copy of ``trace`` fit to share (see the module docstring), by ``redactor``
    if given (one that redacted part of the same run before)."""
    redactor = redactor or Redactor()
    redactor.learn(addresses_in(trace))
    return Trace(
        meta=redactor.meta(trace.meta),
        events=[redactor.event(event) for event in trace.events],
        snapshot=redactor.snapshot(trace.snapshot),
        dropped=trace.dropped,
        complete=trace.complete,
        path=trace.path,
    )
