"""``adapt`` (the idea of Adaptive Neural Compilation, Bunel et al. 2016; docs/DESIGN.md §10.5): start
from a compiled program, train its parameters on a biased input distribution with Bunel's loss
(halting-weighted cross-entropy + a time penalty), and compare the decompiled program before and
after — accuracy and steps on the biased distribution and on the general one.

Program (the standard library's ``mod_add``): (a + b) mod c by ``add``, a compare, a
conditional jump and a subtraction (r0 = a, r1 = b, r3 = c, result r2). Biased distribution:
a + b < c always, so the compare-and-jump is dead weight; the general distribution: any
a, b < c. The program is encoded as logits (``sharpness · onehot``, Bunel's sharpening factor)
and every field of every line is trainable; loss (docs/DESIGN.md §10.6)::

    ℒ = Σ_t (h_t − h_{t−1}) CE(r2_t, y) + γ Σ_t (1 − h_t)
"""

from __future__ import annotations

import torch

from ... import library
from ...lang.interp import run_reference
from ...lang.program import Sizes
from ...machine import decompile, decompile_text, encode
from ...machine.alu import make_alu
from ..losses import expected_loss_run, value_nll
from .common import Context, plot_lines, progress, set_threads

NAME = "adapt"
HELP = "ANC: adapt a compiled program to a biased input distribution (accuracy, steps)"


def config(quick: bool) -> dict:
    if quick:
        return {"n": 16, "c": 8, "steps_train": 60, "batch": 64, "lr": 0.05, "gamma": 0.1, "sharpness": 5.0,
                    "budget": 6}
    return {"n": 16, "c": 8, "steps_train": 300, "batch": 128, "lr": 0.05, "gamma": 0.1, "sharpness": 5.0,
                "budget": 6}


def evaluate(program, c: int, budget: int, biased: bool) -> dict:
    """Exact accuracy and mean steps of ``program`` over every (a, b) of a distribution."""
    ok, steps, count = 0, 0, 0
    for a in range(c):
        for b in range(c):
            if biased and a + b >= c:
                continue
            r = run_reference(program, {0: a, 1: b, 3: c}, None, max_steps=budget)
            ok += r.halted and r.registers[2] == (a + b) % c
            steps += r.steps
            count += 1
    return {"accuracy": ok / count, "mean_steps": steps / count, "inputs": count}


def run(ctx: Context) -> dict:
    set_threads()
    cfg = ctx.config(config(ctx.quick))
    n, c = cfg["n"], cfg["c"]
    program = library.get("mod_add").program(Sizes(n=n, registers=5, memory=1))
    params = encode(program, logits=True, sharpness=cfg["sharpness"], trainable=True)
    alu = make_alu("dense", n)
    before = {"program": decompile_text(params),
              "biased": evaluate(program, c, cfg["budget"], True),
              "general": evaluate(program, c, cfg["budget"], False)}
    pairs = torch.tensor([(a, b) for a in range(c) for b in range(c) if a + b < c])
    g = torch.Generator().manual_seed(ctx.seed)
    torch.manual_seed(ctx.seed)
    opt = torch.optim.Adam(params.parameters(), lr=cfg["lr"])
    eye = torch.eye(n)
    hist = {"loss": [], "expected_steps": [], "ce": []}
    from ...machine import initial_state

    for _ in progress(range(cfg["steps_train"]), ctx, "adapt"):
        batch = pairs[torch.randint(0, len(pairs), (cfg["batch"],), generator=g)]
        y = (batch[:, 0] + batch[:, 1]) % c
        state = initial_state(params.sizes, params.L, cfg["batch"],
                              registers={0: eye[batch[:, 0]], 1: eye[batch[:, 1]], 3: c})
        terms = expected_loss_run(params, state, alu, cfg["budget"],
                                  lambda s, y=y: value_nll(s.registers[:, 2], y, reduce=False),
                                  beta=1.0, gamma=cfg["gamma"])
        opt.zero_grad()
        terms.total.backward()
        opt.step()
        hist["loss"].append(float(terms.total.detach()))
        hist["expected_steps"].append(float(terms.steps.detach()))
        hist["ce"].append(float(terms.expected.detach()))
    adapted, _ = decompile(params)
    after = {"program": decompile_text(params),
             "biased": evaluate(adapted, c, cfg["budget"], True),
             "general": evaluate(adapted, c, cfg["budget"], False)}
    results = {"config": cfg, "before": before, "after": after, "history": hist}
    ctx.save_json("metrics.json", results)
    (ctx.out / "programs.txt").write_text(
        f"; before (compiled)\n{before['program']}\n; after adapting to a + b < {c}\n"
        f"{after['program']}")
    xs = list(range(1, len(hist["loss"]) + 1))
    plot_lines(ctx.out / "adapt.png", {"expected steps": (xs, hist["expected_steps"]),
                                        "halting-weighted CE": (xs, hist["ce"])},
               xlabel="step", ylabel="value", title="adapting mod_add to a + b < c", ylim=None)
    return {"experiment": NAME,
            "biased_acc_before": before["biased"]["accuracy"],
            "biased_steps_before": round(before["biased"]["mean_steps"], 3),
            "biased_acc_after": after["biased"]["accuracy"],
            "biased_steps_after": round(after["biased"]["mean_steps"], 3),
            "general_acc_before": round(before["general"]["accuracy"], 4),
            "general_acc_after": round(after["general"]["accuracy"], 4),
            "expected_steps_first": round(hist["expected_steps"][0], 3),
            "expected_steps_last": round(hist["expected_steps"][-1], 3)}
