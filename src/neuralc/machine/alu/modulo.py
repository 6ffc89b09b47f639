"""``mod`` by the (divisor, quotient) structure: cumulative sums, FFT correlations, few pairs.

``o_l = Σ_{jk: k ≥ 1, j mod k = l} u_j v_k + [l = 0]·v_0·Σu`` (``j mod 0 = 0``). Write
``j = q·k + l`` with ``0 ≤ l < k`` and split the pairs (j, k):

* ``q = 0`` (``j < k``): ``o_l += u_l·Σ_{k > l} v_k`` — a cumulative sum, O(N);
* small divisors ``k ≤ k_s`` (``q ≥ 1``): ``R_k[l] = Σ_{q≥1} u[q·k + l]`` for every
  ``l < k ≤ k_s`` by one sparse product with a constant 0/1 matrix (k_s²/2, N) in CSR, then
  ``v_k·R_k[l]``;
* large divisors, in blocks ``β = [a_β, b_β)`` of k: for ``l < a_β`` the condition ``l < k``
  holds for every k of the block, so the block adds the *correlation*
  ``Σ_d H_β[d]·u[d + l]`` with ``H_β[d] = Σ_{k ∈ β, q ≥ 1, q·k = d} v_k`` (the block's divisors
  at their multiples) — an FFT. Output ``l`` takes the blocks with ``a_β > l``: the suffix
  sum of ``H`` over blocks, one correlation per block boundary, all in one batched FFT;
* the rest, ``a_β ≤ l < k`` inside a block (a triangle per block and quotient), pair by pair.

Blocks ``(n/(m+1), n/m]`` (quotients up to m) make the triangles small: ~n²/30 pairs in
all, against n² for the index table; with ``k_s = n/M`` and M ≈ √n/5 blocks, the FFTs cost
O(M·n log n) = O(n^1.5 log n). Two parts stay quadratic: the fold matrix, whose ~k_s·n
non-zeros (n²·5/√n) the sparse product touches once each (as a dense matmul it did
n·k_s²/2 multiply-adds and, at √n/2 blocks, cost 5 ms at n = 1024), and the triangles,
~n²/30 pairs. Fewer blocks (√n/5 rather than √n/2) trade FFT rows for fold non-zeros:
n = 1024 went from 42 to 18 ms forward + backward. Shapes: ``u``, ``v`` (B, N) → (B, N).
The FFT subtracts, so it runs in float64, and callers flush its rounding noise (see
:mod:`.sparse`); every step is differentiated exactly (autograd, and the correlation's own
backward).
"""

from __future__ import annotations

import math
from itertools import pairwise

import torch
from torch import nn
from torch.autograd.function import once_differentiable

__all__ = ["BlockMod"]


def _blocks(n: int, m_max: int) -> tuple[int, list[tuple[int, int]]]:
    """``k_s`` and the blocks ``[a, b)`` of large divisors, ``(n/(m+1), n/m]`` for m < m_max."""
    edges = sorted({n // m + 1 for m in range(2, m_max + 1)} | {n})
    return edges[0] - 1, [(a, b) for a, b in pairwise(edges) if a < b]


class _Correlate(torch.autograd.Function):
    """``C[b, p, l] = Σ_d H[b, p, d]·u[b, d + l]`` (u = 0 beyond N), l < N, by FFTs of length 2N.

    Backward with the forward's spectra: ``∂H[d] = Σ_l g[l]·u[d + l]`` (the same correlation
    of g with u) and ``∂u[m] = Σ_p Σ_{d+l=m} H[p, d]·g[p, l]`` (a convolution, summed over
    p in the frequency domain): four FFTs of P rows in all, where autograd's own backward of
    ``rfft``/``irfft`` takes complex FFTs of the padded length.
    """

    @staticmethod
    def forward(ctx, H, u):
        N = u.shape[-1]
        fh = torch.fft.rfft(H, n=2 * N)  # (B, P, N + 1)
        fu = torch.fft.rfft(u, n=2 * N).unsqueeze(1)  # (B, 1, N + 1)
        ctx.save_for_backward(fh, fu)
        return torch.fft.irfft(fh.conj() * fu, n=2 * N)[..., :N]

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        fh, fu = ctx.saved_tensors
        N = g.shape[-1]
        fg = torch.fft.rfft(g, n=2 * N)
        gH = torch.fft.irfft(fg.conj() * fu, n=2 * N)[..., :N] if ctx.needs_input_grad[0] else None
        gu = (torch.fft.irfft((fh * fg).sum(1), n=2 * N)[..., :N]
              if ctx.needs_input_grad[1] else None)
        return gH, gu


class _SparseFold(torch.autograd.Function):
    """``y = F x`` for the constant 0/1 fold matrix F (S, N) of the small divisors, ``x``
    (N, B): F in CSR (~k_s·N non-zeros of its S·N entries, ~1/30 at n = 1024), backward
    ``∂x = Fᵀ g`` with Fᵀ in CSR too. ``fold``: (F, Fᵀ)."""

    @staticmethod
    def forward(ctx, x, fold):
        ctx.fold_t = fold[1]
        return fold[0] @ x

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        return ctx.fold_t @ g.contiguous(), None


class BlockMod(nn.Module):
    """``o_l = Σ_{jk: j mod k = l} u_j v_k`` (``j mod 0 = 0``) as in the module docstring.

    ``dtype``: the machine's dtype, for the constant matrix of the small divisors. The parts
    that only add (quotient 0, small divisors, triangles) run in the inputs' dtype; the FFT in
    float64. The result is float64.
    """

    def __init__(self, n: int, blocks: int | None = None, dtype=torch.float32):
        super().__init__()
        self.n = n
        # M ≈ √n/5 blocks: with the fold matrix sparse, more small divisors and fewer FFT rows
        # measured fastest (n = 1024: 7 blocks 18 ms, 16 blocks 42 ms, forward + backward)
        m_max = blocks or max(2, math.ceil(math.sqrt(n) / 5))
        small, spans = _blocks(n, m_max)
        self.blocks = len(spans)
        # small divisors: R[(k, l)] = Σ_{q ≥ 1} u[q·k + l] for l < k ≤ k_s, one matrix (S, N)
        k_of = torch.cat([torch.full((k,), k) for k in range(1, small + 1)] + [torch.zeros(0)])
        l_of = torch.cat([torch.arange(k) for k in range(1, small + 1)] + [torch.zeros(0)])
        k_of, l_of = k_of.long(), l_of.long()
        j = torch.arange(n)
        fold = (j >= k_of.view(-1, 1)) & (j % k_of.clamp(min=1).view(-1, 1) == l_of.view(-1, 1))
        rows, cols = fold.nonzero().t()  # the fold matrix's ones, ~k_s·N of its S·N entries
        self.register_buffer("fold_rows", rows, persistent=False)
        self.register_buffer("fold_cols", cols, persistent=False)
        self.fold_shape = tuple(fold.shape)
        self._fold: dict = {}  # (dtype, device) → (F, Fᵀ) in CSR
        self.register_buffer("small_k", k_of, persistent=False)
        self.register_buffer("small_l", l_of, persistent=False)
        # H rows: (block, d = q·k) ← v_k; and the triangles a ≤ l < k with q·k + l < n
        empty = torch.zeros(0, dtype=torch.long)
        J, Kd, hb, hd, hk = [empty], [empty], [empty], [empty], [empty]
        for beta, (a, b) in enumerate(spans):
            for k in range(a, b):
                q = torch.arange(1, (n - 1) // k + 1)
                hb.append(torch.full_like(q, beta))
                hd.append(q * k)
                hk.append(torch.full_like(q, k))
                j = (q.view(-1, 1) * k + torch.arange(a, k)).reshape(-1)
                j = j[j < n]
                J.append(j)
                Kd.append(torch.full_like(j, k))
        J, Kd = torch.cat(J), torch.cat(Kd)
        self.pairs = J.numel()
        self.register_buffer("pair_j", J, persistent=False)
        self.register_buffer("pair_k", Kd, persistent=False)
        self.register_buffer("pair_l", J % Kd.clamp(min=1), persistent=False)
        self.register_buffer("h_index", torch.cat(hb) * n + torch.cat(hd), persistent=False)
        self.register_buffer("h_k", torch.cat(hk), persistent=False)
        # output l reads the suffix sum of blocks with a > l: row β(l) (l < last a), else none
        starts = torch.tensor([a for a, _ in spans], dtype=torch.long)
        l = torch.arange(n)
        row = torch.searchsorted(starts, l, right=True)  # first block with a > l
        reach = row < len(spans)
        self.register_buffer("out_l", l[reach], persistent=False)
        self.register_buffer("out_index", row[reach] * n + l[reach], persistent=False)

    def forward(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        # values first, batch last: every gather and index_add moves rows of B numbers
        ut, vt = u.t().contiguous(), v.t().contiguous()  # (N, B)
        N, P = self.n, self.blocks
        # q = 0: u_l·Σ_{k>l} v_k; divisor 0 gives 0
        above = vt.flip(0).cumsum(0).flip(0)  # Σ_{k ≥ l} v_k
        o = ut * torch.cat([above[1:], torch.zeros_like(vt[:1])])
        o = torch.cat([o[:1] + vt[:1] * ut.sum(0, keepdim=True), o[1:]])
        # small divisors: one matmul with the fold matrix; triangles: pair by pair
        key = (ut.dtype, ut.device)
        if key not in self._fold:
            from .sparse import sparse_ones  # (sparse imports this module)

            rows, cols = self.fold_rows.cpu(), self.fold_cols.cpu()
            self._fold[key] = (sparse_ones(rows, cols, self.fold_shape, ut.dtype, ut.device),
                               sparse_ones(cols, rows, self.fold_shape[::-1], ut.dtype,
                                           ut.device))
        folded = _SparseFold.apply(ut, self._fold[key])  # (S, B)
        o = o.index_add(0, self.small_l, folded * vt.index_select(0, self.small_k))
        o = o.index_add(0, self.pair_l,
                        ut.index_select(0, self.pair_j) * vt.index_select(0, self.pair_k))
        o = o.t().to(torch.float64)
        if P:
            # blocks: H (P, N, B) suffix-summed over blocks, correlated with u by one FFT
            H = vt.new_zeros(P * N, vt.shape[1]).index_add(0, self.h_index,
                                                           vt.index_select(0, self.h_k))
            H = H.view(P, N, -1).flip(0).cumsum(0).flip(0).permute(2, 0, 1)  # (B, P, N)
            corr = _Correlate.apply(H.to(torch.float64), u.to(torch.float64))  # (B, P, N)
            picked = corr.reshape(-1, P * N).index_select(1, self.out_index)  # (B, ·)
            o = o.index_add(1, self.out_l, picked)
        return o
