"""The one place that knows how a list lies in memory (compiled code and the host side).

A program uses one of two layouts, chosen from the whole program when it is compiled:

**fixed** — for programs whose lists never grow (no ``append``, ``insert``, ``extend``, list
``+=``, comprehension, nor ``list()``/``sorted()`` of a range or a generator). A list value is
the address ``x`` of its first element::

    x-1: length | x+0 .. x+len-1: elements

``x[i]`` is at ``x + i`` and ``len(x)`` at ``x - 1``: one read for a length, none for the base.
``pop`` shrinks the length in place.

**growable** — for every other program. A list value is the address ``x`` of a two-cell header;
the elements live in a *block* that starts with its capacity::

    x+0: length | x+1: data ──▶ data-1: capacity | data+0 .. data+cap-1: elements

A new list's block follows its header (``data = x + 3``). An append that finds the block full
grows it by one cell in place when the block ends at the heap pointer, else moves the elements
to a new block at the heap pointer (with room for about as many again) and points the header at
it; the header never moves, so every name that shares the list sees the change (Python's
aliasing). Old blocks are not reclaimed (no list memory is during a run).

In both layouts lists are allocated upward from the heap pointer ``hp``; a list that does not fit
(leaving the stack's reserve free) jumps to the out-of-memory stub. Elements are integers or list
values (lists of lists hold the values of their rows).
"""

from __future__ import annotations

from dataclasses import dataclass

from .ir import Sym
from .layout import ERRORS

__all__ = [
    "ALLOC",
    "COPY",
    "GROW",
    "RUNTIME",
    "ListLayout",
    "ResultPlace",
    "copies",
    "mutates",
    "needs_growth",
    "runtime_info",
]

ERR_HEAP = ERRORS[3][0]
GROW = "rt.grow"  # gives a full list room for one more element: (x, length, base) → base
ALLOC = "rt.alloc"  # a new list of a length, elements not written: → x
COPY = "rt.copy"  # dst[j] = M[src + j * stride] for j < count
RUNTIME = {GROW: ["x", "length", "base"], ALLOC: ["length"],
           COPY: ["src", "dst", "count", "stride"]}  # routine → its parameters


def runtime_info(name: str):
    """The checked-function record of a run-time routine (see :data:`RUNTIME`)."""
    import ast

    from .validate import FunctionInfo

    params = RUNTIME[name]
    node = ast.FunctionDef(name=name, args=ast.arguments(
        posonlyargs=[], args=[ast.arg(p) for p in params], kwonlyargs=[], kw_defaults=[],
        defaults=[]), body=[ast.Pass()], decorator_list=[], lineno=0, col_offset=0)
    return FunctionInfo(name, node, params, kinds=dict.fromkeys(params, "int"))


def needs_growth(functions) -> bool:
    """True when a program (its checked functions) makes lists grow: the growable layout."""
    import ast

    for info, node in ((i, x) for i in functions for x in ast.walk(i.node)):
        if isinstance(node, ast.ListComp):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                node.func.attr in ("append", "insert", "extend")):
            return True
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and (
                info.kinds.get(node.target.id, "int").startswith("list")):
            return True  # `xs += ys` extends xs in place
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
                node.func.id in ("list", "sorted", "reversed", "enumerate", "zip", "tuple")) and any(
                    isinstance(a, (ast.Call, ast.GeneratorExp)) for a in node.args):
            return True  # a range or a generator made into a list
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
                node.func.id not in ("sum", "min", "max", "any", "all", "len")) and any(
                    isinstance(a, ast.GeneratorExp) for a in node.args):
            return True
    return False


def copies(functions) -> bool:
    """True when a program copies list elements (slices, ``+``, ``list``/``sorted``/
    ``reversed``/``.copy()``, ``pop(i)``...): the copies share the routine :data:`COPY`."""
    import ast

    for info, node in ((i, x) for i in functions for x in ast.walk(i.node)):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                node.func.attr in ("copy", "pop", "remove")):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
                node.func.id in ("list", "sorted", "reversed", "tuple")):
            return True
        if isinstance(node, ast.Delete) or (isinstance(node, ast.BinOp) and isinstance(
                node.op, ast.Add) and info.types.get(node, "int").startswith("list")):
            return True
    return False


def mutates(functions) -> bool:
    """True when a program (its checked functions) changes the length of a list some name
    may share: lengths read earlier go stale (after calls too)."""
    import ast

    for info, node in ((i, x) for i in functions for x in ast.walk(i.node)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                node.func.attr in ("append", "insert", "extend", "pop", "remove", "clear")):
            return True
        if isinstance(node, ast.Delete):
            return True
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and (
                info.kinds.get(node.target.id, "int").startswith("list")):
            return True
    return False


@dataclass(frozen=True)
class ResultPlace:
    """Where a run's result is: ``kind`` "int" — the value is register ``register``; a list
    kind — register ``register`` holds the list value ``x``, its length is memory cell
    ``x + length_offset``, and its elements start at cell ``x`` (``data_offset`` None) or at
    the cell whose address is in cell ``x + data_offset``. Elements of a list of lists are list
    values again, read the same way."""

    kind: str
    register: int = 0
    length_offset: int | None = None
    data_offset: int | None = None


class ListLayout:
    """Emits the list code of one program (``low`` is the lowering that owns the IR) and places
    and reads lists for the host."""

    def __init__(self, growable: bool):
        self.growable = growable
        self.header = 3 if growable else 1  # cells before the first element of a new list

    # ---------------------------------------------------------------- compiled code

    def load_length(self, low, x: int) -> int:
        r = low.new()
        if self.growable:
            low.emit("read", r, (x,))
        else:
            low.emit("dec", r, (x,))
            low.emit("read", r, (r,))
        return r

    def load_base(self, low, x: int) -> int:
        """A register holding the address of element 0."""
        if not self.growable:
            return x
        r = low.new()
        low.emit("inc", r, (x,))
        low.emit("read", r, (r,))
        return r

    def store_length(self, low, x: int, length: int) -> None:
        if self.growable:
            low.emit("write", srcs=(x, length))
        else:
            a = low.op("dec", x)
            low.emit("write", srcs=(a, length))

    def free_check(self, low, cells: int | None, count: int | None) -> None:
        """Jump to the out-of-memory stub unless ``cells`` (a constant) or ``count`` (a
        register) + ``self.header`` cells fit above hp, leaving the stack's reserve free."""
        lay, m = low.layout, low.m
        hp = lay.hp
        low.errors.add(ERR_HEAP)
        if count is None:  # a constant size: one comparison (old programs keep this code)
            if lay.stack:  # free = sp - hp must cover the list and the stack's reserve
                free = low.op("sub", lay.sp, hp)
                need = low.new()
                low.emit("set", need, imm=Sym(cells, 1, ERR_HEAP))
                low.error_jump(low.op("lt", free, need), ERR_HEAP)
            else:  # no stack: the cells hp .. m-2-reserve are free (the reserve: spills)
                limit = low.new()
                low.emit("set", limit, imm=Sym(m - 1 - cells, -1, ERR_HEAP))
                low.error_jump(low.op("gt", hp, limit), ERR_HEAP)
            return
        room = self.room(low)  # cells free above hp, never negative
        over = low.new()
        low.emit("set", over, imm=self.header)
        low.error_jump(low.op("lt", room, over), ERR_HEAP)
        room = low.op("sub", room, over)
        low.error_jump(low.op("gt", count, room), ERR_HEAP)

    def room(self, low) -> int:
        """A register with the cells free above hp (the stack's reserve left out); 0 when
        the heap already reaches into the reserve (the difference would wrap around n)."""
        lay, m = low.layout, low.m
        if lay.stack:
            free = low.op("sub", lay.sp, lay.hp)
            res = low.new()
            low.emit("set", res, imm=Sym(0, 1, ERR_HEAP))
            return low.op("sub", low.op("max", free, res), res)
        limit = low.new()
        low.emit("set", limit, imm=Sym(m - 1, -1, ERR_HEAP))
        return low.op("sub", low.op("max", limit, lay.hp), lay.hp)

    def allocate(self, low, count: int | None = None, length: int | None = None,
                 values: list[int] | None = None, fill: int | None = None) -> tuple[int, int]:
        """A new list at hp: ``values`` (registers), or ``length`` elements (a constant
        ``count`` or a register ``length``) each ``fill`` (or left as they are, for the
        caller to write). Returns ``(list value, base, length)`` registers; hp ends after the
        list."""
        hp = low.layout.hp
        if values is not None:
            count = len(values)
        if self.growable or (low.layout.stack and count is None):
            return self._allocate_shared(low, count, length, values, fill)
        if count is not None:
            if count + self.header > low.m - 1:  # can never fit: the error cell is reserved
                low.error_goto(ERR_HEAP)
                z = low.const(0)
                return z, z, z
            self.free_check(low, count + self.header, None)
            length = low.const(count)
        else:
            self.free_check(low, None, length)
        x, base = self._header(low, length)
        if values is not None:
            for v in values:
                low.emit("write", srcs=(hp, v))
                low.emit("inc", hp, (hp,))
        elif fill is not None and count is not None and count <= 3:
            for _ in range(count):
                low.emit("write", srcs=(hp, fill))
                low.emit("inc", hp, (hp,))
        elif fill is not None and count is not None:
            end = low.op("add", hp, length)
            top = low.new_label("fill")
            low.place(top)
            low.emit("write", srcs=(hp, fill))
            low.emit("inc", hp, (hp,))
            low.emit("jump", srcs=(low.op("lt", hp, end),), label=top)
        elif fill is not None:  # a run-time count, maybe 0: test first
            end = low.op("add", hp, length)
            top, test = low.new_label("fill"), low.new_label("filltest")
            low.emit("goto", label=test)
            low.place(top)
            low.emit("write", srcs=(hp, fill))
            low.emit("inc", hp, (hp,))
            low.place(test)
            low.emit("jump", srcs=(low.op("lt", hp, end),), label=top)
        else:
            low.emit("add", hp, (hp, length))
        return x, base, length

    def _allocate_shared(self, low, count, length, values, fill):
        """Growable layout: the header is written by the shared routine :data:`ALLOC`; the
        elements here."""
        if count is not None:
            if count + self.header > low.m - 1:  # can never fit: the error cell is reserved
                low.error_goto(ERR_HEAP)
                z = low.const(0)
                return z, z, z
            length = low.const(count)
        x = low.call_runtime(ALLOC, [length])
        base = low.op("add", x, low.const(self.header)) if self.growable else x
        if values is not None or (fill is not None and count is not None and count <= 3):
            p = base
            for j, v in enumerate(values if values is not None else [fill] * count):
                if j:
                    p = low.op("inc", p)
                low.emit("write", srcs=(p, v))
        elif fill is not None:
            p = low.new()
            low.emit("copy", p, (base,))
            end = low.op("add", base, length)
            top, test = low.new_label("fill"), low.new_label("filltest")
            low.emit("goto", label=test)
            low.place(top)
            low.emit("write", srcs=(p, fill))
            low.emit("inc", p, (p,))
            low.place(test)
            low.emit("jump", srcs=(low.op("lt", p, end),), label=top)
        return x, base, length

    def alloc_routine(self, low, length: int) -> int:
        """The body of :data:`ALLOC`: check the room, write the header, move hp past the
        block; the list value is returned."""
        hp = low.layout.hp
        self.free_check(low, None, length)
        x, _ = self._header(low, length)
        low.emit("add", hp, (hp, length))
        return x

    def _header(self, low, length: int) -> tuple[int, int]:
        """Write a new list's header at hp and move hp to its first element: fixed layout
        ``[length]``, the value is the element address; growable ``[length, data, capacity]``
        with the data right after it (capacity = length), the value is the header address.
        Returns ``(list value, base of the elements)``."""
        hp = low.layout.hp
        x = low.new()
        if not self.growable:
            low.emit("write", srcs=(hp, length))
            low.emit("inc", hp, (hp,))
            low.emit("copy", x, (hp,))
            return x, x
        low.emit("copy", x, (hp,))
        low.emit("write", srcs=(hp, length))
        low.emit("inc", hp, (hp,))
        base = low.op("add", x, low.const(3))
        low.emit("write", srcs=(hp, base))
        low.emit("inc", hp, (hp,))
        low.emit("write", srcs=(hp, length))  # the capacity
        low.emit("inc", hp, (hp,))
        return x, base

    def copy_routine(self, low, src: int, dst: int, count: int, stride: int) -> int:
        """The body of :data:`COPY` (test first: a count may be 0)."""
        end = low.op("add", dst, count)
        top, test = low.new_label("copy"), low.new_label("copytest")
        low.emit("goto", label=test)
        low.place(top)
        low.emit("write", srcs=(dst, low.op("read", src)))
        low.emit("add", src, (src, stride))
        low.emit("inc", dst, (dst,))
        low.place(test)
        low.emit("jump", srcs=(low.op("lt", dst, end),), label=top)
        return low.const(0)

    def reserve_one(self, low, x: int, length: int, base: int) -> None:
        """Make room for one more element of the (growable) list ``x`` whose length and base
        are in ``length`` and ``base``; ``base`` (a register the caller owns) may change.
        A full list calls the shared routine :data:`GROW` (one per program)."""
        cap = low.op("read", low.op("dec", base))
        ok = low.new_label("room")
        low.emit("jump", srcs=(low.op("lt", length, cap),), label=ok)
        low.emit("copy", base, (low.call_runtime(GROW, [x, length, base]),))
        low.place(ok)

    def grow(self, low, x: int, length: int, base: int) -> int:
        """The body of :data:`GROW`: the full list ``x`` gets room for one more element; the
        new base is returned. A block that ends at hp grows by one cell in place; another
        moves to hp with room for about as many elements again."""
        cap_at = low.op("dec", base)
        cap = low.op("read", cap_at)
        ok = low.new_label("grown")
        hp = low.layout.hp
        room = self.room(low)
        low.error_jump(low.op("not", room), ERR_HEAP)
        move = low.new_label("move")
        low.emit("jump", srcs=(low.op("ne", low.op("add", base, cap), hp),), label=move)
        low.emit("inc", hp, (hp,))  # the block ends at hp: grow it by one cell in place
        low.emit("write", srcs=(cap_at, low.op("inc", cap)))
        low.emit("goto", label=ok)
        low.place(move)  # a new block with room for about as many again
        low.error_jump(low.op("le", room, low.op("inc", length)), ERR_HEAP)
        extra = low.op("min", length, low.op("sub", room, low.op("inc", low.op("inc", length))))
        newcap = low.op("add", low.op("inc", length), extra)
        low.emit("write", srcs=(hp, newcap))
        low.emit("inc", hp, (hp,))
        src, dst = low.new(), low.new()
        low.emit("copy", src, (base,))
        low.emit("copy", dst, (hp,))
        end = low.op("add", base, length)
        top, test = low.new_label("copy"), low.new_label("copytest")
        low.emit("goto", label=test)
        low.place(top)
        low.emit("write", srcs=(dst, low.op("read", src)))
        low.emit("inc", src, (src,))
        low.emit("inc", dst, (dst,))
        low.place(test)
        low.emit("jump", srcs=(low.op("lt", src, end),), label=top)
        low.emit("copy", base, (hp,))
        low.emit("add", hp, (hp, newcap))
        low.emit("write", srcs=(low.op("inc", x), base))
        low.place(ok)
        return base

    # ---------------------------------------------------------------- host side

    def place(self, memory: dict[int, int], cell: int, value, n: int) -> tuple[int, int, tuple]:
        """Put the list ``value`` (ints, or lists for a list of lists) at ``cell``: returns
        ``(list value, next free cell, place)`` where place is ``("list", length_cell,
        element_cells)`` (for a list of lists, the elements' places)."""
        rows = []
        if value and isinstance(value[0], (list, tuple)):
            for row in value:  # the rows first, then the outer list
                x, cell, p = self.place(memory, cell, row, n)
                rows.append((x, p))
        x = cell + (0 if self.growable else 1)
        length_cell = cell
        memory[length_cell] = len(value) % n
        first = cell + self.header
        if self.growable:
            memory[cell + 1] = first % n
            memory[cell + 2] = len(value) % n
        elements = []
        for j, v in enumerate(value):
            if rows:
                memory[first + j] = rows[j][0] % n
                elements.append(rows[j][1])
            else:
                memory[first + j] = int(v) % n
                elements.append(first + j)
        return x, first + len(value), ("list", length_cell, tuple(elements))

    def read(self, memory: list[int], x: int, kind: str, depth: int = 0):
        """The Python value of list ``x`` of ``kind`` in a final memory."""
        m = len(memory)
        length = memory[(x + (0 if self.growable else -1)) % m]
        base = memory[(x + 1) % m] if self.growable else x
        from .validate import tuple_parts

        values = [memory[(base + j) % m] for j in range(length)]
        parts = tuple_parts(kind)
        if parts is not None:  # a tuple of values of different kinds
            kinds = parts[:length] + ["int"] * (length - len(parts))
        else:
            kinds = [kind[5:-1] if kind.startswith("list[") else "int"] * length
        if depth > 8:
            return values
        return [self.read(memory, v, k, depth + 1) if k.startswith(("list", "tuple(")) else v
                for v, k in zip(values, kinds)]

    def describe(self) -> str:
        """Where a list register points, in words (for interfaces printed to users)."""
        if self.growable:
            return ("the address of its header: the length there, the address of its first "
                    "element in the next cell")
        return "the address of its first element; the length is in the cell before"

    def result_place(self, kind: str) -> ResultPlace:
        if not kind.startswith("list"):
            return ResultPlace(kind, 0)
        if self.growable:
            return ResultPlace(kind, 0, length_offset=0, data_offset=1)
        return ResultPlace(kind, 0, length_offset=-1, data_offset=None)
