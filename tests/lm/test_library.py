"""The library programs agree with the reference interpreter, and so does the machine running
them with sharp selections and inputs; the op-restricted ALU equals the full one."""

import itertools
import random

import pytest
import torch

from neuralc.isa import TABLE_OPS
from neuralc.lang.interp import run_reference
from neuralc.lm.computer import LibraryALU, LibraryComputer, make_alu_module
from neuralc.lm.library import build_library
from neuralc.lm.tasks import fibonacci_answer


def test_programs_against_the_reference_interpreter():
    lib = build_library(list(TABLE_OPS) + ["fibonacci"], inputs=3, max_depth=8)
    rng = random.Random(0)
    for i, name in enumerate(lib.names):
        for _ in range(5):
            a, b, d = rng.randrange(128), rng.randrange(128), rng.randrange(1, 9)
            regs = {0: a, 1: b, 2: d, **lib.constants}
            r = run_reference(lib.image, regs, entry=lib.entries[i], max_steps=lib.steps)
            assert r.halted
            if name == "fibonacci":
                assert r.registers[1] == fibonacci_answer(a, b, d)
            else:
                from neuralc.isa import BY_NAME
                assert r.registers[1] == BY_NAME[name].fn(a, b, 128) % 128


def test_sorting_network_sorts_every_01_input():  # the 0-1 principle: then it sorts everything
    lib = build_library(["sort"], inputs=8, outputs=8)
    for bits in itertools.product([0, 1], repeat=8):
        assert run_reference(lib.image, list(bits)).registers == sorted(bits)
    assert lib.steps == 6


@pytest.mark.parametrize("names,inputs,outputs,depth", [
    (("add", "mul", "inc", "fibonacci"), 3, 1, 4), (("sort",), 8, 8, 0)])
def test_machine_matches_reference_on_sharp_requests(names, inputs, outputs, depth):
    comp = LibraryComputer(names, inputs=inputs, outputs=outputs, max_depth=depth)
    lib = comp.library
    rng = random.Random(1)
    for i in range(len(names)):
        vals = [rng.randrange(128) for _ in range(inputs)]
        if names[i] == "fibonacci":
            vals[2] = rng.randrange(1, depth + 1)
        sel = torch.nn.functional.one_hot(torch.tensor([i]), len(names)).float()
        x = torch.nn.functional.one_hot(torch.tensor([vals]), 128).float()
        out = comp(sel, x)
        ref = run_reference(lib.image, {**dict(enumerate(vals)), **lib.constants},
                            entry=lib.entries[i])
        want = [ref.registers[r] for r in lib.output_registers]
        assert out.outputs.argmax(-1)[0].tolist() == want
        assert torch.allclose(out.outputs.max(-1).values, torch.ones(1, outputs), atol=1e-5)
        assert out.halted.item() == pytest.approx(1.0)


def test_restricted_alu_equals_the_full_alu_on_the_ops_it_keeps():
    base = make_alu_module("sparse", 128)
    keep = ("inc", "not", "add", "sub", "min", "max", "lt", "eq", "ge")
    alu = LibraryALU(base, keep)
    g = torch.Generator().manual_seed(0)
    f = torch.rand(6, len(TABLE_OPS), generator=g)
    f[:, [i for i, op in enumerate(TABLE_OPS) if op not in keep]] = 0
    u = torch.softmax(torch.randn(6, 128, generator=g), -1)
    v = torch.softmax(torch.randn(6, 128, generator=g), -1)
    assert torch.allclose(alu(f, u, v), base(f, u, v), atol=1e-6)
