"""``neuralc experiment NAME [--quick] [--seed S] [--out DIR] [--device D]``: run one of the
learning studies (:mod:`neuralc.learn.experiments`). Metrics (JSON) and plots (PNG) go to
``--out``; the last line on standard output is one JSON object with the headline metrics."""

from __future__ import annotations

import argparse
import json

from ..lang.errors import UsageError

__all__ = ["add_parser", "main"]

HELP = "run a learning study: routing, fib-depth, memorize, contextual, adapt"

NAMES = ("routing", "fib-depth", "memorize", "contextual", "adapt")


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "experiment", help="run a learning experiment (routing, fib-depth, memorize, ...)",
        description="Run a learning experiment; metrics JSON and PNG plots go to --out, the last "
                    "line printed is the headline metrics as JSON.")
    p.add_argument("name", metavar="NAME", choices=NAMES,
                   help="one of: " + ", ".join(NAMES))
    p.add_argument("--quick", action="store_true", help="the tiny configuration (seconds)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    p.add_argument("--out", metavar="DIR", default=None,
                   help="output folder (default runs/experiment-NAME)")
    p.add_argument("--device", default="cpu", metavar="D", help="cpu (default) or cuda")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override one configuration value (VALUE is JSON, e.g. epochs=20)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def main(args) -> int:
    import sys

    import torch

    from ..learn.experiments import Context, run_experiment
    from ..machine.sharp import parse_device

    overrides = {}
    for item in args.overrides:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise UsageError(f"--set expects KEY=VALUE, got '{item}'")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    device = parse_device(args.device)
    if device.type != "cpu":
        torch.set_default_device(device)
    out = args.out or f"runs/experiment-{args.name}"
    try:
        ctx = Context(out, quick=args.quick, seed=args.seed, device=device,
                      show_progress=not args.no_progress and sys.stderr.isatty(),
                      overrides=overrides)
    except OSError as e:
        raise UsageError(f"--out {out}: {e}") from None
    try:
        headline = run_experiment(args.name, ctx)
    except KeyError as e:
        raise UsageError(f"--set: {e.args[0]}") from None
    print(json.dumps(headline))
    return 0
