"""Compile a Python-subset file for the machine and run it: the checked, lowered width-1
program of :mod:`neuralc.lang.pysub`, scheduled by :func:`neuralc.passes.schedule.schedule`
when the machine is wider than one.

    compiled = compile_python(source, "fib.py", Sizes(width=2))   # CompiledPython
    run_python(source, [10]).result                                # 55
"""

from __future__ import annotations

from ..lang.interp import DEFAULT_MAX_STEPS
from ..lang.program import Sizes
from ..lang.pysub import compiler
from ..lang.pysub.compiler import CompiledPython
from ..lang.pysub.desugar import Desugared
from ..lang.pysub.validate import CheckedModule
from ..passes.schedule import schedule
from .run import PyRunResult, execute

__all__ = ["compile_python", "run_python"]


def compile_python(source: str, filename: str = "<input>", sizes: Sizes | None = None,
                   function: str | None = None, signed: bool = False,
                   checked: tuple[CheckedModule, Desugared] | None = None) -> CompiledPython:
    """:func:`neuralc.lang.pysub.compile_python` with the scheduling pass for width > 1 (the
    same arguments; raises :class:`CompileError` with every error of the file)."""
    return compiler.compile_python(source, filename, sizes, function, signed=signed,
                                   checked=checked, schedule=schedule)


def run_python(source: str, args: list, sizes: Sizes | None = None, function: str | None = None,
               backend: str = "reference", max_steps: int = DEFAULT_MAX_STEPS,
               filename: str = "<input>", signed: bool = False, **machine_kw) -> PyRunResult:
    """Compile and run ``source`` on ``args``; the Python form of ``neuralc run FILE.py``."""
    compiled = compile_python(source, filename, sizes, function, signed=signed)
    registers, memory = compiled.inputs(args)
    out = execute(compiled.program, registers, memory, backend, max_steps, **machine_kw)
    confidence = getattr(out, "confidence", None)
    confidence = None if confidence is None else float(confidence)
    halted = bool(out.halted)
    return PyRunResult(halted, int(out.steps), compiled.result(out) if halted else None,
                       confidence)
