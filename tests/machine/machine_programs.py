"""Random valid programs (hypothesis strategies) and a few hand-written ones, built with
Program/Op directly so the machine tests need nothing but the program model."""

from __future__ import annotations

from hypothesis import strategies as st

from neuralc.isa import INSTRUCTIONS
from neuralc.lang.program import Op, Program, Sizes, Target

NAMES = [ins.name for ins in INSTRUCTIONS]
CONTROL = {ins.name for ins in INSTRUCTIONS if ins.is_control}


@st.composite
def operands(draw, name: str, sizes: Sizes, L: int):
    args = []
    for kind in INSTRUCTIONS[NAMES.index(name)].operands:
        if kind in "RD":
            args.append(draw(st.integers(0, sizes.registers - 1)))
        elif kind == "I":
            args.append(draw(st.integers(0, sizes.n - 1)))
        else:
            if draw(st.booleans()):
                args.append(Target(line=draw(st.integers(0, L))))
            else:
                args.append(Target(register=draw(st.integers(0, sizes.registers - 1))))
    return tuple(args)


@st.composite
def programs(draw, ns=(8, 16), widths=(1, 2), max_lines=8):
    """A random valid program: every instruction possible, at most one control per line."""
    n = draw(st.sampled_from(ns))
    K = draw(st.integers(1, 4))
    m = draw(st.integers(1, n))
    W = draw(st.sampled_from(widths))
    sizes = Sizes(n=n, registers=K, memory=m, width=W)
    L = draw(st.integers(1, min(max_lines, n)))
    lines = []
    for _ in range(L):
        k = draw(st.integers(1, W))
        ops, has_control = [], False
        for _ in range(k):
            pool = [x for x in NAMES if not (has_control and x in CONTROL)]
            name = draw(st.sampled_from(pool))
            has_control |= name in CONTROL
            ops.append(Op(name, draw(operands(name, sizes, L))))
        lines.append(tuple(ops))
    entry = draw(st.integers(0, L))
    return Program(lines, sizes, entry=entry)


@st.composite
def inputs(draw, sizes: Sizes):
    regs = draw(st.lists(st.integers(0, sizes.n - 1), min_size=sizes.registers,
                         max_size=sizes.registers))
    mem = draw(st.lists(st.integers(0, sizes.n - 1), min_size=sizes.m, max_size=sizes.m))
    return regs, mem


def T(line=None, register=None) -> Target:
    return Target(line=line, register=register)


def sum_loop(n: int = 16) -> Program:
    """r3 = r0 + (r0-1) + ... + 1: a counted loop with jump, goto, halt."""
    return Program([
        (Op("set", (0, 1)),),
        (Op("eq", (0, 1, 2)),),
        (Op("jump", (2, T(6))),),
        (Op("add", (3, 0, 3)),),
        (Op("dec", (0, 0)),),
        (Op("goto", (T(1),)),),
        (Op("halt"),),
    ], Sizes(n=n, registers=4))


def call_ret(n: int = 16) -> Program:
    """A subroutine (double r0 into r1) called twice via call/ret, with memory and store."""
    return Program([
        (Op("call", (T(6), 3)),),          # 0: r3 ← 1, go to 6
        (Op("write", (2, 1)),),            # 1: M[r2] ← r1
        (Op("inc", (2, 2)),),              # 2
        (Op("copy", (1, 0)),),             # 3
        (Op("call", (T(6), 3)),),          # 4: r3 ← 5
        (Op("halt"),),                     # 5
        (Op("add", (0, 0, 1)),),           # 6: r1 ← 2 r0
        (Op("store", (2,)), Op("read", (2, 0))),  # 7: r2 ← 7 | r0 ← M[r2] (old r2)
        (Op("copy", (0, 0)), Op("ret", (3,))),     # 8: return to r3
    ], Sizes(n=n, registers=4, memory=8, width=2))
