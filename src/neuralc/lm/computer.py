"""The library computer a language model calls: selection and parsed inputs in, answer out.

Shapes: B batch, E library entries, S parsed inputs, O answer slots, N values, L image lines,
K registers.

    counter_0 = s · entries          s (B,E) selection, entries (E, L+1) one-hot entry lines
    R_0[r_in_i] = x_i                x (B,S,N) parsed inputs; other registers hold constants
    state_T = machine(state_0, T)    the compiled library run for a budget of T steps
    y = R_T[r_out]                   (B,O,N) the answer distributions; halted = counter_T[L]

Selection is a superposition over entry points (PAPER §4.3 [rec]): every program runs at once,
weighted by the selection distribution, so the selection head gets a gradient from the answer.

``per_program=True`` runs every entry point on its own instead (a batch of B·E machines, each
started sharply at one entry line) and mixes the *answers*:

    y_k = R_T^(k)[r_out]             (B,E,O,N) the answer of program k alone
    y   = Σ_k s_k y_k                (B,O,N)

This is the exact distribution of "pick program k with probability s_k, then run it". The
superposed run equals it only when every program is one step long *and* reads the same registers
(binary calculators); otherwise the programs share mean-field registers and operand reads (a unary
``inc r0 r1`` mixes its unused operand slot into a binary op's ``v``; a loop mixes its registers
with everybody's) and it is an approximation. Cost: E× the rows.

The compiled library is frozen (``requires_grad=False``) and so are the ALU's tables.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..isa import TABLE_OPS
from ..machine import DifferentiableComputer, State
from .library import Library, build_library

__all__ = ["ComputerOutput", "LibraryALU", "LibraryComputer", "make_alu_module"]


class ComputerOutput(NamedTuple):
    outputs: torch.Tensor  # (B,O,N) answer distributions
    halted: torch.Tensor  # (B,) halting probability after the step budget
    expected_steps: torch.Tensor  # (B,)
    per_program: torch.Tensor | None = None  # (B,E,O,N) answers of each program alone


def make_alu_module(kind: str, n: int) -> nn.Module:
    """The machine's ALU by name (``sparse`` | ``dense`` | ``circuit``)."""
    try:
        from ..machine.alu import make_alu
    except ImportError:  # the ALU factory may land after the sparse ALU itself
        from ..machine.alu.sparse import SparseALU

        if kind != "sparse":
            raise
        return SparseALU(n)
    return make_alu(kind, n)


class LibraryALU(nn.Module):
    """The ALU restricted to the value ops the library uses — exact for a frozen, sharp library.

    The machine mixes the instruction over lines (``f = Σ_l c_l instr_l``), so an op that no line
    of the image uses has weight exactly 0 and its output can be skipped. The kept ops are
    computed by the sparse ALU's formulas: unary ops, add/sub, comparisons and min/max in
    O(N) or O(N log N) per row; index-table ops (mul, div, mod, bitwise) by the sparse ALU's
    ``u⊗v`` scatter reduction with the index tables of the kept ops only.
    """

    def __init__(self, base: nn.Module, ops: tuple[str, ...]):
        super().__init__()
        self.base = base
        self.ops = tuple(op for op in TABLE_OPS if op in ops)
        self.table_ops = tuple(op for op in self.ops if op not in _CHEAP)
        self.full = not hasattr(base, "unary_index")  # not the sparse ALU: use it as it is
        self.register_buffer("index", torch.tensor([TABLE_OPS.index(op) for op in self.ops]))
        self._csr: dict = {}

    def _tables(self, device):
        """Index tables (R, N·N) of the kept table ops (cached per device; not state)."""
        if device not in self._csr:
            from ..machine.alu.tables import op_table

            N = self.base.n
            self._csr[device] = torch.stack(
                [op_table(op, N).reshape(-1) for op in self.table_ops]).to(device)
        return self._csr[device]

    def forward(self, f: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        if self.full:
            return self.base(f, u, v)
        lead, N = u.shape[:-1], u.shape[-1]
        f, u, v = f.reshape(-1, f.shape[-1]), u.reshape(-1, N), v.reshape(-1, N)
        out = _cheap_ops([op for op in self.ops if op in _CHEAP], u, v, self.base)
        if self.table_ops:
            from ..machine.alu.sparse import _TableReduce

            red = _TableReduce.apply(u, v, self._tables(u.device))  # (B', R, N)
            out.update({op: red[:, r] for r, op in enumerate(self.table_ops)})
        per_op = torch.stack([out[op] for op in self.ops], 1)  # (B', A_used, N)
        mixed = torch.bmm(f.index_select(-1, self.index).unsqueeze(1), per_op).squeeze(1)
        return mixed.reshape(*lead, N)


_COMPARE = ("eq", "ne", "lt", "le", "gt", "ge")
_CHEAP = {"inc", "dec", "not", "add", "sub", "min", "max", *_COMPARE}


def _cheap_ops(ops, u: torch.Tensor, v: torch.Tensor, base) -> dict:
    """Per-op outputs ``{op: (B, N)}`` of the cheap ops (formulas of the sparse ALU)."""
    from ..machine.alu.sparse import _nonneg, _shift_in
    from ..machine.alu.tables import UNARY

    N = u.shape[-1]
    out = {}
    for op in ops:
        if op in UNARY:
            ix = base.unary_index[UNARY.index(op)]
            out[op] = torch.zeros_like(u).index_add(-1, ix, u) * v.sum(-1, keepdim=True)
        elif op in ("add", "sub"):
            fu, fv = torch.fft.rfft(u), torch.fft.rfft(v)
            out[op] = _nonneg(torch.fft.irfft(fu * (fv if op == "add" else fv.conj()), n=N))
        elif op == "min":
            rv, ru = (x.flip(-1).cumsum(-1).flip(-1) for x in (v, u))
            out[op] = u * rv + v * _shift_in(ru, left=True)
        elif op == "max":
            out[op] = u * v.cumsum(-1) + v * _shift_in(u.cumsum(-1), left=False)
        else:  # comparisons: P(yes) at value 1, P(no) at value 0
            cv, rv = v.cumsum(-1), v.flip(-1).cumsum(-1).flip(-1)
            lt = (u * _shift_in(rv, left=True)).sum(-1, keepdim=True)
            gt = (u * _shift_in(cv, left=False)).sum(-1, keepdim=True)
            eq = (u * v).sum(-1, keepdim=True)
            yes, no = {"eq": (eq, lt + gt), "ne": (lt + gt, eq), "lt": (lt, eq + gt),
                       "le": (lt + eq, gt), "gt": (gt, lt + eq), "ge": (gt + eq, lt)}[op]
            out[op] = torch.cat([no, yes, torch.zeros_like(u[:, 2:])], -1)
    return out


class LibraryComputer(nn.Module):
    """The compiled library of ``names`` as a frozen :class:`DifferentiableComputer`."""

    def __init__(self, names, n: int = 128, inputs: int = 2, outputs: int = 1,
                 max_depth: int = 0, alu: str = "sparse", readout: str = "final"):
        super().__init__()
        self._args = (tuple(names), n, inputs, outputs, max_depth, alu, readout)
        self.library: Library = build_library(tuple(names), n, inputs, outputs, max_depth)
        lib = self.library
        self.steps = lib.steps
        self.readout = readout
        used = {op.name for _, _, op in lib.image.ops()}
        self.machine = DifferentiableComputer.from_program(
            lib.image, alu=LibraryALU(make_alu_module(alu, n), tuple(used)), trainable=False)
        for p in self.machine.parameters():
            p.requires_grad_(False)
        L, K = lib.image.L, lib.image.sizes.registers
        entries = torch.zeros(len(lib.names), L + 1)
        entries[torch.arange(len(lib.names)), torch.tensor(lib.entries)] = 1.0
        self.register_buffer("entries", entries)  # (E, L+1)
        base = torch.zeros(K, n)
        base[:, 0] = 1.0
        for r, v in lib.constants.items():
            base[r] = 0.0
            base[r, v] = 1.0
        self.register_buffer("base_registers", base)  # (K, N) registers before parsing
        self.register_buffer("input_registers", torch.tensor(lib.input_registers))
        self.register_buffer("output_registers", torch.tensor(lib.output_registers))

    def restore_derived(self) -> None:
        """Rebuild the non-saved (non-persistent) buffers, e.g. the ALU's index tables, exactly.

        ``from_pretrained`` in transformers 5 leaves non-persistent buffers as uninitialised
        placeholders and relies on ``_init_weights`` to fill them again.
        """
        with torch.device("cpu"):
            fresh = dict(LibraryComputer(*self._args).named_buffers())
        for prefix, mod in self.named_modules():
            for name in mod._non_persistent_buffers_set:
                old = mod._buffers[name]
                new = fresh[f"{prefix}.{name}" if prefix else name]
                mod._buffers[name] = new.to(old.device if old is not None and
                                            old.device.type != "meta" else new.device)

    def _run(self, counter: torch.Tensor, inputs: torch.Tensor, steps: int):
        """Run rows (counter (R, L+1), parsed inputs (R,S,N)) for ``steps``; (answers (R,O,N),
        halted (R,), expected steps (R,))."""
        machine = self.machine
        dtype = counter.dtype
        rows = counter.shape[0]
        regs = self.base_registers.to(dtype).expand(rows, -1, -1)
        # put the parsed inputs in their registers; the rest keep their constants
        regs = regs.index_copy(1, self.input_registers, inputs.to(dtype))
        mem = torch.zeros(rows, machine.sizes.m, machine.sizes.n, dtype=dtype,
                          device=counter.device)
        mem[..., 0] = 1.0
        out = machine(State(regs, mem, counter), steps, readout=self.readout)
        final = out.readout(self.readout)
        y = final.registers.index_select(1, self.output_registers)
        return y, out.state.halted, out.expected_steps

    def forward(self, selection: torch.Tensor, inputs: torch.Tensor,
                steps: int | None = None, per_program: bool = False) -> ComputerOutput:
        B, E = selection.shape
        dtype = self.machine.program.instr.dtype
        entries = self.entries.to(dtype)
        if not per_program:
            return ComputerOutput(*self._run(selection.to(dtype) @ entries, inputs,
                                             self.steps if steps is None else steps))
        # each program alone, for its own step budget (a one-step calculator need not idle
        # through a loop's budget: a halted machine's state no longer changes)
        budgets = [steps] * E if steps is not None else list(
            getattr(self.library, "program_steps", ()) or [self.steps] * E)
        y_k = halted = expected = None
        for T in sorted(set(budgets)):
            ks = [k for k in range(E) if budgets[k] == T]
            # row b·|ks| + j: request b, started at program ks[j]'s entry line
            y, h, e = self._run(entries[ks].repeat(B, 1), inputs.repeat_interleave(len(ks), 0), T)
            if y_k is None:
                y_k = y.new_zeros(B, E, *y.shape[1:])
                halted, expected = h.new_zeros(B, E), e.new_zeros(B, E)
            idx = torch.tensor(ks, device=y.device)
            y_k = y_k.index_copy(1, idx, y.view(B, len(ks), *y.shape[1:]))
            halted = halted.index_copy(1, idx, h.view(B, len(ks)))
            expected = expected.index_copy(1, idx, e.view(B, len(ks)))
        s = selection.to(dtype)
        return ComputerOutput(torch.einsum("be,beon->bon", s, y_k), (s * halted).sum(-1),
                              (s * expected).sum(-1), y_k)
