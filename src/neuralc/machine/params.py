"""Program parameters: a program as per-line, per-slot distributions (docs/DESIGN.md §2.3, §7.1).

The program matrix ϱ of the paper, split into one categorical distribution per field. Shapes
(letters as in :mod:`neuralc.machine.step`):

==========  =============  ==================================================================
field       shape          meaning
==========  =============  ==================================================================
``instr``   (L, W, A)      the instruction, over :data:`neuralc.isa.INSTRUCTIONS`
``reg_a``   (L, W, K)      the first R operand (``a``)
``reg_b``   (L, W, K)      the second R operand (``b``)
``reg_d``   (L, W, K)      the destination register (D)
``imm``     (L, W, N)      the immediate (I), a value
``target``  (L, W, L+1+K)  the target (T): lines ``0..L`` (``L`` = halt), then registers
                           ``0..K-1`` (indirect: the register's value is the line)
==========  =============  ==================================================================

Fields an instruction does not use are set to index 0; slots beyond a line's width are ``nop``.

The fields are stored either as probabilities (``logits=False``: exact, what a compiled library
should use, docs/DESIGN.md §7.1) or as logits (``logits=True``: ``sharpness · onehot``, Bunel's
"sharpening factor"); :meth:`ProgramParams.probs` always returns probabilities.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..isa import INSTRUCTIONS, OPCODE
from ..lang.program import Program, Sizes

__all__ = ["FIELDS", "ProgramParams", "ProgramProbs", "encode", "field_sizes"]

FIELDS: tuple[str, ...] = ("instr", "reg_a", "reg_b", "reg_d", "imm", "target")


class ProgramProbs(NamedTuple):
    """The fields of a program as probabilities (see the module docstring for shapes)."""

    instr: torch.Tensor
    reg_a: torch.Tensor
    reg_b: torch.Tensor
    reg_d: torch.Tensor
    imm: torch.Tensor
    target: torch.Tensor


def field_sizes(sizes: Sizes, L: int) -> dict[str, int]:
    """The length of each field's distribution axis."""
    K, N = sizes.registers, sizes.n
    return {"instr": len(INSTRUCTIONS), "reg_a": K, "reg_b": K, "reg_d": K, "imm": N,
            "target": L + 1 + K}


class ProgramParams(nn.Module):
    """A program's parameters: one :class:`torch.nn.Parameter` per field (shapes above).

    ``logits`` says whether the stored tensors are logits (``probs()`` applies a softmax over the
    last axis) or probabilities (``probs()`` returns them as they are). ``sizes`` are the machine
    sizes, ``entry`` the entry line; ``labels``/``line_widths`` are cosmetic metadata kept from the
    encoded program so the decompiler can print it back the same way.
    """

    def __init__(
        self,
        fields: dict[str, torch.Tensor],
        sizes: Sizes,
        *,
        logits: bool,
        entry: int = 0,
        trainable: bool = False,
        labels: dict[str, int] | None = None,
        line_widths: list[int] | None = None,
    ):
        super().__init__()
        L, W = fields["instr"].shape[:2]
        expected = field_sizes(sizes, L)
        for name in FIELDS:
            t = fields[name]
            if tuple(t.shape) != (L, W, expected[name]):
                raise ValueError(f"field {name} has shape {tuple(t.shape)}, "
                                 f"expected {(L, W, expected[name])}")
            self.register_parameter(name, nn.Parameter(t, requires_grad=trainable))
        self.sizes = sizes
        self.logits = logits
        self.entry = entry
        self.labels = dict(labels or {})
        self.line_widths = list(line_widths) if line_widths is not None else None

    @property
    def L(self) -> int:
        return self.instr.shape[0]

    @property
    def W(self) -> int:
        return self.instr.shape[1]

    def fields(self) -> dict[str, torch.Tensor]:
        return {name: getattr(self, name) for name in FIELDS}

    def probs(self) -> ProgramProbs:
        """Every field as a distribution over its last axis (softmax of the logits if stored so)."""
        if self.logits:
            return ProgramProbs(*(torch.softmax(getattr(self, f), dim=-1) for f in FIELDS))
        return ProgramProbs(*(getattr(self, f) for f in FIELDS))

    def extra_repr(self) -> str:
        s = self.sizes
        return (f"L={self.L}, W={self.W}, n={s.n}, K={s.registers}, m={s.m}, "
                f"logits={self.logits}, entry={self.entry}")


def _indices(program: Program, W: int) -> dict[str, list[list[int]]]:
    """Per field, the (L, W) index of the one-hot entry."""
    L = program.L
    nop = OPCODE["nop"]
    idx = {f: [[0] * W for _ in range(L)] for f in FIELDS}
    for i in range(L):
        for s in range(W):
            idx["instr"][i][s] = nop
    for i, s, op in program.ops():
        ins = op.instruction
        idx["instr"][i][s] = OPCODE[op.name]
        reads = 0
        for kind, arg in zip(ins.operands, op.args):
            if kind == "R":
                idx["reg_a" if reads == 0 else "reg_b"][i][s] = arg
                reads += 1
            elif kind == "D":
                idx["reg_d"][i][s] = arg
            elif kind == "I":
                idx["imm"][i][s] = arg % program.sizes.n
            elif kind == "T":
                idx["target"][i][s] = L + 1 + arg.register if arg.indirect else arg.line
    return idx


def encode(
    program: Program,
    *,
    W: int | None = None,
    logits: bool = False,
    sharpness: float = 20.0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    trainable: bool = False,
) -> ProgramParams:
    """Compile ``program`` into sharp parameters, deterministically (docs/DESIGN.md §7.1).

    ``logits=False``: every field is an exact one-hot probability vector.
    ``logits=True``: every field is ``sharpness · onehot`` (a softmax then gives probability
    ``1 / (1 + (size−1)·e^−sharpness)`` to the program's choice).
    ``W``: slots per line (default: the program's width, or ``sizes.width`` if larger); narrower
    lines are padded with ``nop``.
    """
    width = max(program.width, program.sizes.width)
    W = width if W is None else W
    if W < program.width:
        raise ValueError(f"W={W} is narrower than the program's widest line ({program.width})")
    sizes = program.sizes
    L = program.L
    idx = _indices(program, W)
    sz = field_sizes(sizes, L)
    fields = {}
    for name in FIELDS:
        index = torch.tensor(idx[name], dtype=torch.long, device=device)
        onehot = torch.nn.functional.one_hot(index, sz[name]).to(dtype)
        fields[name] = onehot * sharpness if logits else onehot
    return ProgramParams(
        fields, sizes, logits=logits, entry=program.entry, trainable=trainable,
        labels=program.labels, line_widths=[len(line) for line in program.lines],
    )
