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
3. **Loop unrolling.** A loop whose lines ``h .. j`` are entered from outside only at ``h``
   (side exits and branches inside allowed) and closed by ``goto h`` or ``jump c h`` is laid out
   ``u`` times, each copy's inner targets its own lines (back edges other than ``j``: the first
   copy's head, so that later copies have one way in).
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
    """Lay every single-entry loop out ``copies`` times (fewer when its copies would pass
    ``budget`` instructions).

    A loop is a run of lines ``h .. j`` closed by ``goto h`` or ``jump c h`` at ``j``, entered
    from outside only at ``h`` (jumps inside it, side exits and a branch that skips a block are
    all allowed: a copy keeps them, its own lines as their targets)."""
    if copies < 2:
        return
    pos = flow.positions()
    sources: dict[Node, set[Node]] = {}
    for node in flow.nodes:
        if node.target is not None and node.target is not END:
            sources.setdefault(node.target, set()).add(node)
    after: dict[Node, list[Node]] = {}
    drop: set[Node] = set()
    busy: set[Node] = set()
    last_back: dict[int, int] = {}  # loop head → its last back edge
    for j, back in enumerate(flow.nodes):
        if back.op.name in ("goto", "jump") and back.target is not END and pos[back.target] <= j:
            last_back[pos[back.target]] = j
    for h, j in sorted(last_back.items(), key=lambda hj: hj[1] - hj[0]):  # innermost first
        back = flow.nodes[j]
        body = flow.nodes[h:j + 1]
        inside = set(body)
        if len(body) < 2 or busy & inside or flow.entry in body[1:] or \
                any(not sources.get(x, set()) <= inside for x in body[1:]) or \
                any(x.follow for x in body):
            continue
        u = min(copies, budget // len(body))
        if u < 2:
            continue
        stub = None
        if back.op.name == "jump":
            stub = _path_copy(flow, flow.fallthrough(back, pos), pos, exit_limit)
            if stub is None:
                continue
        bodies = [body] + [[x.copy() for x in body] for _ in range(u - 1)]
        for i, copy in enumerate(bodies):
            where = dict(zip(body, copy))
            nxt = bodies[i + 1][0] if i < u - 1 else body[0]
            if back.op.name == "goto" and i < u - 1:
                where[back] = nxt  # the dropped goto: on into the next copy
            for x in copy:
                if x.target in inside and x.target is not body[0]:
                    x.target = where[x.target]
                elif x.target is body[0]:  # other back edges: to the first copy
                    x.target = body[0]
            last = copy[-1]
            if i < u - 1:
                if back.op.name == "goto":
                    bodies[i] = copy[:-1]
                else:
                    last.target, last.follow = nxt, True
                    bodies[i] = copy + [x.copy() for x in stub]
            else:
                last.target = body[0]
        if back.op.name == "goto":  # the original goto is dropped: its comment moves on
            drop.add(back)
            bodies[-1][-1].home, back.home = back.home, None
        layout = [x for copy in bodies for x in copy]
        after[body[0]] = layout[1:]
        drop.update(body[1:])
        busy |= inside
    if not after:
        return
    nodes = []
    for node in flow.nodes:
        if node in drop:
            continue
        nodes.append(node)
        nodes.extend(after.get(node, ()))
    flow.nodes = nodes
