"""The dense ALU: the paper's lookup tensor (docs/DESIGN.md §6.2), kept as the faithful reference.

``T`` has shape (A_t, N, N, N) with ``T[i, j, k, :] = onehot(fn_i(j, k) mod n)`` (unary ops: the
same row for every ``k``), and one lookup is::

    o_l = Σ_ijk f_i u_j v_k T[i, j, k, l]        einsum('bi,bj,bk,ijkl->bl')

torch contracts that left to right: the (B, A_t·N²) outer product, then one GEMM against T, the
fast order. ``trainable=True`` makes T a parameter (docs/DESIGN.md §7.4, §10.3: learned
tables), else it is a buffer. T needs A_t·N³ numbers (19·128³ ≈ 40 M, 160 MB in float32; 82 GB
at N = 1024): the size is checked against a limit *before* anything is allocated.
"""

from __future__ import annotations

import os

import torch
from torch import nn

from neuralc.lang.errors import UsageError

from .base import ALU
from .tables import index_table

__all__ = ["DenseALU", "default_memory_limit", "dense_table_bytes"]

_GIB = 1 << 30


def dense_table_bytes(n: int, dtype=torch.float32, *, trainable: bool = False,
                      ops: int | None = None) -> int:
    """Bytes the dense table needs: A_t·N³ numbers (twice that with its gradient); ``ops``
    tables instead of A_t when the ALU computes only some ops."""
    from neuralc.isa.registry import TABLE_OPS

    numbers = (len(TABLE_OPS) if ops is None else ops) * n**3
    item = torch.empty((), dtype=dtype).element_size()
    return numbers * item * (2 if trainable else 1)


def _available_bytes(device) -> int | None:
    dev = torch.device(device) if device is not None else torch.device("cpu")
    if dev.type == "cuda" and torch.cuda.is_available():
        free, _total = torch.cuda.mem_get_info(dev)
        return int(free)
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def default_memory_limit(device=None) -> int:
    """``min(8 GiB, half the memory available now)`` on the device that will hold the table."""
    avail = _available_bytes(device)
    return 8 * _GIB if avail is None else min(8 * _GIB, avail // 2)


class DenseALU(ALU):
    """``o = einsum('bi,bj,bk,ijkl->bl', f, u, v, T)`` with the full table T (A_t, N, N, N)."""

    name = "dense"

    def __init__(self, n: int, *, trainable: bool = False, dtype=torch.float32, device=None,
                 memory_limit: int | None = None, ops=None):
        super().__init__(n, ops)
        # with ops: only their tables, T (R, N, N, N), and f's columns of them (``rows``)
        rows = [i for i, op in enumerate(self.ops) if self.computed is None or op in self.computed]
        need = dense_table_bytes(n, dtype, trainable=trainable, ops=len(rows))
        limit = default_memory_limit(device) if memory_limit is None else memory_limit
        if need > limit:
            raise UsageError(
                f"dense ALU at n={n} needs {need / _GIB:.2f} GiB for its table "
                f"(limit {limit / _GIB:.2f} GiB); use --alu sparse"
            )
        L = index_table(n)[rows].to(device)  # (R, N, N)
        T = torch.zeros(len(rows), n, n, n, dtype=dtype, device=device)
        T.scatter_(3, L.unsqueeze(-1), 1.0)
        del L
        if trainable:
            self.table = nn.Parameter(T)
        else:
            self.register_buffer("table", T)
        self.trainable = trainable
        self.register_buffer("rows", None if self.computed is None else torch.tensor(rows),
                             persistent=False)

    def _mix(self, f, u, v):
        if self.rows is not None:
            f = f.index_select(1, self.rows)
        return torch.einsum("bi,bj,bk,ijkl->bl", f, u, v, self.table)

    def per_op(self, u, v, needed=None):
        w = (u.unsqueeze(2) * v.unsqueeze(1)).reshape(u.shape[0], -1)  # (B, N²)
        T = self.table.permute(1, 2, 0, 3).reshape(self.n * self.n, -1)  # (N², R·N)
        o = (w @ T).reshape(u.shape[0], -1, self.n)
        if self.rows is None:
            return o
        return o.new_zeros(u.shape[0], len(self.ops), self.n).index_copy(1, self.rows, o)
