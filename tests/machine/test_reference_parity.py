"""The sharp machine agrees with the reference interpreter: registers, memory, halting, steps."""

from __future__ import annotations

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from machine_helpers import EinsumALU, get_alu
from machine_programs import call_ret, inputs, programs, sum_loop

from neuralc.lang.interp import run_reference
from neuralc.machine import encode, initial_state, prepare, run
from neuralc.machine.step import ALL_TERMS


def machine_vs_reference(program, regs, mem, steps, alu, fast, dtype=torch.float64, batch=None,
                         all_terms=False):
    """Run a batch of inputs through the machine and compare each with the reference."""
    batch = batch or [(regs, mem)]
    sizes = program.sizes
    params = encode(program, dtype=dtype)
    R = torch.stack([initial_state(sizes, program.L, 1, r, m, dtype=dtype).registers[0]
                     for r, m in batch])
    M = torch.stack([initial_state(sizes, program.L, 1, r, m, dtype=dtype).memory[0]
                     for r, m in batch])
    state = initial_state(sizes, program.L, len(batch), R, M, program.entry, dtype=dtype)
    prog = prepare(params)
    if all_terms:  # also the terms a fixed program could skip (they must add exact zeros)
        prog = prog._replace(present=ALL_TERMS)
    out = run(prog, state, alu, steps, fast=fast, until_halted=True)
    for i, (r, m) in enumerate(batch):
        ref = run_reference(program, r, m, steps)
        regs_p, regs_v = out.state.registers[i].max(-1)
        mem_p, mem_v = out.state.memory[i].max(-1)
        assert regs_v.tolist() == ref.registers
        assert mem_v.tolist() == ref.memory
        assert bool(out.state.halted[i] >= 0.5) == ref.halted
        assert int(out.state.counter[i].argmax()) == ref.counter
        assert float(out.expected_steps[i]) == ref.steps
        # exact: every probability is 0 or 1
        assert bool((regs_p == 1).all() and (mem_p == 1).all())
        assert float(out.state.counter[i].max()) == 1.0


def test_sum_loop_general_and_fast():
    p = sum_loop()
    alu = EinsumALU(16)
    batch = [({0: k}, None) for k in (0, 1, 5, 9)]
    for fast in (False, True):
        for all_terms in (False, True):
            machine_vs_reference(p, None, None, 200, alu, fast, batch=batch, all_terms=all_terms)


def test_call_ret_store_memory_width2():
    p = call_ret()
    alu = EinsumALU(16)
    batch = [({0: k, 2: j}, [k, 2 * k, 3, 4, 5, 6, 7, 1]) for k, j in ((1, 0), (3, 2), (7, 5))]
    for fast in (False, True):
        for all_terms in (False, True):
            machine_vs_reference(p, None, None, 40, alu, fast, batch=batch, all_terms=all_terms)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_programs_match_reference(data):
    program = data.draw(programs())
    batch = [data.draw(inputs(program.sizes)) for _ in range(2)]
    alu = get_alu(data.draw(st.sampled_from(["einsum", "dense", "sparse", "circuit"])),
                  program.sizes.n)
    fast, all_terms = data.draw(st.booleans()), data.draw(st.booleans())
    machine_vs_reference(program, None, None, 50, alu, fast, batch=batch, all_terms=all_terms)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_fast_path_bit_identical(data):
    program = data.draw(programs())
    regs, mem = data.draw(inputs(program.sizes))
    alu = EinsumALU(program.sizes.n, torch.float32)
    params = encode(program)
    state = initial_state(program.sizes, program.L, 1, regs, mem, program.entry)
    slow = run(params, state, alu, 30, fast=False, trace=True)
    quick = run(params, state, alu, 30, fast=True, trace=True)
    for x, y in zip(slow.state, quick.state):
        assert torch.equal(x, y)
    assert torch.equal(slow.trace, quick.trace)
