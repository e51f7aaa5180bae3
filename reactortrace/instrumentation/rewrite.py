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

File name, line numbers, column offsets and globals stay those of the
original, so tracebacks (their ``^^^`` markers included), warnings and logging
look exactly as before.

The engine refuses rather than guesses. :class:`RewriteError` is raised when
the source is not what a spec expects: a statement found more or fewer times
than expected, a matched statement that leaves its block (``return``,
``break``, ``continue``: the code after it would never run), a function with
closure variables or class-private names (it is compiled outside its class),
or inserted code that reads a name that is neither a hook it is given, one of
its own ``_rt_`` temporaries, nor a parameter or local of the function. Specs
refer to Twisted's names through placeholders filled from what was matched:
``{params[N]}`` (the function's N-th parameter, ``self`` being 0),
``{target}`` (the name a matched assignment binds) and ``{value}`` (the
source of a matched assignment's value).
"""

from __future__ import annotations

import ast
import builtins
import inspect
import textwrap
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import ReactorTraceError

Matcher = Callable[[ast.stmt], bool]

#: Builtin names the inserted code may read: the exception classes (for
#: ``except`` clauses); no Twisted local bears such a name.
_EXCEPTIONS = frozenset(
    name for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)
_FUTURE_FLAGS = 0
for _feature in ("annotations", "generator_stop", "division"):
    _FUTURE_FLAGS |= getattr(__import__("__future__"), _feature).compiler_flag


class RewriteError(ReactorTraceError):
    """The function's source is not what the rewrite expects."""


@dataclass(frozen=True)
class Timed:
    """One kind of statement to time: which, the hook to call, and its arguments.

    On success and on failure ``hook(<args>, _rt_t0, exc or None)`` is called,
    unless ``inline`` is given: then that code runs on success instead (it
    saves a Python call on the hottest paths), and ``_rt_failed(exc)`` runs if
    it raises.
    """

    matches: Matcher
    hook: str
    args: str
    #: An expression evaluated just before the statement, named ``_rt_pre``.
    before: str | None = None
    expected: int = 1
    inline: str | None = None
    #: The expression the start time ``_rt_t0`` is taken from.
    start: str = "_rt_clock()"
    #: On success, first set ``_rt_last = _rt_clock()`` (the end time), so
    #: that the next statement timed in the same call can start from it.
    mark_end: bool = False


@dataclass(frozen=True)
class After:
    """A hook called right after each statement that matches (not timed).

    ``inline`` statements run instead of calling ``hook`` (they may call it
    for the unusual cases); if they raise, ``_rt_failed(exc)`` runs.
    """

    matches: Matcher
    hook: str
    args: str
    expected: int = 1
    inline: str | None = None


Spec = Timed | After


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
    specs: list[Spec],
    hooks: dict[str, Any],
    prologue: str | None = None,
    target: list[Any] | None = None,
) -> types.FunctionType:
    """Return a copy of ``func`` with the statements each spec matches timed or followed.

    ``hooks`` maps the names the inserted code uses to values; they become
    closure variables, never globals of Twisted's modules. ``prologue`` is a
    statement run first in the function (e.g. to take the time a job was
    queued).

    With ``target`` (a one-item list holding an instance), the copy is meant to
    be set on a class: calls for any other instance (or once ``target[0]`` is
    None) go straight to ``func`` itself.
    """
    original = inspect.unwrap(func)
    if not isinstance(original, types.FunctionType):
        raise RewriteError(f"{func!r} is not a Python function")
    where = original.__qualname__
    code = original.__code__
    if code.co_freevars:
        raise RewriteError(f"{where} uses closure variables ({', '.join(code.co_freevars)})")
    definition = _parse(original)
    _refuse_private_names(definition, where)
    definition.decorator_list = []
    names = dict(hooks)
    names.setdefault("_rt_clock", time.perf_counter)
    params = _parameters(definition)
    inserted: list[str] = []
    for spec in specs:
        needed = [spec.hook] if isinstance(spec, Timed) or not spec.inline else []
        needed += ["_rt_failed"] if spec.inline else []
        missing = [name for name in needed if name not in names]
        if missing:
            raise RewriteError(f"{where}: no hook named {', '.join(missing)}")
        inserter = _Inserter(spec, params, where)
        inserter.visit_body(definition)
        if inserter.count != spec.expected:
            raise RewriteError(
                f"{where}: expected {spec.expected} statement(s) for "
                f"{spec.hook or 'an inline hook'}, found {inserter.count}"
            )
        inserted += inserter.snippets
    if prologue:
        text = prologue.format(params=params)
        inserted.append(text)
        _prepend(definition, text)
    if target is not None:
        _prepend(definition, _passthrough(definition))
        names["_rt_target"] = target
        names["_rt_original"] = func
    _check_names(inserted, names, code, where)
    return _compile(definition, names, original, func)


# -- reading the function ------------------------------------------------------


def _parse(original: types.FunctionType) -> ast.FunctionDef:
    """The function's definition, parsed where it stands: same lines, same columns."""
    try:
        lines, first = inspect.getsourcelines(original)
    except (OSError, TypeError) as exc:
        raise RewriteError(f"no source for {original.__qualname__}: {exc}") from None
    source = "".join(lines)
    indent = len(source) - len(source.lstrip(" \t"))
    # Indented code parses inside a block: the columns stay the file's own, so
    # the positions of every untouched node (and the markers tracebacks draw
    # from them) stay exactly as they were.
    wrapped = ("if 1:\n" + source) if indent else source
    try:
        tree = ast.parse(wrapped)
    except SyntaxError as exc:
        raise RewriteError(f"cannot parse {original.__qualname__}: {exc.msg}") from None
    ast.increment_lineno(tree, first - 1 - (1 if indent else 0))
    node = tree.body[0]
    if indent:
        assert isinstance(node, ast.If)
        node = node.body[0]
    if not isinstance(node, ast.FunctionDef):
        raise RewriteError(f"{original.__qualname__} is not a plain function")
    return node


def _parameters(definition: ast.FunctionDef) -> list[str]:
    spec = definition.args
    return [a.arg for a in spec.posonlyargs + spec.args]


def _refuse_private_names(node: ast.AST, where: str) -> None:
    # Compiled outside its class, a name like self.__x would be mangled wrongly.
    for sub in ast.walk(node):
        name = getattr(sub, "attr", None) or getattr(sub, "id", None)
        if isinstance(name, str) and name.startswith("__") and not name.endswith("__"):
            raise RewriteError(f"{where} uses the class-private name {name}")
        if isinstance(sub, ast.Name) and sub.id == "super":
            raise RewriteError(f"{where} uses super(), which needs its class")


def _leaves_block(stmt: ast.stmt) -> bool:
    """Whether ``stmt`` can leave its block (return, break, continue) itself."""
    todo: list[ast.AST] = [stmt]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Return, ast.Break, ast.Continue)):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        todo.extend(ast.iter_child_nodes(node))
    return False


# -- inserting -------------------------------------------------------------------


class _Inserter:
    """Finds the statements one spec matches, in every block, and surrounds them."""

    def __init__(self, spec: Spec, params: list[str], where: str) -> None:
        self.spec = spec
        self.params = params
        self.where = where
        self.count = 0
        #: The spec's code as inserted (placeholders filled), to check its names.
        self.snippets: list[str] = []

    def visit_body(self, node: ast.AST) -> None:
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                setattr(node, name, self._block(block))
        for handler in getattr(node, "handlers", ()):
            self.visit_body(handler)
        for case in getattr(node, "cases", ()):
            self.visit_body(case)

    def _block(self, block: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in block:
            if self.spec.matches(stmt):
                if _leaves_block(stmt):
                    raise RewriteError(
                        f"{self.where}: the statement at line {stmt.lineno} leaves its block "
                        "(return, break or continue): the code after it would never run"
                    )
                self.count += 1
                out.extend(self._surround(stmt))
            else:
                self.visit_body(stmt)
                out.append(stmt)
        return out

    def _fill(self, text: str, stmt: ast.stmt) -> str:
        target = value = ""
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            bound = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
            if isinstance(bound, ast.Name):
                target = bound.id
            if stmt.value is not None:
                value = ast.unparse(stmt.value)
        try:
            filled = text.format(params=self.params, target=target, value=value)
        except (IndexError, KeyError) as exc:
            raise RewriteError(f"{self.where}: the spec names {exc}, which is not there") from None
        self.snippets.append(filled)
        return filled

    def _surround(self, stmt: ast.stmt) -> list[ast.stmt]:
        spec = self.spec
        if isinstance(spec, After):
            return [stmt, *self._after(stmt, spec)]
        return self._timed(stmt, spec)

    def _after(self, stmt: ast.stmt, spec: After) -> list[ast.stmt]:
        if spec.inline:
            body = textwrap.indent(self._fill(spec.inline, stmt), "    ")
            source = f"try:\n{body}\nexcept Exception as _rt_bug:\n    _rt_failed(_rt_bug)\n"
        else:
            source = f"{spec.hook}({self._fill(spec.args, stmt)})"
        return _located(ast.parse(source).body, stmt)

    def _timed(self, stmt: ast.stmt, spec: Timed) -> list[ast.stmt]:
        args = self._fill(spec.args, stmt) if spec.args else ""
        call_args = f"{args}, " if args else ""
        before = f"_rt_pre = {self._fill(spec.before, stmt)}\n" if spec.before else ""
        start = self._fill(spec.start, stmt)
        if spec.inline:
            success = (
                f"    try:\n{textwrap.indent(self._fill(spec.inline, stmt), '        ')}\n"
                "    except Exception as _rt_bug:\n        _rt_failed(_rt_bug)\n"
            )
        else:
            success = f"    {spec.hook}({call_args}_rt_t0, None)\n"
        template = (
            before + f"_rt_t0 = {start}\n"
            "try:\n    pass\n"
            "except BaseException as _rt_exc:\n"
            f"    {spec.hook}({call_args}_rt_t0, _rt_exc)\n"
            "    raise\n"
            "else:\n"
            + ("    _rt_last = _rt_clock()\n" if spec.mark_end else "")
            + success
        )
        *starts, wrapped = ast.parse(template).body
        assert isinstance(wrapped, ast.Try)
        _located([*starts, wrapped], stmt)
        wrapped.body = [stmt]
        return [*starts, wrapped]


def _located(nodes: list[ast.stmt], at: ast.stmt) -> list[ast.stmt]:
    """Give inserted nodes the position of the statement they surround."""
    for node in nodes:
        for sub in ast.walk(node):
            ast.copy_location(sub, at)
            if hasattr(sub, "end_lineno"):
                sub.end_lineno = at.lineno
    return nodes


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


# -- checking --------------------------------------------------------------------


def _check_names(
    snippets: list[str], hooks: dict[str, Any], code: types.CodeType, where: str
) -> None:
    """Every name the inserted code reads must be a hook, one of its own ``_rt_``
    temporaries, or a parameter or local of the function: never a global or a
    builtin that would happen to share the name (``callable``, say)."""
    reads: set[str] = set()
    temporaries: set[str] = {"_rt_t0", "_rt_exc", "_rt_bug", "_rt_pre", "_rt_last"}
    for snippet in snippets:
        for node in _names_in(snippet, where):
            if isinstance(node.ctx, ast.Store):
                temporaries.add(node.id)
            else:
                reads.add(node.id)
    own = {t for t in temporaries if t.startswith("_rt_")}
    known = set(hooks) | own | set(code.co_varnames) | set(code.co_cellvars) | _EXCEPTIONS
    unknown = sorted(reads - known)
    if unknown:
        shadowed = [name for name in unknown if hasattr(builtins, name)]
        detail = f" ({', '.join(shadowed)} would be the builtin)" if shadowed else ""
        raise RewriteError(
            f"{where}: the inserted code reads {', '.join(unknown)}, which the function "
            f"does not have{detail}"
        )


def _names_in(snippet: str, where: str) -> Iterator[ast.Name]:
    try:
        tree = ast.parse(snippet)
    except SyntaxError:
        try:
            tree = ast.parse(f"({snippet})")
        except SyntaxError as exc:
            raise RewriteError(f"{where}: inserted code does not parse: {exc.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node


# -- compiling -------------------------------------------------------------------


def _compile(
    definition: ast.FunctionDef,
    names: dict[str, Any],
    original: types.FunctionType,
    func: Callable[..., Any],
) -> types.FunctionType:
    """Compile ``definition`` inside a factory whose parameters are ``names``."""
    factory = ast.FunctionDef(
        name="_rt_factory",
        args=ast.arguments(
            posonlyargs=[], args=[ast.arg(arg=name) for name in names],
            kwonlyargs=[], kw_defaults=[], defaults=[],
        ),
        body=[definition, ast.Return(value=ast.Name(id=definition.name, ctx=ast.Load()))],
        decorator_list=[],
        returns=None,
        type_comment=None,
    )
    module = ast.Module(body=[factory], type_ignores=[])
    ast.fix_missing_locations(module)
    code = original.__code__
    flags = code.co_flags & _FUTURE_FLAGS
    try:
        compiled = compile(module, code.co_filename, "exec", flags=flags, dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        raise RewriteError(f"cannot compile {original.__qualname__}: {exc}") from None
    namespace: dict[str, Any] = {}
    exec(compiled, original.__globals__, namespace)  # noqa: S102 - Twisted's own source
    new: types.FunctionType = namespace["_rt_factory"](*names.values())
    new.__code__ = new.__code__.replace(co_qualname=code.co_qualname)
    new.__qualname__ = original.__qualname__
    new.__module__ = original.__module__
    new.__doc__ = original.__doc__
    new.__defaults__ = original.__defaults__
    new.__kwdefaults__ = original.__kwdefaults__
    new.__dict__.update(original.__dict__)
    return new
