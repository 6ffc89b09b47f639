"""Run the examples in a file's docstrings through the compiled functions (``neuralc doctest``).

    report = run_doctests(source, "lib.py", Sizes(n=1024), backend="reference")
    report.passed, report.failed, report.skipped
    for line in report.lines("lib.py"): print(line)

An example is a ``>>> NAME(ARGS)`` line of a function's docstring followed by its expected
output; ``>>> x = LITERAL`` lines of the same docstring name values for later examples.
Arguments and expected values are integers, ``True``/``False`` or lists of them (a tuple is
compared as the list a result of several values prints as); an expected exception
(``Traceback ...`` then ``ValueError: message``) passes when the run stops with that exception
(and message, when the message is known at compile time). An example the machine cannot run
(a string, a float, a value outside the machine's range) is skipped. A function that does not
compile fails its examples; the file's other functions still run.
"""

from __future__ import annotations

import ast
import contextlib
import doctest
import re
from dataclasses import dataclass, field

from ..lang.errors import CompileError, Diagnostic, RuntimeProgramError, UsageError
from ..lang.interp import DEFAULT_MAX_STEPS
from ..lang.program import Sizes
from ..lang.pysub.compiler import CompiledPython, front_end
from ..lang.pysub.desugar import exception_of, parse
from .compile import compile_python
from .run import BACKENDS, execute

__all__ = ["DoctestReport", "ExampleResult", "run_doctests"]

_MISSING = object()


@dataclass
class ExampleResult:
    line: int
    function: str
    call: str  # the example's source, e.g. "fib(10)"
    status: str  # "passed" | "failed" | "skipped"
    expected: object = _MISSING
    got: object = _MISSING
    reason: str | None = None
    expected_text: str = ""
    got_text: str = ""

    def to_json(self) -> dict:
        out: dict = {"line": self.line, "function": self.function, "status": self.status}
        if self.expected is not _MISSING:
            out["expected"] = self.expected
        if self.got is not _MISSING:
            out["got"] = self.got
        if self.reason:
            out["reason"] = self.reason
        return out

    def text(self, filename: str) -> str | None:
        if self.status == "skipped":
            return f"{filename}:{self.line}: skipped: {self.reason}"
        if self.status == "failed":
            return (f"{filename}:{self.line}: error: {self.call}: expected {self.expected_text}, "
                    f"got {self.got_text}")
        return None


@dataclass
class DoctestReport:
    examples: list[ExampleResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # compile errors (FILE:LINE:COL: error: ...)
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(e.status == "passed" for e in self.examples)

    @property
    def failed(self) -> int:
        return sum(e.status == "failed" for e in self.examples)

    @property
    def skipped(self) -> int:
        return sum(e.status == "skipped" for e in self.examples)

    def summary(self) -> str:
        return f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped"

    def summary_json(self) -> dict:
        return {"passed": self.passed, "failed": self.failed, "skipped": self.skipped}


@dataclass
class _Example:
    line: int
    source: str
    want: str
    exc_msg: str | None


def _docstring_examples(fn: ast.FunctionDef) -> list[_Example]:
    body = fn.body
    if not (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        return []
    doc = body[0].value
    try:
        examples = doctest.DocTestParser().get_examples(doc.value)
    except ValueError:  # inconsistent indentation: no examples we can read
        return []
    return [_Example(doc.lineno + ex.lineno, ex.source.strip(), ex.want, ex.exc_msg)
            for ex in examples]


def _spans(tree: ast.Module) -> dict[str, tuple[int, int]]:
    out = {}
    for s in tree.body:
        if isinstance(s, ast.FunctionDef):
            first = min([s.lineno] + [d.lineno for d in s.decorator_list])
            out[s.name] = (first, s.end_lineno or s.lineno)
    return out


def _compile_all(source: str, filename: str, sizes: Sizes, signed: bool, tree: ast.Module):
    """Check the file, leaving out the functions (and top-level lines) with errors until the
    rest checks. Returns ``(checked or None, bad function names, error lines)``."""
    spans = _spans(tree)
    lines = source.split("\n")
    bad: set[str] = set()
    errors: list[str] = []
    for _ in range(len(spans) + 2):
        try:
            return front_end("\n".join(lines), filename, sizes, signed), bad, errors
        except CompileError as e:
            diags = e.diagnostics
        except Exception:  # noqa: BLE001 -- a compiler bug: find the functions that meet it
            diags = _crashing(lines, spans, bad, filename, sizes, signed)
            if not diags:
                break
        progress = False
        for d in diags:
            owner = next((f for f, (a, b) in spans.items() if a <= d.line <= b), None)
            errors.append(d.format(filename))
            if owner is not None and owner not in bad:
                bad.add(owner)
                a, b = spans[owner]
                lines[a - 1:b] = [""] * (b - a + 1)
                progress = True
            elif owner is None and 0 < d.line <= len(lines) and lines[d.line - 1]:
                top = next((s for s in tree.body if s.lineno <= d.line <= (s.end_lineno or 0)),
                           None)
                a, b = (top.lineno, top.end_lineno) if top else (d.line, d.line)
                lines[a - 1:b] = [""] * (b - a + 1)
                progress = True
        if not progress:
            break
    return None, set(spans), errors


def _line_of(error: str) -> int | None:
    m = re.match(r".*?:(\d+):\d+: error: ", error)
    return int(m.group(1)) if m else None


def _crashing(lines, spans, bad, filename, sizes, signed) -> list[Diagnostic]:
    """A diagnostic for each function whose check alone fails with an internal error."""
    out = []
    for f, (a, b) in spans.items():
        if f in bad:
            continue
        alone = [line if a <= i + 1 <= b else "" for i, line in enumerate(lines)]
        try:
            front_end("\n".join(alone), filename, sizes, signed)
        except CompileError:
            pass
        except Exception as e:  # noqa: BLE001
            out.append(Diagnostic(a, 1, f"internal compiler error in '{f}': "
                                        f"{type(e).__name__}: {e}"))
    return out


class _Skip(Exception):
    """The example cannot run on the machine (the message says why)."""


class _NoCompile(Exception):
    """The function called does not compile."""


class _NoResult(Exception):
    """The run did not halt within the step budget."""


_ARITH = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
          ast.Mult: lambda a, b: a * b, ast.Pow: lambda a, b: a ** b}
_CMP = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
        ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b,
        ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b}


def _unprint(node: ast.expr) -> ast.expr:
    """``print(x)`` shows what ``x`` shows (for the integers and lists compared here)."""
    if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print"
            and len(node.args) == 1 and not node.keywords):
        return node.args[0]
    return node


def _norm(v):
    """Expected values as the machine reports them: bools as ints, tuples as lists."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (list, tuple)):
        return [_norm(x) for x in v]
    return v


def _unfit(v, lo: int, hi: int) -> str | None:
    """Why ``v`` cannot be an argument or a result (None when it can)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return None if lo <= v <= hi else f"the value {v} is outside the machine's {lo}..{hi}"
    if isinstance(v, (list, tuple)):
        for x in v:
            why = _unfit(x, lo, hi)
            if why:
                return why
        return None
    what = {str: "a string", float: "a float", dict: "a dict", set: "a set",
            type(None): "None", complex: "a complex number", bytes: "bytes"}.get(type(v))
    return what or f"a value of type {type(v).__name__}"


def _literal(node: ast.expr, names: dict):
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    return ast.literal_eval(node)


def _show(v, like=None) -> str:
    if isinstance(like, bool) and isinstance(v, int) and v in (0, 1):
        return repr(bool(v))
    return repr(v)


class _Runner:
    def __init__(self, filename: str, sizes: Sizes, signed: bool, backend: str,
                 max_steps: int, machine_kw: dict, functions: set[str], compiled):
        self.functions = functions
        self.compiled = compiled  # name → CompiledPython, or None when it does not compile
        self.filename = filename
        self.sizes = sizes
        self.signed = signed
        self.backend = backend
        self.max_steps = max_steps
        self.machine_kw = machine_kw
        n = sizes.n
        self.lo, self.hi = ((-(n // 2), n - n // 2 - 1) if signed else (0, n - 1))

    def run(self, compiled: CompiledPython, args: list):
        registers, memory = compiled.inputs(args)
        out = execute(compiled.program, registers, memory, self.backend, self.max_steps,
                      **self.machine_kw)
        if not bool(out.halted):
            return None, None
        memory = [int(v) for v in out.memory]
        return compiled.result([int(v) for v in out.registers], memory), memory

    def example(self, fname: str, ex: _Example, names: dict) -> ExampleResult | None:
        base = {"line": ex.line, "function": fname, "call": ex.source}
        try:
            node = ast.parse(ex.source, mode="exec")
        except SyntaxError:
            return ExampleResult(**base, status="skipped", reason="the example is not Python "
                                 "the subset can read")
        stmt = node.body[0] if len(node.body) == 1 else None
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):  # a setup line: no output
            try:
                names[stmt.targets[0].id] = self.value(stmt.value, names)
            except Exception:  # noqa: BLE001 -- the name is simply not known afterwards
                names.pop(stmt.targets[0].id, None)
            return None
        if not isinstance(stmt, ast.Expr):
            return ExampleResult(**base, status="skipped", reason="not an expression")
        call = _unprint(stmt.value)
        if isinstance(call, ast.Call) and getattr(call.func, "id", None) in self.functions:
            base["function"] = call.func.id
        expect_error = ex.exc_msg is not None
        want_text = ex.exc_msg.strip() if expect_error else ex.want.strip()
        expected: object = want_text
        if not expect_error:
            if not want_text:  # run it for what it does to named lists, show nothing
                with contextlib.suppress(Exception):  # skipped either way
                    self.value(call, names)
                return ExampleResult(**base, status="skipped", reason="the example expects no "
                                     "value (the function returns None)")
            try:
                expected = ast.literal_eval(want_text)
            except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
                return ExampleResult(**base, status="skipped", reason="the expected output is "
                                     "not an integer, True/False or a list of them")
            why = _unfit(expected, self.lo, self.hi)
            if why:
                return ExampleResult(**base, status="skipped", reason=why)
        jexpected = list(expected) if isinstance(expected, tuple) else expected
        fail = {"status": "failed", "expected": jexpected, "expected_text": want_text}
        try:
            got = self.value(call, names)
        except _Skip as e:
            return ExampleResult(**base, status="skipped", reason=str(e))
        except _NoCompile as e:
            return ExampleResult(**base, **fail, got=None, reason=f"'{e}' does not compile",
                                 got_text="a compile error")
        except _NoResult:
            text = f"no result (the step budget of {self.max_steps} steps ran out)"
            return ExampleResult(**base, **fail, got=None, reason=text, got_text=text)
        except UsageError as e:
            return ExampleResult(**base, **fail, got=None, reason=str(e),
                                 got_text=f"a bad call ({e})")
        except RuntimeProgramError as e:
            if "argument lists need" in str(e):
                return ExampleResult(**base, status="skipped", reason="the argument lists do "
                                     "not fit the machine's memory")
            name = (e.raised.exception if getattr(e, "raised", None)
                    else exception_of(getattr(e, "code", 0)) or "RuntimeError")
            text = f"runtime error: {e}"
            if expect_error and self.same_error(e, name, want_text):
                return ExampleResult(**base, status="passed", expected=jexpected, got=text)
            return ExampleResult(**base, **fail, got=None, reason=text, got_text=text)
        except (ArithmeticError, LookupError, TypeError, ValueError, RuntimeError) as e:
            text = f"an internal error ({type(e).__name__}: {e})"
            return ExampleResult(**base, **fail, got=None, reason=text, got_text=text)
        if not expect_error and _norm(expected) == _norm(got):
            return ExampleResult(**base, status="passed", expected=jexpected, got=_norm(got))
        return ExampleResult(**base, **fail, got=_norm(got), got_text=_show(got, expected))

    def value(self, node: ast.expr, names: dict):
        """The value of an example's expression: calls of the file's functions run compiled;
        literals, names set by earlier lines, comparisons and list comprehensions around
        them are evaluated here."""
        node = _unprint(node)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in self.functions:
            return self.call(node, names)
        if isinstance(node, ast.Name) and node.id in names:
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
            a, b = self.value(node.left, names), self.value(node.right, names)
            if not (type(a) in (int, bool) and type(b) in (int, bool)) or (
                    isinstance(node.op, ast.Pow) and not 0 <= b <= 64):
                raise _Skip("arithmetic on values that are not integers")
            return _ARITH[type(node.op)](a, b)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            v = self.value(node.operand, names)
            if type(v) not in (int, bool):
                raise _Skip("a negated value that is not an integer")
            return -v
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMP:
            a, b = self.value(node.left, names), self.value(node.comparators[0], names)
            return _CMP[type(node.ops[0])](_norm(a), _norm(b))
        if (isinstance(node, ast.ListComp) and len(node.generators) == 1
                and isinstance(node.generators[0].target, ast.Name)):
            gen = node.generators[0]
            it = gen.iter
            if isinstance(it, ast.Call) and getattr(it.func, "id", None) == "range" and (
                    not it.keywords and 1 <= len(it.args) <= 3):
                items = range(*[int(self.value(a, names)) for a in it.args])
            else:
                items = self.value(it, names)
            out = []
            for item in items:
                env = {**names, gen.target.id: item}
                if all(self.value(c, env) for c in gen.ifs):
                    out.append(self.value(node.elt, env))
            return out
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            raise _Skip("not a call of one of the file's functions with literal arguments") \
                from None

    def call(self, node: ast.Call, names: dict):
        target = node.func.id
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
                k.arg is None for k in node.keywords):
            raise _Skip("'*' or '**' arguments")
        args = [self.value(a, names) for a in node.args]
        kwargs = {k.arg: self.value(k.value, names) for k in node.keywords}
        for v in [*args, *kwargs.values()]:
            why = None if v is None else _unfit(v, self.lo, self.hi)
            if why:
                raise _Skip(why)
        compiled = self.compiled(target)
        if compiled is None:
            raise _NoCompile(target)
        bound = self.bind(compiled, args, kwargs)
        got, memory = self.run(compiled, bound)
        if got is None:
            raise _NoResult()
        self.read_back(compiled, bound, node, names, memory)
        return got

    def read_back(self, compiled: CompiledPython, args: list, node: ast.Call, names: dict,
                  memory: list[int]) -> None:
        """A list named by an earlier line and changed in place by the call (same length)
        reads as the program left it (``>>> sort(xs)`` then ``>>> xs``)."""
        try:
            places = compiled.argument_places(args)
        except Exception:  # noqa: BLE001 -- nothing to read back
            return
        for a, place, value in zip(node.args, places, args):
            if (isinstance(a, ast.Name) and a.id in names and isinstance(value, list)
                    and place[0] == "list" and all(isinstance(c, int) for c in place[2])
                    and memory[place[1]] == len(value)):
                names[a.id] = [compiled.reading(memory[c]) for c in place[2]]

    @staticmethod
    def same_error(e: RuntimeProgramError, name: str, want: str) -> bool:
        head, _, message = want.partition(":")
        if head.strip().split(".")[-1] != name:
            return False
        raised = getattr(e, "raised", None)
        if raised is None or not raised.exact:
            return True
        return raised.message.strip() == message.strip()

    @staticmethod
    def bind(compiled: CompiledPython, args: list, kwargs: dict) -> list:
        """The caller's arguments in parameter order (hidden flags left to ``inputs``)."""
        params = [p for p in compiled.params if p not in compiled.flags]
        args = [list(a) if isinstance(a, tuple) else a for a in args]
        if not kwargs:
            return args
        slots = list(args) + [_MISSING] * max(0, len(params) - len(args))
        for k, v in kwargs.items():
            if k not in params:
                raise UsageError(f"'{compiled.function}' has no parameter '{k}'")
            slots[params.index(k)] = v
        for i, p in enumerate(params):
            if slots[i] is _MISSING:
                if p not in compiled.defaults:
                    raise UsageError(f"missing argument '{p}'")
                slots[i] = None if p in compiled.flags.values() else compiled.defaults[p]
        return slots


def run_doctests(source: str, filename: str = "<input>", sizes: Sizes | None = None,
                 function: str | None = None, backend: str = "reference", signed: bool = False,
                 max_steps: int = DEFAULT_MAX_STEPS, **machine_kw) -> DoctestReport:
    """Run every docstring example of the file (or of ``function``); see the module docstring.

    Raises :class:`CompileError` only when the file cannot be parsed at all, and
    :class:`UsageError` for an unknown ``function`` or backend.
    """
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend '{backend}' (reference or machine)")
    sizes = (sizes or Sizes()).check()
    tree, newer = parse(source, filename)
    defs = [s for s in tree.body if isinstance(s, ast.FunctionDef)]
    names = [d.name for d in defs]
    if function is not None and function not in names:
        raise UsageError(f"{filename} has no function '{function}' (functions: "
                         f"{', '.join(names) or 'none'})")
    report = DoctestReport()
    checked, bad, errors = _compile_all(source, filename, sizes, signed, tree)
    report.errors = sorted(set(errors), key=errors.index)
    if function is not None:  # only the errors of that function (and those of no function)
        a, b = _spans(tree)[function]
        others = [span for f, span in _spans(tree).items() if f != function]
        report.errors = [e for e in report.errors if _line_of(e) is not None and (
            a <= _line_of(e) <= b or not any(x <= _line_of(e) <= y for x, y in others))]
    if newer:
        report.errors = [d.format(filename) for d in newer] + report.errors
    if checked is not None:
        report.warnings = [f"{filename}:{w.line}:{w.col}: warning: {w.message}"
                           for w in checked[1].warnings]
    compiled: dict[str, CompiledPython | None] = {}

    def compiled_function(name: str) -> CompiledPython | None:
        if name not in compiled:
            compiled[name] = _compile_one(source, filename, sizes, signed, name, checked, bad,
                                          report)
        return compiled[name]

    runner = _Runner(filename, sizes, signed, backend, max_steps, machine_kw, set(names),
                     compiled_function)
    for d in defs:
        if function is not None and d.name != function:
            continue
        env: dict = {}
        for ex in _docstring_examples(d):
            result = runner.example(d.name, ex, env)
            if result is not None:
                report.examples.append(result)
    return report


def _compile_one(source, filename, sizes, signed, name, checked, bad, report):
    if checked is None or name in bad:
        return None
    try:
        return compile_python(source, filename, sizes, name, signed=signed, checked=checked)
    except CompileError as e:
        report.errors.extend(x for x in e.lines(filename) if x not in report.errors)
        return None
    except Exception as e:  # noqa: BLE001 -- a compiler bug fails this function, not the run
        report.errors.append(f"{filename}:1:1: error: internal compiler error in '{name}': "
                             f"{type(e).__name__}: {e}")
        return None

