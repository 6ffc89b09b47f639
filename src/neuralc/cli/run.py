"""``neuralc run FILE``: run an ``.asm`` or ``.py`` file (docs/LANGUAGE.md §7).

``--backend reference`` (default) runs the exact interpreter; ``--backend machine`` runs the
differentiable machine with a sharp program and reads values back by argmax. ``--json`` prints
one JSON object::

    .asm: {"halted": bool, "steps": int, "registers": [K ints], "memory": [m ints]}
    .py:  {"halted": bool, "steps": int, "result": int | [ints] | null}

and the machine backend adds ``"confidence"``.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
from dataclasses import dataclass

from ..lang.asm import assemble, read_source
from ..lang.errors import UsageError
from ..lang.interp import DEFAULT_MAX_STEPS, run_reference
from ..lang.program import Program, Sizes
from .compile import add_signed_option
from .options import add_size_options, nonnegative_int, size_overrides

HELP = "run an .asm or .py file"

__all__ = ["add_parser", "main", "parse_arg", "parse_mem", "parse_reg", "preprocess_argv"]

_ARG_ITEM = "--args-item"  # hidden option that carries one --args value (see preprocess_argv)


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "run", help=HELP,
        description="Run an .asm or .py file on the reference interpreter or the machine.")
    p.add_argument("file", metavar="FILE", help="an .asm or .py file")
    p.add_argument("--backend", choices=("reference", "machine"), default="reference",
                   help="the exact interpreter (default) or the differentiable machine")
    add_size_options(p)
    m = p.add_argument_group("machine backend")
    m.add_argument("--alu", choices=("dense", "sparse", "circuit"), default=None,
                   help="ALU of the machine backend (default sparse; circuit needs n a power of 2)")
    m.add_argument("--device", choices=("cpu", "cuda"), default=None, help="default cpu")
    m.add_argument("--dtype", choices=("float32", "float64"), default=None,
                   help="default float32")
    p.add_argument("--max-steps", type=nonnegative_int, default=DEFAULT_MAX_STEPS, metavar="S",
                   help=f"step budget (default {DEFAULT_MAX_STEPS})")
    p.add_argument("--reg", action="append", default=[], metavar="rI=V",
                   help="initial register value (.asm; repeatable, the last one wins)")
    p.add_argument("--mem", action="append", default=[], metavar="A=V1,V2,...",
                   help="initial memory from address A on (.asm; repeatable)")
    p.add_argument("--function", metavar="NAME",
                   help="the function to call (.py; default main, else the only function)")
    p.add_argument("--args", nargs="*", action="extend", default=None, metavar="ARG",
                   help="the function's arguments as Python literals, e.g. 6 2 or \"[5, 3, 1]\"")
    p.add_argument(_ARG_ITEM, action="append", dest="args", help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    add_signed_option(p)
    return p


def preprocess_argv(argv: list[str]) -> list[str]:
    """Make every word after ``--args`` a value, up to the next option of ``run``.

    argparse would read ``--args -1`` or ``--args -0x1`` as options; each value is passed on as
    ``--args-item=VALUE`` instead. The values end at a word that is an option of ``run``
    (``--json``, ``--n=8``, ...) or at ``--``.
    """
    options = {"--backend", "--n", "--registers", "--memory", "--width", "--alu", "--device",
               "--dtype", "--max-steps", "--reg", "--mem", "--function", "--args", "--json", "--signed",
               "-h", "--help"}
    out: list[str] = []
    collecting = False
    for word in argv:
        if collecting:
            if word == "--":
                collecting = False
                continue
            if word.split("=", 1)[0] in options:
                collecting = False
            else:
                out.append(f"{_ARG_ITEM}={word}")
                continue
        if word == "--args":
            collecting = True
        out.append(word)
    return out


# -- parsing --reg, --mem and --args ------------------------------------------------------------

_REG_RE = re.compile(r"\s*[rR]([0-9]+)\s*=\s*([+-]?[0-9]+)\s*")
_MEM_RE = re.compile(r"\s*([0-9]+)\s*=(.*)")


def parse_reg(items: list[str], sizes: Sizes) -> dict[int, int]:
    """``["r1=5", "r2=-1"]`` → ``{1: 5, 2: n-1}`` (the last one for a register wins)."""
    regs: dict[int, int] = {}
    for item in items:
        m = _REG_RE.fullmatch(item)
        if not m:
            raise UsageError(f"--reg expects rI=V (e.g. r1=5), got '{item}'")
        r = int(m.group(1))
        if r >= sizes.registers:
            raise UsageError(f"--reg {item}: no register r{r} "
                             f"(registers are r0..r{sizes.registers - 1})")
        regs[r] = int(m.group(2)) % sizes.n
    return regs


def parse_mem(items: list[str], sizes: Sizes) -> dict[int, int]:
    """``["4=1,2,3"]`` → ``{4: 1, 5: 2, 6: 3}``; the cells must exist (later items win)."""
    mem: dict[int, int] = {}
    for item in items:
        m = _MEM_RE.fullmatch(item)
        values = m and [v.strip() for v in m.group(2).split(",")]
        if not m or not all(re.fullmatch(r"[+-]?[0-9]+", v) for v in values):
            raise UsageError(f"--mem expects A=V1,V2,... (e.g. 0=5,3,1), got '{item}'")
        a = int(m.group(1))
        if a + len(values) > sizes.m:
            last = a + len(values) - 1
            where = f"cell {a}" if len(values) == 1 else f"cells {a}..{last}"
            raise UsageError(f"--mem {item}: {where} past the end of memory "
                             f"({sizes.m} cells, 0..{sizes.m - 1})")
        for k, v in enumerate(values):
            mem[a + k] = int(v) % sizes.n
    return mem


def parse_arg(text: str):
    """One ``--args`` value: a Python literal int (bool), list (tuple) of ints, or of such lists;
    not reduced mod n."""
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise UsageError(f"--args: '{text}' is not a Python literal") from None
    def plain(v, depth=0):  # ints, lists (tuples) of them, lists of lists ...
        if isinstance(v, (bool, int)):
            return int(v)
        if isinstance(v, (list, tuple)) and depth < 8:
            return [plain(x, depth + 1) for x in v]
        raise TypeError

    try:
        return plain(value)
    except TypeError:
        raise UsageError(f"--args: '{text}' is not an integer or a list of integers") from None


# -- running ------------------------------------------------------------------------------------

@dataclass
class Outcome:
    halted: bool
    steps: int
    registers: list[int]
    memory: list[int]
    confidence: float | None = None


def _check_machine_options(args, sizes: Sizes) -> None:
    """Options that are wrong whatever the backend: explicit but impossible on this machine."""
    n = sizes.n
    if args.alu == "circuit" and n & (n - 1):
        raise UsageError(f"--alu circuit needs n to be a power of two (n={n})")
    if args.device == "cuda":
        import torch  # only here: a reference run never loads torch

        if not torch.cuda.is_available():
            raise UsageError("--device cuda: CUDA is not available on this machine "
                             "(use --device cpu)")


def execute(program: Program, args, registers: dict, memory: dict) -> Outcome:
    """Run ``program`` on the chosen backend."""
    if args.backend == "reference":
        r = run_reference(program, registers, memory, max_steps=args.max_steps)
        return Outcome(r.halted, r.steps, list(r.registers), list(r.memory))
    from ..machine import run_machine

    r = run_machine(program, registers=registers, memory=memory, max_steps=args.max_steps,
                    alu=args.alu or "sparse", device=args.device or "cpu",
                    dtype=args.dtype or "float32")
    return Outcome(bool(r.halted), int(r.steps), [int(v) for v in r.registers],
                   [int(v) for v in r.memory], float(r.confidence))


def _run_asm(args, source: str, overrides: dict) -> int:
    if args.function is not None:
        raise UsageError("--function applies only to .py files")
    if args.args is not None:
        raise UsageError("--args applies only to .py files (use --reg and --mem for .asm)")
    program = assemble(source, args.file, overrides)
    _check_machine_options(args, program.sizes)
    regs = parse_reg(args.reg, program.sizes)
    mem = parse_mem(args.mem, program.sizes)
    out = execute(program, args, regs, mem)
    if args.json:
        obj = {"halted": out.halted, "steps": out.steps, "registers": out.registers,
               "memory": out.memory}
        if out.confidence is not None:
            obj["confidence"] = out.confidence
        print(json.dumps(obj))
        return 0
    print(_status(out, args.max_steps))
    print("registers: " + " ".join(f"r{i}={v}" for i, v in enumerate(out.registers)))
    cells = [f"[{a}]={v}" for a, v in enumerate(out.memory) if v]
    if cells:
        print(f"memory ({len(out.memory)} cells, the others 0): " + " ".join(cells))
    else:
        print(f"memory ({len(out.memory)} cells): all 0")
    if out.confidence is not None:
        print(f"confidence: {out.confidence:.6g}")
    return 0


def _status(out: Outcome, budget: int) -> str:
    if out.halted:
        return f"halted after {out.steps} step{'' if out.steps == 1 else 's'}"
    return f"not halted: the step budget ({budget} steps) ran out"


def _run_py(args, source: str, overrides: dict) -> int:
    if args.reg:
        raise UsageError("--reg does not apply to .py files (use --args)")
    if args.mem:
        raise UsageError("--mem does not apply to .py files (use --args)")
    values = [parse_arg(a) for a in (args.args or [])]
    from .compile import compile_py

    compiled = compile_py(source, args.file, overrides, args.function, args.signed)
    program = compiled.program
    _check_machine_options(args, program.sizes)
    registers, memory = compiled.inputs(values)  # UsageError when they do not fit the function
    out = execute(program, args, registers, memory)
    result = compiled.result(out.registers, out.memory) if out.halted else None
    if args.json:
        obj = {"halted": out.halted, "steps": out.steps, "result": result}
        if out.confidence is not None:
            obj["confidence"] = out.confidence
        print(json.dumps(obj))
        return 0
    if out.halted:
        print(f"result: {result}")
    print(_status(out, args.max_steps))
    if out.confidence is not None:
        print(f"confidence: {out.confidence:.6g}")
    return 0


def main(args) -> int:
    overrides = size_overrides(args)
    source = read_source(args.file)
    if args.file.endswith(".py"):
        return _run_py(args, source, overrides)
    return _run_asm(args, source, overrides)
