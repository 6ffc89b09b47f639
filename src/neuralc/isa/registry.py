"""The one registry of instructions (docs/LANGUAGE.md §2).

Everything else reads this table: the assembler (mnemonics and operand kinds), the reference
interpreter (exact integer semantics), the encoder and decompiler (the instruction axis ``A`` of a
program's parameters), and the ALUs (the table form of every value operation).

Operand kinds (docs/LANGUAGE.md §2):

====  =======================================================================
``R``  register read
``D``  register write (always the last operand)
``I``  immediate, an integer taken mod n
``T``  target: a line ``0..L`` or a register holding the line (indirect)
====  =======================================================================

Instruction kinds:

* ``table``   — a value operation ``D ← fn(a, b) mod n`` with a lookup-table form
  ``T[i, a, b, :] = onehot(fn(a, b))`` (unary ops ignore ``b``); these are what the ALUs compute.
* ``special`` — writes a register with a value that is not a function of ``(a, b)`` alone:
  ``zero``, ``set`` (the immediate), ``copy`` (a), ``read`` (memory), ``store`` (its own line).
* ``memory``  — ``write``: a memory write, no register write.
* ``control`` — ``halt``, ``jump``, ``goto``, ``call``, ``ret``: they move the counter
  (``call`` also writes its return line to D).
* ``nop``.

The order of :data:`INSTRUCTIONS` is the order of the instruction axis everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "BY_NAME",
    "CONTROL_OPS",
    "INSTRUCTIONS",
    "OPCODE",
    "TABLE_OPS",
    "WRITES_REGISTER",
    "Instruction",
    "opcode",
]


def _div(a: int, b: int) -> int:
    return a // b if b else 0


def _mod(a: int, b: int) -> int:
    return a % b if b else 0


@dataclass(frozen=True)
class Instruction:
    """One instruction of the machine.

    ``fn`` is the exact integer semantics of a ``table`` op: ``fn(a, b, n)`` with ``a, b`` in
    ``0..n-1``; the machine stores ``fn(a, b, n) % n`` for every pair. ``arity`` says how many
    register values it reads (0, 1 or 2).
    """

    name: str
    operands: str  # e.g. "RRD": the operand kinds in source order
    kind: str  # "table" | "special" | "memory" | "control" | "nop"
    doc: str
    fn: Callable[[int, int, int], int] | None = None

    @property
    def arity(self) -> int:
        return self.operands.count("R")

    @property
    def writes_register(self) -> bool:
        return "D" in self.operands

    @property
    def is_control(self) -> bool:
        return self.kind == "control"

    def table(self, n: int) -> list[list[int]]:
        """The index table ``L[a][b] = fn(a, b) mod n`` (``table`` ops only)."""
        if self.fn is None:
            raise ValueError(f"{self.name} has no table form")
        fn = self.fn
        return [[fn(a, b, n) % n for b in range(n)] for a in range(n)]


def _t(name: str, operands: str, doc: str, fn: Callable[[int, int, int], int]) -> Instruction:
    return Instruction(name, operands, "table", doc, fn)


INSTRUCTIONS: tuple[Instruction, ...] = (
    Instruction("nop", "", "nop", "nothing"),
    Instruction("halt", "", "control", "stop"),
    Instruction("zero", "D", "special", "D ← 0"),
    Instruction("set", "ID", "special", "D ← I mod n"),
    Instruction("copy", "RD", "special", "D ← a"),
    _t("inc", "RD", "D ← (a + 1) mod n", lambda a, b, n: a + 1),
    _t("dec", "RD", "D ← (a − 1) mod n", lambda a, b, n: a - 1),
    _t("not", "RD", "D ← 1 if a == 0 else 0", lambda a, b, n: int(a == 0)),
    _t("add", "RRD", "D ← (a + b) mod n", lambda a, b, n: a + b),
    _t("sub", "RRD", "D ← (a − b) mod n", lambda a, b, n: a - b),
    _t("mul", "RRD", "D ← (a · b) mod n", lambda a, b, n: a * b),
    _t("div", "RRD", "D ← a // b (0 when b == 0)", lambda a, b, n: _div(a, b)),
    _t("mod", "RRD", "D ← a % b (0 when b == 0)", lambda a, b, n: _mod(a, b)),
    _t("min", "RRD", "D ← min(a, b)", lambda a, b, n: min(a, b)),
    _t("max", "RRD", "D ← max(a, b)", lambda a, b, n: max(a, b)),
    _t("and", "RRD", "D ← a & b", lambda a, b, n: a & b),
    _t("or", "RRD", "D ← a | b", lambda a, b, n: a | b),
    _t("xor", "RRD", "D ← a ^ b", lambda a, b, n: a ^ b),
    _t("eq", "RRD", "D ← 1 if a == b else 0", lambda a, b, n: int(a == b)),
    _t("ne", "RRD", "D ← 1 if a != b else 0", lambda a, b, n: int(a != b)),
    _t("lt", "RRD", "D ← 1 if a < b else 0", lambda a, b, n: int(a < b)),
    _t("le", "RRD", "D ← 1 if a <= b else 0", lambda a, b, n: int(a <= b)),
    _t("gt", "RRD", "D ← 1 if a > b else 0", lambda a, b, n: int(a > b)),
    _t("ge", "RRD", "D ← 1 if a >= b else 0", lambda a, b, n: int(a >= b)),
    Instruction("read", "RD", "special", "D ← M[a mod m]"),
    Instruction("write", "RR", "memory", "M[a mod m] ← b"),
    Instruction("jump", "RT", "control", "go to T if a == 1, else to the next line"),
    Instruction("goto", "T", "control", "go to T"),
    Instruction("call", "TD", "control", "D ← (this line + 1) mod n, then go to T"),
    Instruction("ret", "R", "control", "go to line a"),
    Instruction("store", "D", "special", "D ← this line's number"),
)

BY_NAME: dict[str, Instruction] = {ins.name: ins for ins in INSTRUCTIONS}
OPCODE: dict[str, int] = {ins.name: i for i, ins in enumerate(INSTRUCTIONS)}
TABLE_OPS: tuple[str, ...] = tuple(i.name for i in INSTRUCTIONS if i.kind == "table")
CONTROL_OPS: tuple[str, ...] = tuple(i.name for i in INSTRUCTIONS if i.kind == "control")
WRITES_REGISTER: tuple[str, ...] = tuple(i.name for i in INSTRUCTIONS if i.writes_register)


def opcode(name: str) -> int:
    """Index of ``name`` on the instruction axis."""
    return OPCODE[name]
