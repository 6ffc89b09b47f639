"""Benchmarks and profiles, one package, one unit of time (milliseconds).

* :mod:`.alu` — forward + backward time and memory of the three ALUs at N = 32 … 1024;
* :mod:`.machine` — steps per second of the machine and of the reference interpreter, and the
  ALU that computes only a program's ops against the full one;
* :mod:`.library` — the standard library's steps at widths 1, 2, 4, 8 and compile times
  (regenerates docs/LIBRARY.md: ``python -m neuralc.bench.library``);
* :mod:`.report` — ``neuralc bench``: one run of the first two, as markdown and JSON;
* :mod:`.timing` — the one clock they share.

The package sits above ``machine`` and ``library``; nothing below it imports it.
"""

from .alu import QUICK_SIZES, SIZES, AluRow, bench_alu, bench_size
from .machine import bench_machine, loop_program
from .report import format_report, run_bench, save_report
from .timing import timed

__all__ = [
    "QUICK_SIZES",
    "SIZES",
    "AluRow",
    "bench_alu",
    "bench_machine",
    "bench_size",
    "format_report",
    "loop_program",
    "run_bench",
    "save_report",
    "timed",
]
