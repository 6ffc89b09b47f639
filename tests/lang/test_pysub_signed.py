"""Signed values (``signed=True``) in every place a ``range``, a list position or a sum appears.

Every expected value is computed by CPython itself (the test runs the function); each case runs
through the reference interpreter and the sharp machine. Where a value CPython computes leaves
``-n/2 .. n/2-1``, the run must stop with ``integer overflow`` instead.
"""

from __future__ import annotations

import copy

import pytest

from neuralc.lang.errors import RuntimeProgramError
from neuralc.lang.interp import run_reference
from neuralc.lang.program import Sizes
from neuralc.lang.pysub.desugar import desugar
from neuralc.pipeline import compile_python, run_python

N = 1024

# (id, source, args)
CASES = [
    ("comprehension-countdown", "def f(n):\n    return [i for i in range(n, -1, -1)]\n", [3]),
    ("generator-countdown", "def f(n):\n    return sum(i for i in range(n, -3, -2))\n", [5]),
    ("comprehension-clauses", ("def f(n):\n    return [i * j for i in range(-n, n) if i < 0"
                               " for j in range(i, 1) if j != i]\n"), [3]),
    ("comprehension-shadow", ("def f(n):\n    return [[i for i in range(i, -2, -1)]"
                              " for i in range(-1, n)]\n"), [2]),
    ("range-values", ("def f(n):\n    return list(range(n, -4, -1)) + list(reversed(range(-3, n)))"
                      " + sorted(range(-n, n, 2)) + [sum(range(-n, 1)), len(range(n, -n, -1)),"
                      " max(range(-n, -1)), int(any(range(-1, 0)))]\n"), [2]),
    ("sorted-min-max-of-ranges", ("def f(n):\n    return sorted(range(2), reverse=True)"
                                  " + [min(range(3, n)), max(range(n))]"
                                  " + sorted(range(n, 0, -1))\n"), [5]),
    ("in-range", ("def f(a, b):\n    return [a in range(b, -5, -1), a in range(-5, b),"
                  " a not in range(b, -9, -3), -2 in range(a, b)]\n"), [-2, 3]),
    ("pop-insert-del", ("def f(xs):\n    xs.insert(-1, 9)\n    xs.insert(-100, 7)\n"
                        "    xs.insert(100, 8)\n    a = xs.pop(-2)\n    b = xs.pop()\n"
                        "    del xs[-1]\n    return xs + [a, b]\n"), [[1, 2, 3, 4]]),
    ("pop-variable", ("def f(xs, k):\n    a = xs.pop(k)\n    xs.insert(k, -a)\n"
                      "    del xs[k - 1]\n    return xs\n"), [[5, -6, 7, 8], -2]),
    ("runtime-step-loop", ("def f(n, s):\n    out = []\n    for i in range(n, -n, s):\n"
                           "        out.append(i)\n    return out\n"), [4, -3]),
    ("runtime-step-up", ("def f(n, s):\n    out = []\n    for i in range(-n, n, s):\n"
                         "        out.append(i)\n    return out\n"), [4, 3]),
    ("runtime-step-comprehension", ("def f(n, s):\n    return [i for i in range(n, -n, s)]"
                                    " + [sum(range(-n, n, -s))]\n"), [5, -2]),
    ("runtime-step-in", ("def f(x, s):\n    return [x in range(6, -6, s), x in range(-6, 6, s),"
                         " x + 1 in range(6, -6, s)]\n"), [-4, -2]),
    ("augmented-lists", ("def f(xs, ys):\n    zs = xs\n    xs += ys\n    t = 0\n"
                         "    for x in xs:\n        t += x\n    return zs + [t]\n"),
     [[1, -4], [5, -9]]),
    ("sum-negative", "def f(xs):\n    return sum(xs) + sum(x for x in xs if x < 0)\n",
     [[400, -400, -11, 3]]),
]


def cpython(source: str, args: list):
    env: dict = {}
    exec(compile(source, "case", "exec"), env)  # noqa: S102 (the oracle)
    return env["f"](*copy.deepcopy(args))


@pytest.mark.parametrize("backend", ["reference", "machine"])
@pytest.mark.parametrize("name,source,args", CASES, ids=[c[0] for c in CASES])
def test_signed_agrees_with_cpython(name, source, args, backend):
    want = cpython(source, args)
    out = run_python(source, args, sizes=Sizes(n=N), backend=backend, signed=True)
    assert out.halted
    assert out.result == want  # (True == 1: a comparison's value reads as 0 or 1)


@pytest.mark.parametrize("backend", ["reference", "machine"])
@pytest.mark.parametrize("source,args", [
    ("def f(xs):\n    return sum(xs)\n", [[500, 500]]),
    ("def f(xs):\n    return sum(xs)\n", [[-500, -13]]),
    ("def f(n):\n    return sum(x * 100 for x in range(n, -1, -1))\n", [3]),
    ("def f(a):\n    return a + (-9 * 9) * 9\n", [0]),  # two literals: no inline check
    ("def f(xs):\n    t = 0\n    for x in xs:\n        t += x\n    return t\n", [[-300, -300]]),
])
def test_overflow_is_a_runtime_error(source, args, backend):
    with pytest.raises(OverflowError):
        cpython_checked(source, args)
    with pytest.raises(RuntimeProgramError, match="^integer overflow$"):
        run_python(source, args, sizes=Sizes(n=N), backend=backend, signed=True)


# x + c, x - c, x * c with a literal c are checked inline: at both ends of their interval
LITERAL_FORMS = ["x + 1", "x - 1", "x + 7", "x - 7", "x * 3", "x * -1", "x * -4", "1 + x",
                 "-3 * x", "x + -2"]


@pytest.mark.parametrize("form", LITERAL_FORMS)
def test_literal_operand_checks_fit_exactly(form):
    source = f"def f(x):\n    return {form}\n"
    assert desugar(source, "p.py", N, signed=True).prelude == []  # no helper: inline
    compiled = compile_python(source, "p.py", Sizes(n=N), signed=True)
    lo, hi = -N // 2, N // 2 - 1
    tried = 0
    for x in range(lo, hi + 1):
        want = eval(form, {"x": x})
        if x not in (lo, hi) and min(abs(want - lo), abs(want - hi)) > 8:
            continue  # the ends of the interval are what matters
        tried += 1
        out = run_reference(compiled.program, *compiled.inputs([x]), 10_000)
        if lo <= want <= hi:
            assert compiled.result(out) == want
        else:
            with pytest.raises(RuntimeProgramError, match="^integer overflow$"):
                compiled.result(out)
    assert tried >= 4


@pytest.mark.parametrize("form", ["x < 0", "x <= 0", "x > 0", "x >= 0", "0 < x", "0 <= x",
                                  "0 > x", "0 >= x"])
def test_comparisons_with_zero_are_one_unsigned_comparison(form):
    source = f"def f(x):\n    return int({form})\n"
    compiled = compile_python(source, "p.py", Sizes(n=N), signed=True)
    for x in [*range(-N // 2, -N // 2 + 3), -1, 0, 1, 2, *range(N // 2 - 3, N // 2)]:
        out = run_reference(compiled.program, *compiled.inputs([x]), 10_000)
        assert compiled.result(out) == eval(form, {"x": x})


SLICES = ("def f(xs, a, b):\n    return [xs[a:b:-1], xs[a::-1], xs[:b:-1], xs[a:b:-2], xs[a:b],"
          " xs[a:b:2], xs[-1:-9:-1], xs[-9:-1]]\n")


def test_slices_with_negative_bounds_and_steps():
    # a bound below -len clamps to 0 counting up, and to "before the first element" counting
    # down (so xs[a:-99:-1] takes xs[0] and xs[-99::-1] takes nothing)
    compiled = compile_python(SLICES, "p.py", Sizes(n=N), signed=True)
    xs = [4, 0, -9, 5, -8, 4]
    for a in range(-9, 9):
        for b in range(-9, 9, 2):
            out = run_reference(compiled.program, *compiled.inputs([list(xs), a, b]), 100_000)
            assert compiled.result(out) == cpython(SLICES, [xs, a, b])


RUNTIME_STEP_SLICES = "def f(xs, a, b, s):\n    return [xs[a:b:s], xs[a::s], xs[:b:s], xs[::s]]\n"


def test_slices_with_a_runtime_step_take_its_sign():
    compiled = compile_python(RUNTIME_STEP_SLICES, "p.py", Sizes(n=N), signed=True)
    xs = [4, 0, -9, 5, -8, 4]
    for a in range(-8, 8, 3):
        for b in range(-8, 8, 3):
            for step in (-3, -1, 2):
                args = [list(xs), a, b, step]
                out = run_reference(compiled.program, *compiled.inputs(args), 100_000)
                assert compiled.result(out) == cpython(RUNTIME_STEP_SLICES, args)


def cpython_checked(source: str, args: list):
    """CPython's result, or OverflowError when it leaves -n/2 .. n/2-1."""
    v = cpython(source, args)
    if not -N // 2 <= v < N // 2:
        raise OverflowError(v)
    return v


HEAP = ("def f(a, b, xs):\n    d = 1\n    t = 0\n    ys = [0]\n"
        "    for i in range(8, a, -1):\n        ys = ys + [xs[0] for q in range(b, -a, 3)]\n"
        "        ys = [q for q in range(a - 3, -a, -3)]\n    c = xs.pop(-1)\n"
        "    return [c, d, t, len(xs)] + ys + xs\n")


def test_lists_filling_memory_stop_with_out_of_memory_never_a_wrong_result():
    # the loop's lists fill memory a little more for each a; near the top, the free room
    # must not wrap around n (it once overwrote the stack instead of stopping)
    compiled = compile_python(HEAP, "p.py", Sizes(n=N), signed=True)
    stopped = 0
    for a in range(-30, -46, -1):
        args = [a, 10, [2, 6, 8, 1, 1, -9]]
        out = run_reference(compiled.program, *compiled.inputs(copy.deepcopy(args)), 300_000)
        try:
            got = compiled.result(out)
        except RuntimeProgramError as e:
            assert str(e).startswith("out of memory")
            stopped += 1
            continue
        assert got == cpython(HEAP, args)
    assert 0 < stopped < 16
