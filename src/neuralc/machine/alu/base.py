"""The interface every ALU implements (one-hot in, one-hot out; PAPER §1.4, §6.5)."""

from __future__ import annotations

import torch
from torch import nn

from neuralc.isa.registry import TABLE_OPS

__all__ = ["ALU"]


class ALU(nn.Module):
    """A differentiable arithmetic-logic unit over the value ops of ``TABLE_OPS``.

    ``forward(f, u, v)`` with ``f`` (B, A_t) weights over ``TABLE_OPS`` (they need not sum to 1:
    the machine passes running mass), ``u``, ``v`` (B, N) value distributions of the first and
    second operand, returns ``o`` (B, N)::

        o_l = Σ_i f_i Σ_jk u_j v_k T[i, j, k, l]        T[i, j, k, :] = onehot(fn_i(j, k) mod n)

    Unary ops have ``T[i, j, k, :] = onehot(fn_i(j))`` for every ``k``, so for them the sum over
    ``k`` only multiplies by ``Σ_k v_k`` (= 1 for a distribution). Extra leading dimensions are
    allowed (``f`` (..., A_t), ``u``, ``v`` (..., N)).
    """

    name: str = "?"

    def __init__(self, n: int):
        super().__init__()
        if n < 2:
            raise ValueError(f"n must be at least 2 (got {n})")
        self.n = n
        self.ops: tuple[str, ...] = TABLE_OPS

    def extra_repr(self) -> str:
        return f"n={self.n}"

    def forward(self, f: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        lead = u.shape[:-1]
        if f.shape[-1] != len(self.ops) or u.shape[-1] != self.n or v.shape[-1] != self.n:
            raise ValueError(
                f"{self.name} ALU: expected f (..., {len(self.ops)}), u and v (..., {self.n}); "
                f"got {tuple(f.shape)}, {tuple(u.shape)}, {tuple(v.shape)}"
            )
        f2 = f.reshape(-1, f.shape[-1])
        o = self._mix(f2, u.reshape(-1, self.n), v.reshape(-1, self.n))
        return o.reshape(*lead, self.n)

    def _mix(self, f: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Default: ``o = Σ_i f_i o_i`` from the per-op outputs of :meth:`per_op`.

        An op whose weight is 0 in every row contributes nothing to ``o`` nor to the gradients
        of ``u`` and ``v``; only ``∂/∂f_i = Σ_l g_l o_il`` needs its output. So when ``f``
        needs no gradient such ops may be skipped (``needed``); e.g. a sharp run, where each
        step uses one op.
        """
        per_op = self.per_op(u, v, self._needed(f))  # (B, A_t, N)
        # elementwise rather than bmm: a tiny matmul costs MKL's thread sync, which stalls
        # badly when the cores are oversubscribed (e.g. pytest -n 2)
        return (f.unsqueeze(-1) * per_op).sum(1)

    def scratch_bytes(self) -> int:
        """Bytes of scratch buffers the ALU keeps between calls (besides buffers/parameters)."""
        return 0

    def _needed(self, f: torch.Tensor) -> frozenset[str] | None:
        """The ops with a non-zero weight somewhere, or None (all) when f needs a gradient."""
        if torch.is_grad_enabled() and f.requires_grad:
            return None
        used = (f != 0).any(0).tolist()
        return frozenset(op for op, x in zip(self.ops, used) if x)

    def per_op(self, u: torch.Tensor, v: torch.Tensor,
               needed: frozenset[str] | None = None) -> torch.Tensor:
        """Every op's output ``o_i`` (B, A_t, N) for ``u``, ``v`` (B, N). With ``needed``, an
        ALU may return zeros for the ops not in it (and skip their work)."""
        raise NotImplementedError
