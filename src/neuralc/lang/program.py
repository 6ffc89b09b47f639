"""The checked program: what the assembler produces and every later stage consumes.

A :class:`Program` is a list of L lines; each line holds 1..width :class:`Op` slots (docs/LANGUAGE.md §6).
Operands are resolved: registers are indices, immediates are reduced mod n, targets are a line
number ``0..L`` (``L`` means halt) or a register (indirect). Labels and per-line comments are kept
only for printing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..isa import BY_NAME
from .errors import UsageError

__all__ = ["Op", "Program", "Sizes", "Target", "nop"]


@dataclass(frozen=True)
class Sizes:
    """Machine sizes (docs/LANGUAGE.md §1). ``memory=None`` means "follow n"."""

    n: int = 128
    registers: int = 16
    memory: int | None = None
    width: int = 1

    @property
    def m(self) -> int:
        return self.n if self.memory is None else self.memory

    @property
    def K(self) -> int:
        return self.registers

    def check(self) -> Sizes:
        """Raise :class:`UsageError` unless the sizes are valid (docs/LANGUAGE.md §1)."""
        if self.n < 2:
            raise UsageError(f"n must be at least 2 (got {self.n})")
        if self.registers < 1:
            raise UsageError(f"registers must be at least 1 (got {self.registers})")
        if not 1 <= self.m <= self.n:
            raise UsageError(f"memory must be between 1 and n={self.n} (got {self.m})")
        if self.width < 1:
            raise UsageError(f"width must be at least 1 (got {self.width})")
        return self

    def override(self, **kw: int | None) -> Sizes:
        """Sizes with the given fields replaced (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in kw.items() if v is not None})


@dataclass(frozen=True)
class Target:
    """A jump target: a line number (``L`` = halt) or a register holding the line."""

    line: int | None = None
    register: int | None = None

    def __post_init__(self) -> None:
        if (self.line is None) == (self.register is None):
            raise ValueError("a target is a line or a register, not both")

    @property
    def indirect(self) -> bool:
        return self.register is not None


@dataclass(frozen=True)
class Op:
    """One instruction slot.

    ``args`` follow the instruction's operand kinds (``BY_NAME[name].operands``): ``R``/``D`` →
    register index, ``I`` → int in ``0..n-1``, ``T`` → :class:`Target`.
    """

    name: str
    args: tuple = ()

    def __post_init__(self) -> None:
        ins = BY_NAME[self.name]
        if len(self.args) != len(ins.operands):
            raise ValueError(f"{self.name} takes {len(ins.operands)} operands, got {self.args}")

    @property
    def instruction(self):
        return BY_NAME[self.name]

    def operand(self, kind: str, nth: int = 0):
        """The ``nth`` operand of ``kind`` ('R', 'D', 'I', 'T'), or None."""
        seen = 0
        for k, a in zip(self.instruction.operands, self.args):
            if k == kind:
                if seen == nth:
                    return a
                seen += 1
        return None

    @property
    def reads(self) -> tuple[int, ...]:
        """Registers read (R operands and an indirect target)."""
        regs = [a for k, a in zip(self.instruction.operands, self.args) if k == "R"]
        t = self.operand("T")
        if t is not None and t.indirect:
            regs.append(t.register)
        return tuple(regs)

    @property
    def dest(self) -> int | None:
        return self.operand("D")


def nop() -> Op:
    return Op("nop")


@dataclass
class Program:
    """A checked program.

    ``lines[i]`` is a tuple of 1..width ops. ``labels`` maps a label to its line (``0..L``);
    ``comments[i]`` is an optional comment printed above line ``i`` (the Python source line, say).
    ``entry`` is the line where execution starts.
    """

    lines: list[tuple[Op, ...]]
    sizes: Sizes = field(default_factory=Sizes)
    entry: int = 0
    labels: dict[str, int] = field(default_factory=dict)
    comments: dict[int, str] = field(default_factory=dict)
    entry_label: str | None = None

    @property
    def L(self) -> int:
        return len(self.lines)

    @property
    def width(self) -> int:
        """The widest line (at least 1)."""
        return max((len(line) for line in self.lines), default=1)

    def ops(self):
        """Iterate ``(line, slot, op)``."""
        for i, line in enumerate(self.lines):
            for s, op in enumerate(line):
                yield i, s, op

    def __eq__(self, other: object) -> bool:  # labels and comments are cosmetic
        if not isinstance(other, Program):
            return NotImplemented
        return (self.lines, self.entry) == (other.lines, other.entry) and (
            self.sizes.n, self.sizes.registers, self.sizes.m) == (
            other.sizes.n, other.sizes.registers, other.sizes.m)
