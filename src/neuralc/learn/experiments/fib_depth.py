"""``fib-depth`` (docs/DESIGN.md §10.2, §11.5): routing into the compiled Fibonacci loop, accuracy vs depth.

Task: three one-hot inputs (x0, x1, x2) ∈ Z_n³; the answer is the Fibonacci loop's R2 after
``d`` iterations started from R1 = a = x2, R2 = b = x0 (x1 is a distractor). The minimal network
(one layer before the computer, one after, :class:`MinimalNet`) must route x2 → R1 and x0 → R2
through the frozen compiled loop (the standard library's ``fib``, the paper's 8 interpreter steps
per depth, R4 = d set as a library constant). One model per depth d and per input mode:

* ``soft`` — the paper's superposition (reproduces the degradation with depth);
* ``anneal``, ``ste``, ``topk``, ``tabulated`` — the remedies (``tabulated`` trains through a
  table of the loop's sharp results, not through the machine) (see :mod:`neuralc.learn.minimal`).

Test accuracy is measured with each model's own forward pass; ``sharp`` accuracy (argmax
routing, exact run) is reported beside it.
"""

from __future__ import annotations

import torch

from ... import library
from ...lang.interp import run_reference
from ...lang.program import Sizes
from ...machine import encode
from ..alu import SubsetTableALU, used_table_ops
from ..blocks import LibraryComputer
from ..minimal import MinimalNet
from .common import Context, plot_lines, set_threads, split, train_minimal, triples

NAME = "fib-depth"
HELP = "E2: route inputs into the compiled Fibonacci loop, accuracy vs depth, with remedies"


def config(quick: bool) -> dict:
    if quick:
        return {"n": 16, "depths": [1, 2], "plan": {"soft": [1, 2], "tabulated": [1, 2]}, "train": 256,
                    "test": 128, "epochs": 4, "batch": 32, "lr": 0.1, "k": 3}
    # the soft machine costs ~8·d steps forward and backward per batch: its modes run at fewer
    # depths (2 CPU cores shared); exact and topk train through the tabulated program
    return {"n": 16, "depths": [1, 2, 3, 4, 5, 6, 7, 8],
                "plan": {"tabulated": [1, 2, 3, 4, 5, 6, 7, 8], "topk": [1, 2, 3, 4, 5, 6, 7, 8],
                      "soft": [1, 2, 4, 8], "anneal": [8], "ste": [8]},
                "train": 512, "test": 512, "epochs": 6, "batch": 32, "lr": 0.1, "k": 4}


def make_computer(n: int, depth: int) -> LibraryComputer:
    fib = library.get("fib")
    sizes = Sizes(n=n, registers=8)
    program = fib.program(sizes)
    params = encode(program)
    alu = SubsetTableALU(n, used_table_ops(params))  # the lookup table of the 4 ops it uses
    budget = run_reference(program, *fib.inputs([0, 1, depth], sizes)).steps
    return LibraryComputer(params, alu=alu, outputs=[2], constants={4: depth}, steps=budget,
                           readout="mixture")


def dataset(n: int, depth: int, seed: int, train: int, test: int):
    x = triples(n, 3)
    xtr, xte = split(x, seed, train, test)

    def answer(xs):
        return torch.tensor([library.fibonacci(int(r[2]), int(r[0]), depth, n) for r in xs])

    return xtr, answer(xtr), xte, answer(xte)


def run(ctx: Context) -> dict:
    set_threads()
    cfg = ctx.config(config(ctx.quick))
    n = cfg["n"]
    results = {"config": cfg, "seed": ctx.seed, "runs": {}}
    for mode, depths in cfg["plan"].items():
        results["runs"][mode] = {}
        for depth in depths:
            torch.manual_seed(ctx.seed)
            xtr, ytr, xte, yte = dataset(n, depth, ctx.seed, cfg["train"], cfg["test"])
            model = MinimalNet(make_computer(n, depth), 3, (1, 2), mode=mode, k=cfg["k"])
            hist = train_minimal(model, xtr, ytr, xte, yte, n, epochs=cfg["epochs"],
                                 lr=cfg["lr"], batch=cfg["batch"], seed=ctx.seed, ctx=ctx,
                                 desc=f"{mode} d={depth}", eval_modes=("sharp",))
            results["runs"][mode][str(depth)] = hist
            ctx.save_json("metrics.json", results)
    plan = cfg["plan"]
    final = {mode: [results["runs"][mode][str(d)]["test_acc"][-1] for d in plan[mode]]
             for mode in plan}
    final_sharp = {mode: [results["runs"][mode][str(d)]["test_acc_sharp"] for d in plan[mode]]
                   for mode in plan}
    results["final_test_acc"] = final
    results["final_test_acc_sharp"] = final_sharp
    ctx.save_json("metrics.json", results)
    plot_lines(ctx.out / "fib_depth.png",
               {m: (plan[m], final[m]) for m in plan},
               xlabel="depth d (8 interpreter steps each)", ylabel="test accuracy",
               title=f"Fibonacci routing vs depth (n={n}, seed {ctx.seed})")
    dmax = cfg["depths"][-1]
    headline = {"experiment": NAME, "n": n, "max_depth": dmax}
    for m in plan:
        for d in sorted({plan[m][0], plan[m][-1]}):
            headline[f"acc_d{d}_{m}"] = round(final[m][plan[m].index(d)], 4)
    at_max = [m for m in plan if plan[m][-1] == dmax]
    headline["best_mode_at_max_depth"] = max(at_max, key=lambda m: final[m][-1])
    return headline
