"""The sparse ALU's index-table product (one CSR matrix for several ops, batch innermost) and the
routes that changed shape with it: values and gradients equal the index table / the dense ALU,
in float64 and float32, chunked or not, with kept buffers reused across batch sizes; which ops
go by the table at each n; the ``ops=`` ALU at n = 128 runs only the table rows of its ops."""

from __future__ import annotations

import pytest
import torch

from neuralc.isa.registry import TABLE_OPS
from neuralc.machine.alu import make_alu, sparse
from neuralc.machine.alu.modulo import BlockMod
from neuralc.machine.alu.tables import op_table

A_T = len(TABLE_OPS)
F64 = torch.float64
MID = {"add", "sub", "mul", "div", "mod", "xor", "and", "or"}


def table(op: str, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The dense lookup of one op, ``einsum('bj,bk,jkl->bl', u, v, T)`` with T one-hot."""
    n = u.shape[-1]
    T = torch.nn.functional.one_hot(op_table(op, n), n).to(u.dtype)
    return torch.einsum("bj,bk,jkl->bl", u, v, T)


def reduce(ops, u, v):
    L = torch.stack([op_table(op, u.shape[-1]).reshape(-1) for op in ops])
    return sparse._TableReduce.apply(u, v, L, sparse._Tables().handle(tuple(ops)))


@pytest.mark.parametrize("dtype,tol", [(F64, 1e-12), (torch.float32, 1e-6)])
@pytest.mark.parametrize("n,ops", [(5, ("mul",)), (8, ("add", "mod", "xor")),
                                   (12, ("div", "mul", "or", "sub")), (16, tuple(MID))])
def test_table_product_equals_the_index_tables(n, ops, dtype, tol):
    """Soft, unnormalized inputs (the same multilinear function, not only on simplices)."""
    gen = torch.Generator().manual_seed(n)
    u = torch.rand(7, n, generator=gen, dtype=dtype).requires_grad_()
    v = torch.rand(7, n, generator=gen, dtype=dtype).requires_grad_()
    g = torch.randn(7, len(ops), n, generator=gen, dtype=dtype)
    got = reduce(ops, u, v)
    want = torch.stack([table(op, u, v) for op in ops], 1)
    torch.testing.assert_close(got, want, atol=tol, rtol=tol)
    for a, b in zip(torch.autograd.grad((got * g).sum(), (u, v)),
                    torch.autograd.grad((want * g).sum(), (u, v))):
        torch.testing.assert_close(a, b, atol=tol * 10, rtol=tol)


def test_table_product_gradcheck():
    gen = torch.Generator().manual_seed(0)
    u = torch.rand(3, 6, generator=gen, dtype=F64).requires_grad_()
    v = torch.rand(3, 6, generator=gen, dtype=F64).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: reduce(("mul", "mod", "xor"), a, b), (u, v))


def test_chunks_and_kept_buffers(monkeypatch):
    """Batch chunks (the chunk smaller than the batch) and buffers reused by later calls of
    another batch size give the same values and gradients."""
    n, ops = 16, ("mul", "div", "and")
    L = torch.stack([op_table(op, n).reshape(-1) for op in ops])
    tables = sparse._Tables()
    gen = torch.Generator().manual_seed(1)
    for B in (9, 2, 9):
        u = torch.rand(B, n, generator=gen, dtype=F64).requires_grad_()
        v = torch.rand(B, n, generator=gen, dtype=F64).requires_grad_()
        g = torch.randn(B, len(ops), n, generator=gen, dtype=F64)
        results = []
        for chunk in (1 << 23, 3 * n * n):  # one chunk; chunks of 3 rows
            monkeypatch.setattr(sparse, "_CHUNK_ELEMENTS", chunk)
            o = sparse._TableReduce.apply(u, v, L, tables.handle("t"))
            results.append((o, *torch.autograd.grad((o * g).sum(), (u, v))))
        want = torch.stack([table(op, u, v) for op in ops], 1)
        for got in results:
            torch.testing.assert_close(got[0], want, atol=1e-12, rtol=0)
        for a, b in zip(results[0], results[1]):
            torch.testing.assert_close(a, b, atol=1e-12, rtol=0)
    assert tables.nbytes() > 0


def test_one_hot_inputs_give_one_hot_outputs_float32():
    """The product only adds non-negative terms: sharp pairs give exact one-hot results."""
    n = 128
    a, b = torch.arange(n).repeat_interleave(n), torch.arange(n).repeat(n)
    eye = torch.eye(n)
    ops = tuple(sorted(MID))
    got = reduce(ops, eye[a], eye[b])
    for r, op in enumerate(ops):
        assert torch.equal(got[:, r], eye[op_table(op, n)[a, b]]), op


@pytest.mark.parametrize("n", [16, 64, 128, 256])
def test_which_ops_go_by_the_table(n):
    alu = make_alu("sparse", n)
    want = {16: {"add", "sub", "mul", "mod"}, 64: MID, 128: MID, 256: set()}[n]
    assert set(alu.table_ops) == want
    assert alu.div_by_pairs == ("div" not in want)
    assert alu.bitwise_by_transform == ("xor" not in want)


@pytest.mark.parametrize("n", [64, 128])
@pytest.mark.parametrize("dtype,tol", [(F64, 1e-10), (torch.float32, 1e-5)])
def test_mid_sizes_equal_dense_values_and_gradients(n, dtype, tol):
    gen = torch.Generator().manual_seed(n)
    f = torch.rand(4, A_T, generator=gen, dtype=dtype).requires_grad_()
    u, v = (torch.softmax(2 * torch.randn(4, n, generator=gen, dtype=dtype), -1).requires_grad_()
            for _ in "uv")
    g = torch.randn(4, n, generator=gen, dtype=dtype)
    results = []
    for name in ("dense", "sparse"):
        o = make_alu(name, n, dtype=dtype)(f, u, v)
        results.append((o, *torch.autograd.grad((o * g).sum(), (f, u, v))))
    for what, s, d in zip(("o", "df", "du", "dv"), results[1], results[0]):
        torch.testing.assert_close(s, d, atol=tol, rtol=tol, msg=f"n={n}: {what}")


@pytest.mark.parametrize("ops", [{"add", "lt"}, {"mul"}, {"xor", "div"}, {"mod", "inc"},
                                 {"inc", "min"}], ids=lambda s: "+".join(sorted(s)))
def test_ops_alu_at_n128_runs_only_its_table_rows(monkeypatch, ops):
    seen = []
    apply = sparse._TableReduce.apply

    def spy(u, v, L, tables):
        seen.append(L.shape[0])
        return apply(u, v, L, tables)

    monkeypatch.setattr(sparse._TableReduce, "apply", spy)
    n, gen = 128, torch.Generator().manual_seed(2)
    alu, full = make_alu("sparse", n, dtype=F64, ops=ops), make_alu("sparse", n, dtype=F64)
    mask = torch.tensor([float(op in ops) for op in TABLE_OPS], dtype=F64)
    f = (torch.rand(3, A_T, generator=gen, dtype=F64) * mask).requires_grad_()
    u, v = (torch.softmax(torch.randn(3, n, generator=gen, dtype=F64), -1) for _ in "uv")
    got = alu(f, u, v)
    rows = len(ops & MID)
    assert seen == ([rows] if rows else [])  # one product, with the rows of its ops only
    torch.testing.assert_close(got, full(f, u, v), atol=1e-12, rtol=0)


@pytest.mark.parametrize("n", [32, 64])
def test_bitwise_by_two_factors_equals_dense(monkeypatch, n):
    """The factored transforms (the default above n = 256), forced at small n."""
    monkeypatch.setattr(sparse, "_MATRIX_MAX_N", 8)
    monkeypatch.setattr(sparse, "_MKL_MIN_N", 8)
    monkeypatch.setattr(sparse, "_TABLE_MIN_N", 1 << 20)
    alu = make_alu("sparse", n, dtype=F64)
    assert alu.bitwise_factors1 is not None and alu.bitwise_matrix is None
    gen = torch.Generator().manual_seed(n)
    f = torch.rand(3, A_T, generator=gen, dtype=F64).requires_grad_()
    u, v = (torch.softmax(torch.randn(3, n, generator=gen, dtype=F64), -1).requires_grad_()
            for _ in "uv")
    g = torch.randn(3, n, generator=gen, dtype=F64)
    got, want = alu(f, u, v), make_alu("dense", n, dtype=F64)(f, u, v)
    torch.testing.assert_close(got, want, atol=1e-10, rtol=0)
    for a, b in zip(torch.autograd.grad((got * g).sum(), (f, u, v)),
                    torch.autograd.grad((want * g).sum(), (f, u, v))):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


def test_block_mod_fold_is_kept_sparse():
    """The fold matrix is kept as its non-zeros, a fraction of its S·N entries (its values and
    gradients at the default block count: test_alu_routes.py, n = 256 and 1024)."""
    for n in (256, 1024):
        mod = BlockMod(n)
        rows, cols = mod.fold_shape
        assert 0 < mod.fold_rows.numel() < rows * cols / 4


@pytest.mark.parametrize("n", [16, 128])
def test_inference_mode_then_training_reuses_no_inference_buffer(n):
    """Kept buffers made under ``torch.inference_mode`` (a sharp run) must not be written by a
    later call with gradients (in-place updates of inference tensors are refused)."""
    alu = make_alu("sparse", n)
    gen = torch.Generator().manual_seed(n)
    f = torch.rand(3, A_T, generator=gen)
    u, v = (torch.softmax(torch.randn(3, n, generator=gen), -1) for _ in "uv")
    with torch.inference_mode():
        sharp = alu(f, u, v)
    ur = u.clone().requires_grad_()
    o = alu(f, ur, v)
    (du,) = torch.autograd.grad(o.square().sum(), ur)
    assert torch.isfinite(du).all()
    torch.testing.assert_close(o.detach(), sharp.clone(), atol=0, rtol=0)
    with torch.inference_mode():
        torch.testing.assert_close(alu(f, u, v), sharp, atol=0, rtol=0)
