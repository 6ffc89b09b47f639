"""Selection over the library: each program run alone and mixed (``selection_mode="programs"``),
and the answer-posterior selection loss that keeps a saturated selection trainable."""

import random

import torch
import torch.nn.functional as F

from neuralc.lang.interp import run_reference
from neuralc.lm.computer import LibraryComputer
from neuralc.lm.modeling import _posterior_loss
from neuralc.lm.tasks import IGNORE


def _soft(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(3 * torch.randn(*shape, generator=g), -1)


def test_programs_mode_equals_the_superposition_for_one_step_binary_calculators():
    comp = LibraryComputer(("add", "sub", "mul", "min", "max"), inputs=2)
    s, x = _soft((5, 5), 0), _soft((5, 2, 128), 1)
    sup = comp(s, x)
    per = comp(s, x, per_program=True)
    assert per.per_program.shape == (5, 5, 1, 128)
    assert torch.allclose(per.outputs, sup.outputs, atol=1e-6)
    assert torch.allclose(per.halted, sup.halted, atol=1e-6)
    # a unary op reads other operand slots: its superposition with binary ops is not the mixture
    comp = LibraryComputer(("add", "inc"), inputs=2)
    s = _soft((5, 2), 2)
    assert (comp(s, x).outputs - comp(s, x, per_program=True).outputs).abs().max() > 1e-3


def test_programs_mode_runs_each_program_alone_and_mixes_the_answers():
    names = ("add", "mul", "max", "fibonacci")
    comp = LibraryComputer(names, inputs=3, max_depth=4)
    lib = comp.library
    rng = random.Random(0)
    vals = [[rng.randrange(128), rng.randrange(128), rng.randrange(1, 5)] for _ in range(4)]
    x = F.one_hot(torch.tensor(vals), 128).float()
    s = _soft((4, len(names)), 2)
    out = comp(s, x, per_program=True)
    for b, v in enumerate(vals):
        for k in range(len(names)):  # program k alone, on the reference interpreter
            ref = run_reference(lib.image, {**dict(enumerate(v)), **lib.constants},
                                entry=lib.entries[k])
            assert out.per_program[b, k, 0].argmax().item() == ref.registers[1]
            assert out.per_program[b, k, 0].max().item() > 1 - 1e-5
    assert torch.allclose(out.outputs, torch.einsum("be,beon->bon", s, out.per_program),
                          atol=1e-6)
    # the superposition shares registers between a looping program and the others: not exact
    sup = comp(s, x)
    assert (sup.outputs - out.outputs).abs().max() > 1e-3


def test_posterior_loss_pulls_a_saturated_selection_back_where_the_likelihood_cannot():
    """Program 1 explains the answer, program 0 holds the selection (p ≈ 1 - 1e-6)."""
    N = 16
    y_k = torch.full((1, 3, 1, N), 0.2 / (N - 1))
    y_k[0, :, 0, 7] = 0.8  # every program answers 7 with p 0.8 ...
    y_k[0, 1, 0, 7], y_k[0, 1, 0, 3] = 0.0, 0.8  # ... except program 1, which answers 3
    labels = torch.tensor([[3]])
    logits = torch.tensor([[14.0, 0.0, 0.0]], requires_grad=True)
    # marginal likelihood alone
    s = logits.softmax(-1)
    nll = -torch.einsum("be,beon->bon", s, y_k)[0, 0, 3].log()
    (g_lik,) = torch.autograd.grad(nll, logits)
    (g_post,) = torch.autograd.grad(_posterior_loss(y_k, logits, labels, 1e-6), logits)
    assert g_lik[0, 1].abs() < 1e-3  # vanishing: proportional to s_1 ≈ 1e-6
    assert g_post[0, 1] < -0.9  # descent raises program 1's logit, strongly
    assert g_post[0, 0] > 0.9


def test_posterior_ignores_uncounted_slots_and_depends_on_the_answer_only():
    y_k = _soft((2, 3, 2, 8), 3)
    logits = torch.randn(2, 3)
    a = torch.tensor([[1, IGNORE], [4, IGNORE]])
    b = a.clone()
    assert torch.equal(_posterior_loss(y_k, logits, a, 1e-6), _posterior_loss(y_k, logits, b, 1e-6))
    c = torch.tensor([[1, 5], [4, 2]])  # counting the second slot changes the posterior
    assert not torch.equal(_posterior_loss(y_k, logits, a, 1e-6),
                           _posterior_loss(y_k, logits, c, 1e-6))


def test_each_program_runs_for_its_own_budget_as_if_for_the_longest():
    """Calculators stop after their one step, the loop runs 17: same answers as every program
    idling through the longest budget (a halted machine no longer changes)."""
    comp = LibraryComputer(("add", "inc", "max", "fibonacci"), inputs=3, max_depth=8)
    assert comp.library.program_steps == (1, 1, 1, 17)
    s, x = _soft((3, 4), 4), _soft((3, 3, 128), 5)
    own = comp(s, x, per_program=True)
    longest = comp(s, x, steps=comp.steps, per_program=True)
    assert torch.allclose(own.per_program, longest.per_program, atol=1e-6)
    assert torch.allclose(own.outputs, longest.outputs, atol=1e-6)
    assert torch.allclose(own.halted, longest.halted, atol=1e-6)
