"""Selection over the library: each program run alone and mixed (``selection_mode="programs"``),
the paper's superposition where it is exact, and the answer-posterior selection loss that keeps
a saturated selection trainable."""

import random

import pytest
import torch
import torch.nn.functional as F

from neuralc import library
from neuralc.lang.program import Sizes
from neuralc.library.interface import interface, link_library, step_budgets
from neuralc.lm.calls import LibraryCalls, library_spec
from neuralc.lm.modeling import _posterior_loss
from neuralc.lm.tasks import IGNORE


def _soft(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(3 * torch.randn(*shape, generator=g), -1)


def _calls(names, samples=None):
    entries = [library.get(x) for x in names]
    sizes = Sizes(n=128, registers=40, memory=32)
    faces = [interface(e, sizes, 1) for e in entries]
    budgets = step_budgets(link_library(entries, sizes), entries, faces, sizes, 1, samples)
    return LibraryCalls([library_spec(e) for e in entries], budgets)


def test_programs_mode_equals_the_superposition_for_one_step_binary_calculators():
    calls = _calls(["calc_add", "calc_sub", "calc_mul", "calc_min", "calc_max"])
    s, x = _soft((5, 5), 0), _soft((5, 2, 128), 1)
    sup = calls(s, x, superposition=True)
    per = calls(s, x)
    assert per.per_program.shape == (5, 5, 2, 128)
    assert torch.allclose(per.outputs, sup.outputs, atol=1e-6)
    assert torch.allclose(per.halted, sup.halted, atol=1e-6)


def test_programs_mode_runs_each_program_alone_and_mixes_the_answers():
    names = ["calc_add", "calc_mul", "calc_max", "fib_parallel"]
    calls = _calls(names, {"fib_parallel": [[0, 1, 4]]})
    image = calls.image
    rng = random.Random(0)
    vals = [[rng.randrange(128), rng.randrange(128), rng.randrange(1, 5)] for _ in range(4)]
    x = F.one_hot(torch.tensor(vals), 128).float()
    s = _soft((4, len(names)), 2)
    out = calls(s, x)
    for b, v in enumerate(vals):
        for k, name in enumerate(names):  # program k alone, on the reference interpreter
            entry = library.get(name)
            regs, mem = entry.inputs(v[: len(entry.inputs_ports)], Sizes(registers=40, memory=32))
            ref = image.run(name, regs, mem)
            assert out.per_program[b, k, 1].argmax().item() == entry.output(ref)
            assert out.per_program[b, k, 1].max().item() > 1 - 1e-5
    assert torch.allclose(out.outputs, torch.einsum("be,beon->bon", s, out.per_program),
                          atol=1e-6)


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


def test_each_program_runs_for_its_own_budget():
    """Calculators stop after their step and the linker's halt, the loop runs 2 d + 1 steps."""
    calls = _calls(["calc_add", "calc_inc", "fib_parallel"], {"fib_parallel": [[0, 1, 8]]})
    assert calls.budgets == [2, 2, 17]


def _pointer_parse(tokens: torch.Tensor, scores: torch.Tensor):
    """The :class:`Parse` of requests whose tokens are ``tokens`` (T,) (a number, or -1 for a
    word: never a candidate) with pointer logits ``scores`` (B,S,T); values copied."""
    from neuralc.lm.modeling import Parse

    B, N = scores.shape[0], 128
    values = F.one_hot(tokens.clamp_min(0), N).float()[None].repeat(B, 1, 1)
    values[:, tokens < 0] = 1.0 / N
    log_alpha = scores.log_softmax(-1)
    alpha = log_alpha.exp()
    return Parse(alpha @ values, None, None, alpha, log_alpha, values,
                 (tokens >= 0)[None].repeat(B, 1))


@pytest.mark.parametrize("how", ["exact", "machine"])
def test_pointer_posterior_moves_a_saturated_pointer_that_the_likelihood_cannot(how):
    """"Question 69: Decrement 12." with input a saturated on "69": the answer's likelihood
    gives the pointer logit of "12" no gradient (its α is ~e^-50 and the wrong answer's
    probability is clipped at ε), the pointer posterior gives it ``α − q ≈ −1``. With the answer
    of "decrement 69" instead, the posterior agrees with the pointer and asks for nothing."""
    from neuralc.lm.modeling import _pointer_posterior_loss

    calls = _calls(["calc_dec", "calc_inc"])
    tokens = torch.tensor([-1, 69, -1, 12, -1])  # "Question 69 : Decrement 12"
    selection = torch.tensor([[0.5, 0.5]])
    for answer, want in ((11, -0.9), (68, 0.0)):
        scores = torch.full((1, calls.scalar_slots, 5), -1e9)
        scores[..., 1], scores[..., 3] = 0.0, -50.0
        scores.requires_grad_(True)
        parse = _pointer_parse(tokens, scores)
        labels = torch.tensor([[0, answer]])  # slot 0: the kind (an int), slot 1: the value
        y = calls(selection, parse.scalars).outputs
        nll = -y.clamp_min(1e-6).log()[0].gather(-1, labels[0, :, None]).sum()
        (g_ml,) = torch.autograd.grad(nll, scores, retain_graph=True)
        loss = _pointer_posterior_loss(calls, parse, labels, how=how)
        (g_post,) = torch.autograd.grad(loss, scores)
        assert g_ml[0, 0, 3].abs() < 1e-6  # the likelihood cannot move it
        if want < 0:
            assert g_post[0, 0, 3] < want  # the posterior pulls "12" up
            assert g_post[0, 0, 1] > -want
        else:
            assert g_post[0, 0, 3].abs() < 1e-4 and g_post[0, 0, 1].abs() < 1e-4


def test_pointer_posterior_keeps_ties_where_the_pointer_has_them():
    """"Compute the minimum of 60 and 44": read as (60, 44) or (44, 60) both answer 44. The
    posterior then follows the pointer (its prior): it sharpens the reading the pointer holds,
    where a uniform prior would pull both inputs towards 50/50."""
    from neuralc.lm.modeling import _pointer_posterior_loss

    calls = _calls(["calc_min"])
    scores = torch.full((1, calls.scalar_slots, 4), -1e9)
    scores[0, 0, 1], scores[0, 0, 3] = 2.0, 0.0  # a: 60 with α ≈ 0.88
    scores[0, 1, 3], scores[0, 1, 1] = 2.0, 0.0  # b: 44 with α ≈ 0.88
    scores.requires_grad_(True)
    parse = _pointer_parse(torch.tensor([-1, 60, -1, 44]), scores)
    loss = _pointer_posterior_loss(calls, parse, torch.tensor([[0, 44]]))
    (grad,) = torch.autograd.grad(loss, scores)
    assert grad[0, 0, 1] < 0 and grad[0, 1, 3] < 0  # a on 60, b on 44: held, not halved
    assert grad[0, 0, 3] > 0 and grad[0, 1, 1] > 0


@pytest.mark.parametrize("how", ["exact", "machine"])
def test_pointer_posterior_one_token_fills_one_input(how):
    """"Compute the minimum of 60 and 44" with input b on 44: input a read as 44 too answers
    44, and it answers it under max as well, so that reading would count two programs and hide
    which one the request asks for. In the exact posterior a program's inputs read distinct
    tokens: a is pulled to 60. The machine's trial runs, one input at a time, have no such
    rule and follow the pointer."""
    from neuralc.lm.modeling import _pointer_posterior_loss

    calls = _calls(["calc_min", "calc_max"])
    scores = torch.full((1, calls.scalar_slots, 4), -1e9)
    scores[0, 0, 1], scores[0, 0, 3] = 0.0, 2.0  # a: 44 with α ≈ 0.88
    scores[0, 1, 3] = 0.0  # b: 44
    scores.requires_grad_(True)
    parse = _pointer_parse(torch.tensor([-1, 60, -1, 44]), scores)
    loss = _pointer_posterior_loss(calls, parse, torch.tensor([[0, 44]]), how=how)
    (grad,) = torch.autograd.grad(loss, scores)
    if how == "exact":
        assert grad[0, 0, 1] < -0.2 and grad[0, 0, 3] > 0.2  # a towards 60, away from 44
    else:
        assert grad[0, 0, 1] > 0  # towards the pointer's own reading (the degenerate one)


@pytest.mark.parametrize("how", ["exact", "machine"])
def test_pointer_posterior_leaves_out_requests_already_answered(how):
    """Requests the model answers with probability ≥ 0.9 run no parses and add nothing;
    the others give the same loss as alone, counted in the mean over the whole batch."""
    from neuralc.lm.modeling import Parse, _pointer_posterior_loss

    calls = _calls(["calc_dec", "calc_inc"])
    scores = torch.full((2, calls.scalar_slots, 5), -1e9)
    scores[..., 1], scores[..., 3] = 0.0, -50.0
    parse = _pointer_parse(torch.tensor([-1, 69, -1, 12, -1]), scores)
    labels = torch.tensor([[0, 11], [0, 68]])
    answered = torch.log(torch.tensor([0.01, 0.99]))  # the second request is explained
    both = _pointer_posterior_loss(calls, parse, labels, answered, how)
    first = _pointer_posterior_loss(calls, Parse(*(x[:1] if x is not None else None
                                                   for x in parse)), labels[:1], how=how)
    assert torch.allclose(both, first / 2)
    none = _pointer_posterior_loss(calls, parse, labels, torch.zeros(2), how)
    assert none.item() == 0.0


def test_pointer_posterior_swaps_two_inputs_read_the_wrong_way_round():
    """"Subtract 3 from 10" read as sub(3, 10) with both pointers saturated: no single input
    changed alone explains 7, the joint parse (10, 3) does, and the exact posterior pulls both
    (the machine's trial runs, one input at a time, find nothing to pull towards)."""
    from neuralc.lm.modeling import _pointer_posterior_loss

    calls = _calls(["calc_sub"])
    scores = torch.full((1, calls.scalar_slots, 4), -1e9)
    scores[0, 0, 1], scores[0, 0, 3] = 0.0, -30.0  # a on "3"
    scores[0, 1, 3], scores[0, 1, 1] = 0.0, -30.0  # b on "10"
    scores.requires_grad_(True)
    parse = _pointer_parse(torch.tensor([-1, 3, -1, 10]), scores)
    loss = _pointer_posterior_loss(calls, parse, torch.tensor([[0, 7]]))
    (grad,) = torch.autograd.grad(loss, scores, retain_graph=True)
    assert grad[0, 0, 3] < -0.4 and grad[0, 1, 1] < -0.4  # a towards "10", b towards "3"
    assert grad[0, 0, 1] > 0.4 and grad[0, 1, 3] > 0.4
    loss = _pointer_posterior_loss(calls, parse, torch.tensor([[0, 7]]), how="machine")
    (grad,) = torch.autograd.grad(loss, scores)
    assert grad.abs().max() < 0.05  # the floor's share only


@pytest.mark.parametrize("names", [["calc_sub", "calc_inc", "fib_parallel"],
                                   ["gcd", "calc_max"]])
def test_exact_answers_agree_with_the_machine_on_sharp_inputs(names):
    """The answers the pointer's posterior counts (reference interpreter, each program's own
    budget) are the library computer's on one-hot inputs, program by program."""
    budgets = {"fib_parallel": [[0, 1, 8]], "gcd": [[120, 7], [64, 48]]}
    calls = _calls(names, {k: v for k, v in budgets.items() if k in names})
    gen = torch.Generator().manual_seed(0)
    S, N = calls.scalar_slots, 128
    ints = torch.randint(0, N, (12, S), generator=gen)
    if "fib_parallel" in names:
        ints[:, 2] = torch.randint(1, 9, (12,), generator=gen)
    x = F.one_hot(ints, N).float()
    for k in range(len(names)):
        out = calls(F.one_hot(torch.full((12,), k), len(names)).float(), x)
        for r in range(12):
            got = calls._exact(k, tuple(ints[r].tolist()), ())
            if got is None:  # no halt within the budget, on the machine too
                assert out.halted[r] < 0.5
                continue
            assert out.halted[r] > 0.99
            assert got[1] == int(out.outputs[r, 1].argmax()) and out.outputs[r, 1].max() > 0.99


def test_a_program_explains_a_parse_only_on_distinct_tokens():
    """min(44, 44) and max(44, 44) both answer 44: read from one token twice they count for
    nothing; from two tokens "44" and "44", or from a request with one number, they count."""
    calls = _calls(["calc_min", "calc_max"])
    parses = [[[44, 44], [60, 44]]]
    assert calls.explains(parses, None, None, [[0, 44]], [[[1, 1], [0, 1]]], [2]) == [[0, 1]]
    assert calls.explains(parses, None, None, [[0, 44]], [[[0, 1], [0, 1]]], [2]) == [[2, 1]]
    assert calls.explains(parses, None, None, [[0, 44]], [[[0, 0], [0, 0]]], [1]) == [[2, 1]]
