"""Linking: several programs in one program image, each with an entry label (docs/DESIGN.md §8).

``link({"gcd": p1, "fib": p2, ...})`` lays the parts out one after the other:

* every direct target moves with its part; a target ``L_part`` (the part's "halt") becomes the
  image's ``L``; a part whose last line can fall through gets a ``halt`` line after it, so that
  running past a part halts as it did alone (one step more: the ``halt`` line counts);
* labels are kept, prefixed with the part's name (``gcd.loop``); the part's name itself labels
  its entry line;
* an assembly-source part may ``call`` (or ``goto``) another part by its name: such names are
  resolved by the linker (the callee returns with ``ret`` on the register the caller named).

Selecting a program (the paper's parsing/selection interface): run the image from
``image.entries[name]``, or start the machine in a *mixture* of entries,
``image.counter_distribution({"gcd": 0.7, "fib": 0.3})`` — a plain list of ``L + 1``
probabilities over the counter's positions (lines ``0..L-1`` and the halted position ``L``).
The machine takes it as its initial counter: ``run_machine(image.program, ...,
entry=torch.tensor(dist))``; this module itself never imports torch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..lang.asm import assemble
from ..lang.interp import DEFAULT_MAX_STEPS, RunResult, run_reference
from ..lang.program import Op, Program, Sizes, Target

__all__ = ["Image", "link"]

_LABEL_DEF = re.compile(r"^\s*((?:[A-Za-z_][A-Za-z0-9_.]*\s*:\s*)+)")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_REGISTER = re.compile(r"[rR][0-9]+")
_FALLS_THROUGH_NOT = ("goto", "halt", "ret")


@dataclass
class Image:
    """Linked programs: ``program`` with ``entries[name]`` = the entry line of each part."""

    program: Program
    entries: dict[str, int]
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)  # name → [start, end)

    @property
    def names(self) -> list[str]:
        return list(self.entries)

    def counter_distribution(self, weights) -> list[float]:
        """The initial counter: ``weights`` (a dict name → weight, or a list in the order of
        :attr:`names`) normalized onto the entry lines; ``L + 1`` floats (the last position,
        "halted", is 0)."""
        if not isinstance(weights, dict):
            weights = list(weights)
            if len(weights) != len(self.entries):
                raise ValueError(f"{len(weights)} weights for {len(self.entries)} programs")
            weights = dict(zip(self.entries, weights))
        unknown = set(weights) - set(self.entries)
        if unknown:
            raise KeyError(f"not in the image: {sorted(unknown)}")
        total = float(sum(weights.values()))
        if total <= 0:
            raise ValueError("the weights must have a positive sum")
        dist = [0.0] * (self.program.L + 1)
        for name, w in weights.items():
            dist[self.entries[name]] += float(w) / total
        return dist

    def run(self, name: str, registers=None, memory=None,
            max_steps: int = DEFAULT_MAX_STEPS) -> RunResult:
        """Run part ``name`` on the reference interpreter."""
        return run_reference(self.program, registers, memory, max_steps, entry=self.entries[name])


def _defined_labels(text: str) -> set[str]:
    out = set()
    for line in text.splitlines():
        line = re.split(r"[;#]", line, maxsplit=1)[0]
        m = _LABEL_DEF.match(line)
        if m:
            out.update(x.strip() for x in m.group(1).split(":") if x.strip())
    return out


def _assemble_part(name: str, text: str, others: list[str], sizes: Sizes | None):
    """Assemble ``text``; calls to other parts resolve to stub lines after a final ``halt``.

    Returns the program without the stubs and ``{stub line: part name}``."""
    externs = [o for o in others if o != name and o not in _defined_labels(text)]
    stub = "\n    halt\n" + "".join(f"{o}:\n    halt\n" for o in externs)
    program = assemble(text.rstrip("\n") + "\n" + stub, name, sizes)
    L = program.L - 1 - len(externs)
    program.lines = program.lines[:L]
    program.labels = {k: v for k, v in program.labels.items() if k not in externs}
    return program, {L + 1 + i: o for i, o in enumerate(externs)}


def link(parts, sizes: Sizes | None = None) -> Image:
    """Link ``parts`` (a dict or list of ``(name, Program or assembly text)``) into one image.

    All parts must share n, registers and memory (text parts are assembled with ``sizes``, or
    with the sizes of the first :class:`Program` part). Raises ``ValueError`` when the image does
    not fit in n lines or the sizes differ.
    """
    items = list(parts.items() if isinstance(parts, dict) else parts)
    names = [name for name, _ in items]
    for name in names:
        if not _NAME.fullmatch(name) or _REGISTER.fullmatch(name):
            raise ValueError(f"'{name}' cannot be a label")
    if len(set(names)) != len(names):
        raise ValueError("part names must be unique")
    if sizes is None:
        sizes = next((p.sizes for _, p in items if isinstance(p, Program)), None)
    programs: list[tuple[str, Program, dict[int, str]]] = []
    for name, part in items:
        if isinstance(part, Program):
            programs.append((name, part, {}))
        else:
            programs.append((name, *_assemble_part(name, part, names, sizes)))
    first = programs[0][1].sizes
    for name, p, _ in programs:
        s = p.sizes
        if (s.n, s.registers, s.m) != (first.n, first.registers, first.m):
            raise ValueError(f"part '{name}' has sizes n={s.n}, registers={s.registers}, "
                             f"memory={s.m}; the first part has n={first.n}, "
                             f"registers={first.registers}, memory={first.m}")
    # lay out: offsets, then a halt after every part that can run past its end
    offsets, entries, spans, tails, total = {}, {}, {}, {}, 0
    for name, p, _ in programs:
        offsets[name] = total
        entries[name] = total + p.entry
        last = p.lines[-1] if p.lines else ()
        tails[name] = not last or not any(op.name in _FALLS_THROUGH_NOT for op in last)
        spans[name] = (total, total + p.L)
        total += p.L + int(tails[name])
    L = total
    lines: list[tuple[Op, ...]] = []
    labels: dict[str, int] = {}
    comments: dict[int, str] = {}
    for name, p, externs in programs:
        base = offsets[name]

        def move(t: int, p=p, base=base, externs=externs) -> int:
            if t in externs:
                return entries[externs[t]]
            return L if t >= p.L else base + t

        for i, line in enumerate(p.lines):
            new = []
            for op in line:
                if "T" in op.instruction.operands:
                    op = Op(op.name, tuple(Target(line=move(a.line))
                                           if isinstance(a, Target) and not a.indirect else a
                                           for a in op.args))
                new.append(op)
            lines.append(tuple(new))
        if tails[name]:
            lines.append((Op("halt"),))
        for label, line in p.labels.items():
            labels[f"{name}.{label}"] = move(line)
        labels[name] = entries[name]
        for i, text in p.comments.items():
            comments[base + i] = text
        comments[base] = f"part {name}" + (f"\n{comments[base]}" if base in comments else "")
    if L > first.n:
        raise ValueError(f"the image needs {L} lines, more than n={first.n}")
    width = max(p.sizes.width for _, p, _ in programs)
    image = Program(lines, first.override(width=width), entries[names[0]], labels, comments)
    return Image(image, entries, spans)

