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

from .ir import FunctionIR, Ins, Sym
from .layout import ERRORS, Layout, raise_label
from .validate import LIST, CheckedModule, FunctionInfo, range_step, repeat_count

__all__ = ["lower_function"]

_BIN = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.FloorDiv: "div", ast.Mod: "mod",
        ast.BitAnd: "and", ast.BitOr: "or", ast.BitXor: "xor"}
_CMP = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge"}
_NEG = {"eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "le": "gt", "gt": "le"}
_PY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
       "div": lambda a, b: a // b, "mod": lambda a, b: a % b, "and": lambda a, b: a & b,
       "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b}
ERR_DIV, ERR_INDEX, ERR_HEAP = (ERRORS[c][0] for c in (1, 2, 3))


class _Lowering:
    def __init__(self, mod: CheckedModule, info: FunctionInfo, layout: Layout,
                 labels: dict[str, str], errors: set[str]):
        self.info = info
        self.layout = layout
        self.n = layout.sizes.n
        self.m = layout.sizes.m
        self.labels = labels  # function name → its label
        self.errors = errors  # error stubs the program needs (filled in)
        self.fn = FunctionIR(info.name, labels[info.name], list(info.params), [],
                             info.node.lineno, set(info.calls))
        self.vars = {name: self.fn.new_vreg() for name in sorted(info.kinds)}
        self.vars_set = set(self.vars.values())
        self.boolean: set[int] = set()  # registers known to hold 0 or 1
        self.line = info.node.lineno
        self.depth = 0
        self.loops: list[tuple[str, str]] = []  # (continue label, break label)
        defs: dict[str, int] = {p: 1 for p in info.params}
        for node in ast.walk(info.node):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                defs[node.id] = defs.get(node.id, 0) + 1
        # list names assigned once: their length register lives through the function
        self.fixed_lists = {self.vars[x] for x, k in defs.items()
                            if k == 1 and info.kinds.get(x) == LIST}
        self.length_of: dict[int, int] = {}  # list register → its length register
        self.known: dict[tuple[int, int], int] = {}  # (list, index) → checked address
        self._nlabels = 0

    # ------------------------------------------------------------------ emission helpers

    def emit(self, op: str, dst: int | None = None, srcs: tuple[int, ...] = (), **kw) -> int | None:
        self.fn.code.append(Ins(op, dst, tuple(srcs), line=self.line, depth=self.depth, **kw))
        if op == "label":  # control may arrive from elsewhere: forget what this path knew
            self.length_of = {p: v for p, v in self.length_of.items() if p in self.fixed_lists}
            self.known = {}
        elif dst is not None and dst in self.vars_set:
            known = self.length_of.get(srcs[0]) if op == "copy" else None
            self.length_of.pop(dst, None)
            self.known = {k: v for k, v in self.known.items() if dst not in k}
            if known is not None:
                self.length_of[dst] = known
            elif dst in self.fixed_lists:
                self.length_of[dst] = self.load_length(dst)
        return dst

    def load_length(self, lst: int) -> int:
        r = self.new()
        self.emit("dec", r, (lst,))
        self.emit("read", r, (r,))
        return r

    def length(self, lst: int) -> int:
        """A register holding ``len(lst)``."""
        if lst not in self.length_of:
            self.length_of[lst] = self.load_length(lst)
        return self.length_of[lst]

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

    def truth(self, e: ast.expr) -> bool | None:
        """The truth of a constant condition (values mod n: ``while 128:`` is false at n=128)."""
        c = _const(e, self.n)
        return None if c is None else c != 0

    def kind(self, e: ast.expr) -> str:
        """int or list (the checker has made every expression's kind consistent)."""
        if isinstance(e, ast.Name):
            return self.info.kinds.get(e.id, "int")
        if isinstance(e, ast.List) or (isinstance(e, ast.BinOp) and repeat_count(e)):
            return LIST
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id in self.labels:
            return self.mod_returns[e.func.id]
        if isinstance(e, ast.BoolOp):
            return self.kind(e.values[0])
        return "int"

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
        return self.fn

    def block(self, body: list[ast.stmt]) -> None:
        for s in body:
            self.line = s.lineno
            self.stmt(s)

    # ------------------------------------------------------------------ statements

    def stmt(self, s: ast.stmt) -> None:
        if isinstance(s, ast.Assign):
            v = self.expr(s.value)
            for t in s.targets:
                self.assign(t, v)
        elif isinstance(s, ast.AugAssign):
            name = _BIN[type(s.op)]
            if isinstance(s.target, ast.Name):
                var = self.vars[s.target.id]
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
        elif isinstance(s, ast.For):
            it = s.iter
            if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range":
                self.range_loop(s, it)
            else:
                self.list_loop(s)
        elif isinstance(s, ast.Return):
            v = self.expr(s.value) if s.value is not None else self.const(0)
            self.emit("copy", 0, (v,))
            self.emit("ret", srcs=(0,))
        elif isinstance(s, ast.Expr):
            self.expr(s.value)
        elif isinstance(s, ast.Raise):  # `raise CODE` (from raise/assert, see .desugar)
            self.error_goto(raise_label(s.exc.value))
        elif isinstance(s, ast.Break):
            self.emit("goto", label=self.loops[-1][1])
        elif isinstance(s, ast.Continue):
            self.emit("goto", label=self.loops[-1][0])
        # ast.Pass: nothing

    def assign(self, t: ast.expr, v: int) -> None:
        if isinstance(t, ast.Name):
            self.emit("copy", self.vars[t.id], (v,))
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
        if forever is False:
            return
        if not forever:
            self.emit("goto", label=cond)
        self.place(top)
        self.loop_body(s.body, top if forever else cond, end)
        self.line = s.lineno
        if forever:
            self.emit("goto", label=top)
        else:
            self.place(cond)
            self.depth += 1
            self.cjump(s.test, top, True)
            self.depth -= 1
        self.place(end)

    def range_loop(self, s: ast.For, call: ast.Call) -> None:
        """``for v in range(a, b, step)``: Python's range over the reduced bounds.

        A hidden counter ``h`` runs the loop (assigning ``v`` does not change it); with a step
        ``|s| > 1`` the next value is taken only while it stays below (above) the stop, so the
        counter never wraps around n.
        """
        args = call.args
        step = range_step(args[2]) if len(args) == 3 else 1
        start = self.expr(args[0]) if len(args) > 1 else self.const(0)
        stop_value = self.expr(args[1] if len(args) > 1 else args[0])
        h, stop = self.new(), self.new()
        self.emit("copy", h, (start,))
        self.emit("copy", stop, (stop_value,))
        big = abs(step) >= self.n
        size = self.const(abs(step)) if abs(step) > 1 and not big else None
        body, cont, entry, end = (self.new_label(x) for x in ("for", "next", "test", "endfor"))
        up = step > 0
        self.emit("goto", label=entry)
        self.place(body)
        self.depth += 1
        self.emit("copy", self.vars[s.target.id], (h,))
        self.loop_body(s.body, cont, end)
        self.line = s.lineno
        self.place(cont)
        if abs(step) == 1:
            self.emit("inc" if up else "dec", h, (h,))
        elif big:
            self.emit("goto", label=end)
        else:  # continue while the distance left exceeds the step
            left = self.op("sub", stop, h) if up else self.op("sub", h, stop)
            flag = self.op("gt", left, size)
            self.emit("add" if up else "sub", h, (h, size))
            self.emit("jump", srcs=(flag,), label=body)
            self.emit("goto", label=end)
        self.place(entry)
        self.emit("jump", srcs=(self.op("lt" if up else "gt", h, stop),), label=body)
        self.depth -= 1
        self.place(end)

    def list_loop(self, s: ast.For) -> None:
        """``for v in xs``: a hidden pointer walks the elements (re-read every iteration)."""
        lst = self.expr(s.iter)
        ptr = self.new()
        self.emit("copy", ptr, (lst,))
        last = self.op("add", ptr, self.length(lst))
        body, cont, entry, end = (self.new_label(x) for x in ("for", "next", "test", "endfor"))
        self.emit("goto", label=entry)
        self.place(body)
        self.depth += 1
        self.emit("read", self.vars[s.target.id], (ptr,))
        self.loop_body(s.body, cont, end)
        self.line = s.lineno
        self.place(cont)
        self.emit("inc", ptr, (ptr,))
        self.place(entry)
        self.emit("jump", srcs=(self.op("lt", ptr, last),), label=body)
        self.depth -= 1
        self.place(end)

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

    def jump_if(self, name: str, a: int, b: int, label: str) -> None:
        self.emit("jump", srcs=(self.op(name, a, b),), label=label)

    def zero_compare(self, e: ast.Compare):
        """A single comparison with the literal 0 as ``(how, operand)``: ``how`` is ``"not"``,
        ``"truth"`` or the constant result (values are unsigned: ``x >= 0`` always holds)."""
        if len(e.ops) != 1:
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
        if kind == LIST:  # a list is true when it is not empty
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
            return self.vars[e.id]
        if isinstance(e, ast.UnaryOp):
            v = self.expr(e.operand)
            if isinstance(e.op, ast.Not):
                if self.kind(e.operand) == LIST:
                    v = self.length(v)
                return self.op("not", v)
            return self.op("sub", self.const(0), v)
        if isinstance(e, ast.BinOp):
            rep = repeat_count(e)
            if rep is not None:
                return self.new_list(repeat=(self.expr(rep[0]), rep[1]))
            return self.binop(_BIN[type(e.op)], self.expr(e.left), e.right, e)
        if isinstance(e, ast.BoolOp):
            return self.boolop(e)
        if isinstance(e, ast.Compare):
            return self.compare_value(e)
        if isinstance(e, ast.Call):
            return self.call(e)
        if isinstance(e, ast.List):
            return self.new_list(values=[self.expr(v) for v in e.elts])
        if isinstance(e, ast.Subscript):
            return self.op("read", self.element_address(self.expr(e.value), e.slice))
        raise AssertionError(f"unchecked expression {ast.dump(e)}")  # the checker rejects it

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
        z = self.zero_compare(e)
        if z is not None:
            v = self.expr(z[1])
            if isinstance(z[0], bool):
                return self.const(int(z[0]))
            return self.op("not", v if z[0] == "not" else self.op("not", v))
        left = self.expr(e.left)
        if len(e.ops) == 1:
            return self.op(_CMP[type(e.ops[0])], left, self.expr(e.comparators[0]))
        r = self.new()
        self.boolean.add(r)
        end = self.new_label("cmp")
        for i, (op, comp) in enumerate(zip(e.ops, e.comparators)):
            right = self.expr(comp)
            self.emit(_CMP[type(op)], r, (left, right))
            if i < len(e.ops) - 1:
                self.emit("jump", srcs=(self.op("not", r),), label=end)
            left = right
        self.place(end)
        return r

    def call(self, e: ast.Call) -> int:
        name = e.func.id
        if name == "len":
            return self.length(self.expr(e.args[0]))
        if name in ("min", "max"):
            a = self.expr(e.args[0])
            return self.op(name, a, self.expr(e.args[1]))
        args = [self.expr(a) for a in e.args]
        for i, v in enumerate(args):
            self.emit("copy", i, (v,))
        self.emit("call", 0, tuple(range(len(args))), func=name)
        r = self.new()
        self.emit("copy", r, (0,))
        return r

    # ------------------------------------------------------------------ lists

    def element_address(self, lst: int, index: ast.expr) -> int:
        """The address of ``lst[index]`` after checking ``index < len(lst)`` (unsigned)."""
        c = _const(index, self.n)
        i = ("const", c) if c is not None else self.expr(index)
        if (lst, i) in self.known:
            return self.known[(lst, i)]
        length = self.length(lst)
        if c == 0:
            self.error_jump(self.op("not", length), ERR_INDEX)
            addr = lst
        else:
            r = self.const(c) if c is not None else i
            self.error_jump(self.op("ge", r, length), ERR_INDEX)
            addr = self.op("add", lst, r)
        self.known[(lst, i)] = addr
        return addr

    def new_list(self, values: list[int] | None = None,
                 repeat: tuple[int, int] | None = None) -> int:
        """Allocate a list at hp: a header cell (the length), then the elements; the list's
        value is the address of its first element."""
        hp = self.layout.hp
        k = len(values) if values is not None else repeat[1]
        cells = k + 1
        if cells > self.m - 1:  # can never fit: the error cell is reserved
            self.error_goto(ERR_HEAP)
            return self.const(0)
        self.errors.add(ERR_HEAP)
        if self.layout.stack:  # free = sp - hp must cover the list and the stack's reserve
            free = self.op("sub", self.layout.sp, hp)
            need = self.new()
            self.emit("set", need, imm=Sym(cells, 1, ERR_HEAP))
            self.error_jump(self.op("lt", free, need), ERR_HEAP)
        else:  # no stack: the cells hp .. m-2-reserve are free (the reserve: spilled values)
            limit = self.new()
            self.emit("set", limit, imm=Sym(self.m - 1 - cells, -1, ERR_HEAP))
            self.error_jump(self.op("gt", hp, limit), ERR_HEAP)
        length = self.const(k)
        self.emit("write", srcs=(hp, length))
        self.emit("inc", hp, (hp,))
        p = self.new()
        self.emit("copy", p, (hp,))
        if values is not None:
            for v in values:
                self.emit("write", srcs=(hp, v))
                self.emit("inc", hp, (hp,))
        elif k <= 3:
            for _ in range(k):
                self.emit("write", srcs=(hp, repeat[0]))
                self.emit("inc", hp, (hp,))
        else:
            end = self.op("add", hp, length)
            fill = self.new_label("fill")
            self.place(fill)
            self.emit("write", srcs=(hp, repeat[0]))
            self.emit("inc", hp, (hp,))
            self.emit("jump", srcs=(self.op("lt", hp, end),), label=fill)
        self.length_of[p] = length
        return p


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


def _last_line(node: ast.AST) -> int:
    return max((getattr(n, "end_lineno", 0) or 0 for n in ast.walk(node)), default=node.lineno)


def lower_function(mod: CheckedModule, name: str, layout: Layout, labels: dict[str, str],
                   errors: set[str]) -> FunctionIR:
    """Lower function ``name`` of ``mod``; adds the error stubs it jumps to into ``errors``."""
    low = _Lowering(mod, mod.functions[name], layout, labels, errors)
    low.mod_returns = {f: info.returns for f, info in mod.functions.items()}
    return low.function()
