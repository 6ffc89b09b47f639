"""The parallelizing compiler (SPEC §4): a width-1 program → a width-k program, same results.

What this pass adds: every basic block's instructions packed into lines of up to ``k`` slots.

1. **Basic blocks** start at the entry, at every labelled line, at every direct target, and
   after every control instruction (``jump goto call ret halt``); a block's control instruction
   is its last.
2. **Dependences** inside a block, for an earlier op ``i`` and a later op ``j`` (registers, and
   memory with a conservative alias test: two accesses are independent only when their
   addresses are provably different — the same base register with different constant offsets,
   or different constants):

   =========================  =====================================================
   ``j`` reads what ``i``     ``j`` on a *later* line (slots read the state at the start
   writes (RAW)               of a step)
   ``j`` writes what ``i``    ``j`` on the same line or later (a later slot wins, and the
   reads or writes (WAR/WAW)  slots of a line keep program order)
   =========================  =====================================================

   The control instruction goes on the block's last line, in its last slot.
3. **List scheduling**: line by line, the ready op with the longest chain of RAW edges below
   it goes first, until the line is full.
4. **Relocation**: targets, labels, the entry and the comments move to the new line numbers.

Line numbers as values: a ``call``'s return address is the line after its own, which is still
the start of the next block, so calls, returns and register-indirect jumps to return addresses
stay correct. A program that uses ``store`` (its own line number as a value, e.g. for computed
returns) cannot be relocated safely and is returned unchanged (a width-1 program is a valid
width-k program). Register-indirect targets must hold return addresses written by ``call``.
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
