"""Training blocks: the machine with a compiled library as a module (docs/DESIGN.md §8.5, §9.4, §10.1).

:class:`LibraryComputer` takes input *distributions* — values for some registers and memory cells
(B, N) and a program selection (B, P) over the library's entry points — and returns output
distributions (B, O, N) read from chosen registers or memory cells. The library program itself
is a :class:`neuralc.machine.DifferentiableComputer` (frozen by default, docs/DESIGN.md §7.4); its ALU is
an ordinary sub-module, so :func:`swap_alu` replaces the lookup table by the circuit ALU in the
middle of training without touching anything else (bootstrapping, docs/DESIGN.md §10.3).

Input sharpening for long programs (the remedies of the ``fib-depth`` experiment):

* :func:`straight_through` — the forward pass feeds the machine ``onehot(argmax p)``, the
  backward pass treats it as ``p`` (the straight-through estimator);
* :func:`tempered` — ``softmax(logits / T)`` with a temperature that is annealed towards 0;
* :meth:`LibraryComputer.topk` — exact execution over the top-k hypotheses of every input: each
  combination of one-hot inputs is run sharply (exactly, no gradient through the machine) and the
  output distribution is ``Σ_h w_h e_{out_h}`` with ``w_h = Π_i p_i(x_{h,i})`` (the exact output
  distribution of the independent inputs, restricted to their top k values); the gradient flows
  through the weights ``w_h``.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import torch
from torch import nn

from ..lang.program import Program
from ..machine import DifferentiableComputer, ProgramParams, State, encode
from ..machine.alu import program_ops
from ..machine.computer import resolve_alu

__all__ = [
    "ComputerOutput",
    "LibraryComputer",
    "onehot",
    "straight_through",
    "swap_alu",
    "tempered",
]


class ComputerOutput(NamedTuple):
    """``values`` (B, O, N): the output distributions; ``expected_steps`` (B,): Σ_t (1 − h_t);
    ``halted`` (B,): h_T; ``state``: the state read out (final or halting-weighted mixture)."""

    values: torch.Tensor
    expected_steps: torch.Tensor
    halted: torch.Tensor
    state: State | None


def onehot(index: torch.Tensor, n: int, dtype=torch.float32) -> torch.Tensor:
    return torch.nn.functional.one_hot(index.long(), n).to(dtype)


def straight_through(p: torch.Tensor) -> torch.Tensor:
    """``onehot(argmax p)`` forward, gradient of ``p`` backward (the straight-through estimator)."""
    hard = onehot(p.argmax(-1), p.shape[-1], p.dtype)
    return hard + p - p.detach()


def tempered(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """``softmax(logits / T)``."""
    return torch.softmax(logits / max(float(temperature), 1e-6), dim=-1)


def _parse_output(spec) -> tuple[str, int]:
    if isinstance(spec, int):
        return ("reg", spec)
    kind, index = spec
    if kind not in ("reg", "mem"):
        raise ValueError(f"output kind must be 'reg' or 'mem', got {kind!r}")
    return (kind, int(index))


class LibraryComputer(nn.Module):
    """A compiled library as a module: input distributions in, output distributions out.

    ``program``: a checked :class:`Program` (compiled here with :func:`neuralc.machine.encode`)
    or :class:`ProgramParams`. ``entries``: the library's entry lines, one per selectable program
    (default: the program's entry). ``outputs``: what to read, each a register index or
    ``("reg", k)`` / ``("mem", a)``. ``constants``: register → value held before the first step
    (e.g. a constant 1). ``steps``: the step budget. ``readout``: ``"mixture"`` — the
    halting-weighted mixture of states Σ_t (h_t − h_{t−1}) S_t + (1 − h_T) S_T (docs/DESIGN.md §5.2, for
    training) — or ``"final"``. ``trainable``/``logits``/``sharpness``: see :func:`encode`.
    """

    def __init__(
        self,
        program: Program | ProgramParams,
        *,
        alu: nn.Module | str = "sparse",
        entries: list[int] | tuple[int, ...] | None = None,
        outputs=(0,),
        constants: dict[int, int] | None = None,
        memory: dict[int, int] | None = None,
        steps: int = 100,
        readout: str = "mixture",
        trainable: bool = False,
        logits: bool = False,
        sharpness: float = 20.0,
    ):
        super().__init__()
        if isinstance(program, Program):
            params = encode(program, logits=logits, sharpness=sharpness, trainable=trainable)
            if isinstance(alu, str) and not (logits or trainable):
                # a fixed one-hot program: the ALU computes only the table ops it uses
                alu = resolve_alu(alu, params.sizes.n, params.instr.dtype, params.instr.device,
                                  ops=program_ops(program))
        else:
            params = program
        self.computer = DifferentiableComputer(params, alu)
        self.entries = tuple(entries) if entries is not None else (params.entry,)
        self.outputs = tuple(_parse_output(o) for o in outputs)
        self.constants = dict(constants or {})
        self.memory_constants = dict(memory or {})
        self.steps = int(steps)
        if readout not in ("final", "mixture"):
            raise ValueError(f"unknown readout {readout!r} (final or mixture)")
        self.readout = readout
        self._tables: dict[tuple[int, ...], torch.Tensor] = {}

    # -- parts ---------------------------------------------------------------------------------
    @property
    def program(self) -> ProgramParams:
        return self.computer.program

    @property
    def alu(self) -> nn.Module:
        return self.computer.alu

    @property
    def n(self) -> int:
        return self.program.sizes.n

    def entry_distribution(self, select: torch.Tensor | None, batch: int) -> torch.Tensor:
        """c_0 = Σ_λ s_λ e_{entry(λ)} (B, L+1) (docs/DESIGN.md §8.5); the first entry without
        ``select``."""
        L = self.program.L
        ref = self.program.instr
        place = torch.zeros(len(self.entries), L + 1, dtype=ref.dtype, device=ref.device)
        place[torch.arange(len(self.entries)), torch.tensor(self.entries)] = 1.0
        if select is None:
            return place[0].expand(batch, L + 1)
        if select.shape[-1] != len(self.entries):
            raise ValueError(f"select has {select.shape[-1]} entries, the library "
                             f"{len(self.entries)}")
        return select.to(ref.dtype) @ place

    def initial_state(self, registers: dict | None = None, memory: dict | None = None,
                      select: torch.Tensor | None = None, batch: int | None = None) -> State:
        """The state before the first step: constants, then the given input distributions."""
        given = list((registers or {}).values()) + list((memory or {}).values())
        if batch is None:
            batch = given[0].shape[0] if given else (select.shape[0] if select is not None else 1)
        regs: dict = dict(self.constants)
        regs.update(registers or {})
        mem: dict = dict(self.memory_constants)
        mem.update(memory or {})
        return self.computer.initial_state(batch, regs, mem,
                                           entry=self.entry_distribution(select, batch))

    def read(self, state: State) -> torch.Tensor:
        """The output distributions (B, O, N) of ``state``."""
        rows = [state.registers[:, k] if kind == "reg" else state.memory[:, k]
                for kind, k in self.outputs]
        return torch.stack(rows, dim=1)

    # -- running -------------------------------------------------------------------------------
    def forward(self, registers: dict | None = None, memory: dict | None = None,
                select: torch.Tensor | None = None, *, steps: int | None = None,
                readout: str | None = None, fast: bool = False) -> ComputerOutput:
        """Run the library on input distributions; ``registers``/``memory``: index → (B, N)."""
        state = self.initial_state(registers, memory, select)
        readout = readout or self.readout
        out = self.computer(state, self.steps if steps is None else steps, readout=readout,
                            fast=fast)
        s = out.readout(readout)
        return ComputerOutput(self.read(s), out.expected_steps, out.state.halted, s)

    def run_states(self, registers: torch.Tensor, memory: torch.Tensor, entries: list[int],
                   steps: int, readout: str | None = None) -> ComputerOutput:
        """Run rows given as whole tensors: ``registers`` (R, K, N), ``memory`` (R, M, N), and
        ``entries`` (R indices into the library's entry points) — each row one program started
        sharply at its entry line. ``values`` holds the outputs of ``outputs`` (empty when none
        are set); ``state`` is the state read out, for callers whose outputs differ per row."""
        L = self.program.L
        ref = self.program.instr
        counter = torch.zeros(len(entries), L + 1, dtype=ref.dtype, device=ref.device)
        counter[torch.arange(len(entries)), torch.tensor([self.entries[e] for e in entries])] = 1
        readout = readout or self.readout
        out = self.computer(State(registers.to(ref.dtype), memory.to(ref.dtype), counter), steps,
                            readout=readout)
        s = out.readout(readout)
        values = self.read(s) if self.outputs else s.registers[:, :0]
        return ComputerOutput(values, out.expected_steps, out.state.halted, s)

    @torch.no_grad()
    def run_sharp(self, registers: dict[int, torch.Tensor], memory: dict | None = None,
                  *, steps: int | None = None) -> torch.Tensor:
        """Exact run on integer inputs (index → (B,) long); returns output values (B, O) long."""
        n = self.n
        dt = self.program.instr.dtype
        regs = {k: onehot(v, n, dt) for k, v in registers.items()}
        mem = {k: onehot(v, n, dt) for k, v in (memory or {}).items()}
        out = self.forward(regs, mem, steps=steps, readout="final", fast=True)
        return out.values.argmax(-1)

    def tabulate(self, in_registers: tuple[int, ...]) -> torch.Tensor:
        """Run the program sharply on every combination of values of ``in_registers`` (N^I
        exact runs, once) and keep the outputs (N^I, O), row-major in ``in_registers`` order.
        Later :meth:`topk` calls with these registers read the table instead of running; with
        ``k = N`` they give the *exact* output distribution of independent inputs,
        Σ_x Π_i p_i(x_i) e_{f(x)}, whose gradient path is one step long (docs/DESIGN.md §10.2: "use lookup
        tables where possible")."""
        keys = tuple(in_registers)
        N = self.n
        grids = torch.meshgrid(*[torch.arange(N)] * len(keys), indexing="ij")
        combos = {r: g.reshape(-1) for r, g in zip(keys, grids)}
        outs = [self.run_sharp({r: v[i:i + 4096] for r, v in combos.items()})
                for i in range(0, N ** len(keys), 4096)]
        table = torch.cat(outs).to(self.program.instr.device)
        self._tables[keys] = table
        return table

    def topk(self, registers: dict[int, torch.Tensor], k: int, *,
             steps: int | None = None) -> ComputerOutput:
        """Exact execution over the top-k hypotheses of every input register (module docstring).

        ``registers``: index → (B, N) distributions. Returns ``values`` (B, O, N) = Σ_h w_h
        e_{out_h} over the k^I combinations h (I inputs), w_h = Π_i p_i(x_{h,i}); the mass
        outside the top k is missing (the values sum to Σ_h w_h ≤ 1)."""
        keys = list(registers)
        probs = [registers[r] for r in keys]
        B, N = probs[0].shape
        k = min(k, N)
        top = [p.topk(k, dim=-1) for p in probs]  # values (B,k), indices (B,k)
        combos = list(itertools.product(range(k), repeat=len(keys)))  # H = k^I
        H = len(combos)
        choice = torch.tensor(combos, device=probs[0].device)  # (H, I)
        idx = {r: top[i].indices[:, choice[:, i]] for i, r in enumerate(keys)}  # (B,H)
        w = torch.ones(B, H, dtype=probs[0].dtype, device=probs[0].device)
        for i in range(len(keys)):
            w = w * top[i].values[:, choice[:, i]]
        table = self._tables.get(tuple(keys)) if steps is None else None
        if table is not None:  # the program, tabulated on every input combination
            flat = torch.zeros_like(idx[keys[0]])
            for r in keys:
                flat = flat * N + idx[r]
            out = table[flat]  # (B,H,O)
        else:
            out = self.run_sharp({r: v.reshape(-1) for r, v in idx.items()}, steps=steps)
            out = out.reshape(B, H, -1)
        values = torch.zeros(B, out.shape[-1], N, dtype=w.dtype, device=w.device)
        values = values.scatter_add(2, out.transpose(1, 2),
                                    w[:, None, :].expand(B, out.shape[-1], H))
        zeros = torch.zeros(B, dtype=w.dtype, device=w.device)
        return ComputerOutput(values, zeros, zeros + 1, None)


def swap_alu(module: nn.Module, alu: nn.Module | str, *, trainable: bool = False) -> nn.Module:
    """Bootstrapping (docs/DESIGN.md §10.3): give ``module`` (a :class:`LibraryComputer` or
    :class:`DifferentiableComputer`) a new ALU — e.g. the circuit ALU in place of the lookup
    table — and change nothing else. Returns the new ALU."""
    computer = module.computer if isinstance(module, LibraryComputer) else module
    params = computer.program
    new = resolve_alu(alu, params.sizes.n, params.instr.dtype, params.instr.device)
    if isinstance(alu, str) and trainable:
        from ..machine.alu import make_alu

        new = make_alu(alu, params.sizes.n, trainable=True, dtype=params.instr.dtype,
                       device=params.instr.device)
    computer.alu = new
    return new
