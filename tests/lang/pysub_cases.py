"""The shared table of Python-subset programs (docs/LANGUAGE.md §3).

Each case is run by CPython (the oracle) and by the compiled program on the reference
interpreter, and a sample on the sharp machine. The programs keep their values in ``0 .. n-1``
where Python and the machine agree, or say the expected value explicitly (``expect``) where the
mod-n meaning differs from CPython's. ``raises`` names the Python exception the run must meet
(the compiled program then ends with a run-time error).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from neuralc.lang.program import Sizes


@dataclass
class Case:
    name: str
    source: str
    args: list
    function: str | None = None
    sizes: Sizes = field(default_factory=Sizes)
    expect: object = None  # explicit expected result (else CPython's, reduced mod n)
    raises: type | None = None  # ZeroDivisionError, IndexError, MemoryError, RecursionError
    machine: bool = False  # also run on the sharp machine (keep these small)


def cpython(case: Case):
    """The oracle: run the function in CPython, reduce ints (and list items) mod n."""
    env: dict = {}
    exec(compile(case.source, case.name, "exec"), env)  # noqa: S102 (the oracle)
    fn = case.function or ("main" if "main" in env else
                           next(k for k, v in env.items() if callable(v) and k != "__builtins__"))
    value = env[fn](*[list(a) if isinstance(a, list) else a for a in case.args])
    n = case.sizes.n
    if isinstance(value, list):
        return [int(v) % n for v in value]
    return int(value) % n


FIB = """
def fib(k):
    if k < 2:
        return k
    return fib(k - 1) + fib(k - 2)
"""

CASES = [
    Case("add", "def main(a, b):\n    return a + b\n", [3, 4], machine=True),
    Case("arith", """
def main(a, b):
    x = a * b + a // b - a % b
    y = (a & b) | (a ^ 3)
    return x + y - min(a, b) + max(a, b)
""", [13, 5], machine=True),
    Case("wraps", "def main(a):\n    return a * 100 + 60\n", [3], expect=(360) % 128),
    Case("negative_literal", "def main():\n    return -1\n", [], expect=127),
    Case("unary", "def main(a):\n    return -a + 10\n", [3], machine=True),
    Case("not", "def main(a, b):\n    return (not a) + (not b) * 2\n", [0, 5]),
    Case("bools", "def main(a):\n    return True + True + False + (a == 3)\n", [3]),
    Case("fib_rec", FIB, [10], function="fib"),
    Case("fib_rec_small", FIB, [4], function="fib", machine=True),
    Case("mutual", """
def is_even(k):
    if k == 0:
        return 1
    return is_odd(k - 1)

def is_odd(k):
    if k == 0:
        return 0
    return is_even(k - 1)

def main(k):
    return is_even(k) * 10 + is_odd(k)
""", [7], machine=True),
    Case("factorial_rec", """
def fact(k):
    if k <= 1:
        return 1
    return k * fact(k - 1)

def main(k):
    return fact(k)
""", [5]),
    Case("gcd_while", """
def main(a, b):
    while b != 0:
        t = a % b
        a = b
        b = t
    return a
""", [84, 36], machine=True),
    Case("nested_loops", """
def main(k):
    s = 0
    for i in range(k):
        for j in range(i):
            s += i * j
    return s
""", [6]),
    Case("break_continue", """
def main(k):
    s = 0
    i = 0
    while True:
        i += 1
        if i > k:
            break
        if i % 3 == 0:
            continue
        s += i
    return s
""", [10]),
    Case("for_break_continue", """
def main(xs):
    s = 0
    for x in xs:
        if x == 0:
            continue
        if x > 50:
            break
        s = s + x
    return s
""", [[3, 0, 4, 60, 5]]),
    Case("chained", """
def main(a, b, c):
    r = 0
    if a < b < c:
        r += 1
    if a < b <= b < c != a:
        r += 2
    if not (a < c < b):
        r += 4
    x = a < b < c
    y = c < b < a
    return r * 10 + x * 2 + y
""", [1, 2, 3]),
    Case("chained_once", """
def bump(xs):
    xs[0] += 1
    return xs[0]

def main():
    xs = [0]
    r = 0 < bump(xs) < 5
    return r * 10 + xs[0]
""", [], machine=True),
    Case("short_circuit", """
def boom(xs):
    xs[0] = 99
    return 1

def main(a):
    xs = [0]
    r = a and boom(xs)
    s = 0 or a or boom(xs)
    t = (a or 7) + (0 and 5) + (3 and 4)
    return r + s * 2 + t + xs[0]
""", [0]),
    Case("short_circuit2", """
def boom(xs):
    xs[0] = 99
    return 1

def main(a):
    xs = [0]
    r = a and boom(xs)
    if a > 1 or boom(xs):
        r += 100
    return r + xs[0]
""", [5]),
    Case("lists_by_reference", """
def fill(xs, v):
    for i in range(len(xs)):
        xs[i] = v + i

def main(k):
    xs = [0] * 4
    ys = xs
    fill(ys, 10)
    xs[1] += 5
    return xs[0] + xs[1] + len(ys)
""", [4], machine=True),
    Case("return_list", """
def make(k):
    xs = [0] * 6
    for i in range(k):
        xs[i] = i * i
    return xs

def main(k):
    return make(k)
""", [6]),
    Case("list_literal", """
def main(a):
    xs = [a, a + 1, 7]
    ys = []
    return xs[0] + xs[1] * xs[2] + len(ys) + len([1, 2])
""", [3]),
    Case("list_arg_sum", """
def main(xs):
    s = 0
    for x in xs:
        s += x
    return s
""", [[1, 2, 3, 4, 5]], machine=True),
    Case("list_truth", """
def main(xs):
    r = 0
    if xs:
        r += xs[0]
    if not []:
        r += 2
    return r
""", [[5]]),
    Case("reverse_in_place", """
def main(xs):
    i = 0
    j = len(xs) - 1
    while i < j:
        t = xs[i]
        xs[i] = xs[j]
        xs[j] = t
        i += 1
        j -= 1
    return xs
""", [[1, 2, 3, 4, 5, 6, 7]]),
    Case("negative_step", """
def main(k):
    s = 0
    for i in range(k, 0, -1):
        s = s * 2 + i
    return s
""", [5]),
    Case("negative_step2", """
def main(k):
    r = []
    c = 0
    for i in range(k, 0, -2):
        c = c * 10 + i
    return c
""", [5]),
    Case("step3", """
def main(a, b):
    c = 0
    for i in range(a, b, 3):
        c += i
    return c
""", [2, 20]),
    Case("range_wrap", """
def main():
    c = 0
    for i in range(120, 127, 5):
        c += 1
    return c
""", []),
    Case("range_stop_once", """
def main(k):
    for i in range(k):
        k = 0
    return i
""", [5]),
    Case("range_down_to_zero", """
def main(k):
    s = 0
    for i in range(k, -1, -1):
        s += 1
    return s
""", [5], expect=0),
    Case("loop_var_after", """
def main(k):
    i = 42
    for i in range(3, k):
        pass
    return i
""", [9]),
    Case("spill_many_locals", """
def main(a):
    b = a + 1
    c = b + 1
    d = c + 1
    e = d + 1
    f = e + 1
    g = f + 1
    h = g + 1
    i = h + 1
    j = i + 1
    k = j + 1
    l = k + 1
    m = l + 1
    n = m + 1
    o = n + 1
    p = o + 1
    q = p + 1
    return a + b + c + d + e + f + g + h + i + j + k + l + m + n + o + p + q
""", [1], sizes=Sizes(n=256)),
    Case("spill_with_calls", """
def f(x):
    return x + 1

def main(a):
    b = f(a)
    c = f(b)
    d = f(c)
    e = f(d)
    g = f(e)
    h = f(g)
    i = f(h)
    j = f(i)
    k = f(j)
    l = f(k)
    m = f(l)
    n = f(m)
    o = f(n)
    return a + b + c + d + e + g + h + i + j + k + l + m + n + o
""", [1], sizes=Sizes(n=256)),
    Case("spill_small_k", """
def main(a, b):
    c = a + b
    d = a * b
    e = c - d
    f = c + d + e
    return a + b + c + d + e + f
""", [3, 4], sizes=Sizes(registers=4)),
    Case("recursion_small_k", FIB, [7], function="fib", sizes=Sizes(registers=6)),
    Case("quicksort", """
def partition(xs, lo, hi):
    p = xs[hi]
    i = lo
    for j in range(lo, hi):
        if xs[j] < p:
            t = xs[i]
            xs[i] = xs[j]
            xs[j] = t
            i += 1
    t = xs[i]
    xs[i] = xs[hi]
    xs[hi] = t
    return i

def qs(xs, lo, hi):
    if lo < hi:
        p = partition(xs, lo, hi)
        if p > 0:
            qs(xs, lo, p - 1)
        qs(xs, p + 1, hi)

def main(xs):
    qs(xs, 0, len(xs) - 1)
    return xs
""", [[5, 3, 9, 1, 7, 2, 8]]),
    Case("docstring", '''
def main(a):
    """Docstrings are allowed."""
    return a
''', [9]),
    Case("chained_assign", "def main(a):\n    x = y = a + 1\n    return x * y\n", [3]),
    Case("expr_stmt_call", """
def setter(xs):
    xs[0] = 4

def main():
    xs = [1]
    setter(xs)
    return xs[0]
""", []),
    Case("no_return", "def main(a):\n    a += 1\n", [3], expect=0),
    Case("bare_return", "def main(a):\n    if a:\n        return\n    return 5\n", [3], expect=0),
    Case("while_false", "def main(a):\n    while False:\n        a += 1\n    return a\n", [3]),
    Case("aug_list", """
def main(xs, i):
    xs[i] *= 3
    xs[i + 1] -= 1
    return xs
""", [[1, 2, 3], 1]),
    # run-time errors
    Case("div_zero", "def main(a, b):\n    return a // b\n", [3, 0], raises=ZeroDivisionError,
         machine=True),
    Case("mod_zero", "def main(a, b):\n    return a % b\n", [3, 0], raises=ZeroDivisionError),
    Case("const_div_zero", "def main(a):\n    return a // 0\n", [3], raises=ZeroDivisionError),
    Case("index_error", "def main(xs, i):\n    return xs[i]\n", [[1, 2], 2], raises=IndexError),
    Case("index_negative", "def main(xs):\n    return xs[-1]\n", [[1, 2]], raises=IndexError),
    Case("index_store", "def main(xs):\n    xs[3] = 1\n    return 0\n", [[1, 2]],
         raises=IndexError),
    Case("index_empty", "def main():\n    xs = []\n    return xs[0]\n", [], raises=IndexError),
    Case("heap_exhausted", """
def main(k):
    s = 0
    for i in range(k):
        xs = [i] * 10
        s += xs[9]
    return s
""", [20], raises=MemoryError),
    Case("static_list_too_big", "def main():\n    xs = [0] * 200\n    return len(xs)\n", [],
         raises=MemoryError),
    Case("recursion_too_deep", """
def down(k):
    if k == 0:
        return 0
    return 1 + down(k - 1)

def main(k):
    return down(k)
""", [100], sizes=Sizes(n=128, memory=64), raises=RecursionError),
]
