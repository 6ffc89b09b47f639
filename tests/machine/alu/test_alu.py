"""The three ALUs: the interface, exact agreement with the registry, dense == sparse (values and
gradients) on soft inputs, numeric gradients, no NaN, size refusal, trainable tables."""

from __future__ import annotations

import resource
import time

import pytest
import torch

from neuralc.isa.registry import BY_NAME, TABLE_OPS
from neuralc.lang.errors import UsageError
from neuralc.machine.alu import ALUS, make_alu

A_T = len(TABLE_OPS)
F64 = torch.float64


def soft(B: int, n: int, gen: torch.Generator, scale: float = 2.0, dtype=F64) -> torch.Tensor:
    return torch.softmax(scale * torch.randn(B, n, generator=gen, dtype=dtype), -1)


def exact_per_op(n: int, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(P, A_t) results ``fn(a, b) mod n`` straight from the registry's integer semantics."""
    return torch.tensor(
        [[BY_NAME[op].fn(int(x), int(y), n) % n for op in TABLE_OPS] for x, y in zip(a, b)]
    )


def all_pairs(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.arange(n).repeat_interleave(n), torch.arange(n).repeat(n)


def check_exact(alu, n: int, a: torch.Tensor, b: torch.Tensor, dtype, atol: float) -> None:
    """Every op on every given pair of one-hot operands gives the one-hot exact result, both per
    op and through ``forward`` with a one-hot (and a mixed) ``f``."""
    eye = torch.eye(n, dtype=dtype)
    u, v = eye[a], eye[b]
    want = exact_per_op(n, a, b)  # (P, A_t)
    got = alu.per_op(u, v)  # (P, A_t, N)
    for i, op in enumerate(TABLE_OPS):
        wrong = (got[:, i] - eye[want[:, i]]).abs().amax(-1) > atol
        assert not wrong.any(), (
            f"{alu.name} n={n} {op}: wrong for (a, b) = "
            f"{list(zip(a[wrong].tolist(), b[wrong].tolist()))[:5]}"
        )
    # forward: row p looks up op p mod A_t (one-hot f); then a soft f with mass 0.5, which must
    # give the f-mixture of the exact outputs
    P = a.numel()
    rows = torch.arange(P)
    f = torch.zeros(P, A_T, dtype=dtype)
    f[rows, rows % A_T] = 1
    torch.testing.assert_close(alu(f, u, v), eye[want[rows, rows % A_T]], atol=atol, rtol=0)
    f = torch.softmax(torch.randn(P, A_T, dtype=dtype), -1) * 0.5
    mixed = torch.einsum("pi,pil->pl", f, eye[want])
    torch.testing.assert_close(alu(f, u, v), mixed, atol=atol * 4, rtol=0)


@pytest.fixture(autouse=True)
def _one_thread():
    """Small tensors: one intra-op thread (under pytest -n 2, MKL's threads stall each other)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("name", ALUS)
def test_every_op_every_pair_n8(name):
    n = 8
    check_exact(make_alu(name, n, dtype=F64), n, *all_pairs(n), F64, 1e-12)


@pytest.mark.parametrize("name", ["dense", "sparse"])
@pytest.mark.parametrize("n", [2, 5, 12])
def test_every_op_every_pair_not_power_of_two(name, n):
    # n = 5, 12 exercise the sparse ALU's index-table path for xor/and/or
    check_exact(make_alu(name, n, dtype=F64), n, *all_pairs(n), F64, 1e-12)


@pytest.mark.parametrize("name", ALUS)
def test_sampled_pairs_n128_float32(name):
    n, gen = 128, torch.Generator().manual_seed(1)
    a = torch.cat([torch.tensor([0, 0, 127, 127, 1, 64]), torch.randint(0, n, (58,), generator=gen)])
    b = torch.cat([torch.tensor([0, 127, 0, 127, 0, 0]), torch.randint(0, n, (58,), generator=gen)])
    check_exact(make_alu(name, n), n, a, b, torch.float32, 1e-5)


def test_sparse_n1024_sampled():
    n, gen = 1024, torch.Generator().manual_seed(2)
    a, b = torch.randint(0, n, (12,), generator=gen), torch.randint(0, n, (12,), generator=gen)
    check_exact(make_alu("sparse", n), n, a, b, torch.float32, 1e-5)


@pytest.mark.parametrize("n", [5, 8, 16, 32])
@pytest.mark.parametrize("normalized", [True, False])
def test_dense_equals_sparse_on_soft_inputs(n, normalized):
    """Values and gradients w.r.t. f, u and v agree to 1e-5 (float64). Unnormalized u, v check
    that the sparse ALU is the same multilinear function as the table, not only on simplices."""
    gen = torch.Generator().manual_seed(n)
    B = 6
    f = torch.rand(B, A_T, generator=gen, dtype=F64).requires_grad_()  # mass ≠ 1 on purpose
    if normalized:
        u, v = soft(B, n, gen), soft(B, n, gen)
    else:
        u, v = torch.rand(B, n, generator=gen, dtype=F64), torch.rand(B, n, generator=gen, dtype=F64)
    u.requires_grad_()
    v.requires_grad_()
    g = torch.randn(B, n, generator=gen, dtype=F64)
    results = {}
    for name in ("dense", "sparse"):
        o = make_alu(name, n, dtype=F64)(f, u, v)
        results[name] = (o, *torch.autograd.grad((o * g).sum(), (f, u, v)))
    for what, d, s in zip(("o", "df", "du", "dv"), results["dense"], results["sparse"]):
        torch.testing.assert_close(s, d, atol=1e-5, rtol=1e-5, msg=f"n={n}: {what} differs")


@pytest.mark.parametrize("n,mkl_min,matrix_max", [
    (8, 2, 256),  # FFT add/sub, bitwise by matrices, matmul in the table backward
    (16, 2, 4),  # FFT, bitwise by butterfly rounds
    (16, 1024, 1024),  # the small-n routes: index-table add/sub, butterfly, no MKL
    (6, 2, 256),  # FFT with n not a power of two; xor/and/or by index tables
])
def test_every_sparse_route_equals_dense(monkeypatch, n, mkl_min, matrix_max):
    """Force at small n the routes the default thresholds leave to large n, and compare with
    the table in values and gradients."""
    from neuralc.machine.alu import sparse

    monkeypatch.setattr(sparse, "_MKL_MIN_N", mkl_min)
    monkeypatch.setattr(sparse, "_FFT_MIN_N", mkl_min)
    monkeypatch.setattr(sparse, "_MATRIX_MAX_N", matrix_max)
    alu = make_alu("sparse", n, dtype=F64)
    assert alu.use_fft == (n >= mkl_min)
    assert (alu.bitwise_matrix is not None) == (n & (n - 1) == 0 and mkl_min <= n <= matrix_max)
    gen = torch.Generator().manual_seed(n)
    f = torch.rand(5, A_T, generator=gen, dtype=F64).requires_grad_()
    u, v = soft(5, n, gen).requires_grad_(), soft(5, n, gen).requires_grad_()
    g = torch.randn(5, n, generator=gen, dtype=F64)
    got, want = alu(f, u, v), make_alu("dense", n, dtype=F64)(f, u, v)
    torch.testing.assert_close(got, want, atol=1e-10, rtol=0)
    for a, b in zip(torch.autograd.grad((got * g).sum(), (f, u, v)),
                    torch.autograd.grad((want * g).sum(), (f, u, v))):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


@pytest.mark.parametrize("name,n", [("sparse", 8), ("sparse", 64), ("sparse", 12),
                                    ("circuit", 16)])
def test_unused_ops_skipped_only_when_f_needs_no_gradient(name, n):
    """Rows that use only a few ops (a sharp run): skipping the other ops' work must not change
    the output, and with f requiring grad, ∂/∂f of the unused ops must still be right."""
    gen = torch.Generator().manual_seed(n)
    alu = make_alu(name, n, dtype=F64)
    u, v = soft(4, n, gen), soft(4, n, gen)
    for used in (["inc"], ["mul"], ["add", "xor", "div"], ["mod", "lt"], []):
        f = torch.zeros(4, A_T, dtype=F64)
        for op in used:
            f[:, TABLE_OPS.index(op)] = torch.rand(4, generator=gen, dtype=F64)
        full = torch.einsum("bi,bil->bl", f, alu.per_op(u, v))
        with torch.no_grad():
            torch.testing.assert_close(alu(f, u, v), full, atol=1e-12, rtol=0)
        fg = f.clone().requires_grad_()
        g = torch.randn(4, n, generator=gen, dtype=F64)
        (df,) = torch.autograd.grad((alu(fg, u, v) * g).sum(), fg)
        torch.testing.assert_close(df, torch.einsum("bl,bil->bi", g, alu.per_op(u, v)))


def test_sparse_really_skips_the_index_tables(monkeypatch):
    from neuralc.machine.alu import sparse

    alu = make_alu("sparse", 16, dtype=F64)
    gen = torch.Generator().manual_seed(0)
    u, v = soft(2, 16, gen), soft(2, 16, gen)
    f = torch.zeros(2, A_T, dtype=F64)
    f[:, TABLE_OPS.index("lt")] = 1

    def boom(*args):
        raise AssertionError("index-table ops computed although unused")

    monkeypatch.setattr(sparse._TableReduce, "apply", boom)
    with torch.no_grad():
        alu(f, u, v)


def test_sparse_float32_close_to_dense_float64():
    n, gen = 64, torch.Generator().manual_seed(3)
    f, u, v = torch.rand(4, A_T, generator=gen, dtype=F64), soft(4, n, gen), soft(4, n, gen)
    ref = make_alu("dense", n, dtype=F64)(f, u, v)
    got = make_alu("sparse", n)(f.float(), u.float(), v.float())
    assert (got >= 0).all()
    torch.testing.assert_close(got.double(), ref, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name,n", [("dense", 5), ("sparse", 5), ("sparse", 8), ("dense", 4),
                                    ("circuit", 4), ("circuit", 8)])
def test_gradcheck(name, n):
    gen = torch.Generator().manual_seed(n)
    alu = make_alu(name, n, dtype=F64)
    f = torch.rand(2, A_T, generator=gen, dtype=F64).requires_grad_()
    u = soft(2, n, gen, 1.0).requires_grad_()
    v = soft(2, n, gen, 1.0).requires_grad_()
    assert torch.autograd.gradcheck(alu, (f, u, v), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("n", [8, 64, 128])
def test_sparse_gradients_at_sharp_inputs_equal_the_tables(n):
    """At one-hot operands most outputs are exact zeros; the straight-through flush of the
    subtracting routes must not cut their gradients (a sharp program must still learn)."""
    gen = torch.Generator().manual_seed(n)
    eye = torch.eye(n, dtype=F64)
    a, b = torch.randint(0, n, (6,), generator=gen), torch.randint(0, n, (6,), generator=gen)
    f = torch.rand(6, A_T, generator=gen, dtype=F64).requires_grad_()
    u, v = eye[a].clone().requires_grad_(), eye[b].clone().requires_grad_()
    g = torch.randn(6, n, generator=gen, dtype=F64)
    grads = {}
    for name in ("dense", "sparse"):
        o = make_alu(name, n, dtype=F64)(f, u, v)
        grads[name] = (o, *torch.autograd.grad((o * g).sum(), (f, u, v)))
    for what, d, s in zip(("o", "df", "du", "dv"), grads["dense"], grads["sparse"]):
        torch.testing.assert_close(s, d, atol=1e-9, rtol=0, msg=f"n={n}: {what} differs")


@pytest.mark.parametrize("name", ALUS)
@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_no_nan_with_extreme_logits(name, dtype):
    n, gen = 16, torch.Generator().manual_seed(4)

    def sharp(*shape):
        logits = torch.randn(*shape, generator=gen, dtype=dtype).sign() * 1e4
        logits = logits + torch.randn(*shape, generator=gen, dtype=dtype) * 1e4
        return torch.softmax(logits, -1).requires_grad_()

    f, u, v = sharp(8, A_T), sharp(8, n), sharp(8, n)
    o = make_alu(name, n, dtype=dtype)(f, u, v)
    (o * torch.randn(8, n, dtype=dtype, generator=gen)).sum().backward()
    for t in (o, f.grad, u.grad, v.grad):
        assert torch.isfinite(t).all()


@pytest.mark.parametrize("name", ALUS)
def test_leading_dimensions_and_shape_errors(name):
    n, gen = 8, torch.Generator().manual_seed(5)
    alu = make_alu(name, n, dtype=F64)
    f = torch.rand(3, 2, A_T, generator=gen, dtype=F64)
    u, v = soft(6, n, gen).view(3, 2, n), soft(6, n, gen).view(3, 2, n)
    o = alu(f, u, v)
    assert o.shape == (3, 2, n)
    torch.testing.assert_close(o.view(6, n), alu(f.view(6, -1), u.view(6, n), v.view(6, n)))
    with pytest.raises(ValueError):
        alu(f[..., :-1], u, v)


def test_dense_refuses_n1024_before_allocating():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    start = time.perf_counter()
    with pytest.raises(UsageError, match=r"dense ALU at n=1024 needs .* GiB .*--alu sparse"):
        make_alu("dense", 1024)
    assert time.perf_counter() - start < 1.0
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 64


def test_dense_memory_limit_is_a_parameter():
    need = 19 * 16**3 * 4
    with pytest.raises(UsageError, match="n=16"):
        make_alu("dense", 16, memory_limit=need - 1)
    assert make_alu("dense", 16, memory_limit=need).table.shape == (A_T, 16, 16, 16)


def test_trainable_dense_table_gets_gradients_frozen_does_not():
    n, gen = 8, torch.Generator().manual_seed(6)
    f, u, v = torch.rand(4, A_T, generator=gen), soft(4, n, gen, dtype=torch.float32), soft(
        4, n, gen, dtype=torch.float32)
    trained = make_alu("dense", n, trainable=True)
    assert [name for name, _ in trained.named_parameters()] == ["table"]
    trained(f, u, v).square().sum().backward()
    assert trained.table.grad is not None and trained.table.grad.abs().sum() > 0
    frozen = make_alu("dense", n)
    assert list(frozen.parameters()) == [] and not frozen.table.requires_grad
    assert "table" in dict(frozen.named_buffers())


def test_alu_interface_and_bad_names():
    for name in ALUS:
        alu = make_alu(name, 8)
        assert isinstance(alu, torch.nn.Module)
        assert alu.name == name and alu.n == 8 and alu.ops == TABLE_OPS
    with pytest.raises(UsageError, match="unknown ALU"):
        make_alu("quantum", 8)
    with pytest.raises(UsageError):
        make_alu("sparse", 8, trainable=True)


def test_circuit_rejects_n_not_power_of_two():
    with pytest.raises(UsageError, match="power of two.*n=12"):
        make_alu("circuit", 12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("name", ALUS)
def test_cuda_matches_cpu(name):
    n, gen = 16, torch.Generator().manual_seed(7)
    f, u, v = torch.rand(5, A_T, generator=gen, dtype=F64), soft(5, n, gen), soft(5, n, gen)
    cpu = make_alu(name, n, dtype=F64)(f, u, v)
    gpu = make_alu(name, n, dtype=F64, device="cuda")(f.cuda(), u.cuda(), v.cuda())
    torch.testing.assert_close(gpu.cpu(), cpu)
