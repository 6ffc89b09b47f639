"""Gradients of a soft run: numerical checks (float64) for every instruction family and ALU.

Gradients must reach the program parameters (logits of every field), the initial registers and
the initial memory, and be finite even for saturated logits (±1e4).
"""

from __future__ import annotations

import pytest
import torch
from machine_helpers import EinsumALU
from torch.autograd import gradcheck

from neuralc.lang.program import Op, Program, Sizes, Target
from neuralc.machine import FIELDS, ProgramProbs, encode, initial_state, prepare, run
from neuralc.machine.alu import make_alu

N = 8


def T(line=None, register=None):
    return Target(line=line, register=register)


FAMILIES = {
    "table": ([(Op("add", (0, 1, 2)),), (Op("mul", (2, 1, 0)),), (Op("lt", (0, 2, 1)),)],
              Sizes(n=N, registers=3)),
    "unary_special": ([(Op("inc", (0, 1)),), (Op("zero", (2,)),), (Op("set", (5, 1)),),
                       (Op("copy", (1, 2)),), (Op("store", (0,)),)], Sizes(n=N, registers=3)),
    "memory": ([(Op("write", (0, 1)),), (Op("read", (1, 2)),), (Op("write", (2, 0)),)],
               Sizes(n=N, registers=3, memory=4)),
    "control": ([(Op("jump", (0, T(3))),), (Op("goto", (T(register=1),)),),
                 (Op("call", (T(4), 2)),), (Op("ret", (0,)),), (Op("halt"),)],
                Sizes(n=N, registers=3)),
    "width2": ([(Op("add", (0, 1, 2)), Op("jump", (1, T(2)))),
                (Op("write", (0, 2)), Op("read", (1, 0))),
                (Op("sub", (2, 0, 1)), Op("halt"))], Sizes(n=N, registers=3, memory=N, width=2)),
}


def soft_problem(family: str, seed: int = 0, sharpness: float = 2.0):
    """Soft program logits, soft initial registers and memory (all float64, requiring grad)."""
    lines, sizes = FAMILIES[family]
    program = Program(lines, sizes)
    g = torch.Generator().manual_seed(seed)
    params = encode(program, logits=True, sharpness=sharpness, dtype=torch.float64)
    logits = [(t.detach() + 0.5 * torch.randn(t.shape, generator=g, dtype=torch.float64))
              .requires_grad_() for t in params.fields().values()]
    B = 2
    regs = torch.softmax(torch.randn(B, sizes.K, N, generator=g, dtype=torch.float64), -1)
    mem = torch.softmax(torch.randn(B, sizes.m, N, generator=g, dtype=torch.float64), -1)
    return program, params, logits, regs.requires_grad_(), mem.requires_grad_()


def machine_fn(params, alu, steps=3, faithful_writes=False):
    """(field logits..., registers, memory) → final state and mixture readout, flattened."""
    sizes = params.sizes

    def fn(*inputs):
        probs = ProgramProbs(*(torch.softmax(x, -1) for x in inputs[: len(FIELDS)]))
        regs, mem = inputs[len(FIELDS):]
        state = initial_state(sizes, params.L, regs.shape[0], regs, mem, dtype=torch.float64)
        out = run(prepare(probs, sizes), state, alu, steps, mixture=True,
                  faithful_writes=faithful_writes)
        mix = out.readout("mixture")
        return torch.cat([x.reshape(-1) for x in (*out.state, *mix, out.expected_steps)])

    return fn


def alu_for(name: str):
    if name == "einsum":
        return EinsumALU(N)
    return make_alu(name, N, dtype=torch.float64)


CHECKS = [(f, "einsum") for f in FAMILIES] + [("table", a) for a in ("dense", "sparse", "circuit")]


@pytest.mark.parametrize("family,alu", CHECKS)
def test_gradcheck(family, alu):
    _, params, logits, regs, mem = soft_problem(family)
    fn = machine_fn(params, alu_for(alu))
    assert gradcheck(fn, (*logits, regs, mem), eps=1e-6, atol=1e-6, rtol=1e-4, fast_mode=True)


def test_gradcheck_faithful_writes():
    _, params, logits, regs, mem = soft_problem("unary_special", seed=1)
    fn = machine_fn(params, alu_for("einsum"), faithful_writes=True)
    assert gradcheck(fn, (*logits, regs, mem), eps=1e-6, atol=1e-6, rtol=1e-4, fast_mode=True)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_gradients_reach_everything(family):
    """Every field, the registers and the memory get a non-zero gradient."""
    _, params, logits, regs, mem = soft_problem(family)
    out = machine_fn(params, alu_for("einsum"))(*logits, regs, mem)
    w = torch.randn(out.shape, generator=torch.Generator().manual_seed(3), dtype=out.dtype)
    (out * w).sum().backward()
    names = [*FIELDS, "registers", "memory"]
    for name, x in zip(names, (*logits, regs, mem)):
        if name == "imm" and family not in ("unary_special",):
            continue  # only set reads the immediate
        if name == "target" and family not in ("control", "width2"):
            continue
        if name == "memory" and family not in ("memory", "width2"):
            continue
        assert x.grad is not None and x.grad.abs().sum() > 0, name


@pytest.mark.parametrize("alu", ["einsum", "dense", "sparse", "circuit"])
@pytest.mark.parametrize("family", ["control", "width2", "memory"])
def test_saturated_logits_are_finite(family, alu):
    """Logits ±1e4 (saturated softmax): forward and backward stay finite."""
    _, params, logits, regs, mem = soft_problem(family)
    g = torch.Generator().manual_seed(5)
    big = [(1e4 * torch.sign(torch.randn(x.shape, generator=g, dtype=x.dtype)))
           .requires_grad_() for x in logits]
    out = machine_fn(params, alu_for(alu), steps=4)(*big, regs, mem)
    assert torch.isfinite(out).all()
    out.sum().backward()
    for x in (*big, regs, mem):
        assert torch.isfinite(x.grad).all()
