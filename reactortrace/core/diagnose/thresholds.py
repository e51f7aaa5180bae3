"""When a finding becomes a warning: the four thresholds users can set."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from reactortrace.core.units import MS, S, parse_duration
from reactortrace.errors import UsageError


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a finding becomes a warning (every command line option can change each)."""

    slow_ms: float = 100.0  # a dispatch this long blocks the loop
    late_ms: float = 100.0  # a timer firing this late
    pending_s: float = 10.0  # a Deferred unfired (or a half-close) this long
    idle_s: float = 60.0  # a connection without data this long
    #: Whether timers and connections left at shutdown warn: in tests (the
    #: pytest plugin, trial), where they are a fault; never in a program,
    #: whose ``reactor.stop()`` is free to leave them.
    leftovers: bool = False

    #: Option name -> (field, unit of a bare number in ns).
    OPTIONS = {
        "slow": ("slow_ms", MS),
        "late": ("late_ms", MS),
        "pending": ("pending_s", S),
        "idle": ("idle_s", S),
    }

    @property
    def slow_ns(self) -> int:
        return int(self.slow_ms * MS)

    @property
    def late_ns(self) -> int:
        return int(self.late_ms * MS)

    @property
    def pending_ns(self) -> int:
        return int(self.pending_s * S)

    @property
    def idle_ns(self) -> int:
        return int(self.idle_s * S)

    def to_dict(self) -> dict[str, Any]:
        """The thresholds by field name."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Thresholds:
        """Thresholds as a trace's meta stores them; defaults for what is missing or wrong."""
        if not isinstance(data, dict):
            return cls()
        values: dict[str, Any] = {}
        for item in fields(cls):
            value = data.get(item.name)
            if item.name == "leftovers":
                if isinstance(value, bool):
                    values[item.name] = value
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                values[item.name] = float(value)
        return cls(**values)

    @classmethod
    def from_meta(cls, meta: Any) -> Thresholds:
        """The thresholds a trace was recorded with (its meta's ``options``), so a
        summary or a replay finds what the live run found; defaults for an old trace."""
        if not isinstance(meta, dict):
            return cls()
        options = meta.get("options")
        stored = options.get("thresholds") if isinstance(options, dict) else None
        found = cls.from_dict(stored)
        if "test" in meta and not (isinstance(stored, dict) and "leftovers" in stored):
            found = replace(found, leftovers=True)  # a test's trace from before they were kept
        return found

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], base: Thresholds | None = None
    ) -> Thresholds:
        """Thresholds from option values by name (``slow``, ``late``, ``pending``,
        ``idle``, or the field names); ``None`` values keep the base's.

        A value is a number in the field's unit (ms or s), a text with a unit
        (``"50ms"``, ``"2s"``) or ns already parsed (an int from
        :func:`parse_duration`, when ``name`` is the option name and the value
        came from the command line). Raises :class:`UsageError`.
        """
        changes: dict[str, Any] = {}
        for name, value in options.items():
            if value is None:
                continue
            if name == "leftovers":  # not a duration: whether leftovers warn
                changes[name] = bool(value)
                continue
            option = name.removesuffix("_ms").removesuffix("_s")
            if option not in cls.OPTIONS:
                known = ", ".join(cls.OPTIONS)
                raise UsageError(f"unknown threshold {name!r} (known: {known})")
            field, unit = cls.OPTIONS[option]
            try:
                ns = parse_duration(value, unit)
            except ValueError as exc:
                raise UsageError(f"{option} threshold: {exc}") from None
            if ns <= 0:
                raise UsageError(f"{option} threshold must be above zero, not {value!r}")
            changes[field] = ns / unit
        return replace(base or cls(), **changes)
