"""``contextual`` (the controller δ: θ, z ↦ ϱ of docs/DESIGN.md §10.4, deferred by the paper): a network
emits the program itself — per-line distributions — from its input, and learns a small family of
input-dependent programs from answers alone.

Input: a context z (one-hot, which function is wanted) and two values a → r0, b → r1 (one-hot,
written straight into the registers). The emitter (:class:`ProgramEmitter`) turns z into a
3-line program (every field: instruction, registers, immediate, target); the machine runs it
3 steps in superposition; the loss is the cross-entropy of r2 (the halting-weighted mixture)
with f_z(a, b). Nothing tells the emitter which instructions to use. Afterwards we decompile the
program it emits for every z and run it on the reference interpreter over all (a, b).
"""

from __future__ import annotations

import torch

from ...lang.interp import run_reference
from ...lang.program import Sizes
from ...machine import decompile, decompile_text, initial_state, prepare
from ...machine import run as machine_run
from ..losses import value_nll
from ..memorize import ProgramEmitter
from .common import Context, plot_lines, progress, set_threads

NAME = "contextual"
HELP = "a network emits per-line program distributions from its input (controller δ)"

FAMILY = {
    "a+b": lambda a, b, n: (a + b) % n,
    "a-b": lambda a, b, n: (a - b) % n,
    "b-a": lambda a, b, n: (b - a) % n,
    "a*b": lambda a, b, n: (a * b) % n,
    "max(a,b)": lambda a, b, n: max(a, b),
    "2a+b": lambda a, b, n: (2 * a + b) % n,
}


def config(quick: bool) -> dict:
    if quick:
        return {"n": 8, "registers": 4, "lines": 3, "family": ["a+b", "a-b", "max(a,b)"], "steps": 150,
                    "batch": 64, "lr": 2e-2, "hidden": 32}
    return {"n": 16, "registers": 4, "lines": 3, "family": list(FAMILY), "steps": 600, "batch": 128, "lr": 1e-2,
                "hidden": 64}


def run(ctx: Context) -> dict:
    set_threads()
    cfg = ctx.config(config(ctx.quick))
    n, K, L = cfg["n"], cfg["registers"], cfg["lines"]
    sizes = Sizes(n=n, registers=K, memory=1)
    family = cfg["family"]
    P = len(family)
    torch.manual_seed(ctx.seed)
    emitter = ProgramEmitter(P, L, 1, sizes, hidden=cfg["hidden"])
    from ...machine.alu import make_alu

    alu = make_alu("dense", n)
    z = torch.eye(P)
    opt = torch.optim.Adam(emitter.parameters(), lr=cfg["lr"])
    g = torch.Generator().manual_seed(ctx.seed)
    eye = torch.eye(n)
    losses, accs = [], []
    for s in progress(range(cfg["steps"]), ctx, "contextual"):
        out = emitter(z)
        loss, hits = 0.0, 0.0
        for i, name in enumerate(family):
            a = torch.randint(0, n, (cfg["batch"],), generator=g)
            b = torch.randint(0, n, (cfg["batch"],), generator=g)
            y = torch.tensor([FAMILY[name](int(x), int(w), n) for x, w in zip(a, b)])
            prog = prepare(emitter.probs(out, i), sizes)
            state = initial_state(sizes, L, cfg["batch"], registers={0: eye[a], 1: eye[b]})
            r2 = machine_run(prog, state, alu, L, mixture=True).readout("mixture").registers[:, 2]
            loss = loss + value_nll(r2, y)
            hits += float((r2.argmax(-1) == y).float().mean())
        loss = loss / P
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        accs.append(hits / P)
    # decompile what it emits for every context; exact run over every (a, b)
    with torch.no_grad():
        out = emitter(z)
    emitted = {}
    for i, name in enumerate(family):
        params = emitter.program(out, i)
        prog, _ = decompile(params)
        ok = 0
        for a in range(n):
            for b in range(n):
                r = run_reference(prog, {0: a, 1: b}, None, max_steps=L + 1)
                ok += r.registers[2] == FAMILY[name](a, b, n)
        emitted[name] = {"program": decompile_text(params), "accuracy": ok / n / n}
    results = {"config": cfg, "loss": losses, "train_acc_soft": accs, "emitted": emitted}
    ctx.save_json("metrics.json", results)
    (ctx.out / "programs.txt").write_text("".join(
        f"; context {name}: exact accuracy {v['accuracy']:.3f}\n{v['program']}\n"
        for name, v in emitted.items()))
    xs = list(range(1, len(losses) + 1))
    plot_lines(ctx.out / "contextual.png", {"train accuracy (soft run)": (xs, accs)},
               xlabel="step", ylabel="accuracy", title=f"contextual programs ({P} contexts)")
    solved = sum(v["accuracy"] == 1.0 for v in emitted.values())
    return {"experiment": NAME, "contexts": P, "contexts_solved_exactly": solved,
            "mean_exact_accuracy": round(sum(v["accuracy"] for v in emitted.values()) / P, 4),
            "loss_first": round(losses[0], 4), "loss_last": round(losses[-1], 4)}
