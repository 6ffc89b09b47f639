"""Machine throughput: steps per second of a compiled loop (part of ``neuralc bench``).

Measured on one program, a counted loop compiled at the default sizes (n = 128, K = 16),
each batch element with its own loop count so the loops run long:

* ``reference`` — the exact interpreter (:func:`neuralc.lang.interp.run_reference`), batch 1;
* ``sharp run_machine`` — the CLI's sharp run (exact one-hot program, fast path), batch 1;
* ``sharp fast`` — :func:`neuralc.machine.run` with ``fast=True`` on the exact program;
* ``sharp general`` — the same with ``fast=False`` (mixing over all lines by a matmul);
* ``soft general`` — a logits-encoded program (sharpness 20, so no term is exactly zero),
  forward only, and ``soft fwd+bwd`` with gradients to every program field;
* ``fixed fwd+bwd`` — the exact program with gradients to the initial registers only (the
  counter carries them into the ALU's op weights, so every op would be computed), once with
  the full ALU and once with the ALU of the program's ops (``make_alu(..., ops=)``), side by
  side: the speed-up of computing only the ops an image uses.

``steps_per_s`` counts machine steps (one step advances the whole batch);
``element_steps_per_s`` multiplies by the batch. Rows give wall-clock ``ms`` and the
process's ``cpu_ms`` (all threads).
"""

from __future__ import annotations

import statistics
from functools import partial

import torch

from ..lang.interp import run_reference
from ..lang.program import Op, Program, Sizes, Target
from ..machine.alu import make_alu, program_ops
from ..machine.params import encode
from ..machine.run import run
from ..machine.sharp import run_machine
from ..machine.state import initial_state
from ..machine.step import prepare
from .timing import timed

__all__ = ["bench_machine", "loop_program"]


def loop_program(n: int = 128, registers: int = 16) -> Program:
    """r3 ← r0 + (r0 − 1) + … + 1 and M[r0] ← r3 on the way: a loop of 7 lines per turn
    touching the ALU, the memory and both kinds of jumps."""
    T = Target
    return Program([
        (Op("set", (0, 1)),),             # 0: r1 ← 0
        (Op("eq", (0, 1, 2)),),           # 1: r2 ← r0 == 0
        (Op("jump", (2, T(line=8))),),    # 2: done?
        (Op("add", (3, 0, 3)),),          # 3: r3 += r0
        (Op("write", (0, 3)),),           # 4: M[r0] ← r3
        (Op("read", (0, 4)),),            # 5: r4 ← M[r0]
        (Op("dec", (0, 0)),),             # 6: r0 -= 1
        (Op("goto", (T(line=1),)),),      # 7
        (Op("halt"),),                    # 8
    ], Sizes(n=n, registers=registers))


def _fwd_bwd(soft, state, alu, steps: int) -> None:
    out = run(soft, state, alu, steps, mixture=True)
    out.readout("mixture").registers[:, 3].sum().backward()


def _fixed_fwd_bwd(program, state, registers, alu, steps: int) -> None:
    out = run(program, state, alu, steps, mixture=True)
    torch.autograd.grad(out.readout("mixture").registers[:, 3].sum(), registers)


def bench_machine(
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    quick: bool = False,
    *,
    alus: tuple[str, ...] = ("sparse",),
    batches: tuple[int, ...] = (1, 256),
    n: int = 128,
) -> dict:
    """Run the measurements of the module docstring; returns ``{"rows": [...], ...}``."""
    device = torch.device(device)
    steps = 30 if quick else 200
    program = loop_program(n)
    L = program.L
    rows: list[dict] = []

    def row(path, alu, batch, count, timing):
        wall, cpu = timing  # ms
        rows.append({"path": path, "alu": alu, "batch": batch, "steps": count,
                     "ms": round(wall, 2), "cpu_ms": round(cpu, 2),
                     "steps_per_s": round(1e3 * count / wall, 1),
                     "element_steps_per_s": round(1e3 * count * batch / wall, 1)})

    runs = 20 if quick else 200  # the reference: r0 = n − 1, about 7n steps each
    ref_steps = runs * run_reference(program, {0: n - 1}, max_steps=100_000).steps
    row("reference", "-", 1, ref_steps, timed(
        lambda: [run_reference(program, {0: n - 1}, max_steps=100_000) for _ in range(runs)],
        device))

    for alu_name in alus:
        alu = make_alu(alu_name, n, dtype=dtype, device=device)
        only = make_alu(alu_name, n, dtype=dtype, device=device, ops=program_ops(program))
        # the CLI path, batch 1, for 2·steps steps (the loop does not finish: ~7n steps)
        cli = partial(run_machine, program, {0: n - 1}, max_steps=2 * steps, alu=alu_name,
                      device=device, dtype=dtype)
        cli()  # warm-up (builds tables)
        row("sharp run_machine", alu_name, 1, 2 * steps, timed(cli, device))

        sharp = prepare(encode(program, dtype=dtype, device=device))
        soft = encode(program, logits=True, sharpness=20.0, dtype=dtype, device=device,
                      trainable=True)
        for batch in batches:
            g = torch.Generator().manual_seed(batch)
            counts = torch.randint(n // 2, n, (batch,), generator=g)
            R = initial_state(program.sizes, L, batch, dtype=dtype, device=device).registers
            R = R.clone()
            R[:, 0] = torch.nn.functional.one_hot(counts, n).to(dtype=dtype, device=device)
            state = initial_state(program.sizes, L, batch, R, dtype=dtype, device=device)
            with torch.inference_mode():
                for fast in (True, False):
                    go = partial(run, sharp, state, alu, steps, fast=fast)
                    run(sharp, state, alu, 3, fast=fast)  # warm-up
                    row("sharp fast" if fast else "sharp general", alu_name, batch, steps,
                        timed(go, device))
            with torch.no_grad():
                row("soft general", alu_name, batch, steps,
                    timed(partial(run, soft, state, alu, steps), device))
            soft_steps = max(steps // 4, 5)
            go = partial(_fwd_bwd, soft, state, alu, soft_steps)
            go()  # warm-up
            row("soft fwd+bwd", alu_name, batch, soft_steps, timed(go, device))
            # a fixed program, gradients to the registers: full ALU vs the program's ops only,
            # interleaved so that load changes hit both alike
            R = R.clone().requires_grad_()
            fixed = initial_state(program.sizes, L, batch, R, dtype=dtype, device=device)
            runs = {label: partial(_fixed_fwd_bwd, sharp, fixed, R, unit, soft_steps)
                    for label, unit in (("full ALU", alu), ("program's ops", only))}
            times = {label: [] for label in runs}
            for go in runs.values():
                go()  # warm-up
            for _ in range(3):
                for label, go in runs.items():
                    times[label].append(timed(go, device))
            for label, ts in times.items():
                row(f"fixed fwd+bwd, {label}", alu_name, batch, soft_steps,
                    tuple(statistics.median(t[i] for t in ts) for i in range(2)))
    return {
        "rows": rows,
        "program": f"loop_program(n={n}): {L} lines, 7 per loop turn",
        "device": str(device),
        "dtype": str(dtype).replace("torch.", ""),
        "torch_threads": torch.get_num_threads(),
    }
