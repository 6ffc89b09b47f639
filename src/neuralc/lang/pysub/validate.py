"""Pass 1 of the Python subset (SPEC §3): check the whole file, infer kinds, collect every error.

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

__all__ = ["BUILTINS", "INT", "LIST", "CheckedModule", "FunctionInfo", "check", "range_step"]

INT, LIST = "int", "list"
BUILTINS = {"len": 1, "min": 2, "max": 2}  # name → arity (range is only allowed in `for`)

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
    kinds: dict[str, str] = field(default_factory=dict)  # every local name → INT | LIST
    returns: str = INT
    calls: set[str] = field(default_factory=set)  # functions of the file it calls


@dataclass
class CheckedModule:
    source: str
    filename: str
    tree: ast.Module
    functions: dict[str, FunctionInfo]  # in file order

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
        for i, stmt in enumerate(tree.body):
            if isinstance(stmt, ast.FunctionDef):
                if stmt.name in seen:
                    self.error(stmt, f"function '{stmt.name}' is defined twice "
                                     f"(first at line {seen[stmt.name].lineno})")
                    continue
                if stmt.name in BUILTINS or stmt.name == "range":
                    self.error(stmt, f"a function may not be named '{stmt.name}' "
                                     "(a built-in of the subset)")
                seen[stmt.name] = stmt
                defs.append(stmt)
                self.function_shape(stmt)
            elif i == 0 and _is_docstring(stmt):
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
            if s.orelse:
                self.error(s, "'else' on a 'while' loop is not supported")
        elif isinstance(s, ast.For):
            if not isinstance(s.target, ast.Name):
                self.error(s.target, "a 'for' loop variable must be a single name")
            it = s.iter
            if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range":
                self.range_call(it)
            else:
                self.expr(it)
            self.block(s.body, True)
            if s.orelse:
                self.error(s, "'else' on a 'for' loop is not supported")
        elif isinstance(s, (ast.Break, ast.Continue)):
            if not loop:
                word = "break" if isinstance(s, ast.Break) else "continue"
                self.error(s, f"'{word}' outside a loop")
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

    def target(self, t: ast.expr) -> None:
        if isinstance(t, ast.Name):
            return
        if isinstance(t, ast.Subscript):
            if isinstance(t.slice, ast.Slice):
                self.error(t, "slicing is not supported")
                return
            self.expr(t.value)
            self.expr(t.slice)
            return
        if isinstance(t, (ast.Tuple, ast.List)):
            self.error(t, "unpacking assignment is not supported (assign one name at a time)")
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
            step = range_step(call.args[2])
            if step is None or step == 0:
                self.error(call.args[2], "a range step must be a non-zero integer literal")

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
                elt, k = rep
                if k is None:
                    self.error(e, "list repetition '[e] * k' needs a non-negative integer "
                                  "literal k")
                self.expr(elt)
                other = e.right if isinstance(e.left, ast.List) else e.left
                if k is None:
                    self.expr(other)
                return
            self.expr(e.left)
            self.expr(e.right)
        elif isinstance(e, ast.BoolOp):
            for v in e.values:
                self.expr(v)
        elif isinstance(e, ast.Compare):
            for op in e.ops:
                if not isinstance(op, _CMPOPS):
                    self.error(e, f"{_OP_NAMES[type(op)]} comparisons are not supported")
                    return
            self.expr(e.left)
            for c in e.comparators:
                self.expr(c)
        elif isinstance(e, ast.Call):
            if not isinstance(e.func, ast.Name):
                if isinstance(e.func, ast.Attribute):
                    self.error(e, f"method calls ('.{e.func.attr}(...)') are not supported")
                else:
                    self.error(e, "only calls of named functions are supported")
                return
            for k in e.keywords:
                self.error(k if hasattr(k, "lineno") else e, "keyword arguments are not supported")
            for a in e.args:
                if isinstance(a, ast.Starred):
                    self.error(a, "starred arguments are not supported")
                else:
                    self.expr(a)
        elif isinstance(e, ast.List):
            for v in e.elts:
                self.expr(v)
        elif isinstance(e, ast.Subscript):
            if isinstance(e.slice, ast.Slice):
                self.error(e, "slicing is not supported")
                return
            self.expr(e.value)
            self.expr(e.slice)
        elif isinstance(e, ast.Attribute):
            self.error(e, f"attribute access ('.{e.attr}') is not supported")
        else:
            self.error(e, _not_supported(_EXPR_NAMES.get(type(e), type(e).__name__)))


def _is_raise_stub(s: ast.stmt) -> bool:
    """``raise CODE``: what :mod:`.desugar` makes of ``raise E(...)`` and ``assert``."""
    return (isinstance(s, ast.Raise) and isinstance(s.exc, ast.Constant)
            and type(s.exc.value) is int)


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


class _Kinds:
    """Fixpoint inference of int/list kinds, then the kind checks.

    Evidence for a name is a list of ``(kind, node)``; a name with both kinds is an error
    reported where the second kind first appears.
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
        self.final = False  # the last sweep reports errors

    # kind bookkeeping
    def kind_of(self, fn: str, name: str) -> str | None:
        ev = self.evidence.get((fn, name))
        return ev[0][0] if ev else None

    def note(self, fn: str, name: str, kind: str | None, node: ast.AST) -> bool:
        if kind is None or name not in self.locals.get(fn, ()):
            return False
        ev = self.evidence.setdefault((fn, name), [])
        if any(k == kind for k, _ in ev):
            return False
        ev.append((kind, node))
        return True

    def note_return(self, fn: str, kind: str | None, node: ast.AST) -> bool:
        if kind is None:
            return False
        ev = self.ret_evidence.setdefault(fn, [])
        if any(k == kind for k, _ in ev):
            return False
        ev.append((kind, node))
        return True

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
                self.chk.error(ev[1][1], f"name '{name}' holds both integers and lists in "
                                         f"function '{fn}' (each name keeps one kind)")
        for fn, ev in self.ret_evidence.items():
            if len(ev) > 1:
                self.chk.error(ev[1][1], f"function '{fn}' returns both integers and lists")

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
            k = self.expr(s.value)
            for t in s.targets:
                self.store(t, k, s.value)
        elif isinstance(s, ast.AugAssign):
            if isinstance(s.target, ast.Name):
                name = s.target.id
                if LIST in (self.kind_of(fn, name), self.expr(s.value)):
                    self.changed |= self.note(fn, name, LIST, s.target)
                    if self.final:
                        self.chk.error(s, "augmented assignment to a list is not supported "
                                          "(lists have a fixed length)")
                    return
                self.changed |= self.note(fn, name, INT, s.target)
            else:
                self.store(s.target, INT, s)
            self.want(s.value, INT, "augmented assignment")
        elif isinstance(s, ast.If):
            self.expr(s.test)
            for b in (s.body, s.orelse):
                for x in b:
                    self.stmt(x)
        elif isinstance(s, ast.While):
            self.expr(s.test)
            for x in s.body:
                self.stmt(x)
        elif isinstance(s, ast.For):
            it = s.iter
            if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range":
                for a in it.args[:2]:
                    self.want(a, INT, "a range bound")
            else:
                self.want(it, LIST, "a 'for' loop over a value")
            if isinstance(s.target, ast.Name):
                self.changed |= self.note(fn, s.target.id, INT, s.target)
            for x in s.body:
                self.stmt(x)
        elif isinstance(s, ast.Return):
            k = self.expr(s.value) if s.value is not None else INT
            self.changed |= self.note_return(fn, k, s)
        elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
            self.expr(s.value)

    def store(self, t: ast.expr, kind: str | None, value: ast.AST) -> None:
        if isinstance(t, ast.Name):
            self.changed |= self.note(self.fn, t.id, kind, t)
        elif isinstance(t, ast.Subscript) and not isinstance(t.slice, ast.Slice):
            self.want(t.value, LIST, "an indexed assignment")
            self.want(t.slice, INT, "a list index")
            if kind == LIST and self.final:
                self.chk.error(value, "lists hold integers, not lists")

    def use(self, e: ast.expr, kind: str, what: str) -> None:
        """``e`` (a name) is used as ``kind``: evidence for a local, checked for others."""
        if (isinstance(e, ast.Name) and e.id in self.locals[self.fn]
                and self.kind_of(self.fn, e.id) is None):
            self.changed |= self.note(self.fn, e.id, kind, e)

    def want(self, e: ast.expr, kind: str, what: str) -> str | None:
        if isinstance(e, ast.Name):
            self.use(e, kind, what)
        k = self.expr(e)
        if self.final and k is not None and k != kind:
            self.chk.error(e, f"{what} needs {_a(kind)}, not {_a(k)}")
        return k

    def expr(self, e: ast.expr) -> str | None:
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
                self.want(e.operand, INT, "unary '-'")
            return INT
        if isinstance(e, ast.BinOp):
            rep = repeat_count(e)
            if rep is not None:
                self.want(rep[0], INT, "a list element")
                return LIST
            sym = _BINOP_SYMBOL.get(type(e.op), "?")
            self.want(e.left, INT, f"'{sym}'")
            self.want(e.right, INT, f"'{sym}'")
            return INT
        if isinstance(e, ast.BoolOp):
            kinds = [self.expr(v) for v in e.values]
            known = [k for k in kinds if k is not None]
            if self.final and len(set(known)) > 1:
                self.chk.error(e, f"'{'and' if isinstance(e.op, ast.And) else 'or'}' mixes "
                                  "integers and lists")
            return known[0] if known else None
        if isinstance(e, ast.Compare):
            for x in [e.left, *e.comparators]:
                self.want(x, INT, "a comparison")
            return INT
        if isinstance(e, ast.List):
            for v in e.elts:
                self.want(v, INT, "a list element")
            return LIST
        if isinstance(e, ast.Subscript) and not isinstance(e.slice, ast.Slice):
            self.want(e.value, LIST, "indexing")
            self.want(e.slice, INT, "a list index")
            return INT
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Name):
            return self.call(e)
        return None

    def call(self, e: ast.Call) -> str | None:
        name = e.func.id
        fn = self.fn
        args = [a for a in e.args if not isinstance(a, ast.Starred)]
        if name in self.locals[fn]:
            if self.final:
                self.chk.error(e, f"'{name}' is a variable, not a function")
            return None
        if name in BUILTINS:
            if self.final and len(e.args) != BUILTINS[name]:
                n = BUILTINS[name]
                self.chk.error(e, f"{name}() takes {n} argument{'s' if n > 1 else ''}, "
                                  f"got {len(e.args)}")
            if name == "len":
                for a in args:
                    self.want(a, LIST, "len()")
            else:
                for a in args:
                    self.want(a, INT, f"{name}()")
            return INT
        if name == "range":
            if self.final:
                self.chk.error(e, "range() is only supported as the iterable of a 'for' loop")
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
            if isinstance(a, ast.Name):
                pk = self.kind_of(name, p)
                if pk is not None:
                    self.use(a, pk, "an argument")
            if k is not None:
                pk = self.kind_of(name, p)
                if self.final and pk is not None and pk != k:
                    self.chk.error(a, f"argument '{p}' of '{name}' needs {_a(pk)}, not {_a(k)}")
                else:
                    self.changed |= self.note(name, p, k, a)
        for a in args[len(params):]:
            self.expr(a)
        return self.returns(name)


_BINOP_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//", ast.Mod: "%",
                 ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^"}


def _a(kind: str) -> str:
    return "an integer" if kind == INT else "a list"


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
            info.kinds[name] = kinds.kind_of(d.name, name) or INT
        info.returns = kinds.returns(d.name) or INT
        info.calls = {n.func.id for n in ast.walk(d) if isinstance(n, ast.Call)
                      and isinstance(n.func, ast.Name) and n.func.id in kinds.defs}
        functions[d.name] = info
    return CheckedModule(source, filename, tree, functions)
