"""The run-time conventions of compiled Python (documented in docs/COMPILER.md).

Registers (K = ``sizes.registers``; the reserved ones exist only when the program needs them):

==============  ============================================================================
``r0 .. r(p-1)`` arguments of a call (``r0`` = first); ``r0`` also carries the return value
``r(K-1)`` = sp  stack pointer: the lowest cell in use by the call stack (starts at ``m-1``;
                 push = ``dec sp sp; write sp x``); reserved when any function calls another
                 or a value spills
``r(K-2)`` = hp  heap pointer: the first free list cell (lists are bump-allocated upward and
                 never freed); reserved when the program uses lists
``r(K-3)`` = ra  return address, written by ``call f ra``; reserved when there are calls
others           allocated to values; *caller-saved*: a caller pushes the registers it still
                 needs around a call, and only those the callee (transitively) can write
==============  ============================================================================

Memory (m cells): argument lists first, from cell 0 (each list is a header cell holding its
length, then its elements; a list value is the address of its first element, so the header is
at ``x - 1`` and ``x[i]`` at ``x + i``), then lists made at run
time (upward from hp); the call stack grows downward from ``m-2``; cell ``m-1`` is the
**error cell**: 0 while the program runs normally, set to an error code by the error stub
just before it halts.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..program import Sizes

__all__ = ["ERRORS", "ERROR_LABELS", "RAISE_BASE", "Layout", "error_message", "raise_code",
           "raise_label"]

# code → (label of its stub, message); the code is what the stub writes to the error cell
ERRORS = {
    1: ("rt.err_div", "integer division or modulo by zero"),
    2: ("rt.err_index", "list index out of range"),
    3: ("rt.err_heap", "out of memory: the program's lists do not fit in the machine's memory"),
    4: ("rt.err_stack", ("out of memory: the call stack overflowed (recursion too deep for the "
                         "machine's memory)")),
    5: ("rt.err_absent", "ValueError: list.index(x): x not in list"),
    6: ("rt.err_empty", "ValueError: min() or max() of an empty sequence"),
    7: ("rt.err_step", "ValueError: a range or slice step must not be zero"),
}
ERROR_LABELS = {label: code for code, (label, _) in ERRORS.items()}

# -- raised errors (`raise E(...)`, a failing `assert`): one code per message from RAISE_BASE up;
# the messages belong to the compiled program (CompiledPython.messages), not to this table.
RAISE_BASE = max(ERRORS) + 1
_RAISE_PREFIX = "rt.raise"


def raise_label(code: int) -> str:
    """The label of the stub that stops the run with raised error ``code``."""
    return f"{_RAISE_PREFIX}{code}"


def raise_code(label: str) -> int | None:
    """The code of a raise stub's label (None for any other label)."""
    tail = label[len(_RAISE_PREFIX):] if label.startswith(_RAISE_PREFIX) else ""
    return int(tail) if tail.isdigit() else None


def error_message(code: int, m: int, n: int = 128) -> str:
    if n <= max(ERRORS):  # the codes do not all fit in a value: say what it can be
        return "run-time error (division or modulo by zero, index out of range, or out of memory)"
    if code in ERRORS:
        return f"{ERRORS[code][1]} (m={m} cells)" if code in (3, 4) else ERRORS[code][1]
    return f"run-time error (code {code})"


@dataclass(frozen=True)
class Layout:
    """Which registers are reserved for one compiled program."""

    sizes: Sizes
    stack: bool  # sp and ra exist (calls or spills)
    heap: bool  # hp exists (lists)

    @property
    def K(self) -> int:
        return self.sizes.registers

    @property
    def sp(self) -> int | None:
        return self.K - 1 if self.stack else None

    @property
    def hp(self) -> int | None:
        return self.K - 2 if self.heap else None

    @property
    def ra(self) -> int | None:
        return self.K - 3 if self.stack else None

    @property
    def reserved(self) -> set[int]:
        return {r for r in (self.sp, self.hp, self.ra) if r is not None}

    @property
    def allocatable(self) -> list[int]:
        return [r for r in range(self.K) if r not in self.reserved]

    @property
    def error_cell(self) -> int:
        return self.sizes.m - 1

    @property
    def stack_top(self) -> int:
        """Initial sp: the stack's cells are ``hp .. m-2``, pushed downward."""
        return self.sizes.m - 1
