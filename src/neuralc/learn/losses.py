"""Losses for training through the machine (docs/DESIGN.md §5.2, §9.5, §10.6).

* :func:`value_nll` — cross-entropy of output *distributions* against target values:
  ``−log p[y]`` with ``p`` clipped at ``eps`` (the machine returns probabilities, not logits).
* :func:`expected_loss_run` — Bunel's halting-weighted loss Σ_t (h_t − h_{t−1}) ℓ(S_t) +
  (1 − h_T) ℓ(S_T) (the β term of algCrit.lua), with the time penalty γ Σ_t (1 − h_t) and the
  not-halted penalty δ (1 − h_T)·[h_T < 0.9] (docs/DESIGN.md §10.6)::

      ℒ = α ℓ(S_T) + β Σ_t (h_t − h_{t−1}) ℓ(S_t) + γ Σ_t (1 − h_t) + δ (1 − h_T)[h_T < τ]

  with ℓ the cross-entropy of the output values (Bunel used a squared error on memory).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

from ..machine import State, prepare, step

__all__ = [
    "ANCTerms",
    "accuracy",
    "expected_loss_run",
    "halting_penalty",
    "time_penalty",
    "value_nll",
]


def value_nll(probs: torch.Tensor, target: torch.Tensor, eps: float = 1e-6,
              reduce: bool = True) -> torch.Tensor:
    """Cross-entropy −log p[y] of distributions ``probs`` (..., N) at targets ``target`` (...)."""
    p = probs.gather(-1, target.long().unsqueeze(-1)).squeeze(-1)
    loss = -torch.log(p.clamp_min(eps))
    return loss.mean() if reduce else loss


def accuracy(probs_or_logits: torch.Tensor, target: torch.Tensor) -> float:
    """Exact-match accuracy of the argmax (every output slot of an example must match)."""
    hit = probs_or_logits.argmax(-1) == target
    if hit.dim() > 1:
        hit = hit.all(dim=tuple(range(1, hit.dim())))
    return float(hit.float().mean())


def time_penalty(expected_steps: torch.Tensor) -> torch.Tensor:
    """γ-term: the expected number of steps Σ_t (1 − h_t), averaged over the batch."""
    return expected_steps.mean()


def halting_penalty(halted: torch.Tensor, threshold: float = 0.9) -> torch.Tensor:
    """δ-term: (1 − h_T)·[h_T < τ], averaged over the batch."""
    return ((1 - halted) * (halted < threshold).to(halted.dtype)).mean()


class ANCTerms(NamedTuple):
    """The terms of :func:`expected_loss_run` (each a scalar) and the final state."""

    total: torch.Tensor
    final: torch.Tensor
    expected: torch.Tensor
    steps: torch.Tensor
    not_halted: torch.Tensor
    state: State


def expected_loss_run(program, state: State, alu, steps: int,
                      loss_fn: Callable[[State], torch.Tensor], *, alpha: float = 0.0,
                      beta: float = 1.0, gamma: float = 0.0, delta: float = 0.0,
                      threshold: float = 0.9) -> ANCTerms:
    """Run ``steps`` steps and return Bunel's loss (module docstring).

    ``loss_fn(state) -> (B,)``: the per-example loss ℓ of a state. ``program``: ProgramParams or
    prepared tensors (:func:`neuralc.machine.prepare`)."""
    prog = prepare(program) if not hasattr(program, "table") else program
    h_prev = torch.zeros_like(state.counter[:, 0])
    expected = torch.zeros_like(h_prev)
    n_steps = torch.zeros_like(h_prev)
    loss_t = loss_fn(state)
    for t in range(steps + 1):
        h = state.halted
        expected = expected + (h - h_prev) * loss_t
        h_prev = h
        if t == steps:
            break
        n_steps = n_steps + (1 - h)
        state = step(prog, state, alu)
        loss_t = loss_fn(state)
    final = loss_t
    expected = expected + (1 - h_prev) * final
    not_halted = (1 - h_prev) * (h_prev < threshold).to(h_prev.dtype)
    terms = [alpha * final.mean(), beta * expected.mean(), gamma * n_steps.mean(),
             delta * not_halted.mean()]
    return ANCTerms(sum(terms), final.mean(), expected.mean(), n_steps.mean(),
                    not_halted.mean(), state)
