"""The sparse ALU (the default): the dense lookup's result without its N³ tensor.

It computes exactly the multilinear function of the dense ALU, ``o_i = Σ_jk u_j v_k
onehot(fn_i(j, k))`` for each op ``i`` (so values and gradients agree with it for any inputs, not
only distributions), each op by the cheapest exact route it has:

=================  =======================================================================  ==========
op                 how                                                                      cost
=================  =======================================================================  ==========
unary              ``o = index_add(zeros, L_i, u) · Σv`` (the index table of length N)       B·N
add, sub           cyclic convolution / correlation by FFT: ``o = irfft(rfft u · rfft v)``  B·N log N
eq ne lt le gt ge  cumulative sums: ``P(a < b) = Σ_j u_j Σ_{k>j} v_k`` (each from sums of    B·N
                   non-negative terms, never as ``1 −`` another)
min, max           ``P(min = x) = u_x S_v(x) + v_x S_u(x+1)`` with survival ``S(x)=Σ_{k≥x}``  B·N
xor, and, or       (N a power of two) Walsh–Hadamard / superset-sum / subset-sum transforms:  B·N log N
                   ``ζ(o) = ζ(u)·ζ(v)``, then the inverse transform
mul, div, mod      index table ``L_i`` (and xor/and/or when N is not a power of two): the     B·N²
                   outer product ``u⊗v`` reduced by a sparse 0/1 matrix (CSR matmul), in
                   batch chunks so N = 1024 fits; backward by the transposed matrix
=================  =======================================================================  ==========

The transforms (FFT, Hadamard, Möbius) subtract, so exact zeros may come out as −1e-8: those are
clamped to 0 by a *straight-through* clamp (forward ``max(o, 0)``, backward identity), which
keeps outputs non-negative without cutting the gradient of the values that are currently 0.
"""

from __future__ import annotations

import warnings

import torch

from neuralc.isa.registry import TABLE_OPS
from neuralc.lang.errors import UsageError

from .base import ALU
from .tables import UNARY, op_table

__all__ = ["SparseALU"]

_COMPARE = ("eq", "ne", "lt", "le", "gt", "ge")
_BITWISE = ("xor", "and", "or")
#: elements of one chunk of the outer product u⊗v in the index-table path
_CHUNK_ELEMENTS = 1 << 23


def _nonneg(x: torch.Tensor) -> torch.Tensor:
    """Straight-through clamp: forward ``max(x, 0)``, backward identity."""
    return x + (x.clamp_min(0) - x).detach()


def _shift_in(x: torch.Tensor, left: bool) -> torch.Tensor:
    """``y_j = x_{j+1}`` (left, 0 at the end) or ``y_j = x_{j−1}`` (right, 0 at the start)."""
    zero = torch.zeros_like(x[..., :1])
    return torch.cat([x[..., 1:], zero], -1) if left else torch.cat([zero, x[..., :-1]], -1)


def _butterfly(x: torch.Tensor, combine) -> torch.Tensor:
    """Apply ``(lo, hi) → combine(lo, hi)`` along every bit of the last axis (N = 2^K)."""
    B, N = x.shape
    h = 1
    while h < N:
        y = x.reshape(B, N // (2 * h), 2, h)
        lo, hi = combine(y[:, :, 0], y[:, :, 1])
        x = torch.stack([lo, hi], 2).reshape(B, N)
        h *= 2
    return x


# forward / inverse transforms that turn a bitwise op into a pointwise product
_TRANSFORMS = {
    "xor": (lambda a, b: (a + b, a - b), lambda a, b: (a + b, a - b)),  # Hadamard (inverse /N)
    "and": (lambda a, b: (a + b, b), lambda a, b: (a - b, b)),  # superset sums, Möbius
    "or": (lambda a, b: (a, a + b), lambda a, b: (a, b - a)),  # subset sums, Möbius
}


def _bitwise(op: str, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    fwd, inv = _TRANSFORMS[op]
    o = _butterfly(_butterfly(u, fwd) * _butterfly(v, fwd), inv)
    if op == "xor":
        o = o / u.shape[-1]
    return _nonneg(o)


class _TableReduce(torch.autograd.Function):
    """``o[b, r, l] = Σ_{jk: L_r[j,k] = l} u[b,j] v[b,k]`` for R index tables at once.

    ``fwd`` is the CSR matrix (R·N, N²) with a 1 at (r·N + L_r[j,k], j·N + k); ``bwd`` its
    transpose. Forward: ``o = fwd @ (u⊗v)``; backward: ``G = bwd @ g`` (B, N, N), then
    ``∂u = G v`` and ``∂v = Gᵀ u``. The outer product is never kept for backward.
    """

    @staticmethod
    def forward(ctx, u, v, fwd, bwd):
        B, N = u.shape
        out = u.new_empty(B, fwd.shape[0])
        step = max(1, _CHUNK_ELEMENTS // (N * N))
        for s in range(0, B, step):
            w = (u[s : s + step, :, None] * v[s : s + step, None, :]).reshape(-1, N * N)
            out[s : s + step] = (fwd @ w.T).T
        ctx.save_for_backward(u, v)
        ctx.bwd = bwd
        return out

    @staticmethod
    def backward(ctx, g):
        u, v = ctx.saved_tensors
        B, N = u.shape
        need_u, need_v = ctx.needs_input_grad[:2]
        gu = torch.empty_like(u) if need_u else None
        gv = torch.empty_like(v) if need_v else None
        step = max(1, _CHUNK_ELEMENTS // (N * N))
        for s in range(0, B, step):
            G = (ctx.bwd @ g[s : s + step].T.contiguous()).T.reshape(-1, N, N)
            if need_u:
                gu[s : s + step] = torch.bmm(G, v[s : s + step, :, None]).squeeze(-1)
            if need_v:
                gv[s : s + step] = torch.bmm(u[s : s + step, None, :], G).squeeze(1)
        return gu, gv, None, None


class SparseALU(ALU):
    """Same result as :class:`~.dense.DenseALU`, in O(B·N log N) for most ops and O(B·N²) for
    the index-table ops (mul, div, mod). See the module docstring."""

    name = "sparse"

    def __init__(self, n: int, *, trainable: bool = False, dtype=torch.float32, device=None):
        super().__init__(n)
        if trainable:
            raise UsageError("the sparse ALU has fixed tables; use --alu dense for a trainable table")
        pow2 = n & (n - 1) == 0
        self.table_ops = tuple(
            op
            for op in TABLE_OPS
            if op not in UNARY
            and op not in ("add", "sub", "min", "max", *_COMPARE)
            and not (pow2 and op in _BITWISE)
        )
        self.register_buffer("unary_index", torch.stack([op_table(op, n)[:, 0] for op in UNARY]),
                             persistent=False)
        tables = torch.stack([op_table(op, n) for op in self.table_ops])  # (R, N, N)
        self.register_buffer("table_index", tables, persistent=False)
        self._csr: dict = {}
        if device is not None:
            self.to(device)

    def _matrices(self, dtype: torch.dtype, device: torch.device):
        """The CSR pair of :class:`_TableReduce` for this dtype and device (built once)."""
        key = (dtype, device)
        if key not in self._csr:
            R, N = len(self.table_ops), self.n
            L = self.table_index.to(device)
            rows = (torch.arange(R, device=device).view(R, 1, 1) * N + L).reshape(-1)
            order = torch.argsort(rows, stable=True)
            fwd_cols = torch.arange(N * N, device=device).repeat(R)[order]
            fwd_crow = torch.zeros(R * N + 1, dtype=torch.long, device=device)
            fwd_crow[1:] = torch.bincount(rows, minlength=R * N).cumsum(0)
            # row j·N+k of the transpose holds r·N + L_r[j, k] for r = 0..R-1 (already sorted)
            bwd_cols = rows.view(R, N * N).T.reshape(-1)
            bwd_crow = torch.arange(N * N + 1, device=device) * R
            ones = torch.ones(rows.numel(), dtype=dtype, device=device)
            with warnings.catch_warnings():  # "sparse CSR support is in beta"
                warnings.simplefilter("ignore")
                fwd = torch.sparse_csr_tensor(fwd_crow, fwd_cols, ones, (R * N, N * N),
                                              check_invariants=False)
                bwd = torch.sparse_csr_tensor(bwd_crow, bwd_cols, ones, (N * N, R * N),
                                              check_invariants=False)
            self._csr[key] = (fwd, bwd)
        return self._csr[key]

    def per_op(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        N = self.n
        sv = v.sum(-1, keepdim=True)
        out: dict[str, torch.Tensor] = {}

        idx = self.unary_index.to(u.device)
        for op, ix in zip(UNARY, idx):
            out[op] = torch.zeros_like(u).index_add(-1, ix, u) * sv

        fu, fv = torch.fft.rfft(u), torch.fft.rfft(v)
        out["add"] = _nonneg(torch.fft.irfft(fu * fv, n=N))  # Σ_j u_j v_{l−j}
        out["sub"] = _nonneg(torch.fft.irfft(fu * fv.conj(), n=N))  # Σ_k u_{l+k} v_k

        # cumulative sums of non-negative terms only (no "1 − p": no cancellation)
        cu, cv = u.cumsum(-1), v.cumsum(-1)  # C(x) = Σ_{k≤x}
        ru, rv = u.flip(-1).cumsum(-1).flip(-1), v.flip(-1).cumsum(-1).flip(-1)  # S(x) = Σ_{k≥x}
        lt = (u * _shift_in(rv, left=True)).sum(-1, keepdim=True)  # Σ_j u_j Σ_{k>j} v_k
        le = (u * rv).sum(-1, keepdim=True)
        gt = (u * _shift_in(cv, left=False)).sum(-1, keepdim=True)  # Σ_j u_j Σ_{k<j} v_k
        ge = (u * cv).sum(-1, keepdim=True)
        eq = (u * v).sum(-1, keepdim=True)
        ne = lt + gt
        rest = torch.zeros_like(u[:, 2:])
        for op, yes, no in (("eq", eq, ne), ("ne", ne, eq), ("lt", lt, ge), ("le", le, gt),
                            ("gt", gt, le), ("ge", ge, lt)):
            out[op] = torch.cat([no, yes, rest], -1)  # n ≥ 2: values 0 and 1 exist

        # P(min = x) = P(a = x, b ≥ x) + P(b = x, a > x);  P(max = x) likewise with C
        out["min"] = u * rv + v * _shift_in(ru, left=True)
        out["max"] = u * cv + v * _shift_in(cu, left=False)

        for op in _BITWISE:
            if op not in self.table_ops:
                out[op] = _bitwise(op, u, v)

        if self.table_ops:
            fwd, bwd = self._matrices(u.dtype, u.device)
            red = _TableReduce.apply(u, v, fwd, bwd).reshape(-1, len(self.table_ops), N)
            for r, op in enumerate(self.table_ops):
                out[op] = red[:, r]
        return torch.stack([out[op] for op in self.ops], 1)
