"""``routing`` (docs/DESIGN.md §10.3, §11.5): a minimal network learns to route one-hot inputs into a frozen
operation; lookup-table ALU vs circuit ALU, and bootstrapping (table, then circuit).

Task: three one-hot inputs (x0, x1, x2) ∈ Z_n³; the answer is x2 − x0 mod n (x1 a distractor,
``sub`` so that the order matters). The frozen library program is ``sub r0 r1 r2; halt``; the
network (one layer before the computer, one after, :class:`MinimalNet`) must send x2 → r0 and
x0 → r1. Arms:

* ``table``   — the paper's dense lookup tensor (docs/DESIGN.md §6.2);
* ``circuit`` — the circuit ALU (docs/DESIGN.md §6.4; on soft inputs its independent-bit relaxation);
* ``bootstrap`` — the table for the first half of the epochs, then :func:`swap_alu` to the
  circuit for the rest (docs/DESIGN.md §10.3), nothing else changed.

Test accuracy per epoch for several seeds; plot: mean with min–max band.
"""

from __future__ import annotations

import torch

from ...lang.asm import assemble
from ..blocks import LibraryComputer, swap_alu
from ..minimal import MinimalNet
from .common import Context, plot_lines, set_threads, split, train_minimal, triples

NAME = "routing"
HELP = "E1: route one-hot inputs into a frozen op; lookup table vs circuit ALU"

PROGRAM = "sub r0 r1 r2\nhalt\n"


def config(quick: bool) -> dict:
    if quick:
        return {"n": 16, "seeds": 1, "epochs": 5, "train": 512, "test": 256, "batch": 32, "lr": 0.1,
                    "arms": ["table", "circuit"]}
    return {"n": 32, "seeds": 3, "epochs": 12, "train": 2048, "test": 1024, "batch": 64, "lr": 0.1,
                "arms": ["table", "circuit", "bootstrap"]}


def make_model(n: int, alu: str) -> MinimalNet:
    program = assemble(PROGRAM, "routing.asm", {"n": n, "registers": 3, "memory": 1})
    lc = LibraryComputer(program, alu=alu, outputs=[2], steps=2, readout="mixture")
    return MinimalNet(lc, 3, (0, 1), mode="soft")


def run(ctx: Context) -> dict:
    set_threads()
    cfg = ctx.config(config(ctx.quick))
    n = cfg["n"]
    x = triples(n, 3)
    results = {"config": cfg, "task": "answer = x2 - x0 mod n", "runs": {}}
    for arm in cfg["arms"]:
        results["runs"][arm] = []
        for i in range(cfg["seeds"]):
            seed = ctx.seed + i
            torch.manual_seed(seed)
            xtr, xte = split(x, seed, cfg["train"], cfg["test"])
            ytr, yte = (xtr[:, 2] - xtr[:, 0]) % n, (xte[:, 2] - xte[:, 0]) % n
            model = make_model(n, "circuit" if arm == "circuit" else "dense")
            kw = {"lr": cfg["lr"], "batch": cfg["batch"], "ctx": ctx}
            if arm == "bootstrap":
                # one optimizer throughout: the swap is the only change (docs/DESIGN.md §10.3)
                kw["optimizer"] = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
                half = cfg["epochs"] // 2
                h1 = train_minimal(model, xtr, ytr, xte, yte, n, epochs=half, seed=seed,
                                   desc=f"{arm}/table s{seed}", **kw)
                swap_alu(model.computer, "circuit")  # docs/DESIGN.md §10.3: same arguments, new module
                h2 = train_minimal(model, xtr, ytr, xte, yte, n, epochs=cfg["epochs"] - half,
                                   seed=seed + 1000, desc=f"{arm}/circuit s{seed}", **kw)
                hist = {"epoch": h1["epoch"] + [half + e for e in h2["epoch"][1:]],
                        "loss": h1["loss"] + h2["loss"][1:],
                        "test_acc": h1["test_acc"] + h2["test_acc"][1:],
                        "swapped_at_epoch": half,
                        "test_acc_right_after_swap": h2["test_acc"][0]}
            else:
                hist = train_minimal(model, xtr, ytr, xte, yte, n, epochs=cfg["epochs"],
                                     seed=seed, desc=f"{arm} s{seed}", **kw)
            hist["seed"] = seed
            results["runs"][arm].append(hist)
            ctx.save_json("metrics.json", results)
    series, bands, headline = {}, {}, {"experiment": NAME, "n": n, "seeds": cfg["seeds"]}
    for arm in cfg["arms"]:
        accs = torch.tensor([h["test_acc"] for h in results["runs"][arm]])  # (seeds, E+1)
        epochs = results["runs"][arm][0]["epoch"]
        series[arm] = (epochs, accs.mean(0).tolist())
        bands[arm] = (accs.min(0).values.tolist(), accs.max(0).values.tolist())
        headline[f"final_acc_{arm}"] = round(float(accs[:, -1].mean()), 4)
        first = [next((e for e, a in zip(epochs, row) if a >= 0.9), None) for row in
                 accs.tolist()]
        headline[f"epochs_to_90_{arm}"] = first if cfg["seeds"] > 1 else first[0]
        losses = [h["loss"] for h in results["runs"][arm]]
        headline[f"loss_first_{arm}"] = round(sum(h[1] for h in losses) / len(losses), 4)
        headline[f"loss_last_{arm}"] = round(sum(h[-1] for h in losses) / len(losses), 4)
    results["summary"] = headline
    ctx.save_json("metrics.json", results)
    plot_lines(ctx.out / "routing.png", series, bands=bands, xlabel="epoch",
               ylabel="test accuracy",
               title=f"E1 routing into sub (n={n}, {cfg['seeds']} seeds, mean and min-max)")
    return headline
