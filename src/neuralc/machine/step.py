"""One step of the differentiable computer: every instruction, in superposition (docs/DESIGN.md §4).

Shape letters (the one glossary of the machine; every docstring of ``neuralc.machine`` uses them):

====  ==========================================================================================
B     batch
L     program lines; the counter has L+1 positions, position L being "halted"
W     slots per line (parallel machines, docs/LANGUAGE.md §6); width-1 programs have W = 1
K     registers
M     memory cells (``m`` of docs/LANGUAGE.md §1); address ``a`` selects cell ``a mod m``
N     values (``n``): every value is a distribution over ``0..N-1``
A     instructions (``len(INSTRUCTIONS)``), the instruction axis
A_t   table ops (``len(TABLE_OPS)``): what the ALU computes
====  ==========================================================================================

State: registers R (B,K,N), memory M (B,M,N), counter c (B,L+1). One step, with the running
mass ``c_l = counter[:, l]`` for ``l < L`` and, per slot, ``f_l`` the line's instruction
distribution:

1. **Mix the program** (ι = ϱᵀc, docs/DESIGN.md §4.1): ``f = Σ_l c_l f_l`` (B,W,A), which carries the
   running mass ``1 − h`` (halted mass executes nothing), and the operand distributions
   a, b, d (B,W,K) mixed over the running lines: ``a = Σ_l c_l a_l / Σ_l c_l``, so the values
   read are distributions (the paper's counter is a distribution over lines; ours also holds the
   halted mass, which is divided out here).
2. **Read** (dot products, docs/DESIGN.md §4.2): ``u = Rᵀa``, ``v = Rᵀb`` (B,W,N), all from the state at the
   start of the step, renormalised to sum to 1 (the identity in exact arithmetic; it stops
   float32 rounding from compounding through two-operand ops in loops); ``addr = fold_m(u)`` (B,W,M) and ``r = Mᵀaddr`` (memory read).
3. **Value output** of the register-writing instructions, each weighted by its probability::

       out = ALU(f[table], u, v) + f_copy·u + f_read·r
             + Σ_l c_l (f_{l,zero} e_0 + f_{l,set} imm_l + f_{l,store} e_{l mod n}
                        + f_{l,call} e_{(l+1) mod n})

   The outputs that do not depend on the registers are mixed per line (the exact expectation
   over the counter); on a sharp counter this is the same as mixing f and imm separately.
4. **Register write** (gated form): ``ω = Σ_{i writes} f_i`` and ``R_k ← (1 − ω d_k) R_k + d_k out``.
   The paper (docs/DESIGN.md §4.4, §6.2) instead lets write/jump/halt/nop "output the current destination
   register" and always writes: ``out' = out + (1 − ω) Rᵀd``, ``R_k ← (1 − d_k) R_k + d_k out'``.
   For a one-hot d = e_k both give ``R_k ← (1 − ω) R_k + out`` (and leave the other registers
   alone), so they are the same machine on sharp destinations; ``faithful_writes=True`` selects
   the paper's form (they differ only for soft d, where the paper's also mixes the other
   registers' old values into R_k).
5. **Memory write** (docs/DESIGN.md §4.5) with ``w = f_write``: ``M ← (1 − w·addr) ⊙ M + w·addr ⊗ v``
   (= Bunel's ``(1 − w)M + w[(1 − addr)⊙M + addr⊗v]``).
6. **Counter** (docs/DESIGN.md §4.6). Per line, each control instruction moves part of the running mass c_l to
   a target distribution: ``jump`` with ``p = u[1]`` (the condition register holds 1; for soft
   programs the mixed u, as in the paper) to the line's target field, ``goto`` and ``call``
   (p = 1) to the target field, ``ret`` to the line ``fold_L(u)``, ``halt`` to position L. The
   rest goes to the next line (``L-1 → L``: running past the end halts)::

       c' = c_L e_L + Σ_l c_l [ (1 − J_l) e_{l+1} + Σ_i J_{l,i} target_{l,i} ]

   A target field's line part is a distribution over ``0..L``; its register part is indirect:
   the register's value distribution with every value ``≥ L`` folded into L. For one sharp
   control instruction this is the paper's ``c' = (1 − j)·inc(c) + j·((1 − p)·inc(c) + p·l)``
   (``inc`` the shift to the next line, not cyclic: position L is absorbing). With several
   slots (W > 1) the later slot wins (docs/LANGUAGE.md §6): slot w claims the control with probability
   ``q_w Π_{w'>w}(1 − q_{w'})``, q_w its probability of being a control instruction, so c stays
   a distribution even for soft programs with control in several slots.
   The halting probability ``h = c[L]`` accumulates as ``h' = h + (1 − h)η`` (docs/DESIGN.md §5.1).

Every slot reads the start-of-step state; register and memory writes are applied in slot order
(a later slot wins), then the counter moves (docs/LANGUAGE.md §6).

Implementation: everything a step needs from a line is linear in that line's counter mass, so
:func:`prepare` packs it into one table (L, D) once per run and a step mixes it with a single
matmul ``c[:, :L] @ table`` (no loop over lines or values). **Fast path** (``fast=True``): when
the counter is one-hot, the mix is just the current line's row (a gather); on sharp programs
and states the result is bit-identical to the general path (every product is by an exact 0 or 1).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ..isa import OPCODE, TABLE_OPS, WRITES_REGISTER
from ..lang.program import Sizes
from .params import ProgramParams, ProgramProbs
from .state import State

__all__ = ["ALL_TERMS", "TABLE_INDEX", "WRITE_INDEX", "ProgramTensors", "prepare", "step"]

TABLE_INDEX: tuple[int, ...] = tuple(OPCODE[name] for name in TABLE_OPS)
WRITE_INDEX: tuple[int, ...] = tuple(OPCODE[name] for name in WRITES_REGISTER)
_OP = OPCODE
#: the optional terms of a step (see ProgramTensors.present)
ALL_TERMS = frozenset(("table", "copy", "read", "write", "ret", "jump", "go", "indirect"))

# The per-slot part of a packed line: (name, size) with size given by a function of the sizes.
_SLOT_LAYOUT = (
    ("table", lambda L, K, N: len(TABLE_OPS)),  # f over the table ops
    ("omega", lambda L, K, N: 1),  # Σ f over register-writing instructions
    ("copy", lambda L, K, N: 1),
    ("read", lambda L, K, N: 1),
    ("write", lambda L, K, N: 1),  # memory write probability w
    ("ret", lambda L, K, N: 1),  # claimed by ret (goes to fold_L(u))
    ("a", lambda L, K, N: K),
    ("b", lambda L, K, N: K),
    ("d", lambda L, K, N: K),
    ("const", lambda L, K, N: N),  # zero/set/store/call outputs
    ("jump_to", lambda L, K, N: L + 1 + K),  # claimed by jump, times its target
    ("go_to", lambda L, K, N: L + 1 + K),  # claimed by goto/call, times the target
    ("jump_next", lambda L, K, N: L + 1),  # claimed by jump, at the next line
)
# The per-line part: where the unclaimed mass goes (next line) and the halting mass.
_LINE_LAYOUT = (("next", lambda L, K, N: L + 1), ("halt", lambda L, K, N: 1))


class ProgramTensors(NamedTuple):
    """A program prepared for stepping (:func:`prepare`).

    ``probs``: the fields as probabilities (:class:`ProgramProbs`). ``table`` (L, W·D_s + D_l):
    per line, the packed slot quantities of ``_SLOT_LAYOUT`` for every slot, then the line
    quantities of ``_LINE_LAYOUT``. ``slot_sizes``/``line_sizes``: the split sizes.
    ``fold_mem`` (N,M) (value a → cell a mod m; None when M = N) and ``fold_line`` (N,L+1)
    (value a → line min(a, L)). ``present``: the optional terms of a step that are not
    identically zero (``table`` ALU, ``copy``, ``read``, ``write``, ``ret``, ``jump``, ``go``,
    ``indirect`` targets); a step skips the others, which only saves adding exact zeros. Terms
    are dropped only for programs that need no gradient (a zero weight still has a gradient).
    """

    probs: ProgramProbs
    table: torch.Tensor
    slot_sizes: tuple[int, ...]
    line_sizes: tuple[int, ...]
    fold_mem: torch.Tensor | None
    fold_line: torch.Tensor
    sizes: Sizes
    present: frozenset[str] = ALL_TERMS

    @property
    def L(self) -> int:
        return self.table.shape[0]

    @property
    def W(self) -> int:
        return self.probs.instr.shape[1]


def prepare(program: ProgramParams | ProgramProbs, sizes: Sizes | None = None) -> ProgramTensors:
    """Pack a program's per-line quantities into one table (keeps the autograd graph)."""
    if isinstance(program, ProgramParams):
        sizes = program.sizes
        probs = program.probs()
    else:
        probs = program
        if sizes is None:
            raise ValueError("prepare(ProgramProbs) needs the sizes")
    f = probs.instr  # (L,W,A)
    L = f.shape[0]
    K, N, m = sizes.registers, sizes.n, sizes.m
    dev, dt = f.device, f.dtype
    lines = torch.arange(L, device=dev)
    eye_n = torch.eye(N, dtype=dt, device=dev)
    next_line = torch.eye(L + 1, dtype=dt, device=dev)[lines + 1][:, None, :]  # (L,1,L+1)

    def col(name: str) -> torch.Tensor:
        return f[..., _OP[name], None]  # (L,W,1)

    # control: slot w claims it with q_w Π_{w'>w} (1 − q_w') (later slot wins)
    q = sum(col(x) for x in ("jump", "goto", "call", "ret", "halt"))
    later = torch.cat([torch.flip(torch.cumprod(torch.flip(1 - q[:, 1:], [1]), 1), [1]),
                       torch.ones_like(q[:, :1])], dim=1)
    jump, go, ret, halt = (later * x for x in (
        col("jump"), col("goto") + col("call"), col("ret"), col("halt")))
    const = (col("zero") * eye_n[0] + col("set") * probs.imm + col("store") * eye_n[lines % N][
        :, None] + col("call") * eye_n[(lines + 1) % N][:, None])
    slot = {
        "table": f[..., list(TABLE_INDEX)],
        "omega": f[..., list(WRITE_INDEX)].sum(-1, keepdim=True),
        "copy": col("copy"), "read": col("read"), "write": col("write"), "ret": ret,
        "a": probs.reg_a, "b": probs.reg_b, "d": probs.reg_d, "const": const,
        "jump_to": jump * probs.target, "go_to": go * probs.target,
        "jump_next": jump * next_line,
    }
    unclaimed = 1 - (later * q).sum(1) + jump.sum(1)  # (L,1): jumps not taken also go on
    line = {"next": unclaimed * next_line[:, 0], "halt": halt.sum(1)}
    slot_sizes = tuple(size(L, K, N) for _, size in _SLOT_LAYOUT)
    line_sizes = tuple(size(L, K, N) for _, size in _LINE_LAYOUT)
    table = torch.cat([torch.cat([slot[name] for name, _ in _SLOT_LAYOUT], -1).reshape(L, -1),
                       *(line[name] for name, _ in _LINE_LAYOUT)], dim=-1)
    values = torch.arange(N, device=dev)
    ones = torch.ones(N, dtype=dt, device=dev)
    fold_mem = None if m == N else eye_n.new_zeros(N, m).index_put_((values, values % m), ones)
    fold_line = eye_n.new_zeros(N, L + 1).index_put_((values, values.clamp(max=L)), ones)
    present = ALL_TERMS
    if not table.requires_grad:  # a fixed program: drop the terms that are exactly zero
        indirect = torch.cat([slot["jump_to"][..., L + 1:], slot["go_to"][..., L + 1:]], -1)
        parts = {"table": slot["table"], "copy": slot["copy"], "read": slot["read"],
                 "write": slot["write"], "ret": slot["ret"], "jump": slot["jump_to"],
                 "go": slot["go_to"], "indirect": indirect}
        present = frozenset(name for name, x in parts.items() if bool(x.any()))
    return ProgramTensors(probs, table, slot_sizes, line_sizes, fold_mem, fold_line, sizes,
                          present)


def _tiny(dtype: torch.dtype) -> float:
    """A floor for the running mass: its inverse and products with it stay finite."""
    return torch.finfo(dtype).eps ** 2


def step(
    prog: ProgramTensors,
    state: State,
    alu,
    *,
    fast: bool = False,
    faithful_writes: bool = False,
) -> State:
    """One step of the machine (module docstring); returns the new :class:`State`.

    ``prog`` from :func:`prepare`; ``alu(f (B',A_t), u (B',N), v (B',N)) -> (B',N)``.
    ``fast=True`` assumes a one-hot counter: it reads only the current line's row.
    """
    R, Mem, counter = state
    B = R.shape[0]
    L, W = prog.L, prog.W

    # 1. mix the program over the running lines: ι = ϱᵀc (one matmul, or one row)
    if fast:
        line = counter.argmax(dim=-1).clamp(max=L - 1)  # halted rows: c[L-1] = 0 below
        mixed = prog.table[line] * counter.gather(1, line[:, None])
    else:
        mixed = counter[:, :L] @ prog.table  # (B, W·D_s + D_l)
    per_slot, per_line = mixed.split([W * sum(prog.slot_sizes), sum(prog.line_sizes)], -1)
    (f_table, omega, f_copy, f_read, f_write, ret, a, b, d, const, jump_to, go_to,
     jump_next) = per_slot.reshape(B, W, -1).split(prog.slot_sizes, -1)
    nxt, halt = per_line.split(prog.line_sizes, -1)
    running = counter[:, :L].sum(-1)[:, None, None].clamp_min(_tiny(counter.dtype))
    a, b, d = a / running, b / running, d / running  # operands: distributions over registers

    # 2. reads, all from the start-of-step state
    has = prog.present
    u = a @ R  # (B,W,N): u = Rᵀa
    v = b @ R
    # Renormalise the values read. In exact arithmetic every register row sums to 1 and this is
    # the identity; in float32 a row may carry 1 ± 1e-7, and a two-operand op multiplies the
    # masses, so in a loop that feeds results back (x ← x + y) the error doubles every
    # iteration: a sharp 2,000-step float32 run once diverged to NaN this way.
    u = u / u.sum(-1, keepdim=True).clamp_min(_tiny(u.dtype))
    v = v / v.sum(-1, keepdim=True).clamp_min(_tiny(v.dtype))
    memory = "read" in has or "write" in has
    addr = u if prog.fold_mem is None or not memory else u @ prog.fold_mem  # (B,W,M)

    # 3. value outputs of the register-writing instructions
    out = const  # (B,W,N)
    if "table" in has:
        out = out + alu(f_table, u, v)
    if "copy" in has:
        out = out + f_copy * u
    if "read" in has:
        out = out + f_read * (addr @ Mem)  # r = Mᵀaddr

    # 4./5. register and memory writes, in slot order (a later slot wins)
    for s in range(W):
        ds = d[:, s, :, None]  # (B,K,1)
        if faithful_writes:
            current = (d[:, s, None, :] @ R)[:, 0]  # Rᵀd (B,N): what non-writing ops output
            o = out[:, s] + (1 - omega[:, s]) * current
            R = (1 - ds) * R + ds * o[:, None, :]
        else:
            R = (1 - omega[:, s, None] * ds) * R + ds * out[:, s, None, :]
        if "write" in has:
            g = (f_write[:, s] * addr[:, s])[..., None]  # (B,M,1)
            Mem = (1 - g) * Mem + g * v[:, s, None, :]

    # 6. counter: unclaimed and untaken-jump mass to the next line, the rest to targets
    new_counter = nxt
    p = u[..., 1:2]  # (B,W,1): the condition register holds 1
    if "jump" in has or "go" in has:
        to = (p * jump_to + go_to).sum(1)  # (B, L+1+K)
        new_counter = new_counter + to[:, : L + 1]
        if "indirect" in has:  # start-of-step registers as lines
            fold_regs = state.registers @ prog.fold_line  # (B,K,L+1)
            new_counter = new_counter + (to[:, None, L + 1:] @ fold_regs)[:, 0]
    if "jump" in has:
        new_counter = new_counter - (p * jump_next).sum(1)
    if "ret" in has:
        new_counter = new_counter + (ret * (u @ prog.fold_line)).sum(1)
    new_counter = torch.cat([new_counter[:, :L], new_counter[:, L:] + halt + counter[:, L:]], -1)
    return State(R, Mem, new_counter)
