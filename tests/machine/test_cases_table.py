"""The shared case table (tests/cases.py) on the sharp machine, with every ALU.

Each case runs through ``run_machine`` (the ``--backend machine`` path) and must agree with the
reference interpreter exactly: registers, memory, halting, step count; confidence ≥ 0.999.
"""

from __future__ import annotations

import cases
import pytest
import torch

from neuralc.lang.interp import run_reference
from neuralc.machine import encode, initial_state, run, run_machine
from neuralc.machine.alu import make_alu


def _alus(n: int) -> list[str]:
    names = ["sparse"]
    if n <= 64:
        names.append("dense")
    if n & (n - 1) == 0:
        names.append("circuit")
    return names


PARAMS = [pytest.param(c, alu, id=f"{c.name}-{alu}")
          for c in cases.CASES for alu in _alus(c.program().sizes.n)]


@pytest.mark.parametrize("case,alu", PARAMS)
def test_case_matches_reference(case, alu):
    program = case.program()
    ref = case.reference()
    got = run_machine(program, case.registers, case.memory, case.max_steps, alu=alu)
    assert (got.halted, got.steps) == (ref.halted, ref.steps)
    assert got.registers == ref.registers
    assert got.memory == ref.memory
    assert got.counter == ref.counter
    assert got.confidence >= 0.999


@pytest.mark.parametrize("case", cases.CASES, ids=lambda c: c.name)
def test_case_general_path_float64(case):
    """The general path (mixing over all lines) on the same table, exact in float64."""
    program = case.program()
    ref = case.reference()
    got = run_machine(program, case.registers, case.memory, case.max_steps, alu="dense"
                      if program.sizes.n <= 64 else "sparse", dtype="float64", fast=False)
    assert (got.halted, got.steps, got.registers, got.memory) == (
        ref.halted, ref.steps, ref.registers, ref.memory)
    assert got.confidence >= 0.999


def test_whole_table_as_one_batch_per_program():
    """Batching: each program run on a batch of its own input and two others, all exact."""
    for case in cases.CASES[:: 7]:
        program = case.program()
        sizes = program.sizes
        inputs = [dict(case.registers), {r: (r * 3 + 1) % sizes.n for r in range(sizes.K)},
                  {r: (5 * r) % sizes.n for r in range(sizes.K)}]
        states = [initial_state(sizes, program.L, 1, r, case.memory, program.entry,
                                dtype=torch.float64) for r in inputs]
        state = type(states[0])(*(torch.cat(x) for x in zip(*states)))
        out = run(encode(program, dtype=torch.float64), state, make_alu("sparse", sizes.n, dtype=torch.float64),
                  case.max_steps, fast=True, until_halted=True)
        for i, regs in enumerate(inputs):
            ref = run_reference(program, regs, case.memory, case.max_steps)
            assert out.state.registers[i].argmax(-1).tolist() == ref.registers
            assert out.state.memory[i].argmax(-1).tolist() == ref.memory
            assert float(out.expected_steps[i]) == ref.steps
