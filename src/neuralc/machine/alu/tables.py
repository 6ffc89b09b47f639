"""Index tables of the value ops: ``L[i, a, b] = fn_i(a, b) mod n`` for every op of ``TABLE_OPS``.

The registry (``neuralc.isa.registry``) holds the exact integer semantics as Python functions of
one pair. Calling them n² times per op is too slow at n = 1024 (19 M calls), so this file gives
the same semantics vectorized over all pairs at once (:data:`_VECTORIZED`). :func:`index_table`
checks the vectorized form against the registry on every pair for n ≤ 32 (and the ALU tests
check it exhaustively), and falls back to the registry's own ``fn`` for an op it does not know.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from neuralc.isa.registry import BY_NAME, TABLE_OPS

__all__ = ["TABLE_OPS", "UNARY", "index_table", "op_table"]

#: ops of ``TABLE_OPS`` that read one register (the second operand is ignored)
UNARY: tuple[str, ...] = tuple(op for op in TABLE_OPS if BY_NAME[op].arity == 1)

_Vec = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _safe(b: torch.Tensor) -> torch.Tensor:
    return torch.where(b == 0, torch.ones_like(b), b)


# a, b: int64 tensors broadcast to (n, n); results before ``mod n``
_VECTORIZED: dict[str, _Vec] = {
    "inc": lambda a, b: a + 1,
    "dec": lambda a, b: a - 1,
    "not": lambda a, b: (a == 0).long(),
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: torch.where(b == 0, 0, a // _safe(b)),
    "mod": lambda a, b: torch.where(b == 0, 0, a % _safe(b)),
    "min": torch.minimum,
    "max": torch.maximum,
    "and": torch.bitwise_and,
    "or": torch.bitwise_or,
    "xor": torch.bitwise_xor,
    "eq": lambda a, b: (a == b).long(),
    "ne": lambda a, b: (a != b).long(),
    "lt": lambda a, b: (a < b).long(),
    "le": lambda a, b: (a <= b).long(),
    "gt": lambda a, b: (a > b).long(),
    "ge": lambda a, b: (a >= b).long(),
}


def op_table(op: str, n: int) -> torch.Tensor:
    """``L[a, b] = fn(a, b) mod n`` for one op, int64 of shape (N, N) (CPU)."""
    a = torch.arange(n).view(n, 1).expand(n, n)
    b = torch.arange(n).view(1, n).expand(n, n)
    vec = _VECTORIZED.get(op)
    if vec is None:  # an op added to the registry later: slow but exact
        return torch.tensor(BY_NAME[op].table(n), dtype=torch.long)
    table = torch.remainder(vec(a, b), n).long().contiguous()
    if n <= 32:  # guard the vectorized copy against drifting from the registry
        ref = torch.tensor(BY_NAME[op].table(n), dtype=torch.long)
        if not torch.equal(table, ref):
            raise AssertionError(f"vectorized table of {op!r} disagrees with the registry at n={n}")
    return table


def index_table(n: int) -> torch.Tensor:
    """``L[i, a, b] = fn_i(a, b) mod n`` for all ops of ``TABLE_OPS``: int64 (A_t, N, N), CPU.

    Unary ops ignore ``b`` (their rows are constant along the last axis).
    """
    return torch.stack([op_table(op, n) for op in TABLE_OPS])
