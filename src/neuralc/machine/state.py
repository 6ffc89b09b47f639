"""The machine state S = (R, M, c) (docs/DESIGN.md §3) and how to build an initial one.

``counter`` has L+1 positions: lines ``0..L-1`` and the absorbing position ``L`` ("halted"). The
halting probability of the paper is therefore ``h = counter[..., L]``; because that position is
absorbing, it accumulates exactly as the paper's ``h' = h + (1 − h)·η`` (η = the halting mass
that arrives in one step, whether by ``halt``, a jump to line L, or running past the end).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ..lang.program import Sizes

__all__ = ["State", "initial_state", "values_tensor"]


class State(NamedTuple):
    """Registers (B, K, N), memory (B, M, N), counter (B, L+1); every row a distribution."""

    registers: torch.Tensor
    memory: torch.Tensor
    counter: torch.Tensor

    @property
    def halted(self) -> torch.Tensor:
        """The halting probability h (B,)."""
        return self.counter[..., -1]

    def detach(self) -> State:
        return State(*(t.detach() for t in self))

    def to(self, *args, **kwargs) -> State:
        return State(*(t.to(*args, **kwargs) for t in self))


def values_tensor(
    values, rows: int, n: int, batch: int, dtype: torch.dtype, device, what: str
) -> torch.Tensor:
    """A (B, rows, N) tensor of value distributions, all e_0 except the given ones.

    ``values``: ``None``; a list of ints from row 0; a dict row → int, (N,) or (B, N)
    distribution; or a full (rows, N) / (B, rows, N) tensor. Integers are taken mod n.
    """
    if isinstance(values, torch.Tensor):
        t = values.to(dtype=dtype, device=device)
        if t.dim() == 2:
            t = t.unsqueeze(0)
        if t.shape[1:] != (rows, n):
            raise ValueError(f"{what} tensor must be (B, {rows}, {n}), got {tuple(values.shape)}")
        return t.expand(batch, rows, n) if t.shape[0] == 1 and batch != 1 else t
    out = torch.zeros(batch, rows, n, dtype=dtype, device=device)
    out[:, :, 0] = 1.0
    if values is None:
        return out
    items = values.items() if isinstance(values, dict) else enumerate(values)
    for r, v in items:
        if not 0 <= int(r) < rows:
            raise ValueError(f"{what} index {r} out of range 0..{rows - 1}")
        if isinstance(v, torch.Tensor):
            out[:, int(r)] = v.to(dtype=dtype, device=device)
        else:
            out[:, int(r)] = 0.0
            out[:, int(r), int(v) % n] = 1.0
    return out


def initial_state(
    sizes: Sizes,
    L: int,
    batch: int = 1,
    registers=None,
    memory=None,
    entry: int | torch.Tensor = 0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> State:
    """The state before the first step.

    ``registers`` (K of them) and ``memory`` (m cells): see :func:`values_tensor`; every value
    defaults to 0 (one-hot e_0). ``entry``: the start line (an int in ``0..L``, ``L`` = already
    halted) or a (B, L+1) / (L+1,) distribution over counter positions.
    """
    n = sizes.n
    regs = values_tensor(registers, sizes.registers, n, batch, dtype, device, "register")
    mem = values_tensor(memory, sizes.m, n, batch, dtype, device, "memory")
    if isinstance(entry, torch.Tensor):
        counter = entry.to(dtype=dtype, device=device)
        if counter.dim() == 1:
            counter = counter.unsqueeze(0).expand(batch, -1)
        if counter.shape[-1] != L + 1:
            raise ValueError(f"entry distribution must have L+1={L + 1} positions")
    else:
        if not 0 <= entry <= L:
            raise ValueError(f"entry line {entry} out of range 0..{L}")
        counter = torch.zeros(batch, L + 1, dtype=dtype, device=device)
        counter[:, entry] = 1.0
    return State(regs, mem, counter)
