"""How a language model calls its compiled library: parsed inputs into each program's places,
each program run alone on the one library computer, answers read back.

Shapes: B batch, E programs, S scalar slots, Q list slots, C list capacity, O answer slots,
N values, K registers, M memory cells.

The parse fills *slots* shared by every program: scalar slot ``i`` is the ``i``-th integer
parameter of whichever program runs, list slot ``q`` its ``q``-th list parameter (a length
distribution and ``C`` element distributions). Program ``k``'s places come from
:func:`neuralc.library.interface.interface`; its constants (addresses, a constant 1) are sharp.

An answer is ``O = 2 + C_out`` distributions (``C_out = C`` when some program returns a list,
else 0):

    slot 0      the answer's kind: value 0 for an integer, 1 for a list (sharp per program)
    slot 1      the integer, or the list's length
    slot 2 + j  element j of a list (read back at the program's output places)

Each program runs alone (rows started sharply at its entry) for its own step budget and the
answers are mixed, ``y = Σ_k s_k y_k`` — the exact distribution of "pick program k with
probability s_k, run it"; programs with different interfaces never share a register.
``superposition`` runs one machine from ``c_0 = s · entries`` (the paper's form), for libraries
whose programs all share their places.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..lang.errors import RuntimeProgramError, UsageError
from ..lang.interp import run_reference
from ..lang.program import Sizes
from ..learn.blocks import LibraryComputer
from ..library import get, python_program
from ..library.interface import interface, link_library
from ..machine import State
from .tasks import IGNORE

__all__ = ["CallOutput", "LibraryCalls", "answer_labels", "library_entries", "library_spec",
           "read_answer"]

EXACT_CACHE = 1 << 20  # exact answers kept before the cache starts over


def answer_labels(answer, outputs: int) -> list[int]:
    """The labels of the ``outputs`` answer slots: ``[0, v, IGNORE, ...]`` for an integer,
    ``[1, len, x_0, ..., IGNORE, ...]`` for a list (IGNORE slots do not count)."""
    if isinstance(answer, (list, tuple)):
        if len(answer) > outputs - 2:
            raise ValueError(f"a list answer of {len(answer)} values; the library's lists hold "
                             f"at most {outputs - 2}")
        head = [1, len(answer), *answer]
    else:
        head = [0, int(answer)]
    return head + [IGNORE] * (outputs - len(head))


def read_answer(values) -> int | list[int]:
    """The answer from the argmax of every slot: an int, or a list of the length the model
    read (slot 1) — no rule over the text."""
    values = [int(v) for v in values]
    if values[0] != 1:
        return values[1]
    return values[2: 2 + min(values[1], len(values) - 2)]


class CallOutput(NamedTuple):
    outputs: torch.Tensor  # (B,O,N) answer distributions
    halted: torch.Tensor  # (B,) halting probability after the step budget
    per_program: torch.Tensor | None = None  # (B,E,O,N) answers of each program alone


def library_spec(entry) -> dict:
    """What a saved model keeps of a program: a standard program's name, or a user's Python
    source and function (so a model folder rebuilds its library without the file)."""
    from ..library import entries

    if entries().get(entry.name) is entry:
        return {"name": entry.name}
    return {"name": entry.name, "source": entry.source, "function": entry.function}


def library_entries(specs: list[dict]):
    return [get(s["name"]) if "source" not in s else
            python_program(s["source"], s["function"], name=s["name"]) for s in specs]


def _distinct_prefix(tokens) -> int:
    """How many of a parse's first slots read distinct tokens."""
    seen = set()
    for i, t in enumerate(tokens):
        if t in seen:
            return i
        seen.add(t)
    return len(tokens)


class LibraryCalls(nn.Module):
    """The library of ``specs`` (see :func:`library_spec`) as a frozen computer with its
    interfaces; ``forward(selection, scalars, lengths, elements)`` (module docstring)."""

    def __init__(self, specs: list[dict], budgets: list[int], n: int = 128, capacity: int = 0,
                 registers: int = 40, memory: int = 32, alu: str = "sparse"):
        super().__init__()
        self._args = (specs, budgets, n, capacity, registers, memory, alu)
        entries = library_entries(specs)
        sizes = Sizes(n=n, registers=registers, memory=memory)
        self._entries, self.sizes = entries, sizes
        self._answers: dict[tuple, tuple | None] = {}  # (k, scalars, lists) → answer slots
        self.names = [e.name for e in entries]
        self.faces = [interface(e, sizes, max(capacity, 1)) for e in entries]
        self.image = link_library(entries, sizes)
        self.budgets = list(budgets)
        self.capacity = capacity
        self.list_out = capacity if any(f.returns == "list" for f in self.faces) else 0
        self.computer = LibraryComputer(self.image.program, alu=alu, outputs=(),
                                        entries=[self.image.entries[nm] for nm in self.names],
                                        steps=max(self.budgets), readout="final")
        self.computer.requires_grad_(False)
        K, M = registers, sizes.m
        base_r = torch.zeros(len(entries), K, n)
        base_m = torch.zeros(len(entries), M, n)
        base_r[..., 0] = 1.0
        base_m[..., 0] = 1.0
        for k, face in enumerate(self.faces):
            for (kind, i), v in face.constants:
                t = base_r if kind == "reg" else base_m
                t[k, i] = 0.0
                t[k, i, v % n] = 1.0
        self.register_buffer("base_registers", base_r, persistent=False)  # (E,K,N)
        self.register_buffer("base_memory", base_m, persistent=False)  # (E,M,N)

    @property
    def scalar_slots(self) -> int:
        return max((len(f.scalars) for f in self.faces), default=0)

    @property
    def list_slots(self) -> int:
        return max((len(f.lists) for f in self.faces), default=0)

    @property
    def outputs(self) -> int:
        return 2 + self.list_out

    def restore_derived(self) -> None:
        """Rebuild the non-saved buffers (constants, the ALU's index tables) exactly:
        ``from_pretrained`` in transformers 5 leaves them as uninitialised placeholders."""
        with torch.device("cpu"):
            fresh = dict(LibraryCalls(*self._args).named_buffers())
        for prefix, mod in self.named_modules():
            for name in mod._non_persistent_buffers_set:
                old = mod._buffers[name]
                new = fresh.get(f"{prefix}.{name}" if prefix else name)
                if new is None:  # a buffer this ALU size leaves unset (named_buffers skips None)
                    mod._buffers[name] = None
                    continue
                mod._buffers[name] = new.to(old.device if old is not None and
                                            old.device.type != "meta" else new.device)

    # -- one program --------------------------------------------------------------------------
    def _start(self, k: int, scalars, lengths, elements):
        """Registers (B,K,N) and memory (B,M,N) that start program ``k`` on the parse."""
        B = scalars.shape[0] if scalars is not None else lengths.shape[0]
        dtype = (scalars if scalars is not None else lengths).dtype
        regs = self.base_registers[k].to(dtype).expand(B, -1, -1)
        mem = self.base_memory[k].to(dtype).expand(B, -1, -1)
        face = self.faces[k]
        places: dict[tuple[str, int], torch.Tensor] = {}
        for i, place in enumerate(face.scalars):
            places[place] = scalars[:, i]
        for q, (length, cells) in enumerate(face.lists):
            places[length] = lengths[:, q]
            for j, cell in enumerate(cells[: self.capacity]):
                places[cell] = elements[:, q, j]
        for kind in ("reg", "mem"):
            idx = [i for (kd, i) in places if kd == kind]
            if idx:
                vals = torch.stack([places[kind, i] for i in idx], 1)
                where = torch.tensor(idx, device=vals.device)
                if kind == "reg":
                    regs = regs.index_copy(1, where, vals)
                else:
                    mem = mem.index_copy(1, where, vals)
        return regs, mem

    def _answer(self, k: int, registers: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """(R,O,N) the answer of program ``k`` read from a final state."""
        R, _, N = registers.shape
        out = self.faces[k].output
        kind = torch.zeros(R, 1, N, dtype=registers.dtype, device=registers.device)
        kind[:, 0, 0 if out[0] == "reg" else 1] = 1.0
        C = self.list_out
        if out[0] == "reg":
            rest = torch.zeros(R, C, N, dtype=registers.dtype, device=registers.device)
            return torch.cat([kind, registers[:, out[1]][:, None], rest], 1)
        if out[0] == "list":
            (lk, li), cells = out[1], out[2]
            length = (registers if lk == "reg" else memory)[:, li]
            elems = memory[:, torch.tensor([c for _, c in cells[:C]], device=memory.device)]
            return torch.cat([kind, length[:, None], elems], 1)
        # ("pointer", r): the list at the address held in r, its length in the cell before:
        # y_j = Σ_a P(r = a) M[a + j]  (j = -1 is the length)
        M = memory.shape[1]
        address = registers[:, out[1], :M]  # (R,M) addresses beyond memory cannot hold a list
        offsets = torch.arange(-1, C, device=memory.device)
        idx = (torch.arange(M, device=memory.device)[:, None] + offsets) % M  # (M, C+1)
        read = torch.einsum("ra,rajn->rjn", address, memory[:, idx])
        return torch.cat([kind, read], 1)

    # -- exact answers on sharp inputs ----------------------------------------------------------
    def explains(self, scalars: list, lengths: list | None, elements: list | None,
                 labels: list, tokens: list | None = None,
                 available: list | None = None) -> list[list[int]]:
        """How many programs answer ``labels`` when run exactly on sharp inputs.

        Per request ``r``: ``scalars[r]`` its parses, each the integer of every scalar slot;
        ``lengths[r]``/``elements[r]`` its lists (ints, one per list slot); ``labels[r]`` its
        answer slots (:func:`answer_labels`, IGNORE slots do not count). Returns, per request,
        the count for each parse. Each program runs on the reference interpreter for its own
        step budget (what the machine computes from one-hot inputs); the answers are cached.

        ``tokens[r]`` (with ``available[r]``, the request's number of candidate tokens): the
        token each parse reads into each slot. A program then explains a parse only where its
        own scalar inputs read distinct tokens, when the request has that many: one token
        fills one input. Without it ``max(b, b)`` explains the answer ``b`` as well as
        ``max(a, b)`` does, and ``min(b, b)`` too, so that reading gets the count of both
        programs and leaves nothing to tell them apart (measured: MiniLM reading "26" twice in
        "first number 26, second number 27, compute the maximum", selection 0.51 / 0.49).
        """
        out = []
        for r, lab in enumerate(labels):
            lists = () if lengths is None else tuple(
                tuple(elements[r][q][: lengths[r][q]]) for q in range(len(lengths[r])))
            counted = [(j, a) for j, a in enumerate(lab) if a != IGNORE]
            row = []
            for p, parse in enumerate(scalars[r]):
                hits = 0
                # one token fills one input: a program with more inputs than the parse's
                # distinct first slots is out, unless the request has too few tokens
                distinct = len(parse) if tokens is None else _distinct_prefix(tokens[r][p])
                for k, face in enumerate(self.faces):
                    if distinct < len(face.scalars) <= available[r]:
                        continue
                    got = self._exact(k, tuple(parse), lists)
                    hits += got is not None and all(got[j] == a for j, a in counted)
                row.append(hits)
            out.append(row)
        return out

    def _exact(self, k: int, scalars: tuple, lists: tuple) -> tuple | None:
        """Program ``k``'s answer slots on sharp inputs (None when it does not halt in its
        budget or answers a list longer than the answer slots)."""
        face = self.faces[k]
        key = (k, scalars[: len(face.scalars)], lists[: len(face.lists)])
        if key not in self._answers:
            if len(self._answers) >= EXACT_CACHE:
                self._answers.clear()
            self._answers[key] = self._run_exact(k, *key[1:])
        return self._answers[key]

    def _run_exact(self, k: int, scalars: tuple, lists: tuple) -> tuple | None:
        """None also when the program raises on these inputs (a user's ``raise`` on a parse
        that is wrong) or its answer does not fit the answer slots."""
        entry = self._entries[k]
        ints, seqs = iter(scalars), iter(lists)
        args = [list(next(seqs)) if p.kind == "list" else next(ints) for p in entry.inputs_ports]
        try:
            run = run_reference(entry.program(self.sizes), *entry.inputs(args, self.sizes),
                                max_steps=self.budgets[k])
            if not run.halted:
                return None
            return tuple(answer_labels(entry.output(run, self.sizes), self.outputs))
        except (RuntimeProgramError, UsageError, ValueError, TypeError, IndexError):
            return None

    # -- the library ----------------------------------------------------------------------------
    def forward(self, selection: torch.Tensor, scalars: torch.Tensor | None,
                lengths: torch.Tensor | None = None, elements: torch.Tensor | None = None,
                superposition: bool = False) -> CallOutput:
        """``selection`` (B,E); ``scalars`` (B,S,N); ``lengths`` (B,Q,N) and ``elements``
        (B,Q,C,N) of the list slots (None without lists)."""
        B, E = selection.shape
        if superposition:
            return self._superposed(selection, scalars, lengths, elements)
        s = selection.to(self.computer.program.instr.dtype)
        y_k = halted = None
        for T in sorted(set(self.budgets)):
            ks = [k for k in range(E) if self.budgets[k] == T]
            starts = [self._start(k, scalars, lengths, elements) for k in ks]
            # row b·|ks| + j: request b, program ks[j]
            regs = torch.stack([r for r, _ in starts], 1).flatten(0, 1)
            mem = torch.stack([m for _, m in starts], 1).flatten(0, 1)
            out = self.computer.run_states(regs, mem, ks * B, T)
            fin = out.state
            ans = torch.stack([self._answer(k, fin.registers.view(B, len(ks), *regs.shape[1:])[:, j],
                                            fin.memory.view(B, len(ks), *mem.shape[1:])[:, j])
                               for j, k in enumerate(ks)], 1)  # (B,|ks|,O,N)
            if y_k is None:
                y_k = ans.new_zeros(B, E, *ans.shape[2:])
                halted = ans.new_zeros(B, E)
            idx = torch.tensor(ks, device=ans.device)
            y_k = y_k.index_copy(1, idx, ans)
            halted = halted.index_copy(1, idx, out.halted.view(B, len(ks)))
        return CallOutput(torch.einsum("be,beon->bon", s, y_k), (s * halted).sum(-1), y_k)

    def _superposed(self, selection, scalars, lengths, elements) -> CallOutput:
        if len({(f.scalars, f.lists, f.constants, f.output) for f in self.faces}) != 1:
            raise ValueError("superposition needs programs that share their places; use "
                             "selection_mode='programs'")
        regs, mem = self._start(0, scalars, lengths, elements)
        s = selection.to(self.computer.program.instr.dtype)
        counter = self.computer.entry_distribution(s, s.shape[0])  # c_0 = s · entries
        run = self.computer.computer(State(regs.to(s.dtype), mem.to(s.dtype), counter),
                                     max(self.budgets))
        fin = run.readout("final")
        return CallOutput(self._answer(0, fin.registers, fin.memory), run.state.halted, None)
