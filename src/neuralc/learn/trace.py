"""Traces you can look at: the counter distribution and chosen registers over time.

:func:`trace_run` steps the machine (:func:`neuralc.machine.step`) and keeps, per step, the
counter (L+1: lines and "halted") and the value distributions of chosen registers;
:func:`plot_traces` draws them as heat maps (time on the x axis), one column per run (e.g. the
sharp program beside a softened one).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..lang.program import Program
from ..machine import encode, initial_state, prepare, step
from ..machine.computer import resolve_alu

__all__ = ["Trace", "plot_traces", "trace_run"]


@dataclass
class Trace:
    """``counter`` (T+1, L+1) and ``registers`` {k: (T+1, N)} of one run; ``title``."""

    counter: torch.Tensor
    registers: dict[int, torch.Tensor]
    title: str
    labels: dict[str, int]

    @property
    def halted(self) -> float:
        return float(self.counter[-1, -1])


@torch.no_grad()
def trace_run(program: Program, registers: dict[int, int] | None = None,
              memory: dict[int, int] | None = None, *, max_steps: int = 100,
              soft: float | None = None, show: list[int] | None = None, alu: str = "sparse",
              stop_at: float = 0.999) -> Trace:
    """Run ``program`` from one-hot inputs and record the trace. ``soft``: a temperature T > 0:
    the program's fields become ``softmax(onehot / T)`` (T → 0 is the sharp program).
    ``show``: the registers to record (default: every register the program writes, at most 6).
    Stops once the halting probability reaches ``stop_at`` (or after ``max_steps`` steps)."""
    sizes = program.sizes
    if soft is None:
        params = encode(program)
    else:
        params = encode(program, logits=True, sharpness=1.0 / soft)
    prog = prepare(params)
    state = initial_state(sizes, program.L, 1, registers, memory, program.entry)
    if show is None:
        written = sorted({op.dest for _, _, op in program.ops() if op.dest is not None})
        show = written[:6] or [0]
    counters = [state.counter[0]]
    regs = {k: [state.registers[0, k]] for k in show}
    unit = resolve_alu(alu, sizes.n, torch.float32)
    for _ in range(max_steps):
        if float(state.counter[0, -1]) >= stop_at:
            break
        state = step(prog, state, unit)
        counters.append(state.counter[0])
        for k in show:
            regs[k].append(state.registers[0, k])
    title = "sharp program" if soft is None else f"softened program (T = {soft:g})"
    return Trace(torch.stack(counters), {k: torch.stack(v) for k, v in regs.items()}, title,
                 dict(program.labels))


def plot_traces(traces: list[Trace], path: str | Path) -> Path:
    """Heat maps: row 1 the counter over time, then one row per register; a column per trace."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    regs = list(traces[0].registers)
    rows = 1 + len(regs)
    fig, axes = plt.subplots(rows, len(traces), figsize=(5.2 * len(traces), 1.2 + 1.9 * rows),
                             squeeze=False)
    for j, tr in enumerate(traces):
        L = tr.counter.shape[1] - 1
        ax = axes[0, j]
        ax.imshow(tr.counter.T.numpy(), aspect="auto", origin="lower", cmap="viridis",
                  vmin=0, vmax=1, interpolation="nearest")
        names = {v: k for k, v in tr.labels.items() if v < L}
        ax.set_yticks(range(L + 1))
        ax.set_yticklabels([f"{i} {names.get(i, '')}".strip() for i in range(L)] + ["halted"],
                           fontsize=6)
        ax.set_title(f"{tr.title}: counter (h_T = {tr.halted:.3f})", fontsize=9)
        for i, k in enumerate(regs, start=1):
            ax = axes[i, j]
            ax.imshow(tr.registers[k].T.numpy(), aspect="auto", origin="lower", cmap="magma",
                      vmin=0, vmax=1, interpolation="nearest")
            ax.set_ylabel(f"r{k} value", fontsize=8)
        axes[-1, j].set_xlabel("step t")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
