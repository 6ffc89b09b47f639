"""The interface every ALU implements (one-hot in, one-hot out; docs/DESIGN.md §6.1)."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from neuralc.isa.registry import TABLE_OPS
from neuralc.lang.errors import UsageError

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

    With ``ops`` (a subset of ``TABLE_OPS``, e.g. the ops a program's instructions use) the ALU
    computes only those: the weights of the other ops are ignored (their outputs and
    ``∂/∂f_i`` are 0) and their routes never run. ``f`` keeps its A_t columns, so such an ALU is
    a drop-in replacement wherever ``f`` is fixed (a compiled program that is not trained).
    """

    name: str = "?"

    def __init__(self, n: int, ops: Iterable[str] | None = None):
        super().__init__()
        if n < 2:
            raise ValueError(f"n must be at least 2 (got {n})")
        self.n = n
        self.ops: tuple[str, ...] = TABLE_OPS
        self.computed: frozenset[str] | None = None
        if ops is not None:
            unknown = sorted(set(ops) - set(TABLE_OPS))
            if unknown:
                raise UsageError(f"unknown ALU ops {', '.join(unknown)} "
                                 f"(the table ops are {', '.join(TABLE_OPS)})")
            self.computed = frozenset(ops)
            mask = torch.tensor([float(op in self.computed) for op in TABLE_OPS])
            self.register_buffer("op_mask", mask, persistent=False)

    def extra_repr(self) -> str:
        only = "" if self.computed is None else f", ops={sorted(self.computed)}"
        return f"n={self.n}{only}"

    def forward(self, f: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        lead = u.shape[:-1]
        if f.shape[-1] != len(self.ops) or u.shape[-1] != self.n or v.shape[-1] != self.n:
            raise ValueError(
                f"{self.name} ALU: expected f (..., {len(self.ops)}), u and v (..., {self.n}); "
                f"got {tuple(f.shape)}, {tuple(u.shape)}, {tuple(v.shape)}"
            )
        f2 = f.reshape(-1, f.shape[-1])
        if self.computed is not None:  # the ops not computed contribute nothing
            f2 = f2 * self.op_mask.to(f2.dtype)
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
        """The ops to compute: those with a non-zero weight somewhere, or all (None) when f
        needs a gradient; never more than :attr:`computed`."""
        if torch.is_grad_enabled() and f.requires_grad:
            return self.computed
        used = (f != 0).any(0).tolist()
        needed = frozenset(op for op, x in zip(self.ops, used) if x)
        return needed if self.computed is None else needed & self.computed

    def per_op(self, u: torch.Tensor, v: torch.Tensor,
               needed: frozenset[str] | None = None) -> torch.Tensor:
        """Every op's output ``o_i`` (B, A_t, N) for ``u``, ``v`` (B, N). With ``needed``, an
        ALU may return zeros for the ops not in it (and skip their work)."""
        raise NotImplementedError
