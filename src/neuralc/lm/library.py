"""The library a language model calls: small compiled programs linked into one image.

Every program of an image shares one register layout, so the model's parsed inputs always land in
the same registers and the answer is always read from the same registers, whichever program the
selection head picks (selection is a superposition over entry points, PAPER §4.3 [rec]):

=============  ==========================  =============  ====================================
program        inputs                      output         lines (``[...]`` = one parallel line)
=============  ==========================  =============  ====================================
calculator op  r0 = a, r1 = b              r1             ``[op r0 r1 r1, halt]`` (1 step)
fibonacci      r0 = a, r1 = b, r2 = d ≥ 1  r1             ``[add r0 r1 r1, copy r1 r0,
                                                          dec r2 r2, ne r2 r3 r4]``,
                                                          ``[jump r4 → 0]``, ``[halt]``
                                                          (2·d + 1 steps; r3 = 1 constant)
sort           r0..r7                      r0..r7         Batcher's odd–even merge network:
                                                          19 comparators in 6 parallel lines
                                                          ``[min ri rj ri, max ri rj rj, ...]``
=============  ==========================  =============  ====================================

Unary calculator ops (inc, dec, not) read only r0. A sorting network is the parallel library
program of PAPER §5: its gradient path is 6 steps long, where an insertion sort's is O(N²).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..isa import BY_NAME, TABLE_OPS
from ..lang.program import Op, Program, Sizes, Target

__all__ = ["CONSTANTS", "SORT_NETWORK", "Library", "build_library", "program"]

# Batcher's odd-even merge sort for 8 inputs: 6 layers, 19 comparators (i < j: ri ← min, rj ← max)
SORT_NETWORK: tuple[tuple[tuple[int, int], ...], ...] = (
    ((0, 1), (2, 3), (4, 5), (6, 7)),
    ((0, 2), (1, 3), (4, 6), (5, 7)),
    ((1, 2), (5, 6)),
    ((0, 4), (1, 5), (2, 6), (3, 7)),
    ((2, 4), (3, 5)),
    ((1, 2), (3, 4), (5, 6)),
)

CONSTANTS: dict[int, int] = {3: 1}  # register → value held before the first step (fibonacci's 1)


def program(name: str) -> tuple[list[list[Op]], int]:
    """The lines of one library program (targets relative to its first line; ``"halt"`` is
    resolved at link time) and its step count per unit of work."""
    if name in TABLE_OPS:
        ins = BY_NAME[name]
        op = Op(name, (0, 1)) if ins.arity == 1 else Op(name, (0, 1, 1))
        return [[op, Op("halt")]], 1
    if name == "fibonacci":
        return [
            [Op("add", (0, 1, 1)), Op("copy", (1, 0)), Op("dec", (2, 2)), Op("ne", (2, 3, 4))],
            [Op("jump", (4, Target(line=0)))],
            [Op("halt")],
        ], 2
    if name == "sort":
        lines = []
        for layer in SORT_NETWORK:
            line = []
            for i, j in layer:
                line += [Op("min", (i, j, i)), Op("max", (i, j, j))]
            lines.append(line)
        lines[-1].append(Op("halt"))
        return lines, len(SORT_NETWORK)
    raise KeyError(f"no library program {name!r}")


@dataclass
class Library:
    """A linked image. ``entries[i]`` is the entry line of ``names[i]``."""

    image: Program
    names: tuple[str, ...]
    entries: tuple[int, ...]
    input_registers: tuple[int, ...]
    output_registers: tuple[int, ...]
    steps: int
    constants: dict[int, int]
    program_steps: tuple[int, ...] = ()  # step budget of each program alone (``steps`` = max)


def _relocate(op: Op, offset: int) -> Op:
    """Shift a line target by ``offset`` (register targets stay)."""
    ins = op.instruction
    args = tuple(
        Target(line=a.line + offset) if k == "T" and not a.indirect else a
        for k, a in zip(ins.operands, op.args)
    )
    return Op(op.name, args)


def build_library(names: tuple[str, ...] | list[str], n: int = 128, inputs: int = 2,
                  outputs: int = 1, max_depth: int = 0) -> Library:
    """Link the named programs into one image (each program's ``halt`` = the image's halt).

    ``inputs``/``outputs``: how many parsed values go in (r0, r1, ...) and how many are read
    (r1 for one output — the calculators' and fibonacci's result — else r0..r{outputs-1}).
    """
    lines: list[tuple[Op, ...]] = []
    entries = []
    budgets = []
    labels = {}
    for name in names:
        body, unit = program(name)
        entries.append(len(lines))
        labels[name] = len(lines)
        lines += [tuple(_relocate(op, entries[-1]) for op in line)
                  for line in body]
        budgets.append(unit * max(max_depth, 1) + 1 if name == "fibonacci" else unit)
    K = max(5 if "fibonacci" in names else 2, inputs, outputs)
    width = max(len(line) for line in lines)
    image = Program(lines=lines, sizes=Sizes(n=n, registers=K, memory=1, width=width),
                    entry=entries[0], labels=labels)
    out_regs = (1,) if outputs == 1 else tuple(range(outputs))
    return Library(image, tuple(names), tuple(entries), tuple(range(inputs)), out_regs,
                   max(budgets), dict(CONSTANTS) if "fibonacci" in names else {}, tuple(budgets))
