"""The exact reference interpreter (docs/LANGUAGE.md §1, §2, §6).

Plain integers, no torch. Every other backend is checked against this one.

One step executes one line: every slot reads the state as it was at the start of the step,
register and memory writes are applied in slot order (a later slot wins), then at most one
control instruction moves the counter. Running past the last line halts; so does a target
``>= L``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..isa import BY_NAME
from .program import Program

__all__ = ["DEFAULT_MAX_STEPS", "RunResult", "run_reference"]

DEFAULT_MAX_STEPS = 10000


@dataclass
class RunResult:
    halted: bool
    steps: int
    registers: list[int]
    memory: list[int]
    counter: int = 0  # the line the counter stands on at the end (L when halted)

    def to_json(self) -> dict:
        return {
            "halted": self.halted,
            "steps": self.steps,
            "registers": list(self.registers),
            "memory": list(self.memory),
        }


def _initial(program: Program, registers, memory) -> tuple[list[int], list[int]]:
    n, K, m = program.sizes.n, program.sizes.registers, program.sizes.m
    regs = [0] * K
    mem = [0] * m
    if registers:
        items = registers.items() if isinstance(registers, dict) else enumerate(registers)
        for r, v in items:
            regs[r] = int(v) % n
    if memory:
        items = memory.items() if isinstance(memory, dict) else enumerate(memory)
        for a, v in items:
            mem[a] = int(v) % n
    return regs, mem


def run_reference(
    program: Program,
    registers: dict[int, int] | list[int] | None = None,
    memory: dict[int, int] | list[int] | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    entry: int | None = None,
    trace: list | None = None,
) -> RunResult:
    """Run ``program`` exactly.

    ``registers``/``memory``: initial values (a dict index → value, or a list from index 0);
    everything else starts at 0. ``entry`` overrides the program's entry line. ``trace``, when
    given, receives the counter before each step.
    """
    sizes = program.sizes
    n, m, L = sizes.n, sizes.m, program.L
    regs, mem = _initial(program, registers, memory)
    pc = program.entry if entry is None else entry
    steps = 0
    while pc < L and steps < max_steps:
        if trace is not None:
            trace.append(pc)
        line = program.lines[pc]
        old = list(regs)
        old_mem = list(mem) if len(line) > 1 else mem  # slots read the state at the step's start
        next_pc = pc + 1
        for op in line:
            ins = BY_NAME[op.name]
            name = op.name
            vals = [old[r] for r in op.reads]
            a = vals[0] if vals else 0
            b = vals[1] if len(vals) > 1 else 0
            dest = op.dest
            if ins.kind == "table":
                regs[dest] = ins.fn(a, b, n) % n
            elif name == "zero":
                regs[dest] = 0
            elif name == "set":
                regs[dest] = op.args[0] % n
            elif name == "copy":
                regs[dest] = a
            elif name == "read":
                regs[dest] = old_mem[a % m]
            elif name == "store":
                regs[dest] = pc % n
            elif name == "write":
                mem[a % m] = b
            elif name == "halt":
                next_pc = L
            elif name == "ret":
                next_pc = a
            elif name in ("jump", "goto", "call"):
                t = op.operand("T")
                target = old[t.register] if t.indirect else t.line
                if name == "call":
                    regs[dest] = (pc + 1) % n
                if name != "jump" or a == 1:
                    next_pc = target
        steps += 1
        pc = min(next_pc, L)
    return RunResult(halted=pc >= L, steps=steps, registers=regs, memory=mem, counter=pc)
