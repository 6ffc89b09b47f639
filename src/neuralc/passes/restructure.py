"""Copying code so that straight paths get longer (width 1 → width 1, same results, never more
steps on any run): the program-level half of the parallelizing compiler.

1. **Jump threading into gotos.** A ``goto T`` becomes a copy of the code that runs from ``T``
   (falling through, jumps kept as side exits) up to its first ``goto`` or ``halt``, at most
   ``limit`` instructions: the goto's step is gone and the copy joins the code before it. A
   loop entered by ``goto test`` thereby gets its test in front of it (loop rotation), and the
   loop body and its test become one block.
2. **Tail duplication.** A join point (a line that is both a jump target and the fall-through of
   the line before) gets a private copy, up to the next ``goto``/``halt``, for the fall-through
   predecessor, so that path has no side entrance.
3. **Loop unrolling.** A loop whose body is one straight run of lines ``h .. j`` (side exits
   allowed, no other entrance) closed by ``goto h`` or ``jump c h`` is laid out ``u`` times.
   With ``goto h`` the inner gotos disappear; with ``jump c h`` copy ``i`` jumps to copy
   ``i + 1`` (a *follow* jump: its taken edge continues the trace) and its fall-through, the
   loop exit, is a copy of the exit path up to its next ``goto``/``halt``. Every copy keeps its
   exit test, so the loop still leaves after any number of iterations.

Each copy runs exactly the instructions the original would run on the same path, and each
removed ``goto`` is a step saved, so a width-1 program never takes more steps.
"""

from __future__ import annotations

from .flow import END, Flow, Node

__all__ = ["duplicate_tails", "thread_gotos", "unroll_loops"]


def _path_copy(flow: Flow, start, pos: dict[Node, int], limit: int) -> list[Node] | None:
    """Copies of what runs from ``start`` up to and including the first ``goto``/``halt``
    (at most ``limit`` nodes, falling through the others); None when there is no such end."""
    out: list[Node] = []
    cur = start
    while cur is not END and len(out) < limit:
        out.append(cur.copy())
        if cur.op.name in ("goto", "halt"):
            return out
        cur = flow.fallthrough(cur, pos)
    return None


def _splice(flow: Flow, after: dict[Node, list[Node]]) -> None:
    nodes = []
    for node in flow.nodes:
        nodes.append(node)
        nodes.extend(after.get(node, ()))
    flow.nodes = nodes


def thread_gotos(flow: Flow, limit: int) -> None:
    """Replace each direct ``goto`` by a copy of the path at its target (in place)."""
    pos = flow.positions()
    plans = []
    for node in flow.nodes:
        if node.op.name == "goto" and node.target is not END:
            path = _path_copy(flow, node.target, pos, limit)
            if path is not None:
                plans.append((node, path))
    after = {}
    for node, path in plans:
        # the goto node becomes the first copy, so that jumps to it still land on the path
        node.op, node.target, node.follow = path[0].op, path[0].target, False
        after[node] = path[1:]
    _splice(flow, after)


def _targeted(flow: Flow) -> dict[Node, int]:
    """How many jumps/gotos target each node (the entry counts as one)."""
    count: dict[Node, int] = {}
    for node in flow.nodes:
        if node.target is not None and node.target is not END:
            count[node.target] = count.get(node.target, 0) + 1
    count[flow.entry] = count.get(flow.entry, 0) + 1
    return count


def duplicate_tails(flow: Flow, limit: int) -> None:
    """Give the fall-through predecessor of every join point its own copy of the join's path."""
    pos = flow.positions()
    targeted = _targeted(flow)
    after = {}
    for i in range(1, len(flow.nodes)):
        prev, node = flow.nodes[i - 1], flow.nodes[i]
        if targeted.get(node) and prev.op.name not in ("goto", "halt"):
            path = _path_copy(flow, node, pos, limit)
            if path is not None:
                after[prev] = path
    _splice(flow, after)


def unroll_loops(flow: Flow, copies: int, budget: int, exit_limit: int) -> None:
    """Lay every straight loop out ``copies`` times (fewer when its copies would pass
    ``budget`` instructions)."""
    if copies < 2:
        return
    pos = flow.positions()
    targeted = _targeted(flow)
    after: dict[Node, list[Node]] = {}
    drop: set[Node] = set()
    for j, back in enumerate(flow.nodes):
        if back.op.name not in ("goto", "jump") or back.target is END:
            continue
        h = pos[back.target]
        body = flow.nodes[h:j + 1]
        if not 2 <= len(body) or any(targeted.get(x) for x in body[1:]) or \
                any(x.op.name in ("goto", "halt") or x.follow for x in body[:-1]) or \
                any(x in after for x in body):
            continue
        u = min(copies, budget // len(body))
        if u < 2:
            continue
        stub = None
        if back.op.name == "jump":
            stub = _path_copy(flow, flow.fallthrough(back, pos), pos, exit_limit)
            if stub is None:
                continue
        layout: list[Node] = []
        heads = [body[0]] + [None] * (u - 1)
        bodies = [body]
        for i in range(1, u):
            bodies.append([x.copy() for x in body])
            heads[i] = bodies[i][0]
        for i, copy in enumerate(bodies):
            last = copy[-1]
            if i < u - 1:
                if back.op.name == "goto":
                    copy = copy[:-1]
                    if i == 0:
                        drop.add(last)
                else:
                    last.target, last.follow = heads[i + 1], True
                    copy = copy + [x.copy() for x in stub]
            layout.extend(copy if i else copy[1:])
        if back.op.name == "goto":  # the original goto is dropped: its comment moves on
            bodies[-1][-1].home, back.home = back.home, None
        after[body[0]] = layout
        for x in body[1:]:
            drop.add(x)
    if not after:
        return
    nodes = []
    for node in flow.nodes:
        if node in drop:
            continue
        nodes.append(node)
        nodes.extend(after.get(node, ()))
    flow.nodes = nodes
