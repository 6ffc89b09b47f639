"""``neuralc bench``: time the ALUs (dense, sparse, circuit) and the machine; save the results.

Prints progress per measurement on stderr and the result table (markdown) on stdout, and
writes ``bench.json`` and ``bench.md`` to ``--out`` (default ``docs/bench``). Runs with one
torch thread unless ``--threads`` says otherwise. See :mod:`neuralc.bench` for what is
measured and how; every time is in milliseconds.
"""

from __future__ import annotations

import argparse

from ..lang.errors import UsageError
from .options import positive_int

HELP = "benchmark the ALUs and the machine"

__all__ = ["add_parser", "main"]


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 32,64,128 (got '{text}')") from None
    if not sizes or min(sizes) < 2:
        raise argparse.ArgumentTypeError(f"sizes must be at least 2 (got '{text}')")
    return sizes


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "bench", help=HELP,
        description="Benchmark the ALUs (forward + backward time, memory) at several value "
                    "sizes n, and the machine's steps per second. Results go to stdout and to "
                    "bench.json / bench.md in --out.")
    p.add_argument("--out", metavar="DIR", default="docs/bench",
                   help="folder for bench.json and bench.md (default: docs/bench)")
    p.add_argument("--quick", action="store_true",
                   help="n = 32, 64, 128 only and fewer repetitions (a smoke run)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--batch", type=positive_int, default=32, help="batch size (default 32)")
    p.add_argument("--sizes", type=_sizes, default=None, metavar="N,N,...",
                   help="value sizes n (default 32,64,128,256,512,1024)")
    p.add_argument("--alu", action="append", choices=("dense", "sparse", "circuit"),
                   help="only these ALUs (repeatable; default all three)")
    p.add_argument("--reps", type=positive_int, default=None,
                   help="timed repetitions per measurement (default 10, quick 5)")
    p.add_argument("--threads", type=positive_int, default=1,
                   help="torch intra-op threads (default 1: on a shared machine, OpenMP "
                        "barriers stall whenever another process holds a core, which swamps "
                        "millisecond timings; 1 thread compares the ALUs core for core)")
    p.add_argument("--memory", choices=("subprocess", "sampled", "off"), default="subprocess",
                   help="CPU peak memory: ru_maxrss of a fresh process per ALU (default), the "
                        "sampled resident set of this process, or off")
    p.add_argument("--no-machine", action="store_true", help="skip the machine steps/s part")
    return p


def main(args) -> int:
    import torch

    from ..bench import QUICK_SIZES, SIZES, format_report, run_bench, save_report
    from ..machine.sharp import parse_device

    device = parse_device(args.device)
    torch.set_num_threads(args.threads)
    if args.batch > 4096:
        raise UsageError(f"--batch {args.batch} is too large for a benchmark (at most 4096)")
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    alus = tuple(dict.fromkeys(args.alu)) if args.alu else ("dense", "sparse", "circuit")
    report = run_bench(
        sizes=sizes, alus=alus, batch=args.batch, device=device,
        dtype=torch.float64 if args.dtype == "float64" else torch.float32,
        reps=args.reps or (5 if args.quick else 10), warmup=1 if args.quick else 2,
        budget_s=5.0 if args.quick else 20.0, quick=args.quick, machine=not args.no_machine,
        memory=args.memory,
    )
    print(format_report(report), end="")
    js, md = save_report(report, args.out)
    print(f"\nsaved {js} and {md}")
    return 0
