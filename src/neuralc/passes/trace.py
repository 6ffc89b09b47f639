"""Trace (superblock) scheduling: straight paths through several blocks packed into width-k lines.

A *trace* is a chain of basic blocks, each entered only from the one before it: by falling
through, or by the taken edge of a *follow* jump (an unrolled loop's back edge, see
:mod:`neuralc.passes.restructure`). The jumps inside a trace are *side exits*. The whole trace is
list-scheduled as one block, with these rules on top of the dependences of
:func:`dependences` (registers; memory with a conservative alias test):

* the control instructions stay in order, one per line, and an instruction above an exit stays
  on the exit's line or above it (it must have run when the exit is taken);
* an instruction from below an exit may move up to the exit's line or above it (*speculation*)
  only when it has no effect on the exit's path: it is not a ``write``, and the register it
  writes is dead where the exit goes (:meth:`Flow.live_in`; halting makes every register live);
* every line holds the earliest unplaced instruction of the trace (always ready), which is on
  every path through that line: so no run takes more steps than at width 1.

Side exits leave to the head of another trace. A follow jump's target is the line after its
own in the trace; its fall-through (the copied loop exit) is laid out right after the jump's
line, and the rest of the trace follows it.
"""

from __future__ import annotations

from ..lang.program import Op, Program, Target
from .flow import END, Flow, Node

__all__ = ["dependences", "schedule_trace", "trace_program"]

_BOOLEAN = frozenset({"eq", "ne", "lt", "le", "gt", "ge", "not"})  # results 0 or 1


def _address_values(ops: list[Op], n: int):
    """Symbolic value of each memory op's address: ``(base, offset)`` (base None = constant)."""
    fresh = iter(range(1 << 30))
    val: dict[int, tuple] = {}

    def get(r):
        return val.get(r, (("in", r), 0))

    out = []
    for op in ops:
        name, d = op.name, op.dest
        out.append(get(op.args[0]) if name in ("read", "write") else None)
        if d is None:
            continue
        if name == "set":
            v = (None, op.args[0] % n)
        elif name == "zero":
            v = (None, 0)
        elif name == "copy":
            v = get(op.args[0])
        elif name in ("inc", "dec"):
            b, o = get(op.args[0])
            v = (b, (o + (1 if name == "inc" else -1)) % n)
        elif name in ("add", "sub"):
            (ba, oa), (bb, ob) = get(op.args[0]), get(op.args[1])
            if bb is None:
                v = (ba, (oa + ob if name == "add" else oa - ob) % n)
            elif ba is None and name == "add":
                v = (bb, (oa + ob) % n)
            else:
                v = (("v", next(fresh)), 0)
        else:
            v = (("v", next(fresh)), 0)
        val[d] = v
    return out


def _may_alias(x, y, n: int, m: int) -> bool:
    (bx, ox), (by, oy) = x, y
    if bx is None and by is None:
        return ox % m == oy % m
    if bx == by and m == n:
        return ox == oy
    return True


def dependences(ops: list[Op], n: int, m: int) -> list[list[tuple[int, bool]]]:
    """``preds[j]``: ``(i, strict)`` for each earlier op ``i`` that ``j`` depends on. Strict
    (``j`` reads what ``i`` writes): ``j`` on a later line. Otherwise (``j`` writes what ``i``
    reads or writes): the same line or later (slots read the state at the step's start and
    keep program order, a later slot wins)."""
    addr = _address_values(ops, n)
    reads = [set(op.reads) for op in ops]
    writes = [op.dest for op in ops]
    memory = [j for j, a in enumerate(addr) if a is not None]
    preds: list[list[tuple[int, bool]]] = [[] for _ in ops]
    for j in range(len(ops)):
        dj = writes[j]
        for i in range(j):
            di = writes[i]
            strict = di is not None and di in reads[j]
            weak = dj is not None and (dj in reads[i] or dj == di)
            if strict or weak:
                preds[j].append((i, strict))
    for jj, j in enumerate(memory):
        for i in memory[:jj]:
            if "write" in (ops[i].name, ops[j].name) and _may_alias(addr[i], addr[j], n, m):
                preds[j].append((i, ops[i].name == "write" and ops[j].name == "read"))
    return preds


def schedule_trace(ops: list[Op], exit_live: dict[int, int], width: int, n: int,
                   m: int) -> list[list[int]]:
    """Lines of op indices (program order in a line, the control last) for a trace.

    ``exit_live[c]``: for a side exit ``c`` (a control that is not the last op), the registers
    live where it leaves (bitmask). The last op, if a control, ends the trace.
    """
    k = len(ops)
    preds = dependences(ops, n, m)
    controls = [j for j, op in enumerate(ops) if op.instruction.is_control]
    rank = {c: r for r, c in enumerate(controls)}
    above = [0] * k  # controls before j
    lowest_ok = [0] * k  # the first control rank from which j may stand at or above all
    seen = 0
    for j, op in enumerate(ops):
        above[j] = seen
        if op.instruction.is_control:
            seen += 1
            lowest_ok[j] = seen
            continue
        t = seen
        safe = op.name != "write"
        while t > 0 and safe and (op.dest is None or not (exit_live[controls[t - 1]] >> op.dest) & 1):
            t -= 1
        lowest_ok[j] = t
    height = [0] * k
    for j in range(k - 1, -1, -1):
        for i, strict in preds[j]:
            height[i] = max(height[i], height[j] + strict)
    order = sorted(range(k), key=lambda j: (-height[j], j))
    line_of: dict[int, int] = {}
    remaining = set(range(k))

    def ready(j: int, cur: int, frontier: int, has_control: bool) -> bool:
        for i, strict in preds[j]:
            li = line_of.get(i)
            if li is None or (strict and li == cur):
                return False
        if j in rank:  # in order, one per line, after everything above it
            return not has_control and rank[j] == frontier and j == min(remaining)
        return lowest_ok[j] <= frontier

    lines: list[list[int]] = []
    while remaining:
        cur = len(lines)
        frontier = sum(1 for c in controls if c in line_of)  # all placed on earlier lines
        first = min(remaining)
        if not ready(first, cur, frontier, False):  # its predecessors all stand earlier
            raise AssertionError("trace scheduler: the earliest op is not ready")
        slots: list[int] = []
        has_control = False
        # with side exits the earliest op goes first (it is on every path through this line);
        # a single block runs all its ops whatever the order
        candidates = [first] + [j for j in order if j != first] if exit_live else order
        progress = True
        while progress and len(slots) < width:
            progress = False
            for j in candidates:
                if j in remaining and ready(j, cur, frontier, has_control):
                    line_of[j] = cur
                    slots.append(j)
                    remaining.discard(j)
                    has_control = has_control or j in rank
                    progress = True
                    break
        slots.sort(key=lambda j: (j in rank, j))
        lines.append(slots)
    return lines


# ---------------------------------------------------------------------- the whole program


def _forward_copies(nodes: list[Node]) -> None:
    """Copy propagation along a trace: after ``copy s d`` (and until ``s`` or ``d`` changes) an
    instruction reading ``d`` reads ``s`` instead — the same value, one dependence fewer."""
    alias: dict[int, int] = {}
    for x in nodes:
        op = x.op
        if alias and op.reads:
            args = tuple(alias.get(a, a) if k == "R" else a
                         for k, a in zip(op.instruction.operands, op.args))
            if args != op.args:
                x.op = op = Op(op.name, args)
        d = op.dest
        if d is None:
            continue
        alias = {k: v for k, v in alias.items() if d not in (k, v)}
        if op.name == "copy" and op.args[0] != d:
            alias[d] = op.args[0]


class _Emitter:
    """Traces formed, scheduled and laid out; targets resolved at the end."""

    def __init__(self, flow: Flow, width: int, n: int, m: int, max_trace: int):
        self.flow, self.width, self.n, self.m, self.max_trace = flow, width, n, m, max_trace
        self.blocks = flow.blocks()
        self.block_of = {b[0]: i for i, b in enumerate(self.blocks)}
        self.live = flow.live_in()
        self.full = (1 << flow.K) - 1
        self.preds = flow.block_preds(self.blocks)
        self.assigned: set[int] = set()
        self.emitted: set[int] = set()
        self.lines: list[list[tuple[Op, object]]] = []
        self.head_line: dict[Node, int] = {}
        self.node_line: dict[Node, int] = {}
        self.cont_line: dict[int, int] = {}
        self.fall: list[tuple[int, object]] = []  # (last line of a trace, where it falls to)

    def _live(self, node) -> int:
        return self.full if node is END else self.live[node]

    def grow(self, bi: int, dry: bool = False,
             within: set[int] | None = None) -> tuple[list[int], dict[int, int]]:
        """The trace from block ``bi``: its blocks and the stubs to splice after follow jumps
        (``dry``: only look, assign nothing, ``within`` taken as assigned)."""
        assigned = set(self.assigned if within is None else within) if dry else self.assigned
        trace, splice = [bi], {}
        assigned.add(bi)
        size = len(self.blocks[bi])
        while size < self.max_trace:
            cur = trace[-1]
            last = self.blocks[cur][-1]
            nb = cur + 1 if cur + 1 < len(self.blocks) else None
            if last.op.name in ("goto", "halt"):
                break
            fall_ok = nb is not None and nb not in assigned and self.preds[nb] == [(cur, "fall")]
            if last.op.name == "jump" and (last.follow or self._skips(cur, assigned)):
                t = self.block_of[last.target]
                if t in assigned or self.preds[t] != [(cur, "jump")] or not fall_ok:
                    break
                trace.append(t)
                assigned.update((t, nb))
                splice[cur] = nb
            elif fall_ok:
                trace.append(nb)
                assigned.add(nb)
            else:
                break
            size += len(self.blocks[trace[-1]])
        return trace, splice

    def _skips(self, cur: int, assigned: set[int]) -> bool:
        """Whether block ``cur`` ends in a jump over a short private block whose path ends in a
        ``goto`` (then-branches, after tail duplication): the trace may follow the jump and take
        that path as a stub laid out after the jump's line. (A path that halts is an exit, such
        as an error report: the trace does not go there.)"""
        last = self.blocks[cur][-1]
        nb = cur + 1
        if last.target is END or nb >= len(self.blocks) or nb in assigned:
            return False
        t = self.block_of[last.target]
        if t <= nb or t in assigned or self.preds[t] != [(cur, "jump")] or \
                self.preds[nb] != [(cur, "fall")]:
            return False
        chain, _ = self.grow(nb, dry=True, within=assigned | {cur, t})
        return self.blocks[chain[-1]][-1].op.name == "goto" and \
            sum(len(self.blocks[b]) for b in chain) <= 32

    def _inputs(self, trace: list[int], splice: dict[int, int]):
        """The trace's nodes, its followed jumps (node index → stub block) and the registers
        live at each side exit."""
        nodes: list[Node] = []
        spliced_at: dict[int, int] = {}
        for b in trace:
            nodes.extend(x for x in self.blocks[b] if x.op.name != "nop")
            if b in splice:
                spliced_at[len(nodes) - 1] = splice[b]
        if not nodes:  # a block of nops only: keep one, so that the trace has a line
            nodes = [self.blocks[trace[0]][0]]
        _forward_copies(nodes)
        exit_live = {}
        for j, x in enumerate(nodes[:-1]):
            if x.control:
                exit_live[j] = (self._live(self.blocks[spliced_at[j]][0]) if j in spliced_at
                                else self._live(x.target))
        return nodes, spliced_at, exit_live

    def _lines(self, nodes: list[Node], exit_live: dict[int, int]) -> list[list[int]]:
        return schedule_trace([x.op for x in nodes], exit_live, self.width, self.n, self.m)

    def _compensate(self, nodes: list[Node], spliced_at: dict[int, int],
                    exit_live: dict[int, int]) -> None:
        """Free the condition register at loop exits. When a follow jump falls through, its
        condition (made by a comparison or ``not`` in the trace) is 0; a ``zero`` in front of
        the private exit stub restores it, so instructions of the next iteration may write it
        early. Only where the stub's lines have room for the ``zero``."""
        for j, stub in spliced_at.items():
            rc = nodes[j].op.reads[0]
            maker = next((x for x in reversed(nodes[:j]) if x.op.dest == rc), None)
            if maker is None or maker.op.name not in _BOOLEAN:
                continue
            chain, chain_splice = self.grow(stub, dry=True)
            sn, _, s_live = self._inputs(chain, chain_splice)
            zero = Node(Op("zero", (rc,)))
            shifted = {c + 1: v for c, v in s_live.items()}
            if len(self._lines([zero] + sn, shifted)) <= len(self._lines(sn, s_live)):
                self.blocks[stub].insert(0, zero)
                exit_live[j] &= ~(1 << rc)

    def emit_chain(self, bi: int | None) -> None:
        while bi is not None:
            trace, splice = self.grow(bi)
            self.emitted.update(trace)
            nodes, spliced_at, exit_live = self._inputs(trace, splice)
            self._compensate(nodes, spliced_at, exit_live)
            ops = [x.op for x in nodes]
            self.head_line[self.blocks[trace[0]][0]] = len(self.lines)  # (nops dropped)
            for slots in schedule_trace(ops, exit_live, self.width, self.n, self.m):
                line = []
                stub = follow = None
                for j in slots:
                    x = nodes[j]
                    self.node_line[x] = len(self.lines)
                    if j in spliced_at:
                        ref = ("cont", id(x))
                        stub, follow = spliced_at[j], x
                    elif x.target is not None:
                        ref = x.target
                    else:
                        ref = None
                    line.append((x.op, ref))
                self.lines.append(line)
                if stub is not None:
                    self.emitted.add(stub)
                    self.emit_chain(stub)
                    self.cont_line[id(follow)] = len(self.lines)
            last = nodes[-1]
            bi = None
            if last.op.name in ("goto", "halt"):
                continue
            nb = trace[-1] + 1
            if nb >= len(self.blocks):
                self.fall.append((len(self.lines) - 1, END))
            elif nb in self.emitted:
                self.fall.append((len(self.lines) - 1, self.blocks[nb][0]))
            else:
                self.fall.append((len(self.lines) - 1, self.blocks[nb][0]))
                bi = nb

    def run(self) -> None:
        for bi in range(len(self.blocks)):
            if bi not in self.emitted:
                self.emit_chain(bi)
        # a trace that falls through to something laid out elsewhere gets an explicit jump
        inserts = []
        for line, to in self.fall:
            nxt = len(self.lines) if to is END else self.head_line[to]
            if nxt == line + 1:
                continue
            ops = self.lines[line]
            op = (Op("halt"), None) if to is END else (Op("goto", (Target(line=0),)), to)
            if len(ops) < self.width and not any(o.instruction.is_control for o, _ in ops):
                ops.append(op)
            else:
                inserts.append((line + 1, op))
        for at, op in sorted(inserts, key=lambda x: -x[0]):
            self.lines.insert(at, [op])

            def shift(d, at=at):
                return {k: v + (v >= at) for k, v in d.items()}

            self.head_line = shift(self.head_line)
            self.node_line = shift(self.node_line)
            self.cont_line = shift(self.cont_line)


def trace_program(flow: Flow, program: Program, width: int, max_trace: int = 96) -> Program:
    """Schedule ``flow`` (derived from ``program``) trace by trace into width-``width`` lines."""
    sizes = program.sizes
    em = _Emitter(flow, width, sizes.n, sizes.m, max_trace)
    em.run()
    L = len(em.lines)

    def where(ref) -> int:
        if ref is END:
            return L
        if isinstance(ref, tuple):
            return em.cont_line[ref[1]]
        return em.head_line[ref]

    lines = []
    for line in em.lines:
        out = []
        for op, ref in line:
            if ref is not None:
                op = Op(op.name, tuple(Target(line=where(ref)) if isinstance(a, Target) else a
                                       for a in op.args))
            out.append(op)
        lines.append(tuple(out))

    def place(node) -> int:
        if node is END:
            return L
        return em.head_line.get(node, em.node_line.get(node, 0))

    comments: dict[int, str] = {}
    pending: list[str] = []  # comments of dropped nodes go to the next placed one
    for node in flow.nodes:
        if node.home is not None and node.home in program.comments:
            pending.append(program.comments[node.home])
        if node in em.node_line and pending:
            new = em.node_line[node]
            text = "\n".join(pending)
            comments[new] = f"{comments[new]}\n{text}" if new in comments else text
            pending = []
    if pending and em.lines:
        last = len(em.lines) - 1
        comments[last] = "\n".join(([comments[last]] if last in comments else []) + pending)
    return Program(lines, sizes.override(width=max(width, sizes.width)), place(flow.entry),
                   {name: place(node) for name, node in flow.labels.items()}, comments,
                   program.entry_label)
