"""A file of several functions compiled as one library image: every function an entry point.

    lib = compile_library(source, "lib.py", Sizes(n=1024))
    lib.names                      # ["gcd", "lcm", ...] in file order
    lib.image.entries["gcd"]       # its entry line in lib.program
    registers, memory = lib.inputs("gcd", [12, 18])
    out = run_reference(lib.program, registers, memory, entry=lib.entries["gcd"])
    lib.result("gcd", out)         # 6
    lib.run("gcd", [12, 18])       # the same in one call (backend="machine" too)

Each function is compiled as the entry of its own program (with the helpers and the functions
it calls), then :func:`neuralc.passes.link.link` lays the programs out one after the other,
labels each entry with the function's name and relocates every target; the comment at each
entry states the function's interface. Running from an entry is exactly running that
function's own program (``functions[name]``), so its ``inputs``/``result`` apply unchanged.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..errors import CompileError, Diagnostic, UsageError
from ..interp import DEFAULT_MAX_STEPS, run_reference
from ..program import Program, Sizes
from .compiler import CompiledPython, PyRunResult, compile_python, front_end
from .desugar import parse

__all__ = ["CompiledLibrary", "compile_library", "interface", "is_library", "user_functions"]


@dataclass
class CompiledLibrary:
    """One image holding every function of a file; ``functions[name]`` is its compiled entry."""

    image: object  # neuralc.passes.link.Image
    functions: dict[str, CompiledPython]

    @property
    def program(self) -> Program:
        return self.image.program

    @property
    def entries(self) -> dict[str, int]:
        return self.image.entries

    @property
    def names(self) -> list[str]:
        return list(self.functions)

    def _get(self, name: str) -> CompiledPython:
        if name not in self.functions:
            raise UsageError(f"the library has no function '{name}' (functions: "
                             f"{', '.join(self.functions)})")
        return self.functions[name]

    def inputs(self, name: str, args: list) -> tuple[dict[int, int], dict[int, int]]:
        """Registers and memory that pass ``args`` to function ``name`` (defaults filled in)."""
        return self._get(name).inputs(args)

    def result(self, name: str, run, memory=None):
        """The value function ``name`` returned in a run started at its entry."""
        return self._get(name).result(run, memory)

    def interface(self, name: str) -> str:
        return interface(self._get(name))

    def run(self, name: str, args: list, backend: str = "reference",
            max_steps: int = DEFAULT_MAX_STEPS, **machine_kw) -> PyRunResult:
        """Run function ``name`` of the image on ``args`` (reference or machine backend)."""
        registers, memory = self.inputs(name, args)
        entry = self.entries[name]
        if backend == "reference":
            out = run_reference(self.program, registers, memory, max_steps, entry=entry)
            confidence = None
        elif backend == "machine":
            from ...machine import run_machine

            out = run_machine(self.program, registers, memory, max_steps=max_steps,
                              entry=entry, **machine_kw)
            confidence = float(out.confidence)
        else:
            raise UsageError(f"unknown backend '{backend}' (reference or machine)")
        halted = bool(out.halted)
        value = self.result(name, [int(v) for v in out.registers],
                            [int(v) for v in out.memory]) if halted else None
        return PyRunResult(halted, int(out.steps), value, confidence)


def interface(compiled: CompiledPython) -> str:
    """``gcd(a: int, b: int = 0) -> int``, with where the arguments go."""
    params = []
    for p, kind in zip(compiled.params, compiled.param_kinds):
        if p in compiled.flags:  # hidden: whether a parameter defaulting to None was given
            params.append(f"{p}: 0 | 1")
            continue
        default = compiled.defaults.get(p)
        shown = "None" if p in compiled.flags.values() else default
        params.append(f"{p}: {kind}" + ("" if default is None else f" = {shown}"))
    where = ", ".join(f"{p} in r{i}" + (" (the address of its first element; the length is "
                                         "in the cell before)" if k == "list" else "")
                      for i, (p, k) in enumerate(zip(compiled.params, compiled.param_kinds)))
    signed = ", signed values" if compiled.signed else ""
    return (f"{compiled.function}({', '.join(params)}) -> {compiled.returns}"
            f"{'; ' + where if where else ''}; result in r0{signed}")


def user_functions(source: str, filename: str = "<input>") -> list[str]:
    """The names of the file's top-level functions, in order ([] when it does not parse)."""
    try:
        tree, _ = parse(source, filename)
    except CompileError:
        return []
    return [s.name for s in tree.body if isinstance(s, ast.FunctionDef)]


def is_library(source: str, filename: str = "<input>") -> bool:
    """Several functions and no ``main``: ``neuralc compile`` makes a library image."""
    names = user_functions(source, filename)
    return len(names) > 1 and "main" not in names


def compile_library(source: str, filename: str = "<input>", sizes: Sizes | None = None,
                    signed: bool = False, functions: list[str] | None = None) -> CompiledLibrary:
    """Compile every function of ``source`` (or ``functions``) into one linked image.

    Raises :class:`CompileError` with every error of the file, also when the image does not fit
    in n lines.
    """
    from ...passes.link import link

    sizes = (sizes or Sizes()).check()
    checked = front_end(source, filename, sizes, signed)
    mod, front = checked
    names = functions or [f for f in mod.functions if f not in front.prelude]
    compiled: dict[str, CompiledPython] = {}
    parts = {}
    for name in names:
        c = compile_python(source, filename, sizes, name, signed=signed, checked=checked)
        note = f"{interface(c)}"
        old = c.program.comments.get(c.program.entry)
        c.program.comments[c.program.entry] = note + (f"\n{old}" if old else "")
        compiled[name] = c
        parts[name] = c.program
    try:
        image = link(parts)
    except ValueError as e:
        node = mod.functions[names[0]].node
        raise CompileError([Diagnostic(node.lineno, node.col_offset + 1,
                                       f"the library image cannot be linked: {e} (use a larger "
                                       "n)")], filename) from None
    return CompiledLibrary(image, compiled)
