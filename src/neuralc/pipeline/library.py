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

from dataclasses import dataclass

from ..lang.errors import CompileError, Diagnostic, UsageError
from ..lang.interp import DEFAULT_MAX_STEPS
from ..lang.program import Program, Sizes
from ..lang.pysub.compiler import CompiledPython, front_end
from ..lang.pysub.library import interface
from ..passes.link import Image, link
from .compile import compile_python
from .run import PyRunResult, execute

__all__ = ["CompiledLibrary", "compile_library"]


@dataclass
class CompiledLibrary:
    """One image holding every function of a file; ``functions[name]`` is its compiled entry."""

    image: Image
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
        out = execute(self.program, registers, memory, backend, max_steps, entry=entry,
                      **machine_kw)
        confidence = None if backend == "reference" else float(out.confidence)
        halted = bool(out.halted)
        value = self.result(name, [int(v) for v in out.registers],
                            [int(v) for v in out.memory]) if halted else None
        return PyRunResult(halted, int(out.steps), value, confidence)


def compile_library(source: str, filename: str = "<input>", sizes: Sizes | None = None,
                    signed: bool = False, functions: list[str] | None = None) -> CompiledLibrary:
    """Compile every function of ``source`` (or ``functions``) into one linked image.

    Raises :class:`CompileError` with every error of the file, also when the image does not fit
    in n lines.
    """
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
