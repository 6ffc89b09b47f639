"""The differentiable computer (docs/DESIGN.md §2–§6): program parameters, state, one step, runs.

The road through this package: :func:`encode` a checked program into :class:`ProgramParams`
(per-line distributions), build an :func:`initial_state`, :func:`run` it with an ALU
(``neuralc.machine.alu``), read the result back, or :func:`decompile` parameters back into a
program. :class:`DifferentiableComputer` bundles parameters and ALU as one ``nn.Module``;
:func:`run_machine` is the sharp run behind ``neuralc run --backend machine``.

Shape letters: see :mod:`neuralc.machine.step` (B batch, L lines, W slots, K registers,
M memory cells, N values, A instructions, A_t table ops).
"""

from .computer import DifferentiableComputer
from .decompile import decompile, decompile_text, entropies
from .freeze import FrozenMask, freeze, freeze_module, line_mask
from .params import FIELDS, ProgramParams, ProgramProbs, encode
from .run import RunOutput, run
from .sharp import MachineRunResult, run_machine
from .state import State, initial_state
from .step import ProgramTensors, prepare, step

__all__ = [
    "FIELDS",
    "DifferentiableComputer",
    "FrozenMask",
    "MachineRunResult",
    "ProgramParams",
    "ProgramProbs",
    "ProgramTensors",
    "RunOutput",
    "State",
    "decompile",
    "decompile_text",
    "encode",
    "entropies",
    "freeze",
    "freeze_module",
    "initial_state",
    "line_mask",
    "prepare",
    "run",
    "run_machine",
    "step",
]
