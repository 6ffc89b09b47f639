"""One-hot ⇄ binary conversions (docs/DESIGN.md §6.5): exact, differentiable, normalized."""

from __future__ import annotations

import pytest
import torch

from neuralc.lang.errors import UsageError
from neuralc.machine.alu import binary_to_unit, unit_to_binary
from neuralc.machine.alu.binary import bits_of, num_bits

F64 = torch.float64


@pytest.mark.parametrize("n", [2, 8, 16, 128])
def test_one_hot_round_trip_and_exact_bits(n):
    eye = torch.eye(n, dtype=F64)
    bits = unit_to_binary(eye)  # (N, K)
    want = torch.tensor([[(i >> k) & 1 for k in range(num_bits(n))] for i in range(n)], dtype=F64)
    assert torch.equal(bits, want)
    assert torch.equal(binary_to_unit(bits), eye)


def test_unit_to_binary_is_the_expected_bit():
    gen = torch.Generator().manual_seed(0)
    u = torch.softmax(torch.randn(5, 16, generator=gen, dtype=F64), -1)
    b = unit_to_binary(u)
    for k in range(4):
        expected = sum(u[:, i] for i in range(16) if (i >> k) & 1)
        torch.testing.assert_close(b[:, k], expected)


def test_binary_to_unit_sums_to_one_and_is_the_product_of_bits():
    gen = torch.Generator().manual_seed(1)
    b = torch.rand(7, 5, generator=gen, dtype=F64)
    u = binary_to_unit(b)
    assert u.shape == (7, 32)
    torch.testing.assert_close(u.sum(-1), torch.ones(7, dtype=F64))
    for i in (0, 5, 19, 31):
        want = torch.ones(7, dtype=F64)
        for k in range(5):
            want = want * (b[:, k] if (i >> k) & 1 else 1 - b[:, k])
        torch.testing.assert_close(u[:, i], want)
    # binary_to_unit keeps the bit marginals exactly
    torch.testing.assert_close(unit_to_binary(u), b)


def test_leading_dimensions():
    b = torch.rand(2, 3, 4, dtype=F64)
    assert binary_to_unit(b).shape == (2, 3, 16)
    assert unit_to_binary(binary_to_unit(b)).shape == (2, 3, 4)


def test_gradcheck_both_directions():
    gen = torch.Generator().manual_seed(2)
    b = torch.rand(3, 3, generator=gen, dtype=F64).requires_grad_()
    u = torch.softmax(torch.randn(3, 8, generator=gen, dtype=F64), -1).requires_grad_()
    assert torch.autograd.gradcheck(binary_to_unit, (b,))
    assert torch.autograd.gradcheck(unit_to_binary, (u,))


def test_crisp_bits_give_finite_gradients():
    b = torch.tensor([[0.0, 1.0, 1.0, 0.0]], dtype=F64, requires_grad=True)
    (binary_to_unit(b) * torch.arange(16, dtype=F64)).sum().backward()
    assert torch.isfinite(b.grad).all() and b.grad.abs().sum() > 0


@pytest.mark.parametrize("n", [0, 1, 3, 12, 100])
def test_not_a_power_of_two(n):
    with pytest.raises(UsageError, match="power of two"):
        bits_of(n)
