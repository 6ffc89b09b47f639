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
#: from this n on, add and sub go by FFT (below it the index tables are as fast, and need no
#: MKL call, whose threads stall when the machine is oversubscribed)
_FFT_MIN_N = 64


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
    """``o[b, r, l] = Σ_{jk: L_r[j,k] = l} u[b,j] v[b,k]`` for R index tables ``L`` (R, N·N).

    Forward: the outer product ``w = u⊗v`` (B, N²), scatter-added into each op's N values;
    backward: ``G[j, k] = Σ_r g[r, L_r[j, k]]`` (a gather), then ``∂u = G v``, ``∂v = Gᵀ u``.
    Batch chunks bound the (chunk, N²) temporaries, and the outer product is never kept for
    backward. Only native torch ops (no MKL sparse, whose threads stall on a busy machine).
    """

    @staticmethod
    def forward(ctx, u, v, L):
        B, N = u.shape
        R = L.shape[0]
        out = u.new_zeros(B, R, N)
        step = max(1, _CHUNK_ELEMENTS // (N * N))
        for s in range(0, B, step):
            w = (u[s : s + step, :, None] * v[s : s + step, None, :]).reshape(-1, N * N)
            for r in range(R):
                out[s : s + step, r].scatter_add_(1, L[r].expand_as(w), w)
        ctx.save_for_backward(u, v, L)
        return out

    @staticmethod
    def backward(ctx, g):
        u, v, L = ctx.saved_tensors
        B, N = u.shape
        need_u, need_v = ctx.needs_input_grad[:2]
        gu = torch.empty_like(u) if need_u else None
        gv = torch.empty_like(v) if need_v else None
        step = max(1, _CHUNK_ELEMENTS // (N * N))
        for s in range(0, B, step):
            gs = g[s : s + step]
            G = sum(gs[:, r].index_select(1, L[r]) for r in range(L.shape[0]))
            G = G.view(-1, N, N)
            if need_u:
                gu[s : s + step] = torch.bmm(G, v[s : s + step, :, None]).squeeze(-1)
            if need_v:
                gv[s : s + step] = torch.bmm(u[s : s + step, None, :], G).squeeze(1)
        return gu, gv, None


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

    def __init__(self, n: int, *, trainable: bool = False, dtype=torch.float32, device=None):
        super().__init__(n)
        if trainable:
            raise UsageError("the sparse ALU has fixed tables; use --alu dense for a trainable table")
        pow2 = n & (n - 1) == 0
        self.use_fft = n >= _FFT_MIN_N
        self.bitwise_by_transform = pow2
        direct = {"mul", "mod"}  # no sub-quadratic exact route: index tables
        if not self.use_fft:
            direct |= {"add", "sub"}
        if not pow2:
            direct |= set(_BITWISE)
        self.table_ops = tuple(op for op in TABLE_OPS if op in direct)
        self.register_buffer(
            "unary_index", torch.stack([op_table(op, n)[:, 0] for op in UNARY]), persistent=False
        )
        self.register_buffer(
            "table_index",
            torch.stack([op_table(op, n).reshape(-1) for op in self.table_ops]),
            persistent=False,
        )  # (R, N²): column j·N + k holds fn(j, k)
        for name, t in zip(("div_k", "div_l", "div_lo", "div_hi"), _division_pairs(n)):
            self.register_buffer(name, t, persistent=False)
        if device is not None:
            self.to(device)

    def _divide(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """``P(a // b = l) = Σ_k v_k P(l·k ≤ a < l·k + k)`` from the cumulative sums of u
        (b = 0 gives 0): O(B·N log N) instead of the O(B·N²) table."""
        cu = torch.cat([torch.zeros_like(u[:, :1]), u.cumsum(-1)], -1)  # (B, N+1)
        slice_mass = cu.index_select(1, self.div_hi) - cu.index_select(1, self.div_lo)
        terms = v.index_select(1, self.div_k) * slice_mass
        o = torch.zeros_like(u).index_add(1, self.div_l, terms)
        at_zero = torch.zeros_like(u)
        at_zero[:, 0] = 1
        return _nonneg(o + at_zero * (v[:, :1] * cu[:, -1:]))  # b = 0 → 0

    def per_op(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        N = self.n
        out: dict[str, torch.Tensor] = {}

        sv = v.sum(-1, keepdim=True)
        for op, ix in zip(UNARY, self.unary_index):
            out[op] = torch.zeros_like(u).index_add(-1, ix, u) * sv

        if self.use_fft:
            spec = torch.fft.rfft(torch.stack([u, v]))
            fu, fv = spec[0], spec[1]
            both = torch.fft.irfft(torch.stack([fu * fv, fu * fv.conj()]), n=N)
            out["add"] = _nonneg(both[0])  # Σ_j u_j v_{l−j}
            out["sub"] = _nonneg(both[1])  # Σ_k u_{l+k} v_k

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

        if self.bitwise_by_transform:
            for op in _BITWISE:
                out[op] = _bitwise(op, u, v)

        out["div"] = self._divide(u, v)

        if self.table_ops:
            red = _TableReduce.apply(u, v, self.table_index)
            for r, op in enumerate(self.table_ops):
                out[op] = red[:, r]
        return torch.stack([out[op] for op in self.ops], 1)
