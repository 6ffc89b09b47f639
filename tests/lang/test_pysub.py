"""The Python subset (docs/LANGUAGE.md §3): the shared case table against CPython, on the reference
interpreter (all cases, width 1 and scheduled), and a sample on the sharp machine."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from pysub_cases import CASES, Case, cpython

from neuralc.lang.asm import assemble
from neuralc.lang.errors import CompileError, RuntimeProgramError, UsageError
from neuralc.lang.interp import run_reference
from neuralc.lang.printer import format_program
from neuralc.lang.program import Sizes
from neuralc.machine import run_machine
from neuralc.pipeline import compile_python, run_python

ERROR_WORDS = {ZeroDivisionError: "division or modulo by zero", IndexError: "index out of range",
               MemoryError: "out of memory", RecursionError: "call stack overflowed"}
STEPS = 200_000


def _expected(case: Case):
    return case.expect if case.expect is not None else cpython(case)


def _run(case: Case, width: int = 1):
    sizes = case.sizes if width == 1 else case.sizes.override(width=width)
    compiled = compile_python(case.source, case.name, sizes, case.function)
    registers, memory = compiled.inputs(case.args)
    out = run_reference(compiled.program, registers, memory, STEPS)
    assert out.halted, f"{case.name} did not halt in {STEPS} steps"
    return compiled, out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_reference_matches_cpython(case: Case):
    compiled, out = _run(case)
    assert compiled.program.L <= case.sizes.n
    if case.raises:
        with pytest.raises(RuntimeProgramError, match=ERROR_WORDS[case.raises]):
            compiled.result(out)
    else:
        assert compiled.result(out) == _expected(case)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_parallel_matches_sequential(case: Case):
    _, seq = _run(case)
    compiled, par = _run(case, width=4)
    assert compiled.program.width <= 4
    assert par.steps <= seq.steps
    if case.raises:
        with pytest.raises(RuntimeProgramError, match=ERROR_WORDS[case.raises]):
            compiled.result(par)
    else:
        assert compiled.result(par) == _expected(case)


MACHINE = [c for c in CASES if c.machine]


@pytest.mark.parametrize("case", MACHINE, ids=[c.name for c in MACHINE])
def test_sharp_machine_matches_reference(case: Case):
    compiled = compile_python(case.source, case.name, case.sizes, case.function)
    registers, memory = compiled.inputs(case.args)
    ref = run_reference(compiled.program, registers, memory, STEPS)
    out = run_machine(compiled.program, registers, memory, max_steps=ref.steps + 1)
    assert bool(out.halted) and int(out.steps) == ref.steps
    if case.raises:
        with pytest.raises(RuntimeProgramError):
            compiled.result(out)
    else:
        assert compiled.result(out) == compiled.result(ref) == _expected(case)


def test_printed_program_carries_the_source_and_reassembles():
    source = "def main(a):\n    s = 0\n    for i in range(a):\n        s += i\n    return s\n"
    compiled = compile_python(source, "loop.py")
    text = format_program(compiled.program)
    assert "; 3: for i in range(a):" in text and "; 4: s += i" in text
    again = assemble(text, "loop.asm")
    assert again == compiled.program


def test_inputs_are_checked():
    compiled = compile_python("def main(xs, k):\n    return xs[k]\n", "f.py")
    registers, memory = compiled.inputs([[5, 6, 7], 130])
    assert registers[1] == 2 and memory == {0: 3, 1: 5, 2: 6, 3: 7}
    with pytest.raises(UsageError, match=r"main\(xs, k\) takes 2 arguments, got 1"):
        compiled.inputs([[1]])
    with pytest.raises(UsageError, match="'xs' of main\\(xs, k\\) must be a list"):
        compiled.inputs([3, 1])
    with pytest.raises(UsageError, match="'k' of main\\(xs, k\\) must be an integer"):
        compiled.inputs([[1], [2]])
    with pytest.raises(RuntimeProgramError, match="out of memory"):
        compiled.inputs([list(range(200)), 0])


def test_result_reads_registers_and_memory_too():
    compiled = compile_python("def main(a):\n    return [a, a + 1]\n", "f.py")
    registers, memory = compiled.inputs([4])
    out = run_reference(compiled.program, registers, memory)
    assert compiled.result(out) == compiled.result(out.registers, out.memory) == [4, 5]
    out.halted = False
    assert compiled.result(out) is None


def test_entry_function_choice():
    two = "def f(a):\n    return a + 1\n\ndef g(a):\n    return f(a) * 2\n"
    assert run_python(two, [3], function="g").result == 8
    with pytest.raises(UsageError, match="no function 'main'.*--function"):
        compile_python(two, "two.py")
    with pytest.raises(UsageError, match="no function 'h'"):
        compile_python(two, "two.py", function="h")
    assert compile_python("def only(a):\n    return a\n").function == "only"
    assert compile_python(two + "\ndef main():\n    return g(1)\n").function == "main"
    with pytest.raises(CompileError, match="defines no function"):
        compile_python("", "empty.py")


def test_only_reachable_functions_are_compiled_but_all_are_checked():
    source = ("def unused(a):\n    return a * a * a * a * a\n\n"
              "def main(a):\n    return a\n")
    assert compile_python(source).program.L <= 2
    with pytest.raises(CompileError, match="unknown function 'nope'"):
        compile_python(source.replace("a * a * a * a * a", "nope(a)"))


def test_program_too_long_for_n():
    body = "".join(f"    a = a * {i + 2} + {i}\n" for i in range(40))
    source = f"def main(a):\n{body}    return a\n"
    with pytest.raises(CompileError, match=r"needs \d+ lines, more than the machine's n=32"):
        compile_python(source, "long.py", Sizes(n=32))
    assert compile_python(source, "long.py", Sizes(n=256)).program.L <= 256


def test_values_are_reduced_mod_n():
    source = "def main(a, b):\n    return a - b\n"
    assert run_python(source, [3, 5], Sizes(n=16)).result == 14
    assert run_python(source, [-1, 300], Sizes(n=16)).result == (15 - 300 % 16) % 16


def test_recursion_depth_is_a_runtime_error_not_a_wrong_answer():
    source = ("def down(k):\n    if k == 0:\n        return 0\n    return down(k - 1) + 1\n\n"
              "def main(k):\n    return down(k)\n")
    assert run_python(source, [10]).result == 10
    with pytest.raises(RuntimeProgramError, match="call stack"):
        run_python(source, [127], max_steps=100_000)


def test_not_halted_gives_none():
    out = run_python("def main(a):\n    while True:\n        a += 1\n", [0], max_steps=50)
    assert not out.halted and out.result is None and out.steps == 50
