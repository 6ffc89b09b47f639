"""The standard library of compiled programs (docs/DESIGN.md §8.1); see docs/LIBRARY.md.

``library.names()``, ``library.get(name)`` → :class:`LibraryProgram` (``.doc``,
``.inputs_ports``/``.output_port``, ``.program(sizes, width)``, ``.inputs(args)``,
``.output(run)``, ``.run(args)``).
"""

from .registry import (
    CALCULATOR_OPS,
    LibraryProgram,
    Port,
    entries,
    fibonacci,
    get,
    names,
    python_program,
    sample_args,
)

__all__ = ["CALCULATOR_OPS", "LibraryProgram", "Port", "entries", "fibonacci", "get", "names",
           "python_program", "sample_args"]
