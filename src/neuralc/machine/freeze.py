"""Freezing by gradient masks (docs/DESIGN.md §7.4): θ_t = θ_{t−1} − η (∇ℒ ⊙ m), m = 0 where frozen.

The mask multiplies the gradient through a tensor hook, so a frozen entry's gradient is exactly
zero. With plain SGD or Adam (``weight_decay=0``) a zero gradient from the start means a zero
update, so frozen entries stay bit-identical. Weight decay (``Adam(weight_decay>0)``, ``AdamW``)
moves parameters even with a zero gradient: use ``weight_decay=0`` for masked parameters (a
separate parameter group), or call :meth:`FrozenMask.restore` after each optimizer step, which
writes the frozen entries back from a snapshot.

For whole modules (a frozen ALU table, a frozen library program) :func:`freeze_module` simply
turns ``requires_grad`` off.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from .params import FIELDS, ProgramParams

__all__ = ["FrozenMask", "freeze", "freeze_module", "line_mask"]


class FrozenMask:
    """Gradient masks installed on some parameters; :meth:`remove` takes them off again."""

    def __init__(self, masks: dict[str, tuple[nn.Parameter, torch.Tensor]]):
        self.masks = masks
        self.snapshots = {name: p.detach().clone() for name, (p, _) in masks.items()}
        self.handles = [p.register_hook(_multiply_by(m)) for p, m in masks.values()]

    def restore(self) -> None:
        """Write the frozen entries (mask == 0) back from the snapshot taken at freezing."""
        with torch.no_grad():
            for name, (p, m) in self.masks.items():
                frozen = (m == 0).expand_as(p)
                p.copy_(torch.where(frozen, self.snapshots[name], p))

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []


def _multiply_by(mask: torch.Tensor):
    def hook(grad: torch.Tensor) -> torch.Tensor:
        return grad * mask

    return hook


def line_mask(
    params: ProgramParams,
    lines: Iterable[int] | None = None,
    fields: Iterable[str] | None = None,
) -> dict[str, torch.Tensor]:
    """Masks (1 = trainable, 0 = frozen) freezing ``fields`` (default: all) at ``lines``
    (default: all lines) of a program; each mask is (L,1,1), broadcast over slots and values."""
    fields = tuple(FIELDS if fields is None else fields)
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)} (fields are {', '.join(FIELDS)})")
    L = params.L
    ref = params.instr
    frozen = torch.zeros(L, 1, 1, dtype=ref.dtype, device=ref.device)
    if lines is None:
        frozen[:] = 1
    else:
        frozen[list(lines)] = 1
    return {name: 1 - frozen for name in fields}


def freeze(
    module: nn.Module,
    mask: dict[str, torch.Tensor] | None = None,
    *,
    lines: Iterable[int] | None = None,
    fields: Iterable[str] | None = None,
) -> FrozenMask:
    """Install gradient masks on ``module``'s parameters.

    ``mask``: parameter name → a tensor broadcastable to it (1 = trainable, 0 = frozen; values in
    between scale the gradient). Without ``mask``, ``module`` must be :class:`ProgramParams` and
    ``lines``/``fields`` say what to freeze (:func:`line_mask`).
    """
    if mask is None:
        if not isinstance(module, ProgramParams):
            raise ValueError("freeze(module) needs a mask unless module is ProgramParams")
        mask = line_mask(module, lines, fields)
    named = dict(module.named_parameters())
    masks = {}
    for name, m in mask.items():
        if name not in named:
            raise ValueError(f"no parameter {name!r} to mask (have {', '.join(named)})")
        p = named[name]
        masks[name] = (p, m.to(dtype=p.dtype, device=p.device))
    return FrozenMask(masks)


def freeze_module(module: nn.Module) -> nn.Module:
    """Freeze every parameter of ``module`` (``requires_grad`` off); returns the module."""
    for p in module.parameters():
        p.requires_grad_(False)
    return module
