"""A library of programs for a caller that fills their inputs with distributions: where every
input goes, where the answer is, one linked image, a step budget per program.

A *place* is ``("reg", r)`` or ``("mem", c)``. For a list capacity ``C`` (the longest list a
caller will pass), :func:`interface` gives per program

* ``scalars``: the place of each integer parameter, in order;
* ``lists``: per list parameter, the place of its length and of its ``C`` element cells (the
  paper's layout: the list in memory, its length beside it — a register for assembly programs,
  the header cell for compiled Python); a shorter list fills the first cells;
* ``constants``: every other register and cell the program expects set before it starts (an
  address, a heap pointer, a constant 1);
* ``output``: ``("reg", r)`` for an integer, ``("list", length place, element places)`` for a
  list at a fixed place, or ``("pointer", r)`` for a list at the address held in ``r`` (its
  length in the cell before, as :class:`~neuralc.library.Port` describes Python results).

:func:`link_library` links the programs into one image with :func:`neuralc.passes.link`;
:func:`step_budgets` runs each part of the image on sample inputs (reference interpreter) and
keeps the longest run. :func:`load_library` reads a library spec: a Python-subset file (every
function a program), standard-library names, or the default standard library.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass

from ..lang.errors import UsageError
from ..lang.program import Sizes
from .registry import LibraryProgram, get, names, python_program

__all__ = ["DEFAULT_PROGRAMS", "Interface", "interface", "link_library", "load_library",
           "step_budgets"]

# the standard library a model calls when no library is named: every calculator, the parallel
# Fibonacci loop, gcd, the sum and the largest element of a list, the sorting network
DEFAULT_PROGRAMS: tuple[str, ...] = (
    *(f"calc_{op}" for op in ("inc", "dec", "add", "sub", "mul", "div", "mod", "min", "max")),
    "fib_parallel", "gcd", "list_sum", "list_max", "sort_network")


@dataclass(frozen=True)
class Interface:
    """Where one program's inputs go and where its answer is (module docstring)."""

    scalars: tuple[tuple[str, int], ...]
    lists: tuple[tuple[tuple[str, int], tuple[tuple[str, int], ...]], ...]
    constants: tuple[tuple[tuple[str, int], int], ...]
    output: tuple

    @property
    def returns(self) -> str:
        return "int" if self.output[0] == "reg" else "list"


def interface(entry: LibraryProgram, sizes: Sizes, capacity: int) -> Interface:
    """The places of ``entry``'s inputs and output for lists of up to ``capacity`` values.

    A compiled Python entry says where its arguments go
    (:meth:`~neuralc.lang.pysub.CompiledPython.argument_places`, given lists of ``capacity``
    values) and where its result is (``result_place``), so nothing here knows the list layout.
    An assembly entry is probed with sentinel values through ``entry.inputs``: integer ``i`` gets
    ``n-1-i``, element ``j`` of list ``l`` a distinct value below those; a list's length place is
    the one whose value follows the list's length from ``capacity`` to ``capacity - 1``. Raises
    ``UsageError`` for an input the caller cannot fill (a step-budget input, a list of fixed
    length, a list of lists) or an answer it cannot read.
    """
    n, C = sizes.n, capacity
    kinds = [p.kind for p in entry.inputs_ports]
    for p in entry.inputs_ports:
        if p.kind == "budget" or (p.kind == "list" and p.length is not None):
            raise UsageError(f"library program '{entry.name}': its input '{p.name}' cannot be "
                             "parsed from a request (a step budget or a list of fixed length)")
    ints = [i for i, k in enumerate(kinds) if k != "list"]
    lists = [i for i, k in enumerate(kinds) if k == "list"]
    sentinel = {i: n - 1 - j for j, i in enumerate(ints)}
    element = {(i, j): n - 1 - len(ints) - li * C - j for li, i in enumerate(lists)
               for j in range(C)}
    if min([C + 2, *element.values(), *sentinel.values()]) <= C + 1:
        raise UsageError(f"n={n} is too small for lists of {C} values")

    def probe(short: int | None) -> dict[tuple[str, int], int]:
        args = [[element[i, j] for j in range(C - (i == short))] if i in lists else sentinel[i]
                for i in range(len(kinds))]
        registers, memory = entry.inputs(args, sizes)
        return {**{("reg", r): v for r, v in registers.items()},
                **{("mem", c): v for c, v in memory.items()}}

    full = probe(None)
    if entry.language == "py":
        scalars, list_places, output = _compiled_places(entry, sizes, C, sentinel, element, kinds)
    else:
        where = {v: place for place, v in full.items()}
        scalars = tuple(where[sentinel[i]] for i in ints)
        list_places = []
        for i in lists:
            short = probe(i)
            length = [p for p, v in full.items() if v == C and short.get(p) == C - 1]
            if len(length) != 1:
                raise UsageError(f"library program '{entry.name}': no single length place for "
                                 f"its list '{entry.inputs_ports[i].name}'")
            list_places.append((length[0], tuple(where[element[i, j]] for j in range(C))))
        out = entry.output_port
        if out.kind == "int":
            output: tuple = ("reg", out.register)
        elif out.cell is None:
            output = ("pointer", out.register)
        else:
            output = ("list", ("reg", out.register),
                      tuple(("mem", out.cell + j) for j in range(C)))
    used = set(scalars) | {p for ln, cells in list_places for p in (ln, *cells)}
    constants = tuple(sorted((p, v) for p, v in full.items() if p not in used))
    return Interface(scalars, tuple(list_places), constants, output)


def _compiled_places(entry: LibraryProgram, sizes: Sizes, C: int, sentinel: dict,
                     element: dict, kinds: list[str]):
    """Scalars, lists and output of a compiled Python entry, from the compiler's own places."""
    compiled = entry.compiled(sizes)
    args = [[element[i, j] for j in range(C)] if k == "list" else sentinel[i]
            for i, k in enumerate(kinds)]
    scalars, list_places = [], []
    for i, place in enumerate(compiled.argument_places(args)):
        if place[0] == "int":
            scalars.append(("reg", place[1]))
            continue
        _, length_cell, cells = place
        if any(not isinstance(c, int) for c in cells):
            raise UsageError(f"library program '{entry.name}': its input "
                             f"'{entry.inputs_ports[i].name}' is a list of lists, which a "
                             "request cannot fill")
        list_places.append((("mem", length_cell), tuple(("mem", c) for c in cells)))
    result = compiled.result_place()
    if result.kind == "int":
        output: tuple = ("reg", result.register)
    elif result.length_offset == -1 and result.data_offset is None:
        output = ("pointer", result.register)  # elements from M[r], the length in the cell before
    else:
        raise UsageError(f"library program '{entry.name}': a model cannot read its list answer "
                         "yet (a list that grows; return an integer, or a list made without "
                         "append, comprehensions or slices)")
    return tuple(scalars), list_places, output


def link_library(entries: list[LibraryProgram], sizes: Sizes):
    """One :class:`~neuralc.passes.link.Image` holding every entry, each labelled by its name."""
    from ..passes.link import link

    return link([(e.name, e.program(sizes)) for e in entries])


def step_budgets(image, entries: list[LibraryProgram], interfaces: list[Interface],
                 sizes: Sizes, capacity: int, samples: dict[str, list] | None = None,
                 tries: int = 64, cap: int = 400) -> list[int]:
    """Per entry, the most steps its part of ``image`` takes on sample inputs (reference
    interpreter), at most ``cap``: ``samples[name]`` (argument lists) when given, else
    ``tries`` draws of the entry's sampler with lists cut to ``capacity`` values, plus the
    list of ``capacity`` values in descending order (a sort's longest run)."""
    rng = random.Random(0)
    budgets = []
    for e, face in zip(entries, interfaces):
        args = list((samples or {}).get(e.name, []))
        if not args:
            for _ in range(tries):
                a = e.sample(rng, sizes)
                args.append([x[:capacity] if isinstance(x, list) else x for x in a])
            if face.lists:
                args.append([list(range(capacity, 0, -1)) if p.kind == "list" else 1
                             for p in e.inputs_ports])
        most = 1
        for a in args:
            registers, memory = e.inputs(a, sizes)
            run = image.run(e.name, registers, memory, max_steps=cap)
            most = max(most, run.steps)
        budgets.append(most)
    return budgets


def load_library(spec: str | None, default: tuple[str, ...] | list[str] = DEFAULT_PROGRAMS
                 ) -> list[LibraryProgram]:
    """The programs of a library spec: the path of a Python-subset file (every function is a
    program, named as in the file), comma-separated standard-library names, or ``None`` for
    ``default``. Raises :class:`~neuralc.lang.errors.CompileError` (every error of the file)
    or :class:`UsageError` (a missing file, an unknown name)."""
    if spec is None:
        return [get(name) for name in default]
    if spec.endswith(".py") or os.path.sep in spec:
        try:
            with open(spec, encoding="utf-8") as f:
                source = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"cannot read library {spec}: {e}") from None
        return python_library(source, spec)
    out = []
    for name in (x.strip() for x in spec.split(",")):
        if name not in names():
            raise UsageError(f"no standard-library program '{name}' (known: "
                             f"{', '.join(names())})")
        out.append(get(name))
    if not out:
        raise UsageError("the library names no program")
    return out


def python_library(source: str, filename: str = "<library>") -> list[LibraryProgram]:
    """Every function of a Python-subset file as a program (compiled here, so a file that does
    not compile stops with every error)."""
    from ..lang.pysub.validate import check

    functions = list(check(source, filename).functions)
    if not functions:
        raise UsageError(f"{filename}: the library defines no function")
    return [python_program(source, f, filename=filename) for f in functions]
