"""Print a :class:`Program` back to assembly text (docs/LANGUAGE.md §2) that the assembler reads again."""

from __future__ import annotations

from .program import Op, Program, Sizes, Target

__all__ = ["format_op", "format_program"]

_DEFAULT_SIZES = Sizes()


def format_operand(kind: str, value, line_names: dict[int, str] | None = None) -> str:
    if kind in "RD":
        return f"r{value}"
    if kind == "I":
        return str(value)
    t: Target = value
    if t.indirect:
        return f"r{t.register}"
    if line_names and t.line in line_names:
        return line_names[t.line]
    return str(t.line)


def format_op(op: Op, line_names: dict[int, str] | None = None) -> str:
    kinds = op.instruction.operands
    parts = [format_operand(k, a, line_names) for k, a in zip(kinds, op.args)]
    return " ".join([op.name, *parts])


def format_program(
    program: Program,
    directives: bool = True,
    default_sizes: Sizes = _DEFAULT_SIZES,
    annotations: dict[tuple[int, int], str] | None = None,
) -> str:
    """Assembly text for ``program``.

    Sizes that differ from ``default_sizes`` become directives. ``annotations`` maps
    ``(line, slot)`` to a trailing comment (the decompiler puts probabilities there).
    """
    out: list[str] = []
    s = program.sizes
    if directives:
        if s.n != default_sizes.n:
            out.append(f".n {s.n}")
        if s.registers != default_sizes.registers:
            out.append(f".registers {s.registers}")
        if s.memory is not None and s.m != s.n:
            out.append(f".memory {s.m}")
        if program.width > 1 or s.width > 1:
            out.append(f".width {max(s.width, program.width)}")
    by_line: dict[int, list[str]] = {}
    for name, line in program.labels.items():
        by_line.setdefault(line, []).append(name)
    line_names = {line: names[0] for line, names in by_line.items()}
    if program.entry != 0 and directives:
        label = program.entry_label or line_names.get(program.entry)
        if label is None:
            label = f"entry_{program.entry}"
            by_line.setdefault(program.entry, []).append(label)
            line_names.setdefault(program.entry, label)
        out.append(f".entry {label}")
    for i, line in enumerate(program.lines):
        if i in program.comments:
            for c in program.comments[i].splitlines():
                out.append(f"; {c}")
        for name in by_line.get(i, []):
            out.append(f"{name}:")
        text = " | ".join(format_op(op, line_names) for op in line)
        if annotations:
            notes = [annotations[(i, s)] for s in range(len(line)) if (i, s) in annotations]
            if notes:
                text = f"{text:<28} ; " + " | ".join(notes)
        out.append(f"    {text}")
    for name in by_line.get(program.L, []):
        out.append(f"{name}:")
    return "\n".join(out) + "\n"
