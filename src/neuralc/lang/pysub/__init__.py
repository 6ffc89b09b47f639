"""The Python subset (docs/LANGUAGE.md §3): checked and lowered to a width-1 assembly program.

    from neuralc.lang.pysub import compile_python
    compiled = compile_python(source, "fib.py")          # CompiledPython
    registers, memory = compiled.inputs([10])

Passes, one module each: :mod:`.desugar` (parse; the Python people write into the core
subset, with :mod:`.prelude` helpers), :mod:`.validate` (check the file, infer int/list kinds),
:mod:`.lower` (to virtual-register IR), :mod:`.regalloc` (graph coloring, spills),
:mod:`.emit` (frames, calls, error stubs, layout); :mod:`.layout` holds the run-time
conventions. Scheduling for width > 1, library images, runs and doctests are the stages above:
:mod:`neuralc.pipeline` (``neuralc.compile_python``, ``neuralc.run_python``, ...). See
docs/COMPILER.md.
"""

from .compiler import CompiledPython, compile_python
from .layout import ERRORS, Layout

__all__ = ["ERRORS", "CompiledPython", "Layout", "compile_python"]
