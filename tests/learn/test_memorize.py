"""Neural compilation by memorization: what the emitter emits decompiles to the target."""

from __future__ import annotations

import torch

from neuralc import library
from neuralc.lang.program import Program, Sizes
from neuralc.learn.memorize import ProgramEmitter, memorize, targets
from neuralc.machine import decompile, encode


def _programs():
    sizes = Sizes(n=16, registers=8, memory=16)
    out = []
    for p in (library.get("fib").program(sizes), library.get("mod_add").program(sizes)):
        out.append(Program(p.lines, sizes, entry=p.entry, labels=p.labels))
    return out, sizes


def test_targets_round_trip_through_the_emitter_columns():
    progs, sizes = _programs()
    L = max(p.L for p in progs)
    em = ProgramEmitter(2, L, 1, sizes, hidden=8)
    for i, p in enumerate(progs):
        goal = targets(p, L, 1)
        # logits that are exactly the targets decompile to the program
        out = {f: torch.nn.functional.one_hot(g, em.field_sizes[f]).float()[None] * 20
               for f, g in goal.items()}
        out = {f: torch.cat([t, torch.zeros(1, L - p.L, *t.shape[2:])], 1) for f, t in out.items()}
        params = em.program(out, 0, p.L, entry=p.entry, line_widths=[1] * p.L)
        assert decompile(params)[0] == p


def test_memorized_programs_decompile_to_their_targets():
    torch.manual_seed(0)
    progs, sizes = _programs()
    L = max(p.L for p in progs)
    em = ProgramEmitter(len(progs), L, 1, sizes, hidden=16)
    z = torch.eye(len(progs))
    losses = memorize(em, z, progs, steps=120, lr=3e-2)
    assert losses[-1] < 0.1 * losses[0]
    with torch.no_grad():
        out = em(z)
    for i, p in enumerate(progs):
        params = em.program(out, i, p.L, entry=p.entry, line_widths=[1] * p.L)
        assert decompile(params)[0] == p
        # and the emitted probabilities are close to the compiled program's
        sharp = encode(p)
        assert (params.probs().instr - sharp.probs().instr).abs().max() < 0.5


def test_probs_keep_the_graph():
    progs, sizes = _programs()
    em = ProgramEmitter(1, progs[0].L, 1, sizes, hidden=4)
    probs = em.probs(em(torch.ones(1, 1)), 0)
    probs.instr.sum().backward()
    assert em.body[0].weight.grad is not None
