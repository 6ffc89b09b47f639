"""Pass 4: lay out the program image and print the machine instructions.

What this pass adds: the start code, each function's prologue (stack check, saved return
address, spill frame) and epilogue, the saves around calls, the run-time error stubs, the
memory reserve for the stack (the ``Sym`` immediates of list allocations), then a peephole
clean-up (jump threading, unreachable code, jumps to the next line) and label resolution.

Stack discipline (see :mod:`.layout`): a function that calls saves ``ra`` on entry; the values a
caller still needs after a call are pushed just before it and popped right after it (only the
registers the callee can write). Each function's frame size ``F`` is therefore known. A
function's *need* is ``F`` plus the largest need of the unchecked functions it calls. Functions
in a recursive cycle and the entry function check on entry that ``sp - hp >= need``; a new list
leaves at least the largest need free (the *reserve*). So the stack can never run into the
lists unnoticed: either check fails first and the program stops with a run-time error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...isa import BY_NAME
from ..program import Op, Program, Target
from .ir import Ins, Sym
from .layout import ERRORS, Layout, raise_code
from .regalloc import Allocation

__all__ = ["AsmOp", "FunctionPlan", "emit_program", "function_label", "scc_order"]

_REGISTER_LIKE = re.compile(r"[rR][0-9]+")


def function_label(name: str) -> str:
    """A function's label (a name that looks like a register, or ``rt``, gets a prefix)."""
    return f"fn_{name}" if _REGISTER_LIKE.fullmatch(name) or name == "rt" else name


@dataclass
class AsmOp:
    name: str
    args: list  # R/D/I: ints; T: a label (str) or ("r", register)
    line: int = 0  # source line
    note: str | None = None  # a comment instead of the source line


@dataclass
class FunctionPlan:
    """How one function is framed (filled in by :func:`emit_program`)."""

    name: str
    params: int
    alloc: Allocation
    calls: set[str]
    line: int
    cyclic: bool = False
    checked: bool = False
    halts: bool = False  # the entry function when nothing calls it: `return` halts
    saves_ra: bool = False
    frame: int = 0
    need: int = 0
    clobber: set[int] = field(default_factory=set)
    scratch: list[int] = field(default_factory=list)


def scc_order(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of a call graph, callees before callers (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def _frames(plans: dict[str, FunctionPlan], entry: str, layout: Layout) -> int:
    """Frame sizes, needs and checks; returns the reserve a new list must leave free."""
    for p in plans.values():
        pushes = max((len(set(i.save) & plans[i.func].clobber) for i in p.alloc.code
                      if i.op == "call"), default=0)
        p.frame = int(p.saves_ra) + p.alloc.slots + pushes
        p.checked = layout.stack and (p.cyclic or p.name == entry)
    need: dict[str, int] = {}

    def need_of(f: str) -> int:
        if f not in need:
            p = plans[f]
            below = [need_of(g) for g in p.calls if not plans[g].checked]
            need[f] = p.frame + max(below, default=0)
        return need[f]

    for f, p in plans.items():
        p.need = need_of(f)
    if not layout.stack:  # the only function's spilled values sit at fixed cells below m-1
        return plans[entry].alloc.slots
    return max((p.need for p in plans.values() if p.checked), default=0)


class _Emitter:
    def __init__(self, layout: Layout, plans: dict[str, FunctionPlan], reserve: int):
        self.layout = layout
        self.plans = plans
        self.reserve = reserve
        self.n = layout.sizes.n
        self.out: list[AsmOp | str] = []
        self.line = 0

    def op(self, name: str, *args, note: str | None = None) -> None:
        self.out.append(AsmOp(name, list(args), self.line, note))

    def function(self, p: FunctionPlan) -> None:
        lay = self.layout
        sp, hp, ra = lay.sp, lay.hp, lay.ra
        self.line = p.line
        self.out.append(function_label(p.name))
        if p.checked and p.need > 0:
            t1, t2 = p.scratch[:2]
            if hp is not None:
                self.op("sub", sp, hp, t1)
                free = t1
            else:
                free = sp
            self.op("set", min(p.need, self.n - 1), t2)
            self.op("lt", free, t2, t1)
            self.op("jump", t1, ERRORS[4][0])
        if p.saves_ra:
            self.op("dec", sp, sp)
            self.op("write", sp, ra)
        self.adjust(p, "sub", p.alloc.slots)
        simple = not p.saves_ra and not p.alloc.slots
        epilogue = f"{function_label(p.name)}.return"
        for ins in p.alloc.code:
            self.line = ins.line
            self.ins(ins, p, simple, epilogue)
        if not p.halts and not simple:
            self.out.append(epilogue)
            self.adjust(p, "add", p.alloc.slots)
            if p.saves_ra:
                self.op("read", sp, ra)
                self.op("inc", sp, sp)
            self.op("ret", ra)

    def adjust(self, p: FunctionPlan, how: str, k: int) -> None:
        """sp ← sp ∓ k (the spill frame); with no stack the spill cells are fixed."""
        if not k or not self.layout.stack:
            return
        sp = self.layout.sp
        if k <= 3:
            for _ in range(k):
                self.op("dec" if how == "sub" else "inc", sp, sp)
        else:
            t = p.scratch[0]
            self.op("set", k, t)
            self.op(how, sp, t, sp)

    def slot_address(self, slot: int, dst: int) -> None:
        lay = self.layout
        if not lay.stack:
            self.op("set", lay.error_cell - 1 - slot, dst)
        elif slot == 0:
            self.op("copy", lay.sp, dst)
        elif slot == 1:
            self.op("inc", lay.sp, dst)
        else:
            self.op("set", slot, dst)
            self.op("add", lay.sp, dst, dst)

    def ins(self, ins: Ins, p: FunctionPlan, simple: bool, epilogue: str) -> None:
        lay = self.layout
        op = ins.op
        if op == "label":
            self.out.append(ins.label)
        elif op == "goto":
            self.op("goto", ins.label)
        elif op == "jump":
            self.op("jump", ins.srcs[0], ins.label)
        elif op == "call":
            save = [r for r in ins.save if r in self.plans[ins.func].clobber]
            for r in save:
                self.op("dec", lay.sp, lay.sp)
                self.op("write", lay.sp, r)
            self.op("call", function_label(ins.func), lay.ra)
            for r in reversed(save):
                self.op("read", lay.sp, r)
                self.op("inc", lay.sp, lay.sp)
        elif op == "ret":
            if p.halts:
                self.op("halt")
            elif simple:
                self.op("ret", lay.ra)
            else:
                self.op("goto", epilogue)
        elif op == "ld":
            if lay.stack and ins.imm == 0:
                self.op("read", lay.sp, ins.dst)
            else:
                self.slot_address(ins.imm, ins.dst)
                self.op("read", ins.dst, ins.dst)
        elif op == "fa":
            self.slot_address(ins.imm, ins.dst)
        elif op == "set" and isinstance(ins.imm, Sym):
            value = ins.imm.offset + ins.imm.scale * self.reserve
            if 0 <= value < self.n:
                self.op("set", value, ins.dst)
            else:  # the check can never pass
                self.op("goto", ins.imm.error)
        else:
            srcs = iter(ins.srcs)
            args = []
            for kind in BY_NAME[op].operands:
                args.append(next(srcs) if kind == "R" else ins.dst if kind == "D" else ins.imm)
            self.op(op, *args)

    def error_stubs(self, labels: set[str]) -> None:
        self.line = 0
        used = [(code, lab) for code, (lab, _) in sorted(ERRORS.items()) if lab in labels]
        used += sorted((raise_code(lab), lab) for lab in labels if raise_code(lab) is not None)
        for i, (code, lab) in enumerate(used):
            self.out.append(lab)
            what = ERRORS[code][1] if code in ERRORS else "an exception raised"
            self.op("set", code % self.n or 1, 0, note="run-time error: " + what)
            if i < len(used) - 1:
                self.op("goto", "rt.error")
        if used:
            self.out.append("rt.error")
            self.op("set", self.layout.error_cell, 1, note="record the error code and stop")
            self.op("write", 1, 0)
            self.op("halt")


def emit_program(plans: dict[str, FunctionPlan], entry: str, layout: Layout,
                 errors: set[str], source: str) -> Program:
    """The width-1 program: start code, the functions (entry first), the error stubs."""
    reserve = _frames(plans, entry, layout)
    if any(p.checked and p.need > 0 for p in plans.values()):
        errors.add(ERRORS[4][0])  # (the caller reads `errors` back)
    em = _Emitter(layout, plans, reserve)
    if layout.stack:
        em.op("set", layout.stack_top, layout.sp, note="start: the call stack is empty")
    if not plans[entry].halts:
        em.op("call", function_label(entry), layout.ra, note="start: call the entry function")
        em.op("halt")
    order = [entry] + [f for f in plans if f != entry]
    for f in order:
        em.function(plans[f])
    em.error_stubs(errors)
    items = peephole(em.out, keep={function_label(f) for f in plans})
    return resolve(items, layout, source)


def _next_op(items, i):
    """Index of the first op at or after ``i`` (len(items) when none)."""
    while i < len(items) and isinstance(items[i], str):
        i += 1
    return i


def peephole(items: list, keep: set[str]) -> list:
    """Thread jumps, drop unreachable code and jumps to the next line, drop unused labels."""
    items = list(items)
    changed = True
    while changed:
        changed = False
        at = {x: _next_op(items, i) for i, x in enumerate(items) if isinstance(x, str)}

        def target_op(label, at=at, items=items):
            j = at.get(label)
            return items[j] if j is not None and j < len(items) else None

        for x in items:
            if isinstance(x, AsmOp) and x.name in ("goto", "jump"):
                seen = set()
                label = x.args[-1]
                while True:
                    t = target_op(label)
                    if (t is not None and t.name == "goto" and isinstance(t.args[0], str)
                            and t.args[0] not in seen):
                        seen.add(label)
                        label = t.args[0]
                    else:
                        break
                if label != x.args[-1]:
                    x.args[-1] = label
                    changed = True
                t = target_op(label)
                if x.name == "goto" and t is not None and t.name in ("halt", "ret"):
                    x.name, x.args = t.name, list(t.args)
                    changed = True
        out: list = []
        dead = False
        for x in items:
            if isinstance(x, str):
                dead = False
                out.append(x)
            elif not dead:
                out.append(x)
                dead = x.name in ("goto", "halt", "ret")
        if len(out) != len(items):
            changed = True
        items = out
        out = []
        for i, x in enumerate(items):
            if isinstance(x, AsmOp) and x.name in ("goto", "jump") and isinstance(x.args[-1], str):
                j = i + 1
                labels = set()
                while j < len(items) and isinstance(items[j], str):
                    labels.add(items[j])
                    j += 1
                if x.args[-1] in labels:
                    changed = True
                    continue
            out.append(x)
        items = out
        used = {a for x in items if isinstance(x, AsmOp) for a in x.args if isinstance(a, str)}
        out = [x for x in items if not isinstance(x, str) or x in used or x in keep]
        if len(out) != len(items):
            changed = True
        items = out
    return items


def resolve(items: list, layout: Layout, source: str) -> Program:
    """Number the lines, resolve the labels, attach the source lines as comments."""
    labels: dict[str, int] = {}
    ops: list[AsmOp] = []
    for x in items:
        if isinstance(x, str):
            labels[x] = len(ops)
        else:
            ops.append(x)
    src = source.splitlines()
    lines, comments = [], {}
    last = None
    for i, a in enumerate(ops):
        args = []
        for kind, v in zip(BY_NAME[a.name].operands, a.args):
            if kind == "T":
                v = Target(line=labels[v]) if isinstance(v, str) else Target(register=v[1])
            args.append(v)
        lines.append((Op(a.name, tuple(args)),))
        if a.note:
            comments[i] = a.note
            last = None
        elif a.line and a.line != last and 0 < a.line <= len(src):
            comments[i] = f"{a.line}: {src[a.line - 1].strip()}"
            last = a.line
    return Program(lines, layout.sizes, 0, labels, comments)
