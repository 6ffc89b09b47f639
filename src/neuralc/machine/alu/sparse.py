"""The sparse ALU (the default): the dense lookup's result without its N³ tensor.

It computes exactly the multilinear function of the dense ALU, ``o_i = Σ_jk u_j v_k
onehot(fn_i(j, k))`` for each op ``i`` (unary ops: times ``Σ_k v_k``), so values and gradients
agree with it for any non-negative inputs, not only distributions. Each op takes the cheapest
exact route it has:

=================  ====================================================================  ===========
op                 how                                                                   cost
=================  ====================================================================  ===========
inc, dec, not      ``o = index_add(zeros, L_i, u) · Σv`` (index table of length N)       B·N
eq ne lt le gt ge  cumulative sums: ``P(a < b) = Σ_j u_j Σ_{k>j} v_k``, every one a sum  B·N
                   of non-negative terms (never ``1 −`` another: no cancellation)
min, max           ``P(min = x) = u_x S_v(x) + v_x S_u(x+1)``, ``S(x) = Σ_{k≥x}``;        B·N
                   max likewise with ``C(x) = Σ_{k≤x}``; these eleven ops are one
                   autograd node with a hand-written backward (:class:`_Cheap`)
add, sub           n ≥ 256 or n < 64: cyclic convolution / correlation by FFT (n ≥ 64    B·N log N
                   only), ``irfft(rfft u · rfft v)``, ``irfft(rfft u · conj rfft v)``
xor, and, or       n = 2^K outside [64, 256): Hadamard / superset-sum / subset-sum        B·N log N
                   transform ``ζ`` (the Kronecker power of a 2×2 matrix),
                   ``o = ζ⁻¹(ζ(u)·ζ(v))``; n ≥ 256: two matmuls with ~√N factors of
                   ζ; n < 64: K butterfly rounds
div                n ≥ 256 or n < 64: ``Σ_k v_k (C_u(lk + k − 1) − C_u(lk − 1))``: the    B·N log N
                   ~N ln N pairs (k, l) with lk < n, cumulative sums of u
mul                n = 2^K ≥ 256: valuations add, odd parts multiply as sums of discrete  B·N log²N
                   logarithms (base 5, sign −1): one FFT over (valuation, sign, log),
                   :mod:`.logmul`
mod                n ≥ 256: cumulative sums (quotient 0), FFT correlations over blocks   B·N^1.5 log N
                   of large divisors, small divisors by a sparse 0/1 matrix, the          + B·N²/30
                   ~N²/30 remaining pairs one by one: :mod:`.modulo`
the table ops      64 ≤ n < 256: add, sub, mul, div, mod, xor, and, or; n < 64: add,      B·N² per op
                   sub, mul, mod; at every n: xor, and, or for n not a power of two,
                   mul for n not a power of two ≥ 8: one sparse 0/1 matrix
                   ``S`` (R·N, N²) times the outer product ``u⊗v`` laid out (N², B),
                   backward a gather-sum of the gradient's rows (:class:`_TableReduce`)
=================  ====================================================================  ===========

Why the table for eight ops at 64 ≤ n < 256: there their routes are many small kernels (FFT,
transform matrices, pair gathers, each with autograd nodes), while one sparse product with the
batch innermost moves B contiguous numbers per non-zero; measured in docs/BENCH.md.

The transforms (FFT, Hadamard, Möbius) and the differences of cumulative sums subtract, so an
exact 0 may come out slightly negative or positive. These routes run in float64 (``_WIDE``)
and their rounding noise is flushed to 0 by a *straight-through* flush (``_clean``; backward
identity): outputs stay non-negative, one-hot inputs give one-hot outputs, and the gradient of
the values that are currently 0 is not cut. Below n = 64 no route calls MKL (``_MKL_MIN_N``).
When ``f`` needs no gradient, routes whose ops have zero weight in every row are skipped.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from neuralc.isa.registry import TABLE_OPS
from neuralc.lang.errors import UsageError

from .base import ALU
from .logmul import LogMul, log_mul_supported
from .modulo import BlockMod
from .tables import UNARY, op_table

__all__ = ["SparseALU"]

_COMPARE = ("eq", "ne", "lt", "le", "gt", "ge")
_BITWISE = ("xor", "and", "or")
#: elements of one chunk of the outer product u⊗v in the index-table path
_CHUNK_ELEMENTS = 1 << 23
#: scratch buffers up to this many elements are kept between calls (see _Tables)
_WORKSPACE_ELEMENTS = 1 << 22
#: below this n the sparse ALU makes no MKL call (matmul, FFT): there the work is tiny and MKL's
#: thread synchronization dominates, and stalls for milliseconds when the machine's cores are
#: oversubscribed (several test workers, each with several threads)
_MKL_MIN_N = 64
#: from this n on, add and sub go by FFT (below, by index tables)
_FFT_MIN_N = _MKL_MIN_N
#: from this n on, mul and mod go by their FFT routes (:mod:`.logmul`, :mod:`.modulo`); below,
#: the index table of the two is cheaper (fewer, larger kernels; measured in docs/BENCH.md)
_MULMOD_MIN_N = 256
#: for _TABLE_MIN_N ≤ n < _MULMOD_MIN_N these ops go by the index table too (measured in
#: docs/BENCH.md)
_TABLE_MIN_N = 64
_TABLE_MID = ("add", "sub", "div", "xor", "and", "or")
#: bitwise transforms as one matmul with their (3, N, N) matrices for n in
#: [_MKL_MIN_N, _MATRIX_MAX_N]; butterfly rounds outside
_MATRIX_MAX_N = 256


#: Routes that subtract (the FFT, the inverse bitwise transforms, differences of cumulative
#: sums) run in float64 whatever the machine's dtype. In float32 each leaves ~1e-7 of rounding
#: noise on every one of the N outputs; clamping it to non-negative values keeps the positive half,
#: so every step *adds* ~1e-5 of probability mass, and a sharp float32 run of a few hundred steps
#: diverged to NaN (tests/machine/test_long_runs.py). In float64 the noise is ~1e-16 and rounds
#: away on the cast back.
_WIDE = torch.float64


#: relative noise floor of the float64 routes that subtract (see _WIDE and _clean)
_FLOOR = 1e-12


def _clean(x: torch.Tensor) -> torch.Tensor:
    """Straight-through flush of a subtracting route's rounding noise: forward, every value
    below ``_FLOOR`` times its row's total becomes 0 (negative ones included); backward identity.

    Needed for exact sharp runs, not only for tidiness: a one-hot input must give a one-hot
    output. Noise of 1e-17 survives the cast to float32 (float32 holds tiny numbers fine), and a
    loop that feeds results back (``b ← a + b``) adds the off-peak mass of both operands every
    iteration, so it grows like Fibonacci numbers: after ~100 iterations a float32 run had lost
    its one-hot registers. Values that small are below what these routes can resolve anyway.
    """
    floor = _FLOOR * x.sum(-1, keepdim=True).abs()
    return x + (torch.where(x > floor, x, torch.zeros_like(x)) - x).detach()


def _shift_in(x: torch.Tensor, left: bool) -> torch.Tensor:
    """``y_j = x_{j+1}`` (left, 0 at the end) or ``y_j = x_{j−1}`` (right, 0 at the start)."""
    zero = torch.zeros_like(x[..., :1])
    return torch.cat([x[..., 1:], zero], -1) if left else torch.cat([zero, x[..., :-1]], -1)


def _suffix(x: torch.Tensor) -> torch.Tensor:
    """``S(x)_i = Σ_{k ≥ i} x_k`` along the last axis."""
    return x.flip(-1).cumsum(-1).flip(-1)


class _Cheap(torch.autograd.Function):
    """The B·N ops in one node: unary ops, comparisons, min and max, ``(B, 11, N)`` in the
    order ``UNARY + _COMPARE + (min, max)``, with ``C``/``S`` prefix/suffix sums:

    * unary: ``o_i = Σv · Σ_j u_j e_{L_i(j)}`` (``L_flat``: ``L_i(j) + i·N``, (3N,));
    * comparisons, from five sums of non-negative terms (never ``1 − p``):
      ``lt = Σ u·S_>(v)``, ``le = Σ u·S(v)``, ``gt = Σ u·C_<(v)``, ``ge = Σ u·C(v)``,
      ``eq = Σ u·v``, ``ne = lt + gt``; each op puts (no, yes) at values (0, 1);
    * ``min = u·S(v) + v·S_>(u)``, ``max = u·C(v) + v·C_<(u)``.

    Backward by hand (autograd would record ~60 small nodes): with ``G`` the output's
    gradient, the unary part is a gather of G at ``L_i(j)``; every comparison is linear in
    the five sums, so ``∂u = Σ_m c_m·(S_>(v), S(v), C_<(v), C(v), v)_m`` and ``∂v`` the same
    with the roles of the operands swapped (``C_<(u), C(u), S_>(u), S(u), u``), ``c`` (B, 5)
    the sums' coefficients; min and max give ``∂u = h·S(v) + C_<(h·v) + k·C(v) + S_>(k·v)``,
    ``∂v = C(h·u) + h·S_>(u) + S(k·u) + k·C_<(u)`` (h, k: G of min, max).
    """

    @staticmethod
    def forward(ctx, u, v, L_flat):
        B, N = u.shape
        U = L_flat.numel() // N
        sv = v.sum(-1, keepdim=True)
        raw = u.new_zeros(B, U * N).index_add_(1, L_flat, u.repeat(1, U)).view(B, U, N)
        uv = torch.stack([u, v])  # (2, B, N)
        (cu, cv), (su, sv_) = uv.cumsum(-1), _suffix(uv)
        su_gt, sv_gt = _shift_in(su, left=True), _shift_in(sv_, left=True)  # Σ_{k>x}
        cu_lt, cv_lt = _shift_in(cu, left=False), _shift_in(cv, left=False)  # Σ_{k<x}
        lt, le, gt, ge, eq = (u.unsqueeze(1) * torch.stack([sv_gt, sv_, cv_lt, cv, v], 1)
                              ).sum(-1).unbind(1)
        ne = lt + gt
        out = u.new_zeros(B, U + len(_COMPARE) + 2, N)
        out[:, :U] = raw * sv.unsqueeze(-1)
        out[:, U : U + 6, 0] = torch.stack([ne, eq, ge, gt, le, lt], 1)  # no
        out[:, U : U + 6, 1] = torch.stack([eq, ne, lt, le, gt, ge], 1)  # yes (_COMPARE order)
        out[:, -2] = u * sv_ + v * su_gt  # min
        out[:, -1] = u * cv + v * cu_lt  # max
        ctx.save_for_backward(u, v, L_flat, raw, sv, cu, cv, su, sv_)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, G):
        u, v, L_flat, raw, sv, cu, cv, su, sv_ = ctx.saved_tensors
        B, U, N = raw.shape
        Gu, Gc, h, k = G[:, :U], G[:, U : U + 6], G[:, -2], G[:, -1]
        # unary: ∂u_j = Σv·Σ_i G[i, L_i(j)],  ∂v_k = Σ_il G[i, l]·raw[i, l]
        du = sv * Gu.reshape(B, -1).index_select(1, L_flat).view(B, U, N).sum(1)
        dv = (Gu * raw).sum((1, 2)).unsqueeze(-1).expand(B, N)
        # comparisons: coefficients of (lt, le, gt, ge, eq); ne = lt + gt
        no, yes = Gc[..., 0], Gc[..., 1]  # (B, 6), _COMPARE order eq ne lt le gt ge
        c_ne = yes[:, 1] + no[:, 0]
        c = torch.stack([yes[:, 2] + no[:, 5] + c_ne, yes[:, 3] + no[:, 4],
                         yes[:, 4] + no[:, 3] + c_ne, yes[:, 5] + no[:, 2],
                         yes[:, 0] + no[:, 1]], 1).unsqueeze(-1)  # (B, 5, 1)
        su_gt, sv_gt = _shift_in(su, left=True), _shift_in(sv_, left=True)
        cu_lt, cv_lt = _shift_in(cu, left=False), _shift_in(cv, left=False)
        du = du + (c * torch.stack([sv_gt, sv_, cv_lt, cv, v], 1)).sum(1)
        dv = dv + (c * torch.stack([cu_lt, cu, su_gt, su, u], 1)).sum(1)
        # min, max
        hv, hu, kv, ku = h * v, h * u, k * v, k * u
        pre = torch.stack([hv, hu]).cumsum(-1)  # C(h·v), C(h·u)
        suf = _suffix(torch.stack([kv, ku]))  # S(k·v), S(k·u)
        du = du + h * sv_ + _shift_in(pre[0], left=False) + k * cv + _shift_in(suf[0], left=True)
        dv = dv + pre[1] + h * su_gt + suf[1] + k * cu_lt
        return du, dv, None


# Each bitwise op becomes a pointwise product after a transform that acts on every bit of the
# index with the same 2×2 matrix (a Kronecker power): Hadamard for xor, superset sums for and,
# subset sums for or; then the inverse transform (Möbius). Rows: (lo, hi) ← M (lo, hi).
_BITWISE_MATRICES = (
    ((1.0, 1.0), (1.0, -1.0)),  # xor: Hadamard
    ((1.0, 1.0), (0.0, 1.0)),  # and: ζ(x)_S = Σ_{T ⊇ S} x_T
    ((1.0, 0.0), (1.0, 1.0)),  # or:  ζ(x)_S = Σ_{T ⊆ S} x_T
)
_BITWISE_INVERSES = (
    ((0.5, 0.5), (0.5, -0.5)),
    ((1.0, -1.0), (0.0, 1.0)),
    ((1.0, 0.0), (-1.0, 1.0)),
)


def _kron_transform(x: torch.Tensor, M: torch.Tensor) -> torch.Tensor:
    """Apply ``M[o]^{⊗K}`` to the last axis of ``x[o]`` (x: (O, S, N), M: (O, 2, 2), N = 2^K),
    one bit per round, ``(lo, hi)[p] ← Σ_q M[p, q] (lo, hi)[q]``: O(S·N log N)."""
    O, S, N = x.shape
    m = [[M[:, p, q].view(O, 1, 1) for q in range(2)] for p in range(2)]
    h = 1
    while h < N:
        y = x.reshape(O, S * N // (2 * h), 2, h)
        lo, hi = y[:, :, 0], y[:, :, 1]
        x = torch.stack([m[0][0] * lo + m[0][1] * hi, m[1][0] * lo + m[1][1] * hi], 2)
        x = x.reshape(O, S, N)
        h *= 2
    return x


def _kron_factored(x: torch.Tensor, T1: torch.Tensor, T2: torch.Tensor) -> torch.Tensor:
    """``M[o]^{⊗K}`` applied to the last axis of ``x[o]`` (O, S, N) as two small matmuls:
    with ``N = N1·N2`` and the index ``j = j1·N2 + j2``, ``M^{⊗K} = M^{⊗K1} ⊗ M^{⊗K2}`` acts
    as ``A X Bᵀ`` on ``X[j1, j2]``. ``T1`` (O, N1, N1), ``T2`` (O, N2, N2): the factors as
    :func:`_kron_matrix` gives them (transposed). O(S·N·(N1 + N2)) multiply-adds in a few large
    kernels, against K rounds of small ones for the butterflies."""
    O, S, N = x.shape
    N1, N2 = T1.shape[-1], T2.shape[-1]
    y = torch.matmul(x.reshape(O, S * N1, N2), T2)  # B on j2
    y = y.view(O, S, N1, N2).transpose(2, 3).reshape(O, S * N2, N1)
    y = torch.matmul(y, T1)  # A on j1
    return y.view(O, S, N2, N1).transpose(2, 3).reshape(O, S, N)


def _kron_matrix(M: torch.Tensor, n: int) -> torch.Tensor:
    """``M[o]^{⊗K}`` as (O, N, N) matrices, transposed for ``x @ H`` (entries 0, ±1, ±1/N)."""
    H = torch.ones(M.shape[0], 1, 1, dtype=M.dtype)
    while H.shape[-1] < n:
        H = torch.einsum("oij,okl->oikjl", M, H).reshape(M.shape[0], 2 * H.shape[1], -1)
    return H.transpose(1, 2).contiguous()


def sparse_ones(rows: torch.Tensor, cols: torch.Tensor, shape: tuple[int, int], dtype,
         device) -> torch.Tensor:
    """The 0/1 matrix with ones at (rows[i], cols[i]) (distinct pairs) in CSR form, with
    int32 indices (the sparse product ran 2.5× faster with them than with int64)."""
    order = torch.argsort(rows * shape[1] + cols)
    crow = torch.zeros(shape[0] + 1, dtype=torch.long)
    crow[1:] = torch.bincount(rows, minlength=shape[0]).cumsum(0)
    return csr_matrix(crow, cols[order], torch.ones(rows.numel(), dtype=dtype), shape, device)


def csr_matrix(crow: torch.Tensor, col: torch.Tensor, values: torch.Tensor,
               shape: tuple[int, int], device) -> torch.Tensor:
    """A CSR tensor with int32 indices when they fit (else int64) on ``device``."""
    index = torch.int32 if max(col.numel(), *shape) < 2**31 else torch.long
    with warnings.catch_warnings():  # "sparse CSR support is in beta": the kernels we use are not
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(crow.to(index), col.to(index), values,
                                       shape).to(device)


class _Tables:
    """What :class:`_TableReduce` keeps between calls (one store per ALU): its sparse
    matrices, built once per (ops, dtype, device), and scratch buffers.

    ``handle(key)`` gives the object passed to ``apply``: ``key`` names the rows of the index
    table it is called with (the ops), which identify the matrices. Fresh multi-megabyte
    tensors cost page faults on every call (glibc hands big blocks back to the OS when freed);
    in a VM that made the backward 10× slower than its arithmetic. So buffers up to
    ``_WORKSPACE_ELEMENTS`` are kept and reused (larger ones are allocated per call); their
    contents never outlive one forward or backward call, so reuse is safe as long as one ALU
    is not run by two threads at once.
    """

    def __init__(self):
        self.store: dict = {}
        self.buffers: dict = {}

    def handle(self, key) -> _TableHandle:
        return _TableHandle(self, key)

    def nbytes(self) -> int:
        kept = [t for S, index in self.store.values() for t in (S.values(), S.col_indices(),
                                                                  S.crow_indices(), index)]
        kept += self.buffers.values()
        return sum(t.numel() * t.element_size() for t in kept)


class _TableHandle:
    def __init__(self, tables: _Tables, key):
        self.tables, self.key = tables, key

    def matrices(self, L: torch.Tensor, dtype, device) -> tuple[torch.Tensor, torch.Tensor]:
        """``S`` (R·N, N²), CSR, with ``S[r·N + l, j·N + k] = [L_r[j, k] = l]``, and the
        column numbers of ``Sᵀ``'s non-zeros, ``index[j·N + k, r] = r·N + L_r[j, k]`` (N², R)."""
        key = (self.key, dtype, device)
        store = self.tables.store
        if key not in store:
            R, NN = L.shape
            N = math.isqrt(NN)
            index = L.cpu() + torch.arange(R).view(R, 1) * N
            S = sparse_ones(index.reshape(-1), torch.arange(NN).repeat(R), (R * N, NN), dtype,
                     device)
            store[key] = (S, index.t().contiguous().to(device, torch.int32))
        return store[key]

    def get(self, name: str, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """A scratch tensor of ``shape`` (kept if small enough; contents undefined)."""
        size = math.prod(shape)
        if size > _WORKSPACE_ELEMENTS:
            return like.new_empty(shape)
        # a buffer made under inference mode cannot be written outside it: one set per mode
        key = (name, like.dtype, like.device, torch.is_inference_mode_enabled())
        buf = self.tables.buffers.get(key)
        if buf is None or buf.numel() < size:
            buf = self.tables.buffers[key] = like.new_empty(size)
        return buf[:size].view(shape)


class _TableReduce(torch.autograd.Function):
    """``o[b, r, l] = Σ_{jk: L_r[j,k] = l} u[b,j] v[b,k]`` for R index tables ``L`` (R, N·N).

    One sparse 0/1 matrix ``S`` (R·N, N²), ``S[r·N + l, j·N + k] = [L_r[j, k] = l]``, does all R
    ops at once: ``oᵀ = S W`` with ``W[j·N + k, b] = u[b,j] v[b,k]`` — the outer product with
    the batch innermost, so that every non-zero of S moves B contiguous numbers (a scatter-add
    over (B, N²) moves one; 10× slower at N = 128). Backward: ``G = Sᵀ gᵀ`` (N², B), i.e.
    ``G[jk] = Σ_r g[r, L_r[j,k]]``, as a gather of rows of ``gᵀ`` (Sᵀ in CSR, with N² rows of R
    non-zeros each, multiplied 10× slower), then ``∂u_j = Σ_k G[jk] v_k`` and
    ``∂v_k = Σ_j G[jk] u_j``. Both directions only add non-negative terms to non-negative terms
    (forward): no cancellation, one-hot inputs give one-hot outputs. Batch chunks bound the
    (N², chunk) temporaries, which are kept buffers; W is never kept for backward.
    ``tables``: a :class:`_TableHandle` (the matrices of L, cached, and the buffers).
    """

    @staticmethod
    def forward(ctx, u, v, L, tables):
        B, N = u.shape
        R = L.shape[0]
        S, index = tables.matrices(L, u.dtype, u.device)
        uT, vT = u.t().contiguous(), v.t().contiguous()  # (N, B)
        out = u.new_empty(R * N, B)
        step = max(1, _CHUNK_ELEMENTS // (N * N))
        for s in range(0, B, step):
            uc, vc = uT[:, s : s + step], vT[:, s : s + step]
            W = tables.get("W", (N, N, uc.shape[1]), u)
            torch.mul(uc[:, None], vc[None], out=W)
            out[:, s : s + step] = S @ W.view(N * N, -1)
        ctx.save_for_backward(uT, vT)
        ctx.index, ctx.tables = index, tables
        return out.view(R, N, B).permute(2, 0, 1)

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        uT, vT = ctx.saved_tensors
        N, B = uT.shape
        need_u, need_v = ctx.needs_input_grad[:2]
        gT = g.permute(1, 2, 0).contiguous().view(-1, B)  # (R·N, B), batch innermost
        gu = torch.empty_like(uT) if need_u else None
        gv = torch.empty_like(vT) if need_v else None
        step = max(1, _CHUNK_ELEMENTS // (N * N))
        get = ctx.tables.get
        for s in range(0, B, step):
            gc = gT[:, s : s + step]
            b = gc.shape[1]
            # G = Sᵀ gᵀ: per pair, the sum of R gathered rows (one fused gather-sum)
            G = F.embedding_bag(ctx.index, gc, mode="sum")
            G, tmp = G.view(N, N, b), get("G", (N, N, b), g)
            if need_u:
                gu[:, s : s + step] = torch.mul(G, vT[None, :, s : s + step], out=tmp).sum(1)
            if need_v:
                gv[:, s : s + step] = torch.mul(G, uT[:, None, s : s + step], out=tmp).sum(0)
        return (None if gu is None else gu.t(), None if gv is None else gv.t(), None, None)


def _division_pairs(n: int) -> tuple[torch.Tensor, ...]:
    """For ``a // k = l`` (k ≥ 1): every pair (k, l) with l·k < n and the slice of ``a`` that
    maps there, ``lo = l·k ≤ a < hi = min(l·k + k, n)``. About n·ln n pairs."""
    k = torch.arange(1, n)
    count = (n - 1) // k + 1  # l = 0 .. (n-1)//k
    pk = k.repeat_interleave(count)
    start = torch.cumsum(count, 0) - count
    pl = torch.arange(pk.numel()) - start.repeat_interleave(count)
    lo = pl * pk
    return pk, pl, lo, torch.clamp(lo + pk, max=n)


class SparseALU(ALU):
    """Same result as :class:`~.dense.DenseALU` without its table; see the module docstring."""

    name = "sparse"

    def __init__(self, n: int, *, trainable: bool = False, dtype=torch.float32, device=None,
                 ops=None):
        super().__init__(n, ops)
        if trainable:
            raise UsageError("the sparse ALU has fixed tables; use --alu dense for a trainable table")
        pow2 = n & (n - 1) == 0
        # for _TABLE_MIN_N ≤ n < _MULMOD_MIN_N the ops of _TABLE_MID join mul and mod in the
        # index table: one sparse product for them all beats their routes' many small kernels
        mid = set(_TABLE_MID) if _TABLE_MIN_N <= n < _MULMOD_MIN_N else set()
        self.use_fft = n >= _FFT_MIN_N and "add" not in mid
        self.bitwise_by_transform = pow2 and "xor" not in mid
        self.div_by_pairs = "div" not in mid
        # with the FFT: mul by logarithms of odd numbers (n = 2^K ≥ 8), mod by blocks of
        # divisors; else index tables
        by_fft = self.use_fft and n >= _MULMOD_MIN_N
        self.log_mul = LogMul(n) if by_fft and log_mul_supported(n) else None
        self.block_mod = BlockMod(n, dtype=dtype) if by_fft else None
        direct = {"mul"} if self.log_mul is None else set()
        if self.block_mod is None:
            direct |= {"mod"}
        if not self.use_fft:
            direct |= {"add", "sub"}
        if not self.bitwise_by_transform:
            direct |= set(_BITWISE)
        if not self.div_by_pairs:
            direct |= {"div"}
        self.table_ops = tuple(op for op in TABLE_OPS if op in direct)
        unary = torch.stack([op_table(op, n)[:, 0] for op in UNARY])  # (U, N): fn(j)
        offsets = torch.arange(len(UNARY)).view(-1, 1) * n
        self.register_buffer("unary_flat", (unary + offsets).reshape(-1), persistent=False)
        block_ops = (
            UNARY
            + _COMPARE
            + ("min", "max")
            + (("add", "sub") if self.use_fft else ())  # the routes that run in _WIDE ...
            + (_BITWISE if self.bitwise_by_transform else ())
            + (("div",) if self.div_by_pairs else ())
            + (("mul",) if self.log_mul is not None else ())
            + (("mod",) if self.block_mod is not None else ())  # ... up to here
            + self.table_ops
        )
        order = torch.tensor([block_ops.index(op) for op in TABLE_OPS])
        self.register_buffer("block_order", order, persistent=False)  # blocks → TABLE_OPS
        perm = torch.tensor([TABLE_OPS.index(op) for op in block_ops])
        self.register_buffer("block_ops_index", perm, persistent=False)  # TABLE_OPS → blocks
        self.register_buffer(
            "table_index",
            torch.stack([op_table(op, n).reshape(-1) for op in self.table_ops])
            if self.table_ops else None,
            persistent=False,
        )  # (R, N²): column j·N + k holds fn(j, k)
        for name, t in zip(("div_k", "div_l", "div_lo", "div_hi"), _division_pairs(n)):
            self.register_buffer(name, t, persistent=False)
        matrices = self.bitwise_by_transform and _MKL_MIN_N <= n <= _MATRIX_MAX_N
        M, Minv = torch.tensor(_BITWISE_MATRICES), torch.tensor(_BITWISE_INVERSES)
        # kept in _WIDE (used in _WIDE): entries 0, ±1, ±1/N
        H = _kron_matrix(M, n).permute(1, 0, 2).reshape(n, 3 * n) if matrices else None
        self.register_buffer("bitwise_matrix", None if H is None else H.to(_WIDE),
                             persistent=False)  # (N, 3N): [H_xor | H_and | H_or]
        # above _MATRIX_MAX_N: the transforms as two factors of about √N (_kron_factored)
        factored = self.bitwise_by_transform and not matrices and n >= max(_MKL_MIN_N, 4)
        n1 = 1 << (n.bit_length() - 1) // 2  # N = n1·n2, n1 ≤ n2
        for name, mat in (("bitwise_factors", M), ("bitwise_inverse_factors", Minv)):
            self.register_buffer(f"{name}1", _kron_matrix(mat, n1).to(_WIDE) if factored else None,
                                 persistent=False)
            self.register_buffer(f"{name}2",
                                 _kron_matrix(mat, n // n1).to(_WIDE) if factored else None,
                                 persistent=False)
        self.register_buffer("bitwise_inverse",
                             _kron_matrix(Minv, n).to(_WIDE) if matrices else None,
                             persistent=False)  # (3, N, N)
        self._tables = _Tables()
        if device is not None:
            self.to(device)

    def _bitwise(self, x: torch.Tensor) -> torch.Tensor:
        """xor, and, or of ``u`` and ``v`` by their transforms, ``x = cat([u, v])`` (2B, N) in
        _WIDE: (B, 3, N). For 64 ≤ n ≤ 256 the transforms are matmuls with their (N, N)
        matrices (fewest kernel calls); above, two matmuls with factors of ~√N; below 64
        (no MKL calls), K butterfly rounds."""
        B, N = x.shape[0] // 2, x.shape[1]
        if self.bitwise_matrix is not None:
            # forward transforms of u and v for all three ops: one (2B, N) × (N, 3N) matmul
            z = (x @ self.bitwise_matrix.to(x.dtype)).view(2 * B, 3, N).transpose(0, 1)
            o = torch.bmm(z[:, :B] * z[:, B:], self.bitwise_inverse.to(x.dtype))
        elif self.bitwise_factors1 is not None:
            z = _kron_factored(x.expand(3, 2 * B, N), self.bitwise_factors1,
                               self.bitwise_factors2)
            o = _kron_factored(z[:, :B] * z[:, B:], self.bitwise_inverse_factors1,
                               self.bitwise_inverse_factors2)
        else:
            M = torch.tensor(_BITWISE_MATRICES, dtype=x.dtype, device=x.device)
            Minv = torch.tensor(_BITWISE_INVERSES, dtype=x.dtype, device=x.device)
            z = _kron_transform(x.expand(3, 2 * B, N), M)
            o = _kron_transform(z[:, :B] * z[:, B:], Minv)
        return o.transpose(0, 1)

    def _divide(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """``P(a // b = l) = Σ_k v_k P(l·k ≤ a < l·k + k)`` from the cumulative sums of u
        (b = 0 gives 0): O(B·N log N) instead of the O(B·N²) table. (B, 1, N), in u's dtype
        (_WIDE: the differences of cumulative sums subtract)."""
        # values first, batch last: every gather and index_add moves rows of B numbers
        ut, vt = u.t().contiguous(), v.t().contiguous()  # (N, B)
        cu = torch.cat([torch.zeros_like(ut[:1]), ut.cumsum(0)])  # (N+1, B)
        slice_mass = cu.index_select(0, self.div_hi) - cu.index_select(0, self.div_lo)
        terms = vt.index_select(0, self.div_k) * slice_mass  # (P, B)
        o = torch.zeros_like(ut).index_add(0, self.div_l, terms)
        o = torch.cat([o[:1] + vt[:1] * cu[-1:], o[1:]])  # b = 0 → 0
        return o.t().unsqueeze(1)

    def scratch_bytes(self) -> int:
        return self._tables.nbytes()

    def _mix(self, f: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        # as ALU._mix, but f is put in the blocks' op order instead of reordering the outputs
        blocks = self._blocks(u, v, self._needed(f))
        return (f.index_select(1, self.block_ops_index).unsqueeze(-1) * blocks).sum(1)

    def per_op(self, u: torch.Tensor, v: torch.Tensor,
               needed: frozenset[str] | None = None) -> torch.Tensor:
        return self._blocks(u, v, needed).index_select(1, self.block_order)

    def _blocks(self, u: torch.Tensor, v: torch.Tensor,
                needed: frozenset[str] | None) -> torch.Tensor:
        """Every op's output (B, A_t, N), ops in block order (``block_order`` maps them back)."""
        N = self.n
        needed = self.computed if needed is None else needed
        blocks: list[torch.Tensor] = []  # (B, G, N) each, ops in the order of block_order

        def skip(*ops: str) -> bool:  # the costly routes are skipped when not needed
            return needed is not None and not needed.intersection(ops)

        def zeros(count: int) -> torch.Tensor:
            return torch.zeros_like(u).unsqueeze(1).expand(-1, count, -1)

        # unary ops, comparisons, min and max: one Function, its backward by hand
        blocks.append(_Cheap.apply(u, v, self.unary_flat))

        # the routes that subtract, in _WIDE, flushed and cast back together
        wide: list[torch.Tensor] = []
        wide_routes = (self.use_fft or self.bitwise_by_transform or self.div_by_pairs
                       or self.log_mul is not None)
        uvw = torch.stack([u, v]).to(_WIDE) if wide_routes else None
        if self.use_fft:
            if skip("add", "sub"):
                wide.append(zeros(2).to(_WIDE))
            else:
                spec = torch.fft.rfft(uvw)
                fu, fv = spec[0], spec[1]
                # add: Σ_j u_j v_{l−j};  sub: Σ_k u_{l+k} v_k
                wide.append(torch.fft.irfft(torch.stack([fu * fv, fu * fv.conj()], 1), n=N))
        if self.bitwise_by_transform:
            wide.append(zeros(3).to(_WIDE) if skip(*_BITWISE)
                        else self._bitwise(uvw.view(-1, N)))
        if self.div_by_pairs:
            wide.append(zeros(1).to(_WIDE) if skip("div") else self._divide(uvw[0], uvw[1]))
        if self.log_mul is not None:
            wide.append(zeros(1).to(_WIDE) if skip("mul")
                        else self.log_mul(uvw[0], uvw[1]).unsqueeze(1))
        if self.block_mod is not None:
            wide.append(zeros(1).to(_WIDE) if skip("mod")
                        else self.block_mod(u, v).unsqueeze(1))
        if wide:
            blocks.append(_clean(torch.cat(wide, 1)).to(u.dtype))

        if self.table_ops:
            rows = [r for r, op in enumerate(self.table_ops) if not skip(op)]
            if len(rows) == len(self.table_ops):
                blocks.append(_TableReduce.apply(u, v, self.table_index, self._tables.handle(None)))
            else:
                part = (_TableReduce.apply(u, v, self.table_index[rows],
                                            self._tables.handle(tuple(rows)))
                        if rows else None)
                some = iter(part.unbind(1) if rows else ())
                blocks.append(torch.stack([next(some) if r in rows else zeros(1)[:, 0]
                                           for r in range(len(self.table_ops))], 1))
        return torch.cat(blocks, 1)
