"""The Python subset (SPEC §3): checked, lowered to assembly, run on either backend.

    from neuralc.lang.pysub import compile_python, run_python
    compiled = compile_python(source, "fib.py")          # CompiledPython
    registers, memory = compiled.inputs([10])
    run_python(source, [10]).result                      # 55

Passes, one module each: :mod:`.validate` (check the file, infer int/list kinds),
:mod:`.lower` (to virtual-register IR), :mod:`.regalloc` (graph coloring, spills),
:mod:`.emit` (frames, calls, error stubs, layout); :mod:`.layout` holds the run-time
conventions. See docs/COMPILER.md.
"""

from .compiler import CompiledPython, PyRunResult, compile_python, run_python
from .layout import ERRORS, Layout

__all__ = ["ERRORS", "CompiledPython", "Layout", "PyRunResult", "compile_python", "run_python"]
