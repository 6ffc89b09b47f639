"""The standard library (docs/DESIGN.md §8.1): compiled programs with documented interfaces.

Every entry is a file under ``programs/`` (Python subset or assembly), except the one-operation
calculators, which are one line each and made from the instruction registry (one per table op).
An entry knows where its inputs go and where its output is (:class:`Port`), so that callers —
the language-model head, the learning helpers — can feed inputs (as values or distributions)
and read outputs without knowing the program::

    from neuralc import library
    fib = library.get("fib")
    fib.run([0, 1, 10])            # 89: the interface is a r1, b r2, depth r4 → r2
    fib.program()                  # the checked Program (compiled once per Sizes)
    library.get("gcd").inputs([12, 18])   # (registers, memory) for a run

Conventions: assembly entries put integers in fixed registers and lists in memory from cell 0
(the length in a register). Python entries follow the compiler's calling convention
(docs/COMPILER.md): integer arguments in ``r0, r1, ...``, lists in memory from cell 0 (a
header cell with the length, then the elements; the register holds the address of the first
element), the result in ``r0`` (for a list: the address of its first element).
"""

from __future__ import annotations

import ast
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from ..isa import BY_NAME, TABLE_OPS
from ..lang.errors import UsageError
from ..lang.interp import DEFAULT_MAX_STEPS, run_reference
from ..lang.program import Program, Sizes

__all__ = ["CALCULATOR_OPS", "LibraryProgram", "Port", "entries", "fibonacci", "get", "names",
           "python_program"]


@dataclass(frozen=True)
class Port:
    """Where one input or the output lives.

    ``kind="int"``: the value is in register ``register``. ``kind="list"``: the elements are
    in memory from cell ``cell`` on; ``register`` holds the length (assembly entries) or the
    address of the first element (Python entries, whose header cell ``cell - 1`` holds the
    length); ``length`` fixes the length when the program needs one. ``kind="budget"``: not
    a place but the number of steps to run (programs that loop until the budget ends).
    """

    name: str
    kind: str = "int"
    register: int | None = None
    cell: int | None = None
    length: int | None = None

    def describe(self) -> str:
        if self.kind == "budget":
            return f"{self.name}: sets the step budget"
        if self.kind == "int":
            return f"{self.name}: r{self.register}"
        if self.cell is None:
            return (f"{self.name}: a list at the address in r{self.register} (its length in the "
                    "cell before)")
        size = f"{self.length} cells" if self.length else "len cells"
        where = f"{self.name}: memory from cell {self.cell} ({size})"
        if self.register is not None and self.cell == 0:
            return f"{where}, length in r{self.register}"
        if self.register is not None:
            return f"{where}, address in r{self.register}"
        return where


@dataclass
class LibraryProgram:
    """One library entry: its source, interface, an oracle and valid random inputs."""

    name: str
    doc: str
    language: str  # "asm" | "py"
    source: str
    inputs_ports: list[Port]
    output_port: Port
    reference: Callable  # (args, n) → expected output (the CPython oracle)
    sample: Callable  # (rng, sizes) → valid args
    function: str | None = None  # Python entries: the entry function
    constants: dict[int, int] = field(default_factory=dict)  # fixed registers (asm)
    steps: Callable | None = None  # (args) → the step budget, for programs that never halt
    sizes: Sizes = field(default_factory=Sizes)  # the default sizes

    @property
    def params(self) -> list[str]:
        return [p.name for p in self.inputs_ports]

    def compiled(self, sizes: Sizes | None = None):
        """The :class:`~neuralc.lang.pysub.CompiledPython` of a Python entry."""
        if self.language != "py":
            raise TypeError(f"{self.name} is an assembly program")
        return _compile_py(self.source, self.function, sizes or self.sizes)

    def program(self, sizes: Sizes | None = None, width: int = 1) -> Program:
        """The checked program; with ``width > 1`` through the parallelizing scheduler."""
        sizes = sizes or self.sizes
        if self.language == "py":
            program = self.compiled(sizes).program
        else:
            program = _assemble(self.source, self.name, sizes)
        if width > 1 and program.width == 1:
            from ..passes.schedule import schedule

            program = schedule(program, width)
        return program

    def inputs(self, args: list, sizes: Sizes | None = None) -> tuple[dict, dict]:
        """Registers and memory that pass ``args`` (values) to the program."""
        sizes = sizes or self.sizes
        if self.language == "py":
            return self.compiled(sizes).inputs(args)
        if len(args) != len(self.inputs_ports):
            raise UsageError(f"{self.name} takes {len(self.inputs_ports)} arguments "
                             f"({', '.join(self.params)}), got {len(args)}")
        n = sizes.n
        registers = dict(self.constants)
        memory: dict[int, int] = {}
        for port, value in zip(self.inputs_ports, args):
            if port.kind == "budget":
                continue
            if port.kind == "int":
                registers[port.register] = int(value) % n
            else:
                if port.length is not None and len(value) != port.length:
                    raise UsageError(f"{self.name}: '{port.name}' must have {port.length} "
                                     f"elements, got {len(value)}")
                for j, v in enumerate(value):
                    memory[port.cell + j] = int(v) % n
                if port.register is not None:
                    registers[port.register] = len(value) % n
        return registers, memory

    def output(self, run, sizes: Sizes | None = None):
        """The output of a finished run (``.registers``, ``.memory``; None when not halted)."""
        sizes = sizes or self.sizes
        if self.language == "py":
            return self.compiled(sizes).result(run)
        if self.steps is None and not run.halted:
            return None
        regs = [int(v) for v in run.registers]
        mem = [int(v) for v in run.memory]
        port = self.output_port
        if port.kind == "int":
            return regs[port.register]
        length = port.length if port.length is not None else regs[port.register]
        return mem[port.cell: port.cell + length]

    def run(self, args: list, sizes: Sizes | None = None, width: int = 1,
            backend: str = "reference", max_steps: int | None = None, **machine_kw):
        """Run on ``args`` and return the output (reference interpreter or sharp machine)."""
        sizes = sizes or self.sizes
        program = self.program(sizes, width)
        registers, memory = self.inputs(args, sizes)
        if max_steps is None:
            max_steps = self.steps(args) if self.steps else DEFAULT_MAX_STEPS
        if backend == "reference":
            out = run_reference(program, registers, memory, max_steps)
        else:
            from ..machine import run_machine

            out = run_machine(program, registers, memory, max_steps=max_steps, **machine_kw)
        return self.output(out, sizes)

    def describe(self) -> str:
        ins = "; ".join(p.describe() for p in self.inputs_ports) or "none"
        return f"in: {ins} → out: {self.output_port.describe()}"


@lru_cache(maxsize=256)
def _compile_py(source: str, function: str | None, sizes: Sizes):
    from ..pipeline import compile_python

    return compile_python(source, f"<library {function}>", sizes, function)


@lru_cache(maxsize=256)
def _assemble(source: str, name: str, sizes: Sizes) -> Program:
    from ..lang.asm import assemble

    return assemble(source, f"<library {name}>", {"n": sizes.n, "registers": sizes.registers,
                                                   "memory": sizes.memory})


def _read(filename: str) -> str:
    return resources.files(__package__).joinpath("programs", filename).read_text("utf-8")


def _asm_doc(source: str) -> str:
    lines = []
    for line in source.splitlines():
        if not line.startswith(";"):
            break
        lines.append(line.lstrip("; ").rstrip())
    return " ".join(lines)


# ---------------------------------------------------------------------- the oracles


def _py_oracle(source: str, function: str):
    """CPython runs the same source; ints (and list items) reduced mod n."""
    def reference(args, n):
        env: dict = {}
        exec(compile(source, f"<oracle {function}>", "exec"), env)  # noqa: S102 (the oracle)
        value = env[function](*[list(a) if isinstance(a, list) else a for a in args])
        return [v % n for v in value] if isinstance(value, list) else value % n
    return reference


# independent Python definitions of the table ops (not the registry's)
_CALC = {
    "inc": lambda a, b, n: (a + 1) % n, "dec": lambda a, b, n: (a - 1) % n,
    "not": lambda a, b, n: int(a == 0), "add": lambda a, b, n: (a + b) % n,
    "sub": lambda a, b, n: (a - b) % n, "mul": lambda a, b, n: (a * b) % n,
    "div": lambda a, b, n: a // b if b else 0, "mod": lambda a, b, n: a % b if b else 0,
    "min": lambda a, b, n: min(a, b), "max": lambda a, b, n: max(a, b),
    "and": lambda a, b, n: (a & b) % n, "or": lambda a, b, n: (a | b) % n,
    "xor": lambda a, b, n: (a ^ b) % n, "eq": lambda a, b, n: int(a == b),
    "ne": lambda a, b, n: int(a != b), "lt": lambda a, b, n: int(a < b),
    "le": lambda a, b, n: int(a <= b), "gt": lambda a, b, n: int(a > b),
    "ge": lambda a, b, n: int(a >= b),
}
CALCULATOR_OPS: tuple[str, ...] = TABLE_OPS


def _calculator_oracle(fn, unary: bool):
    return lambda args, n: fn(args[0] % n, 0 if unary else args[1] % n, n)


def _int_sampler(k: int):
    return lambda rng, sizes: _ints(rng, sizes.n, k)


def fibonacci(a: int, b: int, depth: int, n: int = 128) -> int:
    """The reference answer of every Fibonacci program: ``b`` after ``depth`` steps of
    ``(a, b) → (b, a + b) mod n``."""
    a, b = a % n, b % n
    for _ in range(depth):
        a, b = b, (a + b) % n
    return b


def _fib_loop(args, n):
    return fibonacci(*args, n=n)


def _fib_paper(args, n):
    a, b, depth = args
    return _fib_loop([a, (b + 1) % n, depth], n)


def _ints(rng, n, k, lo=0, hi=None):
    return [rng.randrange(lo, n if hi is None else hi) for _ in range(k)]


def _list(rng, sizes, max_len=8):
    return [rng.randrange(sizes.n) for _ in range(rng.randrange(max_len + 1))]


def _mod_add(args, n):
    a, b, c = (v % n for v in args)
    s = (a + b) % n
    return s if s < c else (s - c) % n


def _mod_add_args(rng, sizes):
    c = rng.randrange(1, sizes.n)
    return [rng.randrange(c), rng.randrange(c), c]


def _sorted_with_target(rng, sizes):
    xs = sorted(set(_list(rng, sizes, 10)))
    target = rng.choice(xs) if xs and rng.random() < 0.7 else rng.randrange(sizes.n)
    return [xs, target]


def _two_lists(rng, sizes, max_len=10):
    k = rng.randrange(max_len + 1)
    return [_ints(rng, sizes.n, k), _ints(rng, sizes.n, k)]


def _list_with_pair(rng, sizes):
    """Elements below n/2, so that sums do not wrap around; often a pair sums to the target."""
    xs = _ints(rng, sizes.n, rng.randrange(11), hi=sizes.n // 2)
    if len(xs) >= 2 and rng.random() < 0.7:
        i, j = sorted(rng.sample(range(len(xs)), 2))
        return [xs, xs[i] + xs[j]]
    return [xs, rng.randrange(sizes.n)]


# ---------------------------------------------------------------------- the entries


def _build() -> dict[str, LibraryProgram]:
    out: dict[str, LibraryProgram] = {}
    for op in CALCULATOR_OPS:
        unary = BY_NAME[op].arity == 1
        source = (f"; {op} calculator: {BY_NAME[op].doc}\n"
                  f"    {op} r1 {'' if unary else 'r2 '}r3\n")
        ports = [Port("a", register=1)] + ([] if unary else [Port("b", register=2)])
        fn = _CALC[op]
        out[f"calc_{op}"] = LibraryProgram(
            f"calc_{op}", f"One-operation calculator: {BY_NAME[op].doc} (a in r1"
            f"{'' if unary else ', b in r2'}, result in r3).", "asm", source, ports,
            Port("result", register=3), _calculator_oracle(fn, unary),
            _int_sampler(len(ports)))

    def asm(name, file, ports, output, reference, sample, **kw):
        source = _read(file)
        out[name] = LibraryProgram(name, _asm_doc(source), "asm", source, ports, output,
                                   reference, sample, **kw)

    def py(name, file, function, sample, **kw):
        out[name] = python_program(_read(file), function, name=name, filename=file,
                                   sample=sample, **kw)

    asm("fib", "fib.asm", [Port("a", register=1), Port("b", register=2),
                           Port("depth", register=4)], Port("result", register=2), _fib_loop,
        lambda rng, s: [rng.randrange(s.n), rng.randrange(s.n), rng.randrange(20)])
    asm("fib_paper", "fib_paper.asm", [Port("a", register=1), Port("b", register=2),
                                       Port("depth", "budget")],
        Port("result", register=2), _fib_paper,
        lambda rng, s: [rng.randrange(s.n), rng.randrange(s.n), rng.randrange(20)],
        constants={4: 1}, steps=lambda args: 1 + 6 * args[2])
    asm("fib_parallel", "fib_parallel.asm", [Port("a", register=1), Port("b", register=2),
                                             Port("depth", register=4)],
        Port("result", register=2), _fib_loop,
        lambda rng, s: [rng.randrange(s.n), rng.randrange(s.n), rng.randrange(1, 20)],
        constants={3: 1})
    asm("mod_add", "mod_add.asm", [Port("a", register=0), Port("b", register=1),
                                   Port("c", register=3)], Port("result", register=2),
        _mod_add, _mod_add_args)
    asm("insertion_sort", "insertion_sort.asm", [Port("xs", "list", register=1, cell=0)],
        Port("xs", "list", register=1, cell=0), lambda args, n: sorted(v % n for v in args[0]),
        lambda rng, s: [_list(rng, s, 10)])
    asm("sort_network", "sort_network.asm", [Port("xs", "list", register=24, cell=0)],
        Port("xs", "list", register=24, cell=0), lambda args, n: sorted(v % n for v in args[0]),
        lambda rng, s: [_list(rng, s, 12)], sizes=Sizes(registers=40))
    for name in ("bitonic_sort8", "bitonic_sort8_seq"):
        asm(name, f"{name}.asm", [Port("xs", "list", cell=0, length=8)],
            Port("xs", "list", cell=0, length=8), lambda args, n: sorted(v % n for v in args[0]),
            lambda rng, s: [_ints(rng, s.n, 8)])
    py("fib_rec", "fib_rec.py", "fib", lambda rng, s: [rng.randrange(11)])
    py("gcd", "gcd.py", "gcd", lambda rng, s: _ints(rng, s.n, 2))
    py("factorial", "factorial.py", "factorial", lambda rng, s: [rng.randrange(s.n - 1)])
    py("power", "power.py", "power", lambda rng, s: _ints(rng, s.n, 2))
    py("list_sum", "list_sum.py", "list_sum", lambda rng, s: [_list(rng, s, 12)])
    py("list_max", "list_max.py", "list_max", lambda rng, s: [_list(rng, s, 12)])
    py("reverse", "reverse.py", "reverse", lambda rng, s: [_list(rng, s, 12)])
    py("insertion_sort_py", "insertion_sort_py.py", "insertion_sort",
       lambda rng, s: [_list(rng, s, 10)])
    py("bubble_sort", "bubble_sort.py", "bubble_sort", lambda rng, s: [_list(rng, s, 10)])
    py("quicksort", "quicksort.py", "quicksort", lambda rng, s: [_list(rng, s, 10)])
    py("binary_search", "binary_search.py", "binary_search", _sorted_with_target)
    py("dot_product", "dot_product.py", "dot_product", _two_lists)
    py("prefix_sums", "prefix_sums.py", "prefix_sums", lambda rng, s: [_list(rng, s, 12)])
    py("histogram", "histogram.py", "histogram", lambda rng, s: [_list(rng, s, 12)])
    py("two_sum", "two_sum.py", "two_sum", _list_with_pair)
    py("list_stats", "list_stats.py", "list_stats", lambda rng, s: [_list(rng, s, 12)])
    return out


def python_program(source: str, function: str, *, name: str | None = None,
                   filename: str = "<library>", sample: Callable | None = None,
                   **kw) -> LibraryProgram:
    """The entry for ``function`` of a Python-subset ``source`` (a standard program or one of a
    user's library file): its ports from the checked signature (integer parameters in
    registers, lists in memory), CPython as its oracle. Raises :class:`CompileError` with every
    error of the file. ``sample`` defaults to random integers and lists of up to 8 values."""
    from ..lang.pysub.validate import check

    info = check(source, filename).functions[function]
    doc = ast.get_docstring(info.node) or function
    ports = []
    for i, p in enumerate(info.params):
        if info.kinds.get(p) == "list":  # the first list's elements start at cell 1
            ports.append(Port(p, "list", register=i, cell=None if ports else 1))
        else:
            ports.append(Port(p, register=i))
    if sample is None:
        kinds = [p.kind for p in ports]

        def sample(rng, sizes):
            return [_list(rng, sizes) if k == "list" else rng.randrange(sizes.n) for k in kinds]
    return LibraryProgram(name or function, doc, "py", source, ports,
                          Port("result", info.returns, register=0),
                          _py_oracle(source, function), sample, function=function, **kw)


_ENTRIES: dict[str, LibraryProgram] | None = None


def entries() -> dict[str, LibraryProgram]:
    global _ENTRIES
    if _ENTRIES is None:
        _ENTRIES = _build()
    return _ENTRIES


def names() -> list[str]:
    """The names of all library programs."""
    return list(entries())


def get(name: str) -> LibraryProgram:
    """The library program ``name`` (KeyError with the known names otherwise)."""
    try:
        return entries()[name]
    except KeyError:
        raise KeyError(f"no library program '{name}' (known: {', '.join(names())})") from None


def sample_args(entry: LibraryProgram, seed: int = 0, sizes: Sizes | None = None) -> list:
    """Valid random arguments for ``entry`` (deterministic in ``seed``)."""
    return entry.sample(random.Random(seed), sizes or entry.sizes)
