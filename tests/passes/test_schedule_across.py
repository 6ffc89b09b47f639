"""The parallelizing compiler across blocks: each transformation fires where it should, and
random loop programs keep every register, memory cell, halting and (never more) steps."""

from __future__ import annotations

import random

import pytest

from neuralc.lang.asm import assemble
from neuralc.lang.interp import run_reference
from neuralc.lang.program import Op, Program, Sizes, Target
from neuralc.passes import schedule
from neuralc.passes.facts import constants, fold_jumps
from neuralc.passes.flow import Flow, supported
from neuralc.passes.invariants import fold_invariant_jumps
from neuralc.passes.restructure import duplicate_tails, thread_gotos, unroll_loops
from neuralc.passes.trace import schedule_trace

SIZES = Sizes(n=32, registers=6, memory=8)
VALUE_OPS = ["set", "copy", "inc", "dec", "not", "add", "sub", "mul", "mod", "min", "max",
             "xor", "eq", "ne", "lt", "le", "gt", "ge", "read", "write"]
COMPARE = ["eq", "ne", "lt", "le", "gt", "ge", "not"]


GCD = """\
    goto t
b:  not r1 r2
    jump r2 err
    mod r0 r1 r2
    copy r1 r0
    copy r2 r1
t:  not r1 r2
    not r2 r2
    jump r2 b
    halt
err: set 1 r0
    halt
"""


def _value_op(rng: random.Random, K: int, n: int) -> Op:
    from neuralc.isa import BY_NAME

    name = rng.choice(VALUE_OPS)
    args = tuple(rng.randrange(n) if k == "I" else rng.randrange(K)
                 for k in BY_NAME[name].operands)
    return Op(name, args)


_FLIP = {"lt": "gt", "gt": "lt", "le": "ge", "ge": "le", "eq": "eq", "ne": "ne"}


def _test(rng: random.Random, K: int, seen: list[tuple] | None = None) -> list[Op]:
    """A condition into a register: a comparison (or ``not``), as compilers make them; often
    one seen before, swapped or negated (the checks that known conditions decide)."""
    c = rng.randrange(K)
    if seen and rng.random() < 0.4:
        name, a, b = rng.choice(seen)
        if name == "not":
            return [Op("not", (a, c))] + ([Op("not", (c, c))] if rng.random() < 0.5 else [])
        if rng.random() < 0.5:
            name, a, b = _FLIP[name], b, a
        return [Op(name, (a, b, c))]
    name = rng.choice(COMPARE)
    a, b = rng.randrange(K), rng.randrange(K)
    if seen is not None:
        seen.append((name, a, b))
    if name == "not":
        return [Op("not", (a, c))]
    return [Op(name, (a, b, c))]


def loop_program(rng: random.Random) -> Program:
    """Random width-1 code shaped like compiled loops: a prologue, loops entered by ``goto
    test`` or falling in, bodies with side exits (to an error stub, past the loop), counters,
    exit tests closing with ``jump c head`` or ``goto head``, a shared epilogue."""
    K, n = SIZES.registers, SIZES.n
    code: list[tuple[Op, object]] = []  # (op, symbolic target)
    seen: list[tuple] = []

    def emit(op, target=None):
        code.append((op, target))

    for _ in range(rng.randrange(4)):
        emit(_value_op(rng, K, n))
    for loop in range(rng.randrange(1, 3)):
        head, test, done = f"h{loop}", f"t{loop}", f"d{loop}"
        rotated = rng.random() < 0.5
        if rotated:
            emit(Op("goto", (Target(line=0),)), test)
        emit(("label", head), None)
        for _ in range(rng.randrange(1, 7)):
            r = rng.random()
            if r < 0.2:
                for op in _test(rng, K, seen):
                    emit(op)
                emit(Op("jump", (code[-1][0].dest, Target(line=0))), rng.choice(["err", done]))
            elif r < 0.3:  # a diamond inside the body
                for op in _test(rng, K):
                    emit(op)
                skip = f"s{loop}{len(code)}"
                emit(Op("jump", (code[-1][0].dest, Target(line=0))), skip)
                emit(_value_op(rng, K, n))
                emit(("label", skip), None)
            else:
                emit(_value_op(rng, K, n))
        counter = rng.randrange(K)
        emit(Op(rng.choice(["inc", "dec"]), (counter, counter)))
        emit(("label", test), None)
        for op in _test(rng, K, seen):
            emit(op)
        if rng.random() < 0.75:
            emit(Op("jump", (code[-1][0].dest, Target(line=0))), head)
        else:
            emit(Op("jump", (code[-1][0].dest, Target(line=0))), done)
            emit(Op("goto", (Target(line=0),)), head)
        emit(("label", done), None)
        for _ in range(rng.randrange(3)):
            emit(_value_op(rng, K, n))
    emit(Op("halt"))
    emit(("label", "err"), None)
    emit(Op("set", (rng.randrange(n), rng.randrange(K))))
    emit(Op("write", (rng.randrange(K), rng.randrange(K))))
    if rng.random() < 0.5:
        emit(Op("halt"))
    labels: dict[str, int] = {}
    lines = []
    for op, target in code:
        if isinstance(op, tuple):
            labels[op[1]] = len(lines)
        else:
            lines.append((op, target))
    out = []
    for op, target in lines:
        if target is not None:
            t = Target(line=labels[target])
            op = Op(op.name, tuple(t if isinstance(a, Target) else a for a in op.args))
        out.append((op,))
    return Program(out, SIZES)


def _same(program: Program, width: int, rng: random.Random, runs: int = 6) -> None:
    par = schedule(program, width)
    assert par.width <= width and par.L <= max(program.L, program.sizes.n)
    for line in par.lines:
        assert sum(op.instruction.is_control for op in line) <= 1
    for _ in range(runs):
        registers = [rng.randrange(SIZES.n) for _ in range(SIZES.registers)]
        memory = [rng.randrange(SIZES.n) for _ in range(SIZES.m)]
        base = run_reference(program, registers, memory, 300)
        out = run_reference(par, registers, memory, 300)
        if base.halted:
            assert out.halted and out.steps <= base.steps
            assert (out.registers, out.memory) == (base.registers, base.memory)
        elif not run_reference(program, registers, memory, 3000).halted:
            assert not out.halted


@pytest.mark.parametrize("seed", range(150))
def test_random_loop_programs_keep_their_results(seed):
    rng = random.Random(seed)
    program = loop_program(rng)
    for width in (2, 3, 4, 8):
        _same(program, width, rng)


def _flow(text: str) -> tuple[Program, Flow]:
    program = assemble(text, "t.asm")
    return program, Flow.of(program)


def _ops(flow: Flow) -> list[str]:
    return [x.op.name for x in flow.nodes]


SUM_LOOP = """\
    zero r3
    goto test
body:
    read r0 r1
    add r3 r1 r3
    inc r0 r0
test:
    lt r0 r2 r1
    jump r1 body
    copy r3 r0
    halt
"""


def test_goto_threading_copies_the_path_and_drops_the_goto():
    program, flow = _flow(SUM_LOOP)
    thread_gotos(flow, 8)
    # the goto became the loop test and its exit path (up to the halt)
    assert _ops(flow)[:6] == ["zero", "lt", "jump", "copy", "halt", "read"]
    assert flow.nodes[2].target is flow.nodes[5]
    assert "goto" not in _ops(flow)
    _same(program, 4, random.Random(0))


def test_goto_threading_needs_an_unconditional_end():
    # the path from the target runs off the end of the program: nothing to copy
    _, flow = _flow("goto t\nb: inc r0 r0\nt: lt r0 r1 r2\njump r2 b\n")
    before = _ops(flow)
    thread_gotos(flow, 8)
    assert _ops(flow) == before


def test_tail_duplication_gives_the_fall_through_its_own_copy():
    text = "jump r0 j\ninc r1 r1\nj: add r1 r2 r2\nhalt\n"
    program, flow = _flow(text)
    duplicate_tails(flow, 8)
    assert _ops(flow) == ["jump", "inc", "add", "halt", "add", "halt"]
    _same(program, 2, random.Random(1))


def test_unrolling_a_conditional_loop_keeps_every_exit_test():
    program, flow = _flow(SUM_LOOP)
    thread_gotos(flow, 8)
    size = len(flow.nodes)
    unroll_loops(flow, 3, 48, 8)
    follows = [x for x in flow.nodes if x.follow]
    assert len(follows) == 2  # copies 1 and 2 jump on into the next copy
    assert sum(x.op.name == "jump" for x in flow.nodes) == 4  # the entry test + 3 copies
    assert len(flow.nodes) == size + 2 * (5 + 2)  # two more bodies, two exit stubs
    _same(program, 4, random.Random(2))


def test_unrolling_a_goto_loop_drops_the_inner_gotos():
    text = "l: not r4 r6\njump r6 out\ndec r4 r4\ngoto l\nout: halt\n"
    program, flow = _flow(text)
    unroll_loops(flow, 4, 48, 8)
    assert _ops(flow).count("goto") == 1 and _ops(flow).count("dec") == 4
    _same(program, 4, random.Random(3))


def test_folding_a_check_implied_by_the_loop_test():
    # while b != 0: t = a % b (with its division check) ...
    program, flow = _flow(GCD)
    thread_gotos(flow, 8)
    assert fold_jumps(flow, 16) == 0  # the loop head has two ways in: nothing is known
    unroll_loops(flow, 2, 48, 8)
    # copy 2 is entered only from copy 1's test r1 != 0, taken: its check can never jump
    assert fold_jumps(flow, 16) == 1
    assert [x.op.name for x in flow.nodes].count("nop") == 1
    for width in (2, 4):
        _same(program, width, random.Random(4), runs=20)


def test_speculation_only_into_registers_dead_at_the_exit():
    ops = [Op("lt", (0, 1, 2)), Op("jump", (2, Target(line=9))), Op("inc", (3, 3)),
           Op("inc", (4, 4)), Op("halt")]
    # r3 is dead where the exit goes, r4 is live: inc r3 may join the jump's line, inc r4 not
    lines = schedule_trace(ops, {1: 1 << 4}, 4, 16, 16)
    where = {j: i for i, line in enumerate(lines) for j in line}
    assert where[2] <= where[1] < where[3]
    # a memory write never moves above an exit
    ops[2] = Op("write", (0, 3))
    lines = schedule_trace(ops, {1: 0}, 4, 16, 16)
    where = {j: i for i, line in enumerate(lines) for j in line}
    assert where[2] > where[1]


def test_loop_exit_compensation_frees_the_condition_register():
    program = assemble(SUM_LOOP, "s.asm")
    par = schedule(program, 4)
    assert any(op.name == "zero" and op.args == (1,) for line in par.lines for op in line)
    base = run_reference(program, [0, 0, 9, 0], list(range(16)))
    out = run_reference(par, [0, 0, 9, 0], list(range(16)))
    assert (out.registers, out.memory) == (base.registers, base.memory)
    assert out.steps * 2 <= base.steps  # 5 steps an iteration become 2


def test_copy_propagation_reads_the_source():
    program = assemble("copy r1 r2\nadd r2 r2 r3\nhalt\n", "c.asm")
    par = schedule(program, 2)
    assert par.L == 1 + 1 and par.lines[0][1].args == (1, 1, 3)  # both on one line: + halt
    _same(program, 2, random.Random(5))


def test_line_numbers_as_values_keep_the_block_scheduler():
    program = assemble("call f r5\nhalt\nf: inc r0 r0\nret r5\n", "c.asm")
    assert not supported(program)
    assert run_reference(schedule(program, 4), [1]).registers[0] == 2


@pytest.mark.parametrize("first", ["lt", "le", "eq", "ne", "gt", "ge"])
def test_folding_follows_exactly_what_a_comparison_implies(first):
    # after `first r0 r1` falls through (0) or jumps (1), `second` on (r0, r1) or (r1, r0)
    # is decided exactly when the first implies it; every input of a small machine agrees
    import operator

    fn = {"lt": operator.lt, "le": operator.le, "eq": operator.eq, "ne": operator.ne,
          "gt": operator.gt, "ge": operator.ge}
    for taken in (0, 1):
        for second, holds in fn.items():
            for swap in (False, True):
                a, b = (1, 0) if swap else (0, 1)
                text = (f"{first} r0 r1 r2\njump r2 {'next' if taken else 'out'}\n"
                        f"{'halt' if taken else 'goto next'}\n"
                        f"next: {second} r{a} r{b} r3\njump r3 out\ninc r4 r4\nhalt\n"
                        "out: dec r4 r4\nhalt\n")
                program, flow = _flow(text)
                folded = fold_jumps(flow, 16)
                # decided: the second's value is the same for every (x, y) the path allows
                values = {int(holds(*((y, x) if swap else (x, y))))
                          for x in range(4) for y in range(4)
                          if int(fn[first](x, y)) == taken}
                assert folded == (values == {0}), (first, taken, second, swap)
                for x in range(4):
                    for y in range(4):
                        want = run_reference(program, [x, y])
                        for width in (2, 4):
                            got = run_reference(schedule(program, width), [x, y])
                            assert (got.registers, got.steps <= want.steps) == \
                                (want.registers, True)


def test_folding_a_double_not():
    # not not x taken: x != 0, so a later `not x` is 0 and its jump goes
    text = "not r0 r1\nnot r1 r1\njump r1 next\nhalt\nnext: not r0 r2\njump r2 out\nhalt\nout: halt\n"
    program, flow = _flow(text)
    assert fold_jumps(flow, 16) == 1
    for x in range(4):
        assert run_reference(schedule(program, 2), [x]).registers == \
            run_reference(program, [x]).registers


def _chain_program(rng: random.Random) -> Program:
    """Straight code: comparisons with side exits, increments and decrements, constants,
    remainders and masks, copies; each
    exit marks r5 and halts. (n = 32, so that the program fits; the inputs sit at both ends
    of the values, where increments and decrements wrap around.)"""
    body: list[tuple[Op, bool]] = []
    last = 0
    for _ in range(rng.randrange(4, 12)):
        r = rng.random()
        a, b = rng.randrange(3), rng.randrange(3)
        if r < 0.5:
            name = rng.choice(COMPARE)
            if rng.random() < 0.5:  # often about the value just made
                a, b = (last, a) if rng.random() < 0.5 else (a, last)
            body.append((Op("not", (a, 3)) if name == "not" else Op(name, (a, b, 3)), False))
            body.append((Op("jump", (3, Target(line=0))), True))
        elif r < 0.7:
            last = rng.randrange(3)
            body.append((Op(rng.choice(["inc", "dec"]), (a, last)), False))
        elif r < 0.8:  # constants and what they bound
            last = rng.randrange(3)
            body.append((Op("set", (rng.choice((0, 1, 2, 3, 31)), b)) if rng.random() < 0.5
                         else Op(rng.choice(["mod", "and"]), (a, b, last)), False))
        else:
            body.append((Op("copy", (a, b)), False))
            last = b
    exits = sum(is_exit for _, is_exit in body)
    L = len(body) + 1 + 2 * exits
    lines, k = [], 0
    for op, is_exit in body:
        if is_exit:
            op = Op("jump", (3, Target(line=len(body) + 1 + 2 * k)))
            k += 1
        lines.append((op,))
    lines.append((Op("halt"),))
    for k in range(exits):
        lines += [(Op("set", (k + 1, 5)),), (Op("halt"),)]
    assert len(lines) == L
    return Program(lines, Sizes(n=32, registers=6, memory=4))


def test_folding_on_random_chains_agrees_on_every_input():
    folded = 0
    for seed in range(200):
        program = _chain_program(random.Random(seed))
        flow = Flow.of(program)
        folded += fold_jumps(flow, 32)
        pars = [schedule(program, width) for width in (2, 4)]
        assert all(par.L <= 32 for par in pars)
        ends = (0, 1, 2, 30, 31)
        for x in ends:
            for y in ends:
                for z in ends:
                    want = run_reference(program, [x, y, z])
                    for par in pars:
                        got = run_reference(par, [x, y, z])
                        assert got.registers == want.registers and got.steps <= want.steps, \
                            (seed, x, y, z)
    assert folded > 20  # the chains do decide many of their own jumps


def test_constants_reach_loop_heads_and_bound_remainders():
    # counts[x % 4] += 1 checks x % 4 < 4: the 4s are set before the loop (constant at its
    # head on every way in), and a remainder by 4 is below 4, so the check never jumps
    text = """\
    set 4 r4
    set 4 r0
l:  read r3 r1
    mod r1 r0 r1
    ge r1 r4 r2
    jump r2 err
    inc r3 r3
    lt r3 r5 r2
    jump r2 l
    halt
err: set 9 r5
    halt
"""
    program, flow = _flow(text)
    assert constants(flow, 16)[flow.nodes[4]] == {4: 4, 0: 4}
    assert fold_jumps(flow, 16) == 1
    _same(program, 4, random.Random(6), runs=20)
    # without the constant divisor nothing is known
    program, flow = _flow(text.replace("set 4 r0", "read r4 r0"))
    assert fold_jumps(flow, 16) == 0


@pytest.mark.parametrize("make", ["mod", "and"])
def test_bounds_of_remainders_and_masks_decide_exactly_what_they_imply(make):
    import operator

    fn = {"lt": operator.lt, "le": operator.le, "eq": operator.eq, "ne": operator.ne,
          "gt": operator.gt, "ge": operator.ge}
    for c in range(1, 6):
        for k in range(7):
            for name, holds in fn.items():
                text = (f"set {c} r1\nset {k} r2\n{make} r0 r1 r3\n{name} r3 r2 r4\n"
                        "jump r4 out\nhalt\nout: set 1 r5\nhalt\n")
                program, flow = _flow(text)
                values = {int(holds(x % c if make == "mod" else x & c, k)) for x in range(16)}
                # a bound decides at least what it implies, never more
                folded = fold_jumps(flow, 16)
                assert folded <= (values == {0}), (make, c, k, name)
                if make == "mod" and values == {0} and name in ("ge", "gt", "eq"):
                    assert folded == 1, (c, k, name)
                for x in range(16):
                    want = run_reference(program, [x])
                    got = run_reference(schedule(program, 2), [x])
                    assert got.registers == want.registers


def counted_loops(rng: random.Random) -> Program:
    """Nested counted loops as compilers emit them: ``k`` from ``len`` (r4) or a constant
    down or up, ``i`` from a constant or from ``k``, loop tests of every comparison, bounds
    checks of ``i``, ``i - 1``, ``i + 1`` and ``k`` against ``len`` that jump to an error
    stub, and some arithmetic on other registers (sometimes on the counters too)."""
    K, n = SIZES.registers, SIZES.n
    k, i, c, t, len_ = 3, 1, 0, 2, 4
    lines: list[tuple] = []  # (op, label to resolve or None); labels as ("label", name)

    def emit(name, *args, to=None):
        lines.append((Op(name, tuple(Target(line=0) if a == "T" else a for a in args)), to))

    def check(x):
        if rng.random() < 0.3:
            emit(rng.choice(["dec", "inc"]), x, t)
            x = t
        emit("ge", x, len_, c)
        emit("jump", c, "T", to="err")

    emit("copy", len_, k) if rng.random() < 0.7 else emit("set", rng.randrange(1, 6), k)
    lines.append(("label", "outer"))
    emit("set", rng.randrange(3), i) if rng.random() < 0.6 else emit("copy", k, i)
    emit("goto", "T", to="test")
    lines.append(("label", "body"))
    for _ in range(rng.randrange(1, 4)):
        r = rng.random()
        if r < 0.5:
            check(rng.choice([i, i, k]))
        elif r < 0.6:
            emit(rng.choice(["inc", "dec"]), i, i)
        else:
            emit(rng.choice(["add", "max"]), rng.randrange(K), rng.randrange(K), 5) \
                if rng.random() < 0.8 else emit("copy", rng.choice([k, len_]), i)
    emit(rng.choice(["inc", "inc", "dec"]), i, i)
    lines.append(("label", "test"))
    emit(rng.choice(["lt", "le", "ne", "gt"]), i, k, c)
    emit("jump", c, "T", to="body")
    emit(rng.choice(["dec", "dec", "inc"]), k, k)
    emit(rng.choice(["gt", "ne", "lt"]), k, rng.choice([t, i]) if rng.random() < 0.3 else len_, c)
    emit("jump", c, "T", to="outer")
    emit("halt")
    lines.append(("label", "err"))
    emit("set", 7, 5)
    emit("halt")
    labels, out = {}, []
    for item in lines:
        if item[0] == "label":
            labels[item[1]] = len(out)
        else:
            out.append(item)
    prog = []
    for op, to in out:
        if to is not None:
            op = Op(op.name, tuple(Target(line=labels[to]) if isinstance(a, Target) else a
                                   for a in op.args))
        prog.append((op,))
    return Program(prog, Sizes(n=n, registers=K, memory=SIZES.memory))


def test_invariants_on_counted_loops_agree_on_every_small_input():
    folded = 0
    for seed in range(120):
        program = counted_loops(random.Random(seed))
        folded += fold_invariant_jumps(Flow.of(program))
        pars = [schedule(program, width) for width in (2, 4)]
        for length in range(6):
            for other in (0, 1, 2, 31):
                regs = [other, other, other, 0, length, 0]
                want = run_reference(program, regs, None, 400)
                for par in pars:
                    got = run_reference(par, regs, None, 400)
                    if want.halted:
                        assert got.halted and got.steps <= want.steps, (seed, regs)
                        assert got.registers == want.registers, (seed, regs)
                    else:
                        assert not got.halted or run_reference(program, regs, None,
                                                               4000).halted
    assert folded > 20


def test_dead_results_are_dropped():
    program, flow = _flow("set 1 r2\nset 2 r2\nread r2 r3\nwrite r0 r1\nset 3 r3\nhalt\n")
    assert flow.drop_dead() == 2  # the first set of r2, the read into r3 set again
    assert [x.op.name for x in flow.nodes] == ["nop", "set", "nop", "write", "set", "halt"]
    _same(program, 2, random.Random(7))


def test_unrolling_a_loop_with_a_branch_inside():
    # while i < n: if x[i] > m: m = x[i] (the then-block ends in a goto after tail duplication)
    text = """\
l:  read r0 r5
    gt r5 r1 r3
    jump r3 then
    goto next
then: copy r5 r1
next: inc r0 r0
    lt r0 r2 r3
    jump r3 l
    halt
"""
    program, flow = _flow(text)
    thread_gotos(flow, 8)
    duplicate_tails(flow, 8)
    size = len(flow.nodes)
    unroll_loops(flow, 2, 96, 8)
    assert len(flow.nodes) > size and sum(x.follow for x in flow.nodes) == 1
    reads = [x for x in flow.nodes if x.op.name == "read"]
    assert len(reads) == 2
    _same(program, 4, random.Random(8), runs=20)


def test_traces_follow_a_jump_over_a_private_then_block():
    from neuralc.passes.trace import _Emitter

    # the then-block (inc r1) is entered only by falling through and ends in a goto
    program, flow = _flow("lt r0 r2 r3\njump r3 skip\ninc r1 r1\ngoto end\n"
                          "skip: dec r1 r1\nend: halt\n")
    em = _Emitter(flow, 4, 16, 16, 96)
    trace, splice = em.grow(0)
    assert trace == [0, 2] and splice == {0: 1}  # on to `skip`, the then-block spliced in
    _same(program, 4, random.Random(9), runs=20)




def test_invariants_know_the_loop_test_at_the_loop_head():
    # both ways into `b` (the first test and the back edge) passed `not not b` = 1: b != 0
    program, flow = _flow(GCD)
    assert fold_invariant_jumps(flow) == 1
    assert flow.nodes[2].op.name == "nop"
    for a in range(8):
        for b in range(8):
            want = run_reference(program, [a, b])
            for width in (2, 4):
                got = run_reference(schedule(program, width), [a, b])
                assert (got.registers, got.memory) == (want.registers, want.memory)
                assert got.steps <= want.steps
    # a single `not` in the test (loop while b == 0) proves nothing about b
    program, flow = _flow(GCD.replace("    not r2 r2\n", ""))
    assert fold_invariant_jumps(flow) == 0
