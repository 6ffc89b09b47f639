"""Order relations between registers that hold on every way into a line (loop invariants such
as ``i < k <= len``), and the jumps they decide.

A forward dataflow analysis over the whole graph. A state is a set of facts about the registers'
current values: ``("lt", a, b)`` (``a < b``), ``("le", a, b)``, ``("nz", a)`` (``a != 0``) and
``("def", c, name, a, b)`` (``c`` holds the comparison ``name`` of ``a`` and ``b``, ``not a``,
or ``bool a`` = ``not not a``).
Where ways meet, only the facts true on all of them stay; a line not yet reached has no state.
Facts come from

* jumps: the taken edge knows its condition is 1, the fall-through that it is 0 (it is made by a
  comparison or ``not``), so ``lt i k`` taken gives ``i < k``, falling through ``k <= i``;
* ``copy`` (the copy inherits the source's facts), ``set`` (a constant other than 0 is not 0),
  ``dec x`` when ``x != 0`` (``x - 1 < x``, and below whatever ``x`` was at most), ``inc x``
  when ``x < y`` (``x < x + 1 <= y``: no wrap-around); writing a register forgets the facts
  about its old value.

A comparison is decided when a chain of facts orders its operands (``r1 < r7 < r6 <= r4`` gives
``r1 < r4``): a bounds check inside a loop that runs while ``i < k``, with ``k <= len`` kept by
the outer loop, can never jump. Such jumps become ``nop``s.
"""

from __future__ import annotations

from ..lang.program import Op
from .flow import END, Flow

__all__ = ["fold_invariant_jumps"]

_TRUE = {"lt": lambda a, b: [("lt", a, b)], "le": lambda a, b: [("le", a, b)],
         "gt": lambda a, b: [("lt", b, a)], "ge": lambda a, b: [("le", b, a)],
         "eq": lambda a, b: [("le", a, b), ("le", b, a)], "ne": lambda a, b: []}
_FALSE = {"lt": "ge", "le": "gt", "gt": "le", "ge": "lt", "eq": "ne", "ne": "eq"}


def _mentions(fact: tuple, r: int) -> bool:
    return r in fact[1:] if fact[0] != "def" else r in (fact[1], fact[3], fact[4])


def _below(facts: frozenset, a: int, b: int) -> int | None:
    """2 when the facts give ``a < b``, 1 when ``a <= b``, None when they give neither."""
    if a == b:
        return 1
    best: dict[int, int] = {a: 1}  # register → 2 if reached through a strict step
    todo = [a]
    while todo:
        x = todo.pop()
        for f in facts:
            if f[0] in ("lt", "le") and f[1] == x:
                strict = 2 if f[0] == "lt" or best[x] == 2 else 1
                if best.get(f[2], 0) < strict:
                    best[f[2]] = strict
                    todo.append(f[2])
    return best.get(b)


def _nonzero(facts: frozenset, a: int) -> bool:
    return ("nz", a) in facts or any(f[0] == "lt" and f[2] == a for f in facts) or \
        any(f[0] == "le" and f[2] == a and ("nz", f[1]) in facts for f in facts)


def _decide(facts: frozenset, name: str, a: int, b: int) -> int | None:
    """The comparison's value when the facts decide it."""
    ab, ba = _below(facts, a, b), _below(facts, b, a)
    if ab == 2:
        return {"lt": 1, "le": 1, "ne": 1, "gt": 0, "ge": 0, "eq": 0}[name]
    if ba == 2:
        return {"lt": 0, "le": 0, "ne": 1, "gt": 1, "ge": 1, "eq": 0}[name]
    if ab == 1 and ba == 1:
        return {"lt": 0, "le": 1, "ne": 0, "gt": 0, "ge": 1, "eq": 1}[name]
    if ab == 1:
        return {"gt": 0, "le": 1}.get(name)
    if ba == 1:
        return {"lt": 0, "ge": 1}.get(name)
    return None


def _condition(facts: frozenset, c: int) -> int | None:
    for f in facts:
        if f[0] == "def" and f[1] == c:
            if f[2] in ("not", "bool"):
                value = int(f[2] == "bool") if _nonzero(facts, f[3]) else None
            else:
                value = _decide(facts, f[2], f[3], f[4])
            if value is not None:
                return value
    return None


def _learn(facts: set, c: int, value: int) -> None:
    """Condition register ``c`` is ``value`` (0 or 1)."""
    for f in list(facts):
        if f[0] == "def" and f[1] == c:
            name, a, b = f[2], f[3], f[4]
            if name in ("not", "bool"):  # bool: c = (a != 0), what `not not a` makes
                if value == (name == "not"):  # a == 0
                    _learn(facts, a, 0)
                else:
                    facts.add(("nz", a))
                    _learn(facts, a, 1)  # a comparison that is not 0 is 1
            elif value:
                facts.update(_TRUE[name](a, b))
            else:
                facts.update(_TRUE[_FALSE[name]](a, b))


def _step(facts: frozenset, op: Op) -> set:
    d = op.dest
    out = set(facts)
    if d is None:
        return out
    name = op.name
    new: set = set()
    if name == "copy" and op.args[0] != d:
        s = op.args[0]
        for f in facts:
            if f[0] != "def" and s in f[1:] and d not in f[1:]:
                new.add(tuple(d if x == s else x for x in f))
        new |= {("le", d, s), ("le", s, d)}
    elif name == "set" and op.args[0] != 0:
        new.add(("nz", d))
    elif name == "dec" and _nonzero(facts, op.args[0]):
        x = op.args[0]
        new |= {("lt", d, f[2]) for f in facts if f[0] in ("lt", "le") and f[1] == x != f[2]
                and f[2] != d}
        if x != d:
            new.add(("lt", d, x))
    elif name == "inc":
        x = op.args[0]
        above = [f[2] for f in facts if f[0] == "lt" and f[1] == x and f[2] != d]
        if above:  # x < y: x + 1 does not wrap around and is not 0
            new |= {("le", d, y) for y in above} | {("nz", d)}
            if x != d:
                new.add(("lt", x, d))
    elif name in _TRUE or name == "not":
        args = op.reads if name != "not" else (op.reads[0], op.reads[0])
        if d not in args:
            new.add(("def", d, name, *args))
        if name == "not":  # not (not y) = (y != 0) and not (y != 0) = not y
            flip = {"not": "bool", "bool": "not"}
            new |= {("def", d, flip[f[2]], f[3], f[3]) for f in facts
                    if f[0] == "def" and f[1] == args[0] and f[2] in flip and f[3] != d}
    out = {f for f in out if not _mentions(f, d)}
    return out | {f for f in new if f[0] == "def" or d in f[1:]}


def _close(facts: set) -> frozenset:
    """The facts with everything their order relations imply (``a < b`` also gives ``a <= b``
    and ``b != 0``; chains close), so that meeting two ways keeps what both imply."""
    regs = {x for f in facts if f[0] in ("lt", "le") for x in f[1:]}
    out = set(facts)
    frozen = frozenset(facts)
    for a in regs:
        for b in regs:
            rel = _below(frozen, a, b) if a != b else None
            if rel:
                out.add(("le", a, b))
                if rel == 2:
                    out |= {("lt", a, b), ("nz", b)}
    return frozenset(out)


def fold_invariant_jumps(flow: Flow) -> int:
    """Turn the jumps that the invariants decide never to jump into ``nop``s; how many."""
    pos = flow.positions()
    n = len(flow.nodes)
    into: list[frozenset | None] = [None] * n
    if flow.entry is not END:
        into[pos[flow.entry]] = frozenset()
    changed = True
    while changed:
        changed = False
        for i, node in enumerate(flow.nodes):
            if into[i] is None:
                continue
            op = node.op
            edges = []
            if op.name == "jump":
                c = op.reads[0]
                taken, fall = set(into[i]), set(into[i])
                _learn(taken, c, 1)
                _learn(fall, c, 0)
                edges = [(node.target, taken), (flow.nodes[i + 1] if i + 1 < n else END, fall)]
            elif op.name == "goto":
                edges = [(node.target, set(into[i]))]
            elif op.name != "halt":
                edges = [(flow.nodes[i + 1] if i + 1 < n else END, _step(into[i], op))]
            for to, facts in edges:
                if to is END:
                    continue
                j = pos[to]
                facts = _close(facts)
                new = facts if into[j] is None else into[j] & facts
                if new != into[j]:
                    into[j] = new
                    changed = True
    folded = 0
    for i, node in enumerate(flow.nodes):
        if node.op.name == "jump" and into[i] is not None and \
                _condition(into[i], node.op.reads[0]) == 0:
            node.op, node.target, node.follow = Op("nop"), None, False
            folded += 1
    return folded
