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
import doctest
import re
from dataclasses import dataclass, field

from ..errors import CompileError, Diagnostic, RuntimeProgramError, UsageError
from ..interp import DEFAULT_MAX_STEPS, run_reference
from ..program import Sizes
from .compiler import CompiledPython, compile_python, front_end
from .desugar import exception_of, parse

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
                 max_steps: int, machine_kw: dict):
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
        if self.backend == "reference":
            out = run_reference(compiled.program, registers, memory, self.max_steps)
        else:
            from ...machine import run_machine

            out = run_machine(compiled.program, registers, memory, max_steps=self.max_steps,
                              **self.machine_kw)
        if not bool(out.halted):
            return None
        return compiled.result([int(v) for v in out.registers], [int(v) for v in out.memory])

    def example(self, fname: str, ex: _Example, compiled: CompiledPython | None,
                names: dict, functions: dict) -> ExampleResult | None:
        base = {"line": ex.line, "function": fname, "call": ex.source}
        try:
            node = ast.parse(ex.source, mode="exec")
        except SyntaxError:
            return ExampleResult(**base, status="skipped", reason="the example is not Python "
                                 "the subset can read")
        stmt = node.body[0] if len(node.body) == 1 else None
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            try:
                names[stmt.targets[0].id] = _literal(stmt.value, names)
            except (ValueError, TypeError, SyntaxError, RecursionError):
                names.pop(stmt.targets[0].id, None)
            return None
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                and call.func.id == "print" and len(call.args) == 1 and not call.keywords):
            call = call.args[0]
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                and call.func.id in functions):
            return ExampleResult(**base, status="skipped", reason="not a call of one of the "
                                 "file's functions")
        target = call.func.id
        base["function"] = target
        try:
            args = [_literal(a, names) for a in call.args]
            kwargs = {k.arg: _literal(k.value, names) for k in call.keywords}
        except (ValueError, TypeError, SyntaxError, RecursionError):
            return ExampleResult(**base, status="skipped", reason="the arguments are not "
                                 "literals (integers, True/False or lists of them)")
        if None in kwargs:
            return ExampleResult(**base, status="skipped", reason="'**' arguments")
        expect_error = ex.exc_msg is not None
        want_text = ex.exc_msg.strip() if expect_error else ex.want.strip()
        expected: object = want_text
        if not expect_error:
            if not want_text:
                return ExampleResult(**base, status="skipped", reason="the example expects no "
                                     "value (the function returns None)")
            try:
                expected = ast.literal_eval(want_text)
            except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
                return ExampleResult(**base, status="skipped", reason="the expected output is "
                                     "not an integer, True/False or a list of them")
        for v in [*(a for a in [*args, *kwargs.values()] if a is not None),
                  *([] if expect_error else [expected])]:
            why = _unfit(v, self.lo, self.hi)
            if why:
                return ExampleResult(**base, status="skipped", reason=f"{why}")
        jexpected = want_text if expect_error else expected
        if isinstance(jexpected, tuple):
            jexpected = list(jexpected)
        if compiled is None:
            return ExampleResult(**base, status="failed", expected=jexpected, got=None,
                                 reason=f"'{target}' does not compile",
                                 expected_text=want_text, got_text="a compile error")
        try:
            args = self.bind(compiled, args, kwargs)
            got = self.run(compiled, args)
        except UsageError as e:
            return ExampleResult(**base, status="failed", expected=jexpected, got=None,
                                 reason=str(e), expected_text=want_text,
                                 got_text=f"a bad call ({e})")
        except (ArithmeticError, LookupError, TypeError, ValueError, RuntimeError) as e:
            if isinstance(e, RuntimeProgramError):
                raise
            text = f"an internal error ({type(e).__name__}: {e})"
            return ExampleResult(**base, status="failed", expected=jexpected, got=None,
                                 reason=text, expected_text=want_text, got_text=text)
        except RuntimeProgramError as e:
            if "argument lists need" in str(e):
                return ExampleResult(**base, status="skipped", reason="the argument lists do "
                                     "not fit the machine's memory")
            name = (e.raised.exception if getattr(e, "raised", None)
                    else exception_of(getattr(e, "code", 0)) or "RuntimeError")
            text = f"runtime error: {e}"
            if expect_error and self.same_error(e, name, want_text):
                return ExampleResult(**base, status="passed", expected=jexpected, got=text)
            return ExampleResult(**base, status="failed", expected=jexpected, got=None,
                                 reason=text, expected_text=want_text, got_text=text)
        if got is None:
            text = f"no result (the step budget of {self.max_steps} steps ran out)"
            return ExampleResult(**base, status="failed", expected=jexpected, got=None,
                                 reason=text, expected_text=want_text, got_text=text)
        if not expect_error and _norm(expected) == got:
            return ExampleResult(**base, status="passed", expected=jexpected, got=got)
        return ExampleResult(**base, status="failed", expected=jexpected, got=got,
                             expected_text=want_text, got_text=_show(got, expected))

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
    if backend not in ("reference", "machine"):
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
    runner = _Runner(filename, sizes, signed, backend, max_steps, machine_kw)
    compiled: dict[str, CompiledPython | None] = {}
    for d in defs:
        if function is not None and d.name != function:
            continue
        env: dict = {}
        for ex in _docstring_examples(d):
            target = d.name
            try:
                node = ast.parse(ex.source)
                call = node.body[0].value if isinstance(node.body[0], ast.Expr) else None
                if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "print" \
                        and call.args:
                    call = call.args[0]
                if isinstance(call, ast.Call) and getattr(call.func, "id", None) in names:
                    target = call.func.id
            except (SyntaxError, IndexError):
                pass
            if target not in compiled:
                compiled[target] = _compile_one(source, filename, sizes, signed, target,
                                                checked, bad, report)
            result = runner.example(d.name, ex, compiled[target], env, set(names))
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

