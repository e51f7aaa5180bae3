"""The rewriting engine: what it inserts, what it refuses, and tracebacks left as they were."""

from __future__ import annotations

import ast
import sys
import traceback
from typing import Any

import pytest

from reactortrace.instrumentation.rewrite import After, RewriteError, Timed, rewrite


def make(*args: Any) -> list[Any]:
    return list(args)


def assigns_from_make(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Name) and stmt.value.func.id == "make")


def calls_work(stmt: ast.stmt) -> bool:
    """``checked = work(value) * 1``."""
    return (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.BinOp)
            and isinstance(stmt.value.left, ast.Call)
            and isinstance(stmt.value.left.func, ast.Name) and stmt.value.left.func.id == "work")


def work(value: int) -> int:
    if value < 0:
        raise ValueError(f"negative: {value}")
    return value


class Reactorish:
    """Methods shaped like Twisted's, indented in a class as Twisted's are."""

    def call_later(self, delay: float, callable: Any) -> list[Any]:
        made = make(delay, callable)
        return made

    def call_later_renamed(self, seconds: float, f: Any) -> list[Any]:
        made = make(seconds, f)
        return made

    def write(self, data: bytes) -> int:
        count = len(data)
        self.offset = 0
        self.offset += count
        return self.offset

    def run(self, value: int) -> int:
        total = 0
        checked = work(value) * 1
        total += checked
        return total


def recorded() -> tuple[list[Any], dict[str, Any]]:
    seen: list[Any] = []
    return seen, {"_rt_seen": lambda *args: seen.append(args)}


def test_after_hook_sees_the_parameters_by_position_whatever_their_names() -> None:
    spec = After(assigns_from_make, "_rt_seen", "{target}, {params[2]}, {params[1]}")
    for method in (Reactorish.call_later, Reactorish.call_later_renamed):
        seen, hooks = recorded()
        new = rewrite(method, [spec], hooks)
        marker = object()
        assert new(Reactorish(), 1.5, marker) == [1.5, marker]
        assert seen == [([1.5, marker], marker, 1.5)]


def test_a_renamed_parameter_is_refused_at_rewrite_time() -> None:
    spec = After(assigns_from_make, "_rt_seen", "{target}, callable, delay")
    _, hooks = recorded()
    rewrite(Reactorish.call_later, [spec], hooks)  # the names are there
    with pytest.raises(RewriteError, match=r"reads callable, delay.*callable would be the builtin"):
        rewrite(Reactorish.call_later_renamed, [spec], hooks)


def test_a_renamed_local_is_refused_and_value_follows_the_statement() -> None:
    def advances(stmt: ast.stmt) -> bool:
        return isinstance(stmt, ast.AugAssign)

    seen, hooks = recorded()
    with pytest.raises(RewriteError, match="reads l,"):
        rewrite(Reactorish.write, [After(advances, "_rt_seen", "l")], hooks)
    new = rewrite(Reactorish.write, [After(advances, "_rt_seen", "{value}")], hooks)
    assert new(Reactorish(), b"abc") == 3
    assert seen == [(3,)]


def test_a_global_of_the_module_is_not_a_name_the_inserted_code_may_read() -> None:
    _, hooks = recorded()
    with pytest.raises(RewriteError, match="reads work"):
        rewrite(Reactorish.run, [After(calls_work, "_rt_seen", "work")], hooks)


def test_hooks_must_be_given() -> None:
    with pytest.raises(RewriteError, match="no hook named _rt_missing"):
        rewrite(Reactorish.run, [Timed(calls_work, "_rt_missing", "value")], {})
    with pytest.raises(RewriteError, match="no hook named _rt_failed"):
        rewrite(Reactorish.run, [After(calls_work, "", "", inline="pass")], {})


def test_statements_are_counted() -> None:
    _, hooks = recorded()
    with pytest.raises(RewriteError, match="expected 2 statement"):
        rewrite(Reactorish.run, [After(calls_work, "_rt_seen", "value", expected=2)], hooks)


def test_closures_are_refused() -> None:
    factor = 3

    def scaled(value: int) -> int:
        work(value)
        return value * factor

    _, hooks = recorded()
    with pytest.raises(RewriteError, match="closure variables"):
        rewrite(scaled, [After(calls_work, "_rt_seen", "value")], hooks)


def leaves(values: list[int]) -> int:
    for value in values:
        if value == 1:
            continue
        if value == 2:
            break
    return 0


@pytest.mark.parametrize("kind", [ast.Return, ast.Break, ast.Continue])
def test_a_matched_statement_that_leaves_its_block_is_refused(kind: type) -> None:
    def matches(stmt: ast.stmt) -> bool:
        return isinstance(stmt, kind)

    _, hooks = recorded()
    with pytest.raises(RewriteError, match="leaves its block"):
        rewrite(leaves, [Timed(matches, "_rt_seen", "")], hooks)


def test_timed_hook_gets_the_start_and_the_exception() -> None:
    seen, hooks = recorded()
    hooks["_rt_clock"] = iter(range(100)).__next__
    new = rewrite(Reactorish.run, [Timed(calls_work, "_rt_seen", "value")], hooks)
    assert new(Reactorish(), 4) == 4
    with pytest.raises(ValueError):
        new(Reactorish(), -1)
    assert seen[0] == (4, 0, None)
    assert seen[1][0] == -1 and isinstance(seen[1][2], ValueError)


def formatted(method: Any, *args: Any) -> str:
    try:
        method(*args)
    except ValueError:
        return "".join(traceback.format_exception(*sys.exc_info()))
    raise AssertionError("did not raise")


def test_tracebacks_are_byte_identical_markers_included() -> None:
    seen, hooks = recorded()
    specs = [Timed(calls_work, "_rt_seen", "value")]
    new = rewrite(Reactorish.run, specs, hooks)
    assert new.__code__.co_filename == Reactorish.run.__code__.co_filename
    plain = formatted(Reactorish.run, Reactorish(), -7)
    traced = formatted(new, Reactorish(), -7)
    assert traced == plain and seen
    # The markers under the failing line are compared too (each Python version
    # draws them its own way: 3.13 adds tildes).
    lines = plain.splitlines()
    at = lines.index("    checked = work(value) * 1")
    assert "^" in lines[at + 1] and not lines[at + 1].strip(" ~^")


def test_the_copy_keeps_positions_of_every_untouched_statement() -> None:
    new = rewrite(Reactorish.run, [After(calls_work, "", "", inline="pass")],
                  {"_rt_failed": print})
    original = {p for p in Reactorish.run.__code__.co_positions() if p[0] is not None}
    copied = {p for p in new.__code__.co_positions() if p[0] is not None}
    assert original <= copied


def test_a_target_passes_other_instances_straight_through() -> None:
    seen, hooks = recorded()
    mine, other = Reactorish(), Reactorish()
    new = rewrite(Reactorish.run, [After(calls_work, "_rt_seen", "value")], hooks,
                  target=[mine])
    assert new(other, 2) == 2 and seen == []
    assert new(mine, 3) == 3 and seen == [(3,)]
