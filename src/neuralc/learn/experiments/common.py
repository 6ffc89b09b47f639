"""What every experiment shares: its context (output folder, seed, device, size), JSON and plots,
progress bars, one-hot datasets and the training loop of the minimal network."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

__all__ = [
    "Context",
    "evaluate",
    "plot_lines",
    "progress",
    "set_threads",
    "split",
    "train_curriculum",
    "train_minimal",
    "triples",
]


def set_threads() -> None:
    """One intra-op thread unless NEURALC_THREADS says otherwise (small tensors, shared CPUs)."""
    torch.set_num_threads(int(os.environ.get("NEURALC_THREADS", "1")))


@dataclass
class Context:
    """``out``: the output folder; ``quick``: the tiny configuration; ``seed``; ``device``;
    ``show_progress``: tqdm bars on stderr."""

    out: Path
    quick: bool = False
    seed: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    show_progress: bool = True
    overrides: dict = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        self.out.mkdir(parents=True, exist_ok=True)

    def save_json(self, name: str, obj) -> Path:
        path = self.out / name
        path.write_text(json.dumps(obj, indent=1, default=_jsonable) + "\n")
        return path

    def config(self, defaults: dict) -> dict:
        """The experiment's configuration: ``defaults`` with the ``--set`` overrides (which must
        name existing keys)."""
        unknown = set(self.overrides) - set(defaults)
        if unknown:
            raise KeyError(f"unknown configuration key(s) {', '.join(sorted(unknown))} "
                           f"(known: {', '.join(sorted(defaults))})")
        cfg = {**defaults, **self.overrides}
        self.save_json("config.json", cfg)
        return cfg

    def elapsed(self) -> float:
        return time.time() - self.started


def _jsonable(x):
    if isinstance(x, torch.Tensor):
        return x.tolist()
    if isinstance(x, Path):
        return str(x)
    return str(x)


def progress(iterable, ctx: Context, desc: str, total: int | None = None):
    """A tqdm bar on stderr (off for quick runs and when stderr is not a terminal... or asked)."""
    from tqdm import tqdm

    return tqdm(iterable, desc=desc, total=total, disable=not ctx.show_progress, file=sys.stderr,
                leave=False, dynamic_ncols=True)


def plot_lines(path: Path, series: dict[str, tuple[list, list]], *, xlabel: str, ylabel: str,
               title: str, bands: dict[str, tuple[list, list]] | None = None,
               ylim: tuple[float, float] | None = (0.0, 1.02)) -> Path:
    """One line per series (label → (xs, ys)); optional shaded bands (label → (low, high))."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, (xs, ys) in series.items():
        (line,) = ax.plot(xs, ys, marker="o", markersize=3, label=label)
        if bands and label in bands:
            lo, hi = bands[label]
            ax.fill_between(xs, lo, hi, alpha=0.2, color=line.get_color())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if ylim:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def triples(n: int, slots: int = 3) -> torch.Tensor:
    """Every input tuple (n^slots, slots) of values 0..n-1."""
    grids = torch.meshgrid(*[torch.arange(n)] * slots, indexing="ij")
    return torch.stack([g.reshape(-1) for g in grids], dim=1)


def split(x: torch.Tensor, seed: int, train: int, test: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A random train/test split of the rows of ``x`` (disjoint)."""
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(x.shape[0], generator=g)
    train = min(train, x.shape[0] - 1)
    test = min(test, x.shape[0] - train)
    return x[perm[:train]], x[perm[train:train + test]]


@torch.no_grad()
def evaluate(model, x: torch.Tensor, y: torch.Tensor, n: int, mode: str | None = None,
             batch: int = 512) -> float:
    hits = 0
    for i in range(0, x.shape[0], batch):
        xb = torch.nn.functional.one_hot(x[i:i + batch], n).float()
        hits += int((model(xb, mode).argmax(-1) == y[i:i + batch]).sum())
    return hits / max(1, x.shape[0])


def train_minimal(model, x_train, y_train, x_test, y_test, n: int, *, epochs: int, lr: float,
                  batch: int, seed: int, ctx: Context, desc: str,
                  eval_modes: tuple[str, ...] = (),
                  optimizer: torch.optim.Optimizer | None = None,
                  weight_decay: float = 0.0, check=None) -> dict:
    """Adam on the cross-entropy of the answer logits (AdamW with a decoupled ``weight_decay``
    when it is not 0); per epoch the mean training loss and the test accuracy of the model's own
    forward (epoch 0 = before training), and every metric of ``check()`` (a dict of floats, e.g.
    the machine run on the argmax routing); at the end, the test accuracy of every ``eval_modes``
    forward. ``optimizer``: continue with this one (e.g. across an ALU swap) instead of a fresh
    one."""
    g = torch.Generator().manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer is not None:
        opt = optimizer
    elif weight_decay:
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.Adam(params, lr=lr)
    hist = {"epoch": [0], "loss": [float("nan")],
            "test_acc": [evaluate(model, x_test, y_test, n)]}
    _record(hist, check)
    steps_per_epoch = math.ceil(x_train.shape[0] / batch)
    bar = progress(range(epochs), ctx, desc)
    for epoch in bar:
        perm = torch.randperm(x_train.shape[0], generator=g)
        total = 0.0
        for s in range(steps_per_epoch):
            if hasattr(model, "set_progress"):
                model.set_progress((epoch * steps_per_epoch + s) / max(1, epochs * steps_per_epoch
                                                                      - 1))
            idx = perm[s * batch:(s + 1) * batch]
            total += _step(model, opt, x_train[idx], y_train[idx], n)
        hist["epoch"].append(epoch + 1)
        hist["loss"].append(total / x_train.shape[0])
        hist["test_acc"].append(evaluate(model, x_test, y_test, n))
        _record(hist, check)
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{hist['loss'][-1]:.3f}", acc=f"{hist['test_acc'][-1]:.3f}")
    for m in eval_modes:  # other read-outs of the trained model, once at the end
        hist[f"test_acc_{m}"] = evaluate(model, x_test, y_test, n, m)
    return hist


def _step(model, opt, x, y, n: int) -> float:
    """One optimizer step on the one-hot inputs ``x`` (B,S) and answers ``y`` (B,); the batch's
    summed loss."""
    loss = torch.nn.functional.cross_entropy(model(torch.nn.functional.one_hot(x, n).float()), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return float(loss.detach()) * x.shape[0]


def train_curriculum(model, machines: dict, x_train, y_train: dict, x_test, y_test: dict, n: int,
                     *, curriculum, lr: float, batch: int, seed: int, ctx: Context, desc: str,
                     weight_decay: float = 0.0, check=None) -> dict:
    """:func:`train_minimal` through a depth curriculum (:class:`neuralc.learn.curriculum.
    DepthCurriculum`): ``machines`` depth → frozen machine, ``y_train``/``y_test`` depth →
    answers (the inputs are shared). Each batch swaps ``model.computer`` to the machine of its
    drawn depth; AdamW (decoupled ``weight_decay``). Per epoch the mean training loss, the
    ceiling, the test accuracy of the model's own forward at the target depth and the metrics of
    ``check()`` (run on the target depth's machine); the model is left on that machine."""
    g = torch.Generator().manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    target = curriculum.target

    def test_acc() -> float:
        model.computer = machines[target]
        return evaluate(model, x_test, y_test[target], n)

    hist = {"epoch": [0], "loss": [float("nan")], "ceiling": [0], "test_acc": [test_acc()]}
    _record(hist, check)
    steps_per_epoch = math.ceil(x_train.shape[0] / batch)
    bar = progress(range(curriculum.epochs), ctx, desc)
    for epoch in bar:
        perm = torch.randperm(x_train.shape[0], generator=g)
        total = 0.0
        for s in range(steps_per_epoch):
            depth = curriculum.depth(epoch)
            model.computer = machines[depth]
            idx = perm[s * batch:(s + 1) * batch]
            total += _step(model, opt, x_train[idx], y_train[depth][idx], n)
        hist["epoch"].append(epoch + 1)
        hist["loss"].append(total / x_train.shape[0])
        hist["ceiling"].append(curriculum.ceilings[epoch])
        hist["test_acc"].append(test_acc())
        _record(hist, check)
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{hist['loss'][-1]:.3f}", acc=f"{hist['test_acc'][-1]:.3f}")
    return hist


def _record(hist: dict, check) -> None:
    for key, value in (check() if check else {}).items():
        hist.setdefault(key, []).append(value)
