"""neuralc: neural compilation.

Programs (assembly, docs/LANGUAGE.md §2, or a Python subset, docs/LANGUAGE.md §3) are compiled into the parameters of a
differentiable register machine. The contract of the command line is available from Python::

    import neuralc
    program = neuralc.assemble(open("fib.asm").read(), "fib.asm")
    result = neuralc.run_reference(program, registers={1: 1})
    print(neuralc.format_program(program), result.registers)

``import neuralc`` does not import torch: :func:`run_machine` (the differentiable machine) and
:func:`compile_python` (the Python subset) are loaded on first use.
"""

from __future__ import annotations

from importlib import import_module

from .lang.asm import assemble, assemble_file
from .lang.errors import CompileError, Diagnostic, RuntimeProgramError, UsageError
from .lang.interp import RunResult, run_reference
from .lang.printer import format_program
from .lang.program import Op, Program, Sizes, Target

__version__ = "0.1.0"

# name → module that defines it, imported on first access (keeps torch out of `import neuralc`)
_LAZY = {
    "compile_python": "neuralc.pipeline",
    "compile_library": "neuralc.pipeline",
    "run_doctests": "neuralc.pipeline",
    "run_python": "neuralc.pipeline",
    "run_machine": "neuralc.machine",
}

__all__ = [
    "CompileError",
    "Diagnostic",
    "Op",
    "Program",
    "RunResult",
    "RuntimeProgramError",
    "Sizes",
    "Target",
    "UsageError",
    "assemble",
    "assemble_file",
    "compile_library",
    "compile_python",
    "format_program",
    "run_doctests",
    "run_machine",
    "run_python",
    "run_reference",
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    raise AttributeError(f"module 'neuralc' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
