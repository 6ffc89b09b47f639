"""A mixed depth curriculum (docs/DESIGN.md §10.2): one routing trained through machines of
growing depth, the soft machine in the training graph at every step.

A family of frozen machines ``M_d`` (one per depth d = 1..D, e.g. the Fibonacci loop run for d
iterations) share one network ``after ∘ M_d ∘ before``. Training runs ``epochs`` epochs; epoch
e has a depth *ceiling* c_e, and every batch draws its depth uniformly below it (the "mixed"
curriculum of Zaremba & Sutskever, *Learning to Execute*, arXiv 1410.4615: easy examples stay in
the mix, so the routing keeps serving every depth it has seen):

    c_e = min(start, D)            for the first ``stage_epochs`` epochs,
          then start + 1, …, D     ``stage_epochs`` epochs each,
          then D                   for ``final_epochs`` more;
    d ~ Uniform{1, …, c_e}         per batch (``mixed``; otherwise d = c_e, the plain
                                   curriculum, kept for comparison);
    ℒ = CE(after(log(M_d(softmax(before(x))) + ε)), y_d)     (y_d: the answer at depth d).

Why it works where training at depth D alone does not: at depth 1 or 2 the soft machine is
(nearly) exact and its gradient points at the routing; at depth D from a uniform routing every
register is a mixture of products of marginals and the output — and its gradient — is flat.
Mixing depths also pins the routing down: one depth alone admits shifted routings (at depth 1,
``(a + c, b − c)`` answers a + b as well as ``(a, b)``), the set of depths 1..3 admits only the
right one. ``start = 2``: depth 1's answer a + b is symmetric in the two registers, depth 2
breaks the tie from the first epoch.
"""

from __future__ import annotations

import torch

__all__ = ["DepthCurriculum"]


class DepthCurriculum:
    """The schedule of the module docstring for a target depth ``target`` (= D)."""

    def __init__(self, target: int, *, stage_epochs: int = 3, final_epochs: int = 6,
                 start: int = 2, mixed: bool = True, seed: int = 0):
        if target < 1 or stage_epochs < 1 or final_epochs < 0 or start < 1:
            raise ValueError("target, stage_epochs and start must be ≥ 1, final_epochs ≥ 0")
        first = min(start, target)
        self.target = int(target)
        self.mixed = bool(mixed)
        self.ceilings: list[int] = [c for c in range(first, target + 1)
                                    for _ in range(stage_epochs)] + [target] * final_epochs
        self._g = torch.Generator().manual_seed(seed)

    @property
    def epochs(self) -> int:
        return len(self.ceilings)

    @property
    def depths(self) -> range:
        """Every depth the schedule can draw: 1..D."""
        return range(1, self.target + 1)

    def depth(self, epoch: int) -> int:
        """One batch's depth, d ~ Uniform{1, …, c_epoch} (the ceiling when not ``mixed``)."""
        if not self.mixed:
            return self.ceilings[epoch]
        return 1 + int(torch.randint(self.ceilings[epoch], (1,), generator=self._g))
