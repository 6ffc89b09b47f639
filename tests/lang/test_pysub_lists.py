"""Lists that change, tuples, comprehensions and the list builtins, checked against CPython.

Every case of ``LIST_CASES`` is run by CPython itself (the oracle: the function is executed and
its result reduced mod n), by the compiled program on the reference interpreter, through the
parallelizing compiler (width 4), and — the cases marked ``machine`` — on the sharp machine.
"""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from pysub_cases import Case

from neuralc.lang.errors import RuntimeProgramError
from neuralc.lang.interp import run_reference
from neuralc.lang.program import Sizes
from neuralc.pipeline import compile_python

STEPS = 400_000
BIG = Sizes(n=1024)


def C(name, source, args, machine=False, sizes=None, raises=None, function=None):
    return Case(name, source, args, function=function, sizes=sizes or BIG, raises=raises,
                machine=machine)


LIST_CASES = [
    # ---- append, pop, insert
    C("append", """
def main(n):
    xs = []
    for i in range(n):
        xs.append(i * i)
    return xs
""", [7], machine=True),
    C("append_alias", """
def add(ys, v):
    ys.append(v)

def main(xs, k):
    zs = xs
    for i in range(k):
        add(zs, i)
    zs.append(len(xs))
    return xs
""", [[4, 5], 5]),
    C("append_interleaved", """
def main(n):
    a = []
    b = []
    for i in range(n):
        a.append(i)
        b.append(2 * i)
        a.append(b[i])
    return a + b
""", [6], machine=True),
    C("stack", """
def main(xs):
    stack = []
    out = 0
    for x in xs:
        stack.append(x)
        if x % 3 == 0:
            out += stack.pop() + stack.pop() if len(stack) > 1 else stack.pop()
    while stack:
        out = out * 2 + stack.pop()
    return out
""", [[1, 3, 4, 6, 2, 9, 5]], machine=True),
    C("pop_index", """
def main(xs):
    a = xs.pop(1)
    b = xs.pop(0)
    return [a, b] + xs
""", [[7, 8, 9, 10]]),
    C("pop_empty", "def main(xs):\n    return xs.pop()\n", [[]], raises=IndexError),
    C("insert", """
def main(xs):
    xs.insert(0, 9)
    xs.insert(2, 8)
    xs.insert(100, 7)
    xs.insert(len(xs) - 1, 6)
    return xs
""", [[1, 2, 3]], machine=True),
    C("extend", """
def main(xs, ys):
    xs += ys
    xs.extend([5, 6])
    xs += xs
    return xs
""", [[1, 2], [3]]),
    C("bfs_grows_while_walked", """
def main(n):
    q = [1]
    for x in q:
        if x < n:
            q.append(2 * x)
            q.append(2 * x + 1)
    return len(q) + sum(q)
""", [9]),
    # ---- [e] * k, lists of lists
    C("repeat_runtime", """
def main(n, v):
    xs = [v] * n
    xs[n - 1] = 0
    return xs + [0] * 0
""", [5, 3], machine=True),
    C("grid", """
def main(n, m):
    grid = [[0] * m for _ in range(n)]
    for i in range(n):
        for j in range(m):
            grid[i][j] = i * m + j
    grid[1][2] += 50
    return sum(grid[1]) + grid[n - 1][m - 1] + len(grid)
""", [3, 4], machine=True),
    C("lcs", """
def lcs(a, b):
    n, m = len(a), len(b)
    dp = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if a[i - 1] == b[j - 1]:
                dp[i][j] = dp[i - 1][j - 1] + 1
            else:
                dp[i][j] = max(dp[i - 1][j], dp[i][j - 1])
    return dp[n][m]
""", [[1, 3, 4, 1, 2], [3, 4, 1, 2, 1]], sizes=BIG),
    C("rows_appended", """
def main(n):
    rows = []
    for i in range(n):
        row = []
        for j in range(i + 1):
            row.append(j)
        rows.append(row)
    return [len(r) + r[-0] for r in rows] + rows[n - 1]
""", [4]),
    C("grid_argument", """
def main(g):
    t = 0
    for row in g:
        for x in row:
            t += x
    return [t, len(g), g[1][0]]
""", [[[1, 2], [3, 4, 5], []]]),
    C("grid_result", """
def main(n):
    return [[i] * i for i in range(n)]
""", [4]),
    C("shared_rows", """
def main():
    g = [[0] * 2] * 3
    g[0][1] = 5
    return g[2]
""", []),
    # ---- comprehensions and generators
    C("comprehension", """
def main(xs):
    ys = [x * 2 for x in xs if x % 2 == 1]
    pairs = [a * 10 + b for a in range(3) for b in range(a) if a != b]
    return ys + pairs
""", [[1, 2, 3, 4, 5]], machine=True),
    C("comprehension_scope", """
def main(xs):
    x = 7
    ys = [x + 1 for x in xs]
    zs = [x * 2 for x in ys if x > 2]
    ws = [x + y for x in range(x) if x < 2 for y in range(x)]
    return ys + [x] + zs + [sum(x for x in zs)] + ws
""", [[1, 2]]),
    C("comprehension_tuple_target", """
def main(xs, ys):
    return [a * b for a, b in zip(xs, ys)] + [i + v for i, v in enumerate(xs, 10)]
""", [[1, 2, 3], [4, 5, 6, 7]]),
    C("generators", """
def main(xs, n):
    a = sum(x * x for x in xs)
    b = max(x for x in xs if x < 5)
    c = min(i * 3 % 7 for i in range(1, n))
    d = any(x > 8 for x in xs) + 2 * all(x > 0 for x in xs)
    e = sum(range(n)) + sum(xs, 5) + min(xs) + max(xs)
    return [a, b, c, d, e, any(xs), all([]), len(range(2, n))]
""", [[3, 1, 4, 1, 5, 9, 2], 6], machine=True),
    C("min_empty", "def main(xs):\n    return min(xs)\n", [[]], raises=ValueError),
    C("min_max_several", "def main(a, b, c):\n    return min(a, b, c) + max(a, b, c, 2)\n",
      [5, 3, 8]),
    # ---- tuples
    C("swap_and_gcd", """
def main(a, b):
    while b:
        a, b = b, a % b
    return a
""", [84, 36], machine=True),
    C("element_swap", """
def main(xs):
    i, j = 0, len(xs) - 1
    while i < j:
        xs[i], xs[j] = xs[j], xs[i]
        i, j = i + 1, j - 1
    return xs
""", [[1, 2, 3, 4, 5]]),
    C("return_tuple", """
def minmax(xs):
    lo, hi = xs[0], xs[0]
    for x in xs:
        if x < lo:
            lo = x
        if x > hi:
            hi = x
    return lo, hi

def main(xs):
    a, b = minmax(xs)
    return b - a
""", [[5, 2, 9, 4]]),
    C("mixed_tuple", """
def split(xs, p):
    out = [x for x in xs if x < p]
    return out, len(out)

def main(xs):
    small, n = split(xs, 5)
    t = split(xs, 3)
    return small + [t[1] + n + 7] + [n, len(t[0])]
""", [[3, 9, 2]], machine=True),
    C("mixed_tuple_result", """
def main(xs):
    return sorted(xs), len(xs), [xs[:1], xs[1:]]
""", [[3, 9, 2]]),
    C("tuple_result", "def main(a, b):\n    return a // b, a % b\n", [17, 5]),
    C("enumerate_zip", """
def main(xs, ys):
    t = 0
    for i, x in enumerate(xs):
        t += i * x
    for a, b in zip(xs, ys):
        t += a * b
    for i, x in enumerate(ys, 1):
        t += i
    return t
""", [[1, 2, 3], [4, 5]], machine=True),
    C("list_of_pairs", """
def main(xs, ys):
    ps = list(zip(xs, ys))
    es = list(enumerate(ys, 1))
    return ps + es + sorted(zip(ys, xs))
""", [[3, 1, 2], [7, 9, 8]]),
    C("pairs_unpacked", """
def main(n):
    ps = [[i, i * i] for i in range(n)]
    t = 0
    for a, b in ps:
        t += a + b
    return t
""", [5]),
    # ---- conditional expressions, run-time steps
    C("ifexp", """
def main(xs):
    return [x if x % 2 else x // 2 for x in xs] + [1 if xs else 0, 1 if not [] else 0]
""", [[4, 5, 6]]),
    C("range_runtime_step", """
def main(a, b, s):
    return [i for i in range(a, b, s)] + list(range(b, a, -2))
""", [1, 12, 3]),
    C("range_zero_step", """
def main(s):
    t = 0
    for i in range(0, 5, s):
        t += i
    return t
""", [0], raises=ValueError),
    # ---- membership, index, count, equality, truth
    C("membership", """
def main(xs, v):
    r = [v in xs, v not in xs, 3 in xs, xs.count(v), xs.index(v)]
    return r + [[1, 2] == [1, 2], [1, 2] != [1, 3], xs == [], [[1], [2]] == [[1], [2]]]
""", [[4, 3, 4, 7], 4]),
    C("index_absent", "def main(xs):\n    return xs.index(9)\n", [[1, 2]], raises=ValueError),
    C("in_literal", """
def main(xs, a):
    c = 0
    for x in xs:
        if x in (1, 2, 3):
            c += 1
    return [c, a not in [1, 2], max([a, xs[3], 2]), any([0, a]), all((a, 0)), sum((1, 2))]
""", [[1, 5, 2, 8], 3], machine=True),
    C("in_range_tuple", """
def main(xs, a):
    t = tuple(xs)
    return [a in range(5), a in range(4, 9), a not in range(0, 9, 2), 3 in range(9, 0, -3),
            4 in range(9, 0, -3), len(t), t[1], a in range(1, 9, a)]
""", [[4, 6], 4], machine=True),
    C("grid_in", """
def main():
    seen = [[1, 2]]
    return [[1, 2] in seen, [2, 1] in seen]
""", []),
    # ---- slices, concatenation, sorted, list, reversed
    C("slices", """
def main(xs):
    return xs[1:3] + xs[:2] + xs[3:] + xs[::2] + xs[1::3] + xs[5:1] + xs[2:100]
""", [[1, 2, 3, 4, 5, 6, 7]]),
    C("slices_backward", """
def main(xs, k):
    return xs[::-1] + xs[4:1:-1] + xs[::-2] + xs[3::-1] + xs[:2:-1] + xs[0:len(xs):k]
""", [[1, 2, 3, 4, 5, 6, 7], 3]),
    C("sorted_list_reversed", """
def main(xs):
    ys = sorted(xs)
    zs = list(xs)
    zs[0] = 99
    r = list(reversed(xs))
    t = 0
    for x in reversed(xs):
        t = t * 2 + x
    return ys + zs + r + sorted(xs, reverse=True) + [t] + list(range(3)) + sorted(
        x % 4 for x in xs)
""", [[3, 1, 2, 5, 4]]),
    C("sorted_pairs", """
def merge_intervals(iv):
    iv.sort()
    out = []
    for s, e in iv:
        if out and s <= out[len(out) - 1][1]:
            out[len(out) - 1][1] = max(out[len(out) - 1][1], e)
        else:
            out.append([s, e])
    return out + sorted([[2, 1], [1, 5, 0], [1, 5], [], [2]], reverse=True) + [
        max(iv), min(iv), max([[1, 2], [1, 2, 0], [0, 9]]), min([[3], [1, 2], [1, 2]])]
""", [[[5, 7], [1, 3], [2, 4], [6, 8], [1, 2]]]),
    C("reversed_range", """
def main(n):
    out = []
    for i in reversed(range(n)):
        out.append(i)
    return out
""", [5]),
    C("list_copy", """
def main(xs):
    ys = xs.copy()
    ys.append(1)
    return [len(xs), len(ys)]
""", [[2, 3]]),
    C("out_of_memory", """
def main(n):
    xs = []
    while True:
        xs.append(n)
""", [1], raises=MemoryError),
    C("big_repeat_wraps", "def main(n):\n    return [1] * n\n", [127], sizes=Sizes(), raises=MemoryError),
    C("methods_in_place", """
def main(xs):
    ys = list(xs)
    ys.sort()
    zs = list(xs)
    zs.sort(reverse=True)
    ws = list(xs)
    ws.reverse()
    xs.remove(3)
    del xs[0]
    vs = [1, 2]
    vs.clear()
    vs.append(len(ws))
    return ys + zs + ws + xs + vs
""", [[3, 1, 4, 1, 5, 3]]),
    C("loop_else", """
def is_prime(p):
    for d in range(2, p):
        if p % d == 0:
            break
    else:
        return 1
    return 0

def main(n, xs):
    out = [is_prime(k) for k in range(2, n)]
    i = 0
    while i < len(xs):
        if xs[i] == 3:
            break
        i += 1
    else:
        out.append(99)
    while i > 100:
        i -= 1
    else:
        out.append(i)
    for x in []:
        pass
    else:
        out.append(7)
    return out
""", [12, [1, 3, 5]], machine=True),
    C("remove_absent", "def main(xs):\n    xs.remove(7)\n    return xs\n", [[1]],
      raises=ValueError),
    C("nested_targets", """
def main(ps):
    t = 0
    for i, (a, b) in enumerate(ps, start=1):
        t += i * (a + b)
    (c, d), e = ps[0], 5
    return t + c + d + e
""", [[[1, 2], [3, 4]]]),
    # ---- a few ordinary functions
    C("two_sum", """
def two_sum(nums, target):
    for i in range(len(nums)):
        for j in range(i + 1, len(nums)):
            if nums[i] + nums[j] == target:
                return [i, j]
    return []
""", [[2, 7, 11, 15], 9]),
    C("primes", """
def primes(n):
    sieve = [True] * (n + 1)
    sieve[0] = sieve[1] = False
    for i in range(2, n + 1):
        if sieve[i]:
            for j in range(i * i, n + 1, i):
                sieve[j] = False
    return [i for i in range(n + 1) if sieve[i]]
""", [30], sizes=BIG),
    C("merge_sort", """
def merge_sort(xs):
    if len(xs) <= 1:
        return xs
    mid = len(xs) // 2
    left = merge_sort(xs[:mid])
    right = merge_sort(xs[mid:])
    out = []
    i = j = 0
    while i < len(left) and j < len(right):
        if left[i] <= right[j]:
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    return out + left[i:] + right[j:]
""", [[5, 2, 9, 1, 7, 3, 8]], sizes=BIG),
    C("fib_list", """
def fib_list(n):
    a, b = 0, 1
    result = []
    while a < n:
        result.append(a)
        a, b = b, a + b
    return result
""", [100], machine=True),
    C("max_subarray", """
def max_subarray(nums):
    best = cur = nums[0]
    for x in nums[1:]:
        cur = max(x, cur + x)
        best = max(best, cur)
    return best
""", [[2, 1, 5, 1, 3, 2]]),
    C("transpose", """
def transpose(m):
    return [[m[j][i] for j in range(len(m))] for i in range(len(m[0]))]
""", [[[1, 2, 3], [4, 5, 6]]]),
    C("palindrome_sorted", """
def check(xs):
    return [xs == xs[::-1], all(xs[i] <= xs[i + 1] for i in range(len(xs) - 1)),
            sum(1 for x in xs if x > 2), len([x for x in xs if x % 2])]
""", [[1, 2, 3, 2, 1]]),
    C("pairs_zip_slice", """
def diffs(xs):
    return [b - a for a, b in zip(xs, xs[1:])]
""", [[1, 4, 9, 16]], machine=True),
    C("running_totals", """
def running(xs):
    out = [0] * len(xs)
    total = 0
    for i, x in enumerate(xs):
        total += x
        out[i] = total
    return out + [total]
""", [[3, 1, 4]]),
    C("flatten", """
def flatten(g):
    return [x for row in g for x in row]
""", [[[1, 2], [3], [], [4, 5]]]),
]


def _run(case: Case, width: int = 1):
    sizes = case.sizes if width == 1 else case.sizes.override(width=width)
    compiled = compile_python(case.source, case.name, sizes, case.function)
    registers, memory = compiled.inputs(case.args)
    out = run_reference(compiled.program, registers, memory, STEPS)
    assert out.halted, f"{case.name} did not halt in {STEPS} steps"
    return compiled, out


def cpython(case: Case):
    """The oracle: CPython runs the function on copies of the arguments."""
    env: dict = {}
    exec(compile(case.source, case.name, "exec"), env)  # noqa: S102 (the oracle)
    fn = case.function or ("main" if "main" in env else
                           next(k for k, v in env.items() if callable(v) and k != "__builtins__"))
    return env[fn](*[_copy(a) for a in case.args])


def _copy(v):
    return [_copy(x) for x in v] if isinstance(v, list) else v


def _expected(case: Case):
    return _deep(cpython(case), case.sizes.n)


def _deep(v, n):
    if isinstance(v, (list, tuple)):
        return [_deep(x, n) for x in v]
    return int(v) % n if v is not None else None


def _oracle_raises(case: Case):
    with pytest.raises(case.raises):
        cpython(case)


ERROR_WORDS = {IndexError: "index out of range", ValueError: "ValueError",
               MemoryError: "out of memory"}


@pytest.mark.parametrize("width", [1, 4])
@pytest.mark.parametrize("case", LIST_CASES, ids=[c.name for c in LIST_CASES])
def test_reference_matches_cpython(case: Case, width: int):
    compiled, out = _run(case, width)
    if case.raises:
        if case.raises is not MemoryError:  # CPython has the memory the machine lacks
            _oracle_raises(case)
        with pytest.raises(RuntimeProgramError, match=ERROR_WORDS[case.raises]):
            compiled.result(out)
    else:
        assert compiled.result(out) == _expected(case)


MACHINE = [c for c in LIST_CASES if c.machine]
SMALL = Sizes(n=256)  # the sharp machine's cost grows with n: its cases run where they fit


@pytest.mark.parametrize("case", MACHINE, ids=[c.name for c in MACHINE])
def test_sharp_machine_matches_reference(case: Case):
    machine = pytest.importorskip("neuralc.machine")
    case = Case(case.name, case.source, case.args, case.function, SMALL)
    compiled = compile_python(case.source, case.name, case.sizes, case.function)
    registers, memory = compiled.inputs(case.args)
    ref = run_reference(compiled.program, registers, memory, STEPS)
    out = machine.run_machine(compiled.program, registers, memory, max_steps=ref.steps + 1)
    assert bool(out.halted) and int(out.steps) == ref.steps
    assert compiled.result(out) == compiled.result(ref) == _expected(case)


@pytest.mark.parametrize("source", [
    "def main(k, xs):\n    return [x * k for x in xs]\n",  # growable layout
    ("def main(k, xs):\n    ys = [0] * len(xs)\n    for i in range(len(xs)):\n"
     "        ys[i] = xs[i] * k\n    return ys\n"),  # fixed layout
])
def test_argument_and_result_places_describe_the_layout(source):
    """A caller that writes lengths and elements only through argument_places() and reads the
    result only through result_place() gets the same answer as inputs()/result()."""
    compiled = compile_python(source, "p.py", Sizes())
    args = [3, [1, 2, 5]]
    registers, memory = compiled.inputs(args)
    places = compiled.argument_places(args)
    assert places[0] == ("int", 0)
    kind, length_cell, cells = places[1]
    assert kind == "list" and len(cells) == 3
    poked = dict(memory)
    poked[length_cell] = 2  # a different length and elements, written only through the places
    for c, v in zip(cells, [4, 6, 0]):
        poked[c] = v
    out = run_reference(compiled.program, registers, poked, STEPS)
    place = compiled.result_place()
    regs, mem = list(out.registers), list(out.memory)
    x = regs[place.register]
    length = mem[x + place.length_offset]
    base = x if place.data_offset is None else mem[x + place.data_offset]
    assert [mem[base + j] for j in range(length)] == compiled.result(out) == [12, 18]


class _Gen:
    """Random small list programs (append, pop, insert, +=, slices, comprehensions, zip,
    enumerate, sorted, reversed, in, index, count, ==, generators, tuples)."""

    def __init__(self, rng):
        self.rng = rng

    def int_expr(self, d=0):
        r = self.rng
        c = r.randrange(14 if d < 2 else 3)
        forms = [
            lambda: str(r.randrange(6)), lambda: r.choice(["a", "b", "k"]),
            lambda: f"len({self.list_expr(d + 1)})",
            lambda: f"({self.int_expr(d + 1)} + {self.int_expr(d + 1)})",
            lambda: f"sum({self.list_expr(d + 1)})",
            lambda: f"max({self.list_expr(d + 1)} + [0])",
            lambda: f"({self.int_expr(d + 1)} if {self.int_expr(d + 1)} > "
                    f"{self.int_expr(d + 1)} else {self.int_expr(d + 1)})",
            lambda: f"({self.int_expr(d + 1)} in {self.list_expr(d + 1)})",
            lambda: f"{self.list_expr(d + 1)}.count({self.int_expr(d + 1)})",
            lambda: f"sum(x * 2 for x in {self.list_expr(d + 1)} if x > {self.int_expr(d + 1)})",
            lambda: f"({self.list_expr(d + 1)} == {self.list_expr(d + 1)})",
            lambda: f"min({self.int_expr(d + 1)}, {self.int_expr(d + 1)}, {self.int_expr(d + 1)})",
            lambda: f"any(x > {self.int_expr(d + 1)} for x in {self.list_expr(d + 1)})",
            lambda: f"({self.int_expr(d + 1)} * {self.int_expr(d + 1)})",
        ]
        return forms[c]()

    def list_expr(self, d=0):
        r = self.rng
        c = r.randrange(12 if d < 2 else 2)
        forms = [
            lambda: r.choice(["xs", "ys"]),
            lambda: f"[{', '.join(self.int_expr(3) for _ in range(r.randrange(4)))}]",
            lambda: f"{self.list_expr(d + 1)}[{r.choice(['', '1', 'a'])}:"
                    f"{r.choice(['', '2', 'b'])}{r.choice(['', ':2', ':k'])}]",
            lambda: f"({self.list_expr(d + 1)} + {self.list_expr(d + 1)})",
            lambda: f"[x + {self.int_expr(d + 1)} for x in {self.list_expr(d + 1)}]",
            lambda: f"sorted({self.list_expr(d + 1)})",
            lambda: f"list(reversed({self.list_expr(d + 1)}))",
            lambda: f"([{self.int_expr(d + 1)}] * {r.randrange(4)})",
            lambda: f"list(range({self.int_expr(d + 1)} % 5))",
            lambda: f"[x * y for x, y in zip({self.list_expr(d + 1)}, {self.list_expr(d + 1)})]",
            lambda: f"[i + x for i, x in enumerate({self.list_expr(d + 1)})]",
            lambda: f"[x for x in {self.list_expr(d + 1)} if x % 2]",
        ]
        return forms[c]()

    def program(self):
        r = self.rng
        lines = ["def main(xs, ys, a, b):", "    k = len(xs) + len(ys) * 0 + 1", "    zs = []"]
        for _ in range(r.randrange(2, 7)):
            t, i, c = r.choice(["xs", "ys"]), r.choice(["a", "b", "k"]), r.randrange(11)
            lines.append([
                f"    {t}.append({self.int_expr()})",
                f"    if {t}:\n        a = a + {t}.pop()",
                f"    {t} = {self.list_expr()}",
                f"    {i} = {self.int_expr()}",
                f"    {t}.insert({self.int_expr()}, {self.int_expr()})",
                f"    for v in {self.list_expr()}:\n        zs.append(v)",
                f"    a, b = b, a + {self.int_expr()}",
                f"    if len({t}) > 1:\n        {t}[0], {t}[1] = {t}[1], {t}[0]",
                f"    {t} += {self.list_expr()}",
                f"    zs = {t}",
                (f"    if {self.int_expr()} in {t}:\n        b = {t}.index({self.int_expr()}) "
                 f"if {self.int_expr()} in {t} else b"),
            ][c])
        lines.append(f"    return {r.choice(['xs', 'ys', 'zs', 'xs + ys + zs + [a, b]'])}")
        return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(16))
def test_random_list_programs_match_cpython(seed):
    import random

    rng = random.Random(seed)
    source = _Gen(rng).program()
    args = [[rng.randrange(6) for _ in range(rng.randrange(5))],
            [rng.randrange(6) for _ in range(rng.randrange(4))], rng.randrange(5), rng.randrange(5)]
    case = Case(f"random{seed}", source, args, sizes=BIG)
    try:
        expected = _expected(case)
    except (ValueError, IndexError):
        expected = RuntimeProgramError
    compiled, out = _run(case)
    if expected is RuntimeProgramError:
        with pytest.raises(RuntimeProgramError):
            compiled.result(out)
    else:
        assert compiled.result(out) == expected, source
