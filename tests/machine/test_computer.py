"""The differentiable computer on soft inputs: the paper's equations, conservation, readouts."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from machine_helpers import EinsumALU
from machine_programs import call_ret, programs, sum_loop

from neuralc.isa import OPCODE
from neuralc.lang.interp import run_reference
from neuralc.lang.program import Op, Program, Sizes, Target
from neuralc.machine import (
    DifferentiableComputer,
    State,
    encode,
    initial_state,
    prepare,
    run,
    step,
)
from neuralc.machine.alu import make_alu

F64 = torch.float64


def soft_params(program, seed, scale=1.0, W=None):
    g = torch.Generator().manual_seed(seed)
    params = encode(program, logits=True, sharpness=2.0, dtype=F64, W=W)
    with torch.no_grad():
        for p in params.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g, dtype=F64))
    return params


def soft_state(sizes, L, B, seed):
    g = torch.Generator().manual_seed(seed)
    regs = torch.softmax(torch.randn(B, sizes.K, sizes.n, generator=g, dtype=F64), -1)
    mem = torch.softmax(torch.randn(B, sizes.m, sizes.n, generator=g, dtype=F64), -1)
    counter = torch.softmax(torch.randn(B, L + 1, generator=g, dtype=F64), -1)
    return State(regs, mem, counter)


@settings(max_examples=25, deadline=None)
@given(program=programs(ns=(8,), widths=(1, 2, 3)), seed=st.integers(0, 1000),
       faithful=st.booleans())
def test_soft_steps_keep_distributions(program, seed, faithful):
    """Registers, memory cells and the counter stay distributions, also with control in
    several slots of a soft wide line (later slot wins)."""
    params = soft_params(program, seed, scale=3.0, W=program.sizes.width)
    state = soft_state(program.sizes, program.L, 3, seed)
    prog = prepare(params)
    alu = EinsumALU(program.sizes.n)
    for _ in range(4):
        state = step(prog, state, alu, faithful_writes=faithful)
        for x in state:
            assert (x >= -1e-12).all()
            torch.testing.assert_close(x.sum(-1), torch.ones_like(x.sum(-1)))


def test_halting_accumulates_like_the_paper():
    """A line that halts with probability η and else loops: h_t = 1 − (1 − η)^t."""
    sizes = Sizes(n=8, registers=1)
    program = Program([(Op("goto", (Target(line=0),)),)], sizes)
    params = encode(program, dtype=F64)
    eta = 0.3
    with torch.no_grad():
        params.instr[0, 0] = 0
        params.instr[0, 0, OPCODE["halt"]] = eta
        params.instr[0, 0, OPCODE["goto"]] = 1 - eta  # to line 0
    out = run(params, initial_state(sizes, 1, dtype=F64), EinsumALU(8), 6, trace=True,
              mixture=True)
    h = out.trace[:, 0, 1]
    t = torch.arange(7, dtype=F64)
    torch.testing.assert_close(h, 1 - (1 - eta) ** t)
    torch.testing.assert_close(out.expected_steps[0], (1 - h[:-1]).sum())


def test_jump_condition_is_probability_of_one():
    """c' = (1 − j)·inc(c) + j·((1 − p)·inc(c) + p·l) with p = P(r0 == 1)."""
    sizes = Sizes(n=8, registers=2)
    program = Program([(Op("jump", (0, Target(line=3))),), (Op("nop"),), (Op("nop"),),
                       (Op("nop"),)], sizes)
    r0 = torch.tensor([0.5, 0.25, 0.25, 0, 0, 0, 0, 0], dtype=F64)
    state = initial_state(sizes, 4, registers={0: r0}, dtype=F64)
    out = run(encode(program, dtype=F64), state, EinsumALU(8), 1)
    torch.testing.assert_close(out.state.counter[0], torch.tensor([0, .75, 0, .25, 0], dtype=F64))


@pytest.mark.parametrize("value,expected_line", [(2, 2), (3, 3), (4, 3), (7, 3)])
def test_indirect_target_folds_values_past_the_end_into_halt(value, expected_line):
    sizes = Sizes(n=8, registers=2)
    program = Program([(Op("goto", (Target(register=1),)),), (Op("nop"),), (Op("nop"),)], sizes)
    state = initial_state(sizes, 3, registers={1: value}, dtype=F64)
    out = run(encode(program, dtype=F64), state, EinsumALU(8), 1)
    assert int(out.state.counter[0].argmax()) == expected_line


def test_faithful_writes_equal_gated_on_sharp_destinations():
    """The paper's 'non-writers output the destination register' form equals the gated form
    whenever the mixed destination d is one-hot: here soft instructions, operands, registers
    and memory, a sharp counter (one batch element per line) and sharp destinations."""
    program = call_ret()
    params = soft_params(program, 3)
    with torch.no_grad():
        params.reg_d.copy_(encode(program, logits=True, sharpness=1e4, dtype=F64).reg_d)
    L = program.L
    soft = soft_state(program.sizes, L, L, 4)
    state = State(soft.registers, soft.memory, torch.eye(L + 1, dtype=F64)[:L])
    alu = EinsumALU(16)
    prog = prepare(params)
    a = step(prog, state, alu, faithful_writes=False)
    b = step(prog, state, alu, faithful_writes=True)
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y)
    assert not torch.allclose(a.registers, soft.registers)  # the step did write


def test_computer_readouts_trace_and_alu_swap():
    program = sum_loop(16)
    computer = DifferentiableComputer.from_program(program, "sparse")
    state = computer.initial_state(batch=2, registers={0: 4})
    out = computer(state, 60, readout="mixture", until_halted=True, trace=True)
    ref = run_reference(program, {0: 4})
    assert out.steps == ref.steps  # stopped once halted
    assert out.trace.shape == (ref.steps + 1, 2, program.L + 1)
    final, mix = out.readout("final"), out.readout("mixture")
    assert final.registers[0].argmax(-1).tolist() == ref.registers
    for x, y in zip(final, mix):  # halted sharply: the mixture is the halting state
        torch.testing.assert_close(x, y)
    computer.alu = make_alu("circuit", 16)  # bootstrapping: swap the ALU
    out2 = computer(state, 60)
    for x, y in zip(out.state, out2.state):
        torch.testing.assert_close(x, y)
    with pytest.raises(ValueError):
        out2.readout("mixture")
    with pytest.raises(ValueError):
        computer(state, 1, readout="nope")


def test_computer_dtype_and_state_dict():
    computer = DifferentiableComputer.from_program(sum_loop(16), "dense", logits=True,
                                                   trainable=True)
    computer = computer.to(F64)
    assert computer.program.instr.dtype == F64
    state = computer.initial_state(registers={0: 3})
    assert state.registers.dtype == F64
    out = computer(state, 20)
    assert out.state.registers[0, 3].argmax() == 6
    sd = computer.state_dict()
    assert "program.instr" in sd


def test_initial_state_inputs():
    sizes = Sizes(n=8, registers=3, memory=4)
    dist = torch.full((8,), 1 / 8)
    s = initial_state(sizes, 5, batch=2, registers={0: 9, 2: dist}, memory=[1, 2], entry=2)
    assert s.registers.shape == (2, 3, 8) and s.memory.shape == (2, 4, 8)
    assert s.registers[0, 0].argmax() == 1 and s.registers[1, 1].argmax() == 0
    torch.testing.assert_close(s.registers[1, 2], dist)
    assert s.memory[0, :, :].argmax(-1).tolist() == [1, 2, 0, 0]
    assert s.counter[0].argmax() == 2 and s.halted.tolist() == [0.0, 0.0]
    with pytest.raises(ValueError):
        initial_state(sizes, 5, registers={3: 1})
    with pytest.raises(ValueError):
        initial_state(sizes, 5, entry=6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    program = call_ret()
    params = soft_params(program, 0)
    state = soft_state(program.sizes, program.L, 2, 0)
    alu = make_alu("sparse", 16, dtype=F64)
    cpu = run(params, state, alu, 4).state
    gpu = run(params.to("cuda"), state.to("cuda"), alu.to("cuda"), 4).state
    for x, y in zip(cpu, gpu):
        torch.testing.assert_close(x, y.cpu())


def test_soft_runs_agree_across_table_alus():
    """The dense table, the sparse ALU and the test's own einsum table compute the same
    multilinear function, so soft runs agree (the circuit ALU relaxes soft inputs differently)."""
    program = call_ret()
    params = soft_params(program, 7)
    state = soft_state(program.sizes, program.L, 3, 7)
    outs = [run(params, state, alu, 4).state for alu in (
        EinsumALU(16), make_alu("dense", 16, dtype=F64), make_alu("sparse", 16, dtype=F64))]
    for other in outs[1:]:
        for x, y in zip(outs[0], other):
            torch.testing.assert_close(x, y, atol=1e-10, rtol=1e-9)
