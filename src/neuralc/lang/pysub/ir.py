"""The intermediate form between lowering and register allocation: machine instructions over
*virtual* registers, plus a few pseudo-instructions.

A register operand is an ``int``: ``0 .. K-1`` are physical registers (``r0 .. r(K-1)``; the
calling convention pins some values to them), ``VBASE`` and up are virtual registers that the
allocator maps to physical ones or to frame slots.

Pseudo-instructions (everything else is a machine instruction of the registry):

=========  ==========================================================================
``label``  a place (``label``)
``goto``   ``goto label``; ``jump`` is ``jump srcs[0] label`` (a label outside the
           function, such as ``rt.err_div``, leaves it)
``call``   call ``func``: reads the argument registers ``srcs`` (physical ``r0..``), writes
           the result ``r0``; the emitter saves the caller's live registers around it
``ret``    return (the value is in ``r0``): the emitter writes the epilogue
``ld``     ``dst ← frame slot imm`` (a spilled value comes back)
``fa``     ``dst ← address of frame slot imm`` (before a ``write`` that spills)
=========  ==========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["VBASE", "FunctionIR", "Ins", "Sym", "is_virtual"]

VBASE = 1 << 16


def is_virtual(r: int) -> bool:
    return r >= VBASE


@dataclass(frozen=True)
class Sym:
    """An immediate known only after register allocation: ``offset + scale * reserve``, where
    the reserve is the memory a list must leave free for the stack (see :mod:`.emit`). When the
    value falls outside ``0 .. n-1`` the check can never pass: the ``set`` becomes
    ``goto error`` (the label of its error stub)."""

    offset: int
    scale: int
    error: str


@dataclass
class Ins:
    op: str
    dst: int | None = None
    srcs: tuple[int, ...] = ()
    imm: int | Sym | None = None
    label: str | None = None
    func: str | None = None
    line: int = 0  # source line (for the comments of the printed program)
    depth: int = 0  # loop nesting (spill costs)
    save: tuple[int, ...] = ()  # call: the registers live across it (set by the allocator)

    @property
    def uses(self) -> tuple[int, ...]:
        return self.srcs

    @property
    def defs(self) -> tuple[int, ...]:
        return () if self.dst is None else (self.dst,)

    def __repr__(self) -> str:  # for debugging
        parts = [self.op]
        if self.func:
            parts.append(self.func)
        parts += [_r(s) for s in self.srcs]
        if self.imm is not None:
            parts.append(str(self.imm))
        if self.label:
            parts.append(self.label)
        if self.dst is not None:
            parts.append("-> " + _r(self.dst))
        return " ".join(parts)


def _r(r: int) -> str:
    return f"v{r - VBASE}" if is_virtual(r) else f"r{r}"


@dataclass
class FunctionIR:
    name: str
    label: str
    params: list[str]
    code: list[Ins]
    line: int  # the def's line
    calls: set[str] = field(default_factory=set)
    next_vreg: int = VBASE

    def new_vreg(self) -> int:
        v = self.next_vreg
        self.next_vreg += 1
        return v
