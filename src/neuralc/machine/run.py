"""Running the machine for several steps, with adaptive halting (docs/DESIGN.md §5.1).

Shapes as in :mod:`neuralc.machine.step`.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .params import ProgramParams
from .state import State
from .step import ProgramTensors, prepare, step

__all__ = ["RunOutput", "run"]


class RunOutput(NamedTuple):
    """What :func:`run` returns.

    ``state``: the state after the last step. ``expected_steps`` (B,): Σ_t (1 − h_t) over the
    steps run, h_t the halting probability before step t (for a sharp run: the number of steps
    until halting, as the reference interpreter counts them). ``mixture``: the halting-weighted
    state Σ_t (h_t − h_{t−1}) S_t + (1 − h_T) S_T (t = 0..T, h_{−1} = 0; docs/DESIGN.md §5.2), or
    None. ``trace``: the counters (T+1, B, L+1) of S_0..S_T, or None. ``steps``: T, the number of
    steps run.
    """

    state: State
    expected_steps: torch.Tensor
    mixture: State | None
    trace: torch.Tensor | None
    steps: int

    def readout(self, kind: str = "final") -> State:
        """``"final"`` → the last state; ``"mixture"`` → the halting-weighted state."""
        if kind == "final":
            return self.state
        if kind == "mixture":
            if self.mixture is None:
                raise ValueError("run(..., mixture=True) is needed for the mixture readout")
            return self.mixture
        raise ValueError(f"unknown readout {kind!r} (final or mixture)")


def run(
    program: ProgramParams | ProgramTensors,
    state: State,
    alu,
    steps: int,
    *,
    until_halted: bool = False,
    threshold: float = 0.5,
    mixture: bool = False,
    trace: bool = False,
    fast: bool = False,
    faithful_writes: bool = False,
) -> RunOutput:
    """Run at most ``steps`` steps from ``state``.

    ``until_halted``: stop early once every batch element's halting probability is ≥
    ``threshold`` (checked every step; this reads a value back from the device). Steps after
    halting change nothing (the halted position is absorbing and halted mass executes nothing),
    so stopping early only saves time. ``fast``: the one-hot-counter fast path (sharp programs
    and states only; see :mod:`neuralc.machine.step`).
    """
    prog = program if isinstance(program, ProgramTensors) else prepare(program)
    h_prev = torch.zeros_like(state.counter[:, 0])
    expected = torch.zeros_like(h_prev)
    mix = None
    counters = [state.counter] if trace else None
    t = 0
    while True:
        h = state.halted
        if mixture:
            mix = _accumulate(mix, state, h - h_prev)
        h_prev = h
        if t >= steps or (until_halted and bool((h >= threshold).all())):
            break
        expected = expected + (1 - h)
        state = step(prog, state, alu, fast=fast, faithful_writes=faithful_writes)
        t += 1
        if trace:
            counters.append(state.counter)
    if mixture:
        mix = _accumulate(mix, state, 1 - h_prev)
    return RunOutput(state, expected, mix, torch.stack(counters) if trace else None, t)


def _accumulate(acc: State | None, state: State, weight: torch.Tensor) -> State:
    """acc + weight·state, with weight (B,) broadcast over each tensor."""
    terms = [w_t * x for w_t, x in zip(
        (weight[:, None, None], weight[:, None, None], weight[:, None]), state)]
    if acc is None:
        return State(*terms)
    return State(*(a + x for a, x in zip(acc, terms)))
