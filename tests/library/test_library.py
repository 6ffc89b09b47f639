"""The standard library: every program equals its CPython oracle on 100 random valid inputs
(reference interpreter), a sample on the sharp machine, documented interfaces."""

from __future__ import annotations

import random

import pytest

from neuralc import library
from neuralc.isa import TABLE_OPS
from neuralc.lang.errors import UsageError
from neuralc.lang.interp import run_reference

NAMES = library.names()
REQUIRED = ["fib", "fib_rec", "gcd", "factorial", "power", "list_sum", "list_max", "reverse",
            "insertion_sort", "bubble_sort", "quicksort", "binary_search", "bitonic_sort8"]


@pytest.mark.parametrize("name", NAMES)
def test_equals_cpython_on_100_random_inputs(name):
    entry = library.get(name)
    rng = random.Random(hash(name) % 1000)
    n = entry.sizes.n
    for _ in range(100):
        args = entry.sample(rng, entry.sizes)
        assert entry.run(args) == entry.reference(args, n), (name, args)


def test_the_library_has_what_the_paper_needs():
    assert set(REQUIRED) <= set(NAMES)
    assert {f"calc_{op}" for op in TABLE_OPS} <= set(NAMES)
    for op in TABLE_OPS:
        program = library.get(f"calc_{op}").program()
        assert program.L == 1 and program.lines[0][0].name == op


def test_bitonic_network_uses_parallel_lines():
    program = library.get("bitonic_sort8").program()
    assert program.width == 8 and program.L == 9
    seq = library.get("bitonic_sort8_seq").program()
    assert seq.width == 1 and seq.L > program.L


@pytest.mark.parametrize("name", NAMES)
def test_documented_interface(name):
    entry = library.get(name)
    assert entry.doc and len(entry.doc) > 10
    assert "in:" in entry.describe() and "out:" in entry.describe()
    assert entry.program().L <= entry.sizes.n
    with pytest.raises(UsageError):
        entry.inputs([0] * (len(entry.inputs_ports) + 1))


def test_ports_say_where_values_go():
    fib = library.get("fib")
    registers, memory = fib.inputs([1, 2, 3])
    assert registers == {1: 1, 2: 2, 4: 3} and memory == {}
    assert fib.output_port.register == 2
    sort = library.get("insertion_sort")
    registers, memory = sort.inputs([[9, 4, 7]])
    assert registers == {1: 3} and memory == {0: 9, 1: 4, 2: 7}
    out = run_reference(sort.program(), registers, memory)
    assert out.memory[:3] == [4, 7, 9] and sort.output(out) == [4, 7, 9]
    gcd = library.get("gcd")
    assert [p.register for p in gcd.inputs_ports] == [0, 1] and gcd.output_port.register == 0


def test_unknown_name():
    with pytest.raises(KeyError, match="known:"):
        library.get("nope")


SHARP = [("calc_add", [100, 50]), ("calc_mul", [7, 9]), ("calc_lt", [3, 4]), ("fib", [0, 1, 6]),
         ("gcd", [84, 36]), ("insertion_sort", [[5, 2, 9, 1]]), ("bitonic_sort8",
                                                                [[8, 3, 5, 1, 7, 2, 6, 4]])]


@pytest.mark.parametrize("name,args", SHARP, ids=[s[0] for s in SHARP])
def test_sharp_machine_sample(name, args):
    entry = library.get(name)
    assert entry.run(args, backend="machine") == entry.reference(args, entry.sizes.n)
