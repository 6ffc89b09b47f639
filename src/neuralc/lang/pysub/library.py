"""What a library image says about its functions: each one's interface, and which files are
libraries (several functions and no ``main``).

    interface(compiled)            # "gcd(a: int, b: int) -> int; a in r0, b in r1; result in r0"
    user_functions(source)         # ["gcd", "lcm", ...] in file order
    is_library(source)             # True: ``neuralc compile`` makes a library image

The image itself is compiled and linked by :func:`neuralc.pipeline.compile_library`.
"""

from __future__ import annotations

import ast

from ..errors import CompileError
from .compiler import CompiledPython
from .desugar import parse

__all__ = ["interface", "is_library", "user_functions"]


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
