"""The parallelizing compiler: a width-1 program → a width-k program, same results, fewer steps.

Same results means the same final registers (all of them), memory, halting and output on every
input, and never more steps. Two stages:

**Across blocks** (programs without line numbers as values, :func:`~.flow.supported`), on a
graph of nodes (:mod:`.flow`), each step keeping the width-1 meaning:

1. :mod:`.restructure`: jump threading into ``goto`` (the goto becomes a copy of the path it
   jumps to: loop rotation for loops entered at their test), tail duplication of join points,
   unrolling of single-entry loops (every copy keeps its exit test; a conditional back edge
   becomes a *follow* jump into the next copy with a copied exit path behind it);
2. :mod:`.invariants` and :mod:`.facts`: jumps that can never be taken become ``nop``s — order
   relations that hold on every way into a line (``i < k <= len`` in a loop nest) and, along
   chains of blocks, value numbering with what each passed jump tells (a bounds check implied
   by the loop test, the division check after ``b != 0``);
3. dead results dropped (:meth:`.flow.Flow.drop_dead`);
4. :mod:`.trace`: blocks chained into traces (falling through, follow jumps, jumps over a
   private then-block), copy propagation along each, and list scheduling of the whole trace with
   speculation above side exits into registers dead where the exit goes (halting makes every
   register live); a loop exit's condition register is restored by a ``zero`` in its private
   stub when that costs no line.

Copying makes programs longer: the plans try fewer loop copies, then none, until the result
fits in ``n`` lines.

**Block by block** (``across=False``, and programs with ``call``, ``ret``, ``store`` or
register-indirect targets): basic blocks start at the entry, at every labelled line, at every
direct target and after every control instruction; each is list-scheduled alone
(:func:`.trace.schedule_trace` with no side exits: dependences over registers and memory, a RAW
dependence on a later line, WAR/WAW on the same line or later, the longest RAW chain first, the
control instruction last); targets, labels, the entry and comments are relocated. A ``call``'s
return address is the line after its own, which still starts the next block, so calls, returns
and register-indirect jumps to return addresses stay correct; a program that uses ``store`` (its
own line number as a value) cannot be relocated and is returned unchanged (a width-1 program is
a valid width-k program).
"""

from __future__ import annotations

from ..lang.program import Op, Program, Target
from .facts import fold_jumps
from .flow import Flow, supported
from .invariants import fold_invariant_jumps
from .restructure import duplicate_tails, thread_gotos, unroll_loops
from .trace import schedule_trace, trace_program

__all__ = ["basic_blocks", "schedule"]


def basic_blocks(program: Program) -> list[tuple[int, int]]:
    """``[start, end)`` line ranges of the basic blocks of a width-1 program."""
    L = program.L
    leaders = {0, program.entry, *program.labels.values()}
    for i, line in enumerate(program.lines):
        for op in line:
            t = op.operand("T")
            if t is not None and not t.indirect:
                leaders.add(t.line)
            if op.instruction.is_control:
                leaders.add(i + 1)
    starts = sorted(x for x in leaders if 0 <= x < L)
    return [(s, e) for s, e in zip(starts, starts[1:] + [L])]


def schedule(program: Program, width: int, across: bool = True) -> Program:
    """The program packed into lines of up to ``width`` slots, with the same results.

    ``program`` must be width 1. Programs that use ``store`` come back unchanged.
    ``across=False``: each basic block packed on its own, nothing copied (for comparison).
    """
    if width < 1:
        raise ValueError(f"width must be at least 1 (got {width})")
    if program.width > 1:
        raise ValueError("schedule() takes a width-1 program")
    sizes = program.sizes
    if width == 1 or any(op.name == "store" for _, _, op in program.ops()):
        return program
    if across and supported(program):
        # (copies of a loop, the longest copied path, the most instructions a loop's copies
        # may have): the first plan whose program fits in n lines wins
        plans = [(c, 24, 96) for c in sorted({min(width, 8), min(width, 4), 2}, reverse=True)]
        for copies, limit, budget in plans + [(2, 12, 48), (1, 8, 0), (1, 0, 0)]:
            flow = Flow.of(program)
            if limit:
                thread_gotos(flow, limit)
                duplicate_tails(flow, limit)
            unroll_loops(flow, copies, budget, limit)
            fold_invariant_jumps(flow)
            fold_jumps(flow, sizes.n)
            flow.drop_dead()
            out = trace_program(flow, program, width)
            if out.L <= sizes.n:
                return out
    return _schedule_blocks(program, width)


def _schedule_blocks(program: Program, width: int) -> Program:
    """Each basic block packed on its own (programs with line numbers as values)."""
    sizes = program.sizes
    n, m, L = sizes.n, sizes.m, program.L
    ops = [line[0] for line in program.lines]
    new_start: dict[int, int] = {}
    where: dict[int, int] = {}  # old line → new line
    packed: list[list[int]] = []
    for start, end in basic_blocks(program):
        new_start[start] = len(packed)
        for slots in schedule_trace(ops[start:end], {}, width, n, m):
            for j in slots:
                where[start + j] = len(packed)
            packed.append([start + j for j in slots])
    new_L = len(packed)

    def move(line: int) -> int:
        return new_L if line >= L else new_start[line]

    lines = []
    for slots in packed:
        new_ops = []
        for i in slots:
            op = ops[i]
            if "T" in op.instruction.operands:
                args = tuple(Target(line=move(a.line)) if isinstance(a, Target) and not a.indirect
                             else a for a in op.args)
                op = Op(op.name, args)
            new_ops.append(op)
        lines.append(tuple(new_ops))
    comments: dict[int, str] = {}
    for old, text in sorted(program.comments.items()):
        if old in where:
            new = where[old]
            comments[new] = f"{comments[new]}\n{text}" if new in comments else text
    return Program(
        lines,
        sizes.override(width=max(width, sizes.width)),
        move(program.entry),
        {name: move(line) for name, line in program.labels.items()},
        comments,
        program.entry_label,
    )
