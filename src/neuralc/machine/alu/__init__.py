"""Three interchangeable ALUs behind one interface (docs/DESIGN.md §6).

``make_alu(name, n)`` returns an :class:`ALU` (a ``torch.nn.Module``) whose
``forward(f, u, v)`` takes ``f`` (B, A_t) weights over ``TABLE_OPS``, ``u``, ``v`` (B, N) value
distributions, and returns ``o`` (B, N) with ``o_l = Σ_i f_i Σ_jk u_j v_k T[i, j, k, l]``.

* ``dense``   — the paper's tensor T (A_t, N, N, N); the faithful reference; trainable or frozen.
* ``sparse``  — the default: exactly the same function without T (FFT, cumulative sums,
  bitwise transforms, sparse index tables); N = 1024 fits.
* ``circuit`` — binary encodings and differentiable gates (N a power of two). Exact on sharp
  inputs; on soft inputs the independent-bit relaxation (see :mod:`.circuit`).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from neuralc.isa.registry import TABLE_OPS
from neuralc.lang.errors import UsageError

from .base import ALU
from .binary import binary_to_unit, unit_to_binary

__all__ = ["ALU", "ALUS", "TABLE_OPS", "binary_to_unit", "make_alu", "program_ops",
           "unit_to_binary"]

ALUS: tuple[str, ...] = ("dense", "sparse", "circuit")


def program_ops(program) -> frozenset[str]:
    """The table ops a program's instructions use (``program``: a ``neuralc.lang`` Program)."""
    return frozenset(op.name for line in program.lines for op in line
                     if op.instruction.kind == "table")


def make_alu(name: str, n: int, *, trainable: bool = False, dtype=torch.float32, device=None,
             ops: Iterable[str] | None = None, **options) -> ALU:
    """Build the ALU called ``name`` (one of :data:`ALUS`) for values ``0..n-1``.

    ``trainable`` makes the dense table a parameter (the other ALUs have none). ``ops`` (a
    subset of ``TABLE_OPS``): compute only these ops, e.g. :func:`program_ops` of a program
    that is not trained (see :class:`ALU`). ``options`` go to
    the ALU's constructor (e.g. ``memory_limit=`` bytes for the dense table). Sizes that cannot
    work raise :class:`UsageError` before anything large is allocated.
    """
    if name == "dense":
        from .dense import DenseALU

        return DenseALU(n, trainable=trainable, dtype=dtype, device=device, ops=ops,
                        **options)
    if name == "sparse":
        from .sparse import SparseALU

        return SparseALU(n, trainable=trainable, dtype=dtype, device=device, ops=ops,
                        **options)
    if name == "circuit":
        from .circuit import CircuitALU

        return CircuitALU(n, trainable=trainable, dtype=dtype, device=device, ops=ops,
                        **options)
    raise UsageError(f"unknown ALU {name!r} (choose from {', '.join(ALUS)})")
