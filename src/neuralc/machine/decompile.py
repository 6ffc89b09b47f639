"""Decompiling program parameters back into assembly (docs/DESIGN.md §7.5).

Per line and slot, the argmax of every field the chosen instruction uses, annotated with its
probability, and the entropy of those distributions (how far the parameters are from a sharp
program). ``decompile(encode(p)) == p`` for every program.
"""

from __future__ import annotations

import torch

from ..isa import INSTRUCTIONS
from ..lang.printer import format_program
from ..lang.program import Op, Program, Target
from .params import FIELDS, ProgramParams

__all__ = ["decompile", "decompile_text", "entropies"]


def entropies(params: ProgramParams) -> dict[str, torch.Tensor]:
    """Per field, the entropy (nats) of each line's and slot's distribution, (L, W)."""
    out = {}
    with torch.no_grad():
        for name, p in zip(FIELDS, params.probs()):
            logp = torch.log(p.clamp_min(torch.finfo(p.dtype).tiny))
            out[name] = -(p * logp).sum(-1)
    return out


def decompile(params: ProgramParams) -> tuple[Program, dict[tuple[int, int], str]]:
    """The most likely program and, per ``(line, slot)``, an annotation such as
    ``p=1.000 (add 1.000, r1 1.000, r2 1.000, r3 1.000) H=0.000``: the product of the used
    fields' probabilities, each field's probability, and the sum of their entropies (nats)."""
    probs = {name: t.detach().to("cpu", torch.float64) for name, t in
             zip(FIELDS, params.probs())}
    ent = {name: t.to("cpu", torch.float64) for name, t in entropies(params).items()}
    top = {name: t.max(-1) for name, t in probs.items()}
    L, W = params.L, params.W
    idx = {name: top[name].indices.tolist() for name in FIELDS}
    val = {name: top[name].values.tolist() for name in FIELDS}
    lines: list[tuple[Op, ...]] = []
    notes: dict[tuple[int, int], str] = {}
    for i in range(L):
        slots = []
        for s in range(W):
            ins = INSTRUCTIONS[idx["instr"][i][s]]
            args, parts = [], [(ins.name, "instr")]
            reads = 0
            for kind in ins.operands:
                if kind == "R":
                    field = "reg_a" if reads == 0 else "reg_b"
                    reads += 1
                    args.append(idx[field][i][s])
                    parts.append((f"r{args[-1]}", field))
                elif kind == "D":
                    args.append(idx["reg_d"][i][s])
                    parts.append((f"r{args[-1]}", "reg_d"))
                elif kind == "I":
                    args.append(idx["imm"][i][s])
                    parts.append((str(args[-1]), "imm"))
                else:
                    t = idx["target"][i][s]
                    args.append(Target(line=t) if t <= L else Target(register=t - L - 1))
                    parts.append((f"r{t - L - 1}" if t > L else str(t), "target"))
            slots.append(Op(ins.name, tuple(args)))
            p = 1.0
            for _, field in parts:
                p *= val[field][i][s]
            h = sum(float(ent[field][i, s]) for _, field in parts)
            fields = ", ".join(f"{text} {val[field][i][s]:.3f}" for text, field in parts)
            notes[(i, s)] = f"p={p:.3f} ({fields}) H={h:.3f}"
        width = _width(slots, params.line_widths[i] if _has_widths(params) else 1)
        lines.append(tuple(slots[:width]))
    labels = {k: v for k, v in params.labels.items() if 0 <= v <= L}
    program = Program(lines, params.sizes, entry=params.entry, labels=labels)
    notes = {key: note for key, note in notes.items() if key[1] < len(lines[key[0]])}
    return program, notes


def _has_widths(params: ProgramParams) -> bool:
    return params.line_widths is not None and len(params.line_widths) == params.L


def _width(slots: list[Op], encoded: int) -> int:
    """Slots to keep: the encoded line's width, or more if a later slot holds a non-nop."""
    used = max((s + 1 for s, op in enumerate(slots) if op.name != "nop"), default=1)
    return max(used, min(encoded, len(slots)), 1)


def decompile_text(params: ProgramParams) -> str:
    """The decompiled program as assembly text, every slot annotated (:func:`decompile`)."""
    program, notes = decompile(params)
    return format_program(program, annotations=notes)
