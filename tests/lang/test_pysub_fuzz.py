"""Random integer programs of the subset, compiled and run, against a small interpreter of the
docs/LANGUAGE.md §3 meaning (Python's, with every result reduced mod n). Few registers force spills."""

from __future__ import annotations

import ast
import random

import pytest

from neuralc.lang.errors import CompileError, RuntimeProgramError
from neuralc.lang.program import Sizes
from neuralc.lang.pysub.validate import range_step
from neuralc.pipeline import run_python

N = 1024


class _Return(Exception):
    def __init__(self, value):
        self.value = value


class Oracle:
    """The docs/LANGUAGE.md §3 meaning of the integer part of the subset, straight from the AST."""

    def __init__(self, source: str, n: int):
        self.n = n
        self.funcs = {d.name: d for d in ast.parse(source).body}
        self.steps = 0

    def call(self, name: str, args: list[int]) -> int:
        fn = self.funcs[name]
        env = {p.arg: v % self.n for p, v in zip(fn.args.args, args)}
        try:
            self.block(fn.body, env)
        except _Return as r:
            return r.value
        return 0

    def block(self, body, env):
        for s in body:
            self.stmt(s, env)

    def stmt(self, s, env):
        self.steps += 1
        if self.steps > 20000:
            raise TimeoutError
        if isinstance(s, ast.Assign):
            env[s.targets[0].id] = self.expr(s.value, env)
        elif isinstance(s, ast.AugAssign):
            env[s.target.id] = self.binop(type(s.op), env[s.target.id], self.expr(s.value, env))
        elif isinstance(s, ast.If):
            self.block(s.body if self.expr(s.test, env) else s.orelse, env)
        elif isinstance(s, ast.For):
            args = [self.expr(a, env) for a in s.iter.args[:2]]
            if len(s.iter.args) == 3:  # the step is a literal, not reduced
                args.append(range_step(s.iter.args[2]))
            for v in range(*args):
                env[s.target.id] = v
                self.block(s.body, env)
        elif isinstance(s, ast.Return):
            raise _Return(self.expr(s.value, env))

    def binop(self, op, a, b):
        n = self.n
        if op in (ast.FloorDiv, ast.Mod) and b == 0:
            raise ZeroDivisionError
        return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b,
                ast.FloorDiv: a // b if b else 0, ast.Mod: a % b if b else 0,
                ast.BitAnd: a & b, ast.BitOr: a | b, ast.BitXor: a ^ b}[op] % n

    def expr(self, e, env):
        if isinstance(e, ast.Constant):
            return int(e.value) % self.n
        if isinstance(e, ast.Name):
            return env[e.id]
        if isinstance(e, ast.BinOp):
            return self.binop(type(e.op), self.expr(e.left, env), self.expr(e.right, env))
        if isinstance(e, ast.UnaryOp):
            v = self.expr(e.operand, env)
            return int(v == 0) if isinstance(e.op, ast.Not) else (-v) % self.n
        if isinstance(e, ast.BoolOp):
            for v in e.values[:-1]:
                x = self.expr(v, env)
                if bool(x) != isinstance(e.op, ast.And):
                    return x
            return self.expr(e.values[-1], env)
        if isinstance(e, ast.Compare):
            left = self.expr(e.left, env)
            for op, c in zip(e.ops, e.comparators):
                right = self.expr(c, env)
                ok = {ast.Eq: left == right, ast.NotEq: left != right, ast.Lt: left < right,
                      ast.LtE: left <= right, ast.Gt: left > right, ast.GtE: left >= right}
                if not ok[type(op)]:
                    return 0
                left = right
            return 1
        if isinstance(e, ast.Call):
            args = [self.expr(a, env) for a in e.args]
            if e.func.id in ("min", "max"):
                return (min if e.func.id == "min" else max)(args)
            return self.call(e.func.id, args)
        raise AssertionError(ast.dump(e))


class Gen:
    BIN = ("+", "-", "*", "//", "%", "&", "|", "^")
    CMP = ("==", "!=", "<", "<=", ">", ">=")

    def __init__(self, rng: random.Random):
        self.rng = rng

    def expr(self, names, depth=0, helper=False):
        r = self.rng.random()
        if depth > 2 or r < 0.3:
            return (self.rng.choice(names) if self.rng.random() < 0.7
                    else str(self.rng.randrange(-5, 300)))
        if r < 0.6:
            op = self.rng.choice(self.BIN)
            return f"({self.expr(names, depth + 1)} {op} {self.expr(names, depth + 1)})"
        if r < 0.7:
            chain = " ".join(f"{self.expr(names, depth + 1)} {self.rng.choice(self.CMP)}"
                             for _ in range(self.rng.randrange(1, 3)))
            return f"({chain} {self.expr(names, depth + 1)})"
        if r < 0.8:
            op = self.rng.choice(["and", "or"])
            return f"({self.expr(names, depth + 1)} {op} {self.expr(names, depth + 1)})"
        if r < 0.85:
            return f"(not {self.expr(names, depth + 1)})"
        if r < 0.9:
            return f"(-{self.expr(names, depth + 1)})"
        if r < 0.95 or not helper:
            f = self.rng.choice(["min", "max"])
            return f"{f}({self.expr(names, depth + 1)}, {self.expr(names, depth + 1)})"
        return f"h({self.expr(names, depth + 1)}, {self.expr(names, depth + 1)})"

    def block(self, names, indent, depth, helper):
        lines = []
        for _ in range(self.rng.randrange(1, 4)):
            r = self.rng.random()
            pad = "    " * indent
            if r < 0.45 or depth > 1:
                target = self.rng.choice(names)
                op = self.rng.choice(["=", "=", "+=", "-=", "*=", "^="])
                lines.append(f"{pad}{target} {op} {self.expr(names, 0, helper)}")
            elif r < 0.7:
                lines.append(f"{pad}if {self.expr(names, 0, helper)}:")
                lines += self.block(list(names), indent + 1, depth + 1, helper)
                lines.append(f"{pad}else:")
                lines += self.block(list(names), indent + 1, depth + 1, helper)
            else:
                var = f"i{indent}"
                step = self.rng.choice(["", ", 2", ", -1"])
                bounds = (f"{self.rng.randrange(0, 4)}, {self.rng.choice(names)} % 5"
                          if step != ", -1" else f"{self.rng.choice(names)} % 5, 0")
                lines.append(f"{pad}for {var} in range({bounds}{step}):")
                lines += self.block(list(names) + [var], indent + 1, depth + 1, helper)
        return lines

    def program(self):
        helper = self.rng.random() < 0.4
        out = []
        if helper:
            out += ["def h(x, y):", f"    return {self.expr(['x', 'y'])}", ""]
        names = ["a", "b", "c", "v3", "v4", "v5"]
        out.append("def main(a, b, c):")
        out += [f"    {v} = {self.rng.randrange(9)}" for v in names[3:]]
        out += self.block(names, 1, 0, helper)
        out.append(f"    return {self.expr(names, 0, helper)}")
        return "\n".join(out) + "\n"


@pytest.mark.parametrize("seed", range(100))
def test_random_programs_match_the_meaning(seed):
    rng = random.Random(seed)
    source = Gen(rng).program()
    args = [rng.randrange(N) for _ in range(3)]
    oracle = Oracle(source, N)
    try:
        expected = oracle.call("main", args)
    except TimeoutError:
        pytest.skip("the oracle ran too long")
    except ZeroDivisionError:
        expected = ZeroDivisionError
    except KeyError:  # a name read before it was assigned: Python raises, no meaning
        pytest.skip("name used before assignment")
    registers = rng.choice([7, 8, 16])
    sizes = Sizes(n=N, registers=registers, width=rng.choice([1, 1, 3]))
    try:
        out = run_python(source, args, sizes, max_steps=200_000)
    except CompileError as e:
        assert "lines, more than" in str(e), source
        pytest.skip("too long for n")
    except RuntimeProgramError:
        assert expected is ZeroDivisionError, source
        return
    assert out.halted, source
    assert out.result == expected, source
