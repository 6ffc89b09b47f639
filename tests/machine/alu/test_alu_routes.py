"""The sparse ALU's routes for mul (discrete logarithms) and mod (blocks of divisors) equal the
index table, i.e. the dense ALU, in values and gradients: soft, unnormalized and one-hot inputs,
zero operands, divisor 0, n = 2, n not a power of two, and through the ALU at the sizes where
the routes are the default."""

from __future__ import annotations

import pytest
import torch

from neuralc.isa.registry import BY_NAME, TABLE_OPS
from neuralc.machine.alu import make_alu
from neuralc.machine.alu.logmul import LogMul, log_mul_supported
from neuralc.machine.alu.modulo import BlockMod
from neuralc.machine.alu.tables import op_table

A_T = len(TABLE_OPS)
F64 = torch.float64


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def table(op: str, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``o_l = Σ_{jk: fn(j, k) = l} u_j v_k`` straight from the index table (the dense lookup)."""
    n = u.shape[-1]
    w = (u.unsqueeze(2) * v.unsqueeze(1)).reshape(u.shape[0], -1)
    return torch.zeros_like(u).index_add(1, op_table(op, n).reshape(-1), w)


def inputs(n: int, seed: int, kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    if kind == "soft":
        u, v = (torch.softmax(2 * torch.randn(6, n, generator=gen, dtype=F64), -1) for _ in "uv")
    elif kind == "unnormalized":
        u, v = (torch.rand(6, n, generator=gen, dtype=F64) for _ in "uv")
    else:  # one-hot, with zero operands and divisor 0 among them
        eye = torch.eye(n, dtype=F64)
        a = torch.cat([torch.tensor([0, 0, n - 1, 1]), torch.randint(0, n, (4,), generator=gen)])
        b = torch.cat([torch.tensor([0, n - 1, 0, 0]), torch.randint(0, n, (4,), generator=gen)])
        u, v = eye[a], eye[b]
    return u.requires_grad_(), v.requires_grad_()


def assert_same_function(route, op: str, n: int, seed: int, kind: str) -> None:
    u, v = inputs(n, seed, kind)
    g = torch.randn(u.shape, generator=torch.Generator().manual_seed(seed + 1), dtype=F64)
    got, want = route(u, v), table(op, u, v)
    torch.testing.assert_close(got, want, atol=1e-12, rtol=0)
    for a, b, what in zip(torch.autograd.grad((got * g).sum(), (u, v)),
                          torch.autograd.grad((want * g).sum(), (u, v)), ("du", "dv")):
        torch.testing.assert_close(a, b, atol=1e-11, rtol=0, msg=f"{op} n={n} {kind}: {what}")


@pytest.mark.parametrize("kind", ["soft", "unnormalized", "sharp"])
@pytest.mark.parametrize("n", [8, 16, 32, 64, 256])
def test_log_mul_equals_the_table(n, kind):
    assert_same_function(LogMul(n), "mul", n, n, kind)


def test_log_mul_every_pair_n16():
    n = 16
    eye = torch.eye(n, dtype=F64)
    a, b = torch.arange(n).repeat_interleave(n), torch.arange(n).repeat(n)
    o = LogMul(n)(eye[a], eye[b])
    torch.testing.assert_close(o, eye[(a * b) % n], atol=1e-12, rtol=0)


def test_log_mul_needs_a_power_of_two_from_8():
    assert [n for n in range(2, 70) if log_mul_supported(n)] == [8, 16, 32, 64]
    with pytest.raises(ValueError, match="2\\^K"):
        LogMul(12)


@pytest.mark.parametrize("kind", ["soft", "unnormalized", "sharp"])
@pytest.mark.parametrize("n,blocks", [(2, None), (3, None), (5, 2), (8, None), (8, 3), (12, 3),
                                      (16, 5), (33, None), (64, None), (100, 4), (256, None)])
def test_block_mod_equals_the_table(n, blocks, kind):
    assert_same_function(BlockMod(n, blocks), "mod", n, n, kind)


@pytest.mark.parametrize("n", [2, 12, 16])
def test_block_mod_every_pair_and_divisor_zero(n):
    """Every (a, b) one-hot pair gives ``a mod b`` (``a mod 0 = 0``, the registry's rule)."""
    eye = torch.eye(n, dtype=F64)
    a, b = torch.arange(n).repeat_interleave(n), torch.arange(n).repeat(n)
    want = torch.tensor([BY_NAME["mod"].fn(int(x), int(y), n) % n for x, y in zip(a, b)])
    assert want[b == 0].eq(0).all()
    torch.testing.assert_close(BlockMod(n, 3)(eye[a], eye[b]), eye[want], atol=1e-12, rtol=0)


@pytest.mark.parametrize("n", [2, 4, 6, 8, 12, 16])
def test_sparse_alu_with_the_routes_forced_equals_dense(monkeypatch, n):
    """At small n, with the thresholds lowered: mul by logarithms where n = 2^K ≥ 8 (else the
    index table), mod by blocks for every n; the whole ALU equals the dense table."""
    from neuralc.machine.alu import sparse

    monkeypatch.setattr(sparse, "_MKL_MIN_N", 2)
    monkeypatch.setattr(sparse, "_FFT_MIN_N", 2)
    monkeypatch.setattr(sparse, "_MULMOD_MIN_N", 2)
    alu = make_alu("sparse", n, dtype=F64)
    assert (alu.log_mul is not None) == log_mul_supported(n)
    assert alu.block_mod is not None
    assert ("mul" in alu.table_ops) == (not log_mul_supported(n)) and "mod" not in alu.table_ops
    gen = torch.Generator().manual_seed(n)
    f = torch.rand(5, A_T, generator=gen, dtype=F64).requires_grad_()
    u, v = inputs(n, n, "soft")
    u, v = u[:5], v[:5]
    g = torch.randn(5, n, generator=gen, dtype=F64)
    got, want = alu(f, u, v), make_alu("dense", n, dtype=F64)(f, u, v)
    torch.testing.assert_close(got, want, atol=1e-10, rtol=0)
    for a, b in zip(torch.autograd.grad((got * g).sum(), (f, u, v)),
                    torch.autograd.grad((want * g).sum(), (f, u, v))):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)
    assert torch.autograd.gradcheck(lambda *x: alu(*x), (f.detach().requires_grad_(), u, v),
                                    eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("n", [256, 1024])
def test_default_routes_at_large_n_float32(n):
    """Where the routes are the default: float32 soft inputs against the float64 table, and
    sharp pairs give one-hot results."""
    alu = make_alu("sparse", n)
    assert alu.log_mul is not None and alu.block_mod is not None and not alu.table_ops
    u, v = inputs(n, 3, "soft")
    u, v = u[:3].detach(), v[:3].detach()
    per_op = alu.per_op(u.float(), v.float())
    for op in ("mul", "mod"):
        torch.testing.assert_close(per_op[:, TABLE_OPS.index(op)].double(), table(op, u, v),
                                   atol=1e-6, rtol=1e-5)
    u, v = inputs(n, 4, "sharp")
    per_op = alu.per_op(u.detach().float(), v.detach().float())
    a, b = u.argmax(-1), v.argmax(-1)
    for op in ("mul", "mod"):
        want = torch.tensor([BY_NAME[op].fn(int(x), int(y), n) % n for x, y in zip(a, b)])
        assert torch.equal(per_op[:, TABLE_OPS.index(op)], torch.eye(n)[want]), op
