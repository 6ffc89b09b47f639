"""``neuralc doctest FILE.py``: run the examples in a file's docstrings through the compiled
functions, on either backend.

Prints ``FILE:LINE: error: NAME(ARGS): expected X, got Y`` for each failing example, the compile
errors of a function that does not compile, ``FILE:LINE: skipped: REASON`` for an example that
cannot run, and ``P passed, F failed, S skipped`` last; ``--json`` prints one object per example
and the summary last. Exit status 0 when no example failed, 1 when one did, 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..lang.asm import read_source
from ..lang.errors import UsageError
from ..lang.interp import DEFAULT_MAX_STEPS
from ..lang.program import Sizes
from .compile import add_signed_option
from .options import add_size_options, nonnegative_int, size_overrides

HELP = "run the examples in a .py file's docstrings"

__all__ = ["add_parser", "main"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "doctest", help=HELP,
        description="Run the docstring examples of a Python-subset file through the compiled "
                    "functions.")
    p.add_argument("file", metavar="FILE", help="a .py file")
    p.add_argument("--function", metavar="NAME", help="only this function's examples")
    p.add_argument("--backend", choices=("reference", "machine"), default="reference",
                   help="the exact interpreter (default) or the differentiable machine")
    add_size_options(p)
    m = p.add_argument_group("machine backend")
    m.add_argument("--alu", choices=("dense", "sparse", "circuit"), default=None)
    m.add_argument("--device", choices=("cpu", "cuda"), default=None)
    m.add_argument("--dtype", choices=("float32", "float64"), default=None)
    p.add_argument("--max-steps", type=nonnegative_int, default=DEFAULT_MAX_STEPS, metavar="S",
                   help=f"step budget of each example (default {DEFAULT_MAX_STEPS})")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per example, the summary last")
    add_signed_option(p)
    return p


def main(args) -> int:
    from ..pipeline import run_doctests
    from .run import _check_machine_options

    if not args.file.endswith(".py"):
        raise UsageError(f"doctest needs a .py file, got '{args.file}'")
    sizes = Sizes().override(**size_overrides(args)).check()
    _check_machine_options(args, sizes)
    source = read_source(args.file)
    machine_kw = {}
    if args.backend == "machine":
        machine_kw = {"alu": args.alu or "sparse", "device": args.device or "cpu",
                          "dtype": args.dtype or "float32"}
    report = run_doctests(source, args.file, sizes, args.function, args.backend, args.signed,
                          args.max_steps, **machine_kw)
    for line in report.warnings:
        print(line, file=sys.stderr)
    for line in report.errors:  # part of the report; on stderr when stdout is JSON
        print(line, file=sys.stderr if args.json else sys.stdout)
    for ex in report.examples:
        if args.json:
            print(json.dumps(ex.to_json()))
        else:
            text = ex.text(args.file)
            if text:
                print(text)
    print(json.dumps(report.summary_json()) if args.json else report.summary())
    return 1 if report.failed else 0
