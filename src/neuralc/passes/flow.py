"""Control flow of a width-1 program as a graph of nodes, for the transformations across blocks.

A :class:`Flow` is a width-1 program whose direct targets are nodes instead of line numbers, so
that code can be copied, inserted and reordered without renumbering: ``flow.nodes`` is the
layout (node ``i`` falls through to node ``i + 1``; the last one to :data:`END`, "halt"), and a
node's ``target`` is another :class:`Node` or :data:`END`. Nothing here changes the program's
meaning; :mod:`neuralc.passes.restructure` and :mod:`neuralc.passes.trace` do the work.

Liveness over registers, as bitmasks (bit ``r`` = register ``r``): a register is *live* before
a node when some path from there reads it before writing it. Halting makes every register live
(the final registers are the program's visible result), so a value may be changed early only
where every path overwrites it before halting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..lang.program import Op, Program

__all__ = ["END", "Flow", "Node", "supported"]


class _End:
    def __repr__(self) -> str:
        return "END"


END = _End()  # the "halt" position (line L)


@dataclass(eq=False)
class Node:
    """One width-1 instruction. ``home``: the original line whose comment it carries (copies:
    None). ``follow``: a ``jump`` whose *taken* edge continues a trace (an unrolled loop's back
    edge into the next copy); its fall-through is the exit."""

    op: Op
    target: object = None  # Node | END | None
    home: int | None = None
    follow: bool = False

    @property
    def control(self) -> bool:
        return self.op.instruction.is_control

    def copy(self) -> Node:
        return Node(self.op, self.target)


def supported(program: Program) -> bool:
    """Whether the transformations across blocks apply: width 1 and no line numbers as values
    (``store``, ``call``, ``ret``, register-indirect targets), whose values would change when
    code moves."""
    for _, _, op in program.ops():
        t = op.operand("T")
        if op.name in ("store", "call", "ret") or (t is not None and t.indirect):
            return False
    return program.width == 1


@dataclass(eq=False)
class Flow:
    nodes: list[Node]
    entry: Node | object
    labels: dict[str, Node | object] = field(default_factory=dict)
    K: int = 16

    @classmethod
    def of(cls, program: Program) -> Flow:
        L = program.L
        nodes = [Node(line[0], home=i) for i, line in enumerate(program.lines)]

        def at(line: int):
            return nodes[line] if line < L else END

        for node in nodes:
            t = node.op.operand("T")
            if t is not None:
                node.target = at(t.line)
        return cls(nodes, at(program.entry), {k: at(v) for k, v in program.labels.items()},
                   program.sizes.registers)

    # ------------------------------------------------------------------ structure

    def positions(self) -> dict[Node, int]:
        return {node: i for i, node in enumerate(self.nodes)}

    def fallthrough(self, node: Node, pos: dict[Node, int] | None = None):
        """Where ``node`` goes when it does not jump (``END`` after the last node)."""
        i = (pos or self.positions())[node] + 1
        return self.nodes[i] if i < len(self.nodes) else END

    def successors(self, i: int) -> list:
        node = self.nodes[i]
        after = self.nodes[i + 1] if i + 1 < len(self.nodes) else END
        name = node.op.name
        if name == "halt":
            return [END]
        if name == "goto":
            return [node.target]
        if name == "jump":
            return [after, node.target]
        return [after]

    def leaders(self) -> set[Node]:
        """Nodes that start a basic block: the entry, every target, every node after a control.
        Labels are names only (they move with their node) and start nothing."""
        out = {self.entry}
        for i, node in enumerate(self.nodes):
            if node.target is not None:
                out.add(node.target)
            if node.control and i + 1 < len(self.nodes):
                out.add(self.nodes[i + 1])
        if self.nodes:
            out.add(self.nodes[0])
        out.discard(END)
        return out

    def blocks(self, leaders: set[Node] | None = None) -> list[list[Node]]:
        """The basic blocks in layout order."""
        leaders = self.leaders() if leaders is None else leaders
        out: list[list[Node]] = []
        for node in self.nodes:
            if node in leaders or not out:
                out.append([])
            out[-1].append(node)
        return out

    def live_in(self) -> dict[Node, int]:
        """Registers live before each node (bitmask); ``END`` makes all of them live."""
        full = (1 << self.K) - 1
        n = len(self.nodes)
        use = [0] * n
        kill = [0] * n
        for i, node in enumerate(self.nodes):
            for r in node.op.reads:
                use[i] |= 1 << r
            if node.op.dest is not None:
                kill[i] = 1 << node.op.dest
        pos = self.positions()
        succ = [[pos[s] if s is not END else -1 for s in self.successors(i)] for i in range(n)]
        live = [0] * n
        changed = True
        while changed:
            changed = False
            for i in range(n - 1, -1, -1):
                out = 0
                for s in succ[i]:
                    out |= full if s < 0 else live[s]
                new = use[i] | (out & ~kill[i])
                if new != live[i]:
                    live[i] = new
                    changed = True
        return {node: live[i] for i, node in enumerate(self.nodes)}

    def block_preds(self, blocks: list[list[Node]]) -> list[list[tuple[int, str]]]:
        """For each block, its ``(block, "fall" | "jump")`` predecessors (``(-1, "entry")`` for
        the entry block)."""
        head = {b[0]: i for i, b in enumerate(blocks)}
        preds: list[list[tuple[int, str]]] = [[] for _ in blocks]
        if self.entry is not END:
            preds[head[self.entry]].append((-1, "entry"))
        for bi, b in enumerate(blocks):
            last = b[-1]
            if last.op.name not in ("goto", "halt") and bi + 1 < len(blocks):
                preds[bi + 1].append((bi, "fall"))
            if last.target is not None and last.target is not END:
                preds[head[last.target]].append((bi, "jump"))
        return preds

    def drop_dead(self) -> int:
        """Turn instructions whose result no path reads (and that write no memory) into
        ``nop``s; how many. Halting reads every register, so only values overwritten on every
        path go (the comparison left behind by a folded jump, a temporary set again)."""
        full = (1 << self.K) - 1
        dropped = 0
        while True:
            live = self.live_in()
            count = 0
            for i, node in enumerate(self.nodes):
                d = node.op.dest
                if d is None or node.control or node.op.name == "write":
                    continue
                out = 0
                for s in self.successors(i):
                    out |= full if s is END else live[s]
                if not (out >> d) & 1:
                    node.op = Op("nop")
                    count += 1
            dropped += count
            if not count:
                return dropped
