"""``neuralc compile FILE.py [-o OUT.asm]``: print or write the assembly of a Python file (docs/LANGUAGE.md §7).

The machine-size options are written as directives at the top of the output. With
``--width K > 1`` the program goes through the parallelizing scheduler. An ``.asm`` file is
accepted too: it is checked and printed back (parallelized with ``--width``).
"""

from __future__ import annotations

import argparse
import sys

from ..lang.asm import assemble, read_source
from ..lang.errors import UsageError
from ..lang.printer import format_program
from ..lang.program import Program, Sizes
from .options import add_size_options, size_overrides

HELP = "compile a .py file to assembly"

__all__ = ["add_parser", "add_signed_option", "compile_library_py", "compile_py", "main",
           "parallelize"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "compile", help=HELP,
        description="Compile a Python-subset file to assembly (printed, or written with -o).")
    p.add_argument("file", metavar="FILE", help="a .py file (an .asm file is checked and printed)")
    p.add_argument("-o", "--output", metavar="OUT", help="write the assembly here")
    add_size_options(p)
    p.add_argument("--function", metavar="NAME",
                   help="the entry function (default main, else the only function; a file of "
                        "several functions and no main compiles as a library)")
    add_signed_option(p)
    return p


def add_signed_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--signed", action="store_true",
                   help=".py: values read as signed (v >= n/2 is v - n), as in Python")


def _sizes(overrides: dict) -> Sizes:
    return Sizes().override(**overrides).check()


def parallelize(program: Program, width: int) -> Program:
    """The width-``width`` schedule of a width-1 program (``neuralc.passes``)."""
    if width <= 1:
        return program
    from ..passes import parallelize as schedule

    return schedule(program, width)


def compile_py(source: str, filename: str, overrides: dict, function: str | None,
               signed: bool = False):
    """Compile a Python-subset source (``neuralc.pipeline``).

    Returns the compiled object: ``.program``, ``.inputs(values)`` → ``(registers, memory)`` and
    ``.result(registers, memory)``.
    """
    from ..pipeline import compile_python

    sizes = _sizes(overrides)
    compiled = compile_python(source, filename, sizes, function=function, signed=signed)
    for line in compiled.warning_lines(filename):
        print(line, file=sys.stderr)
    return compiled


def _is_library(source: str, filename: str) -> bool:
    from ..lang.pysub.library import is_library

    return is_library(source, filename)


def compile_library_py(source: str, filename: str, overrides: dict, signed: bool = False):
    """Every function of a file of several functions and no ``main``, in one image
    (:func:`neuralc.pipeline.compile_library`); warnings go to stderr."""
    from ..pipeline import compile_library

    lib = compile_library(source, filename, _sizes(overrides), signed=signed)
    warned = next(iter(lib.functions.values()))
    for line in warned.warning_lines(filename):
        print(line, file=sys.stderr)
    return lib


def main(args) -> int:
    overrides = size_overrides(args)
    source = read_source(args.file)
    if args.file.endswith(".py") and args.function is None and _is_library(source, args.file):
        program = compile_library_py(source, args.file, overrides, args.signed).program
    elif args.file.endswith(".py"):
        program = compile_py(source, args.file, overrides, args.function,
                             getattr(args, "signed", False)).program
    else:
        if args.function is not None:
            raise UsageError("--function applies only to .py files")
        width = overrides.pop("width", None)
        program = assemble(source, args.file, overrides)
        if width is not None:
            program = parallelize(program, width)
    # every size given on the command line is written as a directive, default or not
    forced = Sizes(
        n=-1 if "n" in overrides else Sizes.n,
        registers=-1 if "registers" in overrides else Sizes.registers,
    )
    text = format_program(program, default_sizes=forced)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as e:
            raise UsageError(f"cannot write {args.output}: {e.strerror or e}") from None
    else:
        print(text, end="")
    return 0

