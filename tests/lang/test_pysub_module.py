"""A file as people write it: a module docstring first, in both value modes."""

import pytest

from neuralc.lang.interp import run_reference
from neuralc.lang.program import Sizes
from neuralc.pipeline import compile_python

SOURCE = '''"""A small library with a module docstring."""


def last(xs):
    return xs[len(xs) - 1] + abs(xs[0])
'''


@pytest.mark.parametrize("signed", [False, True])
def test_a_module_docstring_is_allowed_before_the_functions(signed):
    compiled = compile_python(SOURCE, "lib.py", Sizes(n=256), signed=signed)
    args = [[5, 7, 9]]
    registers, memory = compiled.inputs(args)
    out = run_reference(compiled.program, registers, memory)
    assert compiled.result(out) == 9 + 5
