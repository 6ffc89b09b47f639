"""Pass 2: lower each checked function to :mod:`.ir` (machine instructions over virtual
registers).

What this pass adds: control flow as labels and jumps (conditions compile to jumps, not to
values), the calling convention's fixed registers at calls and at the function's entry, the
run-time checks (``//`` and ``%`` by zero, list indices, memory for new lists) as jumps to the
error stubs, and list memory (a header cell with the length, then the elements; a list value
is the address of its first element, so ``x[i]`` is at ``x + i`` and ``len(x)`` at ``x - 1``).

Lists never change length, so lengths and checked element addresses are reused: a list name
assigned once in its function has its length read once, right after the assignment; other
lengths and addresses are remembered until the next label (the end of the straight-line code).

Every name of a function is one virtual register; every intermediate value a fresh one. The
allocator removes the copies between them.
"""

from __future__ import annotations

import ast

from .ir import FunctionIR, Ins, is_virtual
from .layout import ERRORS, Layout, raise_label
from .lists import ALLOC, COPY, GROW, ListLayout
from .validate import (
    ITERABLE_BUILTINS,
    CheckedModule,
    FunctionInfo,
    elem_kind,
    is_list,
    range_step,
    repeat_count,
)

__all__ = ["lower_function"]

_BIN = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.FloorDiv: "div", ast.Mod: "mod",
        ast.BitAnd: "and", ast.BitOr: "or", ast.BitXor: "xor"}
_CMP = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge"}
_NEG = {"eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "le": "gt", "gt": "le"}
_PY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
       "div": lambda a, b: a // b, "mod": lambda a, b: a % b, "and": lambda a, b: a & b,
       "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b}
ERR_DIV, ERR_INDEX, ERR_HEAP, ERR_ABSENT, ERR_EMPTY, ERR_STEP = (
    ERRORS[c][0] for c in (1, 2, 3, 5, 6, 7))


class _Lowering:
    def __init__(self, mod: CheckedModule, info: FunctionInfo, layout: Layout,
                 labels: dict[str, str], errors: set[str], lists: ListLayout, mutates: bool):
        self.info = info
        self.layout = layout
        self.lists = lists
        self.mutates = mutates  # some list of the program changes length: lengths go stale
        self.n = layout.sizes.n
        self.m = layout.sizes.m
        # signed values (docs/COMPILER.md): the raise code of "integer overflow", else None
        self.overflow = getattr(mod, "overflow", None)
        self.labels = labels  # function name → its label
        self.errors = errors  # error stubs the program needs (filled in)
        self.fn = FunctionIR(info.name, labels[info.name], list(info.params), [],
                             info.node.lineno, set(info.calls))
        self.vars = {name: self.fn.new_vreg() for name in sorted(info.kinds)}
        self.vars_set = set(self.vars.values())
        self.scope: dict[str, int] = {}  # comprehension variables (their own registers)
        self.boolean: set[int] = set()  # registers known to hold 0 or 1
        self.line = info.node.lineno
        self.depth = 0
        self.loops: list[tuple[str, str]] = []  # (continue label, break label)
        defs: dict[str, int] = {p: 1 for p in info.params}
        for node in ast.walk(info.node):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                defs[node.id] = defs.get(node.id, 0) + 1
        # list names assigned once: their length (and base) registers live through the function
        self.fixed_lists = set() if mutates else {
            self.vars[x] for x, k in defs.items() if k == 1 and is_list(info.kinds.get(x))}
        self.length_of: dict[int, int] = {}  # list register → its length register
        self.base_of: dict[int, int] = {}  # list register → its element-0 address register
        self.known: dict[tuple[int, int], int] = {}  # (list, index) → checked address
        self._nlabels = 0

    # ------------------------------------------------------------------ emission helpers

    def emit(self, op: str, dst: int | None = None, srcs: tuple[int, ...] = (), **kw) -> int | None:
        self.fn.code.append(Ins(op, dst, tuple(srcs), line=self.line, depth=self.depth, **kw))
        if op == "label":  # control may arrive from elsewhere: forget what this path knew
            self.length_of = {p: v for p, v in self.length_of.items() if p in self.fixed_lists}
            self.base_of = {p: v for p, v in self.base_of.items() if p in self.fixed_lists}
            self.known = {}
        elif dst is not None and dst in self.vars_set:
            known = self.length_of.get(srcs[0]) if op == "copy" else None
            base = self.base_of.get(srcs[0]) if op == "copy" else None
            self.length_of.pop(dst, None)
            self.base_of.pop(dst, None)
            self.known = {k: v for k, v in self.known.items() if dst not in k}
            if known is not None:
                self.length_of[dst] = known
            elif dst in self.fixed_lists:
                self.length_of[dst] = self.lists.load_length(self, dst)
            if base is not None:
                self.base_of[dst] = base
            elif dst in self.fixed_lists and self.lists.growable:
                self.base_of[dst] = self.lists.load_base(self, dst)
        return dst

    def length(self, lst: int) -> int:
        """A register holding ``len(lst)``."""
        if lst not in self.length_of:
            self.length_of[lst] = self.lists.load_length(self, lst)
        return self.length_of[lst]

    def base(self, lst: int) -> int:
        """A register holding the address of ``lst[0]``."""
        if lst not in self.base_of:
            self.base_of[lst] = self.lists.load_base(self, lst)
        return self.base_of[lst]

    def forget(self) -> None:
        """A list may have changed length or moved (a call, an append through any name)."""
        if self.mutates:
            self.length_of, self.base_of, self.known = {}, {}, {}

    def new(self) -> int:
        return self.fn.new_vreg()

    def new_label(self, hint: str) -> str:
        self._nlabels += 1
        return f"{self.fn.label}.{hint}{self._nlabels}"

    def place(self, label: str) -> None:
        self.emit("label", label=label)

    def error_jump(self, flag: int, label: str) -> None:
        self.errors.add(label)
        self.emit("jump", srcs=(flag,), label=label)

    def error_goto(self, label: str) -> None:
        self.errors.add(label)
        self.emit("goto", label=label)

    def const(self, c: int) -> int:
        r = self.new()
        c %= self.n
        if c == 0:
            self.emit("zero", r)
        else:
            self.emit("set", r, imm=c)
        if c in (0, 1):
            self.boolean.add(r)
        return r

    def op(self, name: str, *srcs: int) -> int:
        r = self.new()
        self.emit(name, r, srcs)
        if name in _NEG or name == "not":
            self.boolean.add(r)
        return r

    def fresh(self, v: int) -> int:
        """``v`` in a register no name owns (a value that must survive assignments)."""
        if v not in self.vars_set:
            return v
        r = self.new()
        self.emit("copy", r, (v,))
        for cache in (self.length_of, self.base_of):  # the same list: what is known holds
            if v in cache:
                cache[r] = cache[v]
        return r

    def truth(self, e: ast.expr) -> bool | None:
        """The truth of a constant condition (values mod n: ``while 128:`` is false at n=128)."""
        c = _const(e, self.n)
        return None if c is None else c != 0

    def kind(self, e: ast.expr) -> str:
        """The kind the checker found for ``e`` (int, list, list[list], ...)."""
        k = self.info.types.get(e)
        if k is not None:
            return k
        if isinstance(e, ast.Name):
            return self.info.kinds.get(e.id, "int")
        return "int"

    def var(self, name: str) -> int:
        return self.scope.get(name) or self.vars[name]

    # ------------------------------------------------------------------ functions

    def function(self) -> FunctionIR:
        for i, p in enumerate(self.info.params):
            self.emit("copy", self.vars[p], (i,))
        body = self.info.node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring
        self.block(body)
        self.line = _last_line(self.info.node)
        self.emit("zero", 0)  # falling off the end returns 0
        self.emit("ret", srcs=(0,))
        _drop_dead(self.fn)
        return self.fn

    def runtime(self, body) -> FunctionIR:
        """A routine of the run time: ``body(parameter registers)`` gives the result."""
        self.line = 0
        args = []
        for i, p in enumerate(self.info.params):
            self.emit("copy", self.vars[p], (i,))
            args.append(self.vars[p])
        self.emit("copy", 0, (body(args),))
        self.emit("ret", srcs=(0,))
        _drop_dead(self.fn)
        return self.fn

    def call_runtime(self, name: str, args: list[int]) -> int:
        for i, v in enumerate(args):
            self.emit("copy", i, (v,))
        self.emit("call", 0, tuple(range(len(args))), func=name)
        self.fn.calls.add(name)
        r = self.new()
        self.emit("copy", r, (0,))
        return r

    def block(self, body: list[ast.stmt]) -> None:
        for s in body:
            self.line = s.lineno
            self.stmt(s)

    # ------------------------------------------------------------------ statements

    def stmt(self, s: ast.stmt) -> None:
        if isinstance(s, ast.Assign):
            t0 = s.targets[0]
            if (len(s.targets) == 1 and isinstance(t0, (ast.Tuple, ast.List))
                    and isinstance(s.value, ast.Tuple) and len(t0.elts) == len(s.value.elts)):
                values = [self.fresh(self.expr(v)) for v in s.value.elts]  # the right side first
                for t, v in zip(t0.elts, values):
                    self.assign(t, v)
                return
            v = self.expr(s.value)
            for t in s.targets:
                self.assign(t, v)
        elif isinstance(s, ast.AugAssign):
            if isinstance(s.target, ast.Name) and is_list(self.kind(s.target)):
                self.extend(self.var(s.target.id), s.value)  # xs += ys: in place
                return
            name = _BIN[type(s.op)]
            if getattr(s, "_nc_overflow", False) and self.overflow is not None:
                self.checked_add(self.var(s.target.id), self.expr(s.value))  # signed x += y
                return
            if isinstance(s.target, ast.Name):
                var = self.var(s.target.id)
                self.emit("copy", var, (self.binop(name, var, s.value, s),))
            else:
                lst = self.expr(s.target.value)
                addr = self.element_address(lst, s.target.slice)
                old = self.op("read", addr)
                self.emit("write", srcs=(addr, self.binop(name, old, s.value, s)))
        elif isinstance(s, ast.If):
            end = self.new_label("endif")
            if s.orelse:
                other = self.new_label("else")
                self.cjump(s.test, other, False)
                self.block(s.body)
                self.emit("goto", label=end)
                self.place(other)
                self.block(s.orelse)
            else:
                self.cjump(s.test, end, False)
                self.block(s.body)
            self.place(end)
        elif isinstance(s, ast.While):
            self.while_loop(s)
        elif isinstance(s, ast.For):  # with `else`: a break jumps over the else block
            broke = self.new_label("broke") if s.orelse else None
            self.for_loop(s.iter, lambda v: self.assign(s.target, v),
                          lambda cont, brk: self.loop_body(s.body, cont, broke or brk),
                          s.lineno, target=s.target)
            if broke:
                self.block(s.orelse)
                self.place(broke)
        elif isinstance(s, ast.Return):
            v = self.expr(s.value) if s.value is not None else self.const(0)
            self.emit("copy", 0, (v,))
            self.emit("ret", srcs=(0,))
        elif isinstance(s, ast.Expr):
            self.expr(s.value)
        elif isinstance(s, ast.Delete):  # del xs[i]
            t = s.targets[0]
            self.pop(self.expr(t.value), self.expr(t.slice))
        elif isinstance(s, ast.Raise):  # `raise CODE [from (values)]` (raise/assert, .desugar)
            values = [self.expr(v) for v in s.cause.elts] if s.cause is not None else []
            for i, v in enumerate(values):  # the message's values, just below the error cell
                self.emit("write", srcs=(self.const(self.layout.error_cell - 1 - i), v))
            self.error_goto(raise_label(s.exc.value))
        elif isinstance(s, ast.Break):
            self.emit("goto", label=self.loops[-1][1])
        elif isinstance(s, ast.Continue):
            self.emit("goto", label=self.loops[-1][0])
        # ast.Pass: nothing

    def assign(self, t: ast.expr, v) -> None:
        """Assign the register ``v`` (a tuple of registers for a loop's tuple) to ``t``."""
        if isinstance(t, (ast.Tuple, ast.List)):
            if isinstance(v, tuple):
                for x, r in zip(t.elts, v):
                    self.assign(x, r)
                return
            v = self.fresh(v)  # unpack a list (a tuple's value): read each element first
            parts = [self.op("read", self.element_address(v, None, j))
                     for j in range(len(t.elts))]
            for x, r in zip(t.elts, parts):
                self.assign(x, r)
        elif isinstance(t, ast.Name):
            self.emit("copy", self.var(t.id), (v,))
        else:  # x[i] = v: Python evaluates the value, then x, then i
            lst = self.expr(t.value)
            self.emit("write", srcs=(self.element_address(lst, t.slice), v))

    def loop_body(self, body: list[ast.stmt], cont: str, brk: str) -> None:
        self.loops.append((cont, brk))
        self.depth += 1
        self.block(body)
        self.depth -= 1
        self.loops.pop()

    def while_loop(self, s: ast.While) -> None:
        top, cond, end = self.new_label("while"), self.new_label("test"), self.new_label("endwhile")
        forever = self.truth(s.test)
        broke = self.new_label("broke") if s.orelse else None  # a break skips the else block
        if forever is False:
            self.block(s.orelse)
            return
        if not forever:
            self.emit("goto", label=cond)
        self.place(top)
        self.loop_body(s.body, top if forever else cond, broke or end)
        self.line = s.lineno
        if forever:
            self.emit("goto", label=top)
        else:
            self.place(cond)
            self.depth += 1
            self.cjump(s.test, top, True)
            self.depth -= 1
        self.place(end)
        if broke:
            self.block(s.orelse)
            self.place(broke)

    # ------------------------------------------------------------------ loops over values

    def for_loop(self, it: ast.expr, bind, body, line: int, target: ast.expr | None = None,
                 enter=None) -> None:
        """``for target in it``: ``bind(value)`` assigns each value (a tuple of registers for
        ``enumerate``/``zip``), ``body(cont, brk)`` emits the body; ``enter()`` runs once the
        iterable is evaluated (a comprehension's names start there)."""
        enter = enter or (lambda: None)
        call = it.func.id if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) else None
        if call == "range":
            self.range_loop(it, bind, body, line, target, enter)
        elif call == "enumerate":
            lst = self.list_value(it.args[0])
            start = self.expr(it.args[1]) if len(it.args) > 1 else self.const(0)
            enter()
            count = self.new()
            self.emit("copy", count, (start,))
            self.walk([lst], lambda vs: bind((count, vs[0])), body, line,
                      step=lambda: self.emit("inc", count, (count,)))
        elif call == "zip":
            lists = [self.fresh(self.list_value(a)) for a in it.args]
            enter()
            self.walk(lists, lambda vs: bind(tuple(vs)), body, line)
        elif call == "reversed":
            lst = self.list_value(it.args[0])
            enter()
            self.walk([lst], lambda vs: bind(vs[0]), body, line, backward=True)
        else:
            lst = self.list_value(it)
            enter()
            into = self.var(target.id) if isinstance(target, ast.Name) else None
            self.walk([lst], lambda vs: bind(vs[0]), body, line, into=into)

    def range_loop(self, call: ast.Call, bind, body, line: int, target, enter) -> None:
        """``for v in range(a, b, step)``: Python's range over the reduced bounds.

        A hidden counter ``h`` runs the loop (assigning ``v`` does not change it); with a step
        ``|s| > 1`` the next value is taken only while it stays below (above) the stop, so the
        counter never wraps around n. A step computed at run time is checked to be non-zero
        and counts up (values are unsigned).
        """
        args = call.args
        step = range_step(args[2]) if len(args) == 3 else 1
        start = self.expr(args[0]) if len(args) > 1 else self.const(0)
        stop_value = self.expr(args[1] if len(args) > 1 else args[0])
        size = neg = None
        if step is None:  # a run-time step
            size = self.fresh(self.expr(args[2]))
            self.error_jump(self.op("not", size), ERR_STEP)
            step = 2  # the general up-counting code
            if self.overflow is not None:  # signed: the step's sign picks the direction
                neg = self.op("ge", size, self.const(self.n - self.n // 2))
        elif step == 0:
            self.error_goto(ERR_STEP)
            return
        enter()
        h, stop = self.new(), self.new()
        self.emit("copy", h, (start,))
        self.emit("copy", stop, (stop_value,))
        big = abs(step) >= self.n
        if size is None:
            size = self.const(abs(step)) if abs(step) > 1 and not big else None
        body_l, cont, entry, end = (self.new_label(x) for x in ("for", "next", "test", "endfor"))
        up = step > 0
        self.emit("goto", label=entry)
        self.place(body_l)
        self.depth += 1
        if isinstance(target, ast.Name):
            self.emit("copy", self.var(target.id), (h,))
        else:
            bind(h)
        body(cont, end)
        self.line = line
        self.place(cont)
        if abs(step) == 1:
            self.emit("inc" if up else "dec", h, (h,))
        elif big:
            self.emit("goto", label=end)
        else:  # continue while the distance left exceeds the step
            left = self.op("sub", stop, h) if up else self.op("sub", h, stop)
            if neg is None:
                flag = self.op("gt", left, size)
            else:  # a negative step -d is n - d: the distance h - stop = n - left exceeds d
                # when left < n - d (left == size: the stop is reached either way)
                flag = self.op("and", self.op("ne", left, size),
                               self.op("ne", self.op("gt", left, size), neg))
            self.emit("add" if up else "sub", h, (h, size))
            self.emit("jump", srcs=(flag,), label=body_l)
            self.emit("goto", label=end)
        self.place(entry)
        if neg is None:
            more = self.op("lt" if up else "gt", h, stop)
        else:  # h < stop counting up, h > stop counting down
            more = self.op("and", self.op("ne", h, stop), self.op("eq", self.op("gt", h, stop), neg))
        self.emit("jump", srcs=(more,), label=body_l)
        self.depth -= 1
        self.place(end)

    def walk(self, lists: list[int], bind, body, line: int, step=None,
             backward: bool = False, into: int | None = None) -> None:
        """Walk the elements of ``lists`` together (``zip``): while every one has an element.

        When no list of the program changes length, a hidden pointer walks the first list's
        elements (re-read each iteration); otherwise an index is compared with the lengths
        read again each iteration (a loop may append to the list it walks, as in Python).
        """
        body_l, cont, entry, end = (self.new_label(x) for x in ("for", "next", "test", "endfor"))
        if not self.mutates and len(lists) == 1 and not backward:
            lst = lists[0]
            ptr = self.new()
            self.emit("copy", ptr, (self.base(lst),))
            last = self.op("add", ptr, self.length(lst))
            self.emit("goto", label=entry)
            self.place(body_l)
            self.depth += 1
            if into is not None:  # straight into the loop variable
                self.emit("read", into, (ptr,))
            else:
                value = self.new()
                self.emit("read", value, (ptr,))
                bind([value])
            body(cont, end)
            self.line = line
            self.place(cont)
            if step:
                step()
            self.emit("inc", ptr, (ptr,))
            self.place(entry)
            self.emit("jump", srcs=(self.op("lt", ptr, last),), label=body_l)
            self.depth -= 1
            self.place(end)
            return
        i = self.new()
        lists = [self.fresh(x) for x in lists]
        if backward:
            self.emit("copy", i, (self.length(lists[0]),))
        else:
            self.emit("zero", i)
        self.emit("goto", label=entry)
        self.place(body_l)
        self.depth += 1
        if backward:
            self.emit("dec", i, (i,))
        values = []
        for lst in lists:
            v = self.new()
            self.emit("read", v, (self.op("add", self.base(lst), i),))
            values.append(v)
        bind(values)
        body(cont, end)
        self.line = line
        self.place(cont)
        if step:
            step()
        if not backward:
            self.emit("inc", i, (i,))
        self.place(entry)
        if backward:
            flag = self.op("not", self.op("not", i))
            flag = self.op("and", flag, self.op("le", i, self.length(lists[0])))
        else:
            flag = self.op("lt", i, self.length(lists[0]))
            for lst in lists[1:]:
                flag = self.op("and", flag, self.op("lt", i, self.length(lst)))
        self.emit("jump", srcs=(flag,), label=body_l)
        self.depth -= 1
        self.place(end)

    def each(self, it: ast.expr, fn) -> None:
        """Call ``fn(value, done)`` for each value of ``it`` (a list, a range, ``reversed``,
        a generator expression); ``goto done`` leaves the whole walk."""
        done = self.new_label("done")
        if isinstance(it, (ast.List, ast.Tuple)):  # max([a, b, c]): no list is made
            for elt in it.elts:
                fn(self.expr(elt), done)
        elif isinstance(it, ast.GeneratorExp):
            self.comprehension(it, lambda cont: fn(self.expr(it.elt), done))
        else:
            box = []
            self.for_loop(it, box.append, lambda cont, brk: fn(box[-1], done), self.line)
        self.place(done)

    def comprehension(self, e, inner) -> None:
        """The clauses of a comprehension, innermost ``inner(cont)``; its variables are its
        own (they do not change the function's names)."""
        saved = dict(self.scope)

        def enter() -> None:  # after the first iterable, evaluated outside (as in Python)
            for g in e.generators:
                for node in ast.walk(g.target):
                    if isinstance(node, ast.Name):
                        r = self.new()
                        self.scope[node.id] = r
                        self.vars_set.add(r)

        def clause(k: int, cont: str, brk: str) -> None:
            g = e.generators[k]
            for c in g.ifs:
                self.cjump(c, cont, False)
            if k + 1 < len(e.generators):
                nxt = e.generators[k + 1]
                self.for_loop(nxt.iter, lambda v: self.assign(nxt.target, v),
                              lambda c2, b2: clause(k + 1, c2, b2), self.line, target=nxt.target)
            else:
                inner(cont)

        g0 = e.generators[0]
        self.for_loop(g0.iter, lambda v: self.assign(g0.target, v),
                      lambda c, b: clause(0, c, b), self.line, target=g0.target, enter=enter)
        self.scope = saved

    # ------------------------------------------------------------------ conditions

    def cjump(self, e: ast.expr, label: str, when: bool) -> None:
        """Jump to ``label`` when the truth of ``e`` is ``when``; fall through otherwise."""
        c = self.truth(e)
        if c is not None:
            if c == when:
                self.emit("goto", label=label)
            return
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not):
            self.cjump(e.operand, label, not when)
        elif isinstance(e, ast.BoolOp):
            is_and = isinstance(e.op, ast.And)
            if is_and != when:  # and→False, or→True: any operand decides
                for v in e.values:
                    self.cjump(v, label, when)
            else:
                skip = self.new_label("skip")
                for v in e.values[:-1]:
                    self.cjump(v, skip, not when)
                self.cjump(e.values[-1], label, when)
                self.place(skip)
        elif isinstance(e, ast.Compare) and not self.simple_compare(e):
            self.truth_jump(self.compare_value(e), "int", label, when)
        elif isinstance(e, ast.Compare) and self.zero_compare(e) is not None:
            how, x = self.zero_compare(e)
            v = self.expr(x)
            if isinstance(how, bool):
                if how == when:
                    self.emit("goto", label=label)
            else:
                self.truth_jump(v, "int", label, when if how == "truth" else not when)
        elif isinstance(e, ast.Compare):
            skip = self.new_label("skip") if when and len(e.ops) > 1 else None
            left = self.expr(e.left)
            for i, (op, comp) in enumerate(zip(e.ops, e.comparators)):
                right = self.expr(comp)
                name = _CMP[type(op)]
                last = i == len(e.ops) - 1
                if when and last:
                    self.jump_if(name, left, right, label)
                elif when:
                    self.jump_if(_NEG[name], left, right, skip)
                else:
                    self.jump_if(_NEG[name], left, right, label)
                left = right
            if skip:
                self.place(skip)
        else:
            self.truth_jump(self.expr(e), self.kind(e), label, when)

    def simple_compare(self, e: ast.Compare) -> bool:
        """Only integer comparisons (no ``in``, no list equality)."""
        nodes = [e.left, *e.comparators]
        return all(type(op) in _CMP for op in e.ops) and not any(
            is_list(self.kind(x)) for x in nodes)

    def jump_if(self, name: str, a: int, b: int, label: str) -> None:
        self.emit("jump", srcs=(self.op(name, a, b),), label=label)

    def zero_compare(self, e: ast.Compare):
        """A single comparison with the literal 0 as ``(how, operand)``: ``how`` is ``"not"``,
        ``"truth"`` or the constant result (values are unsigned: ``x >= 0`` always holds)."""
        if len(e.ops) != 1 or type(e.ops[0]) not in _CMP:
            return None
        name = _CMP[type(e.ops[0])]
        left, right = e.left, e.comparators[0]
        if _const(right, self.n) == 0:
            x = left
        elif _const(left, self.n) == 0:
            x = right
            name = {"lt": "gt", "gt": "lt", "le": "ge", "ge": "le"}.get(name, name)
        else:
            return None
        how = {"eq": "not", "le": "not", "ne": "truth", "gt": "truth", "ge": True,
               "lt": False}[name]
        return how, x

    def truth_jump(self, v: int, kind: str, label: str, when: bool) -> None:
        if is_list(kind):  # a list is true when it is not empty
            v = self.length(v)
        if not when:
            self.emit("jump", srcs=(self.op("not", v),), label=label)
        elif v in self.boolean:
            self.emit("jump", srcs=(v,), label=label)
        else:
            self.emit("jump", srcs=(self.op("not", self.op("not", v)),), label=label)

    # ------------------------------------------------------------------ expressions

    def expr(self, e: ast.expr) -> int:
        c = _const(e, self.n)
        if c is not None:
            return self.const(c)
        if isinstance(e, ast.Name):
            return self.var(e.id)
        if isinstance(e, ast.UnaryOp):
            v = self.expr(e.operand)
            if isinstance(e.op, ast.Not):
                if is_list(self.kind(e.operand)):
                    v = self.length(v)
                return self.op("not", v)
            return self.op("sub", self.const(0), v)
        if isinstance(e, ast.BinOp):
            rep = repeat_count(e)
            if rep is not None:
                return self.repeat(e, rep)
            if isinstance(e.op, ast.Add) and is_list(self.kind(e)):
                return self.concat(self.expr(e.left), self.expr(e.right))
            left = self.expr(e.left)
            bounds = getattr(e, "_nc_overflow", None)  # signed x + c, x - c, x * c (.desugar)
            if bounds is not None and self.overflow is not None and not is_list(self.kind(e)):
                self.check_interval(left, *bounds)
            return self.binop(_BIN[type(e.op)], left, e.right, e)
        if isinstance(e, ast.BoolOp):
            return self.boolop(e)
        if isinstance(e, ast.Compare):
            return self.compare_value(e)
        if isinstance(e, ast.IfExp):
            r, other, end = self.new(), self.new_label("else"), self.new_label("endif")
            self.cjump(e.test, other, False)
            self.emit("copy", r, (self.expr(e.body),))
            self.emit("goto", label=end)
            self.place(other)
            self.emit("copy", r, (self.expr(e.orelse),))
            self.place(end)
            return r
        if isinstance(e, ast.Call):
            return self.call(e)
        if isinstance(e, (ast.List, ast.Tuple)):
            return self.new_list(values=[self.expr(v) for v in e.elts])
        if isinstance(e, ast.ListComp):
            count = self.known_count(e)
            if count is not None:  # one value per iteration, as many as known: no growing
                out = self.new_list(length=count)
                base, j = self.base_of[out], self.new()
                self.emit("zero", j)

                def put(cont):
                    self.emit("write", srcs=(self.op("add", base, j), self.expr(e.elt)))
                    self.emit("inc", j, (j,))
                self.comprehension(e, put)
                return out
            out = self.new_list(values=[])
            self.comprehension(e, lambda cont: self.push(out, self.expr(e.elt), fresh=True))
            return out
        if isinstance(e, ast.GeneratorExp):
            return self.list_value(e)
        if isinstance(e, ast.Subscript):
            if isinstance(e.slice, ast.Slice):
                return self.slice(self.expr(e.value), e.slice)
            return self.op("read", self.element_address(self.expr(e.value), e.slice))
        raise AssertionError(f"unchecked expression {ast.dump(e)}")  # the checker rejects it

    def known_count(self, e: ast.ListComp) -> int | None:
        """How many values ``[v for x in it]`` makes when that is known before the walk: one
        clause, no ``if``, over ``range(a[, b])`` with plain bounds or over a list no code
        can change the length of (a register; None otherwise)."""
        if len(e.generators) != 1 or e.generators[0].ifs:
            return None
        it = e.generators[0].iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range":
            if len(it.args) > 2 or not all(_plain(a) for a in it.args):
                return None
            if len(it.args) == 1:
                return self.fresh(self.expr(it.args[0]))
            a, b = self.fresh(self.expr(it.args[0])), self.expr(it.args[1])
            return self.op("sub", self.op("max", a, b), a)
        if isinstance(it, ast.Name) and not self.mutates and is_list(self.kind(it)):
            return self.fresh(self.length(self.var(it.id)))
        return None

    def binop(self, name: str, a: int, right: ast.expr, node: ast.AST) -> int:
        c = _const(right, self.n)
        if c is not None:
            if (name, c) in (("add", 1), ("sub", self.n - 1)):
                return self.op("inc", a)
            if (name, c) in (("sub", 1), ("add", self.n - 1)):
                return self.op("dec", a)
            if name in ("div", "mod") and c == 0:
                self.error_goto(ERR_DIV)
                return self.const(0)
            return self.op(name, a, self.const(c))
        b = self.expr(right)
        if name in ("div", "mod"):
            self.error_jump(self.op("not", b), ERR_DIV)
        return self.op(name, a, b)

    def boolop(self, e: ast.BoolOp) -> int:
        """``a and b`` / ``a or b``: the deciding operand itself (Python's meaning)."""
        r = self.new()
        end = self.new_label("bool")
        kind = self.kind(e)
        is_and = isinstance(e.op, ast.And)
        all_bool = True
        for v in e.values[:-1]:
            x = self.expr(v)
            all_bool &= x in self.boolean
            self.emit("copy", r, (x,))
            self.truth_jump(r, kind, end, not is_and)
        x = self.expr(e.values[-1])
        all_bool &= x in self.boolean
        self.emit("copy", r, (x,))
        self.place(end)
        if all_bool:
            self.boolean.add(r)
        return r

    def compare_value(self, e: ast.Compare) -> int:
        z = self.zero_compare(e) if self.simple_compare(e) else None
        if z is not None:
            v = self.expr(z[1])
            if isinstance(z[0], bool):
                return self.const(int(z[0]))
            return self.op("not", v if z[0] == "not" else self.op("not", v))
        left = self.expr(e.left)
        if len(e.ops) == 1:
            return self.compare(e.ops[0], left, self.operand(e.ops[0], e.comparators[0]),
                                e.left, e.comparators[0])
        r = self.new()
        self.boolean.add(r)
        end = self.new_label("cmp")
        lnode = e.left
        for i, (op, comp) in enumerate(zip(e.ops, e.comparators)):
            right = self.operand(op, comp) if i == len(e.ops) - 1 else self.expr(comp)
            self.emit("copy", r, (self.compare(op, left, right, lnode, comp),))
            if i < len(e.ops) - 1:
                self.emit("jump", srcs=(self.op("not", r),), label=end)
            left, lnode = right, comp
        self.place(end)
        return r

    def compare(self, op: ast.cmpop, a: int, b: int | None, an: ast.expr,
                bn: ast.expr) -> int:
        if isinstance(op, (ast.In, ast.NotIn)) and b is None and isinstance(bn, ast.Call):
            r = self.in_range(a, bn)
            return self.op("not", r) if isinstance(op, ast.NotIn) else r
        if isinstance(op, (ast.In, ast.NotIn)) and b is None:  # x in (1, 2, 3): no list made
            r = self.new()
            self.emit("zero", r)
            self.boolean.add(r)
            kind = elem_kind(self.kind(bn)) or "int"
            a = self.fresh(a)
            end = self.new_label("found")
            for elt in bn.elts:
                self.emit("copy", r, (self.equal(a, self.expr(elt), kind),))
                self.emit("jump", srcs=(r,), label=end)
            self.place(end)
            return self.op("not", r) if isinstance(op, ast.NotIn) else r
        if isinstance(op, (ast.In, ast.NotIn)):
            r = self.contains(b, a, elem_kind(self.kind(bn)) or "int")
            return self.op("not", r) if isinstance(op, ast.NotIn) else r
        if is_list(self.kind(an)):
            r = self.equal(a, b, self.kind(an))
            return self.op("not", r) if isinstance(op, ast.NotEq) else r
        return self.op(_CMP[type(op)], a, b)

    def operand(self, op: ast.cmpop, e: ast.expr) -> int | None:
        """The right operand of a comparison; None for the literal list of ``x in [1, 2]``
        (its values are compared one by one) and for ``x in range(...)``."""
        if isinstance(op, (ast.In, ast.NotIn)) and (isinstance(e, (ast.List, ast.Tuple)) or (
                isinstance(e, ast.Call) and isinstance(e.func, ast.Name)
                and e.func.id == "range")):
            return None
        return self.expr(e)

    def in_range(self, x: int, call: ast.Call) -> int:
        """``x in range(a, b, s)``: ``a <= x < b`` (``>`` for a negative literal step) and
        the step divides ``x - a``."""
        args = call.args
        x = self.fresh(x)
        start = self.expr(args[0]) if len(args) > 1 else self.const(0)
        stop = self.expr(args[1] if len(args) > 1 else args[0])
        step = range_step(args[2]) if len(args) == 3 else 1
        size = None
        if step is None:
            size = self.fresh(self.expr(args[2]))
            self.error_jump(self.op("not", size), ERR_STEP)
            step = 2
            if self.overflow is not None:  # signed: the step's sign picks the direction
                return self.in_signed_range(x, start, stop, size)
        elif step == 0:
            self.error_goto(ERR_STEP)
            return self.const(0)
        if step > 0:
            r = self.op("and", self.op("le", start, x), self.op("lt", x, stop))
            off = self.op("sub", x, start)
        else:
            r = self.op("and", self.op("ge", start, x), self.op("gt", x, stop))
            off = self.op("sub", start, x)
        if abs(step) != 1:
            k = size if size is not None else self.const(abs(step))
            r = self.op("and", r, self.op("not", self.op("mod", off, k)))
        self.boolean.add(r)
        return r

    def in_signed_range(self, x: int, start: int, stop: int, size: int) -> int:
        """``x in range(a, b, s)`` (biased bounds, see .desugar) with a signed run-time step:
        with ``sign`` = 1 or -1, ``0 <= (x - a) * sign < (b - a) * sign`` as distances and
        ``s * sign`` divides ``(x - a) * sign``."""
        neg = self.op("ge", size, self.const(self.n - self.n // 2))
        up = self.op("and", self.op("le", start, x), self.op("lt", x, stop))
        down = self.op("and", self.op("ge", start, x), self.op("gt", x, stop))
        inside = self.op("or", self.op("and", neg, down),
                         self.op("and", self.op("not", neg), up))
        sign = self.op("sub", self.const(1), self.op("add", neg, neg))  # 1 or n - 1
        off = self.op("mul", self.op("sub", x, start), sign)
        r = self.op("and", inside, self.op("not", self.op("mod", off,
                                                            self.op("mul", size, sign))))
        self.boolean.add(r)
        return r

    def check_interval(self, x: int, first: int, last: int) -> None:
        """Stop with ``integer overflow`` unless the signed reading of ``x`` lies in
        ``first .. last``: ``(x - first) mod n <= last - first`` (one compare), or
        ``x != v`` when the interval leaves out the one value ``v``."""
        if last - first == self.n - 2:
            bad = self.op("eq", x, self.const(last + 1 if last + 1 < self.n - self.n // 2
                                              else first - 1))
        else:
            bad = self.op("gt", self.op("sub", x, self.const(first)), self.const(last - first))
        self.error_jump(bad, raise_label(self.overflow))

    def checked_add(self, acc: int, v: int) -> None:
        """Signed ``acc += v``, stopping with ``integer overflow`` when both operands have
        one sign and the sum the other."""
        p = self.const(self.n - self.n // 2)
        r = self.op("add", acc, v)
        na = self.op("ge", acc, p)
        bad = self.op("and", self.op("eq", na, self.op("ge", v, p)),
                      self.op("ne", na, self.op("ge", r, p)))
        self.error_jump(bad, raise_label(self.overflow))
        self.emit("copy", acc, (r,))

    def call(self, e: ast.Call) -> int:
        if isinstance(e.func, ast.Attribute):
            return self.method(e)
        name = e.func.id
        if name in ITERABLE_BUILTINS:
            return self.builtin(name, e)
        args = [self.expr(a) for a in e.args]
        for i, v in enumerate(args):
            self.emit("copy", i, (v,))
        self.emit("call", 0, tuple(range(len(args))), func=name)
        self.forget()
        r = self.new()
        self.emit("copy", r, (0,))
        return r

    # ------------------------------------------------------------------ builtins of lists

    def plain_list(self, e: ast.expr) -> bool:
        """``e`` is a list value (not a range, generator or reversed view)."""
        if isinstance(e, ast.GeneratorExp):
            return False
        return not (isinstance(e, ast.Call) and isinstance(e.func, ast.Name)
                    and e.func.id in ("range", "reversed", "enumerate", "zip"))

    def list_value(self, e: ast.expr) -> int:
        """A list register for an iterable: a list as it is; a range, ``reversed(...)`` or a
        generator expression made into a new list."""
        if self.plain_list(e):
            return self.expr(e)
        if isinstance(e, ast.Call) and e.func.id == "reversed":
            return self.copy_list(self.list_value(e.args[0]), backward=True)
        out = self.new_list(values=[])
        self.each(e, lambda v, done: self.push(  # enumerate/zip give pairs: lists of two
            out, self.new_list(values=list(v)) if isinstance(v, tuple) else v, fresh=True))
        return out

    def builtin(self, name: str, e: ast.Call) -> int:
        args = e.args
        if name in ("min", "max") and len(args) >= 2:
            r = self.expr(args[0])
            for a in args[1:]:
                r = self.op(name, r, self.expr(a))
            return r
        if name == "list" and not args:
            return self.new_list(values=[])
        it = args[0]
        if name == "len" and self.plain_list(it):
            return self.length(self.expr(it))
        if name in ("list", "sorted", "tuple"):
            out = self.copy_list(self.expr(it)) if self.plain_list(it) else self.list_value(it)
            if name == "sorted":
                rev = any(k.arg == "reverse" and k.value.value for k in e.keywords)
                self.sort(out, rev, elem_kind(self.kind(e)) or "int")
            return out
        if name == "reversed":
            return self.list_value(e)
        acc = self.new()
        if name in ("sum", "len"):
            self.emit("copy", acc, (self.expr(args[1]) if len(args) > 1 else self.const(0),))

            def add(v, done):
                if name == "sum" and self.overflow is not None:
                    self.checked_add(acc, v)
                    return
                self.emit("inc" if name == "len" else "add", acc,
                          (acc,) if name == "len" else (acc, v))
            self.each(it, add)
            return acc
        if name in ("any", "all"):
            self.emit("copy", acc, (self.const(int(name == "all")),))
            self.boolean.add(acc)

            def test(v, done):
                skip = self.new_label("skip")
                self.truth_jump(v, elem_kind(self.kind(it)) or "int", skip, name == "all")
                self.emit("copy", acc, (self.const(int(name == "any")),))
                self.emit("goto", label=done)
                self.place(skip)
            self.each(it, test)
            return acc
        # min / max of one iterable: ValueError when it is empty
        seen = self.new()
        self.emit("zero", seen)
        self.emit("copy", acc, (self.const(self.n - 1 if name == "min" else 0),))

        kind = elem_kind(self.kind(it)) or "int"

        def pick(v, done):
            if is_list(kind):  # lists in Python's order; the first of equal ones is kept
                take, keep = self.new_label("take"), self.new_label("keep")
                self.emit("jump", srcs=(self.op("not", seen),), label=take)
                better = self.less(v, acc, kind) if name == "min" else self.less(acc, v, kind)
                self.emit("jump", srcs=(self.op("not", better),), label=keep)
                self.place(take)
                self.emit("copy", acc, (v,))
                self.place(keep)
            else:
                self.emit(name, acc, (acc, v))
            self.emit("set", seen, imm=1)
        self.each(it, pick)
        self.error_jump(self.op("not", seen), ERR_EMPTY)
        return acc

    def copy_list(self, src: int, backward: bool = False) -> int:
        """A new list with the elements of ``src`` (reversed when ``backward``)."""
        src = self.fresh(src)
        length = self.fresh(self.length(src))
        out, base, _ = self.lists.allocate(self, length=length)
        self.length_of[out] = length
        self.base_of[out] = base
        self.copy_elements(self.base(src), base, length, backward)
        return out

    def copy_elements(self, src: int, dst: int, count: int, backward: bool = False,
                      stride: int | None = None) -> None:
        """``dst[j] = src[j * stride]`` for ``j < count`` (stride 1, or -1 backward from the
        end; a register ``stride`` steps by that many). With a stack, the shared routine
        :data:`COPY` does it (less code)."""
        if self.layout.stack:
            if backward:
                src = self.op("dec", self.op("add", src, count))
                stride = self.const(-1)
            elif stride is None:
                stride = self.const(1)
            self.call_runtime(COPY, [src, dst, count, stride])
            return
        s, d = self.new(), self.new()
        if backward:
            self.emit("add", s, (src, count))
            self.emit("dec", s, (s,))
        else:
            self.emit("copy", s, (src,))
        self.emit("copy", d, (dst,))
        end = self.op("add", dst, count)
        top, test = self.new_label("copy"), self.new_label("copytest")
        self.emit("goto", label=test)
        self.place(top)
        self.emit("write", srcs=(d, self.op("read", s)))
        if stride is not None:
            self.emit("add", s, (s, stride))
        else:
            self.emit("dec" if backward else "inc", s, (s,))
        self.emit("inc", d, (d,))
        self.place(test)
        self.emit("jump", srcs=(self.op("lt", d, end),), label=top)

    def sort(self, lst: int, reverse: bool, kind: str = "int") -> None:
        """Insertion sort in place (stable, like ``sorted``); lists of lists in Python's
        order (element by element, then the shorter first)."""
        base, length = self.base(lst), self.length(lst)
        i, j, key, prev = self.new(), self.new(), self.new(), self.new()
        outer, otest, inner, itest, ins = (self.new_label(x) for x in (
            "sort", "sorttest", "shift", "shifttest", "insert"))
        end = self.op("add", base, length)
        self.emit("inc", i, (base,))
        self.emit("goto", label=otest)
        self.place(outer)
        self.emit("read", key, (i,))
        self.emit("copy", j, (i,))
        self.emit("goto", label=itest)
        self.place(inner)
        self.emit("write", srcs=(j, prev))
        self.emit("dec", j, (j,))
        self.place(itest)
        self.emit("jump", srcs=(self.op("not", self.op("gt", j, base)),), label=ins)
        self.emit("read", prev, (self.op("dec", j),))
        before = self.less(prev, key, kind) if reverse else self.less(key, prev, kind)
        self.emit("jump", srcs=(before,), label=inner)
        self.place(ins)
        self.emit("write", srcs=(j, key))
        self.emit("inc", i, (i,))
        self.place(otest)
        self.emit("jump", srcs=(self.op("lt", i, end),), label=outer)

    def less(self, a: int, b: int, kind: str) -> int:
        """``a < b`` for integers, or in Python's order of lists."""
        if not is_list(kind):
            return self.op("lt", a, b)
        r, i = self.new(), self.new()
        self.boolean.add(r)
        la, lb = self.length(a), self.length(b)
        ba, bb = self.base(a), self.base(b)
        self.emit("zero", i)
        top, test, end = self.new_label("cmp"), self.new_label("cmptest"), self.new_label("cmpend")
        self.emit("goto", label=test)
        self.place(top)
        ea = self.op("read", self.op("add", ba, i))
        eb = self.op("read", self.op("add", bb, i))
        sub = elem_kind(kind) or "int"
        self.emit("inc", i, (i,))
        self.emit("copy", r, (self.less(ea, eb, sub),))
        self.emit("jump", srcs=(self.op("not", self.equal(ea, eb, sub)),), label=end)
        self.place(test)
        self.emit("jump", srcs=(self.op("lt", i, self.op("min", la, lb)),), label=top)
        self.emit("lt", r, (la, lb))
        self.place(end)
        return r

    def contains(self, lst: int, x: int, kind: str) -> int:
        r = self.new()
        self.emit("zero", r)
        self.boolean.add(r)
        x = self.fresh(x)
        done = self.new_label("found")

        def test(v, brk):
            skip = self.new_label("skip")
            self.emit("jump", srcs=(self.op("not", self.equal(v, x, kind)),), label=skip)
            self.emit("set", r, imm=1)
            self.emit("goto", label=done)
            self.place(skip)
        box: list = []
        self.walk([lst], box.append, lambda cont, brk: test(box[-1][0], brk), self.line)
        self.place(done)
        return r

    def equal(self, a: int, b: int, kind: str) -> int:
        """``a == b`` for integers, or element by element for lists."""
        if not is_list(kind):
            return self.op("eq", a, b)
        r = self.new()
        self.boolean.add(r)
        a, b = self.fresh(a), self.fresh(b)
        end = self.new_label("eqend")
        la, lb = self.length(a), self.length(b)
        self.emit("eq", r, (la, lb))
        self.emit("jump", srcs=(self.op("not", r),), label=end)
        i = self.new()
        self.emit("zero", i)
        top, test = self.new_label("eq"), self.new_label("eqtest")
        self.emit("goto", label=test)
        self.place(top)
        ea = self.op("read", self.op("add", self.base(a), i))
        eb = self.op("read", self.op("add", self.base(b), i))
        self.emit("copy", r, (self.equal(ea, eb, elem_kind(kind)),))
        self.emit("jump", srcs=(self.op("not", r),), label=end)
        self.emit("inc", i, (i,))
        self.place(test)
        self.emit("jump", srcs=(self.op("lt", i, self.length(a)),), label=top)
        self.place(end)
        return r

    # ------------------------------------------------------------------ list methods

    def method(self, e: ast.Call) -> int:
        name = e.func.attr
        lst = self.expr(e.func.value)
        if name == "append":
            self.push(lst, self.expr(e.args[0]))
            return self.new()  # None: only a statement uses it (and reads nothing)
        if name == "extend":
            self.extend(lst, e.args[0])
            return self.new()
        if name == "copy":
            return self.copy_list(lst)
        if name == "pop":
            return self.pop(lst, self.expr(e.args[0]) if e.args else None)
        if name == "insert":
            return self.insert(lst, self.expr(e.args[0]), self.expr(e.args[1]))
        if name == "sort":
            self.sort(lst, any(k.arg == "reverse" and k.value.value for k in e.keywords),
                      elem_kind(self.kind(e.func.value)) or "int")
            return self.new()
        if name == "reverse":
            self.reverse(lst)
            return self.new()
        if name == "clear":
            self.lists.store_length(self, lst, self.const(0))
            self.forget()
            self.length_of[lst] = self.const(0)
            return self.new()
        # index / count / remove
        x = self.fresh(self.expr(e.args[0]))
        kind = elem_kind(self.kind(e.func.value)) or "int"
        r, i = self.new(), self.new()
        self.emit("zero", i)
        if name == "count":
            self.emit("zero", r)
        done = self.new_label("found")

        def test(v, brk):
            skip = self.new_label("skip")
            self.emit("jump", srcs=(self.op("not", self.equal(v, x, kind)),), label=skip)
            if name == "count":
                self.emit("inc", r, (r,))
            else:
                self.emit("copy", r, (i,))
                self.emit("goto", label=done)
            self.place(skip)
        box: list = []
        self.walk([lst], box.append, lambda cont, brk: test(box[-1][0], brk), self.line,
                  step=lambda: self.emit("inc", i, (i,)))
        if name != "count":
            self.error_goto(ERR_ABSENT)
        self.place(done)
        if name == "remove":
            self.pop(lst, r)
            return self.new()
        return r

    def reverse(self, lst: int) -> None:
        """``lst.reverse()``: swap from both ends (a list's base is never cell 0)."""
        i, j = self.new(), self.new()
        self.emit("copy", i, (self.base(lst),))
        self.emit("add", j, (i, self.length(lst)))
        self.emit("dec", j, (j,))
        top, test = self.new_label("rev"), self.new_label("revtest")
        self.emit("goto", label=test)
        self.place(top)
        a = self.op("read", i)
        self.emit("write", srcs=(i, self.op("read", j)))
        self.emit("write", srcs=(j, a))
        self.emit("inc", i, (i,))
        self.emit("dec", j, (j,))
        self.place(test)
        self.emit("jump", srcs=(self.op("lt", i, j),), label=top)

    def push(self, lst: int, v: int, fresh: bool = False) -> None:
        """``lst.append(v)``; ``fresh``: ``lst`` is a new list no other name shares."""
        v = self.fresh(v)
        length = self.fresh(self.length(lst))
        base = self.new()
        self.emit("copy", base, (self.base(lst),))
        self.lists.reserve_one(self, lst, length, base)
        self.emit("write", srcs=(self.op("add", base, length), v))
        new_length = self.op("inc", length)
        self.lists.store_length(self, lst, new_length)
        if not fresh:
            self.forget()
        self.length_of[lst] = new_length
        self.base_of[lst] = base

    def extend(self, lst: int, other: ast.expr) -> None:
        """``lst += other`` / ``lst.extend(other)``: the elements of ``other`` as it was
        (``xs += xs`` doubles ``xs``)."""
        src = self.fresh(self.expr(other))
        count = self.fresh(self.length(src))
        i = self.new()
        self.emit("zero", i)
        top, test = self.new_label("extend"), self.new_label("extendtest")
        self.emit("goto", label=test)
        self.place(top)
        v = self.op("read", self.op("add", self.base(src), i))
        self.push(lst, v)
        self.emit("inc", i, (i,))
        self.place(test)
        self.emit("jump", srcs=(self.op("lt", i, count),), label=top)

    def pop(self, lst: int, index: int | None) -> int:
        length = self.fresh(self.length(lst))
        base = self.base(lst)
        new_length = self.op("dec", length)
        if index is None:
            self.error_jump(self.op("not", length), ERR_INDEX)
            v = self.op("read", self.op("add", base, new_length))
        else:
            self.error_jump(self.op("ge", index, length), ERR_INDEX)
            at = self.op("add", base, index)
            v = self.op("read", at)
            self.copy_elements(self.op("inc", at), at, self.op("sub", new_length, index))
        self.lists.store_length(self, lst, new_length)
        self.forget()
        self.length_of[lst] = new_length
        return v

    def insert(self, lst: int, index: int, v: int) -> int:
        v = self.fresh(v)
        length = self.fresh(self.length(lst))
        index = self.op("min", index, length)  # Python inserts past the end at the end
        base = self.new()
        self.emit("copy", base, (self.base(lst),))
        self.lists.reserve_one(self, lst, length, base)
        at = self.op("add", base, index)
        p = self.new()
        self.emit("add", p, (base, length))
        top, test = self.new_label("shift"), self.new_label("shifttest")
        self.emit("goto", label=test)
        self.place(top)
        self.emit("write", srcs=(p, self.op("read", self.op("dec", p))))
        self.emit("dec", p, (p,))
        self.place(test)
        self.emit("jump", srcs=(self.op("gt", p, at),), label=top)
        self.emit("write", srcs=(at, v))
        new_length = self.op("inc", length)
        self.lists.store_length(self, lst, new_length)
        self.forget()
        self.length_of[lst] = new_length
        self.base_of[lst] = base
        return self.new()

    # ------------------------------------------------------------------ lists

    def element_address(self, lst: int, index: ast.expr | None, c: int | None = None) -> int:
        """The address of ``lst[index]`` (or ``lst[c]``) after checking ``index < len(lst)``
        (unsigned)."""
        if index is not None:
            c = _const(index, self.n)
        i = ("const", c) if c is not None else self.expr(index)
        if (lst, i) in self.known:
            return self.known[(lst, i)]
        length = self.length(lst)
        base = self.base(lst)
        if c == 0:
            self.error_jump(self.op("not", length), ERR_INDEX)
            addr = base
        else:
            r = self.const(c) if c is not None else i
            self.error_jump(self.op("ge", r, length), ERR_INDEX)
            addr = self.op("add", base, r)
        self.known[(lst, i)] = addr
        return addr

    def new_list(self, values: list[int] | None = None, count: int | None = None,
                 length: int | None = None, fill: int | None = None) -> int:
        """Allocate a list at hp (see :mod:`.lists`); its length and base are known."""
        x, base, length = self.lists.allocate(self, count=count, length=length, values=values,
                                              fill=fill)
        self.length_of[x] = length
        self.base_of[x] = base
        return x

    def repeat(self, e: ast.BinOp, rep) -> int:
        """``[v] * k``: ``k`` copies of the value (the same list, for a list value)."""
        elt, k = rep
        if isinstance(e.left, ast.List):
            v = self.expr(elt)
            count = None if k is not None else self.expr(e.right)
        else:
            count = None if k is not None else self.expr(e.left)
            v = self.expr(elt)
        if k is not None:
            return self.new_list(count=k, fill=v)
        return self.new_list(length=self.fresh(count), fill=self.fresh(v))

    def concat(self, a: int, b: int) -> int:
        a, b = self.fresh(a), self.fresh(b)
        la, lb = self.fresh(self.length(a)), self.fresh(self.length(b))
        total = self.op("add", la, lb)
        self.error_jump(self.op("lt", total, la), ERR_HEAP)  # wrapped around n
        out = self.new_list(length=total)
        base = self.base(out)
        self.copy_elements(self.base(a), base, la)
        self.copy_elements(self.base(b), self.op("add", base, la), lb)
        return out

    def slice(self, lst: int, sl: ast.Slice) -> int:
        """``lst[a:b:c]``: a new list (bounds clamped to the list, as in Python)."""
        lst = self.fresh(lst)
        length = self.length(lst)
        step = range_step(sl.step) if sl.step is not None else 1
        size = None
        if step is None:  # a run-time step (counts up: values are unsigned)
            size = self.fresh(self.expr(sl.step))
            self.error_jump(self.op("not", size), ERR_STEP)
        elif step == 0 or step % self.n == 0:
            self.error_goto(ERR_STEP)
            return self.new_list(values=[])
        if step is None and self.overflow is not None:
            return self.signed_slice(lst, length, sl, size)
        if step is None or step > 0:
            lo = self.op("min", self.expr(sl.lower), length) if sl.lower else self.const(0)
            hi = self.op("min", self.expr(sl.upper), length) if sl.upper else length
            span = self.op("sub", self.op("max", hi, lo), lo)
            start = lo
        else:  # a negative literal step: from the start down to (not including) the stop
            # (unsigned, n - 1 + 1 would wrap to 0: max keeps it; signed, the bounds are
            # -1 .. n/2 - 1 (.desugar) and -1 + 1 = 0 is meant)
            signed = self.overflow is not None
            if sl.lower:
                a = self.expr(sl.lower)
                a1 = self.op("inc", a)
                top = self.op("min", a1 if signed else self.op("max", a, a1), length)
            else:
                top = length  # one past the first index taken
            if sl.upper:
                b = self.expr(sl.upper)
                b1 = self.op("inc", b)
                low = self.op("min", b1 if signed else self.op("max", b, b1), top)
            else:
                low = self.const(0)
            span = self.op("sub", top, low)
            start = self.op("dec", top)
        k = size if size is not None else (self.const(abs(step)) if abs(step) != 1 else None)
        if k is None:
            count = span
        else:
            count = self.op("add", self.op("div", span, k),
                            self.op("ne", self.op("mod", span, k), self.const(0)))
        count = self.fresh(count)
        start = self.fresh(start)
        out = self.new_list(length=count)
        src = self.op("add", self.base(lst), start)
        stride = None
        if step is not None and step < 0:
            stride = self.op("sub", self.const(0), k) if k is not None else self.const(-1)
        elif k is not None:
            stride = k
        self.copy_elements(src, self.base(out), count, stride=stride)
        return out


    def signed_slice(self, lst: int, length: int, sl: ast.Slice, size: int) -> int:
        """``lst[a:b:s]`` with a signed run-time step: its sign picks the walk (up from
        ``a`` below ``b``, or down from ``a`` above ``b``); the bounds were clamped for
        that sign (.desugar)."""
        a = self.fresh(self.expr(sl.lower)) if sl.lower else None
        b = self.fresh(self.expr(sl.upper)) if sl.upper else None
        count, start = self.new(), self.new()
        down, done = self.new_label("sdown"), self.new_label("sdone")
        neg = self.op("ge", size, self.const(self.n - self.n // 2))
        self.emit("jump", srcs=(neg,), label=down)
        lo = self.op("min", a, length) if a is not None else self.const(0)
        hi = self.op("min", b, length) if b is not None else length
        span = self.op("sub", self.op("max", hi, lo), lo)
        self.emit("copy", count, (self.ceil_div(span, size),))
        self.emit("copy", start, (lo,))
        self.emit("goto", label=done)
        self.place(down)
        top = self.op("min", self.op("inc", a), length) if a is not None else length
        low = self.op("min", self.op("inc", b), top) if b is not None else self.const(0)
        mag = self.op("sub", self.const(0), size)
        self.emit("copy", count, (self.ceil_div(self.op("sub", top, low), mag),))
        self.emit("copy", start, (self.op("dec", top),))
        self.place(done)
        out = self.new_list(length=count)
        src = self.op("add", self.base(lst), start)
        self.copy_elements(src, self.base(out), count, stride=size)
        return out

    def ceil_div(self, span: int, k: int) -> int:
        return self.op("add", self.op("div", span, k),
                       self.op("ne", self.op("mod", span, k), self.const(0)))


def _const(e: ast.expr, n: int) -> int | None:
    """The value of a constant expression mod n (None when not constant or a division by 0)."""
    if isinstance(e, ast.Constant) and type(e.value) in (int, bool):
        return int(e.value) % n
    if isinstance(e, ast.UnaryOp):
        v = _const(e.operand, n)
        if v is None:
            return None
        return (-v) % n if isinstance(e.op, ast.USub) else int(v == 0)
    if isinstance(e, ast.BinOp) and type(e.op) in _BIN and not repeat_count(e):
        a, b = _const(e.left, n), _const(e.right, n)
        name = _BIN[type(e.op)]
        if a is None or b is None or (name in ("div", "mod") and b == 0):
            return None
        return _PY[name](a, b) % n
    return None


_PURE = {"zero", "set", "copy", "inc", "dec", "not", "read", *_CMP.values(), *_BIN.values(),
         "min", "max"}


def _drop_dead(fn: FunctionIR) -> None:
    """Remove instructions whose value (a virtual register) nothing reads: lengths and
    addresses loaded in case they were needed, values of expressions used for their effect."""
    while True:
        used = {r for ins in fn.code for r in ins.srcs}
        keep = [ins for ins in fn.code if not (ins.op in _PURE and ins.dst is not None
                                                and is_virtual(ins.dst) and ins.dst not in used)]
        if len(keep) == len(fn.code):
            return
        fn.code = keep


def _plain(e: ast.expr) -> bool:
    """An expression without calls (but ``len``) that can be evaluated twice."""
    if isinstance(e, (ast.Name, ast.Constant)):
        return True
    if isinstance(e, ast.BinOp):
        return _plain(e.left) and _plain(e.right)
    if isinstance(e, ast.UnaryOp):
        return _plain(e.operand)
    return (isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id == "len"
            and len(e.args) == 1 and isinstance(e.args[0], ast.Name))


def _last_line(node: ast.AST) -> int:
    return max((getattr(n, "end_lineno", 0) or 0 for n in ast.walk(node)), default=node.lineno)


def lower_function(mod: CheckedModule, name: str, layout: Layout, labels: dict[str, str],
                   errors: set[str], lists: ListLayout | None = None,
                   mutates: bool = False, info: FunctionInfo | None = None) -> FunctionIR:
    """Lower function ``name`` of ``mod`` (or the run-time routine ``info``); adds the error
    stubs it jumps to into ``errors``. ``lists``: the program's list layout; ``mutates``: some
    list changes length."""
    info = info or mod.functions[name]
    low = _Lowering(mod, info, layout, labels, errors, lists or ListLayout(False), mutates)
    if info.name == GROW:
        return low.runtime(lambda args: low.lists.grow(low, *args))
    if info.name == ALLOC:
        return low.runtime(lambda args: low.lists.alloc_routine(low, *args))
    if info.name == COPY:
        return low.runtime(lambda args: low.lists.copy_routine(low, *args))
    return low.function()
