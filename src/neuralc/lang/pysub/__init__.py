"""The Python subset (docs/LANGUAGE.md §3): checked, lowered to assembly, run on either backend.

    from neuralc.lang.pysub import compile_python, run_python
    compiled = compile_python(source, "fib.py")          # CompiledPython
    registers, memory = compiled.inputs([10])
    run_python(source, [10]).result                      # 55
    compile_library(source, "lib.py").run("gcd", [12, 18])   # every function in one image
    run_doctests(source, "lib.py").summary()              # "3 passed, 0 failed, 0 skipped"

Passes, one module each: :mod:`.desugar` (parse; the Python people write into the core
subset, with :mod:`.prelude` helpers), :mod:`.validate` (check the file, infer int/list kinds),
:mod:`.lower` (to virtual-register IR), :mod:`.regalloc` (graph coloring, spills),
:mod:`.emit` (frames, calls, error stubs, layout); :mod:`.layout` holds the run-time
conventions. See docs/COMPILER.md.
"""

from .compiler import CompiledPython, PyRunResult, compile_python, run_python
from .doctests import DoctestReport, run_doctests
from .layout import ERRORS, Layout
from .library import CompiledLibrary, compile_library

__all__ = ["ERRORS", "CompiledLibrary", "CompiledPython", "DoctestReport", "Layout",
           "PyRunResult", "compile_library", "compile_python", "run_doctests", "run_python"]
