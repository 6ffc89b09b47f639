"""Helpers for the machine tests: ALUs to test with, and small programs built directly."""

from __future__ import annotations

import torch

from neuralc.isa import BY_NAME, TABLE_OPS


class EinsumALU(torch.nn.Module):
    """The paper's dense lookup o_l = Σ_ijk T_ijkl f_i u_j v_k, built straight from the registry.

    Independent of ``neuralc.machine.alu``: the machine tests use it as a reference ALU.
    """

    def __init__(self, n: int, dtype=torch.float64):
        super().__init__()
        T = torch.zeros(len(TABLE_OPS), n, n, n, dtype=dtype)
        for i, name in enumerate(TABLE_OPS):
            table = torch.tensor(BY_NAME[name].table(n))
            T[i].scatter_(-1, table[..., None], 1.0)
        self.register_buffer("T", T)

    def forward(self, f, u, v):
        lead = u.shape[:-1]
        f, u, v = f.reshape(-1, f.shape[-1]), u.reshape(-1, u.shape[-1]), v.reshape(-1, v.shape[-1])
        o = torch.einsum("bi,bj,bk,ijkl->bl", f, u, v, self.T.to(f.dtype))
        return o.reshape(*lead, -1)


def get_alu(name: str, n: int, dtype=torch.float64):
    """An ALU by name; "einsum" is the local reference, the others come from make_alu."""
    if name == "einsum":
        return EinsumALU(n, dtype)
    from neuralc.machine.alu import make_alu

    return make_alu(name, n, dtype=dtype)
