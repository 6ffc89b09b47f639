"""Pass 1 of the Python subset (docs/LANGUAGE.md §3): check the whole file, infer kinds, collect every error.

What this pass adds (read by :mod:`.lower`): for every function its parameters, its locals, the
*kind* of each name (``"int"`` or ``"list"``) and of its return value, and the functions it
calls. Nothing is lowered here.

Two sweeps, both collecting :class:`~neuralc.lang.errors.Diagnostic` s instead of stopping:

1. **shape** — every node is on the allow-list of the subset; anything else is reported once,
   at its own line and column, with a reason (its children are not visited again);
2. **kinds** — a fixpoint over the file infers int/list for every name, parameter and return
   value (from assignments, from uses such as ``x[i]``/``len(x)``/``for v in x``, and from the
   arguments of calls), then reports mixes (a name holding both), wrong operand kinds, unknown
   names and functions, and wrong arity.

All diagnostics of the file are raised together as one :class:`CompileError`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..errors import CompileError, Diagnostic

__all__ = ["BUILTINS", "INT", "ITERABLE_BUILTINS", "LIST", "METHODS", "CheckedModule",
           "FunctionInfo", "check", "elem_kind", "is_list", "list_of", "range_step",
           "tuple_parts"]

INT, LIST = "int", "list"
BUILTINS: dict[str, int] = {}  # builtins of integers: name → arity
# builtins of a list, a range or a generator expression: name → (fewest, most) arguments
ITERABLE_BUILTINS = {"len": (1, 1), "sum": (1, 2), "min": (1, 99), "max": (1, 99),
                     "any": (1, 1), "all": (1, 1), "sorted": (1, 1), "list": (0, 1),
                     "reversed": (1, 1), "tuple": (0, 1)}
METHODS = {"append": (1, 1), "pop": (0, 1), "insert": (2, 2), "index": (1, 1),
           "count": (1, 1), "extend": (1, 1), "copy": (0, 0), "sort": (0, 0),
           "reverse": (0, 0), "remove": (1, 1), "clear": (0, 0)}  # list methods: arity

_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.BitAnd, ast.BitOr, ast.BitXor)
_CMPOPS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_OP_NAMES = {
    ast.Div: "'/' (true division; use '//')", ast.Pow: "'**'", ast.LShift: "'<<'",
    ast.RShift: "'>>'", ast.MatMult: "'@'", ast.UAdd: "unary '+'", ast.Invert: "'~'",
    ast.Is: "'is'", ast.IsNot: "'is not'", ast.In: "'in'", ast.NotIn: "'not in'",
}
_STMT_NAMES = {
    ast.ClassDef: "class definitions", ast.Import: "imports", ast.ImportFrom: "imports",
    ast.Global: "'global'", ast.Nonlocal: "'nonlocal'", ast.Delete: "'del'",
    ast.Assert: "'assert'", ast.Raise: "'raise'", ast.Try: "'try'", ast.With: "'with'",
    ast.AsyncFunctionDef: "async functions", ast.AsyncFor: "async loops",
    ast.AsyncWith: "'async with'", ast.AnnAssign: "annotated assignments",
}
_EXPR_NAMES = {
    ast.Lambda: "lambdas", ast.IfExp: "conditional expressions ('x if c else y')",
    ast.Dict: "dicts", ast.Set: "sets", ast.Tuple: "tuples", ast.ListComp: "list comprehensions",
    ast.SetComp: "set comprehensions", ast.DictComp: "dict comprehensions",
    ast.GeneratorExp: "generator expressions", ast.Await: "'await'", ast.Yield: "'yield'",
    ast.YieldFrom: "'yield from'", ast.JoinedStr: "f-strings", ast.FormattedValue: "f-strings",
    ast.Starred: "starred expressions", ast.NamedExpr: "assignment expressions (':=')",
    ast.Slice: "slicing",
}
for _name in ("TryStar", "Match", "TypeAlias"):
    if hasattr(ast, _name):
        _STMT_NAMES[getattr(ast, _name)] = {"TryStar": "'try'", "Match": "'match'",
                                            "TypeAlias": "'type' aliases"}[_name]


@dataclass
class FunctionInfo:
    """A checked function: what :mod:`.lower` needs to compile it."""

    name: str
    node: ast.FunctionDef
    params: list[str]
    kinds: dict[str, str] = field(default_factory=dict)  # every local name → its kind
    types: dict[ast.AST, str] = field(default_factory=dict)  # every expression → its kind
    returns: str = INT
    calls: set[str] = field(default_factory=set)  # functions of the file it calls


@dataclass
class CheckedModule:
    source: str
    filename: str
    tree: ast.Module
    functions: dict[str, FunctionInfo]  # in file order
    overflow: int | None = None  # signed values: the raise code of "integer overflow"

    def reachable(self, entry: str) -> list[str]:
        """``entry`` and every function it can reach, entry first, then in file order."""
        seen, todo = {entry}, [entry]
        while todo:
            for g in self.functions[todo.pop()].calls:
                if g not in seen:
                    seen.add(g)
                    todo.append(g)
        return [entry] + [f for f in self.functions if f in seen and f != entry]


def _col(source_lines: list[str], node: ast.AST) -> int:
    """1-based character column (``ast`` counts UTF-8 bytes)."""
    line = source_lines[node.lineno - 1] if 0 < node.lineno <= len(source_lines) else ""
    return len(line.encode("utf-8")[: node.col_offset].decode("utf-8", "replace")) + 1


def range_step(node: ast.expr | None) -> int | None:
    """The literal step of ``range(a, b, step)`` (``+k``, ``-k``), or None when not a literal."""
    if node is None:
        return 1
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant) and type(node.operand.value) is int):
        return -node.operand.value
    return None


def repeat_count(node: ast.BinOp) -> tuple[ast.expr, int | None] | None:
    """For ``[e] * k`` or ``k * [e]``: ``(e, k)`` (``k`` None when not a literal), else None."""
    if not isinstance(node.op, ast.Mult):
        return None
    for lst, k in ((node.left, node.right), (node.right, node.left)):
        if isinstance(lst, ast.List) and len(lst.elts) == 1:
            ok = isinstance(k, ast.Constant) and type(k.value) is int and k.value >= 0
            return lst.elts[0], (k.value if ok else None)
    return None


class _Checker:
    def __init__(self, source: str, filename: str):
        self.source = source
        self.filename = filename
        self.lines = source.splitlines()
        self.diags: list[Diagnostic] = []
        self._reported: set[tuple[int, int, str]] = set()

    def error(self, node: ast.AST, message: str) -> None:
        key = (node.lineno, _col(self.lines, node), message)
        if key not in self._reported:
            self._reported.add(key)
            self.diags.append(Diagnostic(key[0], key[1], message))

    # ---------------------------------------------------------------- sweep 1: shape

    def module(self, tree: ast.Module) -> list[ast.FunctionDef]:
        defs: list[ast.FunctionDef] = []
        seen: dict[str, ast.FunctionDef] = {}
        # the module docstring: the first statement of the user's file (helpers the front end
        # adds have no place in the file, line 0, and may stand before it)
        first = next((s for s in tree.body if getattr(s, "lineno", 0) > 0), None)
        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef):
                if stmt.name in seen:
                    self.error(stmt, f"function '{stmt.name}' is defined twice "
                                     f"(first at line {seen[stmt.name].lineno})")
                    continue
                if stmt.name in {*BUILTINS, *ITERABLE_BUILTINS, *_ITERS}:
                    self.error(stmt, f"a function may not be named '{stmt.name}' "
                                     "(a built-in of the subset)")
                seen[stmt.name] = stmt
                defs.append(stmt)
                self.function_shape(stmt)
            elif stmt is first and _is_docstring(stmt):
                continue
            else:
                self.error(stmt, "only function definitions are allowed at the top level "
                                 f"(found {_describe_stmt(stmt)})")
        return defs

    def function_shape(self, fn: ast.FunctionDef) -> None:
        a = fn.args
        for d in fn.decorator_list:
            self.error(d, "decorators are not supported")
        if a.vararg:
            self.error(a.vararg, "'*args' parameters are not supported")
        if a.kwarg:
            self.error(a.kwarg, "'**kwargs' parameters are not supported")
        for p in a.kwonlyargs:
            self.error(p, "keyword-only parameters are not supported")
        for d in [*a.defaults, *[d for d in a.kw_defaults if d is not None]]:
            self.error(d, "default parameter values are not supported")
        if getattr(fn, "type_params", None):
            self.error(fn, "type parameters are not supported")
        names = [p.arg for p in [*a.posonlyargs, *a.args]]
        for p in [*a.posonlyargs, *a.args]:
            if names.count(p.arg) > 1:
                self.error(p, f"duplicate parameter '{p.arg}'")
        self.block(fn.body, loop=False, allow_docstring=True)

    def block(self, body: list[ast.stmt], loop: bool, allow_docstring: bool = False) -> None:
        for i, stmt in enumerate(body):
            if allow_docstring and i == 0 and _is_docstring(stmt):
                continue
            self.stmt(stmt, loop)

    def stmt(self, s: ast.stmt, loop: bool) -> None:
        if isinstance(s, ast.FunctionDef):
            self.error(s, "nested function definitions are not supported")
        elif isinstance(s, ast.Assign):
            for t in s.targets:
                self.target(t)
            self.expr(s.value)
        elif isinstance(s, ast.AugAssign):
            if not isinstance(s.op, _BINOPS):
                self.error(s, f"augmented assignment with {_OP_NAMES.get(type(s.op), 'this operator')}"
                              " is not supported")
            self.target(s.target)
            self.expr(s.value)
        elif isinstance(s, ast.If):
            self.expr(s.test)
            self.block(s.body, loop)
            self.block(s.orelse, loop)
        elif isinstance(s, ast.While):
            self.expr(s.test)
            self.block(s.body, True)
            self.block(s.orelse, loop)
        elif isinstance(s, ast.For):
            self.loop_clause(s.target, s.iter)
            self.block(s.body, True)
            self.block(s.orelse, loop)
        elif isinstance(s, (ast.Break, ast.Continue)):
            if not loop:
                word = "break" if isinstance(s, ast.Break) else "continue"
                self.error(s, f"'{word}' outside a loop")
        elif isinstance(s, ast.Delete) and len(s.targets) == 1 and isinstance(
                s.targets[0], ast.Subscript) and not isinstance(s.targets[0].slice, ast.Slice):
            self.expr(s.targets[0])  # del xs[i]: removes the element
        elif isinstance(s, ast.Pass) or _is_raise_stub(s):
            pass
        elif isinstance(s, ast.Return):
            if s.value is not None:
                self.expr(s.value)
        elif isinstance(s, ast.Expr):
            if isinstance(s.value, ast.Call):
                self.expr(s.value)
            elif _is_docstring(s):
                self.error(s, "strings are not supported (a docstring must be the first "
                              "statement of a function)")
            else:
                self.error(s, "an expression statement must be a function call")
        else:
            self.error(s, _not_supported(_describe_stmt(s)))

    def loop_clause(self, target: ast.expr, it: ast.expr) -> None:
        """``for target in it`` (a loop or a comprehension's clause)."""
        self.loop_target(target)
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id in (
                "range", "enumerate", "zip"):
            self.iterable_call(it)
        else:
            self.expr(it)

    def loop_target(self, t: ast.expr) -> None:
        if isinstance(t, (ast.Tuple, ast.List)):
            for x in t.elts:
                self.loop_target(x)
        elif not isinstance(t, ast.Name):
            self.error(t, "a 'for' loop variable must be a name or a tuple of names")

    def iterable_call(self, call: ast.Call) -> None:
        """``range(...)``, ``enumerate(xs[, start])``, ``zip(xs, ys, ...)``."""
        name = call.func.id
        if name == "range":
            self.range_call(call)
            return
        if name == "enumerate" and len(call.keywords) == 1 and call.keywords[0].arg == "start":
            call.args.append(call.keywords.pop().value)  # enumerate(xs, start=1)
        for k in call.keywords:
            self.error(k if hasattr(k, "lineno") else call, "keyword arguments are not supported")
        lo, hi = {"enumerate": (1, 2), "zip": (1, 9)}[name]
        if not lo <= len(call.args) <= hi:
            self.error(call, f"{name}() takes {lo} to {hi} arguments, got {len(call.args)}")
        for a in call.args:
            self.iterable_arg(a)

    def iterable_arg(self, a: ast.expr) -> None:
        """An argument that is walked: a list, ``range(...)`` or a generator expression."""
        if isinstance(a, ast.Call) and isinstance(a.func, ast.Name) and a.func.id in (
                "range", "enumerate", "zip"):
            self.iterable_call(a)  # list(zip(xs, ys)): the pairs as lists
        elif isinstance(a, ast.GeneratorExp):
            self.comprehension(a)
        elif isinstance(a, ast.Starred):
            self.error(a, "starred arguments are not supported")
        else:
            self.expr(a)

    def comprehension(self, e: ast.ListComp | ast.GeneratorExp) -> None:
        for g in e.generators:
            if g.is_async:
                self.error(e, "async comprehensions are not supported")
            self.loop_clause(g.target, g.iter)
            for c in g.ifs:
                self.expr(c)
        self.expr(e.elt)

    def target(self, t: ast.expr) -> None:
        if isinstance(t, ast.Name):
            return
        if isinstance(t, ast.Subscript):
            if isinstance(t.slice, ast.Slice):
                self.error(t, "assignment to a slice is not supported")
                return
            self.expr(t.value)
            self.expr(t.slice)
            return
        if isinstance(t, (ast.Tuple, ast.List)):
            for x in t.elts:
                self.target(x)
        elif isinstance(t, ast.Attribute):
            self.error(t, f"attribute assignment ('.{t.attr}') is not supported")
        elif isinstance(t, ast.Starred):
            self.error(t, "starred assignment is not supported")
        else:
            self.error(t, "cannot assign to this expression")

    def range_call(self, call: ast.Call) -> None:
        for k in call.keywords:
            self.error(k if hasattr(k, "lineno") else call, "keyword arguments are not supported")
        if not 1 <= len(call.args) <= 3:
            self.error(call, f"range takes 1 to 3 arguments, got {len(call.args)}")
        for a in call.args[:2]:
            self.expr(a)
        if len(call.args) == 3:
            self.expr(call.args[2])

    def expr(self, e: ast.expr) -> None:
        if isinstance(e, ast.Constant):
            v = e.value
            if type(v) is int or type(v) is bool:
                return
            what = {str: "strings", float: "floats", complex: "complex numbers",
                    bytes: "bytes"}.get(type(v))
            if v is None:
                what = "None"
            elif v is Ellipsis:
                what = "'...'"
            self.error(e, _not_supported(what or "this constant"))
        elif isinstance(e, ast.Name):
            return
        elif isinstance(e, ast.UnaryOp):
            if not isinstance(e.op, (ast.USub, ast.Not)):
                self.error(e, _not_supported(_OP_NAMES[type(e.op)]))
                return
            self.expr(e.operand)
        elif isinstance(e, ast.BinOp):
            if not isinstance(e.op, _BINOPS):
                self.error(e, _not_supported(_OP_NAMES[type(e.op)]))
                return
            rep = repeat_count(e)
            if rep is not None:
                self.expr(rep[0])
                self.expr(e.right if isinstance(e.left, ast.List) else e.left)
                return
            self.expr(e.left)
            self.expr(e.right)
        elif isinstance(e, ast.BoolOp):
            for v in e.values:
                self.expr(v)
        elif isinstance(e, ast.Compare):
            for op in e.ops:
                if not isinstance(op, (*_CMPOPS, ast.In, ast.NotIn)):
                    self.error(e, f"{_OP_NAMES[type(op)]} comparisons are not supported")
                    return
            self.expr(e.left)
            for c in e.comparators:
                self.expr(c)
        elif isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute):
            name = e.func.attr
            if name not in METHODS:
                self.error(e, f"method calls ('.{name}(...)') are not supported (list methods: "
                              f"{', '.join(METHODS)})")
                return
            lo, hi = METHODS[name]
            if name == "sort" and all(k.arg == "reverse" and isinstance(k.value, ast.Constant)
                                      for k in e.keywords):
                pass
            elif e.keywords:
                self.error(e, f"keyword arguments of '.{name}()' are not supported")
            if not lo <= len(e.args) <= hi:
                self.error(e, f"'.{name}()' takes {_arity(lo, hi)}, got {len(e.args)}")
            self.expr(e.func.value)
            for a in e.args:
                self.expr(a)
        elif isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and (
                e.func.id in ITERABLE_BUILTINS):
            name = e.func.id
            lo, hi = ITERABLE_BUILTINS[name]
            if not lo <= len(e.args) <= hi:
                self.error(e, f"{name}() takes {_arity(lo, hi)}, got {len(e.args)}")
            for k in e.keywords:
                if not (name == "sorted" and k.arg == "reverse" and isinstance(
                        k.value, ast.Constant) and type(k.value.value) in (bool, int)):
                    self.error(k if hasattr(k, "lineno") else e,
                               "keyword arguments of builtins are not supported (except "
                               "sorted(xs, reverse=True))")
            for a in e.args[:1]:
                self.iterable_arg(a)
            for a in e.args[1:]:
                self.expr(a)
        elif isinstance(e, ast.Call):
            if not isinstance(e.func, ast.Name):
                self.error(e, "only calls of named functions are supported")
                return
            for k in e.keywords:
                self.error(k if hasattr(k, "lineno") else e, "keyword arguments are not supported")
            for a in e.args:
                if isinstance(a, ast.Starred):
                    self.error(a, "starred arguments are not supported")
                elif isinstance(a, ast.GeneratorExp):
                    self.comprehension(a)  # f(x for x in xs): the values as a new list
                else:
                    self.expr(a)
        elif isinstance(e, (ast.List, ast.Tuple)):
            for v in e.elts:
                if isinstance(v, ast.Starred):
                    self.error(v, "starred expressions are not supported")
                else:
                    self.expr(v)
        elif isinstance(e, ast.IfExp):
            for v in (e.test, e.body, e.orelse):
                self.expr(v)
        elif isinstance(e, ast.ListComp):
            self.comprehension(e)
        elif isinstance(e, ast.GeneratorExp):
            self.error(e, "generator expressions are supported as the argument of sum(), "
                          "min(), max(), any(), all(), sorted() and list()")
        elif isinstance(e, ast.Subscript):
            self.expr(e.value)
            if isinstance(e.slice, ast.Slice):
                for part in (e.slice.lower, e.slice.upper, e.slice.step):
                    if part is not None:
                        self.expr(part)
            else:
                self.expr(e.slice)
        elif isinstance(e, ast.Attribute):
            self.error(e, f"attribute access ('.{e.attr}') is not supported")
        else:
            self.error(e, _not_supported(_EXPR_NAMES.get(type(e), type(e).__name__)))


def _is_raise_stub(s: ast.stmt) -> bool:
    """``raise CODE``: what :mod:`.desugar` makes of ``raise E(...)`` and ``assert``."""
    return (isinstance(s, ast.Raise) and isinstance(s.exc, ast.Constant)
            and type(s.exc.value) is int)


def _is_range(e: ast.expr) -> bool:
    return (isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id == "range"
            and not e.keywords and 1 <= len(e.args) <= 3)


def _arity(lo: int, hi: int) -> str:
    if lo == hi:
        return f"{lo} argument{'' if lo == 1 else 's'}"
    return f"{lo} to {hi} arguments" if hi < 99 else f"at least {lo} argument"


def _is_docstring(s: ast.stmt) -> bool:
    return (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
            and isinstance(s.value.value, str))


def _describe_stmt(s: ast.stmt) -> str:
    if type(s) in _STMT_NAMES:
        return _STMT_NAMES[type(s)]
    if isinstance(s, ast.Expr):
        return "an expression"
    if isinstance(s, (ast.Assign, ast.AugAssign)):
        return "an assignment"
    if isinstance(s, (ast.If, ast.For, ast.While)):
        return f"an '{type(s).__name__.lower()}' statement"
    if isinstance(s, (ast.Return, ast.Pass, ast.Break, ast.Continue)):
        return f"'{type(s).__name__.lower()}'"
    return type(s).__name__


def _not_supported(what: str) -> str:
    plural = what.split(" (")[0].endswith("s") and not what.startswith(("'", "an ", "a "))
    return f"{what} {'are' if plural else 'is'} not supported"


# -------------------------------------------------------------------- sweep 2: kinds
#
# A kind is a string: "int", "list" (a list of integers), "list[K]" (a list of K, e.g.
# "list[list]" for a grid). "?" is a kind not known yet: "list[?]" is what ``[]`` gives until an
# append or a use says more. Evidence refines partial kinds; two kinds that cannot be refined to
# one another are a mix (an error). Tuples are lists (``return lo, hi`` gives a list).

UNKNOWN = "?"
SOME_LIST = "list[?]"
_ITERS = ("range", "enumerate", "zip")  # iterables that only appear where values are walked


def list_of(kind: str) -> str:
    return LIST if kind == INT else f"list[{kind}]"


def elem_kind(kind: str | None) -> str | None:
    """The kind of the elements of a list kind (None for int or not known)."""
    if kind == LIST:
        return INT
    if kind is not None and kind.startswith("list["):
        return kind[5:-1]
    return None


def is_list(kind: str | None) -> bool:
    """A list in memory: a list kind, or a tuple of values of different kinds."""
    return kind is not None and kind.startswith(("list", "tuple("))


def tuple_of(kinds: list[str]) -> str:
    """The kind of a tuple whose values have different kinds (``return xs, n``)."""
    return f"tuple({';'.join(kinds)})"


def tuple_parts(kind: str | None) -> list[str] | None:
    """The kinds of a tuple kind's values (None for other kinds)."""
    if kind is None or not kind.startswith("tuple("):
        return None
    parts, depth, start = [], 0, 6
    for i, ch in enumerate(kind[6:-1], 6):
        depth += ch in "[(" and 1 or (-1 if ch in "])" else 0)
        if ch == ";" and depth == 0:
            parts.append(kind[start:i])
            start = i + 1
    return [*parts, kind[start:-1]]


def refines(a: str, b: str) -> bool:
    """``a`` says at least what ``b`` says (and nothing against it)."""
    if b == UNKNOWN or a == b:
        return True
    ta, tb = tuple_parts(a), tuple_parts(b)
    if ta is not None or tb is not None:
        if ta is not None and b == SOME_LIST:
            return True
        return (ta is not None and tb is not None and len(ta) == len(tb)
                and all(refines(x, y) for x, y in zip(ta, tb)))
    if is_list(a) and is_list(b):
        return refines(elem_kind(a), elem_kind(b))
    return False


def compatible(a: str, b: str) -> bool:
    return refines(a, b) or refines(b, a)


def settle(kind: str | None) -> str:
    """A final kind: what is still unknown is an integer."""
    if kind is None or kind == UNKNOWN:
        return INT
    if tuple_parts(kind) is not None:
        return tuple_of([settle(k) for k in tuple_parts(kind)])
    return list_of(settle(elem_kind(kind))) if is_list(kind) else kind


def _merge(ev: list, kind: str | None, node: ast.AST) -> bool:
    """Add ``kind`` to the evidence ``ev``; True when it says something new."""
    if kind is None or kind == UNKNOWN:
        return False
    for i, (k, _) in enumerate(ev):
        if refines(k, kind):
            return False
        if refines(kind, k):
            ev[i] = (kind, ev[i][1])
            return True
    ev.append((kind, node))
    return True


class _Kinds:
    """Fixpoint inference of kinds, then the kind checks.

    Evidence for a name is a list of ``(kind, node)``; a name with two incompatible kinds is an
    error reported where the second kind first appears. The final sweep also records the kind
    of every expression (``types``), which is what :mod:`.lower` reads.
    """

    def __init__(self, chk: _Checker, defs: list[ast.FunctionDef]):
        self.chk = chk
        self.defs = {d.name: d for d in defs}
        self.params = {d.name: [p.arg for p in [*d.args.posonlyargs, *d.args.args]] for d in defs}
        self.locals: dict[str, set[str]] = {}
        for d in defs:
            names = set(self.params[d.name])
            for node in ast.walk(d):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    names.add(node.id)
            self.locals[d.name] = names
        self.evidence: dict[tuple[str, str], list[tuple[str, ast.AST]]] = {}
        self.ret_evidence: dict[str, list[tuple[str, ast.AST]]] = {}
        self.types: dict[str, dict[ast.AST, str]] = {d.name: {} for d in defs}
        self.final = False  # the last sweep reports errors

    # kind bookkeeping
    def kind_of(self, fn: str, name: str) -> str | None:
        ev = self.evidence.get((fn, name))
        return ev[0][0] if ev else None

    def note(self, fn: str, name: str, kind: str | None, node: ast.AST) -> bool:
        if kind is None or name not in self.locals.get(fn, ()):
            return False
        return _merge(self.evidence.setdefault((fn, name), []), kind, node)

    def note_return(self, fn: str, kind: str | None, node: ast.AST) -> bool:
        return _merge(self.ret_evidence.setdefault(fn, []), kind, node)

    def returns(self, fn: str) -> str | None:
        ev = self.ret_evidence.get(fn)
        return ev[0][0] if ev else None

    def run(self) -> None:
        for _ in range(50):
            changed = False
            for name, d in self.defs.items():
                changed |= self.function(name, d)
            if not changed:
                break
        self.final = True
        for name, d in self.defs.items():
            self.function(name, d)
        for (fn, name), ev in self.evidence.items():
            if len(ev) > 1:
                self.chk.error(ev[1][1], f"name '{name}' holds both {_both(ev)} in function "
                                         f"'{fn}' (each name keeps one kind)")
        for fn, ev in self.ret_evidence.items():
            if len(ev) > 1:
                self.chk.error(ev[1][1], f"function '{fn}' returns both {_both(ev)}")

    def function(self, fn: str, d: ast.FunctionDef) -> bool:
        self.changed = False
        self.fn = fn
        for s in d.body:
            self.stmt(s)
        if not _ends_with_return(d.body) or any(
                isinstance(n, ast.Return) and n.value is None for n in ast.walk(d)):
            self.changed |= self.note_return(fn, INT, d)
        return self.changed

    def stmt(self, s: ast.stmt) -> None:
        fn = self.fn
        if isinstance(s, ast.Assign):
            if len(s.targets) == 1 and isinstance(s.targets[0], ast.Tuple) and isinstance(
                    s.value, ast.Tuple) and len(s.value.elts) == len(s.targets[0].elts):
                for t, v in zip(s.targets[0].elts, s.value.elts):  # a, b = b, a % b
                    self.store(t, self.expr(v), v)
                self.types[fn][s.value] = list_of(INT)
                return
            k = self.expr(s.value)
            for t in s.targets:
                self.store(t, k, s.value)
                self.back(t, s.value)
        elif isinstance(s, ast.AugAssign):
            if isinstance(s.target, ast.Name):
                name = s.target.id
                vk = self.expr(s.value)
                tk = self.kind_of(fn, name)
                if tk is None and vk is None and not self.final:
                    return  # not known yet: wait for more evidence
                if is_list(tk) or is_list(vk):  # xs += ys extends xs in place
                    self.use(s.value, tk if is_list(tk) else vk, "'+='")
                    vk = self.expr(s.value)
                    self.changed |= self.note(fn, name, vk if is_list(vk) else SOME_LIST,
                                              s.target)
                    if self.final and (not isinstance(s.op, ast.Add) or not is_list(vk)):
                        self.chk.error(s, "only '+=' with a list extends a list")
                    return
                self.changed |= self.note(fn, name, INT, s.target)
            else:
                self.store(s.target, INT, s)
            self.want(s.value, INT, "augmented assignment")
        elif isinstance(s, ast.If):
            self.condition(s.test)
            for b in (s.body, s.orelse):
                for x in b:
                    self.stmt(x)
        elif isinstance(s, ast.While):
            self.condition(s.test)
            for x in [*s.body, *s.orelse]:
                self.stmt(x)
        elif isinstance(s, ast.For):
            self.loop_target(s.target, s.iter)
            for x in [*s.body, *s.orelse]:
                self.stmt(x)
        elif isinstance(s, ast.Return):
            k = self.expr(s.value) if s.value is not None else INT
            self.changed |= self.note_return(fn, k, s)
        elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
            self.expr(s.value)
        elif isinstance(s, ast.Delete):
            for t in s.targets:
                self.expr(t)

    def loop_target(self, target: ast.expr, it: ast.expr) -> None:
        """``for target in it`` (also a comprehension's clause): the kinds of the target."""
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id in _ITERS:
            name = it.func.id
            if name == "range":
                for a in it.args:
                    self.want(a, INT, "a range bound")
                kinds = INT
            elif name == "enumerate":
                k = self.want(it.args[0], SOME_LIST, "enumerate()") if it.args else None
                for a in it.args[1:]:
                    self.want(a, INT, "the start of enumerate()")
                kinds = [INT, elem_kind(k)]
            else:
                kinds = [elem_kind(self.want(a, SOME_LIST, "zip()")) for a in it.args]
        else:
            kinds = elem_kind(self.want(it, SOME_LIST, "a 'for' loop over a value"))
        self.store(target, kinds, it)
        # what the targets are known to be says what the walked lists hold
        name = it.func.id if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) else None
        if name in ("enumerate", "zip") and isinstance(target, (ast.Tuple, ast.List)):
            parts = target.elts[1:2] if name == "enumerate" else target.elts
            for t, a in zip(parts, it.args):
                if self.target_kind(t):
                    self.use(a, list_of(self.target_kind(t)), "a 'for' loop")
        elif name not in _ITERS and self.target_kind(target):
            self.use(it, list_of(self.target_kind(target)), "a 'for' loop")

    def target_kind(self, t: ast.expr) -> str | None:
        """The kind a target is known to take (a tuple target takes a list)."""
        if isinstance(t, ast.Name):
            return self.kind_of(self.fn, t.id)
        if isinstance(t, (ast.Tuple, ast.List)):
            kinds = [self.target_kind(x) for x in t.elts]
            known = [k for k in kinds if k]
            return list_of(known[0]) if known else SOME_LIST
        return None

    def back(self, t: ast.expr, value: ast.expr) -> None:
        """``row = g[i]``: what ``row`` is known to be says what ``g`` holds."""
        if isinstance(value, (ast.Name, ast.Subscript)):
            k = self.target_kind(t)
            if k is not None:
                self.use(value, k, "an assignment")

    def store(self, t: ast.expr, kind, value: ast.AST) -> None:
        """Assign a value of ``kind`` (a list of kinds for a tuple of values) to ``t``."""
        if isinstance(t, (ast.Tuple, ast.List)):
            if isinstance(kind, str) and tuple_parts(kind) is not None:
                kind = tuple_parts(kind)
            if isinstance(kind, list):
                parts = kind if len(kind) == len(t.elts) else [None] * len(t.elts)
            else:
                if kind == INT and self.final:
                    self.chk.error(value, "cannot unpack an integer")
                parts = [elem_kind(kind)] * len(t.elts)
            for x, k in zip(t.elts, parts):
                self.store(x, k, value)
            return
        if isinstance(kind, list):
            kind = None
        if isinstance(t, ast.Name):
            self.changed |= self.note(self.fn, t.id, kind, t)
        elif isinstance(t, ast.Subscript) and not isinstance(t.slice, ast.Slice):
            self.want(t.value, list_of(kind) if kind and kind != UNKNOWN else SOME_LIST,
                      "an indexed assignment")
            self.want(t.slice, INT, "a list index")

    def use(self, e: ast.expr, kind: str, what: str) -> None:
        """``e`` (a name) is used as ``kind``: evidence for a local, checked for others."""
        if isinstance(e, ast.Name) and e.id in self.locals[self.fn]:
            have = self.kind_of(self.fn, e.id)
            if have is None or (compatible(have, kind) and refines(kind, have)):
                self.changed |= self.note(self.fn, e.id, kind, e)
        elif isinstance(e, ast.Subscript) and not isinstance(e.slice, ast.Slice):
            self.use(e.value, list_of(kind), what)

    def want(self, e: ast.expr, kind: str, what: str) -> str | None:
        self.use(e, kind, what)
        k = self.expr(e)
        if self.final and k is not None and not compatible(k, kind):
            self.chk.error(e, f"{what} needs {_a(kind)}, not {_a(settle(k))}")
        return k

    def condition(self, e: ast.expr) -> str:
        """A test (``if``, ``while``, a comprehension's ``if``): ``and``/``or``/``not`` only
        ask each operand's truth, so they may mix integers and lists (``if xs and xs[0]:``)."""
        if isinstance(e, ast.BoolOp) or (isinstance(e, ast.UnaryOp)
                                         and isinstance(e.op, ast.Not)):
            for v in (e.values if isinstance(e, ast.BoolOp) else [e.operand]):
                self.condition(v)
            if self.final:
                self.types[self.fn][e] = INT
            return INT
        return self.expr(e)

    def expr(self, e: ast.expr) -> str | None:
        k = self._expr(e)
        if self.final:
            self.types[self.fn][e] = settle(k)
        return k

    def _expr(self, e: ast.expr) -> str | None:
        """The kind of ``e`` (None when not known yet); checks operands on the final sweep."""
        fn = self.fn
        if isinstance(e, ast.Constant):
            return INT
        if isinstance(e, ast.Name):
            if e.id in self.locals[fn]:
                return self.kind_of(fn, e.id) or (INT if self.final else None)
            if self.final:
                if e.id in self.defs:
                    self.chk.error(e, f"function '{e.id}' can only be called, not used as a value")
                elif e.id in ("True", "False"):
                    return INT
                else:
                    self.chk.error(e, f"name '{e.id}' is not defined")
            return INT
        if isinstance(e, ast.UnaryOp):
            if isinstance(e.op, ast.Not):
                self.expr(e.operand)  # `not` works on lists too (emptiness)
            else:
                self.want(e.operand, INT, f"unary '{_UNARY_SYMBOL.get(type(e.op), '-')}'")
            return INT
        if isinstance(e, ast.BinOp):
            rep = repeat_count(e)
            if rep is not None:
                k = self.expr(rep[0])
                other = e.right if isinstance(e.left, ast.List) else e.left
                self.want(other, INT, "a repetition count")
                self.types[fn][e.left if isinstance(e.left, ast.List) else e.right] = LIST
                return list_of(k) if k is not None else SOME_LIST
            sym = _BINOP_SYMBOL.get(type(e.op), "?")
            if isinstance(e.op, ast.Add):
                a, b = self.expr(e.left), self.expr(e.right)
                if a is None and b is None and not self.final:
                    return None  # integers or lists: wait for more evidence
                if is_list(a) or (a is None and is_list(b)):  # xs + ys: a new list
                    for x in (e.left, e.right):
                        self.use(x, SOME_LIST, "'+'")
                    a, b = self.expr(e.left), self.expr(e.right)
                    for x, k in ((e.left, a), (e.right, b)):
                        if self.final and not is_list(k):
                            self.chk.error(x, f"'+' needs a list, not {_a(settle(k))}")
                    if is_list(a) and is_list(b):
                        return a if refines(a, b) else b
                    return a if is_list(a) else b
            self.want(e.left, INT, f"'{sym}'")
            self.want(e.right, INT, f"'{sym}'")
            return INT
        if isinstance(e, ast.BoolOp):
            kinds = [self.expr(v) for v in e.values]
            known = [k for k in kinds if k is not None]
            if self.final and any(not compatible(k, known[0]) for k in known):
                self.chk.error(e, f"'{'and' if isinstance(e.op, ast.And) else 'or'}' mixes "
                                  "integers and lists")
            return known[0] if known else None
        if isinstance(e, ast.IfExp):
            self.condition(e.test)
            a, b = self.expr(e.body), self.expr(e.orelse)
            if self.final and a is not None and b is not None and not compatible(a, b):
                self.chk.error(e, "a conditional expression mixes integers and lists")
            if a is None or b is None:
                return a or b
            return a if refines(a, b) else b
        if isinstance(e, ast.Compare):
            left = e.left
            for op, right in zip(e.ops, e.comparators):
                if isinstance(op, (ast.In, ast.NotIn)) and _is_range(right):
                    for a in right.args:  # x in range(a, b, s): compared, no list made
                        self.want(a, INT, "a range bound")
                    self.want(left, INT, "'in'")
                elif isinstance(op, (ast.In, ast.NotIn)):
                    k = self.want(right, SOME_LIST, f"'{'in' if isinstance(op, ast.In) else 'not in'}'")
                    self.want(left, elem_kind(k) or UNKNOWN, "'in'")
                elif isinstance(op, (ast.Eq, ast.NotEq)) and not self.final and (
                        self.expr(left) is None and self.expr(right) is None):
                    pass  # integers or lists: wait for more evidence
                elif isinstance(op, (ast.Eq, ast.NotEq)) and (
                        is_list(self.expr(left)) or is_list(self.expr(right))):
                    for x in (left, right):
                        self.use(x, SOME_LIST, "'=='")
                    a, b = self.expr(left), self.expr(right)
                    if self.final and not (is_list(a) and is_list(b) and compatible(a, b)):
                        self.chk.error(e, "'==' and '!=' compare a list only with a list")
                else:
                    self.want(left, INT, "a comparison")
                    self.want(right, INT, "a comparison")
                left = right
            return INT
        if isinstance(e, (ast.List, ast.Tuple)):
            kinds = [self.expr(v) for v in e.elts]
            known = [k for k in kinds if k is not None]
            if isinstance(e, ast.Tuple) and any(not compatible(k, known[0]) for k in known):
                return tuple_of([k or UNKNOWN for k in kinds])  # (xs, n): values of two kinds
            if self.final and any(not compatible(k, known[0]) for k in known):
                self.chk.error(e, "a list holds integers or lists, not both")
            if not e.elts:
                return SOME_LIST
            return list_of(known[0]) if known else None
        if isinstance(e, (ast.ListComp, ast.GeneratorExp)):
            for g in e.generators:
                self.loop_target(g.target, g.iter)
                for c in g.ifs:
                    self.condition(c)
            k = self.expr(e.elt)
            return list_of(k) if k is not None else None
        if isinstance(e, ast.Subscript):
            if isinstance(e.slice, ast.Slice):
                for part in (e.slice.lower, e.slice.upper, e.slice.step):
                    if part is not None:
                        self.want(part, INT, "a slice bound")
                return self.want(e.value, SOME_LIST, "slicing")
            k = self.want(e.value, SOME_LIST, "indexing")
            self.want(e.slice, INT, "a list index")
            parts = tuple_parts(k)
            if parts is not None:  # t[0] of a tuple of values of different kinds
                i = e.slice.value if isinstance(e.slice, ast.Constant) else None
                if isinstance(i, int) and 0 <= i < len(parts):
                    return parts[i]
                if self.final:
                    self.chk.error(e, "a tuple of values of different kinds is indexed only "
                                      "with a literal")
                return None
            return elem_kind(k) if k is not None else None
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute):
            return self.method(e)
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Name):
            return self.call(e)
        return None

    def method(self, e: ast.Call) -> str | None:
        """``xs.append(v)`` and the other list methods."""
        name, obj = e.func.attr, e.func.value
        args = e.args
        if name in ("append", "insert"):
            v = args[-1] if args else None
            if name == "insert" and args:
                self.want(args[0], INT, "an insert position")
            k = self.expr(v) if v is not None else None
            self.want(obj, list_of(k) if k not in (None, UNKNOWN) else SOME_LIST, f"'.{name}()'")
            return INT
        if name == "extend":
            k = self.expr(args[0]) if args else None
            self.want(obj, k if is_list(k) else SOME_LIST, "'.extend()'")
            return INT
        k = self.want(obj, SOME_LIST, f"'.{name}()'")
        if name == "pop":
            for a in args:
                self.want(a, INT, "a pop position")
            return elem_kind(k) if k is not None else None
        if name in ("index", "count"):
            for a in args[:1]:
                self.want(a, elem_kind(k) or UNKNOWN, f"'.{name}()'")
            return INT
        if name == "copy":
            return k
        if name == "remove":
            for a in args[:1]:
                self.want(a, elem_kind(k) or UNKNOWN, "'.remove()'")
        return INT

    def call(self, e: ast.Call) -> str | None:
        name = e.func.id
        fn = self.fn
        args = [a for a in e.args if not isinstance(a, ast.Starred)]
        if name in self.locals[fn]:
            if self.final:
                self.chk.error(e, f"'{name}' is a variable, not a function")
            return None
        if name in ITERABLE_BUILTINS:
            if name in ("min", "max") and len(args) >= 2:
                for a in args:
                    self.want(a, INT, f"{name}()")
                return INT
            ks = [self.iterable(a, f"{name}()") for a in args[:1]]
            for a in args[1:]:
                self.want(a, INT, f"{name}()")
            if name in ("sorted", "list", "reversed", "tuple"):
                return (ks[0] or SOME_LIST) if ks else SOME_LIST
            if name in ("min", "max") and ks:  # of one iterable: one of its values
                return elem_kind(ks[0]) if ks[0] is not None else None
            return INT
        if name in BUILTINS:
            if self.final and len(e.args) != BUILTINS[name] and BUILTINS[name] >= 0:
                n = BUILTINS[name]
                self.chk.error(e, f"{name}() takes {n} argument{'s' if n > 1 else ''}, "
                                  f"got {len(e.args)}")
            for a in args:
                self.want(a, INT, f"{name}()")
            return INT
        if name in _ITERS:
            self.loop_target(ast.Name("_", ast.Store()), e)  # checks the arguments
            if self.final and name == "range":
                self.chk.error(e, "range() is only supported where values are walked ('for', "
                                  "comprehensions, list(), sum() ...)")
            elif self.final:
                self.chk.error(e, f"{name}() is only supported as the iterable of a 'for' "
                                  "loop or a comprehension")
            return None
        if name not in self.defs:
            if self.final:
                self.chk.error(e, f"unknown function '{name}'")
            for a in args:
                self.expr(a)
            return None
        params = self.params[name]
        if self.final and len(e.args) != len(params) and not e.keywords:
            self.chk.error(e, f"'{name}' takes {len(params)} argument"
                              f"{'' if len(params) == 1 else 's'}, got {len(e.args)}")
        for a, p in zip(args, params):
            k = self.expr(a)
            pk = self.kind_of(name, p)
            if pk is not None:
                self.use(a, pk, "an argument")
            if k is not None:
                if self.final and pk is not None and not compatible(pk, k):
                    self.chk.error(a, f"argument '{p}' of '{name}' needs {_a(pk)}, not {_a(k)}")
                else:
                    self.changed |= self.note(name, p, k, a)
        for a in args[len(params):]:
            self.expr(a)
        return self.returns(name)

    def iterable(self, e: ast.expr, what: str) -> str | None:
        """The kind of a list-like argument: a list, ``range(...)`` (a list of ints) or a
        generator expression."""
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id == "range":
            for a in e.args:
                self.want(a, INT, "a range bound")
            return LIST
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id in (
                "enumerate", "zip"):  # list(enumerate(xs)): a list of pairs
            if e.func.id == "enumerate":
                for a in e.args[1:]:
                    self.want(a, INT, "the start of enumerate()")
                parts = [INT, elem_kind(self.want(e.args[0], SOME_LIST, "enumerate()"))
                         if e.args else None]
            else:
                parts = [elem_kind(self.want(a, SOME_LIST, "zip()")) for a in e.args]
            if any(p is None for p in parts):
                return None
            same = all(compatible(p, parts[0]) for p in parts)
            return list_of(list_of(parts[0]) if same else tuple_of(parts))
        return self.want(e, SOME_LIST, what)


_BINOP_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//", ast.Mod: "%",
                 ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.Pow: "**",
                 ast.LShift: "<<", ast.RShift: ">>"}
_UNARY_SYMBOL = {ast.USub: "-", ast.Invert: "~", ast.UAdd: "+"}


def _a(kind: str) -> str:
    if kind == INT:
        return "an integer"
    if tuple_parts(kind) is not None:
        return "a tuple"
    return "a list of lists" if is_list(elem_kind(kind)) else "a list"


def _both(ev: list) -> str:
    a, b = sorted((ev[0][0], ev[1][0]), key=lambda k: k != INT)
    return f"{_plural(a)} and {_plural(b)}"


def _plural(kind: str) -> str:
    if kind == INT:
        return "integers"
    if tuple_parts(kind) is not None:
        return "tuples"
    return "lists of lists" if is_list(elem_kind(kind)) else "lists"


def _ends_with_return(body: list[ast.stmt]) -> bool:
    """True when control cannot fall off the end of ``body`` (a conservative check)."""
    if not body:
        return False
    last = body[-1]
    if isinstance(last, ast.Return) or _is_raise_stub(last):
        return True
    if isinstance(last, ast.If):
        return bool(last.orelse) and _ends_with_return(last.body) and _ends_with_return(last.orelse)
    if isinstance(last, ast.While):
        t = last.test
        return (isinstance(t, ast.Constant) and bool(t.value)
                and not any(isinstance(n, ast.Break) for n in _loop_level(last.body)))
    return False


def _loop_level(body: list[ast.stmt]):
    """Statements of ``body`` that belong to this loop (not to nested loops)."""
    for s in body:
        yield s
        if isinstance(s, ast.If):
            yield from _loop_level(s.body)
            yield from _loop_level(s.orelse)


def check(source: str, filename: str = "<input>", tree: ast.Module | None = None) -> CheckedModule:
    """Parse (unless ``tree``, e.g. the desugared tree, is given) and check ``source``; raise
    :class:`CompileError` with every error of the file."""
    if tree is None:
        try:
            tree = ast.parse(source, filename=filename)
        except SyntaxError as e:
            line = e.lineno or 1
            col = e.offset or 1
            raise CompileError([Diagnostic(line, max(col, 1), f"syntax error: {e.msg}")],
                               filename) from None
        except ValueError as e:  # e.g. source with NUL bytes
            raise CompileError([Diagnostic(1, 1, f"syntax error: {e}")], filename) from None
    chk = _Checker(source, filename)
    defs = chk.module(tree)
    kinds = _Kinds(chk, defs)
    kinds.run()
    if chk.diags:
        raise CompileError(chk.diags, filename)
    functions: dict[str, FunctionInfo] = {}
    for d in defs:
        info = FunctionInfo(d.name, d, kinds.params[d.name])
        for name in kinds.locals[d.name]:
            info.kinds[name] = settle(kinds.kind_of(d.name, name))
        info.returns = settle(kinds.returns(d.name))
        info.types = kinds.types[d.name]
        info.calls = {n.func.id for n in ast.walk(d) if isinstance(n, ast.Call)
                      and isinstance(n.func, ast.Name) and n.func.id in kinds.defs}
        functions[d.name] = info
    return CheckedModule(source, filename, tree, functions)
