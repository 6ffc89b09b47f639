"""Long sharp runs stay exact in float32.

A step is exact only if no ALU route leaks probability mass: a float32 FFT once left ~1e-7 of
noise on every output value, which accumulated to NaN after a few hundred steps of a loop. This
runs a 2,289-step loop through every kind of ALU route (FFT add/sub, transforms for bitwise ops,
cumulative sums for div and comparisons, index tables for mul/mod, memory) and demands the
reference interpreter's exact result.
"""

import pytest

from neuralc.lang.asm import assemble
from neuralc.lang.interp import run_reference
from neuralc.machine import run_machine

STRESS = """
    set 77 r1
    set 1 r9
loop:
    add r1 r2 r2
    xor r2 r1 r3
    and r3 r2 r4
    or r4 r1 r5
    div r5 r9 r6
    mod r6 r1 r7
    sub r7 r5 r8
    mul r8 r3 r10
    div r3 r1 r11
    min r10 r11 r12
    max r12 r2 r13
    write r13 r2
    read r1 r14
    add r14 r13 r1
    inc r9 r9
    dec r15 r15
    ne r15 r0 r0
    jump r0 loop
    halt
"""


@pytest.mark.parametrize("alu", ["sparse", "circuit"])
def test_long_float32_run_is_exact(alu):
    program = assemble(STRESS, "stress.asm")
    ref = run_reference(program, max_steps=3000)
    assert ref.halted and ref.steps > 2000
    got = run_machine(program, max_steps=3000, alu=alu, dtype="float32")
    assert (got.halted, got.steps, got.registers, got.memory) == (
        ref.halted, ref.steps, ref.registers, ref.memory)
    assert got.confidence >= 0.999
