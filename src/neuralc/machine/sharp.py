"""A sharp run of a program on the differentiable machine (``neuralc run --backend machine``).

The program is encoded as exact one-hot probabilities, the inputs as one-hot values; the machine
then runs step by step until its halting probability reaches 1/2 or the step budget is spent, and
the values are read back by argmax. With exact one-hot inputs every product in a step is by 0 or
1, so the run is exact and must agree with :func:`neuralc.lang.interp.run_reference` in every
register, memory cell, halting flag and step count.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import torch

from ..lang.errors import UsageError
from ..lang.interp import DEFAULT_MAX_STEPS
from ..lang.program import Program
from .alu import program_ops
from .computer import resolve_alu
from .params import encode
from .state import initial_state
from .step import prepare, step

__all__ = ["MachineRunResult", "parse_device", "parse_dtype", "run_machine"]

HALTED = 0.5  # a run counts as halted once its halting probability reaches this


@dataclass
class MachineRunResult:
    """The read-back of a sharp machine run (argmax of every distribution).

    ``confidence``: the smallest probability of any reported value (the argmax of every register
    and memory cell) and of the reported halting state (h if halted, else 1 − h).
    ``counter``: the counter's most likely position at the end (L when halted).
    """

    halted: bool
    steps: int
    registers: list[int]
    memory: list[int]
    confidence: float
    counter: int = 0

    def to_json(self) -> dict:
        return {"halted": self.halted, "steps": self.steps, "registers": list(self.registers),
                "memory": list(self.memory), "confidence": self.confidence}


def parse_dtype(dtype: str | torch.dtype) -> torch.dtype:
    """``"float32"``/``"float64"`` (or a torch dtype of those) → the torch dtype."""
    table = {"float32": torch.float32, "float64": torch.float64}
    if isinstance(dtype, torch.dtype):
        if dtype in table.values():
            return dtype
    elif dtype in table:
        return table[dtype]
    raise UsageError(f"unsupported dtype {dtype!r} (float32 or float64)")


def parse_device(device: str | torch.device) -> torch.device:
    """A torch device, refusing CUDA when it is not available (a clear error, not a crash)."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise UsageError(f"unknown device {device!r} (cpu or cuda)") from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UsageError("device cuda requested but CUDA is not available")
    if dev.type not in ("cpu", "cuda"):
        raise UsageError(f"unsupported device {device!r} (cpu or cuda)")
    return dev


def run_machine(
    program: Program,
    registers: dict[int, int] | list[int] | None = None,
    memory: dict[int, int] | list[int] | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    alu: str = "sparse",
    device: str | torch.device = "cpu",
    dtype: str | torch.dtype = "float32",
    entry: int | None = None,
    *,
    fast: bool = True,
    check_every: int | None = None,
) -> MachineRunResult:
    """Run ``program`` sharply on the differentiable machine (module docstring).

    ``fast``: read only the current line each step (bit-identical on sharp runs; ``False`` mixes
    over all lines, the general path). ``check_every``: how often the halting probability is read
    back (default every step on the CPU, every 32 steps on CUDA, where a read-back stalls the
    device); steps after halting change nothing, and the step count is Σ_t (1 − h_t), so the
    result does not depend on it. Raises :class:`UsageError` for a bad ALU, device or dtype.
    """
    dt = parse_dtype(dtype)
    dev = parse_device(device)
    sizes = program.sizes
    try:
        alu_module = resolve_alu(alu, sizes.n, dt, dev, ops=program_ops(program))
    except (ValueError, MemoryError) as e:
        raise UsageError(str(e)) from e
    if check_every is None:
        check_every = 1 if dev.type == "cpu" else 32
    L = program.L
    with torch.inference_mode(), _one_thread(dev):
        params = encode(program, dtype=dt, device=dev)
        prog = prepare(params)
        state = initial_state(sizes, L, 1, _values(registers, sizes.registers),
                              _values(memory, sizes.m),
                              program.entry if entry is None else entry, dtype=dt, device=dev)
        expected = torch.zeros((), dtype=dt, device=dev)
        # On the CPU, reading the current line back is cheap: a line without table ops has
        # f[table] = 0 exactly, so the ALU's output Σ_i f_i o_i is exactly 0 and need not be
        # computed (bit-identical; the ALU dominates the cost of a sharp step).
        skip_idle_alu = fast and dev.type == "cpu"
        uses_alu = [any(op.instruction.kind == "table" for op in line) for line in program.lines]
        t = 0
        while t < max_steps:
            if t % check_every == 0 and state.counter[0, L].item() >= HALTED:
                break
            expected = expected + (1 - state.counter[0, L])
            alu_now = alu_module
            if skip_idle_alu:
                line = int(state.counter[0].argmax())
                if line < L and not uses_alu[line]:
                    alu_now = _idle_alu
            state = step(prog, state, alu_now, fast=fast)
            t += 1
        h = float(state.counter[0, L])
        regs = state.registers[0].max(-1)
        mem = state.memory[0].max(-1)
        halted = h >= HALTED
        confidence = min(float(regs.values.min()), float(mem.values.min()),
                         h if halted else 1 - h)
        return MachineRunResult(
            halted=halted, steps=round(float(expected)),
            registers=regs.indices.tolist(), memory=mem.indices.tolist(),
            confidence=confidence, counter=int(state.counter[0].argmax()),
        )


@contextmanager
def _one_thread(device: torch.device):
    """A sharp run is many tiny ops: on the CPU, intra-op threads only cost synchronisation
    (badly so on a loaded machine), so run it on one thread and restore the setting after."""
    if device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _idle_alu(f: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The ALU's output when every table-op weight is 0: exactly 0."""
    return torch.zeros_like(u)


def _values(values, rows: int):
    """Validate int register/memory inputs (dict or list) against the machine's sizes."""
    if values is None:
        return None
    items = values.items() if isinstance(values, dict) else enumerate(values)
    out = {}
    for i, v in items:
        if not 0 <= int(i) < rows:
            raise UsageError(f"index {i} out of range 0..{rows - 1}")
        out[int(i)] = int(v)
    return out
