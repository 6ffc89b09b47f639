"""The Python-subset front of the compiler (docs/LANGUAGE.md §3) and the compiled function's
interface.

    source ─check─▶ CheckedModule ─lower─▶ IR per function ─allocate─▶ physical registers
           ─emit─▶ width-1 Program ─schedule (width > 1, given by the caller)─▶ Program

Each pass is one module of this package; :func:`compile_python` calls each once. The
scheduling pass lives above this package: :func:`neuralc.pipeline.compile_python` passes it in
(``schedule``), so ``lang`` imports nothing from the stages above it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import CompileError, Diagnostic, RuntimeProgramError, UsageError
from ..program import Program, Sizes
from .desugar import Desugared, Raised, complete_arguments, desugar, resolve
from .emit import FunctionPlan, emit_program, function_label, scc_order
from .layout import ERROR_LABELS, Layout, error_message, raise_code
from .lists import RUNTIME, ListLayout, ResultPlace, copies, mutates, needs_growth, runtime_info
from .lower import lower_function
from .regalloc import allocate
from .validate import INT, CheckedModule, check, elem_kind, is_list

__all__ = ["CompiledPython", "compile_python"]


@dataclass
class CompiledPython:
    """A compiled entry function and how to feed it and read its result.

    ``inputs(args)`` → ``(registers, memory)`` for a run; ``result(run)`` (or
    ``result(registers, memory)``) → the return value: an int, a list of ints, or None when the
    run did not halt. A run that stopped at an error stub raises :class:`RuntimeProgramError`.
    """

    program: Program
    function: str
    params: list[str]
    param_kinds: list[str]  # "int", "list", "list[list]", ...
    returns: str  # "int", "list", "list[list]", ...
    layout: Layout
    checks_errors: bool  # the program has error stubs (the error cell can be set)
    reserve: int = 0  # cells a run must leave free below the error cell (fixed spill cells)
    signed: bool = False  # arguments and results read as signed values (see .desugar)
    defaults: dict[str, int] = field(default_factory=dict)  # parameter → its default value
    raised: dict[int, Raised] = field(default_factory=dict)  # error code → raise/assert
    warnings: list[Diagnostic] = field(default_factory=list)  # where unsigned differs
    flags: dict[str, str] = field(default_factory=dict)  # hidden parameter → the one it flags
    lists: ListLayout = field(default_factory=lambda: ListLayout(False))  # how lists lie

    def warning_lines(self, filename: str) -> list[str]:
        """``FILE:LINE:COL: warning: MESSAGE`` for each warning of the compile."""
        return [f"{filename}:{w.line}:{w.col}: warning: {w.message}" for w in self.warnings]

    @property
    def sizes(self) -> Sizes:
        return self.program.sizes

    def inputs(self, args: list) -> tuple[dict[int, int], dict[int, int]]:
        """Registers and memory that pass ``args`` to the entry function.

        Integers go to ``r0, r1, ...`` (mod n); lists go to memory from cell 0 on, each laid
        out as :mod:`.lists` says, and the register gets the list value
        (:meth:`argument_places` tells where each length and element went).
        Raises :class:`UsageError` when the arguments do not match the parameters and
        :class:`RuntimeProgramError` when the lists do not fit in memory.
        """
        n, m = self.sizes.n, self.sizes.m
        args = list(args)
        visible = [p for p in self.params if p not in self.flags]
        sig = f"{self.function}({', '.join(visible)})"
        given = len(args)
        args = complete_arguments(self.params, self.defaults, self.flags, args)
        if len(args) != len(self.params):
            raise UsageError(f"{sig} takes {len(visible)} argument"
                             f"{'' if len(visible) == 1 else 's'}, got {given}")
        registers, memory, cell, self._places = self._place(args, sig)
        for i, (name, kind, value) in enumerate(zip(self.params, self.param_kinds, args)):
            if is_list(kind):
                pass
            else:
                if not _is_int(value):
                    raise UsageError(f"argument '{name}' of {sig} must be an integer, "
                                     f"got {value!r}")
                registers[i] = int(value) % n
        if self.layout.heap:
            registers[self.layout.hp] = cell % n
        if memory and cell > m - 1 - self.reserve:
            raise RuntimeProgramError(
                f"out of memory: the argument lists need {cell} cells, the machine has {m} "
                f"(and keeps {1 + self.reserve} for the program)")
        return registers, memory

    def _place(self, args: list, sig: str):
        n = self.sizes.n
        registers: dict[int, int] = {}
        memory: dict[int, int] = {}
        places: list[tuple] = []
        cell = 0
        for i, (name, kind, value) in enumerate(zip(self.params, self.param_kinds, args)):
            if not is_list(kind):
                places.append(("int", i))
                continue
            if not _fits(value, kind):
                raise UsageError(f"argument '{name}' of {sig} must be "
                                 f"{'a list of lists of integers' if is_list(elem_kind(kind)) else 'a list of integers'}"
                                 f", got {value!r}")
            registers[i], cell, place = self.lists.place(memory, cell, list(value), n)
            places.append(place)
        return registers, memory, cell, places

    def argument_places(self, args: list) -> list[tuple]:
        """Where :meth:`inputs` puts each argument, one entry per parameter:
        ``("int", register)``, or ``("list", length_cell, element_cells)`` — the memory cell
        of the list's length and the cells of its elements in order (for a list of lists,
        each element is the place of its row, a tuple of the same form). A caller may write a
        soft length and soft elements into these cells without knowing the header format; the
        list's register and any other header cells come from :meth:`inputs` with the same
        list lengths."""
        self.inputs(args)
        return list(self._places)

    def result_place(self) -> ResultPlace:
        """Where the result is after a run: an integer in ``r0``; a list's value in ``r0``,
        its length at ``M[r0 + length_offset]``, its elements from ``M[r0]`` (``data_offset``
        None) or from ``M[M[r0 + data_offset]]`` on (see :class:`.lists.ResultPlace`)."""
        return self.lists.result_place(self.returns)

    def result(self, run, memory=None):
        """The return value of a finished run (None when it did not halt).

        ``run`` is a run result (``.halted``, ``.registers``, ``.memory``) or, with ``memory``
        given, the final registers.
        """
        if memory is None:
            if not run.halted:
                return None
            registers, memory = run.registers, run.memory
        else:
            registers = run
        registers = [int(v) for v in registers]
        memory = [int(v) for v in memory]
        if self.checks_errors:
            code = memory[self.layout.error_cell]
            if code in self.raised:
                raised = self.raised[code]
                if raised.slots:  # the values of its message lie below the error cell
                    cells = range(self.layout.error_cell - 1,
                                  self.layout.error_cell - 1 - len(raised.slots), -1)
                    raised = raised.filled([self.reading(memory[c]) for c in cells])
                err = RuntimeProgramError(raised.text())
                err.raised = raised
                raise err
            if code:
                err = RuntimeProgramError(error_message(code, self.sizes.m, self.sizes.n))
                err.code = code
                raise err
        value = registers[0]
        if not is_list(self.returns):
            return self.reading(value)
        return _map(self.reading, self.lists.read(memory, value, self.returns))

    def reading(self, v: int) -> int:
        """A value as the program means it: ``v - n`` for ``v >= n/2`` when signed."""
        n = self.sizes.n
        return v - n if self.signed and v >= n - n // 2 else v


def _is_int(v) -> bool:
    return isinstance(v, int)


def _fits(value, kind: str) -> bool:
    """``value`` is a Python value of ``kind`` (tuples count as lists)."""
    if not is_list(kind):
        return _is_int(value)
    return isinstance(value, (list, tuple)) and all(_fits(v, elem_kind(kind)) for v in value)


def _map(f, value):
    return [_map(f, v) for v in value] if isinstance(value, list) else f(value)


def _entry(mod: CheckedModule, function: str | None, helpers=()) -> str:
    names = [f for f in mod.functions if f not in helpers]
    if function is not None:
        if function not in names:
            have = ", ".join(names) or "none"
            raise UsageError(f"{mod.filename} has no function '{function}' (functions: {have})")
        return function
    if "main" in mod.functions:
        return "main"
    if len(names) == 1:
        return names[0]
    if not names:
        raise CompileError([Diagnostic(1, 1, "the file defines no function to run")],
                           mod.filename)
    raise UsageError(f"{mod.filename} has no function 'main' and several functions "
                     f"({', '.join(names)}): choose one with --function")


def front_end(source: str, filename: str, sizes: Sizes,
              signed: bool = False) -> tuple[CheckedModule, Desugared]:
    """Desugar and check ``source`` (every error of the file in one :class:`CompileError`)."""
    front = desugar(source, filename, sizes.n, signed)
    try:
        mod = check(source, filename, front.tree)
    except CompileError as e:
        raise CompileError(front.errors + front.user_diagnostics(e.diagnostics),
                           filename) from None
    if front.errors:
        raise CompileError(front.errors, filename)
    resolve(front, mod.functions)
    mod.overflow = front.overflow
    return mod, front


def compile_python(source: str, filename: str = "<input>", sizes: Sizes | None = None,
                   function: str | None = None, signed: bool = False,
                   checked: tuple[CheckedModule, Desugared] | None = None,
                   schedule: Callable[[Program, int], Program] | None = None) -> CompiledPython:
    """Compile the Python-subset ``source``; its entry is ``function`` (default ``main``, else
    the file's only function). ``signed`` reads values as signed (docs/COMPILER.md). Raises
    :class:`CompileError` with every error of the file. ``checked`` reuses a :func:`front_end`
    result of the same source, sizes and ``signed`` (a library compiles many entries).
    ``schedule(program, width)`` packs the width-1 program when ``sizes.width > 1`` (the
    scheduling pass; :func:`neuralc.pipeline.compile_python` gives it)."""
    sizes = (sizes or Sizes()).check()
    mod, front = checked or front_end(source, filename, sizes, signed)
    entry = _entry(mod, function, front.prelude)
    names = mod.reachable(entry)
    infos = {f: mod.functions[f] for f in names}
    graph = {f: set(infos[f].calls) for f in names}
    growable = needs_growth(infos.values())
    uses_lists = growable or any(is_list(k) for i in infos.values()
                                 for k in (*i.kinds.values(), *i.types.values(), i.returns))
    # the growable layout calls shared routines (see .lists): a stack
    layout = Layout(sizes, stack=any(graph.values()) or growable or copies(infos.values()),
                    heap=uses_lists)
    colors = layout.allocatable
    _check_registers(mod, infos, colors, sizes)
    labels = {f: function_label(f) for f in names}
    errors: set[str] = set()
    lists = ListLayout(growable)
    changes = mutates(infos.values())
    irs = {f: lower_function(mod, f, layout, labels, errors, lists, changes, infos[f])
           for f in names}
    for r in sorted({g for f in names for g in irs[f].calls if g in RUNTIME}):
        infos[r] = runtime_info(r)  # a shared routine of the run time, called like a function
        labels[r] = function_label(r)
        irs[r] = lower_function(mod, r, layout, labels, errors, lists, changes, infos[r])
        graph[r] = set()
        names = [*names, r]
    for f in names:
        graph[f] |= irs[f].calls & set(RUNTIME)
    called = set().union(*graph.values())
    plans: dict[str, FunctionPlan] = {}
    for comp in scc_order(graph):
        cyclic = len(comp) > 1 or comp[0] in graph[comp[0]]
        known = {g: plans[g].clobber for g in plans}
        for f in comp:
            alloc = allocate(irs[f], colors, known)
            p = FunctionPlan(f, len(infos[f].params), alloc, graph[f], infos[f].node.lineno,
                             cyclic=cyclic, halts=(f == entry and f not in called))
            p.saves_ra = bool(graph[f]) and not p.halts
            p.scratch = _scratch(p, colors)
            plans[f] = p
        clobber = {0}.union(*(plans[f].alloc.used | set(plans[f].scratch) for f in comp))
        clobber |= set().union(*(plans[g].clobber for f in comp for g in graph[f] if g not in comp))
        for f in comp:
            plans[f].clobber = clobber & set(colors)
    program = emit_program({f: plans[f] for f in names}, entry, layout, errors, source)
    if sizes.width > 1:
        if schedule is None:
            raise UsageError("a width > 1 program needs the scheduling pass: compile it with "
                             "neuralc.compile_python")
        program = schedule(program, sizes.width)
    if program.L > sizes.n:
        node = mod.functions[entry].node
        raise CompileError([Diagnostic(node.lineno, node.col_offset + 1,
                                       f"the compiled program needs {program.L} lines, more "
                                       f"than the machine's n={sizes.n} (use a larger n)")],
                           filename)
    info = infos[entry]
    reserve = 0 if layout.stack else plans[entry].alloc.slots
    raised = {raise_code(e): front.raised[raise_code(e)] for e in errors
              if raise_code(e) is not None}
    return CompiledPython(program, entry, list(info.params),
                          [info.kinds.get(p, INT) for p in info.params], info.returns, layout,
                          checks_errors=bool(errors & set(ERROR_LABELS)) or bool(raised),
                          reserve=reserve, signed=signed,
                          defaults=dict(front.defaults.get(entry, {})), raised=raised,
                          warnings=list(front.warnings), lists=lists,
                          flags=dict(front.flags.get(entry, {})))


def _scratch(p: FunctionPlan, colors: list[int]) -> list[int]:
    """Two registers a prologue/epilogue may use: not an argument, not r0 (the result)."""
    free = [c for c in colors if c >= max(p.params, 1)]
    return (sorted(set(free) & p.alloc.used) + [c for c in free if c not in p.alloc.used])[:2]


def _check_registers(mod, infos, colors, sizes) -> None:
    diags = []
    if len(colors) < 3:
        node = next(iter(infos.values())).node
        diags.append(Diagnostic(node.lineno, node.col_offset + 1,
                                f"the program needs more registers than the machine's "
                                f"{sizes.registers} (use --registers)"))
    for info in infos.values():
        if len(info.params) > len(colors) - 2:
            node = info.node
            diags.append(Diagnostic(node.lineno, node.col_offset + 1,
                                    f"'{info.name}' has {len(info.params)} parameters; with "
                                    f"{sizes.registers} registers at most {len(colors) - 2} fit"))
    if diags:
        raise CompileError(diags, mod.filename)

