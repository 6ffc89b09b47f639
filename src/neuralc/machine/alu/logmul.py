"""``mul`` modulo N = 2^K in O(B·N log N): products of odd numbers become sums of logarithms.

Every value ``j ≠ 0`` is ``2^a·s`` with ``s`` odd (``a`` its valuation), and ``j·k = 2^(a+b)·s·t``
is 0 when ``a + b ≥ K``. The odd residues mod 2^K form the group
``G = {(−1)^σ·5^e : σ ∈ {0, 1}, e < 2^(K−2)} ≅ Z_2 × Z_(2^(K−2))`` (K ≥ 3), so the product of
two odd numbers is the *sum* of their coordinates ``(σ, e)``: a cyclic convolution on G, which
an FFT does in O(N log N). With the valuation as a third axis, ``a + b`` is a linear
convolution too, and one 3-dimensional FFT does every pair of valuations at once:

* lift: ``U[a, t] = u[2^a·(t mod 2^(K−a))]`` for ``a < K`` and every ``t ∈ G`` (so each ``u_j``
  with valuation ``a`` appears on its ``2^a`` lifts to G);
* ``W[c, w] = Σ_{a+b=c} Σ_{t·t' = w} U[a, t]·V[b, t']`` — ``irfftn(rfftn(U)·rfftn(V))`` over
  (valuation padded to 2K, σ, e);
* fold: ``o[2^c·r] = 2^(−c)·Σ_{w ≡ r (mod 2^(K−c))} W[c, w]`` for ``c < K``, ``r`` odd (the lifts
  counted ``2^a·2^b = 2^c`` times each pair);
* zero: ``o[0] = Σ_{a+b ≥ K} μ_u[a]·μ_v[b]``, ``μ[a]`` the mass of valuation ``a`` (``μ[K] = u_0``),
  a sum of non-negative terms.

Shapes: ``u``, ``v`` (B, N) → (B, N). The FFT subtracts, so callers run it in float64 and flush
its rounding noise (see :mod:`.sparse`). Autograd differentiates every step exactly (index
gathers, FFTs, products), so the gradient is the table's to float64 rounding.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.autograd.function import once_differentiable

__all__ = ["LogMul", "log_mul_supported"]


def log_mul_supported(n: int) -> bool:
    """The route needs n = 2^K with K ≥ 3 (below, G is not ±5^e)."""
    return n >= 8 and n & (n - 1) == 0


class LogMul(nn.Module):
    """``o_l = Σ_{jk: j·k ≡ l (mod n)} u_j v_k`` by the change of variables of the module docstring."""

    def __init__(self, n: int):
        super().__init__()
        if not log_mul_supported(n):
            raise ValueError(f"LogMul needs n = 2^K ≥ 8 (got {n})")
        K = n.bit_length() - 1
        L = n >> 2
        self.n, self.K, self.L = n, K, L
        five = torch.ones(L, dtype=torch.long)
        for e in range(1, L):
            five[e] = five[e - 1] * 5 % n
        t = torch.stack([five, (-five) % n])  # (2, L): t = (−1)^σ 5^e mod n, all odd residues
        assert torch.equal(t.flatten().sort().values, torch.arange(1, n, 2))
        a = torch.arange(K).view(K, 1, 1)
        lift = (t.unsqueeze(0) % (n >> a)) << a  # (K, 2, L): 2^a·(t mod 2^(K−a))
        scale = torch.pow(2.0, -a.double()).expand(K, 2, L)  # 2^(−c) for the fold
        valuation = torch.full((n,), K, dtype=torch.long)  # μ index of each j; j = 0 → K
        for c in range(K):
            valuation[(1 << c)::(2 << c)] = c
        # DFT of length 2K on the zero-padded valuation axis, and the first K rows of its inverse
        p = torch.arange(2 * K, dtype=torch.float64).view(-1, 1)
        angle = -2 * torch.pi * p * torch.arange(2 * K, dtype=torch.float64) / (2 * K)
        F2 = torch.polar(torch.ones_like(angle), angle)  # (2K, 2K)
        self.register_buffer("dft", F2[:, :K].contiguous(), persistent=False)
        self.register_buffer("idft", (F2.conj()[:K] / (2 * K)).contiguous(), persistent=False)
        # the fold of W[c, t] goes to 2^c·(t mod 2^(K−c)): the lift's index with a = c
        for name, x in (("lift", lift.reshape(-1)), ("scale", scale.reshape(-1)),
                        ("valuation", valuation)):
            self.register_buffer(name, x, persistent=False)

    def forward(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        B, K, L = u.shape[0], self.K, self.L
        uv = torch.stack([u, v])  # (2, B, N)
        lifted = uv.view(2 * B, -1).index_select(1, self.lift).view(2, B, K, 2, L)
        W = _GroupConvolve.apply(lifted, self.dft, self.idft)  # (B, K, 2, L)
        o = torch.zeros_like(u).index_add(1, self.lift, W.reshape(B, -1) * self.scale.to(u.dtype))
        # zero: valuations adding up to K or more (μ[K] = the mass at 0)
        mass = uv.new_zeros(2, B, K + 1).index_add(2, self.valuation, uv)
        tail_v = mass[1].flip(-1).cumsum(-1)  # tail_v[i] = Σ_{b ≥ K−i} μ_v[b]
        zero = (mass[0] * tail_v).sum(-1, keepdim=True)
        return o + torch.cat([zero, torch.zeros_like(u[:, 1:])], -1)


def _spectrum(x: torch.Tensor, dft: torch.Tensor) -> torch.Tensor:
    """(…, K, 2, L) real → (…, 2K, 2, L/2 + 1) complex: the characters of Z_2 (a sum and a
    difference over σ), a real FFT over e, and a DFT of length 2K over the zero-padded
    valuation axis, as one small matrix (K ≤ 20)."""
    x0, x1 = x.unbind(-2)
    spec = torch.fft.rfft(torch.stack([x0 + x1, x0 - x1], -2), dim=-1)
    return torch.einsum("pa,...asf->...psf", dft.to(spec.dtype), spec)


def _inverse(spec: torch.Tensor, idft: torch.Tensor, L: int) -> torch.Tensor:
    """The inverse of :func:`_spectrum`, keeping the first K valuations: (…, K, 2, L) real."""
    w0, w1 = torch.fft.irfft(torch.einsum("cp,...psf->...csf", idft.to(spec.dtype), spec),
                             n=L, dim=-1).unbind(-2)
    return torch.stack([w0 + w1, w0 - w1], -2) / 2


class _GroupConvolve(torch.autograd.Function):
    """``W[c, w] = Σ_{a+b=c} Σ_{t·t'=w} U[a, t]·V[b, t']`` for ``x = (U, V)`` (2, B, K, 2, L).

    Backward from the forward's spectra: ``∂U = Σ g[a+b, t·t']·V[b, t']``, a correlation, is
    ``inverse(conj(ŝ_V)·ŝ_g)`` (the valuation axis is padded to 2K, so nothing wraps), and
    likewise ``∂V``: one transform of g and two inverses, where autograd would differentiate
    every FFT and matrix of the forward.
    """

    @staticmethod
    def forward(ctx, x, dft, idft):
        spec = _spectrum(x, dft)  # (2, B, 2K, 2, F)
        ctx.save_for_backward(spec, dft, idft)
        ctx.L = x.shape[-1]
        return _inverse(spec[0] * spec[1], idft, ctx.L)

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        spec, dft, idft = ctx.saved_tensors
        sg = _spectrum(g, dft)  # (B, 2K, 2, F)
        swapped = torch.stack([spec[1], spec[0]]).conj_physical()  # ∂U reads V, ∂V reads U
        return _inverse(swapped * sg, idft, ctx.L), None, None
