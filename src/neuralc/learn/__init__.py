"""Learning through the computer (docs/DESIGN.md §10).

* :mod:`.blocks` — :class:`LibraryComputer` (a compiled library as an ``nn.Module``: input
  distributions in, output distributions out), :func:`swap_alu` (bootstrapping), input
  sharpening (:func:`straight_through`, :func:`tempered`, top-k exact execution).
* :mod:`.losses` — cross-entropy on output values, Bunel's halting-weighted loss with the time
  penalty.
* :mod:`.curriculum` — :class:`DepthCurriculum`, a mixed depth curriculum that trains one routing
  through machines of growing depth (docs/DESIGN.md §10.2).
* :mod:`.memorize` — neural compilation by memorization (docs/DESIGN.md §10.4): :class:`ProgramEmitter`.
* :mod:`.experiments` — the ``neuralc experiment`` studies (routing, fib-depth, memorize,
  contextual, adapt).

Freezing uses the machine's gradient masks (:func:`neuralc.machine.freeze`).
"""

from .blocks import ComputerOutput, LibraryComputer, onehot, straight_through, swap_alu, tempered
from .losses import ANCTerms, accuracy, expected_loss_run, halting_penalty, time_penalty, value_nll

__all__ = [
    "ANCTerms",
    "ComputerOutput",
    "LibraryComputer",
    "accuracy",
    "expected_loss_run",
    "halting_penalty",
    "onehot",
    "straight_through",
    "swap_alu",
    "tempered",
    "time_penalty",
    "value_nll",
]
