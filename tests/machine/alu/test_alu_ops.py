"""An ALU built with ``ops=`` computes those ops only: the same result as the full ALU for the
weights a program with those ops produces, and the other ops' routes never run (spied on);
a machine built from a fixed program gets such an ALU."""

from __future__ import annotations

import pytest
import torch

from neuralc.isa.registry import TABLE_OPS
from neuralc.lang.asm import assemble
from neuralc.lang.errors import UsageError
from neuralc.machine import DifferentiableComputer, run_machine
from neuralc.machine.alu import ALUS, make_alu, program_ops, sparse
from neuralc.machine.alu.logmul import LogMul
from neuralc.machine.alu.modulo import BlockMod

A_T = len(TABLE_OPS)
F64 = torch.float64
SUBSETS = [{"add", "lt"}, {"mul"}, {"mod", "inc"}, {"xor", "div"}, {"sub", "mul", "mod", "and"}]


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def weights(ops: set[str], B: int, gen: torch.Generator) -> torch.Tensor:
    """f (B, A_t): random weights on ``ops``, 0 elsewhere (what a program using ``ops`` gives)."""
    mask = torch.tensor([float(op in ops) for op in TABLE_OPS], dtype=F64)
    return torch.rand(B, A_T, generator=gen, dtype=F64) * mask


@pytest.mark.parametrize("name", ALUS)
@pytest.mark.parametrize("ops", SUBSETS, ids=lambda s: "+".join(sorted(s)))
def test_same_values_and_gradients_as_the_full_alu(name, ops):
    n, gen = 16, torch.Generator().manual_seed(len(ops))
    full, only = make_alu(name, n, dtype=F64), make_alu(name, n, dtype=F64, ops=ops)
    assert only.computed == frozenset(ops)
    f = weights(ops, 4, gen).requires_grad_()
    u, v = (torch.softmax(torch.randn(4, n, generator=gen, dtype=F64), -1).requires_grad_()
            for _ in "uv")
    g = torch.randn(4, n, generator=gen, dtype=F64)
    got, want = only(f, u, v), full(f, u, v)
    torch.testing.assert_close(got, want, atol=1e-12, rtol=0)
    (df, du, dv), (df0, du0, dv0) = (torch.autograd.grad((o * g).sum(), (f, u, v))
                                     for o in (got, want))
    torch.testing.assert_close(du, du0, atol=1e-12, rtol=0)
    torch.testing.assert_close(dv, dv0, atol=1e-12, rtol=0)
    cols = [TABLE_OPS.index(op) for op in sorted(ops)]
    torch.testing.assert_close(df[:, cols], df0[:, cols], atol=1e-12, rtol=0)
    others = [i for i in range(A_T) if i not in cols]
    assert df[:, others].abs().max() == 0  # ops it does not compute: no output, no gradient


class Spy:
    """Records which costly routes run: index tables (with the ops of their rows), the
    logarithm and block routes, division, bitwise transforms."""

    def __init__(self, monkeypatch):
        self.calls: list[str] = []
        wrap = self._wrap
        table_apply = sparse._TableReduce.apply

        def table(u, v, L, workspace):
            self.calls.append(f"table×{L.shape[0]}")
            return table_apply(u, v, L, workspace)

        monkeypatch.setattr(sparse._TableReduce, "apply", table)
        monkeypatch.setattr(LogMul, "forward", wrap("mul", LogMul.forward))
        monkeypatch.setattr(BlockMod, "forward", wrap("mod", BlockMod.forward))
        monkeypatch.setattr(sparse.SparseALU, "_divide", wrap("div", sparse.SparseALU._divide))
        monkeypatch.setattr(sparse.SparseALU, "_bitwise",
                            wrap("bitwise", sparse.SparseALU._bitwise))

    def _wrap(self, name, fn):
        def spy(*args):
            self.calls.append(name)
            return fn(*args)
        return spy


@pytest.mark.parametrize("n", [16, 256])
@pytest.mark.parametrize("ops", SUBSETS, ids=lambda s: "+".join(sorted(s)))
def test_routes_of_other_ops_never_run(monkeypatch, n, ops):
    """f requires a gradient (so the full ALU would run every route), forward and backward."""
    spy = Spy(monkeypatch)
    alu = make_alu("sparse", n, dtype=F64, ops=ops)
    gen = torch.Generator().manual_seed(n)
    f = weights(ops, 3, gen).requires_grad_()
    u, v = (torch.softmax(torch.randn(3, n, generator=gen, dtype=F64), -1).requires_grad_()
            for _ in "uv")
    torch.autograd.grad(alu(f, u, v).square().sum(), (f, u, v))
    costly = {"mul", "mod", "div"} & ops
    if {"xor", "and", "or"} & ops:
        costly.add("bitwise")
    if n < 256:  # add, sub, mul, mod by one index table, with only the rows of the ops used
        assert set(alu.table_ops) == {"add", "sub", "mul", "mod"}
        rows = len(set(alu.table_ops) & ops)
        costly = (costly - {"mul", "mod"}) | ({f"table×{rows}"} if rows else set())
    assert set(spy.calls) == costly


def test_the_spy_sees_the_full_alu_run_everything(monkeypatch):
    spy = Spy(monkeypatch)
    alu = make_alu("sparse", 256, dtype=F64)
    f = torch.rand(2, A_T, dtype=F64).requires_grad_()
    u = v = torch.full((2, 256), 1 / 256, dtype=F64)
    alu(f, u, v)
    assert set(spy.calls) == {"mul", "mod", "div", "bitwise"}


def test_unknown_ops_are_usage_errors():
    with pytest.raises(UsageError, match="unknown ALU ops nand"):
        make_alu("sparse", 8, ops={"add", "nand"})


PROGRAM = """
    set 7 r1
    mul r0 r1 r2
    mod r2 r1 r3
    add r2 r3 r0
    halt
"""


def test_machines_built_from_a_fixed_program_compute_its_ops_only():
    program = assemble(PROGRAM, "ops.asm")
    n = program.sizes.n
    assert program_ops(program) == {"mul", "mod", "add"}
    computer = DifferentiableComputer.from_program(program, dtype=F64)
    assert computer.alu.computed == {"mul", "mod", "add"}
    for trained in ({"trainable": True}, {"logits": True}):  # its ops may change: all
        assert DifferentiableComputer.from_program(program, **trained).alu.computed is None
    full = DifferentiableComputer(computer.program, make_alu("sparse", n, dtype=F64))
    gen = torch.Generator().manual_seed(0)
    r0 = torch.softmax(torch.randn(3, n, generator=gen, dtype=F64), -1)  # soft inputs too
    state = computer.initial_state(3, registers={0: r0})
    a, b = computer(state, 6).readout("final"), full(state, 6).readout("final")
    torch.testing.assert_close(a.registers, b.registers, atol=1e-12, rtol=0)
    assert run_machine(program, {0: 9}).registers[0] == (9 * 7 + (9 * 7) % 7) % n
