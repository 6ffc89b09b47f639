"""Exact one-hot ⇄ binary conversions (docs/DESIGN.md §6.5).

With ``bit_k(i) = (i >> k) & 1`` (bit 0 is the least significant) and ``N = 2^K``:

* unit → binary: ``b_k = Σ_i u_i bit_k(i)``, shape (..., N) → (..., K). Linear: the exact
  expectation of every bit, i.e. the bit marginals of the distribution ``u``.
* binary → unit: ``u_i = Π_k (b_k if bit_k(i) else 1 − b_k)``, shape (..., K) → (..., N): the
  distribution in which the bits are independent with marginals ``b``. It sums to 1 for any
  ``b`` (the product of K factors ``(1 − b_k) + b_k``), is exact for crisp bits, and
  ``unit_to_binary(binary_to_unit(b)) == b`` for every ``b``.

Both are differentiable polynomials: no division, no log, so no NaN at 0 or 1.
"""

from __future__ import annotations

import torch

from neuralc.lang.errors import UsageError

__all__ = ["binary_to_unit", "bits_of", "num_bits", "unit_to_binary"]


def num_bits(n: int) -> int:
    """K with ``n == 2**K``; :class:`UsageError` when n is not a power of two."""
    if n < 2 or n & (n - 1):
        raise UsageError(
            f"binary encoding needs n to be a power of two (2, 4, 8, ..., 1024), got n={n}"
        )
    return n.bit_length() - 1


def bits_of(n: int, *, dtype=torch.float32, device=None) -> torch.Tensor:
    """The bit matrix ``P[i, k] = bit_k(i)``, shape (N, K)."""
    k = num_bits(n)
    i = torch.arange(n, device=device)
    return ((i[:, None] >> torch.arange(k, device=device)) & 1).to(dtype)


def unit_to_binary(u: torch.Tensor) -> torch.Tensor:
    """``b_k = Σ_i u_i bit_k(i)``: (..., N) → (..., K)."""
    return u @ bits_of(u.shape[-1], dtype=u.dtype, device=u.device)


def binary_to_unit(b: torch.Tensor) -> torch.Tensor:
    """``u_i = Π_k (b_k if bit_k(i) else 1 − b_k)``: (..., K) → (..., 2^K).

    Built from the most significant bit down, one outer product per bit (index ``2·i + bit``),
    so the cost is O(N) and there is no product over zeros to differentiate.
    """
    u = torch.ones(*b.shape[:-1], 1, dtype=b.dtype, device=b.device)
    for k in reversed(range(b.shape[-1])):
        bk = b[..., k : k + 1]
        pair = torch.cat([1 - bk, bk], dim=-1)  # (..., 2): P(bit k = 0), P(bit k = 1)
        u = (u.unsqueeze(-1) * pair.unsqueeze(-2)).flatten(-2)
    return u
