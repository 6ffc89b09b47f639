"""Linking (docs/DESIGN.md §8): library programs in one image, run from their entries exactly as alone;
selection by an initial counter distribution; calls across parts."""

from __future__ import annotations

import random

import pytest

from neuralc import library
from neuralc.lang.interp import run_reference
from neuralc.lang.program import Sizes
from neuralc.passes import Image, link

SIZES = Sizes(n=256)
PARTS = ["calc_add", "calc_mul", "fib", "insertion_sort", "gcd", "factorial", "list_sum",
         "fib_rec", "binary_search", "bitonic_sort8", "reverse"]


@pytest.fixture(scope="module")
def image() -> Image:
    return link({name: library.get(name).program(SIZES) for name in PARTS})


def test_each_part_runs_as_it_does_alone(image):
    rng = random.Random(3)
    for name in PARTS:
        entry = library.get(name)
        alone = entry.program(SIZES)
        for _ in range(10):
            args = entry.sample(rng, SIZES)
            registers, memory = entry.inputs(args, SIZES)
            a = run_reference(alone, registers, memory)
            b = image.run(name, registers, memory)
            # a part that ran off its end alone now meets its halt line: one step more
            assert b.halted == a.halted and b.steps - a.steps in (0, 1)
            assert entry.output(b, SIZES) == entry.output(a, SIZES) == entry.reference(args, 256)


def test_entries_and_labels(image):
    program = image.program
    assert list(image.entries) == PARTS
    assert all(program.labels[name] == line for name, line in image.entries.items())
    assert program.labels["fib.fib_loop"] > image.entries["fib"]
    assert program.width == 8  # the bitonic network keeps its parallel lines
    assert program.L <= SIZES.n


def test_counter_distribution_selects_entries(image):
    dist = image.counter_distribution({"gcd": 3, "fib": 1})
    assert len(dist) == image.program.L + 1 and abs(sum(dist) - 1) < 1e-12
    assert dist[image.entries["gcd"]] == 0.75 and dist[image.entries["fib"]] == 0.25
    uniform = image.counter_distribution([1] * len(PARTS))
    assert sorted(i for i, p in enumerate(uniform) if p) == sorted(image.entries.values())
    with pytest.raises(KeyError):
        image.counter_distribution({"nope": 1})


def test_call_across_parts():
    square = "square:\n    mul r1 r1 r1\n    ret r7\n"
    main = "    call square r7\n    call square r7\n    inc r1 r1\n"
    image = link([("main", main), ("square", square)])
    out = image.run("main", {1: 3})
    assert out.halted and out.registers[1] == 82
    assert image.run("square", {1: 5, 7: 99}).registers[1] == 25


def test_part_that_falls_off_its_end_halts():
    image = link([("a", "    inc r1 r1\n"), ("b", "    inc r2 r2\n    inc r2 r2\n")])
    out = image.run("a")
    assert out.halted and out.registers[1:3] == [1, 0] and out.steps == 2


def test_sizes_must_agree_and_fit():
    with pytest.raises(ValueError, match="sizes"):
        link({"a": library.get("gcd").program(Sizes(n=64)),
              "b": library.get("gcd").program(Sizes(n=128))})
    with pytest.raises(ValueError, match="lines"):
        link({f"p{i}": library.get("quicksort").program() for i in range(2)})
