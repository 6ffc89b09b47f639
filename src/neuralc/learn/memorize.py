"""Neural compilation by memorization and the program controller δ(θ, z) (docs/DESIGN.md §10.4).

:class:`ProgramEmitter` is a small network ``z ↦ ϱ``: from an input vector z it emits the logits of
every field of a program (instruction, registers, immediate, target; :data:`FIELDS`) for
``L`` lines of ``W`` slots. :meth:`ProgramEmitter.program` turns its output for one z into
:class:`ProgramParams` (``logits=True``) that the machine runs and the decompiler reads, for a
program of any length ``L_p ≤ L``: the first ``L_p`` lines, and of the target field the line
columns ``0..L_p`` (``L_p`` = halt) and the register columns.

Memorization: :func:`targets` gives the field indices of a compiled program (mapped into the
emitter's columns), :func:`memorize` fits the emitter by cross-entropy on them
(θ̃ = argmin_θ ℒ(δ(θ, e(x)), ϱ*)); then :func:`neuralc.machine.decompile` of what it emits should
give back the program.
"""

from __future__ import annotations

import torch
from torch import nn

from ..lang.program import Program, Sizes
from ..machine import FIELDS, ProgramParams, ProgramProbs, encode
from ..machine.params import field_sizes

__all__ = ["ProgramEmitter", "memorize", "targets"]


class ProgramEmitter(nn.Module):
    """δ(θ, z): ``z`` (B, Z) → per-field logits (B, L, W, size) (module docstring)."""

    def __init__(self, z_dim: int, L: int, W: int, sizes: Sizes, hidden: int = 64):
        super().__init__()
        self.L, self.W, self.sizes = L, W, sizes
        self.field_sizes = field_sizes(sizes, L)
        self.body = nn.Sequential(nn.Linear(z_dim, hidden), nn.Tanh())
        self.heads = nn.ModuleDict({f: nn.Linear(hidden, L * W * self.field_sizes[f])
                                    for f in FIELDS})

    def forward(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.body(z)
        return {f: head(h).reshape(z.shape[0], self.L, self.W, self.field_sizes[f])
                for f, head in self.heads.items()}

    def target_columns(self, L_p: int) -> torch.Tensor:
        """The target-field columns of a program of ``L_p`` lines: lines 0..L_p, registers."""
        K = self.sizes.registers
        return torch.cat([torch.arange(L_p + 1), torch.arange(self.L + 1, self.L + 1 + K)])

    def program(self, out: dict[str, torch.Tensor], index: int, L_p: int | None = None, *,
                entry: int = 0, line_widths: list[int] | None = None,
                labels: dict[str, int] | None = None) -> ProgramParams:
        """The program emitted for example ``index`` of ``out`` (= ``self(z)``), as logits;
        ``L_p`` lines (default L). :class:`ProgramParams` holds its own (detached) parameters:
        to train *through* the emitted program use :meth:`probs`."""
        fields = self._fields(out, index, L_p)
        return ProgramParams({f: t.detach() for f, t in fields.items()}, self.sizes,
                             logits=True, entry=entry, labels=labels, line_widths=line_widths)

    def probs(self, out: dict[str, torch.Tensor], index: int,
              L_p: int | None = None) -> ProgramProbs:
        """The emitted program as probabilities, keeping the autograd graph (for
        :func:`neuralc.machine.prepare` / :func:`neuralc.machine.run`)."""
        fields = self._fields(out, index, L_p)
        return ProgramProbs(*(torch.softmax(fields[f], -1) for f in FIELDS))

    def _fields(self, out, index, L_p):
        L_p = self.L if L_p is None else L_p
        fields = {f: t[index, :L_p] for f, t in out.items()}
        cols = self.target_columns(L_p).to(fields["target"].device)
        fields["target"] = fields["target"].index_select(-1, cols)
        return fields


def targets(program: Program, L: int, W: int) -> dict[str, torch.Tensor]:
    """Per field, the index (L_p, W) of the compiled program's choice, in the emitter's columns
    (a target register r moves from column L_p+1+r to L+1+r)."""
    params = encode(program, W=W)
    idx = {f: t.argmax(-1) for f, t in zip(FIELDS, params.probs())}
    L_p = program.L
    t = idx["target"]
    idx["target"] = torch.where(t > L_p, t - L_p + L, t)
    return idx


def memorize(emitter: ProgramEmitter, z: torch.Tensor, programs: list[Program], *,
             steps: int = 300, lr: float = 1e-2, on_step=None) -> list[float]:
    """Fit ``emitter`` so that ``emitter(z[i])`` is ``programs[i]`` (cross-entropy on every field
    of every line and slot); returns the loss per step."""
    goal = [targets(p, emitter.L, emitter.W) for p in programs]
    opt = torch.optim.Adam(emitter.parameters(), lr=lr)
    losses = []
    for s in range(steps):
        out = emitter(z)
        loss = 0.0
        for i, (p, g) in enumerate(zip(programs, goal)):
            for f in FIELDS:
                logits = out[f][i, :p.L]
                loss = loss + nn.functional.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]), g[f].reshape(-1))
        loss = loss / len(programs)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(s, losses[-1])
    return losses
