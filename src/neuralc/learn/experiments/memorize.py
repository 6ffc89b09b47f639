"""``memorize`` (docs/DESIGN.md §10.4): memorize library programs into one small network, decompile.

The network (:class:`ProgramEmitter`, one hidden layer) gets a one-hot program id and must emit
that program's parameters. After fitting: how many programs decompile exactly to their target,
and the run accuracy of what it emits — the decompiled program on the reference interpreter,
and the emitted *soft* parameters (softmax of the logits) on the machine, both against the
target program on random inputs (every register, memory cell, the halting flag and step count
must agree; for the soft run the argmax of every value).
"""

from __future__ import annotations

import torch

from ... import library
from ...lang.interp import run_reference
from ...lang.program import Program, Sizes
from ...machine import DifferentiableComputer, decompile, decompile_text
from ..memorize import ProgramEmitter, memorize
from .common import Context, plot_lines, progress, set_threads

NAME = "memorize"
HELP = "memorize library programs into a small network; decompile and run what it emits"


def library_programs(sizes: Sizes, quick: bool) -> dict[str, Program]:
    """Standard-library programs, all with the same sizes: calculators, the Fibonacci loops
    and ``mod_add``."""
    from ...isa import TABLE_OPS

    ops = ["add", "sub", "mul", "max"] if quick else list(TABLE_OPS)
    names = [f"calc_{op}" for op in ops] + ["fib", "mod_add"] + ([] if quick else
                                                                 ["fib_parallel"])
    out = {}
    for name in names:
        prog = library.get(name).program(sizes)
        out[name] = Program(prog.lines, sizes, entry=prog.entry, labels=prog.labels)
    return out


def config(quick: bool) -> dict:
    if quick:
        return {"n": 16, "registers": 8, "memory": 16, "hidden": 32, "steps": 150, "lr": 2e-2, "inputs": 16,
                    "max_steps": 40}
    return {"n": 16, "registers": 8, "memory": 16, "hidden": 64, "steps": 400, "lr": 1e-2, "inputs": 64,
                "max_steps": 200}


def _agree(a, b) -> bool:
    return (a.halted, a.steps, list(a.registers), list(a.memory)) == (
        b.halted, b.steps, list(b.registers), list(b.memory))


def run(ctx: Context) -> dict:
    set_threads()
    cfg = ctx.config(config(ctx.quick))
    sizes = Sizes(n=cfg["n"], registers=cfg["registers"], memory=cfg["memory"])
    progs = library_programs(sizes, ctx.quick)
    names = list(progs)
    L = max(p.L for p in progs.values())
    W = max(p.width for p in progs.values())
    sizes = Sizes(n=sizes.n, registers=sizes.registers, memory=sizes.memory, width=W)
    torch.manual_seed(ctx.seed)
    emitter = ProgramEmitter(len(names), L, W, sizes, hidden=cfg["hidden"])
    z = torch.eye(len(names))
    bar = progress(range(cfg["steps"]), ctx, "memorize")
    it = iter(bar)
    losses = memorize(emitter, z, [progs[k] for k in names], steps=cfg["steps"], lr=cfg["lr"],
                      on_step=lambda s, loss: next(it, None))
    g = torch.Generator().manual_seed(ctx.seed)
    per_program = {}
    with torch.no_grad():
        out = emitter(z)
    for i, name in enumerate(names):
        target = progs[name]
        params = emitter.program(out, i, target.L, entry=target.entry,
                                 line_widths=[len(line) for line in target.lines],
                                 labels=target.labels)
        emitted, _ = decompile(params)
        exact = emitted == target
        regs = torch.randint(0, sizes.n, (cfg["inputs"], sizes.registers), generator=g)
        ref_ok = soft_ok = 0
        computer = DifferentiableComputer(params, "dense")
        state = computer.initial_state(cfg["inputs"], registers=regs_onehot(regs, sizes.n))
        with torch.no_grad():
            run_out = computer(state, cfg["max_steps"])
        soft_regs = run_out.state.registers.argmax(-1)
        soft_mem = run_out.state.memory.argmax(-1)
        soft_halted = run_out.state.halted >= 0.5
        for j in range(cfg["inputs"]):
            r0 = {k: int(v) for k, v in enumerate(regs[j])}
            want = run_reference(target, r0, None, max_steps=cfg["max_steps"])
            got = run_reference(emitted, r0, None, max_steps=cfg["max_steps"])
            ref_ok += _agree(want, got)
            soft_ok += (soft_regs[j].tolist() == list(want.registers)
                        and soft_mem[j].tolist() == list(want.memory)
                        and bool(soft_halted[j]) == want.halted)
        per_program[name] = {"lines": target.L, "exact": exact,
                             "run_acc_decompiled": ref_ok / cfg["inputs"],
                             "run_acc_soft": soft_ok / cfg["inputs"]}
        if i < 3 or not exact:
            per_program[name]["decompiled"] = decompile_text(params)
    exact = sum(v["exact"] for v in per_program.values())
    results = {"config": cfg, "programs": per_program, "loss": losses,
               "emitter_parameters": sum(p.numel() for p in emitter.parameters()),
               "L": L, "W": W}
    ctx.save_json("metrics.json", results)
    plot_lines(ctx.out / "memorize_loss.png",
               {"cross-entropy": (list(range(1, len(losses) + 1)), losses)},
               xlabel="step", ylabel="loss", title=f"memorizing {len(names)} programs", ylim=None)
    mean = lambda k: round(sum(v[k] for v in per_program.values()) / len(per_program), 4)
    return {"experiment": NAME, "programs": len(names), "decompiled_exactly": exact,
            "run_acc_decompiled": mean("run_acc_decompiled"), "run_acc_soft": mean("run_acc_soft"),
            "loss_first": round(losses[0], 4), "loss_last": round(losses[-1], 4),
            "emitter_parameters": results["emitter_parameters"]}


def regs_onehot(regs: torch.Tensor, n: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(regs, n).float()
