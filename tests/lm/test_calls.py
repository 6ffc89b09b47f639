"""The library a language model calls: sharp parses in, the programs' exact answers out.

Every program runs alone on the one library computer from places found through its interface;
a list arrives in memory with its length, and the cells past its end hold garbage that no
program may read.
"""

import random

import torch
import torch.nn.functional as F

from neuralc import library
from neuralc.lm.calls import LibraryCalls, answer_labels, library_spec, read_answer

N = 128
C = 8


def _onehot(values):
    return F.one_hot(torch.tensor(values), N).float()


def _calls(names, budgets_from=None):
    from neuralc.lang.program import Sizes
    from neuralc.library.interface import interface, link_library, step_budgets

    entries = [library.get(x) for x in names]
    sizes = Sizes(n=N, registers=40, memory=32)
    faces = [interface(e, sizes, C) for e in entries]
    budgets = step_budgets(link_library(entries, sizes), entries, faces, sizes, C, cap=1000)
    return LibraryCalls([library_spec(e) for e in entries], budgets, n=N, capacity=C)


def test_list_programs_get_their_list_and_length_in_memory_and_answer_sharply():
    names = ["sort_network", "insertion_sort_py", "insertion_sort", "list_sum", "list_max",
             "reverse"]
    calls = _calls(names)
    rng = random.Random(0)
    lists = [[rng.randrange(N) for _ in range(rng.randrange(1, C + 1))] for _ in range(6)]
    lengths = _onehot([len(xs) for xs in lists])[:, None]  # (B,1,N)
    # past the end: garbage values, which a program that honours the length never reads
    cells = [xs + [rng.randrange(N) for _ in range(C - len(xs))] for xs in lists]
    elements = _onehot(cells)[:, None]  # (B,1,C,N)
    B, E = len(lists), len(names)
    for k, name in enumerate(names):
        sel = torch.zeros(B, E)
        sel[:, k] = 1.0
        out = calls(sel, None, lengths, elements)
        assert torch.all(out.halted > 0.999)
        for b, xs in enumerate(lists):
            got = read_answer(out.outputs[b].argmax(-1).tolist())
            want = library.get(name).reference([xs], N)
            assert got == want, (name, xs, got, want)
            assert out.outputs[b].max(-1).values[: 2 + (len(xs) if isinstance(want, list)
                                                          else 0)].min() > 0.999


def test_scalar_programs_and_the_answer_posterior_of_each_program():
    names = ["calc_add", "calc_sub", "calc_inc", "fib_parallel", "gcd"]
    calls = _calls(names)
    args = [(5, 9, 3), (120, 7, 1), (0, 1, 8)]
    scalars = _onehot([list(a) for a in args])  # (B,3,N)
    out = calls(torch.full((len(args), len(names)), 1 / len(names)), scalars)
    for k, name in enumerate(names):
        entry = library.get(name)
        for b, a in enumerate(args):
            want = entry.reference(list(a[: len(entry.inputs_ports)]), N)
            assert read_answer(out.per_program[b, k].argmax(-1).tolist()) == want


def test_answer_labels_round_trip():
    assert answer_labels(7, 2) == [0, 7]
    assert answer_labels((3, 1, 2), 6) == [1, 3, 3, 1, 2, -100]
    assert read_answer([1, 3, 3, 1, 2, 9]) == [3, 1, 2]
    assert read_answer([0, 7, 5]) == 7


def test_a_user_program_whose_lists_grow_gets_its_list_through_the_compilers_places():
    """A comprehension gives the growable list layout (a header in memory); the interface comes
    from the compiler's ``argument_places``, and the sharp machine answers like CPython."""
    from neuralc.lang.program import Sizes
    from neuralc.library.interface import interface, link_library, python_library, step_budgets

    source = ("def evens(xs):\n    return len([x for x in xs if x % 2 == 0])\n\n\n"
              "def biggest(xs):\n    return max(xs)\n")
    entries = python_library(source, "user.py")
    sizes = Sizes(n=N, registers=40, memory=32)
    faces = [interface(e, sizes, C) for e in entries]
    assert all(len(f.lists) == 1 for f in faces)
    budgets = step_budgets(link_library(entries, sizes), entries, faces, sizes, C, cap=1000)
    calls = LibraryCalls([library_spec(e) for e in entries], budgets, n=N, capacity=C)
    rng = random.Random(1)
    lists = [[rng.randrange(N) for _ in range(rng.randrange(1, C + 1))] for _ in range(5)]
    lengths = _onehot([len(xs) for xs in lists])[:, None]
    elements = _onehot([xs + [rng.randrange(N) for _ in range(C - len(xs))]
                        for xs in lists])[:, None]
    python = {"evens": lambda xs: len([x for x in xs if x % 2 == 0]), "biggest": max}
    for k, e in enumerate(entries):
        sel = torch.zeros(len(lists), len(entries))
        sel[:, k] = 1.0
        out = calls(sel, None, lengths, elements)
        for b, xs in enumerate(lists):
            assert read_answer(out.outputs[b].argmax(-1).tolist()) == python[e.name](xs)


def test_exact_answers_of_list_programs_are_the_machines():
    """The answers the pointer's exact posterior counts (reference interpreter, each program's own
    budget) for list programs, a pointer result and a program of a list and an integer: the
    machine's on one-hot inputs, and the program's own result."""
    names = ["sort_network", "list_sum", "reverse", "binary_search"]
    calls = _calls(names)
    rng = random.Random(1)
    lists = [sorted(rng.randrange(N) for _ in range(rng.randrange(1, C + 1))) for _ in range(5)]
    targets = [xs[len(xs) // 2] if b % 2 else rng.randrange(N) for b, xs in enumerate(lists)]
    lengths = _onehot([len(xs) for xs in lists])[:, None]
    elements = _onehot([xs + [0] * (C - len(xs)) for xs in lists])[:, None]
    scalars = _onehot([[t] for t in targets])
    B, E = len(lists), len(names)
    for k, name in enumerate(names):
        sel = F.one_hot(torch.full((B,), k), E).float()
        out = calls(sel, scalars, lengths, elements)
        for b, xs in enumerate(lists):
            ints = (targets[b],) if name == "binary_search" else ()
            got = calls._exact(k, ints, (tuple(xs),))
            args = [xs, targets[b]] if name == "binary_search" else [xs]
            want = answer_labels(library.get(name).reference(args, N), calls.outputs)
            assert got == tuple(want), (name, xs)
            machine = read_answer(out.outputs[b].argmax(-1).tolist())
            assert answer_labels(machine, calls.outputs) == want, (name, xs)


def test_exact_answer_of_a_parse_the_program_fails_on_is_none():
    """A wrong parse can make a user's program fail (an index past its list): the pointer's
    exact posterior counts no answer there instead of stopping the training run."""
    from neuralc.lang.program import Sizes
    from neuralc.library import python_program
    from neuralc.library.interface import interface, link_library, step_budgets

    source = ('def pick(xs: list, i: int) -> int:\n'
              '    """>>> pick([4, 5, 6], 1)\n    5\n    """\n'
              '    return xs[i]\n')
    entry = python_program(source, "pick", name="pick")
    sizes = Sizes(n=N, registers=40, memory=32)
    budgets = step_budgets(link_library([entry], sizes), [entry], [interface(entry, sizes, C)],
                           sizes, C)
    calls = LibraryCalls([library_spec(entry)], budgets, n=N, capacity=C)
    assert calls._exact(0, (1,), ((4, 5, 6),)) == (0, 5)
    assert calls._exact(0, (7,), ((4, 5, 6),)) is None
    assert calls.explains([[[7], [2]]], [[3]], [[[4, 5, 6] + [0] * 5]], [[0, 6]]) == [[0, 1]]
