"""The reference interpreter (docs/LANGUAGE.md §1, §2, §6): hand-checked results, every value op on every pair,
and a second, deliberately plain implementation of docs/LANGUAGE.md on random programs."""

import cases
import pytest
from hypothesis import given, settings

from neuralc.isa import INSTRUCTIONS, TABLE_OPS
from neuralc.lang.asm import assemble
from neuralc.lang.interp import run_reference

HAND_CHECKED = [c for c in cases.CASES if c.expect]


def check_expectations(case, result):
    e = case.expect
    if "halted" in e:
        assert result.halted == e["halted"]
    if "steps" in e:
        assert result.steps == e["steps"]
    for r, v in e.get("registers", {}).items():
        assert result.registers[r] == v, f"r{r}"
    for a, v in e.get("memory", {}).items():
        assert result.memory[a] == v, f"M[{a}]"


@pytest.mark.parametrize("case", HAND_CHECKED, ids=lambda c: c.name)
def test_hand_checked_cases(case):
    check_expectations(case, case.reference())


def test_the_table_uses_every_instruction_and_width():
    used = {op.name for c in cases.CASES for _, _, op in c.program().ops()}
    assert used == {ins.name for ins in INSTRUCTIONS}
    assert {c.program().width for c in cases.CASES} >= {1, 2, 3}
    assert len(HAND_CHECKED) >= 10


@pytest.mark.parametrize("n", [6, 8])
@pytest.mark.parametrize("name", [*TABLE_OPS, "copy"])
def test_value_ops_on_every_pair(name, n):
    unary = name in ("inc", "dec", "not", "copy")
    program = assemble(f"{name} r0 {'' if unary else 'r1 '}r2\n", sizes={"n": n, "registers": 3})
    spec = cases.SPEC_FORMULAS[name]
    for a in range(n):
        for b in range(n):
            r = run_reference(program, {0: a, 1: b})
            assert r.registers == [a, b, spec(a, b, n)] and r.halted and r.steps == 1


def spec_run(program, registers, memory, max_steps):
    """docs/LANGUAGE.md §1, §2, §6 once more, as plainly as possible: (halted, steps, registers, memory)."""
    n, m, L = program.sizes.n, program.sizes.m, program.L
    R, M = list(registers), list(memory)
    pc, steps = program.entry, 0
    while pc < L and steps < max_steps:
        R0, M0 = list(R), list(M)  # every slot reads the state at the start of the step
        nxt = pc + 1
        for op in program.lines[pc]:
            k, x = op.name, op.args
            if k in cases.SPEC_FORMULAS:
                b = R0[x[1]] if len(x) == 3 else 0
                R[x[-1]] = cases.SPEC_FORMULAS[k](R0[x[0]], b, n)
            elif k == "zero":
                R[x[0]] = 0
            elif k == "set":
                R[x[1]] = x[0] % n
            elif k == "read":
                R[x[1]] = M0[R0[x[0]] % m]
            elif k == "write":
                M[R0[x[0]] % m] = R0[x[1]]
            elif k == "store":
                R[x[0]] = pc
            elif k == "halt":
                nxt = L
            elif k == "ret":
                nxt = R0[x[0]]
            elif k in ("goto", "jump", "call"):
                t = x[-1] if k == "jump" else x[0]
                dest = R0[t.register] if t.indirect else t.line
                if k == "call":
                    R[x[1]] = (pc + 1) % n
                if k != "jump" or R0[x[0]] == 1:
                    nxt = dest
        steps += 1
        pc = nxt
    return pc >= L, steps, R, M


@settings(max_examples=150, deadline=None)
@given(cases.programs())
def test_random_programs_agree_with_a_plain_reading_of_the_spec(sample):
    program, registers, memory, max_steps = sample
    r = run_reference(program, registers, memory, max_steps)
    assert (r.halted, r.steps, r.registers, r.memory) == spec_run(
        program, registers, memory, max_steps)
    assert r.steps <= max_steps and r.halted == (r.counter == program.L)
    assert all(0 <= v < program.sizes.n for v in r.registers + r.memory)


@settings(max_examples=60, deadline=None)
@given(cases.programs())
def test_a_run_can_be_split_at_any_step(sample):
    """Running s steps and then t more from where it stopped equals running s + t steps."""
    program, registers, memory, max_steps = sample
    s = max_steps // 2
    first = run_reference(program, registers, memory, s)
    if first.halted:
        return
    rest = run_reference(program, first.registers, first.memory, max_steps - s,
                         entry=first.counter)
    whole = run_reference(program, registers, memory, max_steps)
    assert (rest.halted, first.steps + rest.steps, rest.registers, rest.memory) == (
        whole.halted, whole.steps, whole.registers, whole.memory)


def test_trace_records_the_counter_before_each_step():
    trace = []
    run_reference(cases.case("goto_label_number_and_end").program(), trace=trace)
    assert trace == [0, 2, 4, 5]
