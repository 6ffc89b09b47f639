"""Tasks: deterministic, answers exact, test split disjoint from training (combos and template)."""

from neuralc.isa import BY_NAME
from neuralc.library import fibonacci
from neuralc.lm.tasks import TASKS, get_task


def _combo(e):
    return (e.program, e.inputs)


def test_deterministic_in_the_seed():
    t = get_task("mixed")
    assert t.make_split("train", 3, 50) == t.make_split("train", 3, 50)
    assert t.make_split("train", 3, 50) != t.make_split("train", 4, 50)


def test_split_holds_out_operand_combinations_and_a_template():
    for name in TASKS:
        t = TASKS[name]
        train, test = t.make_split("train", 0, 600), t.make_split("test", 0, 300)
        assert not {_combo(e) for e in train} & {_combo(e) for e in test}, name
        assert not any(e.held_out_template for e in train), name
        assert any(e.held_out_template for e in test), name


def test_answers_follow_the_registry_and_paper_definitions():
    for e in get_task("arithmetic-all").make_split("train", 0, 400):
        a = e.inputs[0]
        b = e.inputs[1] if len(e.inputs) > 1 else 0
        assert e.answer == BY_NAME[e.program.removeprefix("calc_")].fn(a, b, 128) % 128
        assert str(a) in e.text
    # docs/DESIGN.md §11.2: (6, 2) -> (2, 8) after one step
    assert fibonacci(6, 2, 1) == 8 and fibonacci(6, 2, 3) == (8 + 10) % 128
    for e in get_task("fibonacci").make_split("test", 0, 100):
        assert e.answer == fibonacci(*e.inputs)
    for e in get_task("sorting").make_split("train", 0, 100):
        assert e.answer == tuple(sorted(e.inputs)) and 4 <= len(e.inputs) <= 8
    long = get_task("sorting-long")
    assert {len(e.inputs) for e in long.make_split("train", 0, 200)} == set(range(2, 9))
    assert {len(e.inputs) for e in long.make_split("test", 0, 200)} == set(range(9, 13))
    assert long.capacity == 12


def test_every_calculator_op_has_phrasings():
    ops = {e.program for e in get_task("arithmetic-all").make_split("train", 0, 2000)}
    assert ops == {f"calc_{op}" for op in get_task("arithmetic-all").ops}


def test_phrasings_reverse_argument_order_and_add_numbers_that_are_no_operands():
    """Every family with two ordered inputs has reversed phrasings (the second argument comes
    first in the text) and every family has distractor phrasings (a number that is no operand);
    each form has a held-out phrasing that training never shows."""
    import re

    def positions(e):
        return [m.start() for m in re.finditer(r"\d+", e.text)], re.findall(r"\d+", e.text)

    for name in ("arithmetic", "fibonacci", "sorting"):
        task = get_task(name)
        train, test = task.make_split("train", 0, 3000), task.make_split("test", 0, 3000)
        forms = {e.form for e in train}
        held = {e.form for e in test if e.held_out_template}
        assert "distractor" in forms and "distractor" in held, name
        if name != "sorting":  # a sorted list does not depend on the order of its elements
            assert "reversed" in forms and "reversed" in held, name
        for e in train + test:
            _, numbers = positions(e)
            operands = [str(v) for v in e.inputs]
            if e.form == "distractor":
                assert len(numbers) > len(operands), e.text
            elif e.form == "reversed" and name == "arithmetic":
                # text order b, a: the first number in the text is the second argument
                assert numbers == operands[::-1], e.text
            elif e.form == "reversed":
                assert sorted(numbers) == sorted(operands), e.text
                assert numbers != operands or len(set(numbers)) < len(numbers), e.text
            else:
                assert numbers == operands or name == "sorting", e.text
        # unary and binary ops have their own families
        held_out = {(len(e.inputs), e.template) for e in test if e.held_out_template}
        seen = {(len(e.inputs), e.template) for e in train}
        if name != "arithmetic":
            held_out, seen = {t for _, t in held_out}, {t for _, t in seen}
        assert held_out and not held_out & seen, name
