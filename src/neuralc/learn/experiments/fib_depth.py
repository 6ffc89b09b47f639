"""``fib-depth`` (docs/DESIGN.md §10.2, §11.5): routing into the compiled Fibonacci loop, accuracy vs depth.

Task: three one-hot inputs (x0, x1, x2) ∈ Z_n³; the answer is the Fibonacci loop's R2 after
``d`` iterations started from R1 = a = x2, R2 = b = x0 (x1 is a distractor). The minimal network
(one layer before the computer, one after, :class:`MinimalNet`) must route x2 → R1 and x0 → R2
through the frozen compiled loop (the standard library's ``fib``, the paper's 8 interpreter steps
per depth, R4 = d set as a library constant). One model per depth d and per mode:

* ``soft`` — the paper's superposition (reproduces the degradation with depth);
* ``anneal``, ``ste``, ``topk``, ``tabulated`` — the input-sharpening remedies
  (:mod:`neuralc.learn.minimal`); ``topk`` and ``tabulated`` train through the loop's sharp
  results on input hypotheses (a table), not through the machine;
* ``curriculum`` — the ``soft`` network trained through the soft machine at depths 1..d, a mixed
  depth curriculum (:mod:`neuralc.learn.curriculum`), AdamW with weight decay
  (``weight_decay``); its epochs are the curriculum's (``curriculum``: ``stage_epochs``,
  ``final_epochs``), not ``epochs``.

Every run reports, per epoch (epoch 0 = at initialisation), the test accuracy of the model's own
forward (``test_acc``) and the check that runs the real machine: the sharp loop on the argmax
routing, its R2 read as the answer (``test_acc_machine``), and the fraction of test triples
routed exactly (``test_routing_acc``: R1 = x2 and R2 = x0); at the end, the sharp machine's
answer through ``after`` (``test_acc_sharp``).
``routing_grad_init`` is ‖∂ℒ/∂W_before‖ at initialisation, through the model's own forward at
the target depth, on the training set: how much the answers say about the routing there.
``trained_through_machine`` says which modes have the machine in their training graph.
"""

from __future__ import annotations

import torch

from ... import library
from ...lang.interp import run_reference
from ...lang.program import Sizes
from ...machine import encode
from ..alu import SubsetTableALU, used_table_ops
from ..blocks import LibraryComputer
from ..curriculum import DepthCurriculum
from ..minimal import MinimalNet
from .common import (
    Context,
    evaluate,
    plot_lines,
    set_threads,
    split,
    train_curriculum,
    train_minimal,
    triples,
)

NAME = "fib-depth"
HELP = "E2: route inputs into the compiled Fibonacci loop, accuracy vs depth, with remedies"

# which modes train through the (soft) machine; topk and tabulated train through its sharp
# results on input hypotheses, read from a table
TRAINED_THROUGH_MACHINE = {"soft": True, "anneal": True, "ste": True, "curriculum": True,
                           "topk": False, "tabulated": False}
ROUTE = ((1, 2), (2, 0))  # (register, input slot): R1 ← x2, R2 ← x0


def config(quick: bool) -> dict:
    if quick:
        return {"n": 16, "depths": [1, 2, 3],
                "plan": {"soft": [1, 2], "tabulated": [1, 2], "curriculum": [3]},
                "train": 512, "test": 256, "epochs": 4, "batch": 32, "lr": 0.1, "k": 3,
                "weight_decay": {"curriculum": 0.05},
                "curriculum": {"stage_epochs": 5, "final_epochs": 5}}
    # the soft machine costs ~8·d steps forward and backward per batch: some modes run at fewer
    # depths (2 CPU cores shared); tabulated and topk train through the tabulated program
    return {"n": 16, "depths": [1, 2, 3, 4, 5, 6, 7, 8],
            "plan": {"tabulated": [1, 2, 3, 4, 5, 6, 7, 8], "topk": [1, 2, 3, 4, 5, 6, 7, 8],
                     "soft": [1, 2, 4, 8], "anneal": [8], "ste": [8],
                     "curriculum": [1, 2, 3, 4, 5, 6, 7, 8]},
            "train": 512, "test": 512, "epochs": 6, "batch": 32, "lr": 0.1, "k": 4,
            "weight_decay": {"curriculum": 0.05},
            "curriculum": {"stage_epochs": 3, "final_epochs": 6}}


def make_computer(n: int, depth: int) -> LibraryComputer:
    fib = library.get("fib")
    sizes = Sizes(n=n, registers=8)
    program = fib.program(sizes)
    params = encode(program)
    alu = SubsetTableALU(n, used_table_ops(params))  # the lookup table of the 4 ops it uses
    budget = run_reference(program, *fib.inputs([0, 1, depth], sizes)).steps
    return LibraryComputer(params, alu=alu, outputs=[2], constants={4: depth}, steps=budget,
                           readout="mixture")


def answers(x: torch.Tensor, n: int, depth: int) -> torch.Tensor:
    """R2 after ``depth`` iterations from R1 = x2, R2 = x0 (B,)."""
    return torch.tensor([library.fibonacci(int(r[2]), int(r[0]), depth, n) for r in x])


def dataset(n: int, depth: int, seed: int, train: int, test: int):
    xtr, xte = split(triples(n, 3), seed, train, test)
    return xtr, answers(xtr, n, depth), xte, answers(xte, n, depth)


@torch.no_grad()
def machine_check(model: MinimalNet, x: torch.Tensor, y: torch.Tensor, n: int) -> dict:
    """The real machine on the learned argmax routing: answer accuracy (its R2, no ``after``)
    and exact-routing accuracy."""
    xb = torch.nn.functional.one_hot(x, n).float()
    route = model.argmax_routing(xb)
    routed = torch.ones(x.shape[0], dtype=torch.bool)
    for i, (_, slot) in enumerate(ROUTE):
        routed &= route[:, i] == x[:, slot]
    return {"test_acc_machine": float((model.machine_answers(xb)[:, 0] == y).float().mean()),
            "test_routing_acc": float(routed.float().mean())}


def routing_gradient(model: MinimalNet, x: torch.Tensor, y: torch.Tensor, n: int) -> float:
    """‖∂ CE(model(x), y) / ∂ W_before‖ (Frobenius), the gradients left cleared."""
    loss = torch.nn.functional.cross_entropy(model(torch.nn.functional.one_hot(x, n).float()), y)
    (grad,) = torch.autograd.grad(loss, model.before.weight)
    return float(grad.norm())


def train_one(mode: str, depth: int, cfg: dict, ctx: Context) -> dict:
    n, seed = cfg["n"], ctx.seed
    torch.manual_seed(seed)
    xtr, ytr, xte, yte = dataset(n, depth, seed, cfg["train"], cfg["test"])
    wd = cfg["weight_decay"].get(mode, 0.0)
    desc = f"{mode} d={depth}"
    if mode == "curriculum":
        plan = DepthCurriculum(depth, seed=seed, **cfg["curriculum"])
        machines = {d: make_computer(n, d) for d in plan.depths}
        model = MinimalNet(machines[depth], 3, (1, 2), mode="soft")
        grad0 = routing_gradient(model, xtr, ytr, n)
        hist = train_curriculum(model, machines, xtr, {d: answers(xtr, n, d) for d in machines},
                                xte, {d: answers(xte, n, d) for d in machines}, n,
                                curriculum=plan, lr=cfg["lr"], batch=cfg["batch"], seed=seed,
                                ctx=ctx, desc=desc, weight_decay=wd,
                                check=lambda: machine_check(model, xte, yte, n))
        hist["test_acc_sharp"] = evaluate(model, xte, yte, n, "sharp")
    else:
        model = MinimalNet(make_computer(n, depth), 3, (1, 2), mode=mode, k=cfg["k"])
        grad0 = routing_gradient(model, xtr, ytr, n)
        hist = train_minimal(model, xtr, ytr, xte, yte, n, epochs=cfg["epochs"], lr=cfg["lr"],
                             batch=cfg["batch"], seed=seed, ctx=ctx, desc=desc,
                             eval_modes=("sharp",), weight_decay=wd,
                             check=lambda: machine_check(model, xte, yte, n))
    return {**hist, "routing_grad_init": grad0}


def run(ctx: Context) -> dict:
    set_threads()
    cfg = ctx.config(config(ctx.quick))
    n = cfg["n"]
    plan = cfg["plan"]
    results = {"config": cfg, "seed": ctx.seed, "runs": {},
               "trained_through_machine": {m: TRAINED_THROUGH_MACHINE[m] for m in plan}}
    for mode, depths in plan.items():
        results["runs"][mode] = {}
        for depth in depths:
            results["runs"][mode][str(depth)] = train_one(mode, depth, cfg, ctx)
            ctx.save_json("metrics.json", results)

    def final(key):
        return {m: [_last(results["runs"][m][str(d)][key]) for d in plan[m]] for m in plan}

    for key in ("test_acc", "test_acc_machine", "test_acc_sharp", "test_routing_acc"):
        results[f"final_{key}"] = final(key)
    ctx.save_json("metrics.json", results)
    machine = results["final_test_acc_machine"]
    plot_lines(ctx.out / "fib_depth.png", {m: (plan[m], machine[m]) for m in plan},
               xlabel="depth d (8 interpreter steps each)",
               ylabel="test accuracy, the machine on the argmax routing",
               title=f"Fibonacci routing vs depth (n={n}, seed {ctx.seed})")
    own = results["final_test_acc"]
    plot_lines(ctx.out / "fib_depth_forward.png", {m: (plan[m], own[m]) for m in plan},
               xlabel="depth d (8 interpreter steps each)",
               ylabel="test accuracy, the model's own forward",
               title=f"Fibonacci routing vs depth (n={n}, seed {ctx.seed})")
    dmax = cfg["depths"][-1]
    headline = {"experiment": NAME, "n": n, "max_depth": dmax}
    for m in plan:
        for d in sorted({plan[m][0], plan[m][-1]}):
            i = plan[m].index(d)
            headline[f"acc_d{d}_{m}"] = round(own[m][i], 4)
            headline[f"acc_d{d}_{m}_machine"] = round(machine[m][i], 4)
    at_max = [m for m in plan if plan[m][-1] == dmax]
    if at_max:
        headline["best_mode_at_max_depth_machine"] = max(at_max, key=lambda m: machine[m][-1])
    headline["trained_through_machine"] = [m for m in plan if TRAINED_THROUGH_MACHINE[m]]
    return headline


def _last(v):
    return v[-1] if isinstance(v, list) else v
