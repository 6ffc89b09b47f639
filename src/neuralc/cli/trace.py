"""``neuralc trace FILE [run options] [--soft TEMP] -o trace.png``: draw the counter distribution
and chosen registers over time for a sharp run and, with ``--soft``, beside it a run of the
softened program (every field ``softmax(onehot / TEMP)``)."""

from __future__ import annotations

import argparse
import json

from ..lang.errors import UsageError
from .options import add_size_options, nonnegative_int, size_overrides

__all__ = ["add_parser", "main"]

HELP = "draw the counter distribution and registers over time (PNG)"


def _temperature(text: str) -> float:
    try:
        t = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid temperature: '{text}'") from None
    if not t > 0:
        raise argparse.ArgumentTypeError(f"the temperature must be positive (got {text})")
    return t


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "trace", help="draw the counter and registers over time (sharp and soft runs)",
        description="Run an .asm file on the differentiable machine and draw the counter "
                    "distribution and chosen registers over time.")
    p.add_argument("file", metavar="FILE", help="an .asm file")
    add_size_options(p)
    p.add_argument("--reg", action="append", default=[], metavar="rI=V",
                   help="initial register value (repeatable)")
    p.add_argument("--mem", action="append", default=[], metavar="A=V1,V2,...",
                   help="initial memory from address A on (repeatable)")
    p.add_argument("--max-steps", type=nonnegative_int, default=100, metavar="S",
                   help="step budget (default 100)")
    p.add_argument("--soft", type=_temperature, default=None, metavar="TEMP",
                   help="also run the program softened at temperature TEMP")
    p.add_argument("--show", default=None, metavar="r0,r1,...",
                   help="registers to draw (default: those the program writes, at most 6)")
    p.add_argument("--alu", choices=("dense", "sparse", "circuit"), default="dense",
                   help="ALU (default dense)")
    p.add_argument("-o", "--output", default="trace.png", metavar="PNG",
                   help="the picture to write (default trace.png)")
    return p


def _show(text: str | None, K: int) -> list[int] | None:
    if text is None:
        return None
    out = []
    for word in text.split(","):
        word = word.strip().lstrip("rR")
        if not word.isdigit() or int(word) >= K:
            raise UsageError(f"--show: '{text}' is not a list of registers r0..r{K - 1}")
        out.append(int(word))
    return out


def main(args) -> int:
    from ..lang.asm import assemble, read_source
    from .run import parse_mem, parse_reg

    if args.file.endswith(".py"):
        raise UsageError("trace takes an .asm file (compile a .py file first: neuralc compile)")
    program = assemble(read_source(args.file), args.file, size_overrides(args))
    sizes = program.sizes
    if args.alu == "circuit" and sizes.n & (sizes.n - 1):
        raise UsageError(f"--alu circuit needs n to be a power of two (n={sizes.n})")
    regs = parse_reg(args.reg, sizes)
    mem = parse_mem(args.mem, sizes)
    show = _show(args.show, sizes.registers)

    from ..learn.trace import plot_traces, trace_run

    traces = [trace_run(program, regs, mem, max_steps=args.max_steps, show=show, alu=args.alu)]
    if args.soft is not None:
        traces.append(trace_run(program, regs, mem, max_steps=args.max_steps, soft=args.soft,
                                show=list(traces[0].registers), alu=args.alu))
    try:
        path = plot_traces(traces, args.output)
    except OSError as e:
        raise UsageError(f"-o {args.output}: {e.strerror or e}") from None
    print(json.dumps({"output": str(path), "steps": [t.counter.shape[0] - 1 for t in traces],
                      "halted": [round(t.halted, 6) for t in traces]}))
    return 0
