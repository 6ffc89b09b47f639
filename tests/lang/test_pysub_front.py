"""The front end of the Python subset (desugaring, signed values, warnings, library compile).

Every expected value is computed by CPython itself (the test runs the function), then reduced
to the machine's reading (mod n; signed readings with ``signed``); each case runs through the
reference interpreter and the sharp machine.
"""

from __future__ import annotations

import pytest

from neuralc.lang.errors import CompileError, RuntimeProgramError
from neuralc.lang.program import Sizes
from neuralc.pipeline import compile_python, run_python

N = 256

# (id, source, function, args, signed)
CASES = [
    ("defaults", ("def f(a, b=3, c=-2, d=True):\n    return a * b + c + d\n\n"
                 "def main(a):\n    return f(a) + f(a, 2) + f(a, c=5) + f(d=False, a=a)\n"),
     "main", [4], False),
    ("kwonly", "def f(a, *, k=2):\n    return a + k\n\ndef main(a):\n    return f(a, k=7) + f(a)\n",
     "main", [3], False),
    ("annotations", ("def f(xs: list[int], k: int = 1) -> int:\n    total: int = 0\n    seen: int\n"
                    "    for x in xs:\n        total += x * k\n    return total\n"), "f",
     [[1, 2, 3]], False),
    ("docstring", 'def f(a):\n    """Doc.\n\n    >>> f(1)\n    2\n    """\n    return a + 1\n',
     "f", [5], False),
    ("pow", "def f(a, b):\n    return a ** 2 + a ** b + 2 ** b + pow(a, 3) + pow(a, b, 7)\n",
     "f", [3, 4], False),
    ("shifts", ("def f(a, b):\n    x = a << 2\n    x <<= 1\n    y = (a >> b) + (a >> 1)\n"
               "    y >>= 1\n    return x + y + (a >> 9) + (1 << b)\n"), "f", [13, 2], False),
    ("invert", "def f(a):\n    return ~a + ~(~a) + 300\n", "f", [5], False),
    ("augmented-pow", "def f(a):\n    a **= 3\n    return a\n", "f", [4], False),
    ("builtins", ("def f(a, b):\n    return abs(a) + int(b) + bool(a) + bool(0) + int(True)"
                 " + max(a, b, 7) + min(a, b, 1)\n"), "f", [5, 9], False),
    ("abs-difference", "def f(xs, i, j):\n    return abs(xs[i] - xs[j]) + abs(i - j)\n", "f",
     [[9, 4, 7], 1, 2], False),
    ("float-division", ("import math\n\ndef f(a, b):\n    return [int(a / b), math.floor(a / b), "
                        "math.ceil(a / b), int(a / 2)]\n"), "f", [7, 2], False),
    ("divmod", "def f(a, b):\n    q, r = divmod(a, b)\n    return q * 10 + r\n", "f", [47, 6],
     False),
    ("isinstance", ("def f(a, xs):\n    r = 0\n    if isinstance(a, int):\n        r += 1\n"
                   "    if isinstance(xs, list):\n        r += 2\n    if isinstance(a, (float, str)):"
                   "\n        r += 4\n    if not isinstance(xs, int):\n        r += 8\n"
                   "    return r + len(xs)\n"), "f", [1, [1, 2]], False),
    ("type-is", ("def f(a, xs):\n    r = 0\n    if type(a) is int:\n        r += 1\n"
                 "    if type(xs) != list:\n        r += 2\n    if type(a) == list:\n        r += 4\n"
                 "    return r + len(xs)\n"), "f", [1, [2]], False),
    ("assert-ok", "def f(a):\n    assert a > 2, 'small'\n    assert a\n    return a\n", "f", [5],
     False),
    ("raise", "def f(a):\n    if a > 10:\n        raise ValueError('too big')\n    return a\n",
     "f", [12], False),
    ("raise-bare-class", "def f(a):\n    if a == 0:\n        raise ZeroDivisionError\n    return a\n",
     "f", [0], False),
    ("assert-fails", "def f(a):\n    assert a > 2, 'a must exceed 2'\n    return a\n", "f", [1],
     False),
    ("raise-fstring", ("def f(a, k=3):\n    msg = f'a must be small, got {a} (k={k}, {a + k})'\n"
                       "    if a > 10:\n        raise ValueError(msg)\n    return a\n"), "f", [12],
     False),
    ("raise-value", "def f(a):\n    if a == 5:\n        raise IndexError(a)\n    return a\n",
     "f", [5], False),
    ("assert-fstring", "def f(a):\n    assert a != 7, f'{a - 6}x bad'\n    return a\n", "f",
     [7], False),
    ("assert-no-message", "def f(a):\n    assert a > 2\n    return a\n", "f", [1], False),
    ("typing-import", ("from typing import List\n\ndef f(xs: List[int]) -> int:\n    return len(xs)"
                      "\n\nif __name__ == '__main__':\n    import doctest\n    doctest.testmod()\n"),
     "f", [[4, 5]], False),
    ("constants", "MOD = 200\nLIMIT = 2 ** 3 - 1\n\ndef f(a):\n    return pow(a, 77, MOD) + LIMIT\n",
     "f", [3], False),
    ("square-roots", ("import math\n\ndef f(a):\n    return [int(a ** 0.5), math.isqrt(a), "
                     "int(math.sqrt(a)), math.floor(math.sqrt(a)), math.gcd(a, 12)]\n"),
     "f", [255], False),
    ("none-defaults", ("def search(xs, t, lo=0, hi=None):\n    if hi is None:\n"
                       "        hi = len(xs) - 1\n    while lo <= hi:\n        mid = (lo + hi) // 2\n"
                       "        if xs[mid] == t:\n            return mid\n        if xs[mid] < t:\n"
                       "            lo = mid + 1\n        else:\n            hi = mid - 1\n"
                       "    return 99\n\ndef main(xs):\n    return [search(xs, 7), search(xs, 7, 0, 2),"
                       " search(xs, 7, hi=None), search(xs, 3, hi=1), search(xs, 9)]\n"),
     "main", [[1, 3, 5, 7, 9]], False),
    ("none-sentinel", ("def f(xs, out=None):\n    if out is None:\n        out = []\n"
                       "    best = None\n    for x in xs:\n        if best is None or x > best:\n"
                       "            best = x\n        out.append(best)\n    return out\n\n"
                       "def main(xs):\n    return f(xs) + f(xs, [7])\n"), "main", [[3, 1, 4, 1, 5]],
     False),
    ("nested-functions", ("def f(grid, w):\n    h = len(grid) // w\n\n    def walk(r, c):\n"
                          "        if r >= h or c >= w or grid[r * w + c] == 1:\n            return 0\n"
                          "        if r == h - 1 and c == w - 1:\n            return 1\n"
                          "        return walk(r + 1, c) + walk(r, c + 1)\n\n    return walk(0, 0)\n"),
     "f", [[0, 0, 0, 0, 1, 0, 0, 0, 0], 3], False),
    ("infinity", ("import math\n\ndef f(xs):\n    lo = float('inf')\n    hi = -math.inf\n"
                  "    for x in xs:\n        lo = min(lo, x)\n        hi = max(hi, x)\n"
                  "    return [lo, hi]\n"), "f", [[4, 2, 9]], False),
    ("harmless-top-level", ("import sys\nimport doctest\n\nsys.setrecursionlimit(10000)\n\n"
                            "def f(xs):\n    best = sys.maxsize\n    for x in xs:\n"
                            "        best = min(best, x)\n    return best\n\ndoctest.testmod()\n"),
     "f", [[5, 3, 8]], False),
    # signed values
    ("signed-countdown", ("def f(k):\n    t = 0\n    for i in range(k, -1, -1):\n        t += i\n"
                         "    return t\n"), "f", [6], True),
    ("signed-while", ("def f(k):\n    j = k\n    n = 0\n    while j >= 0:\n        j -= 3\n"
                     "        n += 1\n    return n * 10 + j\n"), "f", [7], True),
    ("signed-negatives", "def f(a, b):\n    return a - b\n", "f", [3, 10], True),
    ("signed-floordiv", ("def f(a, b):\n    return [a // b, a % b, -a // b, -a % b, a // -b,"
                        " a % -b, -7 // 2, -7 % 2]\n"), "f", [7, 2], True),
    ("signed-floordiv2", "def f(a, b):\n    return [a // b, a % b, a // 3, a % 3, a % 4]\n", "f",
     [-13, 5], True),
    ("signed-index", "def f(xs, i):\n    return xs[-1] * 4 + xs[i] * 2 + xs[-len(xs)]\n", "f",
     [[4, 5, 6], -2], True),
    ("signed-grid", "def f(grid, i):\n    return grid[-1][-1] + grid[i][-2] + grid[0][i]\n", "f",
     [[[1, 2, 3], [4, 5, 6]], -1], True),
    ("signed-compare", ("def f(a, b):\n    return [a < b, a <= b, a > b, a >= b, -5 < a < 5,"
                       " min(a, b), max(a, b), abs(a), abs(b), a >> 1, b >> 2]\n"),
     "f", [-3, 2], True),
    ("signed-minmax-list", "def f(xs):\n    return min(xs) * 10 + max(xs) + max(xs[0], -50, 3)\n",
     "f", [[-4, 7, -9, 2]], True),
    ("signed-float-division", ("import math\n\ndef f(a, b):\n    return [int(a / b), "
                               "math.floor(a / b), math.ceil(a / b), int(a / 2)]\n"), "f", [-7, 2],
     True),
    ("signed-pow", "def f(a):\n    return a ** 3 + pow(a, 2) + pow(a, 3, 7)\n", "f", [-3], True),
    ("signed-range-step", ("def f(a, b):\n    t = 0\n    for i in range(a, b, -3):\n        t += i\n"
                          "    for i in range(b, a):\n        t += 1\n    return t\n"), "f", [5, -8],
     True),
    ("signed-invert", "def f(a):\n    return [~a, ~(-a), -a]\n", "f", [6], True),
    ("signed-slices", "def f(xs, k):\n    return [xs[-2:], xs[:-1], xs[-9:], xs[k:], xs[::-1]]\n",
     "f", [[3, -1, 4], -1], True),
    ("signed-sorts", "def f(xs):\n    ys = sorted(xs, reverse=True)\n    xs.sort()\n    return ys + xs\n",
     "f", [[3, -1, 2, -5]], True),
    ("min-default", "def f(xs):\n    return [max(xs, default=0), min(xs[9:], default=7)]\n", "f",
     [[3, 1, 2]], False),
    ("signed-default", "def f(a, b=-4):\n    return a * b\n", "f", [3], True),
]


def cpython(source: str, function: str, args: list):
    env: dict = {}
    exec(compile(source, "case", "exec"), env)  # noqa: S102 (the oracle)
    try:
        return env[function](*[list(a) if isinstance(a, list) else a for a in args]), None
    except Exception as e:  # noqa: BLE001 -- the exception is the expected outcome
        return None, e


def reading(v, n: int, signed: bool):
    if isinstance(v, (list, tuple)):
        return [reading(x, n, signed) for x in v]
    v = int(v) % n
    return v - n if signed and v >= n - n // 2 else v


@pytest.mark.parametrize("backend", ["reference", "machine"])
@pytest.mark.parametrize("name,source,function,args,signed", CASES, ids=[c[0] for c in CASES])
def test_agrees_with_cpython(name, source, function, args, signed, backend):
    want, exc = cpython(source, function, args)
    run = {"sizes": Sizes(n=N), "function": function, "backend": backend, "signed": signed}
    if exc is not None:
        with pytest.raises(RuntimeProgramError) as info:
            run_python(source, args, **run)
        raised = getattr(info.value, "raised", None)
        assert raised is not None and raised.exception == type(exc).__name__
        assert raised.message == str(exc)
        line = exc.__traceback__.tb_next.tb_lineno
        assert str(info.value).endswith(f"(line {line})")
        return
    out = run_python(source, args, **run)
    assert out.halted
    assert out.result == reading(want, N, signed)


QUICKSORT = ("def qs(xs: list[int]) -> list[int]:\n    if len(xs) < 2:\n        return xs\n"
             "    p = xs[0]\n    lo = [x for x in xs[1:] if x < p]\n"
             "    hi = [x for x in xs[1:] if x >= p]\n    return qs(lo) + [p] + qs(hi)\n")


@pytest.mark.parametrize("backend", ["reference", "machine"])
def test_signed_lists_concatenate_and_compare(backend):
    args = [[3, -1, 4, -5, 0, 2, -2]]
    want, _ = cpython(QUICKSORT, "qs", args)
    out = run_python(QUICKSORT, args, sizes=Sizes(n=1024), backend=backend, signed=True)
    assert out.result == want


@pytest.mark.parametrize("backend", ["reference", "machine"])
@pytest.mark.parametrize("source,args", [
    ("def f(a, b):\n    return a * b\n", [20, 30]),
    ("def f(a, b):\n    return a + b\n", [100, 100]),
    ("def f(a, b):\n    return a - b\n", [-100, 100]),
    ("def f(a):\n    return -a\n", [-128]),
    ("def f(a):\n    return abs(a)\n", [-128]),
    ("def f(a):\n    return a // -1\n", [-128]),
    ("def f(a):\n    t = 1\n    for i in range(a):\n        t *= 3\n    return t\n", [6]),
])
def test_signed_overflow_is_a_runtime_error(source, args, backend):
    with pytest.raises(RuntimeProgramError, match="^integer overflow$"):
        run_python(source, args, sizes=Sizes(n=N), backend=backend, signed=True)


def test_unsigned_keeps_the_machine_meaning():
    # the same count-down as above runs zero times unsigned (range(6, n-1, -1)), with a warning
    src = "def f(k):\n    t = 0\n    for i in range(k, -1, -1):\n        t += i\n    return t\n"
    compiled = compile_python(src, "p.py", Sizes(n=N))
    assert run_python(src, [6], sizes=Sizes(n=N)).result == 0
    assert compiled.warning_lines("p.py") == [
        ("p.py:3:23: warning: range bound -1 is n-1 on the unsigned machine, so this loop does "
        "not run as in Python (use --signed)")]


@pytest.mark.parametrize("source,where", [
    ("def f(j):\n    while j >= 0:\n        j -= 1\n    return j\n", "2:11: warning: 'j >= 0' always"),
    ("def f(j):\n    return 0 <= j\n", "2:12: warning: '0 <= j' always"),
    ("def f(j):\n    return j < 0\n", "2:12: warning: 'j < 0' never"),
    ("def f(xs):\n    return xs[-1]\n", "2:15: warning: index -1 is n-1"),
])
def test_warnings_where_unsigned_differs(source, where):
    lines = compile_python(source, "p.py").warning_lines("p.py")
    assert len(lines) == 1 and lines[0].startswith("p.py:" + where)
    assert compile_python(source, "p.py", signed=True).warnings == []


def test_parameters_defaulting_to_none_take_a_hidden_flag():
    src = "def f(a, b=None):\n    if b is None:\n        return a\n    return a + b\n"
    compiled = compile_python(src, "p.py", Sizes(n=N))
    assert compiled.flags == {"_nc_b_given": "b"}
    assert run_python(src, [5], sizes=Sizes(n=N)).result == 5
    assert run_python(src, [5, 0], sizes=Sizes(n=N)).result == 5
    assert run_python(src, [5, 3], sizes=Sizes(n=N)).result == 8


def test_arguments_may_leave_out_defaults():
    compiled = compile_python("def f(a, b=5, c=-1):\n    return a + b + c\n", "p.py", Sizes(n=N))
    assert compiled.defaults == {"b": 5, "c": -1}
    registers, _ = compiled.inputs([1])
    assert [registers[i] for i in range(3)] == [1, 5, N - 1]


@pytest.mark.parametrize("source,expected", [
    ("def f(a, b=x):\n    return a\n", "1:12: error: the default value of 'b' must be an integer"),
    ("def f(a):\n    return a\n\ndef g(a):\n    return f(a, q=1)\n",
     "5:17: error: 'f' has no parameter 'q'"),
    ("def f(a):\n    return a\n\ndef g(a):\n    return f(a, a=1)\n",
     "5:17: error: 'f' got several values for parameter 'a'"),
    ("def f(a):\n    raise\n", "2:5: error: a bare 'raise'"),
    ("type T = int\n\ndef f(a):\n    return a\n",
     "1:1: error: unsupported syntax: 'type' alias statements (newer than Python"),
    ("def f[T](a):\n    return a\n", "1:1: error: unsupported syntax: type parameters ('def f[T]')"),
    ("def f(a):\n    return a ** -1\n", "2:12: error: '**' with a negative exponent"),
    ("def f(a):\n    return pow(a, -1, 7)\n", "2:12: error: pow() with a negative exponent"),
    ("def f(a):\n    return 'x'\n", "2:12: error: strings are not supported"),
    ("def f(a):\n    return 1.5\n", "2:12: error: floats are not supported"),
    ("def f(a):\n    return {a: 1}\n", "2:12: error: dicts are not supported"),
    ("def f(a):\n    return {a}\n", "2:12: error: sets are not supported"),
    ("import os\n\ndef f(a):\n    return a\n", "1:1: error: only function definitions"),
    ("import math\n\ndef f(a):\n    return math.pi\n", "1:1: error: only function definitions"),
    ("class C:\n    pass\n", "1:1: error: only function definitions"),
    ("def f(a):\n    global g\n    return a\n", "2:5: error: 'global' is not supported"),
    ("def f(a):\n    g = lambda x: x\n    return a\n", "2:9: error: lambdas are not supported"),
    ("def f(a):\n    yield a\n", "2:5: error: an expression statement must be a function call"),
    ("def f(a):\n    try:\n        pass\n    finally:\n        pass\n", "2:5: error: 'try'"),
    ("def f(a):\n    with a:\n        pass\n", "2:5: error: 'with' is not supported"),
    ("def f(a):\n    match a:\n        case 1:\n            pass\n", "2:5: error: 'match'"),
    ("def f(a):\n    if (b := a):\n        pass\n", "2:9: error: assignment expressions"),
    ("def f(a):\n    return f'{a}'\n", "2:12: error: f-strings are not supported"),
    ("def f(*a):\n    return 0\n", "1:8: error: '*args' parameters are not supported"),
    ("@g\ndef f(a):\n    return a\n", "1:2: error: decorators are not supported"),
    ("async def f(a):\n    return a\n", "1:1: error: only function definitions"),
])
def test_refusals_name_the_construct(source, expected):
    with pytest.raises(CompileError) as info:
        compile_python(source, "p.py")
    lines = info.value.lines()
    assert any(line.startswith("p.py:" + expected) for line in lines), lines
    assert all(": error: " in line and "Traceback" not in line for line in lines)


def test_prelude_helpers_are_linked_only_when_used():
    plain = compile_python("def f(a):\n    return a * a\n", "p.py")
    assert not any("_nc_" in str(x) for x in plain.program.labels)
    pw = compile_python("def f(a, b):\n    return a ** b\n", "p.py")
    assert "_nc_pow" in pw.program.labels


LIBRARY = '''\
def gcd(a: int, b: int) -> int:
    while b:
        t = a % b
        a = b
        b = t
    return a


def lcm(a, b):
    return a * b // gcd(a, b)


def total(xs, start=0):
    s = start
    for x in xs:
        s += x
    return s


def need(a):
    if a > 50:
        raise ValueError("too big")
    return a
'''


@pytest.mark.parametrize("backend", ["reference", "machine"])
def test_library_image_runs_every_function_like_its_own_program(backend):
    from neuralc.pipeline import compile_library

    lib = compile_library(LIBRARY, "lib.py", Sizes(n=N))
    assert lib.names == ["gcd", "lcm", "total", "need"]
    assert lib.program.labels["lcm"] == lib.entries["lcm"]
    for name, args in [("gcd", [12, 18]), ("lcm", [4, 6]), ("total", [[1, 2, 3]]),
                       ("total", [[1, 2], 10]), ("need", [7])]:
        want, _ = cpython(LIBRARY, name, args)
        alone = run_python(LIBRARY, args, sizes=Sizes(n=N), function=name, backend=backend)
        linked = lib.run(name, args, backend=backend)
        assert linked.result == alone.result == want
    with pytest.raises(RuntimeProgramError, match="ValueError: too big"):
        lib.run("need", [60], backend=backend)


def test_library_compile_command_labels_every_entry(tmp_path, capsys):
    from neuralc.cli.main import main

    path = tmp_path / "lib.py"
    path.write_text(LIBRARY)
    assert main(["compile", str(path), "--n", str(N)]) == 0
    text = capsys.readouterr().out
    for line in ["gcd:", "lcm:", "total:", "need:",
                 "; gcd(a: int, b: int) -> int; a in r0, b in r1; result in r0",
                 "; total(xs: list, start: int = 0) -> int"]:
        assert any(x.startswith(line) for x in text.splitlines()), line
    assert main(["run", str(path), "--function", "total", "--args", "[4, 5]"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "result: 9"
