"""The differentiable computer as one :class:`torch.nn.Module`: program parameters + an ALU.

Shapes as in :mod:`neuralc.machine.step`. The ALU is an ordinary sub-module, so swapping it
(``computer.alu = make_alu("circuit", n)``, docs/DESIGN.md §10.3 bootstrapping) just works, and so do
``.to(device)``, ``state_dict()`` and optimizers.
"""

from __future__ import annotations

import torch
from torch import nn

from ..lang.program import Program, Sizes
from .params import ProgramParams, encode
from .run import RunOutput, run
from .state import State, initial_state

__all__ = ["DifferentiableComputer", "resolve_alu"]


def resolve_alu(alu, n: int, dtype: torch.dtype, device=None, ops=None) -> nn.Module:
    """An ALU module: ``alu`` itself, or ``make_alu(alu, n, ..., ops=ops)`` when it is a name
    (``ops``: compute only these table ops, for a program that is not trained)."""
    if isinstance(alu, str):
        from .alu import make_alu

        return make_alu(alu, n, dtype=dtype, device=device, ops=ops)
    return alu


class DifferentiableComputer(nn.Module):
    """Program parameters (:class:`ProgramParams`) run by an ALU.

    ``forward(state, steps)`` runs the machine and returns a :class:`RunOutput`; its
    ``.readout(kind)`` is the final or the halting-weighted state.
    """

    def __init__(self, program: ProgramParams, alu: nn.Module | str = "sparse", *,
                 faithful_writes: bool = False):
        super().__init__()
        self.program = program
        dtype = program.instr.dtype
        self.alu = resolve_alu(alu, program.sizes.n, dtype, program.instr.device)
        self.faithful_writes = faithful_writes

    @classmethod
    def from_program(
        cls,
        program: Program,
        alu: nn.Module | str = "sparse",
        *,
        W: int | None = None,
        logits: bool = False,
        sharpness: float = 20.0,
        trainable: bool = False,
        dtype: torch.dtype = torch.float32,
        device=None,
        faithful_writes: bool = False,
    ) -> DifferentiableComputer:
        """Compile ``program`` (:func:`encode`) into a computer."""
        params = encode(program, W=W, logits=logits, sharpness=sharpness, dtype=dtype,
                        device=device, trainable=trainable)
        if isinstance(alu, str) and not (logits or trainable):
            # a fixed one-hot program: the ALU computes only the ops it uses
            from .alu import program_ops

            alu = resolve_alu(alu, program.sizes.n, dtype, params.instr.device,
                              ops=program_ops(program))
        return cls(params, alu, faithful_writes=faithful_writes)

    @property
    def sizes(self) -> Sizes:
        return self.program.sizes

    @property
    def L(self) -> int:
        return self.program.L

    def initial_state(self, batch: int = 1, registers=None, memory=None,
                      entry: int | torch.Tensor | None = None) -> State:
        """:func:`neuralc.machine.state.initial_state` with this computer's sizes, dtype, device;
        ``entry`` defaults to the program's entry line."""
        p = self.program.instr
        return initial_state(self.sizes, self.L, batch, registers, memory,
                             self.program.entry if entry is None else entry,
                             dtype=p.dtype, device=p.device)

    def forward(
        self,
        state: State,
        steps: int,
        readout: str = "final",
        *,
        until_halted: bool = False,
        threshold: float = 0.5,
        trace: bool = False,
        fast: bool = False,
    ) -> RunOutput:
        """Run ``steps`` steps (see :func:`neuralc.machine.run.run`). ``readout="mixture"``
        also accumulates the halting-weighted state (``out.readout("mixture")``)."""
        if readout not in ("final", "mixture"):
            raise ValueError(f"unknown readout {readout!r} (final or mixture)")
        return run(self.program, state, self.alu, steps, until_halted=until_halted,
                   threshold=threshold, mixture=readout == "mixture", trace=trace, fast=fast,
                   faithful_writes=self.faithful_writes)
