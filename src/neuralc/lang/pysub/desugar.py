"""Pass 0 of the Python subset: parse, then rewrite the Python people write into the core subset.

Runs once between parsing and :mod:`.validate`; every node it makes carries the location of the
user's code it replaces, so later errors still point there. What it rewrites (docs/COMPILER.md,
"Front end"):

* definitions and calls: default parameter values (integer literals, ``-k``, ``True``,
  ``False``) and keyword arguments between the file's functions become positional arguments;
  keyword-only parameters become positional ones; annotations are dropped (``x: int = 0`` is an
  assignment, a bare ``x: int`` nothing); ``from typing import ...``, ``from __future__ import
  ...`` and the ``if __name__ == "__main__":`` block are ignored;
* errors: ``raise E(...)`` and ``assert c[, msg]`` become ``raise CODE`` (a run-time error stub);
  the code's :class:`Raised` (exception, message, line) is kept by the compiled program;
* expressions: ``**``, ``<<``, ``>>``, ``~`` (and augmented forms), ``abs``, ``int``, ``bool``,
  ``divmod``, ``pow``, ``min``/``max`` of several values, ``isinstance`` (a placeholder decided
  from the name's kind after checking, :func:`resolve`); helpers written in the subset itself
  (:mod:`.prelude`) are added to the module only when used;
* signed values (``signed=True``): a value ``v`` reads as ``v - n`` when ``v >= n/2``. Order
  comparisons compare ``v + n//2`` (mod n), which orders the readings; ``//``, ``%``, ``>>``,
  ``abs``, ``min``, ``max`` call signed helpers; negative indices count from the end; ``range``
  runs over biased values. Unsigned (the default), the places where the meaning differs from
  Python's are reported as warnings.
"""

from __future__ import annotations

import ast
import copy
import re
import sys
from dataclasses import dataclass, field

from ..errors import CompileError, Diagnostic
from .layout import RAISE_BASE
from .prelude import prelude_functions

__all__ = ["Desugared", "Raised", "complete_arguments", "desugar", "parse", "resolve"]

_NEWER_SYNTAX = [  # (pattern on the offending line, what it is) for a Python newer than ours;
    # group 1 is kept, the rest of the match dropped, to look on for more errors
    (re.compile(r"^(\s*)type\s+[A-Za-z_]\w*\s*(\[[^\]]*\])?\s*=.*"), "'type' alias statements"),
    (re.compile(r"^(\s*(?:async\s+)?def\s+[A-Za-z_]\w*\s*)\[[^\]]*\]"),
     "type parameters ('def f[T]')"),
    (re.compile(r"^(\s*class\s+[A-Za-z_]\w*\s*)\[[^\]]*\]"), "type parameters ('class C[T]')"),
]
_PY = f"Python {sys.version_info.major}.{sys.version_info.minor}"
_EXCEPTION_OF_ERROR = {1: "ZeroDivisionError", 2: "IndexError", 3: "MemoryError",
                       4: "RecursionError"}


@dataclass(frozen=True)
class Raised:
    """What a ``raise``/``assert`` reports: ``ValueError: n must be positive (line 7)``."""

    exception: str
    message: str
    line: int
    exact: bool = True  # False when the message has parts computed at run time (shown as {x})
    slots: tuple[str, ...] = ()  # {x} parts whose values the program leaves below the error cell

    def filled(self, values: list[int]) -> Raised:
        """The message with each slot's ``{x}`` replaced by its value (in order)."""
        message = self.message
        for src, v in zip(self.slots, values):
            message = message.replace("{" + src + "}", str(v), 1)
        exact = self.exact or "{" not in message
        return Raised(self.exception, message, self.line, exact)

    def text(self) -> str:
        if not self.exception:  # the compiler's own check (integer overflow)
            return self.message
        head = f"{self.exception}: {self.message}" if self.message else self.exception
        return f"{head} (line {self.line})"


@dataclass
class Desugared:
    tree: ast.Module
    raised: dict[int, Raised] = field(default_factory=dict)  # error code → what it reports
    defaults: dict[str, dict[str, int]] = field(default_factory=dict)  # fn → param → value
    warnings: list[Diagnostic] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)
    isinstances: list[tuple[ast.Constant, str, ast.expr, tuple[str, ...]]] = field(
        default_factory=list)  # (placeholder, function, operand, type names)
    prelude: list[str] = field(default_factory=list)  # helper functions added
    flags: dict[str, dict[str, str]] = field(default_factory=dict)  # fn → flag → parameter
    overflow: int | None = None  # signed: the raise code of "integer overflow"

    def user_diagnostics(self, diags: list[Diagnostic]) -> list[Diagnostic]:
        """The checker's diagnostics without those inside the compiler's helpers (line 0),
        unless nothing else is left (then shown at line 1, saying where they come from)."""
        user = [d for d in diags if d.line > 0]
        return user or [Diagnostic(1, 1, f"in a helper the compiler added: {d.message}")
                        for d in diags]


def _col(lines: list[str], node) -> int:
    line = lines[node.lineno - 1] if 0 < node.lineno <= len(lines) else ""
    return len(line.encode("utf-8")[: node.col_offset].decode("utf-8", "replace")) + 1


def parse(source: str, filename: str = "<input>") -> tuple[ast.Module, list[Diagnostic]]:
    """``ast.parse``; syntax of a newer Python is reported as such (and skipped, to find more)."""
    diags: list[Diagnostic] = []
    lines = source.split("\n")
    for _ in range(100):
        try:
            return ast.parse("\n".join(lines), filename=filename), diags
        except SyntaxError as e:
            line = e.lineno or 1
            text = lines[line - 1] if 0 < line <= len(lines) else ""
            for pattern, what in _NEWER_SYNTAX:
                m = pattern.match(text)
                if m:
                    indent = len(text) - len(text.lstrip())
                    diags.append(Diagnostic(line, indent + 1,
                                            f"unsupported syntax: {what} (newer than {_PY}, "
                                            "and not in the subset)"))
                    keep = m.group(1) + ("pass" if what.startswith("'type'") else "")
                    lines[line - 1] = keep + text[m.end():]
                    break
            else:
                raise CompileError([*diags, Diagnostic(line, max(e.offset or 1, 1),
                                                       f"syntax error: {e.msg}")],
                                   filename) from None
        except ValueError as e:  # e.g. source with NUL bytes
            raise CompileError([Diagnostic(1, 1, f"syntax error: {e}")], filename) from None
    raise CompileError(diags, filename)


def _int_literal(e: ast.expr) -> int | None:
    """The value of an integer literal (``True``/``False``, ``-k``), else None."""
    if isinstance(e, ast.Constant) and type(e.value) in (int, bool):
        return int(e.value)
    if (isinstance(e, ast.UnaryOp) and isinstance(e.op, (ast.USub, ast.UAdd))
            and isinstance(e.operand, ast.Constant) and type(e.operand.value) in (int, bool)):
        v = int(e.operand.value)
        return -v if isinstance(e.op, ast.USub) else v
    return None


def _at(new: ast.AST, old: ast.AST) -> ast.AST:
    """``new`` (and its children without a place) at ``old``'s place."""
    for node in ast.walk(new):
        if not hasattr(node, "lineno") and hasattr(old, "lineno") and isinstance(
                node, (ast.expr, ast.stmt)):
            ast.copy_location(node, old)
    return ast.copy_location(new, old)


def _call(name: str, args: list[ast.expr], at: ast.AST) -> ast.Call:
    return _at(ast.Call(ast.Name(name, ast.Load()), args, []), at)


def _num(v: int, at: ast.AST) -> ast.expr:
    node = ast.Constant(abs(v)) if v >= 0 else ast.UnaryOp(ast.USub(), ast.Constant(-v))
    return _at(node, at)


def _pure(e: ast.expr) -> bool:
    """No calls, so evaluating ``e`` twice gives the same value with no effect."""
    return not any(isinstance(x, (ast.NamedExpr, ast.ListComp, ast.List)) or (
        isinstance(x, ast.Call) and getattr(x.func, "id", None) not in ("len", "_nc_index"))
        for x in ast.walk(e))


def _type_names(e: ast.expr) -> tuple[str, ...] | None:
    if isinstance(e, ast.Name):
        return (e.id,)
    if isinstance(e, ast.Tuple):
        names = [_type_names(x) for x in e.elts]
        return None if None in names else tuple(n for ns in names for n in ns)
    return None


_MATH_SUPPORTED = {"isqrt", "gcd", "sqrt", "floor", "trunc", "ceil", "inf"}


def _is_math(e: ast.expr, name: str) -> bool:
    return (isinstance(e, ast.Attribute) and e.attr == name and isinstance(e.value, ast.Name)
            and e.value.id == "math")


def _math_uses_supported(tree: ast.Module) -> bool:
    """``import math`` can go when only math.isqrt/gcd/floor/trunc and ``int(math.sqrt(x))``
    are used (the others stay errors: attribute access)."""
    uses = [x for x in ast.walk(tree) if isinstance(x, ast.Attribute)
            and isinstance(x.value, ast.Name) and x.value.id == "math"]
    return all(u.attr in _MATH_SUPPORTED for u in uses)


def _sys_uses_supported(tree: ast.Module) -> bool:
    """``import sys`` can go when only sys.maxsize and sys.setrecursionlimit are used."""
    return all(x.attr in ("maxsize", "setrecursionlimit") for x in ast.walk(tree)
               if isinstance(x, ast.Attribute) and getattr(x.value, "id", None) == "sys")


def _square_root_of(e: ast.expr) -> ast.expr | None:
    """``x`` for ``x ** 0.5`` or ``math.sqrt(x)`` (under ``int``: the integer square root)."""
    if (isinstance(e, ast.BinOp) and isinstance(e.op, ast.Pow)
            and isinstance(e.right, ast.Constant) and e.right.value == 0.5):
        return e.left
    if isinstance(e, ast.Call) and _is_math(e.func, "sqrt") and len(e.args) == 1:
        return e.args[0]
    return None


def _constant_value(e: ast.expr) -> int | None:
    """The value of an integer constant expression (literals and + - * // % **), else None."""
    v = _int_literal(e)
    if v is not None:
        return v
    if isinstance(e, ast.BinOp):
        a, b = _constant_value(e.left), _constant_value(e.right)
        if a is None or b is None:
            return None
        op = type(e.op)
        if op in (ast.FloorDiv, ast.Mod) and b == 0 or op is ast.Pow and not 0 <= b <= 64:
            return None
        fns = {ast.Add: a.__add__, ast.Sub: a.__sub__, ast.Mult: a.__mul__,
               ast.FloorDiv: a.__floordiv__, ast.Mod: a.__mod__, ast.Pow: a.__pow__}
        return fns[op](b) if op in fns else None
    return None


def _assigned_anywhere_else(tree: ast.Module, s: ast.Assign) -> bool:
    name = s.targets[0].id
    return any(isinstance(x, ast.Name) and x.id == name and isinstance(x.ctx, ast.Store)
               and x is not s.targets[0] for x in ast.walk(tree)
               if not isinstance(x, ast.FunctionDef)) and any(
        isinstance(t, ast.Assign) and t is not s and any(getattr(g, "id", None) == name
                                                          for g in t.targets)
        for t in tree.body)


def _exception_name(e: ast.expr | None) -> str | None:
    if isinstance(e, ast.Call):
        e = e.func
    if isinstance(e, ast.Name):
        return e.id
    if isinstance(e, ast.Attribute):
        return e.attr
    return None


def _is_main_guard(s: ast.stmt) -> bool:
    t = getattr(s, "test", None)
    return (isinstance(s, ast.If) and isinstance(t, ast.Compare) and len(t.ops) == 1
            and isinstance(t.ops[0], ast.Eq) and isinstance(t.left, ast.Name)
            and t.left.id == "__name__")


def _ignored_import(s: ast.stmt) -> bool:
    """Imports (and top-level lines) that change nothing a compiled function does."""
    if isinstance(s, ast.ImportFrom):
        return s.module in ("typing", "__future__", "typing_extensions", "doctest")
    if isinstance(s, ast.Import):
        return all(a.name in ("typing", "typing_extensions", "doctest") for a in s.names)
    return (isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)
            and isinstance(s.value.func, ast.Attribute)
            and (s.value.func.attr == "setrecursionlimit"
                 or getattr(s.value.func.value, "id", None) == "doctest"))


class _Front(ast.NodeTransformer):
    def __init__(self, source: str, n: int, signed: bool, out: Desugared):
        self.source = source
        self.lines = source.splitlines()
        self.n = n
        self.signed = signed
        self.bias = n // 2  # v + bias (mod n) orders the signed readings
        self.negative_from = n - n // 2  # v reads negative when v >= this
        self.out = out
        self.sigs: dict[str, tuple[list[str], dict[str, int]]] = {}
        self.helpers: set[str] = set()
        self.fn = ""
        self.nonneg: set[str] = set()
        self.locals: set[str] = set()
        self.message_names: dict[str, ast.expr] = {}  # msg = "text" used only by raise
        self._messages: dict[tuple[str, str, int], int] = {}
        self.prelude_mode = False
        self.constants: dict[str, int] = {}  # top-level NAME = integer constant
        self.nones: dict[str, dict[str, str]] = {}  # function → parameter → its flag
        self.list_params: dict[str, set[str]] = {}  # function → parameters annotated as lists
        self.list_fns: set[str] = {"sorted", "list", "reversed", "_nc_ssorted"}
        self.listy: set[str] = set()  # names of this function that (may) hold lists
        self.maybe_none: dict[str, str] = {}  # in this function: name that may be None → flag
        self._fresh = 0

    # ------------------------------------------------------------------ reporting

    def error(self, node: ast.AST, message: str) -> None:
        self.out.errors.append(Diagnostic(node.lineno, _col(self.lines, node), message))

    def warn(self, node: ast.AST, message: str) -> None:
        d = Diagnostic(node.lineno, _col(self.lines, node), message)
        if d not in self.out.warnings:
            self.out.warnings.append(d)

    def helper(self, name: str, args: list[ast.expr], at: ast.AST) -> ast.Call:
        self.helpers.add(name)
        return _call(name, args, at)

    def fresh(self, hint: str) -> str:
        self._fresh += 1
        return f"_nc_{hint}{self._fresh}"

    # ------------------------------------------------------------------ module and functions

    def module(self, tree: ast.Module) -> ast.Module:
        _hoist_nested_functions(tree)
        body = []
        math_ok = _math_uses_supported(tree)
        for s in tree.body:
            if _is_main_guard(s) or _ignored_import(s) or (
                    isinstance(s, ast.Pass) and any(d.line == s.lineno for d in self.out.errors)):
                continue  # (a Pass left where newer syntax was reported)
            if isinstance(s, ast.Import) and len(s.names) == 1 and s.names[0].asname is None and (
                    (s.names[0].name == "math" and math_ok)
                    or (s.names[0].name == "sys" and _sys_uses_supported(tree))):
                continue
            value = _constant_value(s.value) if isinstance(s, ast.Assign) else None
            if (value is not None and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)
                    and not _assigned_anywhere_else(tree, s)):
                self.constants[s.targets[0].id] = value  # a named constant: used by value
                continue
            if isinstance(s, ast.FunctionDef):
                self.signature(s)
            body.append(s)
        # which names hold lists (signed + - * < leave them alone; messages skip them)
        fns = [s for s in body if isinstance(s, ast.FunctionDef)]
        for _ in range(3):
            for fn in fns:
                names = _list_names(fn, self.list_params.get(fn.name, set()), self.list_fns)
                if any(isinstance(r, ast.Return) and r.value is not None
                       and _listish(r.value, names, self.list_fns) for r in ast.walk(fn)):
                    self.list_fns.add(fn.name)
        self.fn_listy = {fn.name: _list_names(fn, self.list_params.get(fn.name, set()),
                                              self.list_fns) for fn in fns}
        tree.body = [self.visit(s) if isinstance(s, ast.FunctionDef) else s for s in body]
        return tree

    def signature(self, fn: ast.FunctionDef) -> None:
        a = fn.args
        positional = [*a.posonlyargs, *a.args]
        defaults: dict[str, int] = {}
        first_default = len(positional) - len(a.defaults)
        pairs = list(zip(positional[first_default:], a.defaults))
        pairs += [(p, d) for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
        nones: dict[str, str] = {}  # parameter defaulting to None → its "was given" flag
        for p, d in pairs:
            v = _int_literal(d)
            if isinstance(d, ast.Constant) and d.value is None:
                nones[p.arg] = f"_nc_{p.arg}_given"
                defaults[p.arg] = [] if _looks_like_list(fn, p.arg) else 0
                continue
            if v is None:
                self.error(d, f"the default value of '{p.arg}' must be an integer literal, "
                              "True or False")
                v = 0
            defaults[p.arg] = v
        for p in a.kwonlyargs:
            if p.arg not in defaults and any(q.arg in defaults for q in positional):
                pass  # a keyword-only parameter without default: callers name it
        params = positional + list(a.kwonlyargs)
        self.list_params[fn.name] = {p.arg for p in params if _list_annotation(p.annotation)} | {
            p for p, v in defaults.items() if isinstance(v, list)}
        if _list_annotation(fn.returns):
            self.list_fns.add(fn.name)
        params += [ast.copy_location(ast.arg(flag), fn) for flag in nones.values()]
        for flag in nones.values():
            defaults[flag] = 0
        a.posonlyargs, a.args, a.kwonlyargs, a.kw_defaults, a.defaults = [], params, [], [], []
        for p in params:
            p.annotation = None
        fn.returns = None
        self.sigs[fn.name] = ([p.arg for p in params], defaults)
        self.nones[fn.name] = nones
        self.out.defaults[fn.name] = defaults
        self.out.flags[fn.name] = {flag: p for p, flag in nones.items()}

    def visit_Name(self, e: ast.Name):
        if (isinstance(e.ctx, ast.Load) and e.id in self.constants
                and e.id not in self.locals):
            return _num(self.constants[e.id], e)
        return e

    def visit_FunctionDef(self, fn: ast.FunctionDef) -> ast.FunctionDef:
        self.fn = fn.name
        self.locals = {p.arg for p in fn.args.args} | {
            x.id for x in ast.walk(fn) if isinstance(x, ast.Name) and isinstance(x.ctx, ast.Store)}
        self.nonneg = self.nonnegative_names(fn) if self.signed else set()
        self.maybe_none = dict(self.nones.get(fn.name, {}))
        self.listy = getattr(self, "fn_listy", {}).get(fn.name, set())
        self.message_names = _message_names(fn)
        for x in ast.walk(fn):
            value = getattr(x, "value", 0)
            if isinstance(x, (ast.Assign, ast.AnnAssign)) and isinstance(
                    value, ast.Constant) and value.value is None:
                for t in (x.targets if isinstance(x, ast.Assign) else [x.target]):
                    if isinstance(t, ast.Name):
                        self.maybe_none.setdefault(t.id, f"_nc_{t.id}_given")
        body = fn.body
        doc = body[:1] if body and _docstring(body[0]) else []
        fn.body = doc + self.block(body[len(doc):]) or [ast.copy_location(ast.Pass(), fn)]
        return fn

    def block(self, body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in body:
            r = self.visit(s)
            if r is None:
                continue
            for x in (r if isinstance(r, list) else [r]):
                out.extend(self.none_flags(x))
        return out

    def none_flags(self, s: ast.stmt) -> list[ast.stmt]:
        """A name that may hold None carries a flag: ``x = None`` sets it to 0, any other
        assignment to 1 (``x is None`` reads it)."""
        if not self.maybe_none:
            return [s]
        targets = (s.targets if isinstance(s, ast.Assign) else [s.target]
                   if isinstance(s, (ast.AugAssign, ast.AnnAssign, ast.For)) else [])
        names = [x.id for t in targets for x in ast.walk(t)
                 if isinstance(x, ast.Name) and x.id in self.maybe_none]
        if not names:
            return [s]
        to_none = isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant) \
            and s.value.value is None
        flags = [ast.copy_location(ast.Assign([ast.Name(self.maybe_none[x], ast.Store())],
                                              _num(0 if to_none else 1, s)), s) for x in names]
        if to_none:
            return flags
        if isinstance(s, ast.For):
            s.body = flags + s.body
            return [s]
        return [s, *flags]

    def visit_Expr(self, s: ast.Expr):
        c = s.value
        if (self.signed and isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)
                and c.func.attr == "sort" and not c.args and _reverse_only(c.keywords)
                and _pure(c.func.value)):  # xs.sort() in signed order
            lst = self.visit(c.func.value)
            out = [ast.copy_location(ast.Expr(self.helper("_nc_ssort", [lst], c)), s)]
            if c.keywords and _int_literal(c.keywords[0].value):
                rev = _at(ast.Call(ast.Attribute(copy.deepcopy(lst), "reverse", ast.Load()),
                                   [], []), c)
                out.append(ast.copy_location(ast.Expr(rev), s))
            return out
        return self.generic_visit(s)

    def visit_Return(self, s: ast.Return):
        if isinstance(s.value, ast.Constant) and s.value.value is None:
            s.value = None  # `return None` returns 0, like falling off the end
        return self.generic_visit(s)

    def generic_visit(self, node):
        for name, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                setattr(node, name, self.block(value) or [ast.copy_location(ast.Pass(), node)])
            elif isinstance(value, list):
                setattr(node, name, [self.visit(v) if isinstance(v, ast.AST) else v
                                     for v in value])
            elif isinstance(value, ast.AST):
                setattr(node, name, self.visit(value))
        return node

    def nonnegative_names(self, fn: ast.FunctionDef) -> set[str]:
        """Names only ever set by ``for NAME in range(...)`` counting up from a literal >= 0
        (or by ``enumerate``): their values are never negative, so no signed fix-ups."""
        stores: dict[str, int] = {}
        for node in ast.walk(fn):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                stores[node.id] = stores.get(node.id, 0) + 1
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                stores[node.target.id] = stores.get(node.target.id, 0) + 2
        params = {p.arg for p in fn.args.args}
        out = set()
        for node in ast.walk(fn):
            if not isinstance(node, ast.For) or not isinstance(node.iter, ast.Call):
                continue
            it, target = node.iter, node.target
            name = getattr(it.func, "id", None)
            if name == "range" and isinstance(target, ast.Name) and 1 <= len(it.args) <= 3:
                start = _int_literal(it.args[0]) if len(it.args) > 1 else 0
                step = _int_literal(it.args[2]) if len(it.args) == 3 else 1
                if start is not None and start >= 0 and step is not None and step > 0:
                    out.add(target.id)
            elif (name == "enumerate" and isinstance(target, ast.Tuple) and target.elts
                  and isinstance(target.elts[0], ast.Name)):
                start = _int_literal(it.args[1]) if len(it.args) > 1 else 0
                if start is not None and start >= 0 and not it.keywords:
                    out.add(target.elts[0].id)
        return {x for x in out if stores.get(x) == 1 and x not in params}

    # ------------------------------------------------------------------ statements

    def visit_Assign(self, s: ast.Assign):
        if (len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)
                and s.targets[0].id in self.message_names):
            return None  # its text goes into the raise that uses it
        return self.generic_visit(s)

    def visit_AnnAssign(self, s: ast.AnnAssign):
        if s.value is None:
            return None  # a declaration: nothing to run
        return self.visit(ast.copy_location(ast.Assign([s.target], s.value), s))

    def visit_AugAssign(self, s: ast.AugAssign):
        if (self.signed and isinstance(s.op, ast.Add) and isinstance(s.target, ast.Name)
                and _int_literal(s.value) is None):
            # x += y stays: a list extends in place (as in Python, for every name sharing
            # it); an integer sum is checked for overflow inline by the lowering
            s = self.generic_visit(s)
            s._nc_overflow = True
            return s
        if isinstance(s.op, (ast.Pow, ast.LShift, ast.RShift)) or (self.signed and isinstance(
                s.op, (ast.FloorDiv, ast.Mod, ast.Add, ast.Sub, ast.Mult))):
            t = s.target
            load = copy.deepcopy(t)
            for x in ast.walk(load):
                if hasattr(x, "ctx"):
                    x.ctx = ast.Load()
            if isinstance(t, ast.Subscript) and not _pure(t.slice):
                self.error(s, "this augmented assignment needs a simple index (assign the "
                              "index to a name first)")
            value = _at(ast.BinOp(load, s.op, s.value), s)
            return self.visit(ast.copy_location(ast.Assign([t], value), s))
        return self.generic_visit(s)

    def visit_Raise(self, s: ast.Raise):
        name = _exception_name(s.exc)
        if s.exc is None or name is None:
            self.error(s, "a bare 'raise' (re-raising) is not supported; raise an exception "
                          "such as ValueError(...)")
            return ast.copy_location(ast.Pass(), s)
        args = s.exc.args if isinstance(s.exc, ast.Call) else []
        return self.raise_stub(s, name, args)

    def visit_Assert(self, s: ast.Assert):
        test = self.visit(s.test)
        stub = self.raise_stub(s, "AssertionError", [s.msg] if s.msg is not None else [])
        return ast.copy_location(ast.If(_at(ast.UnaryOp(ast.Not(), test), s.test), [stub], []), s)

    def overflow(self, s: ast.Raise) -> ast.Raise:
        return self.raise_stub(s, "", [ast.Constant("integer overflow")])

    def raise_stub(self, s: ast.stmt, exception: str, args: list[ast.expr]) -> ast.Raise:
        parts, exact, values = [], True, []
        for a in args:
            text, ok = self.message_text(a)
            parts.append(text)
            exact &= ok
            a = self.message_names.get(getattr(a, "id", None), a)
            if isinstance(a, ast.JoinedStr) and len(args) == 1:
                values = [v.value for v in a.values if isinstance(v, ast.FormattedValue)]
            elif not isinstance(a, (ast.Constant, ast.JoinedStr)) and len(args) == 1:
                values = [a]
        writable = bool(values) and all(self.simple_value(v) for v in values) and not any(
            isinstance(v, ast.FormattedValue) and v.format_spec for v in getattr(
                args[0], "values", []))
        message = parts[0] if len(parts) == 1 else ("(" + ", ".join(parts) + ")" if parts else "")
        slots = tuple(ast.get_source_segment(self.source, v) or "?" for v in values) \
            if writable else ()
        if writable and not any(isinstance(a, ast.JoinedStr) for a in args) and \
                not isinstance(self.message_names.get(getattr(args[0], "id", None)),
                               ast.JoinedStr):
            message = "{" + slots[0] + "}"
        raised = Raised(exception, message, s.lineno, exact, slots)
        key = (exception, message, s.lineno if exception else 0)  # one overflow stub
        if key not in self._messages:
            code = min(RAISE_BASE + len(self._messages), max(self.n - 1, 1))
            self._messages[key] = code
            if code in self.out.raised and self.out.raised[code] != raised:
                self.out.raised[code] = Raised("Exception", "one of several errors", s.lineno,
                                               False)
            else:
                self.out.raised[code] = raised
        cause = _at(ast.Tuple([self.visit(copy.deepcopy(v)) for v in values], ast.Load()), s) \
            if writable else None
        return ast.copy_location(ast.Raise(_at(ast.Constant(self._messages[key]), s), cause), s)

    def simple_value(self, e: ast.expr) -> bool:
        """An integer expression of the function's own names, safe to evaluate for a message."""
        for x in ast.walk(e):
            if isinstance(x, ast.Name) and (x.id not in self.locals or x.id in self.listy):
                return False
            if not isinstance(x, (ast.Name, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Load,
                                  ast.operator, ast.unaryop)):
                return False
            if isinstance(x, ast.Constant) and type(x.value) not in (int, bool):
                return False
        return True

    def message_text(self, a: ast.expr) -> tuple[str, bool]:
        if isinstance(a, ast.Name) and a.id in self.message_names:
            a = self.message_names[a.id]
        if isinstance(a, ast.Constant) and isinstance(a.value, (str, int)):
            return str(a.value), True
        if isinstance(a, ast.JoinedStr):
            out = []
            for v in a.values:
                if isinstance(v, ast.Constant):
                    out.append(str(v.value))
                else:
                    out.append("{" + (ast.get_source_segment(self.source, v.value) or "?") + "}")
            return "".join(out), len(a.values) == sum(isinstance(v, ast.Constant)
                                                      for v in a.values)
        return "{" + (ast.get_source_segment(self.source, a) or "?") + "}", False

    def visit_For(self, s: ast.For):
        s = self.generic_visit(s)
        it = s.iter
        if not (isinstance(it, ast.Call) and getattr(it.func, "id", None) == "range"
                and not it.keywords and 1 <= len(it.args) <= 3):
            return s
        bounds = it.args if len(it.args) > 1 else [None, it.args[0]]
        for b in bounds[:2]:
            v = None if b is None else _int_literal(b)
            if v is not None and v < 0 and not self.signed:
                self.warn(b, f"range bound {v} is n{v} on the unsigned machine, so this loop "
                             "does not run as in Python (use --signed)")
        biased = self.signed_range(it) if isinstance(s.target, ast.Name) else None
        if biased is None:
            return s
        # signed: run over the biased values (their unsigned order is the signed order)
        s.iter = biased
        hidden = self.fresh("i")
        target = s.target
        s.target = ast.copy_location(ast.Name(hidden, ast.Store()), target)
        s.body = [ast.copy_location(ast.Assign([target], self.unbiased(hidden, target)), target),
                  *s.body]
        return s

    def signed_range(self, it: ast.expr) -> ast.Call | None:
        """Signed: ``range(a, b[, s])`` over the biased bounds ``a + B``, ``b + B`` (the loop
        variable is then ``h - B``); None when unsigned, not a range, or both bounds are known
        non-negative."""
        if not (self.signed and isinstance(it, ast.Call) and getattr(it.func, "id", None) ==
                "range" and not it.keywords and 1 <= len(it.args) <= 3
                and not any(isinstance(a, ast.Starred) for a in it.args)):
            return None
        bounds = it.args[:2] if len(it.args) > 1 else [None, it.args[0]]
        if all(b is None or self.known_nonnegative(b) for b in bounds):
            return None
        args = [self.biased(b if b is not None else _num(0, it), self.bias) for b in bounds]
        return _at(ast.Call(it.func, args + it.args[2:], []), it)

    def unbiased(self, hidden: str, at: ast.AST) -> ast.expr:
        return _at(ast.BinOp(ast.Name(hidden, ast.Load()), ast.Sub(), _num(self.bias, at)), at)

    def signed_values(self, it: ast.expr, generator: bool) -> ast.expr:
        """A signed ``range`` used as a value (``list(range(n, -1, -1))``, ``sum(range(...))``):
        the comprehension ``[h - B for h in range(a + B, b + B[, s])]``."""
        biased = self.signed_range(it)
        if biased is None:
            return it
        hidden = self.fresh("i")
        gen = ast.comprehension(ast.Name(hidden, ast.Store()), biased, [], 0)
        kind = ast.GeneratorExp if generator else ast.ListComp
        return _at(kind(self.unbiased(hidden, it), [gen]), it)

    def visit_ListComp(self, e):
        """Signed: a clause over a ``range`` runs over the biased values; its variable reads
        ``h - B`` in the clauses after it and in the element."""
        e = self.generic_visit(e)
        for k, g in enumerate(e.generators):
            biased = self.signed_range(g.iter) if isinstance(g.target, ast.Name) else None
            if biased is None:
                continue
            hidden, old = self.fresh("i"), g.target.id
            g.iter = biased
            g.target = ast.copy_location(ast.Name(hidden, ast.Store()), g.target)
            rename = _Rename(old, lambda at, h=hidden: self.unbiased(h, at))
            g.ifs = [rename.visit(c) for c in g.ifs]
            shadowed = False
            for later in e.generators[k + 1:]:
                later.iter = rename.visit(later.iter)
                if any(isinstance(x, ast.Name) and x.id == old for x in ast.walk(later.target)):
                    shadowed = True
                    break
                later.ifs = [rename.visit(c) for c in later.ifs]
            if not shadowed:
                for field in ("elt", "key", "value"):
                    if hasattr(e, field):
                        setattr(e, field, rename.visit(getattr(e, field)))
        return e

    visit_GeneratorExp = visit_ListComp
    visit_SetComp = visit_ListComp
    visit_DictComp = visit_ListComp

    # ------------------------------------------------------------------ expressions

    def known_nonnegative(self, e: ast.expr) -> bool:
        v = _int_literal(e)
        if v is not None:
            return 0 <= v < self.n - self.bias
        if isinstance(e, ast.Name):
            return e.id in self.nonneg
        return isinstance(e, ast.Call) and getattr(e.func, "id", None) == "len"

    def biased(self, e: ast.expr, shift: int) -> ast.expr:
        v = _int_literal(e)
        if v is not None:
            return _num((v + shift) % self.n, e)
        return _at(ast.BinOp(e, ast.Add(), _num(shift, e)), e)

    def visit_Compare(self, e: ast.Compare):
        if len(e.ops) == 1 and isinstance(e.ops[0], (ast.Is, ast.IsNot, ast.Eq, ast.NotEq)):
            sides = [e.left, e.comparators[0]]
            for x, other in (sides, sides[::-1]):  # type(x) is int: isinstance, exactly
                if (isinstance(x, ast.Call) and getattr(x.func, "id", None) == "type"
                        and len(x.args) == 1 and isinstance(other, ast.Name)):
                    test = self.visit_Call(_at(ast.Call(ast.Name("isinstance", ast.Load()),
                                                        [x.args[0], other], []), e))
                    if isinstance(e.ops[0], (ast.Is, ast.Eq)):
                        return test
                    return _at(ast.UnaryOp(ast.Not(), test), e)
            for x, other in (sides, sides[::-1]):
                if (isinstance(x, ast.Name) and x.id in self.maybe_none
                        and isinstance(other, ast.Constant) and other.value is None):
                    op = ast.Eq() if isinstance(e.ops[0], (ast.Is, ast.Eq)) else ast.NotEq()
                    flag = ast.Name(self.maybe_none[x.id], ast.Load())
                    return _at(ast.Compare(flag, [op], [_num(0, e)]), e)
        e = self.generic_visit(e)
        if len(e.ops) == 1 and isinstance(e.ops[0], (ast.In, ast.NotIn)):
            biased = self.signed_range(e.comparators[0])
            if biased is not None:  # x in range(a, b): x + B in range(a + B, b + B)
                e.left, e.comparators = self.biased(e.left, self.bias), [biased]
            return e
        ordering = [isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)) for op in e.ops]
        if not any(ordering):
            return e
        operands = [e.left, *e.comparators]
        if not self.signed:
            for op, a, b in zip(e.ops, operands, operands[1:]):
                za, zb = _int_literal(a) == 0, _int_literal(b) == 0
                always = (isinstance(op, ast.GtE) and zb) or (isinstance(op, ast.LtE) and za)
                never = (isinstance(op, ast.Lt) and zb) or (isinstance(op, ast.Gt) and za)
                if always or never:
                    self.warn(e, f"'{ast.get_source_segment(self.source, e) or 'this'}' "
                                 f"{'always' if always else 'never'} holds on the unsigned "
                                 "machine (values are 0..n-1; use --signed)")
                for x in (a, b):
                    v = _int_literal(x)
                    if v is not None and v < 0:
                        self.warn(x, f"{v} is n{v} on the unsigned machine, so this comparison "
                                     "differs from Python's (use --signed)")
            return e
        if all(self.known_nonnegative(x) for x in operands) or any(
                _listish(x, self.listy, self.list_fns) for x in operands):
            return e
        if len(e.ops) == 1 and 0 in (_int_literal(e.left), _int_literal(e.comparators[0])):
            return self.sign_test(e)
        e.left = self.biased(e.left, self.bias)
        e.comparators = [self.biased(x, self.bias) for x in e.comparators]
        return e

    def sign_test(self, e: ast.Compare) -> ast.expr:
        """A signed comparison with 0 as one unsigned comparison with P (the first value that
        reads negative): ``x < 0`` is ``x >= P``, ``x >= 0`` is ``x < P``, ``x > 0`` is
        ``x - 1 < P - 1`` (0 wraps to n - 1), ``x <= 0`` is ``x - 1 >= P - 1``."""
        op = e.ops[0]
        x = e.left if _int_literal(e.comparators[0]) == 0 else e.comparators[0]
        if x is not e.left:  # 0 < x is x > 0
            op = {ast.Lt: ast.Gt, ast.LtE: ast.GtE, ast.Gt: ast.Lt, ast.GtE: ast.LtE}[type(op)]()
        p = self.n - self.bias
        if isinstance(op, (ast.Lt, ast.GtE)):
            new, bound = (ast.GtE() if isinstance(op, ast.Lt) else ast.Lt()), p
        else:
            x = _at(ast.BinOp(x, ast.Sub(), _num(1, e)), e)
            new, bound = (ast.Lt() if isinstance(op, ast.Gt) else ast.GtE()), p - 1
        return _at(ast.Compare(x, [new], [_num(bound - self.n, e)]), e)

    def infinity(self, e: ast.expr) -> int | None:
        """+1 / -1 for ``float('inf')``, ``float('-inf')``, ``math.inf``, ``-math.inf``."""
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, (ast.USub, ast.UAdd)):
            inner = self.infinity(e.operand)
            return inner if inner is None or isinstance(e.op, ast.UAdd) else -inner
        if _is_math(e, "inf") or (isinstance(e, ast.Attribute) and e.attr == "maxsize"
                                  and getattr(e.value, "id", None) == "sys"):
            return 1
        if (isinstance(e, ast.Call) and getattr(e.func, "id", None) == "float" and len(e.args) == 1
                and isinstance(e.args[0], ast.Constant) and isinstance(e.args[0].value, str)):
            text = e.args[0].value.strip().lower()
            return {"inf": 1, "+inf": 1, "infinity": 1, "-inf": -1, "-infinity": -1}.get(text)
        return None

    def visit_UnaryOp(self, e: ast.UnaryOp):
        inf = self.infinity(e)
        if inf is not None:  # the largest (smallest) value stands for infinity
            return _num((self.n - self.bias - 1 if self.signed else self.n - 1) if inf > 0
                        else (-self.bias if self.signed else 0), e)
        e = self.generic_visit(e)
        if isinstance(e.op, ast.UAdd):
            return e.operand
        if isinstance(e.op, ast.Invert):  # ~x = -1 - x
            return self.visit_BinOp(_at(ast.BinOp(_num(-1, e), ast.Sub(), e.operand), e))
        if (self.signed and isinstance(e.op, ast.USub) and _int_literal(e) is None
                and not self.prelude_mode):
            return self.helper("_nc_sneg", [e.operand], e)
        return e

    def visit_BinOp(self, e: ast.BinOp):
        e = self.generic_visit(e)
        op = e.op
        a, b = _int_literal(e.left), _int_literal(e.right)
        if isinstance(op, ast.Pow):
            return self.power(e)
        if isinstance(op, ast.LShift):
            if b is not None and b >= 0:
                return _at(ast.BinOp(e.left, ast.Mult(), _num(pow(2, b, self.n), e)), e)
            return _at(ast.BinOp(e.left, ast.Mult(), self.helper("_nc_pow", [_num(2, e),
                                                                               e.right], e)), e)
        if isinstance(op, ast.RShift):
            if b is not None and b >= 0 and 2 ** b < self.n - self.bias and not self.signed:
                return _at(ast.BinOp(e.left, ast.FloorDiv(), _num(2 ** b, e)), e)
            return self.helper("_nc_sshr" if self.signed else "_nc_shr", [e.left, e.right], e)
        if self.signed and isinstance(op, (ast.Add, ast.Sub, ast.Mult)):
            return self.checked(e)
        if self.signed and isinstance(op, (ast.FloorDiv, ast.Mod)):
            if a is not None and b is not None and b != 0:
                v = a // b if isinstance(op, ast.FloorDiv) else a % b
                return _num(v, e)
            if (isinstance(op, ast.Mod) and b is not None and b > 0 and self.n % b == 0):
                return e  # b divides n: v mod b is the same for v and its signed reading
            if b is not None and b > 0 and self.known_nonnegative(e.left):
                return e
            name = "_nc_sfloordiv" if isinstance(op, ast.FloorDiv) else "_nc_smod"
            return self.helper(name, [e.left, e.right], e)
        return e

    def division(self, div: ast.BinOp, how: str, at: ast.AST) -> ast.expr:
        """``int(a / b)`` (toward zero), ``math.floor(a / b)``, ``math.ceil(a / b)`` without
        a float: floor division, with the sign fix-ups of signed values."""
        a, b = self.visit(div.left), self.visit(div.right)
        if how == "ceil" and self.signed:  # ceil(a / b) = -((-a) // b)
            neg = self.visit_UnaryOp(_at(ast.UnaryOp(ast.USub(), a), at))
            inner = self.visit_BinOp(_at(ast.BinOp(neg, ast.FloorDiv(), b), at))
            return self.visit_UnaryOp(_at(ast.UnaryOp(ast.USub(), inner), at))
        if how == "ceil":  # a // b + (a % b != 0): no value leaves 0..n-1
            if not (_pure(a) and _pure(b)):
                self.error(at, "math.ceil(a / b) of expressions with calls is not supported "
                               "(assign them to names first)")
            q = _at(ast.BinOp(a, ast.FloorDiv(), b), at)
            r = _at(ast.BinOp(copy.deepcopy(a), ast.Mod(), copy.deepcopy(b)), at)
            up = _at(ast.Compare(r, [ast.NotEq()], [_num(0, at)]), at)
            return _at(ast.BinOp(q, ast.Add(), up), at)
        if self.signed and how == "trunc":
            return self.helper("_nc_struncdiv", [a, b], at)
        return self.visit_BinOp(_at(ast.BinOp(a, ast.FloorDiv(), b), at)) if self.signed else \
            _at(ast.BinOp(a, ast.FloorDiv(), b), at)

    def checked(self, e: ast.BinOp) -> ast.expr:
        """Signed ``+ - *`` with the overflow check (a helper call) where it can overflow."""
        a, b = _int_literal(e.left), _int_literal(e.right)
        lo, hi = -self.bias, self.n - self.bias - 1
        if a is not None and b is not None:
            v = {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}[type(e.op)]
            if lo <= v <= hi:
                return _num(v, e)
        if _listish(e.left, self.listy, self.list_fns) or _listish(e.right, self.listy,
                                                                     self.list_fns):
            return e  # lists: concatenation or repetition
        nonneg = self.known_nonnegative(e.left), self.known_nonnegative(e.right)
        if isinstance(e.op, ast.Sub) and all(nonneg):
            return e  # the difference of two values in 0..hi stays in range
        if isinstance(e.op, ast.Add) and (nonneg[0] and b == 1 and isinstance(e.left, ast.Name)):
            return e  # a counting-up loop variable is below its (in-range) stop
        if (a is None) != (b is None) and (b is not None or not isinstance(e.op, ast.Sub)):
            return self.checked_by_literal(e, a, b)  # (two literals out of range: the helper)
        name = {ast.Add: "_nc_sadd", ast.Sub: "_nc_ssub", ast.Mult: "_nc_smul"}[type(e.op)]
        return self.helper(name, [e.left, e.right], e)

    def checked_by_literal(self, e: ast.BinOp, a: int | None, b: int | None) -> ast.expr:
        """``x + c``, ``x - c``, ``x * c`` (``c`` a literal): in range exactly when ``x`` lies
        in an interval known now, so the lowering checks ``x`` inline (``_nc_overflow`` on
        the node: the interval of signed readings) instead of calling a helper."""
        lo, hi = -self.bias, self.n - self.bias - 1
        x, c = (e.left, b) if b is not None else (e.right, a)
        if isinstance(e.op, ast.Add):
            first, last = max(lo, lo - c), min(hi, hi - c)
        elif isinstance(e.op, ast.Sub):
            first, last = max(lo, lo + c), min(hi, hi + c)
        elif c == 0:
            first, last = lo, hi
        else:  # x * c in lo..hi: x between lo / c and hi / c (rounded inwards)
            ends = sorted((lo, hi), reverse=c < 0)
            first, last = max(lo, -(-ends[0] // c)), min(hi, ends[1] // c)
        out = _at(ast.BinOp(x, e.op, _num(c, e)), e)
        if (first, last) != (lo, hi):
            out._nc_overflow = (first, last)
        return out

    def power(self, e: ast.BinOp) -> ast.expr:
        k = _int_literal(e.right)
        if k is not None and k < 0:
            self.error(e, "'**' with a negative exponent gives a float, which is not supported")
            return e.left
        if k == 0:
            return _num(1, e)
        if k is not None and k <= 4 and (_pure(e.left) and isinstance(e.left, (ast.Name,
                                                                                 ast.Constant))):
            out = e.left
            for _ in range(k - 1):
                out = _at(ast.BinOp(out, ast.Mult(), copy.deepcopy(e.left)), e)
            return out
        return self.helper("_nc_pow", [e.left, e.right], e)

    def visit_Subscript(self, e: ast.Subscript):
        e = self.generic_visit(e)
        if isinstance(e.slice, ast.Slice):
            sl = e.slice
            for part in ("lower", "upper"):
                bound = getattr(sl, part)
                v = None if bound is None else _int_literal(bound)
                if bound is None or (v is not None and v >= 0) or self.known_nonnegative(bound):
                    continue
                if not self.signed:
                    if v is not None:
                        self.warn(bound, f"slice bound {v} is n{v} on the unsigned machine "
                                         "(use --signed, or len(x) - k)")
                    continue
                if _pure(e.value):  # Python's meaning: from the end, clamped at 0 (at -1,
                    # before the first element, for a negative step)
                    length = _call("len", [copy.deepcopy(e.value)], bound)
                    down = sl.step is not None and (_int_literal(sl.step) or 0) < 0
                    how = "_nc_slice_down" if down else "_nc_slice_bound"
                    fixed = self.helper(how, [bound, length], bound)
                    if sl.step is not None and _int_literal(sl.step) is None and _pure(sl.step):
                        # a run-time step: its sign picks the clamping
                        up = self.sign_test(_at(ast.Compare(copy.deepcopy(sl.step), [ast.GtE()],
                                                            [_num(0, bound)]), bound))
                        down_bound = self.helper("_nc_slice_down", [copy.deepcopy(bound),
                                                                    copy.deepcopy(length)], bound)
                        fixed = _at(ast.IfExp(up, fixed, down_bound), bound)
                    setattr(sl, part, fixed)
            return e
        v = _int_literal(e.slice)
        if v is not None and v < 0:
            if not self.signed:
                self.warn(e.slice, f"index {v} is n{v} on the unsigned machine, so it is out of "
                                   "range (use --signed, or len(x) - k)")
                return e
            if _pure(e.value):
                length = _call("len", [copy.deepcopy(e.value)], e)
                e.slice = _at(ast.BinOp(length, ast.Sub(), _num(-v, e)), e.slice)
            return e
        if self.signed and v is None and not self.known_nonnegative(e.slice) and _pure(e.value):
            length = _call("len", [copy.deepcopy(e.value)], e)
            e.slice = self.helper("_nc_index", [e.slice, length], e.slice)
        return e

    def visit_Attribute(self, e: ast.Attribute):
        if self.infinity(e) is not None:
            return self.visit_UnaryOp(_at(ast.UnaryOp(ast.UAdd(), e), e))
        return self.generic_visit(e)

    def visit_Call(self, e: ast.Call):
        div = e.args[0] if len(e.args) == 1 and not e.keywords else None
        if isinstance(div, ast.BinOp) and isinstance(div.op, ast.Div):  # int(a / b) and kin
            how = ("trunc" if getattr(e.func, "id", None) == "int" or _is_math(e.func, "trunc")
                   else "floor" if _is_math(e.func, "floor")
                   else "ceil" if _is_math(e.func, "ceil") else None)
            if how is not None:
                return self.division(div, how, e)
        if self.infinity(e) is not None:
            return self.visit_UnaryOp(_at(ast.UnaryOp(ast.UAdd(), e), e))
        if (getattr(e.func, "id", None) == "int" or _is_math(e.func, "floor")) and len(
                e.args) == 1 and _square_root_of(e.args[0]) is not None:
            root = self.visit(_square_root_of(e.args[0]))  # int(x ** 0.5): no float made
            return self.helper("_nc_isqrt", [root], e)
        e = self.generic_visit(e)
        name = e.func.id if isinstance(e.func, ast.Name) else None
        old_args = list(e.args)
        if self.signed and name != "range":  # a signed range as a value: its values listed
            e.args = [self.signed_values(a, name in ("sum", "any", "all", "len"))
                      for a in e.args]
            if name in ("sorted", "min", "max") and len(e.args) == 1 and isinstance(
                    e.args[0], ast.Call) and getattr(e.args[0].func, "id", None) == "range":
                e.args = [_call("list", e.args, e)]  # the signed helpers take a list
            if (name in ("list", "tuple") and len(e.args) == 1 and not e.keywords
                    and isinstance(e.args[0], ast.ListComp) and e.args[0] is not old_args[0]):
                return e.args[0]  # already a new list
        if _is_math(e.func, "isqrt") and len(e.args) == 1:
            return self.helper("_nc_isqrt", e.args, e)
        if _is_math(e.func, "gcd") and len(e.args) == 2:
            return self.helper("_nc_sgcd" if self.signed else "_nc_gcd", e.args, e)
        if (_is_math(e.func, "floor") or _is_math(e.func, "trunc")) and len(e.args) == 1 \
                and _square_root_of(e.args[0]) is not None:
            return self.helper("_nc_isqrt", [_square_root_of(e.args[0])], e)
        if name in self.sigs:
            return self.call_with_defaults(e, name)
        if (self.signed and isinstance(e.func, ast.Attribute) and e.func.attr in ("pop", "insert")
                and e.args and _pure(e.func.value) and not self.known_nonnegative(e.args[0])
                and len(e.args) == (2 if e.func.attr == "insert" else 1)):
            # Python's positions: pop counts a negative index from the end; insert also
            # clamps it at 0
            length = _call("len", [copy.deepcopy(e.func.value)], e)
            how = "_nc_slice_bound" if e.func.attr == "insert" else "_nc_index"
            e.args[0] = self.helper(how, [e.args[0], length], e.args[0])
            return e
        if name is None or any(isinstance(a, ast.Starred) for a in e.args) or name in self.sigs:
            return e
        args = e.args
        if name == "isinstance" and len(args) == 2 and not e.keywords:
            types = _type_names(args[1])
            if types is not None:
                placeholder = _at(ast.Constant(True), e)
                self.out.isinstances.append((placeholder, self.fn, args[0], types))
                return placeholder
        if name == "int" and len(args) == 1 and not e.keywords:
            root = _square_root_of(args[0])
            return self.helper("_nc_isqrt", [root], e) if root is not None else args[0]
        if name == "bool" and len(args) == 1 and not e.keywords:
            return _at(ast.UnaryOp(ast.Not(), _at(ast.UnaryOp(ast.Not(), args[0]), e)), e)
        if name == "abs" and len(args) == 1 and not e.keywords:
            if self.signed:
                return self.helper("_nc_abs", args, e)
            d = args[0]
            if isinstance(d, ast.BinOp) and isinstance(d.op, ast.Sub) and _pure(d):
                # |a - b| of values 0..n-1 is max - min (a - b itself would wrap around)
                big = _call("max", [copy.deepcopy(d.left), copy.deepcopy(d.right)], e)
                return _at(ast.BinOp(big, ast.Sub(), _call("min", [d.left, d.right], e)), e)
            return d
        if name == "pow" and len(args) in (2, 3) and not e.keywords:
            if len(args) == 2:
                return self.power(_at(ast.BinOp(args[0], ast.Pow(), args[1]), e))
            k = _int_literal(args[1])
            if k is not None and k < 0:
                self.error(e, "pow() with a negative exponent (a modular inverse) is not "
                              "supported")
            return self.helper("_nc_spowmod" if self.signed else "_nc_powmod", args, e)
        if name == "divmod" and len(args) == 2 and not e.keywords:
            if not (_pure(args[0]) and _pure(args[1])):
                self.error(e, "divmod() of an expression with calls is not supported (assign "
                              "the operands to names first)")
            q = self.visit_BinOp(_at(ast.BinOp(args[0], ast.FloorDiv(), args[1]), e))
            r = self.visit_BinOp(_at(ast.BinOp(copy.deepcopy(args[0]), ast.Mod(),
                                               copy.deepcopy(args[1])), e))
            return _at(ast.Tuple([q, r], ast.Load()), e)
        if name in ("min", "max") and not e.keywords:
            if len(args) > 2:
                out = args[0]
                for x in args[1:]:
                    out = self.visit_Call(_call(name, [out, x], e))
                return out
            if self.signed and len(args) == 2:
                return self.helper(f"_nc_s{name}", args, e)
            if self.signed and len(args) == 1:
                return self.helper(f"_nc_s{name}list", args, e)
        if self.signed and name == "sorted" and len(args) == 1 and _reverse_only(e.keywords):
            out = self.helper("_nc_ssorted", args, e)
            if e.keywords and _int_literal(e.keywords[0].value):  # reverse=True
                out = _at(ast.Subscript(out, _at(ast.Slice(None, None, _num(-1, e)), e),
                                        ast.Load()), e)
            return out
        if (name in ("min", "max") and len(args) == 1 and len(e.keywords) == 1
                and e.keywords[0].arg == "default" and _pure(args[0])):
            default = e.keywords[0].value  # min(xs, default=d) is d for an empty list
            e.keywords = []
            inner = self.helper(f"_nc_s{name}list", args, e) if self.signed else e
            return _at(ast.IfExp(copy.deepcopy(args[0]), inner, default), e)
        return e

    def call_with_defaults(self, e: ast.Call, name: str) -> ast.Call:
        params, defaults = self.sigs[name]
        nones = self.nones.get(name, {})
        flags = set(nones.values())
        if not nones and not e.keywords and (len(e.args) >= len(params) or any(
                p not in defaults for p in params[len(e.args):])):
            return e  # nothing to fill in (or too few: the checker reports the arity)
        if nones and not e.keywords and any(p not in defaults for p in params[len(e.args):]):
            return e
        if any(isinstance(a, ast.Starred) for a in e.args) or any(
                k.arg is None for k in e.keywords):
            self.error(e, "'*' and '**' arguments are not supported")
            return e
        slots: list[ast.expr | None] = list(e.args[: len(params)]) + [None] * max(
            0, len(params) - len(e.args))
        bad = False
        for k in e.keywords:
            if k.arg not in params or k.arg in flags:
                self.error(k, f"'{name}' has no parameter '{k.arg}'")
                bad = True
                continue
            i = params.index(k.arg)
            if slots[i] is not None:
                self.error(k, f"'{name}' got several values for parameter '{k.arg}'")
                continue
            slots[i] = k.value
        missing = [p for p, v in zip(params, slots) if v is None and p not in defaults]
        if missing and not bad:
            self.error(e, f"'{name}' is missing argument{'s' if len(missing) > 1 else ''} "
                          + ", ".join(f"'{p}'" for p in missing))
        for p, flag in nones.items():
            i = params.index(p)
            given = slots[i] is not None and not (isinstance(slots[i], ast.Constant)
                                                  and slots[i].value is None)
            slots[params.index(flag)] = _num(int(given), e)
            if not given:
                slots[i] = None
        e.args = [v if v is not None else _default(defaults.get(p, 0), e)
                  for p, v in zip(params, slots)] + list(e.args[len(params):])
        e.keywords = []
        return e


class _Rename(ast.NodeTransformer):
    """Replace the reads of ``name`` by ``make(at)`` (not inside a comprehension that binds
    ``name`` again)."""

    def __init__(self, name: str, make):
        self.name, self.make = name, make

    def visit_Name(self, e: ast.Name):
        if e.id == self.name and isinstance(e.ctx, ast.Load):
            return self.make(e)
        return e

    def visit_ListComp(self, e):
        if any(isinstance(x, ast.Name) and x.id == self.name
               for g in e.generators for x in ast.walk(g.target)):
            return e
        return self.generic_visit(e)

    visit_GeneratorExp = visit_SetComp = visit_DictComp = visit_ListComp


def _message_names(fn: ast.FunctionDef) -> dict[str, ast.expr]:
    """Names assigned one string (or f-string) once and read only as raise/assert messages."""
    values: dict[str, list] = {}
    for x in ast.walk(fn):
        for t in (x.targets if isinstance(x, ast.Assign) else [x.target]
                  if isinstance(x, (ast.AnnAssign, ast.AugAssign, ast.For)) else []):
            for name in ast.walk(t):
                if isinstance(name, ast.Name):
                    values.setdefault(name.id, []).append(
                        x.value if isinstance(x, ast.Assign) and len(x.targets) == 1 else None)
    strings = {k: v[0] for k, v in values.items() if len(v) == 1 and (
        isinstance(v[0], ast.JoinedStr)
        or (isinstance(v[0], ast.Constant) and isinstance(v[0].value, str)))}
    allowed: set[int] = set()
    for x in ast.walk(fn):
        if isinstance(x, ast.Raise) and isinstance(x.exc, ast.Call):
            allowed |= {id(a) for a in x.exc.args}
        if isinstance(x, ast.Assert) and x.msg is not None:
            allowed.add(id(x.msg))
    used = set()
    for x in ast.walk(fn):
        if isinstance(x, ast.Name) and isinstance(x.ctx, ast.Load) and x.id in strings:
            if id(x) not in allowed:
                strings.pop(x.id)
            used.add(x.id)
    return {k: v for k, v in strings.items() if k in used}


def _hoist_nested_functions(tree: ast.Module) -> None:
    """A function defined inside another becomes a top-level function ``outer_inner``; the
    outer function's names it reads become extra parameters, passed at every call (at the time
    of the call, as a closure would read them)."""
    taken = {s.name for s in tree.body if isinstance(s, ast.FunctionDef)}
    todo = [s for s in tree.body if isinstance(s, ast.FunctionDef)]
    while todo:
        outer = todo.pop()
        inners = [x for x in ast.walk(outer) if isinstance(x, ast.FunctionDef) and x is not outer
                  and not x.decorator_list]
        inners = [x for x in inners if not any(x in ast.walk(y) for y in inners if y is not x)]
        if not inners:
            continue
        outer_names = {a.arg for a in [*outer.args.posonlyargs, *outer.args.args,
                                       *outer.args.kwonlyargs]}
        outer_names |= {x.id for x in ast.walk(outer) if isinstance(x, ast.Name)
                        and isinstance(x.ctx, ast.Store)}
        renames: dict[str, tuple[str, list[str]]] = {}
        for inner in inners:
            own = {a.arg for a in [*inner.args.posonlyargs, *inner.args.args,
                                   *inner.args.kwonlyargs]}
            own |= {x.id for x in ast.walk(inner) if isinstance(x, ast.Name)
                    and isinstance(x.ctx, ast.Store)}
            free = sorted({x.id for x in ast.walk(inner) if isinstance(x, ast.Name)
                           and isinstance(x.ctx, ast.Load) and x.id not in own
                           and x.id in outer_names} - {i.name for i in inners})
            name = f"{outer.name}_{inner.name}"
            while name in taken:
                name += "_"
            taken.add(name)
            renames[inner.name] = (name, free)
        for inner in inners:
            name, free = renames[inner.name]
            inner.args.args += [ast.copy_location(ast.arg(v), inner) for v in free]
        for node in [outer, *inners]:
            for x in ast.walk(node):
                for field_name, value in ast.iter_fields(x):
                    if isinstance(value, list):
                        setattr(x, field_name, [v for v in value if v not in inners] or (
                            [ast.copy_location(ast.Pass(), x)] if value and all(
                                v in inners for v in value) else value))
                if (isinstance(x, ast.Call) and isinstance(x.func, ast.Name)
                        and x.func.id in renames):
                    name, free = renames[x.func.id]
                    x.func.id = name
                    x.args += [ast.copy_location(ast.Name(v, ast.Load()), x) for v in free]
        for inner in inners:
            inner.name = renames[inner.name][0]
            tree.body.append(inner)
            todo.append(inner)


def _list_annotation(a: ast.expr | None) -> bool:
    """An annotation that says list (``list[int]``, ``List[int]``, ``Sequence``, a tuple...)."""
    if a is None:
        return False
    text = ast.unparse(a)
    return any(w in text for w in ("list", "List", "Sequence", "tuple", "Tuple", "Iterable"))


def _listish(e: ast.expr, names: set[str], fns: set[str]) -> bool:
    """Whether ``e`` may be a list (a guess from its shape, for the signed rewrites)."""
    if isinstance(e, (ast.List, ast.ListComp, ast.Tuple)):
        return True
    if isinstance(e, ast.Subscript):
        return isinstance(e.slice, ast.Slice)
    if isinstance(e, ast.Name):
        return e.id in names
    if isinstance(e, ast.BinOp) and isinstance(e.op, (ast.Add, ast.Mult)):
        return _listish(e.left, names, fns) or _listish(e.right, names, fns)
    if isinstance(e, ast.IfExp):
        return _listish(e.body, names, fns) or _listish(e.orelse, names, fns)
    if isinstance(e, ast.Call) and isinstance(e.func, ast.Name):
        return e.func.id in fns
    return False


def _list_names(fn: ast.FunctionDef, known: set[str], fns: set[str]) -> set[str]:
    """Names of ``fn`` used as lists: subscripted, measured, iterated, appended to, or
    assigned something list-shaped."""
    names = set(known)
    for x in ast.walk(fn):
        if isinstance(x, (ast.Subscript, ast.Attribute)) and isinstance(x.value, ast.Name):
            names.add(x.value.id)
        elif isinstance(x, ast.Call) and getattr(x.func, "id", None) in (
                "len", "sorted", "sum", "reversed", "list", "enumerate", "zip"):
            names.update(a.id for a in x.args if isinstance(a, ast.Name))
        elif isinstance(x, (ast.For, ast.comprehension)) and isinstance(x.iter, ast.Name):
            names.add(x.iter.id)
    for _ in range(3):
        for x in ast.walk(fn):
            if isinstance(x, ast.Assign) and _listish(x.value, names, fns):
                names.update(t.id for t in x.targets if isinstance(t, ast.Name))
            elif isinstance(x, ast.AnnAssign) and isinstance(x.target, ast.Name) and (
                    _list_annotation(x.annotation)
                    or (x.value is not None and _listish(x.value, names, fns))):
                names.add(x.target.id)
    return names


def _reverse_only(keywords: list[ast.keyword]) -> bool:
    return not keywords or (len(keywords) == 1 and keywords[0].arg == "reverse"
                            and _int_literal(keywords[0].value) is not None)


def _default(v, at: ast.AST) -> ast.expr:
    return _at(ast.List([], ast.Load()), at) if isinstance(v, list) else _num(v, at)


def _looks_like_list(fn: ast.FunctionDef, name: str) -> bool:
    """Whether ``name`` (a parameter defaulting to None) is used as a list in ``fn``."""
    for x in ast.walk(fn):
        if isinstance(x, ast.Subscript) and getattr(x.value, "id", None) == name:
            return True
        if isinstance(x, ast.Attribute) and getattr(x.value, "id", None) == name:
            return True
        if isinstance(x, ast.Call) and getattr(x.func, "id", None) in (
                "len", "sum", "sorted", "list") and any(getattr(a, "id", None) == name
                                                        for a in x.args):
            return True
        if isinstance(x, ast.For) and getattr(x.iter, "id", None) == name:
            return True
        if (isinstance(x, ast.Assign) and any(getattr(t, "id", None) == name for t in x.targets)
                and isinstance(x.value, (ast.List, ast.ListComp))):
            return True
    return False


def _docstring(s: ast.stmt) -> bool:
    return (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
            and isinstance(s.value.value, str))


def desugar(source: str, filename: str = "<input>", n: int = 128, signed: bool = False,
            tree: ast.Module | None = None) -> Desugared:
    """Parse (unless ``tree``) and rewrite ``source`` into the core subset (see the module
    docstring). Errors are collected in ``.errors`` (the caller merges them with the checker's);
    a syntax error raises :class:`CompileError` at once."""
    diags: list[Diagnostic] = []
    if tree is None:
        tree, diags = parse(source, filename)
    out = Desugared(tree, errors=diags)
    front = _Front(source, n, signed, out)
    front.module(tree)
    if signed:  # the lowering checks sum() and run-time range steps with it
        at = ast.Pass(lineno=0, col_offset=0, end_lineno=0, end_col_offset=0)
        out.overflow = front.overflow(at).exc.value
    users = {s.name for s in tree.body if isinstance(s, ast.FunctionDef)}
    if front.helpers:
        at = next((s for s in tree.body if isinstance(s, ast.FunctionDef)), tree)
        front.prelude_mode = True
        added = []
        for fn in prelude_functions(front.helpers, n):
            for node in ast.walk(fn):  # only `raise` is desugared in the helpers
                for name, value in ast.iter_fields(node):
                    if isinstance(value, list):
                        setattr(node, name, [front.overflow(v) if isinstance(v, ast.Raise)
                                             else v for v in value])
            if fn.name in users:
                front.error(at, f"the name '{fn.name}' is reserved for the compiler's helpers")
                continue
            for node in ast.walk(fn):  # line 0: no place in the user's file
                if isinstance(node, (ast.expr, ast.stmt)):
                    node.lineno = node.end_lineno = 0
                    node.col_offset = node.end_col_offset = 0
            out.prelude.append(fn.name)
            added.append(fn)
        # the helpers first: their kinds are known before the callers' are inferred
        tree.body = added + tree.body
    return out


def resolve(d: Desugared, functions: dict) -> None:
    """Decide each ``isinstance`` placeholder from the checked kind of its operand."""
    for placeholder, fn, operand, types in d.isinstances:
        info = functions.get(fn)
        kind = "int"
        if isinstance(operand, ast.Name) and info is not None:
            kind = info.kinds.get(operand.id, "int")
        elif isinstance(operand, (ast.List, ast.ListComp)):
            kind = "list"
        is_list = kind != "int"
        placeholder.value = ("list" in types) if is_list else ("int" in types)


def complete_arguments(params: list[str], defaults: dict, flags: dict[str, str],
                       args: list) -> list:
    """The arguments of every parameter from those a caller gives (``--args``, a doctest):
    defaults fill the missing ones, and a parameter defaulting to None gets its hidden
    "given" flag (``flags``: flag → parameter). Unchanged when they cannot match."""
    visible = [p for p in params if p not in flags]
    given = list(args)
    if len(given) > len(visible):
        return given
    out = {}
    for i, p in enumerate(visible):
        if i < len(given) and not (given[i] is None and p in flags.values()):
            out[p] = given[i]
        elif p in defaults:
            out[p] = list(defaults[p]) if isinstance(defaults[p], list) else defaults[p]
        else:
            return given
    for flag, p in flags.items():
        i = visible.index(p)
        out[flag] = int(i < len(given) and given[i] is not None)
    return [out[p] for p in params]


def exception_of(code: int) -> str | None:
    """The Python exception a built-in run-time error code stands for."""
    return _EXCEPTION_OF_ERROR.get(code)
