"""Regenerate docs/LIBRARY.md: the library, its interfaces, and a benchmark of steps at widths
1, 2, 4, 8 (the parallelizing compiler, block by block and across blocks) with compile and
schedule times in milliseconds.

    python -m neuralc.bench.library [--output docs/LIBRARY.md]
"""

from __future__ import annotations

import argparse
import math
import platform
from pathlib import Path

from ..lang.interp import run_reference
from ..library.registry import LibraryProgram, entries
from ..passes.schedule import schedule
from .timing import timed

WIDTHS = (1, 2, 4, 8)
# the loop programs whose width-4 speed-up the geometric mean summarizes (one insertion sort;
# the other one gives the second mean)
LOOPS = ("insertion_sort", "bubble_sort", "list_sum", "reverse", "dot_product", "gcd",
         "prefix_sums", "histogram", "two_sum", "list_stats")
LOOPS_PY = tuple("insertion_sort_py" if x == "insertion_sort" else x for x in LOOPS)
LIST8 = [9, 3, 7, 1, 8, 2, 6, 4]
BENCH_ARGS = {
    "fib": [0, 1, 10], "fib_paper": [0, 1, 10], "fib_rec": [8], "gcd": [84, 36],
    "factorial": [10], "power": [3, 11], "list_sum": [LIST8], "list_max": [LIST8],
    "reverse": [LIST8], "insertion_sort": [LIST8], "insertion_sort_py": [LIST8],
    "bubble_sort": [LIST8], "quicksort": [LIST8], "binary_search": [[1, 3, 5, 7, 9, 11, 13, 15], 11],
    "bitonic_sort8": [LIST8], "bitonic_sort8_seq": [LIST8], "sort_network": [LIST8],
    "fib_parallel": [0, 1, 10], "mod_add": [100, 20, 110],
    "dot_product": [LIST8, [2, 7, 1, 8, 2, 8, 1, 8]], "prefix_sums": [LIST8],
    "histogram": [LIST8], "two_sum": [LIST8, 10], "list_stats": [LIST8],
}


def _compile(entry: LibraryProgram):
    """Compile without the registry's cache (for timing)."""
    if entry.language == "py":
        from ..pipeline import compile_python

        return compile_python(entry.source, entry.name, entry.sizes, entry.function).program
    from ..lang.asm import assemble

    return assemble(entry.source, entry.name)


def _best_ms(fn, repeat: int = 3) -> float:
    """The fastest of ``repeat`` calls, in wall-clock milliseconds."""
    return min(timed(fn)[0] for _ in range(repeat))


def benchmark(entry: LibraryProgram) -> dict:
    """Steps, lines and schedule time per width; ``blocks``: the steps when each basic block is
    packed on its own (the scheduler without its transformations across blocks)."""
    args = BENCH_ARGS.get(entry.name, [100, 7][: len(entry.inputs_ports)])
    compile_ms = _best_ms(lambda: _compile(entry))
    base = _compile(entry)
    registers, memory = entry.inputs(args)
    row = {"args": args, "compile_ms": compile_ms, "widths": {}, "blocks": {}}
    expected = entry.reference(args, entry.sizes.n)
    budget = entry.steps(args) if entry.steps else 100_000
    reference = run_reference(base, registers, memory, budget) if base.width == 1 else None
    for width in WIDTHS:
        if base.width > width or (width > 1 and entry.steps):
            row["widths"][width] = None
            continue
        program = base if width == 1 or base.width > 1 else schedule(base, width)
        sched_ms = 0.0 if program is base else _best_ms(lambda w=width: schedule(base, w))
        out = run_reference(program, registers, memory, budget)
        assert entry.output(out) == expected, (entry.name, width)
        if reference is not None and not any(op.name in ("call", "store") for _, _, op in
                                             base.ops()):  # return addresses move with lines
            assert (out.registers, out.memory) == (reference.registers, reference.memory)
        row["widths"][width] = (out.steps, program.L, sched_ms)
        if width > 1 and base.width == 1:
            blocks = run_reference(schedule(base, width, across=False), registers, memory, budget)
            row["blocks"][width] = blocks.steps
    return row


def _sampled(entry: LibraryProgram, count: int = 20) -> tuple[int, int, int]:
    """Total steps over ``count`` random valid inputs: width 4 block by block, width 1, width
    4 across blocks (each run checked against the width-1 run)."""
    import random

    base = _compile(entry)
    programs = (schedule(base, 4, across=False), base, schedule(base, 4))
    rng = random.Random(0)
    totals = [0, 0, 0]
    for _ in range(count):
        registers, memory = entry.inputs(entry.sample(rng, entry.sizes))
        runs = [run_reference(p, registers, memory, 100_000) for p in programs]
        for run in runs:
            assert (run.registers, run.memory, run.halted) == \
                (runs[1].registers, runs[1].memory, runs[1].halted), entry.name
        for i, run in enumerate(runs):
            totals[i] += run.steps
    return totals[0], totals[1], totals[2]


def _geomean(rows: dict, names, steps) -> float:
    return math.exp(sum(math.log(rows[x]["widths"][1][0] / steps(rows[x])) for x in names)
                    / len(names))


def render() -> str:
    es = entries()
    out = [
        "# The standard library",
        "",
        "Compiled programs the paper's experiments and users need (arXiv 2407.04899), in",
        "`src/neuralc/library/programs/` (Python subset or assembly); the one-operation",
        "calculators are made from the instruction registry. Every program is tested against a",
        "CPython oracle on 100 random valid inputs (reference interpreter) and on a sample on the",
        "sharp machine (`tests/library/`). This page is generated by",
        "`python -m neuralc.bench.library`.",
        "",
        "```python",
        "from neuralc import library",
        "fib = library.get(\"fib\")",
        "fib.run([0, 1, 10])                  # 89",
        "registers, memory = fib.inputs([0, 1, 10])",
        "program = fib.program(width=4)       # through the parallelizing compiler",
        "fib.output(run_result)               # read the output of a run back",
        "```",
        "",
        "## Interfaces",
        "",
        "Assembly programs take integers in fixed registers and lists in memory from cell 0 (the",
        "length in a register). Python programs follow the compiler's calling convention",
        "(docs/COMPILER.md): integers in `r0, r1, ...`; a list in memory from cell 0 as a header",
        "cell (its length) and then its elements, the register holding the address of the first",
        "element; the result in `r0` (for a list, the address of its first element). Each entry's",
        "`inputs_ports` / `output_port` (`neuralc.library.Port`) say the same in code.",
        "",
        "| program | language | interface | what it computes |",
        "|---|---|---|---|",
    ]
    for name, e in es.items():
        cells = (e.describe(), e.doc)
        out.append(f"| `{name}` | {e.language} | " + " | ".join(c.replace("|", "\\|") for c in cells)
                   + " |")
    rows = {name: benchmark(e) for name, e in es.items()}
    out += [
        "",
        "## Steps at widths 1, 2, 4, 8",
        "",
        "Steps (lines executed) on the input shown, for the width-1 program and its schedules by",
        "the parallelizing compiler (`neuralc.passes.schedule`, docs/COMPILER.md). A cell",
        "`a → b` gives the steps with every basic block packed on its own (`a`, the scheduler",
        "without its transformations across blocks: `schedule(program, k, across=False)`) and",
        "with them (`b`: jump threading, tail duplication, loop unrolling, jumps decided by known",
        "conditions, trace scheduling with speculation). Final registers and memory are the",
        "width-1 run's in every cell (checked while the table is made; programs with `call`",
        "keep their results, but their return addresses are line numbers, which move).",
        "`lines` = program length (copied code makes it longer; it must stay within n). The",
        "compile time is the front end (Python subset compiler or assembler); the schedule time",
        "is the scheduler alone. `bitonic_sort8` is written in width-8 lines by hand;",
        "`bitonic_sort8_seq` is the same network in width-1 lines, for the scheduler to",
        "parallelize. `fib_paper` runs until its step budget ends, so only width 1 applies.",
        f"Measured with Python {platform.python_version()} on {platform.machine()}.",
        "",
        ("| program | input | steps w=1 | w=2 | w=4 | w=8 | lines w=1/2/4/8 | compile ms | "
         "schedule ms (w=8) |"),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        w = row["widths"]
        steps = [str(w[1][0]) if w[1] else "—"]
        for k in WIDTHS[1:]:
            if not w[k]:
                steps.append("—")
            elif k in row["blocks"]:
                steps.append(f"{row['blocks'][k]} → {w[k][0]}")
            else:
                steps.append(str(w[k][0]))
        lines = "/".join(str(w[k][1]) if w[k] else "—" for k in WIDTHS)
        sched = f"{w[8][2]:.1f}" if w[8] else "—"
        args = ", ".join(str(a).replace(" ", "") for a in row["args"])
        out.append(f"| `{name}` | {args} | {' | '.join(steps)} | {lines} | "
                   f"{row['compile_ms']:.1f} | {sched} |")
    out += ["", ("Width 4 against width 1, geometric mean of the step ratios (block by block → "
                 "across blocks), on the inputs above and on 20 random valid inputs per program "
                 "(each entry's sampler, seed 0; total steps):"), ""]
    sampled = {name: _sampled(es[name]) for name in set(LOOPS) | set(LOOPS_PY)}
    for names in (LOOPS, LOOPS_PY):
        before = _geomean(rows, names, lambda r: r["blocks"][4])
        after = _geomean(rows, names, lambda r: r["widths"][4][0])
        r_before = math.exp(sum(math.log(sampled[x][1] / sampled[x][0]) for x in names)
                            / len(names))
        r_after = math.exp(sum(math.log(sampled[x][1] / sampled[x][2]) for x in names)
                           / len(names))
        out.append(f"- {', '.join(f'`{x}`' for x in names)}: **{before:.2f}× → {after:.2f}×** "
                   f"(random inputs: {r_before:.2f}× → {r_after:.2f}×)")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="docs/LIBRARY.md", help="where to write ('-': print)")
    args = parser.parse_args(argv)
    text = render()
    if args.output == "-":
        print(text, end="")
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
