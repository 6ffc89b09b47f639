"""The ``neuralc experiment NAME`` studies. Each module has ``NAME``, ``HELP`` and
``run(ctx: Context) -> dict`` (the headline metrics); it writes ``metrics.json`` and PNG plots
into ``ctx.out``."""

from __future__ import annotations

import importlib

from .common import Context

__all__ = ["EXPERIMENTS", "Context", "load", "run_experiment"]

# name → module (imported on demand: each pulls in torch and its own programs)
EXPERIMENTS: dict[str, str] = {
    "routing": "routing",
    "fib-depth": "fib_depth",
    "memorize": "memorize",
    "contextual": "contextual",
    "adapt": "adapt",
}


def load(name: str):
    if name not in EXPERIMENTS:
        raise KeyError(name)
    return importlib.import_module(f"{__name__}.{EXPERIMENTS[name]}")


def run_experiment(name: str, ctx: Context) -> dict:
    """Run one experiment; returns its headline metrics (also saved as ``headline.json``)."""
    import torch

    torch.manual_seed(ctx.seed)
    headline = load(name).run(ctx)
    headline = {**headline, "seed": ctx.seed, "quick": ctx.quick,
                "seconds": round(ctx.elapsed(), 1)}
    ctx.save_json("headline.json", headline)
    return headline
