"""The parallelizing compiler (docs/LANGUAGE.md §6): width-k programs with the same results in fewer steps."""

from __future__ import annotations

import itertools
import random

import pytest

from neuralc import library
from neuralc.lang.interp import run_reference
from neuralc.lang.program import Op, Program, Sizes, Target
from neuralc.passes import basic_blocks, parallelize, schedule

SIZES = Sizes(n=16, registers=6, memory=8)
VALUE_OPS = ["zero", "set", "copy", "inc", "dec", "not", "add", "sub", "mul", "div", "mod",
             "min", "max", "and", "or", "xor", "eq", "ne", "lt", "le", "gt", "ge", "read",
             "write"]


def random_program(rng: random.Random, length: int) -> Program:
    """A random width-1 program: value ops, memory, direct jumps and gotos, halts."""
    K, n = SIZES.registers, SIZES.n
    lines = []
    for _ in range(length):
        r = rng.random()
        if r < 0.12:
            op = Op("jump", (rng.randrange(K), Target(line=rng.randrange(length + 1))))
        elif r < 0.16:
            op = Op("goto", (Target(line=rng.randrange(length + 1)),))
        elif r < 0.18:
            op = Op("halt")
        else:
            name = rng.choice(VALUE_OPS)
            args = []
            for kind in Op(name, (0,) * len(_kinds(name))).instruction.operands:
                args.append(rng.randrange(n) if kind == "I" else rng.randrange(K))
            op = Op(name, tuple(args))
        lines.append((op,))
    return Program(lines, SIZES)


def _kinds(name):
    from neuralc.isa import BY_NAME

    return BY_NAME[name].operands


@pytest.mark.parametrize("seed", range(300))
def test_random_programs_keep_their_results(seed):
    rng = random.Random(seed)
    program = random_program(rng, rng.randrange(3, 30))
    registers = [rng.randrange(SIZES.n) for _ in range(SIZES.registers)]
    memory = [rng.randrange(SIZES.n) for _ in range(SIZES.m)]
    base = run_reference(program, registers, memory, 500)
    for width in (2, 3, 8):
        par = schedule(program, width)
        assert par.width <= width
        out = run_reference(par, registers, memory, 500)
        if base.halted:
            assert out.halted and out.steps <= base.steps
            assert (out.registers, out.memory) == (base.registers, base.memory)
        elif not run_reference(program, registers, memory, 4000).halted:
            assert not out.halted  # an endless loop stays endless


def test_paper_example_fits_in_four_lines():
    # docs/DESIGN.md §11.4: two independent chains become two columns
    from neuralc.lang.asm import assemble

    seq = assemble("read r0 r1\nread r1 r2\ninc r0 r0\ndec r1 r1\nadd r0 r1 r2\n"
                   "write r2 r3\n", "l4.asm")
    par = schedule(seq, 2)
    assert par.L <= 4 and all(len(line) <= 2 for line in par.lines)
    regs = [3, 5, 0, 9]
    mem = list(range(128))
    a, b = run_reference(seq, regs, mem), run_reference(par, regs, mem)
    assert (a.registers, a.memory) == (b.registers, b.memory)


def test_control_instruction_is_last_on_its_line():
    for name in library.names():
        program = library.get(name).program()
        if program.width > 1:
            continue
        for line in schedule(program, 4).lines:
            controls = [i for i, op in enumerate(line) if op.instruction.is_control]
            assert controls in ([], [len(line) - 1])


def test_blocks_cover_the_program():
    program = library.get("insertion_sort").program()
    blocks = basic_blocks(program)
    assert blocks[0][0] == 0 and blocks[-1][1] == program.L
    assert all(a[1] == b[0] for a, b in itertools.pairwise(blocks))


def test_store_programs_come_back_unchanged():
    from neuralc.lang.asm import assemble

    program = assemble("store r1\ninc r1 r1\ninc r2 r2\n", "s.asm")
    assert schedule(program, 4) is program
    assert parallelize is schedule


def test_labels_entry_and_comments_move():
    program = library.get("fib").program()
    par = schedule(program, 4)
    assert set(par.labels) == set(program.labels)
    assert par.lines[par.labels["fib_loop"]][0].name == "write"
    compiled = library.get("gcd").program()
    par = schedule(compiled, 4)
    assert par.entry == 0 and par.labels["gcd"] < par.L
    moved = "\n".join(par.comments.values()).splitlines()
    assert sorted(moved) == sorted("\n".join(compiled.comments.values()).splitlines())


# fib_paper loops until its step budget ends: its result is tied to the step count
@pytest.mark.parametrize("name", [n for n in library.names()
                                  if not n.startswith("calc_") and not library.get(n).steps])
def test_library_programs_in_parallel(name):
    entry = library.get(name)
    rng = random.Random(7)
    for _ in range(12):
        args = entry.sample(rng, entry.sizes)
        expected = entry.run(args)
        for width in (2, 4, 8):
            assert entry.run(args, width=width) == expected
