"""A lookup-table ALU restricted to the ops a frozen program uses (a speed adapter).

The machine's dense ALU computes all A_t table ops every step; a frozen library program that
uses only, say, ``add inc dec ne`` needs only those four slices of T. :class:`SubsetTableALU`
holds just those slices (same table entries, same contraction ``o = Σ_i f_i (u ⊗ v) T_i``), and
ignores the weights of the other ops — correct exactly when the program gives them zero
probability, which :func:`used_table_ops` checks.
"""

from __future__ import annotations

import torch

from ..isa import TABLE_OPS
from ..machine.alu import ALU
from ..machine.alu.tables import op_table

__all__ = ["SubsetTableALU", "used_table_ops"]


def used_table_ops(params) -> tuple[str, ...]:
    """The table ops with non-zero probability anywhere in ``params`` (ProgramParams)."""
    from ..isa import OPCODE

    f = params.probs().instr.detach()
    mass = f.reshape(-1, f.shape[-1]).sum(0)
    return tuple(op for op in TABLE_OPS if float(mass[OPCODE[op]]) > 0)


class SubsetTableALU(ALU):
    """The lookup table of ``ops`` only (module docstring); same interface as every ALU."""

    name = "table-subset"

    def __init__(self, n: int, ops, dtype=torch.float32, device=None):
        super().__init__(n)
        ops = tuple(ops) or ("add",)
        self.cols = [TABLE_OPS.index(op) for op in ops]
        self.subset = ops
        T = torch.zeros(len(ops), n, n, n, dtype=dtype, device=device)
        for i, op in enumerate(ops):
            T[i].scatter_(2, op_table(op, n).to(device).unsqueeze(-1), 1.0)
        # (N², O·N): one GEMM against the outer product u ⊗ v
        self.register_buffer("table", T.permute(1, 2, 0, 3).reshape(n * n, -1).contiguous())

    def _mix(self, f, u, v):
        w = (u.unsqueeze(2) * v.unsqueeze(1)).reshape(u.shape[0], -1)  # (B, N²)
        per_op = (w @ self.table).reshape(u.shape[0], len(self.cols), self.n)
        return torch.bmm(f[:, self.cols].unsqueeze(1), per_op).squeeze(1)
