"""The minimal network of the preliminary studies (docs/DESIGN.md §10.1, §11.5).

One linear layer before the computer, one after: ``before`` maps the concatenated one-hot inputs
(B, S·N) to one value distribution per input register of the library (B, I, N); the computer runs
the (frozen) compiled program; ``after`` maps the log of the output distribution, ``log(y + eps)``, to answer
logits (B, N); it starts as the identity on the (first) output, so that before training the
network's answer is the computer's answer (the layer still learns). The network must learn the routing — which input goes into which register — through the
computer (docs/DESIGN.md §10.1, "the parsing/selection problem", isolated).

``mode`` says how the routed distributions enter the machine:

=========  ==================================================================================
soft       ``softmax(z)`` — the paper's setting (superposition through every step)
anneal     ``softmax(z / T)``, T lowered from ``t_start`` to ``t_end`` over training
ste        straight-through: ``onehot(argmax)`` forward, the soft gradient backward
topk       exact execution over the top-k input hypotheses (:meth:`LibraryComputer.topk`)
tabulated  exact execution over *every* input hypothesis (top-k with k = N): the program is run
           sharply once on all N^I input combinations (:meth:`LibraryComputer.tabulate`) and
           training goes through that table (gradient path of length one) — the machine itself
           is not in the training graph, only its tabulated results
=========  ==================================================================================

Every mode is checked the same way, on the real machine: :meth:`MinimalNet.machine_answers` runs
the sharp machine on the argmax routing, ``r_i = argmax_v before(x)_{i,v}`` (B, I), and reads
its outputs (B, O) — no ``after``, no table. A depth curriculum (:mod:`neuralc.learn.curriculum`)
trains the ``soft`` network through machines of growing depth by swapping :attr:`computer`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .blocks import LibraryComputer, straight_through, tempered

__all__ = ["MODES", "MinimalNet"]

MODES = ("soft", "anneal", "ste", "topk", "tabulated")


class MinimalNet(nn.Module):
    """``after ∘ computer ∘ before`` (module docstring)."""

    def __init__(self, computer: LibraryComputer, in_slots: int, in_registers: tuple[int, ...],
                 *, mode: str = "soft", k: int = 4, t_start: float = 1.0, t_end: float = 0.05,
                 eps: float = 1e-4):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r} (choose from {', '.join(MODES)})")
        self.computer = computer
        N = computer.n
        self.N = N
        self.in_registers = tuple(in_registers)
        self.before = nn.Linear(in_slots * N, len(self.in_registers) * N)
        self.after = nn.Linear(len(computer.outputs) * N, N)
        with torch.no_grad():
            self.after.weight.zero_()
            self.after.weight[:, :N] = torch.eye(N)
            self.after.bias.zero_()
        self.eps = eps
        if mode in ("topk", "tabulated"):
            computer.tabulate(self.in_registers)
        self.mode = mode
        self.k = k
        self.t_start, self.t_end = t_start, t_end
        self.temperature = t_start if mode == "anneal" else 1.0

    def set_progress(self, fraction: float) -> None:
        """Annealing schedule: T = t_start·(t_end/t_start)^fraction (geometric)."""
        if self.mode == "anneal":
            f = min(max(fraction, 0.0), 1.0)
            self.temperature = self.t_start * math.exp(f * math.log(self.t_end / self.t_start))

    def route(self, x: torch.Tensor) -> torch.Tensor:
        """Routing logits (B, I, N) from one-hot inputs ``x`` (B, S, N)."""
        return self.before(x.reshape(x.shape[0], -1)).reshape(x.shape[0], -1, self.N)

    def argmax_routing(self, x: torch.Tensor) -> torch.Tensor:
        """The value each input register gets under the argmax routing (B, I) long."""
        return self.route(x).argmax(-1)

    @torch.no_grad()
    def machine_answers(self, x: torch.Tensor) -> torch.Tensor:
        """The sharp machine run on the argmax routing: its output values (B, O) long."""
        idx = self.argmax_routing(x)
        return self.computer.run_sharp({r: idx[:, i] for i, r in enumerate(self.in_registers)})

    def machine_output(self, x: torch.Tensor, mode: str | None = None) -> torch.Tensor:
        """The computer's output distributions (B, O, N)."""
        mode = mode or self.mode
        z = self.route(x)
        if mode in ("topk", "tabulated"):
            p = torch.softmax(z, -1)
            k = self.N if mode == "tabulated" else self.k
            return self.computer.topk(self._regs(p), k).values
        if mode == "sharp":  # evaluation only: argmax routing, exact run
            return torch.nn.functional.one_hot(self.machine_answers(x), self.N).to(z.dtype)
        if mode == "anneal":
            p = tempered(z, self.temperature)
        elif mode == "ste":
            p = straight_through(torch.softmax(z, -1))
        else:
            p = torch.softmax(z, -1)
        return self.computer(self._regs(p), fast=True).values

    def _regs(self, p: torch.Tensor) -> dict[int, torch.Tensor]:
        return {r: p[:, i] for i, r in enumerate(self.in_registers)}

    def forward(self, x: torch.Tensor, mode: str | None = None) -> torch.Tensor:
        """Answer logits (B, N)."""
        y = self.machine_output(x, mode)
        return self.after(torch.log(y + self.eps).reshape(x.shape[0], -1))
