"""Jumps decided by what the path already knows (jump threading on known conditions).

Along a chain of blocks each entered only from the one before (by falling through or by a follow
jump), registers get *value numbers*: the same number means the same value. A jump that was
taken tells the chain its condition was 1; one that fell through, that its condition was not 1
(0 when a comparison or ``not`` made it). A comparison known for two values narrows their
possible orderings (``<``, ``==``, ``>``; values are unsigned, so totally ordered), which decides
every comparison they allow only one answer to: after ``lt a b`` known 1, ``ge a b``,
``lt b a`` and ``eq a b`` are 0. From ``not x`` known 0, ``x`` is not 0. Orderings chain
through a third value (``i < j`` and ``j < len`` give ``i < len``), and ``x - 1 < x`` when
``x`` is not 0, ``x < x + 1 <= y`` when ``x < y`` (values are unsigned: no wrap-around then).
A later ``jump`` whose condition is then known to be 0 can never be taken and becomes a ``nop``
(dropped by the scheduler): an unrolled ``while b != 0: ... a % b`` loses its division check
after the first copy, and a bounds check repeated after the loop test that implies it goes.

The comparison or ``not`` that made the condition stays: its register keeps the same value.
"""

from __future__ import annotations

from ..isa import BY_NAME
from ..lang.program import Op
from .flow import END, Flow

__all__ = ["constants", "fold_jumps"]

# each comparison as the orderings of its operands (-1: a < b, 0: a == b, 1: a > b) it holds on
_HOLDS = {"lt": {-1}, "le": {-1, 0}, "eq": {0}, "ne": {-1, 1}, "gt": {1}, "ge": {0, 1}}
_BOOLEAN = {*_HOLDS, "not"}
_ANY = frozenset((-1, 0, 1))


class _State:
    def __init__(self, n: int):
        self.n = n
        self.reg: dict[int, int] = {}  # register → value number
        self.defn: dict[int, tuple] = {}  # value number → (name, vn, vn) that made it
        self.const: dict[int, int] = {}
        self.known: dict[tuple, int] = {}  # ("not", vn) → 0/1
        self.order: dict[tuple[int, int], frozenset] = {}  # (a, b), a < b → possible orderings
        self.same: dict[tuple, int] = {}  # (name, vn, vn) → value number
        self.fresh = 0

    def copy(self) -> _State:
        s = _State(self.n)
        s.reg, s.defn, s.const, s.known = dict(self.reg), dict(self.defn), dict(self.const), \
            dict(self.known)
        s.order, s.same = dict(self.order), dict(self.same)
        s.fresh = self.fresh
        return s

    def vn(self, r: int) -> int:
        if r not in self.reg:
            self.fresh += 1
            self.reg[r] = self.fresh
        return self.reg[r]

    def new(self, key: tuple | None = None) -> int:
        self.fresh += 1
        if key is not None:
            self.defn[self.fresh] = key
        return self.fresh

    def value(self, key: tuple) -> int | None:
        name, *args = key
        if all(a in self.const for a in args):
            a = self.const[args[0]]
            b = self.const[args[1]] if len(args) > 1 else 0
            return BY_NAME[name].fn(a, b, self.n) % self.n
        if name in _HOLDS:
            a, b = args
            if a == b:
                return int(0 in _HOLDS[name])
            possible = self._orderings(a, b) & self._by_range(a, b)
            values = {int(o in _HOLDS[name]) for o in possible}
            return values.pop() if len(values) == 1 else None
        return self.known.get(key)

    def span(self, v: int) -> tuple[int, int]:
        """Bounds on value number ``v``: a constant, or what made it (``x % c`` is below
        ``c``, ``x & c`` at most ``c``, a comparison 0 or 1)."""
        if v in self.const:
            return self.const[v], self.const[v]
        key = self.defn.get(v)
        if key is not None:
            name, *args = key
            if name in _BOOLEAN:
                return 0, 1
            if name in ("mod", "and") and self.const.get(args[1], 0) > 0:
                c = self.const[args[1]]
                return 0, c - 1 if name == "mod" else c
        return 0, self.n - 1

    def _by_range(self, a: int, b: int) -> frozenset:
        (la, ha), (lb, hb) = self.span(a), self.span(b)
        out = set()
        if la < hb:
            out.add(-1)
        if max(la, lb) <= min(ha, hb):
            out.add(0)
        if ha > lb:
            out.add(1)
        return frozenset(out)

    def _direct(self, a: int, b: int) -> frozenset:
        if a < b:
            return self.order.get((a, b), _ANY)
        return frozenset(-o for o in self.order.get((b, a), _ANY))

    def _orderings(self, a: int, b: int) -> frozenset:
        """The possible orderings of ``a`` and ``b``: what is known of them, narrowed through
        every third value known against both (one step of transitivity)."""
        out = self._direct(a, b)
        for (p, q), o in self.order.items():
            if len(out) == 1:
                break
            if a in (p, q):
                m, first = (q, o) if p == a else (p, frozenset(-x for x in o))
                if m != b:
                    out &= _compose(first, self._direct(m, b))
        return out

    def _narrow(self, a: int, b: int, allowed) -> None:
        if a > b:
            a, b, allowed = b, a, {-o for o in allowed}
        self.order[(a, b)] = self._direct(a, b) & frozenset(allowed)

    def _nonzero(self, v: int) -> bool:
        if v in self.const:
            return self.const[v] != 0
        return self.known.get(("not", v)) == 0 or \
            any(self._direct(v, u) == {1} for pair in self.order for u in pair if u != v)

    def learn(self, v: int, value: int | None, boolean: bool) -> None:
        """Value number ``v`` is ``value`` (None: it is not 1; ``boolean``: it is 0 or 1)."""
        if value is None:
            if not boolean:
                return
            value = 0
        self.const[v] = value
        key = self.defn.get(v)
        if key is None or key[0] not in _BOOLEAN:
            return
        name, *args = key
        if name == "not":
            if value == 1:
                self.learn(args[0], 0, False)
            else:
                self.known[key] = 0
            return
        a, b = args
        if a != b:
            self._narrow(a, b, {o for o in (-1, 0, 1) if (o in _HOLDS[name]) == bool(value)})

    def step(self, op: Op) -> None:
        d = op.dest
        if d is None:
            return
        name = op.name
        if name == "copy":
            self.reg[d] = self.vn(op.args[0])
            return
        if name in ("set", "zero"):
            v = self.new()
            self.const[v] = op.args[0] % self.n if name == "set" else 0
        elif op.instruction.kind == "table":
            key = (name, *(self.vn(r) for r in op.reads))
            v = self.same.get(key)
            if v is None:  # the same operation on the same values: the same value number
                v = self.same[key] = self.new(key)
                known = self.value(key)
                if known is not None:
                    self.const[v] = known
                self._step_order(name, key, v)
        else:
            v = self.new()
        self.reg[d] = v


    def _step_order(self, name: str, key: tuple, v: int) -> None:
        """``x - 1 < x`` when ``x`` is not 0; ``x < x + 1 <= y`` when ``x < y`` (no wrap)."""
        x = key[1]
        if name == "dec" and self._nonzero(x):
            self._narrow(v, x, {-1})
        elif name == "inc":
            above = [u for pair in self.order for u in pair
                     if u != x and self._direct(x, u) == {-1}]
            if above:
                self._narrow(x, v, {-1})
                for u in above:
                    self._narrow(v, u, {-1, 0})


def _compose(ab: frozenset, bc: frozenset) -> frozenset:
    """The orderings of (a, c) possible when those of (a, b) and (b, c) are ``ab`` and ``bc``."""
    out: set[int] = set()
    for x in ab:
        for y in bc:
            out |= {x} if y == 0 or x == y else {y} if x == 0 else _ANY
    return frozenset(out)


def fold_jumps(flow: Flow, n: int) -> int:
    """Turn jumps that can never be taken into ``nop``s (in place); how many."""
    blocks = flow.blocks()
    preds = flow.block_preds(blocks)
    out: dict[tuple[int, str], _State] = {}  # (block, "fall" | "taken") → state on that edge
    consts = constants(flow, n)
    folded = 0
    for bi, block in enumerate(blocks):
        p = preds[bi]
        state = None
        if len(p) == 1 and p[0][0] >= 0:
            state = out.get((p[0][0], "fall" if p[0][1] == "fall" else "taken"))
        if state is not None:
            state = state.copy()
        else:  # a join: only the constants every way in agrees on
            state = _State(n)
            for r, c in consts.get(block[0], {}).items():
                v = state.new()
                state.const[v] = c
                state.reg[r] = v
        for node in block:
            if node.op.name != "jump":
                state.step(node.op)
                continue
            c = state.vn(node.op.reads[0])
            key = state.defn.get(c)
            boolean = key is not None and key[0] in _BOOLEAN
            if state.const.get(c, 1) != 1:
                node.op, node.target, node.follow = Op("nop"), None, False
                folded += 1
                continue
            taken = state.copy()
            taken.learn(c, 1, boolean)
            out[(bi, "taken")] = taken
            state.learn(c, None, boolean)
        out[(bi, "fall")] = state
        if block[-1].op.name == "goto":
            out[(bi, "taken")] = state
    return folded


def constants(flow: Flow, n: int) -> dict:
    """The registers that hold the same constant on every way into each node (constant
    propagation over the whole graph; the inputs are unknown)."""
    pos = flow.positions()
    succ = [[pos[t] for t in flow.successors(i) if t is not END] for i in range(len(flow.nodes))]
    into: list[dict | None] = [None] * len(flow.nodes)
    if flow.entry is not END:
        into[pos[flow.entry]] = {}
    changed = True
    while changed:
        changed = False
        for i, node in enumerate(flow.nodes):
            if into[i] is None:
                continue
            out = dict(into[i])
            op = node.op
            d = op.dest
            if d is not None:
                out.pop(d, None)
                if op.name == "set":
                    out[d] = op.args[0] % n
                elif op.name == "zero":
                    out[d] = 0
                elif op.name == "copy" and op.args[0] in into[i]:
                    out[d] = into[i][op.args[0]]
                elif op.instruction.kind == "table" and all(r in into[i] for r in op.reads):
                    vals = [into[i][r] for r in op.reads] + [0]
                    out[d] = op.instruction.fn(vals[0], vals[1], n) % n
            for j in succ[i]:
                new = out if into[j] is None else \
                    {r: c for r, c in into[j].items() if out.get(r) == c}
                if new != into[j]:
                    into[j] = new
                    changed = True
    return {node: into[i] for i, node in enumerate(flow.nodes) if into[i]}
