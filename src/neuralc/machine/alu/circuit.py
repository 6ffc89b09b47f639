"""The circuit ALU: values as bits, ops as circuits of differentiable gates (docs/DESIGN.md §6.4, §6.5).

``n`` must be a power of two, ``n = 2^K``. One lookup:

1. ``a = unit_to_binary(u)``, ``b = unit_to_binary(v)`` (B, K): each bit's probability.
2. Every op is a circuit of the gates of :mod:`.gates` on those bits (bit 0 = least significant):

   ==============  ==========================================================================
   add, sub        adder: ``s_k = XOR(p_k, c_k)``, ``c_{k+1} = EITHER(g_k, AND(p_k, c_k))``
   inc, dec        with ``g = AND(a, b)``, ``p = XOR(a, b)``; sub = a + NOT(b) + 1 (two's
                   complement), inc = a + 0 + 1, dec = a + 11…1; the last carry is dropped
                   (mod 2^K). The carries are evaluated in carry-lookahead form — the same
                   polynomial as the ripple-carry chain, in a few tensor ops
   lt, le, gt, ge  comparator from the LSB up: ``r_{k+1} = EITHER(AND(NOT a_k, b_k),
                   AND(XNOR(a_k, b_k), r_k))`` with ``r_0 = 0`` (lt) or 1 (le); gt, ge swap
   eq, ne, not     ``eq = Π_k XNOR(a_k, b_k)``, ``ne = NOT eq``, ``not = Π_k NOT a_k``
   min, max        ``MUX(lt(a, b), a, b)`` bit by bit
   and, or, xor    the gate on each bit pair
   mul             shift-and-add: K − 1 adders of the partial products ``AND(a_j, b_i)``
   div, mod        restoring division (K steps of shift, compare, subtract, MUX); the result
                   is forced to 0 where ``b == 0`` by ``AND(NOT eq(b, 0), ·)``
   ==============  ==========================================================================

3. Each op's output bits go back with ``binary_to_unit`` (B, A_t, N), mixed by ``f``.

**Sharp inputs** (one-hot ``u``, ``v``): every bit is 0 or 1, every gate is the Boolean gate, and
the result is exactly ``onehot(fn(a, b) mod n)`` for every op and pair (tested exhaustively).

**Soft inputs**: this is the *independent-bit relaxation*, not the table's result.
``unit_to_binary`` keeps only each operand's bit marginals (the bits of a soft ``u`` are treated as
independent), and ``binary_to_unit`` returns the product of the output bits' marginals. When the
inputs *are* products of independent bits, the output bit marginals are exact — equal to the
bit marginals of the dense table's output — for add, sub, inc, dec (the two carry terms are
exclusive and the carry into bit k depends only on bits below k, so it is independent of
``a_k, b_k``), for eq, ne, not (products over distinct, independent bit pairs), for lt, le, gt,
ge (the same argument as the carry), and for and, or, xor (one gate per independent pair).
They are *not* exact for min, max (the select bit lt(a, b) is correlated with the bits it
selects), mul (for K ≥ 3: the partial products reuse the same bits), div and mod (the
remainder feeds back into every step). Even for the
exact ops, the output *distribution* is only the product of its marginals (e.g. a + b of two
uniform bits has correlated sum bits). ``u`` and ``v`` are taken to be distributions (sum 1, as
in the machine): unlike the dense table, the result is not scaled by their mass; it sums to
``Σ_i f_i``.
"""

from __future__ import annotations

import torch

from neuralc.lang.errors import UsageError

from .base import ALU
from .binary import binary_to_unit, num_bits, unit_to_binary
from .gates import AND, MUX, NOT, OR, XNOR, XOR

__all__ = ["CircuitALU", "adder", "compare", "divmod_bits", "multiply"]


def carries(g: torch.Tensor, p: torch.Tensor, c0: torch.Tensor) -> torch.Tensor:
    """``c_{k+1} = EITHER(g_k, AND(p_k, c_k))`` for k = 0..K−1 given ``c_0`` (..., 1): (..., K).

    Evaluated in the carry-lookahead (two-level) form of the same recurrence: a carry leaves
    bit k if it was generated at some bit i ≤ k (or came in, i = −1) and propagated by every bit
    after it, ``c_{k+1} = Σ_{i=−1..k} g_i Π_{m=i+1..k} p_m`` with ``g_{−1} = c_0``. The terms
    are mutually exclusive events, so the sum is the exact probability on independent bits,
    like the ripple chain — the same polynomial, in a few tensor ops instead of K steps.
    """
    K = g.shape[-1]
    gen = torch.cat([c0.expand_as(g[..., :1]), g], -1)  # (..., K+1): g_{i'-1}, i' = 0..K
    i = torch.arange(K + 1, device=g.device).view(K + 1, 1)
    m = torch.arange(K, device=g.device).view(1, K)
    # span[i', k] = Π_{m=i'..k} p_m  (1 when i' = k + 1; zeroed when i' > k + 1)
    ones = torch.ones((), dtype=p.dtype, device=p.device)
    span = torch.where(m >= i, p.unsqueeze(-2), ones).cumprod(-1) * (i <= m + 1)
    return (gen.unsqueeze(-1) * span).sum(-2)


def adder(a: torch.Tensor, b: torch.Tensor, c0: torch.Tensor,
          carry_out: bool = False):
    """``a + b + c0 mod 2^K`` on bits (..., K); ``c0`` (..., 1) is the carry in. With
    ``carry_out``, also the last carry (..., 1) — for ``a + NOT b + 1`` that is ``a ≥ b``."""
    p = XOR(a, b)
    c = carries(AND(a, b), p, c0)
    s = XOR(p, torch.cat([c0.expand_as(c[..., :1]), c[..., :-1]], -1))
    return (s, c[..., -1:]) if carry_out else s


def compare(a: torch.Tensor, b: torch.Tensor, r0: torch.Tensor) -> torch.Tensor:
    """``P(a < b)`` (``r0 = 0``) or ``P(a ≤ b)`` (``r0 = 1``), ``r0`` (..., 1), from the LSB
    up: (...,)."""
    return carries(AND(NOT(a), b), XNOR(a, b), r0)[..., -1]


def multiply(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a · b mod 2^K`` by shift-and-add of the partial products ``AND(a_j, b_i)``."""
    K = a.shape[-1]
    zero = torch.zeros_like(a[..., :1])
    acc = AND(a, b[..., :1])
    for i in range(1, K):
        partial = torch.cat([zero.expand(*a.shape[:-1], i), AND(a[..., : K - i], b[..., i : i + 1])], -1)
        acc = adder(acc, partial, zero)
    return acc


def divmod_bits(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(a // b, a % b)`` by restoring division, both 0 where ``b == 0``.

    The remainder keeps K + 1 bits: before each shift it is < b < 2^K, so after
    ``R = 2R + a_i`` it is < 2^(K+1). Then ``D = R + NOT b + 1`` (= R − b), ``q_i = (R ≥ b)``
    is the subtractor's carry out — the same polynomial as ``compare(b, R, 1)``, so no separate
    comparator — and ``R = MUX(q_i, D, R)``.
    """
    K = a.shape[-1]
    zero = torch.zeros_like(a[..., :1])
    one = torch.ones_like(zero)
    b1 = torch.cat([b, zero], -1)  # b with K + 1 bits
    not_b1 = NOT(b1)
    r = torch.zeros_like(b1)
    q = []
    for i in reversed(range(K)):
        r = torch.cat([a[..., i : i + 1], r[..., :K]], -1)  # 2R + a_i (top bit was 0)
        diff, ge = adder(r, not_b1, one, carry_out=True)  # R − b, and R ≥ b
        r = MUX(ge, diff, r)
        q.append(ge)
    quotient = torch.cat(q[::-1], -1)
    nonzero = NOT(torch.prod(NOT(b), -1, keepdim=True))  # NOT eq(b, 0)
    return AND(nonzero, quotient), AND(nonzero, r[..., :K])


class CircuitALU(ALU):
    """Every op of ``TABLE_OPS`` as a circuit on bits; see the module docstring."""

    name = "circuit"

    def __init__(self, n: int, *, trainable: bool = False, dtype=torch.float32, device=None,
                 ops=None):
        super().__init__(n, ops)
        if n < 2 or n & (n - 1):
            raise UsageError(
                f"the circuit ALU needs n to be a power of two (2, 4, ..., 1024), got n={n}; "
                "use --alu sparse"
            )
        if trainable:
            raise UsageError("the circuit ALU has no table to train; use --alu dense")
        self.bits = num_bits(n)

    def per_op(self, u: torch.Tensor, v: torch.Tensor,
               needed: frozenset[str] | None = None) -> torch.Tensor:
        a, b = unit_to_binary(u), unit_to_binary(v)  # (B, K)
        zero, one = torch.zeros_like(a), torch.ones_like(a)
        c = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=a.dtype, device=a.device).view(4, 1, 1)
        inc, dec, add, sub = adder(torch.stack([a, a, a, a]), torch.stack([zero, one, b, NOT(b)]),
                                   c)
        c = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=a.dtype, device=a.device).view(4, 1, 1)
        lt, le, gt, ge = compare(torch.stack([a, a, b, b]), torch.stack([b, b, a, a]), c)
        eq = torch.prod(XNOR(a, b), -1)
        is_zero = torch.prod(NOT(a), -1)
        if needed is None or {"div", "mod"} & needed:  # the costliest circuits: skip if unused
            div, mod = divmod_bits(a, b)
        else:
            div = mod = zero
        mul = multiply(a, b) if needed is None or "mul" in needed else zero
        s = lt.unsqueeze(-1)

        def flag(p: torch.Tensor) -> torch.Tensor:  # the bits of the value p ∈ {0, 1}
            return torch.cat([p.unsqueeze(-1), zero[:, 1:]], -1)

        bits = {
            "inc": inc, "dec": dec, "not": flag(is_zero), "add": add, "sub": sub,
            "mul": mul, "div": div, "mod": mod,
            "min": MUX(s, a, b), "max": MUX(s, b, a),
            "and": AND(a, b), "or": OR(a, b), "xor": XOR(a, b),
            "eq": flag(eq), "ne": flag(NOT(eq)), "lt": flag(lt), "le": flag(le),
            "gt": flag(gt), "ge": flag(ge),
        }  # fmt: skip
        return binary_to_unit(torch.stack([bits[op] for op in self.ops], 1))  # (B, A_t, N)
