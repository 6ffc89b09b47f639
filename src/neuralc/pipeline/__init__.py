"""The road from a source file to a run, one stage after another (docs/COMPILER.md)::

    source ─lang─▶ checked, lowered width-1 Program ─passes (width > 1: schedule; libraries:
           link)─▶ Program or library image ─run─▶ reference interpreter or machine

    from neuralc.pipeline import compile_python, run_python, compile_library, run_doctests
    compile_python(source, "fib.py", Sizes(width=2))      # CompiledPython, scheduled
    run_python(source, [10], backend="machine").result    # 55
    compile_library(source, "lib.py").run("gcd", [12, 18])  # every function in one image
    run_doctests(source, "lib.py").summary()              # "3 passed, 0 failed, 0 skipped"

The command line and the library use these functions; the stages below (:mod:`neuralc.lang`,
:mod:`neuralc.passes`, :mod:`neuralc.machine`) import nothing from here, and ``lang`` imports
nothing from the stages above it. :mod:`.run` is the one place that picks the backend.
"""

from .compile import compile_python, run_python
from .doctests import DoctestReport, run_doctests
from .library import CompiledLibrary, compile_library
from .run import PyRunResult, execute

__all__ = ["CompiledLibrary", "DoctestReport", "PyRunResult", "compile_library",
           "compile_python", "execute", "run_doctests", "run_python"]
