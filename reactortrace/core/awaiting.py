"""What waits on what: cycles, chain ends and the awaited-by tree of pending Deferreds.

Pure functions over ``id -> ids it waits on`` edges, shared by the recorder
(which finds the edges in the live program) and every view of a
:class:`~reactortrace.core.snapshot.PendingDeferreds` (TUI tab, summary).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from .snapshot import DeferredInfo, PendingDeferreds

Edges = Mapping[int, Sequence[int]]

#: What a chain ends on when it loops back on itself.
DEADLOCK = "deadlock: waits on itself"


def find_cycles(edges: Edges) -> list[tuple[int, ...]]:
    """Every cycle of the graph (its strongly connected parts of two or more,
    or a node waiting on itself), each as its ids in waiting order."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    cycles: list[tuple[int, ...]] = []
    counter = 0
    for start in edges:
        if start in index:
            continue
        # Tarjan's algorithm, iteratively: (node, iterator over its edges).
        work: list[tuple[int, Iterator[int]]] = [(start, iter(edges.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(edges.get(target, ()))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    part = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        part.append(member)
                        if member == node:
                            break
                    if len(part) > 1 or node in edges.get(node, ()):
                        cycles.append(_in_order(part, edges))
    return cycles


def _in_order(members: list[int], edges: Edges) -> tuple[int, ...]:
    """The cycle's members from its smallest id, each waiting on the next."""
    inside = set(members)
    first = min(members)
    order = [first]
    node = first
    while len(order) < len(members):
        node = next((t for t in edges.get(node, ()) if t in inside and t not in order), first)
        if node == first:
            break
        order.append(node)
    return tuple(order)


def deadlock_text(cycle: Sequence[int]) -> str:
    """How a cycle reads: ``deadlock: #2 → #3 → #2``."""
    return "deadlock: " + " → ".join(f"#{m}" for m in (*cycle, cycle[0]))


def chain_ends(edges: Edges, ends: Mapping[int, str]) -> dict[int, tuple[str, int]]:
    """For each node, (what ends its chain, how many links down): following the
    first Deferred it waits on until one that something else fires (``ends``
    says what), or round a cycle."""
    found: dict[int, tuple[str, int]] = {}
    for start in edges:
        path: list[int] = []
        seen: set[int] = set()
        node: int | None = start
        end: tuple[str, int] = ("nothing known", 0)
        while node is not None:
            if node in found:
                end = found[node]
                break
            if node in seen:
                end = (DEADLOCK, 0)
                break
            seen.add(node)
            path.append(node)
            targets = edges.get(node, ())
            if not targets:
                end = (ends.get(node, "nothing known"), 0)
                path.pop()
                found[node] = end
                break
            node = targets[0]
        what, depth = end
        for member in reversed(path):
            depth += 1
            found[member] = (what, depth)
    return found


@dataclass(frozen=True, slots=True)
class TreeLine:
    """One line of the awaited-by tree: a Deferred, or the thing that fires one."""

    prefix: str  # the tree's branches, "│  ├─ "
    info: DeferredInfo | None  # None: a leaf line saying what fires the parent
    text: str  # for a leaf: what fires it; for a repeat: "(shown above)"
    repeat: bool = False


def matches(info: DeferredInfo, text: str) -> bool:
    """Whether ``text`` (lower case) is in the Deferred's name, sites or wait."""
    if not text:
        return True
    return any(
        text in value.lower()
        for value in (info.name, info.made_at, info.suspended_at, info.detail, info.fired_by)
        if value
    )


def _age(info: DeferredInfo) -> float:
    """Sort key: unknown ages (made before recording began) are the oldest of all."""
    return float("inf") if info.age is None else info.age


def sorted_infos(
    pending: PendingDeferreds, text: str = "", newest_first: bool = False
) -> list[DeferredInfo]:
    """The listed Deferreds matching ``text``, oldest first (or newest first)."""
    needle = text.lower()
    shown = [info for info in pending.deferreds if matches(info, needle)]
    shown.sort(key=_age, reverse=not newest_first)
    return shown


def tree(pending: PendingDeferreds, text: str = "", limit: int = 2_000) -> list[TreeLine]:
    """The awaited-by tree, like ``python -m asyncio pstree``: each root is a
    Deferred nothing listed waits on; under each, what it waits on, down to
    the timer, thread job or connection that will fire it. Cycles start at
    their smallest id. ``text`` keeps the trees holding a matching Deferred."""
    infos = pending.by_id()
    waited: set[int] = {t for i in infos.values() for t in i.waits_on if t in infos}
    roots = [i for i in infos.values() if i.id not in waited]
    in_cycles = {m for cycle in pending.deadlocks for m in cycle}
    roots += [infos[c[0]] for c in pending.deadlocks if c and c[0] in infos]
    roots.sort(key=_age, reverse=True)
    needle = text.lower()
    lines: list[TreeLine] = []
    shown: set[int] = set()
    for root in roots:
        if root.id in shown and root.id not in in_cycles:
            continue
        if needle and not any(matches(i, needle) for i in _reach(root, infos)):
            continue
        _walk(root, infos, "", "", lines, shown, limit)
        if len(lines) >= limit:
            break
    return lines[:limit]


def _reach(root: DeferredInfo, infos: Mapping[int, DeferredInfo]) -> Iterable[DeferredInfo]:
    seen = {root.id}
    todo = [root]
    while todo:
        info = todo.pop()
        yield info
        for target in info.waits_on:
            if target in infos and target not in seen:
                seen.add(target)
                todo.append(infos[target])


def _walk(info: DeferredInfo, infos: Mapping[int, DeferredInfo], lead: str, branch: str,
          lines: list[TreeLine], shown: set[int], limit: int) -> None:
    # Depth first with an explicit stack: chains can be thousands long.
    todo: list[tuple[DeferredInfo | None, str, str, str]] = [(info, lead, branch, "")]
    while todo and len(lines) < limit:
        node, lead, branch, text = todo.pop()
        if node is None:
            lines.append(TreeLine(lead + branch, None, text))
            continue
        if node.id in shown:
            lines.append(TreeLine(lead + branch, node, "(shown above)", repeat=True))
            continue
        shown.add(node.id)
        lines.append(TreeLine(lead + branch, node, ""))
        below = lead + ("   " if branch.startswith("└") else "│  " if branch else "")
        children: list[tuple[DeferredInfo | None, str]] = [
            (infos[t], "") for t in node.waits_on if t in infos
        ]
        missing = [t for t in node.waits_on if t not in infos]
        if missing:
            children.append((None, f"{len(missing)} more Deferred(s), not listed"))
        if node.source != "deferred" or not node.waits_on:
            children.append((None, node.detail))
        for n, (child, child_text) in reversed(list(enumerate(children))):
            last = n == len(children) - 1
            todo.append((child, below, "└─ " if last else "├─ ", child_text))
