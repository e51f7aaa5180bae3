"""Time one statement inside a Twisted function without adding a stack frame.

Some dispatches (a timer firing, a Deferred callback, a thread-pool job) happen
in the middle of a Twisted function, where no wrapper can see them one by one.
Instead of copying those functions, we recompile Twisted's own source with the
one statement wrapped::

    _rt_t0 = _rt_clock()
    try:
        <statement>
    except BaseException as _rt_exc:
        <hook>(<args>, _rt_t0, _rt_exc)
        raise
    else:
        <hook>(<args>, _rt_t0, None)

Line numbers, file name and globals stay those of the original, so tracebacks,
warnings and logging look exactly as before. If the source no longer has the
statement we look for, :class:`RewriteError` tells the caller to disable that
part instead of guessing.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ReactorTraceError

Matcher = Callable[[ast.stmt], bool]


class RewriteError(ReactorTraceError):
    """The function's source is not what the rewrite expects."""


class _Wrapper(ast.NodeTransformer):
    def __init__(self, spec: "Timed | After") -> None:
        self.spec = spec
        self.matches = spec.matches
        self.count = 0

    def generic_visit(self, node: ast.AST) -> ast.AST:
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                setattr(node, name, self._block(block))
        for handler in getattr(node, "handlers", ()):
            self.generic_visit(handler)
        return node

    def _block(self, block: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in block:
            if self.matches(stmt):
                out.extend(self._wrap(stmt))
                self.count += 1
            else:
                self.generic_visit(stmt)
                out.append(stmt)
        return out

    def _wrap(self, stmt: ast.stmt) -> list[ast.stmt]:
        spec = self.spec
        assert isinstance(spec, Timed)
        call_args = f"{spec.args}, " if spec.args else ""
        before = f"_rt_pre = {spec.before}\n" if spec.before else ""
        template = (
            before + f"_rt_t0 = {spec.start}\n"
            "try:\n    pass\n"
            "except BaseException as _rt_exc:\n"
            f"    {spec.hook}({call_args}_rt_t0, _rt_exc)\n"
            "    raise\n"
            "else:\n"
            + ("    _rt_last = _rt_clock()\n" if spec.mark_end else "")
            + (
                f"    try:\n{textwrap.indent(spec.inline, '        ')}\n"
                "    except Exception as _rt_bug:\n        _rt_failed(_rt_bug)\n"
                if spec.inline
                else f"    {spec.hook}({call_args}_rt_t0, None)\n"
            )
        )
        *starts, wrapped = ast.parse(template).body
        assert isinstance(wrapped, ast.Try)
        wrapped.body = [stmt]
        for node in (*starts, wrapped):
            for sub in ast.walk(node):
                if sub is not stmt and not _inside(sub, stmt):
                    ast.copy_location(sub, stmt)
                    if hasattr(sub, "end_lineno"):
                        sub.end_lineno = stmt.lineno
        return [*starts, wrapped]


class _Inserter(_Wrapper):
    def _wrap(self, stmt: ast.stmt) -> list[ast.stmt]:
        spec = self.spec
        target = ""
        if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
            target = stmt.targets[0].id
        if spec.inline:
            body = textwrap.indent(spec.inline.format(target=target), "    ")
            source = f"try:\n{body}\nexcept Exception as _rt_bug:\n    _rt_failed(_rt_bug)\n"
        else:
            source = f"{spec.hook}({spec.args.format(target=target)})"
        added = ast.parse(source).body
        for node in added:
            for sub in ast.walk(node):
                ast.copy_location(sub, stmt)
                if hasattr(sub, "end_lineno"):
                    sub.end_lineno = stmt.lineno
        return [stmt, *added]


def _inside(node: ast.AST, stmt: ast.stmt) -> bool:
    return any(node is sub for sub in ast.walk(stmt))


@dataclass(frozen=True)
class Timed:
    """One kind of statement to time: which, the hook to call, and its arguments."""

    matches: Matcher
    hook: str
    args: str
    before: str | None = None
    expected: int = 1
    #: A statement to run on success instead of calling ``hook``: it saves a
    #: Python call on the hottest paths. If it raises, ``_rt_failed(exc)`` runs.
    inline: str | None = None
    #: The expression the start time ``_rt_t0`` is taken from.
    start: str = "_rt_clock()"
    #: On success, first set ``_rt_last = _rt_clock()`` (the end time), so
    #: that the next statement timed in the same call can start from it.
    mark_end: bool = False


@dataclass(frozen=True)
class After:
    """A hook called right after each statement that matches (not timed).

    ``args`` may name ``{target}``: the name the statement assigned to.
    """

    matches: Matcher
    hook: str
    args: str
    expected: int = 1
    #: Statements to run instead of calling ``hook`` (they may call it for the
    #: unusual cases); ``{target}`` is replaced as in ``args``. If they raise,
    #: ``_rt_failed(exc)`` runs.
    inline: str | None = None


def assigns(attr: str, value: object) -> Matcher:
    """Matcher for ``<x>.<attr> = <value>`` (a constant; ``...`` for any value)."""

    def matches(stmt: ast.stmt) -> bool:
        if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
            return False
        target = stmt.targets[0]
        if not isinstance(target, ast.Attribute) or target.attr != attr:
            return False
        if value is ...:
            return True
        return isinstance(stmt.value, ast.Constant) and stmt.value.value is value

    return matches


def rewrite(
    func: Callable[..., Any],
    timed: list[Timed | After],
    hooks: dict[str, Any],
    prologue: str | None = None,
    target: list[Any] | None = None,
) -> types.FunctionType:
    """Return a copy of ``func`` with the statements each ``Timed`` matches timed.

    ``hooks`` maps the names the inserted code uses to values; they become
    closure variables, never globals of Twisted's modules. ``prologue`` is a
    statement run first in the function (e.g. to take the time a job was
    queued); ``Timed.before`` an expression evaluated just before each timed
    statement, whose value the hook's ``args`` can name as ``_rt_pre``.

    With ``target`` (a one-item list holding an instance), the copy is meant to
    be set on a class: calls for any other instance (or once ``target[0]`` is
    None) go straight to ``func`` itself.
    """
    original = inspect.unwrap(func)
    if not isinstance(original, types.FunctionType):
        raise RewriteError(f"{func!r} is not a Python function")
    try:
        source = textwrap.dedent(inspect.getsource(original))
    except (OSError, TypeError) as exc:
        raise RewriteError(f"no source for {original.__qualname__}: {exc}") from None
    tree = ast.parse(source)
    ast.increment_lineno(tree, original.__code__.co_firstlineno - 1)
    definition = tree.body[0]
    if not isinstance(definition, ast.FunctionDef):
        raise RewriteError(f"{original.__qualname__} is not a plain function")
    _refuse_private_names(definition, original.__qualname__)
    definition.decorator_list = []
    for spec in timed:
        wrapper = _Inserter(spec) if isinstance(spec, After) else _Wrapper(spec)
        wrapper.generic_visit(definition)
        if wrapper.count != spec.expected:
            raise RewriteError(
                f"{original.__qualname__}: expected {spec.expected} statement(s) "
                f"for {spec.hook}, found {wrapper.count}"
            )
    if prologue:
        _prepend(definition, prologue)
    names = dict(hooks)
    if target is not None:
        _prepend(definition, _passthrough(definition))
        names["_rt_target"] = target
        names["_rt_original"] = func
    names.setdefault("_rt_clock", time.perf_counter)
    factory = ast.FunctionDef(
        name="_rt_factory",
        args=ast.arguments(
            posonlyargs=[],
            args=[ast.arg(arg=name) for name in names],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=[],
        ),
        body=[definition, ast.Return(value=ast.Name(id=definition.name, ctx=ast.Load()))],
        decorator_list=[],
        returns=None,
        type_comment=None,
    )
    module = ast.Module(body=[factory], type_ignores=[])
    ast.fix_missing_locations(module)
    flags = original.__code__.co_flags & _FUTURE_FLAGS
    code = compile(module, original.__code__.co_filename, "exec", flags=flags, dont_inherit=True)
    namespace: dict[str, Any] = {}
    exec(code, original.__globals__, namespace)  # noqa: S102 - Twisted's own source
    new = namespace["_rt_factory"](*names.values())
    new.__code__ = new.__code__.replace(co_qualname=original.__code__.co_qualname)
    new.__qualname__ = original.__qualname__
    new.__module__ = original.__module__
    new.__doc__ = original.__doc__
    new.__defaults__ = original.__defaults__
    new.__kwdefaults__ = original.__kwdefaults__
    new.__dict__.update(original.__dict__)
    return new


def _prepend(definition: ast.FunctionDef, source: str) -> None:
    first = ast.parse(source).body
    for node in first:
        for sub in ast.walk(node):
            ast.copy_location(sub, definition.body[0])
    definition.body[0:0] = first


def _passthrough(definition: ast.FunctionDef) -> str:
    """``if self is not _rt_target[0]: return _rt_original(<same arguments>)``."""
    spec = definition.args
    positional = [a.arg for a in spec.posonlyargs + spec.args]
    forwarded = list(positional)
    if spec.vararg:
        forwarded.append("*" + spec.vararg.arg)
    forwarded += [f"{a.arg}={a.arg}" for a in spec.kwonlyargs]
    if spec.kwarg:
        forwarded.append("**" + spec.kwarg.arg)
    return (
        f"if {positional[0]} is not _rt_target[0]:\n"
        f"    return _rt_original({', '.join(forwarded)})\n"
    )


def _refuse_private_names(node: ast.AST, where: str) -> None:
    # Compiled outside its class, a name like self.__x would be mangled wrongly.
    for sub in ast.walk(node):
        name = getattr(sub, "attr", None) or getattr(sub, "id", None)
        if isinstance(name, str) and name.startswith("__") and not name.endswith("__"):
            raise RewriteError(f"{where} uses the class-private name {name}")
        if isinstance(sub, ast.Name) and sub.id == "super":
            raise RewriteError(f"{where} uses super(), which needs its class")


_FUTURE_FLAGS = 0
for _feature in ("annotations", "generator_stop", "division"):
    _FUTURE_FLAGS |= getattr(__import__("__future__"), _feature).compiler_flag
