"""Training blocks: the library computer agrees with the reference interpreter, freezing keeps
frozen parameters bit-identical, the table → circuit swap keeps sharp runs identical, the
exact (tabulated) read-out is the true output distribution, Bunel's loss reduces to the final
loss on sharp runs."""

from __future__ import annotations

import torch

from neuralc import library
from neuralc.lang.asm import assemble
from neuralc.lang.interp import run_reference
from neuralc.lang.program import Sizes
from neuralc.learn import LibraryComputer, expected_loss_run, swap_alu, value_nll
from neuralc.learn.alu import SubsetTableALU, used_table_ops
from neuralc.machine import encode, freeze

CALC = """\
    add r0 r1 r2
    mul r2 r0 r3
    sub r3 r1 r3
    max r3 r2 r2
    halt
"""


def fib_loop(n=16):
    return library.get("fib").program(Sizes(n=n, registers=8))


def mod_add(n=16):
    return library.get("mod_add").program(Sizes(n=n, registers=5, memory=1))


def _calc(n=16):
    return assemble(CALC, "calc.asm", {"n": n, "registers": 4, "memory": 1})


def test_sharp_run_matches_reference_on_fib_loop():
    n = 16
    lc = LibraryComputer(fib_loop(n), alu="dense", outputs=[1, 2, ("mem", 2)],
                         constants={4: 3}, steps=27)
    g = torch.Generator().manual_seed(0)
    a, b = torch.randint(0, n, (8,), generator=g), torch.randint(0, n, (8,), generator=g)
    out = lc.run_sharp({1: a, 2: b})
    for i in range(8):
        ref = run_reference(fib_loop(n), {1: int(a[i]), 2: int(b[i]), 4: 3}, None, 27)
        assert out[i].tolist() == [ref.registers[1], ref.registers[2], ref.memory[2]]
        assert ref.halted and out[i, 1] == library.fibonacci(int(a[i]), int(b[i]), 3, n)


def test_table_to_circuit_swap_keeps_sharp_outputs_identical():
    n = 16
    lc = LibraryComputer(_calc(n), alu="dense", outputs=[2, 3], steps=5, readout="final")
    x = torch.arange(n).repeat_interleave(n)
    y = torch.arange(n).repeat(n)
    eye = torch.eye(n)
    before = lc({0: eye[x], 1: eye[y]}).values
    swap_alu(lc, "circuit")
    assert lc.alu.name == "circuit"
    after = lc({0: eye[x], 1: eye[y]}).values
    assert torch.equal(before, after)
    # and it is the right answer
    s = (x + y) % n
    want2 = torch.maximum((s * x - y) % n, s)
    assert torch.equal(after[:, 0].argmax(-1), want2)


def test_swap_keeps_every_other_parameter():
    lc = LibraryComputer(_calc(), alu="dense", outputs=[2], steps=5, trainable=True,
                         logits=True)
    before = {k: v.clone() for k, v in lc.program.state_dict().items()}
    swap_alu(lc, "circuit")
    assert all(torch.equal(before[k], v) for k, v in lc.program.state_dict().items())


def test_freezing_leaves_frozen_lines_bit_identical():
    n = 16
    params = encode(mod_add(n), logits=True, sharpness=4.0, trainable=True)
    lc = LibraryComputer(params, alu="dense", outputs=[2], constants={3: 8}, steps=6)
    mask = freeze(lc.program, lines=[0, 2])
    snap = {k: v.detach().clone() for k, v in lc.program.named_parameters()}
    opt = torch.optim.Adam(lc.program.parameters(), lr=0.1)
    eye = torch.eye(n)
    g = torch.Generator().manual_seed(1)
    for _ in range(5):
        a, b = torch.randint(0, 8, (32,), generator=g), torch.randint(0, 8, (32,), generator=g)
        loss = value_nll(lc({0: eye[a], 1: eye[b]}).values[:, 0], (a + b) % 8)
        opt.zero_grad()
        loss.backward()
        opt.step()
    moved = False
    for name, p in lc.program.named_parameters():
        assert torch.equal(p[[0, 2]], snap[name][[0, 2]]), name
        moved |= not torch.equal(p[[1, 3, 4]], snap[name][[1, 3, 4]])
    assert moved  # the unfrozen lines did train
    mask.remove()


def test_exact_readout_is_the_output_distribution_of_independent_inputs():
    # for a one-step program the soft machine is exact, so tabulated top-N must equal it
    n = 8
    prog = assemble("add r0 r1 r2\nhalt\n", "a.asm", {"n": n, "registers": 3, "memory": 1})
    lc = LibraryComputer(prog, alu="dense", outputs=[2], steps=2, readout="final")
    torch.manual_seed(0)
    p0, p1 = torch.softmax(torch.randn(4, n), -1), torch.softmax(torch.randn(4, n), -1)
    soft = lc({0: p0, 1: p1}).values
    lc.tabulate((0, 1))
    exact = lc.topk({0: p0, 1: p1}, k=n).values
    assert torch.allclose(soft, exact, atol=1e-6)
    partial = lc.topk({0: p0, 1: p1}, k=3).values
    assert (partial <= exact + 1e-7).all() and (partial.sum(-1) < 1).all()


def test_gradient_reaches_the_inputs_through_the_loop():
    n = 16
    params = encode(fib_loop(n))
    lc = LibraryComputer(params, alu=SubsetTableALU(n, used_table_ops(params)), outputs=[2],
                         constants={4: 2}, steps=19)
    z = torch.randn(4, 2, n, requires_grad=True)
    p = torch.softmax(z, -1)
    loss = value_nll(lc({1: p[:, 0], 2: p[:, 1]}).values[:, 0], torch.tensor([1, 2, 3, 4]))
    loss.backward()
    assert z.grad is not None and z.grad.abs().sum() > 0


def test_subset_alu_equals_the_dense_table():
    n = 16
    params = encode(_calc(n))
    a = LibraryComputer(params, alu="dense", outputs=[2, 3], steps=5)
    b = LibraryComputer(params, alu=SubsetTableALU(n, used_table_ops(params)), outputs=[2, 3],
                        steps=5)
    torch.manual_seed(0)
    p0, p1 = torch.softmax(torch.randn(5, n), -1), torch.softmax(torch.randn(5, n), -1)
    assert torch.allclose(a({0: p0, 1: p1}).values, b({0: p0, 1: p1}).values, atol=1e-6)


def test_bunel_loss_on_a_sharp_run_is_the_final_loss_and_counts_steps():
    n = 16
    params = encode(mod_add(n))
    lc = LibraryComputer(params, alu="dense", outputs=[2], constants={3: 8}, steps=6)
    eye = torch.eye(n)
    a, b = torch.tensor([1, 5, 7]), torch.tensor([2, 6, 0])
    state = lc.initial_state({0: eye[a], 1: eye[b]})
    y = (a + b) % 8
    terms = expected_loss_run(params, state, lc.alu, 6,
                              lambda s: value_nll(s.registers[:, 2], y, reduce=False),
                              alpha=1.0, beta=1.0, gamma=1.0)
    steps = [run_reference(mod_add(n), {0: int(x), 1: int(w), 3: 8}, None, 6).steps
             for x, w in zip(a, b)]
    assert abs(float(terms.steps) - sum(steps) / 3) < 1e-5
    assert torch.allclose(terms.expected, terms.final)
    assert float(terms.final) < 1e-4
