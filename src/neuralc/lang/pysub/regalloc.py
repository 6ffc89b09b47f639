"""Pass 3: register allocation by graph coloring, with spilling to frame slots.

What this pass adds: a physical register for every virtual one (or a frame slot when the
registers run out; the spilled value is reloaded before each use and stored after each def),
and for every ``call`` the set of physical registers live across it (the emitter saves those
the callee can write).

The method is Chaitin–Briggs: liveness by backward dataflow over the instructions, an
interference graph (a register written at an instruction interferes with every other register
live after it, except the source of a copy), simplification with optimistic spilling, and color
selection with two preferences: the color of a copy partner (so the copy disappears) and, for a
value live across calls, a register the callees never write (so no save is needed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import CompileError, Diagnostic
from .ir import FunctionIR, Ins, is_virtual

__all__ = ["Allocation", "allocate", "liveness"]


@dataclass
class Allocation:
    code: list[Ins]  # registers now physical; `ld`/`fa` pseudo-instructions for spills
    slots: int  # frame slots for spilled values
    used: set[int] = field(default_factory=set)  # physical registers written or assigned


def _succ(code: list[Ins]) -> list[list[int]]:
    at = {ins.label: i for i, ins in enumerate(code) if ins.op == "label"}
    out = []
    for i, ins in enumerate(code):
        nxt = [i + 1] if i + 1 < len(code) else []
        if ins.op == "goto":
            out.append([at[ins.label]] if ins.label in at else [])
        elif ins.op == "jump":
            out.append(nxt + ([at[ins.label]] if ins.label in at else []))
        elif ins.op in ("ret", "halt"):
            out.append([])
        else:
            out.append(nxt)
    return out


def liveness(code: list[Ins], tracked) -> list[set[int]]:
    """Registers live after each instruction (only those for which ``tracked(r)`` holds)."""
    succ = _succ(code)
    uses = [{r for r in ins.uses if tracked(r)} for ins in code]
    defs = [{r for r in ins.defs if tracked(r)} for ins in code]
    live_in: list[set[int]] = [set() for _ in code]
    live_out: list[set[int]] = [set() for _ in code]
    changed = True
    while changed:
        changed = False
        for i in range(len(code) - 1, -1, -1):
            out = set()
            for s in succ[i]:
                out |= live_in[s]
            new_in = uses[i] | (out - defs[i])
            if out != live_out[i] or new_in != live_in[i]:
                live_out[i], live_in[i] = out, new_in
                changed = True
    return live_out


def allocate(fn: FunctionIR, colors: list[int], clobbers: dict[str, set[int]]) -> Allocation:
    """Color ``fn``'s virtual registers with ``colors``; spill until it succeeds.

    ``clobbers[g]`` is the set of registers a call to ``g`` may write (all of ``colors`` when
    unknown). The returned code's calls carry ``ins.save``: registers live across the call.
    """
    code = list(fn.code)
    allowed = set(colors)
    slots: dict[int, int] = {}
    no_spill: set[int] = set()
    for _ in range(64):
        coloring, spilled = _color(code, colors, allowed, clobbers, no_spill)
        if not spilled:
            break
        for v in spilled:
            slots[v] = len(slots)
        code = _rewrite_spills(fn, code, slots, spilled, no_spill)
    else:  # pragma: no cover - each round spills new values, the temporaries never
        raise AssertionError("register allocation did not converge")

    def phys(r: int) -> int:
        return coloring[r] if is_virtual(r) else r

    tracked = lambda r: is_virtual(r) or r in allowed
    live_out = liveness(code, tracked)
    out: list[Ins] = []
    used: set[int] = set()
    for i, ins in enumerate(code):
        new = Ins(ins.op, None if ins.dst is None else phys(ins.dst),
                  tuple(phys(s) for s in ins.srcs), ins.imm, ins.label, ins.func, ins.line,
                  ins.depth)
        if new.dst is not None and (is_virtual(ins.dst) or ins.dst in allowed):
            used.add(new.dst)
        if ins.op == "copy" and new.dst == new.srcs[0]:
            continue
        if ins.op == "call":
            new.save = tuple(sorted({phys(r) for r in live_out[i]} - set(new.defs)))
        out.append(new)
    return Allocation(out, len(slots), used)


def _color(code, colors, allowed, clobbers, no_spill):
    tracked = lambda r: is_virtual(r) or r in allowed
    live_out = liveness(code, tracked)
    adj: dict[int, set[int]] = {}
    moves: dict[int, set[int]] = {}
    avoid: dict[int, set[int]] = {}
    cost: dict[int, float] = {}
    copies: list[tuple[int, int, int, int]] = []

    for ins in code:
        w = 10.0 ** min(ins.depth, 6)
        for r in (*ins.uses, *ins.defs):
            if is_virtual(r):
                adj.setdefault(r, set())
                cost[r] = cost.get(r, 0.0) + w
    for i, ins in enumerate(code):
        for d in ins.defs:
            if not tracked(d):
                continue
            for live in live_out[i]:
                if live == d or (ins.op == "copy" and live == ins.srcs[0]):
                    continue
                if is_virtual(d):
                    adj[d].add(live)
                if is_virtual(live):
                    adj[live].add(d)
        if ins.op == "copy" and tracked(ins.dst) and tracked(ins.srcs[0]):
            a, b = ins.dst, ins.srcs[0]
            copies.append((-ins.depth, i, a, b))
            if is_virtual(a):
                moves.setdefault(a, set()).add(b)
            if is_virtual(b):
                moves.setdefault(b, set()).add(a)
        if ins.op == "call":
            hit = clobbers.get(ins.func, allowed)
            for live in live_out[i]:
                if is_virtual(live):
                    avoid.setdefault(live, set()).update(hit)

    k = len(colors)
    alias = _coalesce(sorted(copies), adj, moves, avoid, cost, k, allowed, no_spill)
    work = set(adj)
    stack: list[int] = []
    while work:
        def degree(v):
            return sum(1 for u in adj[v] if u in work or not is_virtual(u))
        easy = [v for v in work if degree(v) < k]
        if easy:
            v = min(easy)
        else:  # optimistic: push the cheapest value to spill and hope it colors anyway
            v = min(work, key=lambda u: (u in no_spill, cost[u] / (1 + degree(u)), u))
        work.discard(v)
        stack.append(v)

    coloring: dict[int, int] = {}
    spilled: list[int] = []
    for v in reversed(stack):
        taken = {coloring.get(u, u if not is_virtual(u) else None) for u in adj[v]}
        free = [c for c in colors if c not in taken]
        if not free:
            if v in no_spill:
                raise CompileError([Diagnostic(1, 1, f"not enough registers to compile "
                                                     f"(only {k} allocatable)")])
            spilled.append(v)
            continue
        bad = avoid.get(v, set())
        partners = [coloring.get(u, u if not is_virtual(u) else None) for u in moves.get(v, ())]
        partners = [c for c in partners if c in free]
        for choice in ([c for c in partners if c not in bad], [c for c in free if c not in bad],
                       partners, free):
            if choice:
                coloring[v] = choice[0]
                break
    members: dict[int, list[int]] = {}
    for v in alias:
        members.setdefault(_find(alias, v), []).append(v)
    for v in list(alias):
        rep = _find(alias, v)
        if not is_virtual(rep):
            coloring[v] = rep
        elif rep in coloring:
            coloring[v] = coloring[rep]
    spilled = [x for v in spilled for x in (v, *members.get(v, ()))]
    return coloring, spilled


def _find(alias: dict[int, int], x: int) -> int:
    while x in alias:
        x = alias[x]
    return x


def _coalesce(copies, adj, moves, avoid, cost, k, allowed, no_spill) -> dict[int, int]:
    """Merge copy-related registers that do not interfere, conservatively (Briggs for two
    virtual registers, George for a physical one), so that their copies disappear."""
    alias: dict[int, int] = {}
    for _, _, a, b in copies:
        a, b = _find(alias, a), _find(alias, b)
        if a == b or (not is_virtual(a) and not is_virtual(b)):
            continue
        if not is_virtual(a):
            a, b = b, a
        if b in adj[a] or a in no_spill or b in no_spill:
            continue
        if not is_virtual(b):
            if b not in allowed or b in avoid.get(a, ()):
                continue
            if all(not is_virtual(t) or b in adj[t] or len(adj[t]) < k for t in adj[a]):
                for t in adj.pop(a):
                    if is_virtual(t):
                        adj[t].discard(a)
                        adj[t].add(b)
                alias[a] = b
            continue
        both = adj[a] | adj[b]
        if sum(1 for t in both if not is_virtual(t) or len(adj[t]) >= k) >= k:
            continue
        for t in adj.pop(b):
            if is_virtual(t):
                adj[t].discard(b)
                adj[t].add(a)
            adj[a].add(t)
        cost[a] = cost.get(a, 0.0) + cost.pop(b, 0.0)
        avoid.setdefault(a, set()).update(avoid.pop(b, set()))
        moves.setdefault(a, set()).update(moves.pop(b, set()))
        alias[b] = a
    for v in list(moves):
        if v in alias:
            moves.pop(v)
        else:
            moves[v] = {_find(alias, u) for u in moves[v]} - {v}
    return alias


def _rewrite_spills(fn: FunctionIR, code: list[Ins], slots: dict[int, int], spilled,
                    no_spill: set[int]) -> list[Ins]:
    """Reload each spilled value before its uses and store it after its defs."""
    spilled = set(spilled)
    out: list[Ins] = []
    for ins in code:
        pre: list[Ins] = []
        post: list[Ins] = []
        temps: dict[int, int] = {}

        def temp(v, temps=temps):
            if v not in temps:
                temps[v] = fn.new_vreg()
                no_spill.add(temps[v])
            return temps[v]

        srcs = list(ins.srcs)
        for j, s in enumerate(srcs):
            if s in spilled:
                first = s not in temps
                srcs[j] = temp(s)
                if first:
                    pre.append(Ins("ld", srcs[j], (), slots[s], line=ins.line, depth=ins.depth))
        dst = ins.dst
        if dst in spilled:
            t = fn.new_vreg()
            no_spill.add(t)
            dst = t
            a = fn.new_vreg()
            no_spill.add(a)
            post.append(Ins("fa", a, (), slots[ins.dst], line=ins.line, depth=ins.depth))
            post.append(Ins("write", None, (a, t), line=ins.line, depth=ins.depth))
        new = Ins(ins.op, dst, tuple(srcs), ins.imm, ins.label, ins.func, ins.line, ins.depth)
        out += [*pre, new, *post]
    return out
